/**
 * JavaScript generation for compiled C functions: the one description of every construct.
 *
 * The compiler (compile.ts) describes each expression and instruction by its JavaScript text over
 * a per-function environment (`Gen`: the values the text refers to as K0, K1, ...). `buildStep`
 * assembles one function per C function: a `switch (pc)` loop whose cases are the instructions:
 *
 * - at every statement start: the budget check, then `checkStop` (only when `m.policy` is set),
 *   then one cycle counted; so cycles, stops and the schedule are the same with or without a
 *   debugger. Whether a policy and watchpoints are set is read once per step (`POL`, `WATCH`:
 *   only the debugger sets them, between runs); without a policy no stop can happen, so the data
 *   stop tests after each instruction are skipped too, and a basic block's straight run of
 *   statements (fastRegions) runs without checks between them when the budget holds all of
 *   them, its cycles counted at once (a block that jumps back to its own start, a one-block
 *   loop, loops there while the budget holds it again, without the switch);
 * - straight-line instructions fall through to the next case, jumps are `continue`;
 * - an instruction with a machine protocol (calls, returns, switch tables, ...) returns -2 for
 *   next, a pc to jump to, or YIELD, and is dispatched on that value;
 * - watchpoint stops (m.dataStop) and exceptions (fr.pc is the faulting instruction) end the
 *   step; a stop point inside a statement gives back the statement's cycle (`fr.owed`), and the
 *   resumed step enters at `case -(pc + 1)`, past the statement's budget and stop checks, when
 *   the stop was at the statement's first instruction.
 *
 * The step function takes the values its text refers to (K0, K1, ... in the text, `E[i]` in the
 * function) from its frame's function (`fr.fn.env`), so one function serves every load of the
 * same C in the process (STEPS).
 *
 * Without a debugger a step function's other form runs (noDebugger: the text without the
 * debugger's checks, POL and WATCH false), which hands over to the full form (MEMF) when a
 * policy or watchpoints are set. Locals live in simulated memory; in that form, a function whose
 * frame is used only as whole words, 16-bit words, bytes and pointers at fixed offsets keeps them in
 * JavaScript variables during a step (the register form, made from the slot tokens the emitter
 * records: registers.ts). A leaf function also gets a form without a frame object (leafForm),
 * which a call by name runs in that form when the call would run it inline to its end anyway
 * (calls.ts callLeaf). Values keep the interpreter's representation (numbers,
 * BigInt beyond 2^53; 64-bit operators work on two int32 words, emit.ts pairJs). Where a function value is
 * needed (the debugger's expressions, constant folding, an instruction written as a function),
 * `derive` makes it from the same text, on its first call.
 */
import type { KThread } from '../machine/thread';
import type { Machine } from '../machine/machine';
import type { Memory } from '../machine/memory';
import { LOAD_MARK, SPILL_MARK, memoryForm, registerForm, withoutWatch, writesSlot, type RegisterForm } from './registers';
import { LEAF_FAULT, LEAF_GO, LEAF_STOP, takeLeafFault } from './runtime';
import { KMEM_UNINITIALIZED_PATTERN } from '../machine/kmem';

/** Per-function generation context: the environment (values the code refers to) and temps. */
export class Gen {
  constructor(
    readonly m: Machine,
    readonly mem: Memory,
    /** Derived functions' makers by the shape of their text (derive), shared by one compiler's Gens. */
    readonly makers: Map<string, Maker>,
  ) {}
  env: unknown[] = [];
  private envIdx = new Map<unknown, number>();
  ntmp = 0;
  /** The function of each constant value (emit.ts K): nothing else is recorded on them. */
  readonly consts = new Map<number | bigint, object>();
  ref(v: unknown): string {
    let i = this.envIdx.get(v);
    if (i === undefined) {
      i = this.env.length;
      this.env.push(v);
      this.envIdx.set(v, i);
    }
    return `K${i}`;
  }
  tmp(): string {
    return `$${this.ntmp++}`;
  }
}

const PROLOGUE: Array<[RegExp, string]> = [
  [/\bfp\b/, 'const fp = fr === null ? 0 : fr.fp;'],
  [/\bD\b/, 'const D = MEM.dv;'],
  [/\bU8\b/, 'const U8 = MEM.u8;'],
  [/\bI8\b/, 'const I8 = MEM.i8;'],
  [/\bU32\b/, 'const U32 = MEM.u32;'],
  [/\bI32\b/, 'const I32 = MEM.i32;'],
  [/\bWATCH\b/, 'const WATCH = m.watchpoints.length !== 0;'],
];

/** Makes a derived function from the machine, its memory and the values its text refers to. */
export type Maker = (m: Machine, mem: Memory, ...refs: unknown[]) => (fr: never, t?: KThread) => unknown;

/**
 * The function `(fr, t) => value` of a text of g (an expression's value, or an instruction's
 * `{ k: 'ins' }` code), over the same environment; `fr` may be null for a constant. Texts of one
 * shape (the same but for which values they refer to and which temps they use: `(K3(5) | 0)`
 * and `(K7(5) | 0)`) share one JavaScript function that makes them.
 */
export function derive<R>(g: Gen, js0: string): (fr: never, t?: KThread) => R {
  const js = memoryForm(js0);
  const refs: string[] = [];
  const temps: string[] = [];
  const shape = js.replace(/\bK\d+\b|\$\d+\b/g, (x) => {
    const list = x[0] === 'K' ? refs : temps;
    let i = list.indexOf(x);
    if (i < 0) i = list.push(x) - 1;
    return `${x[0] === 'K' ? 'A' : 'T'}${i}`;
  });
  let make = g.makers.get(shape);
  if (make === undefined) {
    const pro = PROLOGUE.filter(([re]) => re.test(shape)).map(([, d]) => d);
    if (temps.length) pro.push(`let ${temps.map((_, i) => `T${i}`).join(', ')};`);
    const src = `"use strict";\nreturn function (fr, t) {\n${pro.join('\n')}\nreturn ${shape};\n};`;
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    make = new Function('m', 'MEM', ...refs.map((_, i) => `A${i}`), src) as Maker;
    g.makers.set(shape, make);
  }
  return make(g.m, g.mem, ...refs.map((k) => g.env[Number(k.slice(1))])) as (fr: never, t?: KThread) => R;
}

