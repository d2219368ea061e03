/**
 * JavaScript generation for compiled C functions.
 *
 * The compiler (compile.ts) turns every C function into a flat program of closures. Alongside,
 * it records a JavaScript source form for the closures it knows how to express (locals, loads
 * and stores, integer arithmetic, comparisons, conditions, jumps) in a registry keyed by the
 * closure. `buildStep` assembles one function per C function: a `switch (pc)` loop whose cases
 * are the instructions, with the same frame protocol as the closure loop in index.ts:
 *
 * - at every statement start: the budget check, then `checkStop` (only when `m.policy` is set),
 *   then one cycle counted; so cycles, stops and the schedule are the same with or without a
 *   debugger and the same as the closure path;
 * - straight-line instructions fall through to the next case, jumps are `continue`;
 * - an instruction without a JavaScript form calls its closure (calls, returns, switch tables,
 *   bit-fields, ...) and is dispatched exactly as the closure loop does;
 * - watchpoint stops (m.dataStop) and exceptions (fr.pc is the faulting instruction) are
 *   handled as in the closure loop; a stop point inside a statement gives back the statement's
 *   cycle (`fr.owed`), and the resumed step enters at `case -(pc + 1)`, past the statement's
 *   budget and stop checks, when the stop was at the statement's first instruction.
 *
 * Locals stay in simulated memory; values keep the interpreter's representation (numbers,
 * BigInt beyond 2^53), and every operator without an exact inline form calls the same helper
 * the closure calls. The closure program is kept: the debugger's expressions use it, and
 * `setCodegen(false)` (or KCTX_CODEGEN=0) runs C through it alone.
 */
import type { KThread } from '../machine/thread';
import type { Machine } from '../machine/machine';

/** Whether newly compiled functions get a generated step function (default on). */
let enabled = typeof process === 'undefined' || process.env?.KCTX_CODEGEN !== '0';
export function setCodegen(on: boolean): void {
  enabled = on;
}
export function codegenEnabled(): boolean {
  return enabled;
}

/** Per-function generation context: the environment (values the code refers to) and temps. */
export class Gen {
  env: unknown[] = [];
  private envIdx = new Map<unknown, number>();
  ntmp = 0;
  /** The JavaScript form of a closure made while compiling this function. */
  readonly js = new WeakMap<object, string>();
  /** The two-word form of a 64-bit integer closure (emit.ts pairJs): JavaScript setting hi, lo. */
  readonly p64 = new WeakMap<object, (h: string, l: string) => string>();
  /** The JavaScript of a closure whose value is not used (a statement's expression). */
  readonly fx = new WeakMap<object, string>();
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
  /** An instruction with a closure's protocol (its value: -2 next, >= 0 a jump, YIELD). */
  | { k: 'ins'; code: string };

export type StepFn = (m: Machine, t: KThread, fr: unknown, budget: number) => number;

export interface StepSpec {
  name: string;
  ncode: number;
  isStmt: (pc: number) => boolean;
  ins: Array<InsJs | undefined>;
  /** Builds the statement stop point and asks the machine (m.checkStop). */
  stop: (m: Machine, t: KThread, pc: number) => boolean;
  closures: unknown[];
  stopSignal: unknown;
  /** A StopSignal inside a statement: gives back the statement's cycle (index.ts). */
  stoppedInStatement: (fr: never, used: number, e: unknown) => number;
  /** Runs a C callee just pushed inline when the machine allows (runtime.ts). */
  runCalleeInline: (m: Machine, t: KThread, fr: never, spent: number, budget: number) => number;
  mem: unknown;
  littleEndian: boolean;
}

/** Assembles the step function of one C function. */
export function buildStep(g: Gen, s: StepSpec): StepFn {
  const C = g.ref(s.closures);
  const STOP = g.ref(s.stop);
  const SS = g.ref(s.stopSignal);
  const MEM = g.ref(s.mem);
  const ISSTMT = g.ref(s.isStmt);
  const STOPPED = g.ref(s.stoppedInStatement);
  const reload = `D = ${MEM}.dv; U8 = ${MEM}.u8; I8 = ${MEM}.i8; U32 = ${MEM}.u32; I32 = ${MEM}.i32;`;
  const body: string[] = [];
  const tgt = (n: number, x: Target | null): number => (x === null ? n + 1 : x.pc);
  const dataStop = (pcExpr: string) => `if (m.dataStop) { m.dataStop = false; fr.pc = ${pcExpr}; return used; }`;
  const INLINE = g.ref(s.runCalleeInline);
  for (let n = 0; n < s.ncode; n++) {
    body.push(`case ${n}: pc = ${n};`);
    if (s.isStmt(n)) {
      body.push(`if (used >= budget) { fr.pc = ${n}; return used; }`);
      body.push(`if (m.policy !== null) { if (${STOP}(m, t, ${n})) { fr.pc = ${n}; return used; } ${reload} }`);
      body.push('used++;');
      // Entry after a stop at this statement's first instruction (fr.owed: see index.ts).
      body.push(`case ${-n - 1}: pc = ${n};`);
    }
    const ins = s.ins[n];
    if (!ins || ins.k === 'ins') {
      // fr.pc first: a call into the kernel reads this frame's position (kmem's bufctl audit
      // stack, a panic stack, a stop inside the callee).
      body.push(`fr.pc = ${n}; r = ${ins ? ins.code : `${C}[${n}](fr, t)`}; ${reload}`);
      // A pushed C callee may run inline (runtime.ts runCalleeInline); this frame then goes on.
      body.push(`if (r !== -2) { if (r >= 0) { ${dataStop('r')} pc = r; continue; } fr.pc = ${n + 1}; if (m.dataStop) m.dataStop = false; used = used || 1;`);
      body.push(`pc = ${n + 1}; r = ${INLINE}(m, t, fr, used, budget); if (r < 0) return r === -1 ? used : -2 - r; budget = r; used = 0; ${reload} continue; }`);
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
  const decl = g.env.map((_, i) => `const K${i} = K[${i}];`).join('\n');
  const src = `"use strict";
${decl}
return function cstep_${s.name.replace(/[^A-Za-z0-9_]/g, '_')}(m, t, fr, budget) {
  let D = ${MEM}.dv, U8 = ${MEM}.u8, I8 = ${MEM}.i8, U32 = ${MEM}.u32, I32 = ${MEM}.i32;
  const fp = fr.fp;
  let pc = fr.pc, used = 0, r = 0, c = false;
  if (fr.owed === true) {
    fr.owed = false;
    used = 1;
    if (${ISSTMT}(pc)) pc = -pc - 1;
  }
  ${temps}
  m.cThread = t;
  try {
    for (;;) {
      switch (pc) {
${body.join('\n')}
      }
      throw new Error('C function ${s.name.replace(/[^A-Za-z0-9_]/g, '_')}: no instruction at pc ' + pc);
    }
  } catch (e) {
    fr.pc = pc;
    m.dataStop = false;
    if (e instanceof ${SS}) return ${STOPPED}(fr, used, e);
    throw e;
  }
};`;
  void s.littleEndian;
  if (typeof process !== 'undefined' && process.env?.KCTX_CODEGEN_DUMP) process.stderr.write(`// ${s.name}\n${src}\n`);
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('K', src)(g.env) as StepFn;
}