/**
 * The JavaScript forms the compiler records on a value function it makes (emit.ts V, K): carried
 * by the function itself (no side table to register each one in).
 */
export interface Forms {
  /** Its JavaScript text. */
  js?: string;
  /** The two-word form of a 64-bit integer value (emit.ts pairJs): JavaScript setting hi, lo. */
  p64?: (h: string, l: string) => string;
  /** The JavaScript of the value when it is not used (a statement's expression). */
  fx?: string;
}

/** A function with the text js (derive), made on its first call; js is recorded as its form. */
export function lazyFn<R>(g: Gen, js: string): (fr: never, t?: KThread) => R {
  let f: ((fr: never, t?: KThread) => R) | undefined;
  const v = (fr: never, t?: KThread): R => (f ??= derive<R>(g, js))(fr, t);
  (v as Forms).js = js;
  return v;
}

/** A number or BigInt as a JavaScript literal. */
export function lit(v: number | bigint): string {
  if (typeof v === 'bigint') return `(${v}n)`;
  if (Object.is(v, -0)) return '(-0)';
  return v < 0 ? `(${v})` : String(v);
}

export interface Target {
  pc: number;
}

/** The JavaScript form of one instruction. */
export type InsJs =
  | { k: 'stmt'; code: string }
  | { k: 'br'; code?: string; cond: string; t: Target | null; f: Target | null }
  | { k: 'jmp'; to: Target }
  /**
   * An instruction with a machine protocol (its value: -2 next, >= 0 a jump, YIELD); `ret`: a
   * return, which pops the frame and always yields, `value` the text of its value. `leaf`: a
   * call by name's code without a debugger, which may run a leaf callee without a frame object
   * (calls.ts callLeaf; its value also LEAF_GO, LEAF_FAULT, or LEAF_STOP - u), after `pure`
   * (a pure leaf's own call, Leaf.pureCall, or calls.ts notPure: -1, or a pure leaf callee run without the caller's words stored and
   * loaded around it; the arguments are its parameters) and, when that gives -1, with the
   * arguments into the site's array.
   */
  | { k: 'ins'; code: string; ret?: boolean; value?: string; leaf?: string; pure?: string; inl?: InlineSite };

/**
 * A call by name whose pure leaf callee may run in the caller's text (Leaf.inline): the site's
 * reference, the arguments' texts, the temp awaiting the value (-1: none), the callee's pure leaf
 * when the caller's step is made (calls.ts inlineLeaf), the references of what a call reports
 * and of the fault path.
 */
export interface InlineSite {
  site: string;
  args: string[];
  slot: number;
  leaf: () => Leaf | null;
  out: string;
  fault: string;
}

export type StepFn = (m: Machine, t: KThread, fr: unknown, budget: number) => number;

export interface StepSpec {
  name: string;
  isStmt: (pc: number) => boolean;
  ins: InsJs[];
  /** Builds the statement stop point and asks the machine (m.checkStop). */
  stop: (m: Machine, t: KThread, pc: number) => boolean;
  stopSignal: unknown;
  /** A StopSignal inside a statement: gives back the statement's cycle (index.ts). */
  stoppedInStatement: (fr: never, used: number, e: unknown) => number;
  /** Runs a C callee just pushed inline when the machine allows (runtime.ts). */
  runCalleeInline: (m: Machine, t: KThread, fr: never, spent: number, budget: number) => number;
  mem: unknown;
  littleEndian: boolean;
  /** The function's frame temps (fr.tmp) and whether it is variadic: neither has a leaf form. */
  ntemps: number;
  variadic: boolean;
  /** The frame's size and the text of the parameters' stores from the argument array `a` (the leaf form). */
  frameSize: number;
  bind: (a: string) => string;
}

/** The longest form without a debugger that primes its feedback on its first call (buildStep). */
const MAX_PRIMED_CHARS = 12_000;

/** The most statements a fast region counts at once (codegen.ts buildStep). */
const MAX_REGION = 32;

/**
 * The fast regions of a function: from a basic block's first instruction when it starts a
 * statement, its straight run of statements ('stmt', ending at a branch or jump, before a call
 * or where another block begins); only those of two statements or more. By first pc: the end
 * (exclusive) and the statements counted.
 */
function fastRegions(s: StepSpec, tgt: (n: number, x: Target | null) => number): Map<number, { end: number; stmts: number }> {
  const n = s.ins.length;
  const leader = new Array<boolean>(n + 1).fill(false);
  leader[0] = true;
  for (let k = 0; k < n; k++) {
    const x = s.ins[k]!;
    if (x.k === 'jmp') leader[x.to.pc] = true;
    else if (x.k === 'br') leader[tgt(k, x.t)] = leader[tgt(k, x.f)] = true;
    if (x.k !== 'stmt') leader[k + 1] = true;
  }
  const out = new Map<number, { end: number; stmts: number }>();
  for (let start = 0; start < n; start++) {
    if (!leader[start] || !s.isStmt(start)) continue;
    let stmts = 0;
    let k = start;
    while (k < n) {
      const x = s.ins[k]!;
      if (x.k === 'ins') break;
      if (s.isStmt(k)) {
        if (stmts === MAX_REGION) break;
        stmts++;
      }
      k++;
      if (x.k !== 'stmt' || leader[k]) break;
    }
    if (stmts >= 2) out.set(start, { end: k, stmts });
  }
  return out;
}

/** The memory's typed views a step function may use, and their Memory fields. */
const VIEWS: Array<[string, string]> = [['D', 'dv'], ['U8', 'u8'], ['I8', 'i8'], ['U32', 'u32'], ['I32', 'i32']];

/** Assembles the step function of one C function. */
export function buildStep(g: Gen, s: StepSpec): StepFn {
  const STOP = g.ref(s.stop);
  const SS = g.ref(s.stopSignal);
  const MEM = g.ref(s.mem);
  const ISSTMT = g.ref(s.isStmt);
  const STOPPED = g.ref(s.stoppedInStatement);
  // The memory's views (reloaded after anything that may grow the arena): those the code uses.
  const reload = '@RELOAD@';
  const body: string[] = [];
  const tgt = (n: number, x: Target | null): number => (x === null ? n + 1 : x.pc);
  // What only a debugger needs (a policy or watchpoints set): left out of the form that runs
  // without one (noDebugger).
  const dbg = (x: string): string => `${DBG_OPEN}${x}${DBG_CLOSE}`;
  // What only the form without a debugger runs.
  const nodbg = (x: string): string => `${NODBG_OPEN}${x}${NODBG_CLOSE}`;
  const TAKE = g.ref(takeLeafFault);
  // A data stop needs a debugger (m.checkStop is false without a policy): tested only under one.
  const dataStop = (pcExpr: string) => dbg(`if (POL && m.dataStop) { m.dataStop = false; fr.pc = ${pcExpr}; return used; }`);
  const INLINE = g.ref(s.runCalleeInline);
  // The same instructions, names and temps as a function this process built (a fresh load of the
  // same C): its step function again, without building its text (most of a fresh program's first
  // steps were spent here), with the same pure leaf callees in its text.
  // Each call site's pure leaf callee, when its body may go into this text (inlineText).
  const lfs = s.ins.map((x) => (x.k === 'ins' && !x.ret && x.leaf !== undefined && x.inl !== undefined && REGISTERS ? x.inl.leaf() : null));
  const memo = textKey(s, g.ntmp, [STOP, SS, MEM, ISSTMT, STOPPED, TAKE, INLINE], lfs);
  const known = MADE.get(memo);
  if (known !== undefined && STEPS.get(known.key) === known.f) {
    // Most recently used last.
    STEPS.delete(known.key);
    STEPS.set(known.key, known.f);
    return known.f;
  }
  // The cycle of the events a call records (Machine.phaseUsed): the step's start and the cycles
  // of the statements before the current one in this step (0 in a step that goes on inside a
  // statement after its callee), so a stop that splits the step (a line breakpoint) moves no
  // event. Only while events are recorded (at()'s one reader); the run loop sets it to 0 again.
  const CYCLE = 'if (EV) m.phaseUsed = used > 0 ? used - 1 : 0;';
  const fast = fastRegions(s, tgt);
  // Pure leaf callees run in this text (INLINE_MARK), by pc; their texts, which the cache's key
  // includes (the memory form's text does not).
  const sites = new Map<number, { ins: InlineSite; lf: Leaf; q: string; args: string[] }>();
  const inlined: string[] = [];
  for (let n = 0; n < s.ins.length; n++) {
    body.push(`case ${n}: pc = ${n};`);
    const region = fast.get(n);
    if (region !== undefined) {
      // Without a debugger and with the budget for all its statements, a straight run of
      // statements needs no check between them: the same cycles, counted at once.
      // A region that jumps back to its own start (a loop of one block) loops here while the
      // budget holds its statements again, without going through the switch.
      const last = s.ins[region.end - 1]!;
      const self = (last.k === 'jmp' && last.to.pc === n) || (last.k === 'br' && (tgt(region.end - 1, last.t) === n || tgt(region.end - 1, last.f) === n));
      const go = (to: number): string => (self && to === n
        ? `pc = ${n}; if (used + ${region.stmts} <= budget) { used += ${region.stmts}; continue; } continue STEP;`
        : `pc = ${to}; continue${self ? ' STEP' : ''};`);
      body.push(`if (${dbg('!POL && ')}used + ${region.stmts} <= budget) { used += ${region.stmts};${self ? ' for (;;) {' : ''}`);
      for (let k = n; k < region.end; k++) {
        const x = s.ins[k]!;
        if (k > n) body.push(`pc = ${k};`);
        if (x.k === 'stmt') body.push(`${x.code};`);
        else if (x.k === 'jmp') body.push(go(x.to.pc));
        else if (x.k === 'br') {
          if (x.code) body.push(`${x.code};`);
          body.push(`if (${x.cond}) { ${go(tgt(k, x.t))} } ${go(tgt(k, x.f))}`);
        }
      }
      if (last.k === 'stmt') body.push(`pc = ${region.end}; continue;`);
      body.push(self ? '} }' : '}');
    }
    if (s.isStmt(n)) {
      // Without a debugger the check counts the cycle first (++used): one operation less, and
      // the statement check is all a primed call (budget 0) runs of the statement.
      body.push(`${dbg(`if (used >= budget) { fr.pc = ${n}; return used; }`)}${nodbg(`if (++used > budget) { fr.pc = ${n}; return used - 1; }`)}`);
      body.push(dbg(`if (POL) { if (${STOP}(m, t, ${n})) { fr.pc = ${n}; return used; } ${reload} }`));
      body.push(dbg('used++;'));
      // Entry after a stop at this statement's first instruction (fr.owed: see index.ts).
      body.push(`case ${-n - 1}: pc = ${n};`);
    }
    const ins = s.ins[n]!;
    if (ins.k === 'ins') {
      // fr.pc first: a call into the kernel reads this frame's position (kmem's bufctl audit
      // stack, a panic stack, a stop inside the callee).
      if (ins.ret) {
        // A return: the frame is popped, so its step ends here (what the generic path below
        // comes to: no callee sits above a popped frame).
        body.push(`fr.pc = ${n}; ${CYCLE} ${ins.code}; fr.pc = ${n + 1}; ${dbg('if (POL) m.dataStop = false;')} return used === 0 ? 1 : used;`);
        continue;
      }
      // In the register form (registers.ts) the frame's words are stored before the
      // instruction and loaded again after it (and after a callee run inline).
      if (ins.leaf === undefined) body.push(`fr.pc = ${n}; ${CYCLE} ${SPILL_MARK} r = ${ins.code}; ${reload} ${LOAD_MARK}`);
      else {
        // Without a debugger a leaf callee may run without a frame object (calls.ts callLeaf):
        // then this frame goes on at the next instruction as after a callee run inline, or its
        // step ends, or the callee's fault is thrown from the next instruction.
        // A pure leaf callee (codegen.ts Leaf.pureCall) reads and writes none of this frame's words: they stay in their variables.
        const lf = lfs[n]!;
        if (lf === null) body.push(`fr.pc = ${n}; ${CYCLE} ${nodbg(`r = ${ins.pure}; if (r === -1) {`)} ${SPILL_MARK} r = ${dbg(ins.code)}${nodbg(ins.leaf)}; ${reload} ${LOAD_MARK} ${nodbg('}')}`);
        else {
          // Its body may run here, in its own names, where its call would run it (inlineText).
          const q = `Q${n}_`;
          const site = ins.inl!;
          const args = site.args.map((_, k) => `${q}a${k}`);
          inlined.push(`${n} ${lf.max} ${JSON.stringify([site.site, site.args, site.slot, site.out, site.fault, lf.inline])}`);
          sites.set(n, { ins: site, lf, q, args });
          body.push(`fr.pc = ${n}; ${CYCLE} ${nodbg(`{ const ${site.args.map((a, k) => `${args[k]} = ${a}, `).join('')}${q}sp = used || 1; ${INLINE_MARK}${n}@ } if (r === -1) {`)}`
            + ` ${SPILL_MARK} r = ${dbg(ins.code)}${nodbg(ins.leaf)}; ${reload} ${LOAD_MARK} ${nodbg('}')}`);
        }
        // LEAF_GO: on to the next instruction (the next case), its step charged as after a callee run inline.
        body.push(nodbg(`if (r < -2) { if (r !== ${LEAF_GO}) { pc = ${n + 1}; fr.pc = ${n + 1}; if (r === ${LEAF_FAULT}) throw ${TAKE}(); return ${LEAF_STOP} - r; } budget = m.budget; used = 0; } else`));
      }
      // A pushed C callee may run inline (runtime.ts runCalleeInline); this frame then goes on.
      body.push(`if (r !== -2) { if (r >= 0) { ${dataStop('r')} pc = r; continue; } fr.pc = ${n + 1}; ${dbg('if (POL) m.dataStop = false;')} used = used || 1;`);
      body.push(`pc = ${n + 1}; r = ${INLINE}(m, t, fr, used, budget); if (r < 0) return r === -1 ? used : -2 - r; budget = r; used = 0; ${reload} ${LOAD_MARK} continue; }`);
      body.push(dataStop(String(n + 1)));
      continue;
    }
    switch (ins.k) {
      case 'stmt':
        body.push(`${ins.code};`);
        body.push(dataStop(String(n + 1)));
        break;
      case 'jmp':
        body.push(`pc = ${ins.to.pc}; continue;`);
        break;
      case 'br': {
        if (ins.code) body.push(`${ins.code};`);
        const T = tgt(n, ins.t);
        const F = tgt(n, ins.f);
        body.push(`c = ${ins.cond};`);
        body.push(dataStop(`c ? ${T} : ${F}`));
        if (T === n + 1) body.push(`if (!c) { pc = ${F}; continue; }`);
        else if (F === n + 1) body.push(`if (c) { pc = ${T}; continue; }`);
        else body.push(`if (c) { pc = ${T}; continue; } pc = ${F}; continue;`);
        break;
      }
    }
  }
  const temps = g.ntmp ? `let ${Array.from({ length: g.ntmp }, (_, i) => `$${i}`).join(', ')};` : '';
  const name = s.name.replace(/[^A-Za-z0-9_]/g, '_');
  const raw = body.join('\n');
  const stmtPcs = s.ins.map((_, n) => n).filter((n) => s.isStmt(n));
  const unmark = (x: string): string => memoryForm(x.replaceAll(SPILL_MARK, '').replaceAll(LOAD_MARK, '')
    .replace(new RegExp(`${NODBG_OPEN}[^${NODBG_CLOSE}]*${NODBG_CLOSE}`, 'g'), '').replaceAll(DBG_OPEN, '').replaceAll(DBG_CLOSE, ''));
  // The function's values come with its frames (fr.fn.env, g.env): the text is all the step
  // function depends on, so loads of the same C share one (and the JIT's work on it).
  const assemble = (code: string, reg: RegisterForm | null): string => {
    let src = `"use strict";@PRIMED@
return function cstep_@NAME@(m, t, fr, budget) {
  @PRIME@@MEMF@const E = fr.fn.env;
  @VIEWS@
  const fp = fr.fp;@REGS@
  let pc = fr.pc, used = 0, r = 0, c = false;
  // Only the debugger sets the policy and the watchpoints, never during a step.
  const POL = @POL@;@EV@
  if (fr.owed === true) {
    fr.owed = false;
    used = 1;
    if (${ISSTMT}(pc)) pc = -pc - 1;
  }
  ${temps}
  m.cThread = t;
  try {
    STEP: for (;;) {
      switch (pc) {
${code}
      }
      throw new Error('C function @NAME@: no instruction at pc ' + pc);
    }
  } catch (e) {
    fr.pc = pc;
    m.dataStop = false;
    if (e instanceof ${SS}) return ${STOPPED}(fr, used, e);
    throw e;
  }@FINALLY@
};`;
    const all = code + (reg ? reg.decl + reg.load + reg.spill((v) => v) : '');
    const views = VIEWS.filter(([v]) => new RegExp(`\\b${v}\\b`).test(all));
    // At the end of the step the memory's views are read again (an exception may have come
    // from an instruction that grew the arena); before an instruction they are current.
    const spill = reg?.spill((v) => `${MEM}.${VIEWS.find(([x]) => x === v)![1]}`) ?? '';
    const spillIns = reg?.spill((v) => v) ?? '';
    src = src
      .replaceAll('@RELOAD@', views.map(([v, f]) => `${v} = ${MEM}.${f};`).join(' '))
      .replace('@VIEWS@', views.length ? `let ${views.map(([v, f]) => `${v} = ${MEM}.${f}`).join(', ')};` : '')
      .replace('@MEMF@', reg ? 'if (m.policy !== null || m.watchpoints.length !== 0) return MEMF(m, t, fr, budget);\n  ' : '')
      .replace('@REGS@', reg?.decl ? `\n  ${reg.decl}` : '')
      .replace('@POL@', reg ? 'false, WATCH = false' : `m.policy !== null${/\bWATCH\b/.test(code) ? ', WATCH = m.watchpoints.length !== 0' : ''}`)
      .replace('@FINALLY@', reg && spill ? ` finally {\n    ${spill}\n  }` : '')
      .replace('@EV@', code.includes(CYCLE) ? '\n  const EV = m.sink !== null;' : '')
      .replaceAll(SPILL_MARK, spillIns)
      .replaceAll(LOAD_MARK, reg ? reg.load : '')
      .replace(/\bK(\d+)\b/g, 'E[$1]').replaceAll('@NAME@', name);
    // V8 allocates a function's feedback vector once it has run about 8 times its bytecode's
    // length: what its first call runs before that records nothing, and the code optimized during
    // that call deoptimizes the first time a later call (a fresh program's) runs there, its first
    // statements (case 0) above all. A small form without a debugger primes itself on its first
    // call, an empty loop long enough for the allocation, so that all it runs records feedback; a
    // large one does not (the loop would have the JIT compile it early: more than it saves on a
    // one-shot run). No effect on any result.
    const prime = reg !== null && src.length <= MAX_PRIMED_CHARS;
    return src.replace('@PRIMED@', prime ? '\nlet primed = false;' : '')
      .replace('@PRIME@', prime ? `if (primed === false) { primed = true; let k = 0; for (let i = 0; i < ${Math.ceil(src.length / 2)}; i++) k = (k + i) | 0;${stmtPcs.length ? ` if (fr.owed === false && m.policy === null && m.watchpoints.length === 0) { const pc0 = fr.pc; for (const n of [${stmtPcs.join(', ')}]) { fr.pc = n; cstep_${name}(m, t, fr, 0); } fr.pc = pc0; }` : ''} }\n  ` : '');
  };
  const src = assemble(unmark(raw), null);
  texts++;
  if (typeof process !== 'undefined' && process.env?.KCTX_CODEGEN_DUMP) process.stderr.write(`// ${s.name}\n${src}\n`);
  const key = inlined.length ? `${src}\n${inlined.join('\n')}` : src;
  let f = STEPS.get(key);
  if (f === undefined) {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    f = new Function(src)() as StepFn;
    // Without a debugger: the text without what only a debugger needs, and the register form
    // when the function has one (registers.ts).
    if (REGISTERS) {
      const nd = noDebugger(raw);
      // A protocol instruction that stores to a slot itself would store after the spill.
      const reg = (s.ins.some((x) => x.k === 'ins' && (writesSlot(x.code) || (x.leaf !== undefined && writesSlot(x.leaf)) || (x.pure !== undefined && writesSlot(x.pure)))) ? null : registerForm(nd, MEM))
        ?? { body: memoryForm(nd), decl: '', spill: () => '', load: '', slots: [], words: new Map() };
      const rsrc = assemble(sites.size ? reg.body.replace(new RegExp(`${INLINE_MARK}(\\d+)@`, 'g'), (_, n: string) => inlineText(sites.get(Number(n))!)) : reg.body, reg);
      if (typeof process !== 'undefined' && process.env?.KCTX_CODEGEN_DUMP) process.stderr.write(`// ${s.name} (register form)\n${rsrc}\n`);
      // eslint-disable-next-line @typescript-eslint/no-implied-eval
      f = new Function('MEMF', rsrc)(f) as StepFn;
      if (reg.slots.length) REGISTER_FORMS.add(f);
      // Made on the first call by name that asks (calls.ts callLeaf): most functions never are leaves called so.
      LEAVES.set(f, () => leafForm(g, s, name, MEM));
    }
    STEPS.set(key, f);
    stepChars += key.length;
    while (stepChars > MAX_STEP_CHARS && STEPS.size > 1) {
      const oldest = STEPS.keys().next().value!;
      STEPS.delete(oldest);
      stepChars -= oldest.length;
    }
  } else {
    // Most recently used last.
    STEPS.delete(key);
    STEPS.set(key, f);
  }
  madeChars += memo.length;
  if (madeChars > MAX_STEP_CHARS) {
    MADE.clear();
    madeChars = memo.length;
  }
  MADE.set(memo, { key, f });
  return f;
}

/**
 * What a step function's text is made of (buildStep): the function's name, its temps, the
 * references buildStep adds, and each instruction (a statement's start or not, its kind, its
 * texts and targets), each text with its length.
 */
function textKey(s: StepSpec, ntmp: number, refs: string[], lfs: Array<Leaf | null>): string {
  const parts: string[] = [s.name, String(ntmp), refs.join(',')];
  const at = (n: number, x: Target | null): string => String(x === null ? n + 1 : x.pc);
  const text = (x: string | undefined): string => (x === undefined ? '-' : `${x.length}:${x}`);
  for (let n = 0; n < s.ins.length; n++) {
    const x = s.ins[n]!;
    parts.push(`${s.isStmt(n) ? 'S' : '.'}${x.k}`);
    if (x.k === 'stmt') parts.push(text(x.code));
    else if (x.k === 'jmp') parts.push(at(n, x.to));
    else if (x.k === 'br') parts.push(text(x.code), text(x.cond), at(n, x.t), at(n, x.f));
    else {
      parts.push(text(x.code), x.ret ? 'r' : '.', text(x.value), text(x.leaf), text(x.pure));
      const lf = lfs[n];
      if (lf) parts.push(text(JSON.stringify([lf.max, x.inl!.site, x.inl!.args, x.inl!.slot, x.inl!.out, x.inl!.fault, lf.inline])));
    }
  }
  return parts.join('\n');
}

/** Where a pure leaf callee's body goes in its caller's form without a debugger (buildStep): INLINE_MARK, its pc, @. */
const INLINE_MARK = '@INLINE';

/**
 * A pure leaf callee's body in its caller's form without a debugger (buildStep), as its own call
 * (Leaf.pureCall) runs it without events: the same checks (else r = its call, which answers -1 or
 * runs it with events), its frame filled, its parameters bound from the arguments, its words
 * stored, the caller's step and its own charged at once, its value delivered; r = LEAF_GO, or
 * its fault's LEAF_FAULT. Its names are prefixed with q (its values through the site's target's).
 */
function inlineText(x: { ins: InlineSite; lf: Leaf; q: string; args: string[] }): string {
  const { ins, lf, q, args } = x;
  const p = lf.inline!;
  const own = (t: string): string => t.replace(/\bfp\b/g, `${q}fp`).replace(/\bpc\b/g, `${q}pc`).replace(/\bL(\d+)\b/g, `${q}L$1`)
    .replace(/\$(\d+)\b/g, `${q}t$1`).replace(/\bv = /g, `${q}v = `).replace(/\bK(\d+)\b/g, `${ins.site}.target.env[$1]`);
  const temps = Array.from({ length: p.temps }, (_, k) => `${q}t${k}`);
  const sp = `${q}sp`, end = `${q}end`, fp = `${q}fp`, v = `${q}v`;
  return `const ${end} = ${sp} + ${lf.max}, ${q}sp0 = t.sp, ${fp} = Math.floor((${q}sp0 - ${p.frameSize + 16}) / 16) * 16;
if (!EV && ${sp} < budget && ${end} < m.budget && ${fp} >= t.stackBase && m.mayRunInline(t, ${end})) {
  ${ins.out}.pure++; ${ins.out}.inlined++;
  let ${v} = 0, ${q}pc = 0${temps.map((t) => `, ${t}`).join('')};
  ${own(p.fill)}
  ${own(p.decl)}
  ${own(p.binds.replace(/\bA\[(\d+)\] \?\? 0/g, (_, k: string) => args[Number(k)]!))}
  r = ${LEAF_GO};
  try {
    ${own(p.code)}
  } catch (e) {
    ${ins.out}.pc = ${q}pc;
    ${own(p.local)}
    m.chargeStep(${sp});
    r = ${ins.fault}(${ins.site}, fr, t, [${args.join(', ')}], ${fp}, ${q}sp0, e);
  }
  if (r === ${LEAF_GO}) {
    ${own(p.local)}
    m.chargeStep(${end});
    ${ins.slot >= 0 ? `fr.tmp[${ins.slot}] = ${v}; ` : ''}t.retval = ${v};
  }
} else r = ${ins.site}.pure(${ins.site}, fr, t, ${sp}, budget${args.map((a) => `, ${a}`).join('')});`;
}

/** Around what only a debugger needs in a step function's text (buildStep). */
const DBG_OPEN = '\u0004';
const DBG_CLOSE = '\u0005';

/**
 * The text of a step function's body for a run without a debugger (policy and watchpoints not
 * set: POL and WATCH false): the debugger's checks left out, each watchpoint test
 * `(WATCH && ...)` of the stores false.
 */
function noDebugger(body: string): string {
  return withoutWatch(body.replace(new RegExp(`${DBG_OPEN}[^${DBG_CLOSE}]*${DBG_CLOSE}`, 'g'), '')
    .replaceAll(NODBG_OPEN, '').replaceAll(NODBG_CLOSE, ''));
}
/** Around what only the form without a debugger runs (buildStep). */
const NODBG_OPEN = '\u0010';
const NODBG_CLOSE = '\u0011';

/**
 * A leaf function's form without a frame object (calls.ts callLeaf): `(m, t, fn, fp, out, args)
 * => value`, which makes its frame's memory at fp as cFrame makes it (the pattern, the
 * parameters from args); a straight-line leaf's statements run in order, with no switch (small
 * enough for V8 to inline it into callLeaf). A leaf has no instruction with a machine protocol but its returns, jumps only
 * forward (so it runs at most `max` statements, one cycle each: the cycles are out.used), no frame
 * temps and no variable arguments. Its slots are variables when it has a register form
 * (registers.ts), stored to the frame when it ends in any way, as its step function's; a fault
 * leaves the faulting pc in out.pc.
 */
export interface Leaf {
  run: (m: Machine, t: KThread, fn: unknown, fp: number, out: { used: number; pc: number }, args: number[]) => unknown;
  /** The most statements a call runs. */
  max: number;
  /**
   * Straight-line (a call runs exactly `max` statements unless it faults) and its body touches no
   * memory but its own slots' variables and calls nothing: it cannot store into anything the
   * machine reads (the preemption byte), so a call may check and charge the caller's step and
   * its own at once (calls.ts callLeaf).
   */
  pure: boolean;
  /**
   * A pure leaf's call (codegen.ts Leaf.pureCall) with its body in it, made from the calls' shared
   * parts (what a call reports, and its fault path); its value -1 (not so: callLeaf decides),
   * LEAF_GO or LEAF_FAULT.
   */
  pureCall?: (out: { used: number; pc: number; calls: number; pure: number }, fault: PureFault) => PureCall;
  /**
   * A pure leaf's body for a caller's text (codegen.ts buildStep, inlined): the parts of pureCall's
   * text, in the callee's names (its views, fp, pc, its slot variables L<off>, its temps $<k>, its
   * values K<k>, the arguments A[k] ?? 0, its value v), and its frame's size.
   */
  inline?: { fill: string; decl: string; temps: number; binds: string; code: string; local: string; frameSize: number };
  /** The parameters pureCall's call takes after its first five (a site with as many arguments uses it). */
  nparams?: number;
  /** pureCall's call, made once. */
  call?: PureCall;
}
/** A pure leaf callee's call: the site, the caller's frame, its thread, the cycles its step spent, its budget, the arguments. */
export type PureCall = (d: never, fr: unknown, t: KThread, spent: number, budget: number, ...args: number[]) => number;
/** A fault in a pure leaf callee (calls.ts leafFault): its frame on the stack; LEAF_FAULT. */
export type PureFault = (d: never, fr: never, t: KThread, args: number[], fp: number, sp0: number, e: unknown) => number;

/** Between a leaf form's parameter stores and its body (leafForm). */
const LEAF_BODY = '@LEAFBODY@';

function leafForm(g: Gen, s: StepSpec, name: string, MEM: string): Leaf | null {
  if (s.ntemps !== 0 || s.variadic) return null;
  const body: string[] = [];
  let max = 0;
  // Straight-line (no jump before its first return, none at all): its statements in order, no switch.
  const first = s.ins.findIndex((x) => x.k === 'ins');
  const straight = first >= 0 && s.ins.every((x) => x.k === 'stmt' || x.k === 'ins');
  for (let n = 0; straight && n <= first; n++) {
    const x = s.ins[n]!;
    body.push(`pc = ${n};`);
    if (s.isStmt(n)) max++;
    if (x.k === 'ins') {
      if (!x.ret || x.value === undefined) return null;
      body.push(`out.used = ${max}; return ${x.value};`);
    } else if (x.k === 'stmt') body.push(`${x.code};`);
  }
  for (let n = 0; !straight && n < s.ins.length; n++) {
    const x = s.ins[n]!;
    body.push(`case ${n}: pc = ${n};`);
    if (s.isStmt(n)) {
      body.push('used++;');
      max++;
    }
    if (x.k === 'ins') {
      if (!x.ret || x.value === undefined) return null;
      body.push(`out.used = used; return ${x.value};`);
    } else if (x.k === 'stmt') body.push(`${x.code};`);
    else if (x.k === 'jmp') {
      if (x.to.pc <= n) return null;
      body.push(`pc = ${x.to.pc}; continue;`);
    } else {
      const T = x.t === null ? n + 1 : x.t.pc;
      const F = x.f === null ? n + 1 : x.f.pc;
      if (T <= n || F <= n) return null;
      if (x.code) body.push(`${x.code};`);
      body.push(`if (${x.cond}) { pc = ${T}; continue; } pc = ${F}; continue;`);
    }
  }
  // The frame as cFrame makes it: the pattern, then the parameters (the arguments in A).
  const text = withoutWatch(`${s.bind('A')}\n${LEAF_BODY}\n${body.join('\n')}`);
  const reg = registerForm(text, MEM);
  const [binds, code] = (reg ? reg.body : memoryForm(text)).split(LEAF_BODY) as [string, string];
  const pure = straight && reg !== null && max > 0 && !/\b(?:D|U8|I8|U32|I32|K\d+|MEM|fp|m|t)\b/.test(code);
  // A pure leaf's written words are stored when it ends in any way, and nothing reads its frame
  // before: they start as the pattern in their variables, not in memory.
  const skip = pure ? reg.words : new Map<number, 'U32' | 'I32'>();
  const fills = Array.from({ length: s.frameSize >>> 2 }, (_, k) => k).filter((k) => !skip.has(k * 4));
  const fill = fills.length > 8 && fills.length === s.frameSize >>> 2
    ? `${fills.slice(0, 8).map((k) => `U32[w + ${k}] = ${KMEM_UNINITIALIZED_PATTERN}`).join('; ')}; for (let k = w + 8; k < w + ${fills.length}; k++) U32[k] = ${KMEM_UNINITIALIZED_PATTERN};`
    : fills.map((k) => `U32[w + ${k}] = ${KMEM_UNINITIALIZED_PATTERN};`).join(' ');
  const decl = reg === null ? '' : pure && skip.size
    ? reg.decl.replace(/\b(L(\d+)) = (?:U32|I32)\[\(fp \+ \d+\) >>> 2\]/g, (x, l: string, off: string) => {
      const v = skip.get(Number(off));
      return v === undefined ? x : `${l} = ${v === 'U32' ? KMEM_UNINITIALIZED_PATTERN : KMEM_UNINITIALIZED_PATTERN | 0}`;
    })
    : reg.decl;
  const all = fill + binds + code + (reg ? decl + reg.spill((v) => v) : '');
  const views = VIEWS.filter(([v]) => new RegExp(`\\b${v}\\b`).test(all));
  const spill = reg?.spill((v) => `${MEM}.${VIEWS.find(([x]) => x === v)![1]}`) ?? '';
  const temps = g.ntmp ? `let ${Array.from({ length: g.ntmp }, (_, i) => `$${i}`).join(', ')};` : '';
  const src = `"use strict";
return function cleaf_${name}(m, t, fn, fp, out, A) {
  const E = fn.env;
  ${views.length ? `let ${views.map(([v, f]) => `${v} = ${MEM}.${f}`).join(', ')};` : ''}
  ${fill ? `{ const w = fp >>> 2; ${fill} }` : ''}
  ${decl}
  ${temps}
  ${binds}
  let pc = 0, used = 0, c = false;
  const POL = false, WATCH = false;
  try {
    ${straight ? code : `for (;;) {
      switch (pc) {
${code}
      }
      throw new Error('C function ${name}: no instruction at pc ' + pc);
    }`}
  } catch (e) {
    out.pc = pc;
    throw e;
  }${spill ? ` finally {\n    ${spill}\n  }` : ''}
};`.replace(/\bK(\d+)\b/g, 'E[$1]');
  if (typeof process !== 'undefined' && process.env?.KCTX_CODEGEN_DUMP) process.stderr.write(`// ${s.name} (leaf form)\n${src}\n`);
  // Made with its step function (one per text: STEPS).
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const leaf: Leaf = { run: new Function(src)() as Leaf['run'], max, pure };
  if (pure) {
    // The call of a pure leaf (codegen.ts Leaf.pureCall): the checks of the caller's step and of the
    // callee's at once, as callLeaf's would answer them; the callee's body, its value in v.
    // Without events nothing reads the budget or the steps before the call ends: charged at once.
    const ret = `out.used = ${max}; return `;
    if (!code.includes(ret)) return leaf;
    // The arguments are its parameters A0, A1, ... (no array between the caller and the binds).
    const nparams = s.bind('A').split(/\bA\[\d+\]/).length - 1;
    const params = Array.from({ length: nparams }, (_, k) => `A${k}`).join(', ');
    leaf.nparams = nparams;
    if (!/\bA\b/.test(binds.replace(/\bA\[(\d+)\] \?\? 0/g, ''))) leaf.inline = {
      fill: fill ? `{ const w = fp >>> 2; ${fill} }` : '', decl, temps: g.ntmp, binds, code: code.replace(ret, 'v = '),
      local: reg.spill((v) => v), frameSize: s.frameSize,
    };
    // Nothing in it can grow the memory: its words are stored through the views it read.
    const local = reg.spill((v) => v);
    const psrc = `"use strict";
return function cpure_${name}(d, fr, t, spent, budget${nparams ? `, ${params}` : ''}) {
  const m = d.m;
  const end = spent + ${max};
  const sp0 = t.sp;
  const fp = Math.floor((sp0 - ${s.frameSize + 16}) / 16) * 16;
  if (spent >= budget || end >= m.budget || fp < t.stackBase || !m.mayRunInline(t, end)) return -1;
  const fn = d.target;
  const E = fn.env;
  const ev = m.sink !== null;
  if (ev) {
    m.entry(t, fn.name);
    m.chargeStep(spent);
  }
  out.pure++;
  let v;
  {
  ${views.length ? `let ${views.map(([v, f]) => `${v} = ${MEM}.${f}`).join(', ')};` : ''}
  ${fill ? `{ const w = fp >>> 2; ${fill} }` : ''}
  ${decl}
  ${temps}
  ${binds.replace(/\bA\[(\d+)\] \?\? 0/g, 'A$1')}
  let pc = 0, c = false;
  const POL = false, WATCH = false;
  try {
    ${code.replace(ret, 'v = ')}
  } catch (e) {
    out.pc = pc;
    ${local}
    if (!ev) m.chargeStep(spent);
    return FAULT(d, fr, t, [${params}], fp, sp0, e);
  }
  ${local}
  }
  if (ev) {
    m.phaseUsed = ${max - 1};
    m.exit(t, fn.name);
    m.chargeStep(${max});
  } else m.chargeStep(end);
  if (d.slot >= 0) fr.tmp[d.slot] = v;
  t.retval = v;
  return ${LEAF_GO};
};`.replace(/\bK(\d+)\b/g, 'E[$1]');
    if (typeof process !== 'undefined' && process.env?.KCTX_CODEGEN_DUMP) process.stderr.write(`// ${s.name} (pure leaf call)\n${psrc}\n`);
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    leaf.pureCall = (out, fault) => new Function('out', 'FAULT', psrc)(out, fault) as PureCall;
  }
  return leaf;
}
/** The leaf form of each step function made (null: it has none; a function: not made yet). */
const LEAVES = new WeakMap<StepFn, Leaf | null | (() => Leaf | null)>();
/** The leaf form of a function's step function (calls.ts callLeaf): null when it has none, undefined before it is made. */
export function leafOf(f: StepFn): Leaf | null | undefined {
  let l = LEAVES.get(f);
  if (typeof l === 'function') LEAVES.set(f, (l = l()));
  return l;
}

/** The step functions that are register forms (registers.ts). */
const REGISTER_FORMS = new WeakSet<StepFn>();
/** Whether a step function keeps frame words in JavaScript variables without a debugger. */
export function isRegisterForm(f: StepFn): boolean {
  return REGISTER_FORMS.has(f);
}

/** The form without a debugger is made (noDebugger, registers.ts); KCTX_REGISTERS=0 turns it off (to compare). */
const REGISTERS = typeof process === 'undefined' || process.env?.KCTX_REGISTERS !== '0';

/**
 * Step functions by their text. A step function depends on nothing but its text (the values it
 * refers to are its frame's function's env), so this cache changes no result: it lets every load
 * of the same C in a process (explore's runs, a restarted debug session, the bench's runs) use
 * the function the JIT already optimized. Bounded by the length of its texts.
 */
const STEPS = new Map<string, StepFn>();
let texts = 0;
/** How many step texts this process has built (buildStep; the same C loaded again builds none). */
export function stepTexts(): number {
  return texts;
}
/** Step functions by what their texts are made of (buildStep textKey), with their STEPS keys; cleared past MAX_STEP_CHARS. */
const MADE = new Map<string, { key: string; f: StepFn }>();
let madeChars = 0;
/** The bound of the cache: the texts it keeps, in characters; the least recently used go first. */
const MAX_STEP_CHARS = 16_000_000;
let stepChars = 0;
