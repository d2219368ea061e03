/**
 * The C interpreter's entry point: loads a scenario's driver sources into a machine.
 *
 * Preprocess each source (a translation unit) with the headers of the era the driver was built
 * for, parse it with tree-sitter, compile every function to closures, lay out globals, string
 * literals and statics in simulated memory, resolve calls against the running kernel's symbols
 * (a missing one fails the load as illumos's module loader does), and register the 'c' frame
 * kind through which the machine runs the driver's functions on simulated threads.
 */
import { basename, resolve, relative } from 'node:path';
import type { Node as SyntaxNode } from 'web-tree-sitter';
import { ScenarioError, type Scenario } from '../scenario';
import { registerFrameKind, KernelPanic, StopSignal, type Machine, type StackEntry, type Frame } from '../machine/machine';
import type { KThread } from '../machine/thread';
import type { TextSymbol } from '../machine/symbols';
import { KMEM_UNINITIALIZED_PATTERN } from '../machine/kmem';
import type { DriverProgram } from '../kernel';
import { createCParser } from './parser';
import { Preprocessor } from './preprocess';
import { resolveSystemHeader } from '../abi/headers';
import { searchRoots } from '../gate/tree';
import { KAPI_VARARGS } from '../abi/kapi';
import { Compiler, RT, YIELD, stoppedInStatement, type CFrame, type CFunc, type TU, type Scope } from './compile';
import { intConverter, intToPtr, toWord, typeName, type IntType, type Val } from './types';
import { createDebug } from './debug';
import { vaAreaBytes, writeVaArea } from './varargs';

const EMPTY: Val[] = [];

// ---------------------------------------------------------------- the 'c' frame kind

registerFrameKind('c', {
  preemptible: true,
  step(m, t, f0, budget) {
    const fr = f0 as CFrame;
    const fn = fr.fn;
    // The generated step function (codegen.ts): the same protocol as the loop below.
    if (fn.run !== undefined) return fn.run(m, t, fr, budget);
    const code = fn.code;
    const pos = fn.pos;
    let pc = fr.pc;
    let used = 0;
    let p = pos[pc];
    if (fr.owed) {
      // Resuming after a stop inside the current statement (see the catch below): its cycle
      // is counted now, and when the stop was at its first instruction, its budget and stop
      // checks, made before the stop, are not made again.
      fr.owed = false;
      used = 1;
      p = undefined;
    }
    RT.thread = t;
    try {
      for (;;) {
        if (p !== undefined) {
          if (used >= budget) {
            fr.pc = pc;
            return used;
          }
          if (m.policy !== null && m.checkStop({ kind: 'statement', thread: t, cpu: t.cpu, detail: { file: p.file, line: p.line, column: p.col, frameIndex: t.stack.length - 1 } })) {
            fr.pc = pc;
            return used;
          }
          used++;
        }
        // fr.pc first: a call into the kernel reads this frame's position (kmem's bufctl
        // audit stack, a panic stack).
        fr.pc = pc;
        const r = code[pc]!(fr, t);
        if (r === -2) pc++;
        else if (r >= 0) pc = r;
        else {
          fr.pc = pc + 1;
          if (RT.dataStop) RT.dataStop = false;
          return used || 1;
        }
        if (RT.dataStop) {
          RT.dataStop = false;
          fr.pc = pc;
          return used;
        }
        p = pos[pc];
      }
    } catch (e) {
      fr.pc = pc;
      RT.dataStop = false;
      if (e instanceof StopSignal) return stoppedInStatement(fr, used, e);
      throw e;
    }
  },
  describe(_m, _t, f0, i): StackEntry[] {
    const fr = f0 as CFrame;
    const fn = fr.fn;
    const pc = Math.min(fr.pc, fn.loc.length - 1);
    const p = fn.loc[pc] ?? { file: fn.file, line: fn.line, col: fn.col };
    return [{ name: fn.name, offset: Math.min(0xfc, 8 + pc * 4), args: fr.args, kind: 'c', file: p.file, line: p.line, column: p.col, frameIndex: i }];
  },
  roots(f0) {
    const fr = f0 as CFrame;
    const out: number[] = [];
    for (const v of fr.tmp) if (typeof v === 'number' && v >= 0x10000) out.push(v);
    return out;
  },
  clone(f0): Frame {
    const fr = f0 as CFrame;
    return { ...fr, tmp: fr.tmp.length ? fr.tmp.slice() : fr.tmp } as CFrame;
  },
});

/** Delivers a native callee's pushed return value into the C frame below (see compile.ts). */
registerFrameKind('cret', {
  preemptible: false,
  step(m, t, f) {
    const below = t.stack[t.stack.length - 2] as CFrame;
    const conv = f.conv as IntType | null;
    const v = t.retval as Val;
    below.tmp[f.slot as number] = conv ? intConverter(conv)(typeof v === 'number' && !Number.isInteger(v) ? Math.trunc(v) : v) : v;
    m.ret(t, t.retval);
    return 1;
  },
  describe() {
    return [];
  },
});

/** A kernel function that panicked while called from C (only ever on a dead machine's stack). */
registerFrameKind('cnative', {
  preemptible: false,
  step() {
    throw new KernelPanic('cnative frame stepped');
  },
  describe(_m, _t, f, i): StackEntry[] {
    return [{ name: f.name as string, offset: 0x4a, args: f.args as number[], kind: 'kernel', frameIndex: i }];
  },
});

/** The machine's hook: a frame that runs C function `sym` with `args` on thread t. */
export function callC(m: Machine, t: KThread, sym: TextSymbol, args: number[]): Frame {
  const fn = sym.cfunc as CFunc | undefined;
  if (!fn) throw new KernelPanic(`BAD TRAP: call to ${sym.name}, which has no code`);
  const sp0 = t.sp;
  // A variadic function's frame also holds its variable arguments, above its locals (varargs.ts).
  const va = fn.va;
  const fp = Math.floor((sp0 - fn.frameSize - (va < 0 ? 0 : vaAreaBytes(Math.max(0, args.length - va))) - 16) / 16) * 16;
  if (fp < t.stackBase) {
    throw new KernelPanic(`stack overflow: thread ${m.sym.format(t.addr)} (${t.name}) overflowed its ${t.stackSize}-byte stack calling ${fn.name}()`);
  }
  // A new frame holds whatever was on the stack: the uninitialized pattern, like kmem's.
  if (fn.frameSize) m.mem.fillPattern32(fp, fn.frameSize, KMEM_UNINITIALIZED_PATTERN);
  t.sp = fp;
  // A scenario thread's entry gets the scenario's "arg", an integer: (void *)(uintptr_t)arg.
  const scenarioEntry = t.role === 'scenario' && t.stack.length === 1 && t.stack[0]!.kind === 'thread_start';
  if (scenarioEntry && fn.type.params?.[0]?.k === 'ptr') args = [intToPtr(args[0] ?? 0)];
  fn.bind(fp, args as Val[]);
  if (va >= 0) writeVaArea(m.mem, fp + fn.frameSize, args, va);
  const fr: CFrame = {
    kind: 'c', pc: 0, fn, fp, sp0,
    tmp: fn.ntemps ? new Array<Val>(fn.ntemps).fill(0) : EMPTY,
    args: args.length <= 6 && !args.some((a) => typeof a === 'bigint') ? args : args.slice(0, 6).map((a) => toWord(a as Val)),
    wait: -1,
    traced: false,
    owed: false,
  };
  return fr;
}

// ---------------------------------------------------------------- loading

export interface LoadedProgram extends DriverProgram {
  compiler: Compiler;
  funcs: Map<string, CFunc>;
}

function loadError(lines: string[]): Error {
  const e = new Error(lines.join('\n'));
  (e as Error & { kctxLoadError: boolean }).kctxLoadError = true;
  return e;
}

function findDeclName(n: SyntaxNode | null): string | undefined {
  while (n) {
    if (n.type === 'identifier') return n.text;
    n = n.childForFieldName('declarator') ?? n.namedChildren.find((c) => c && (c.type === 'identifier' || c.type.endsWith('declarator'))) ?? null;
  }
  return undefined;
}

function firstSyntaxError(n: SyntaxNode): SyntaxNode | null {
  // tree-sitter-c wants a name before a bit-field's width: an unnamed bit-field (`int : 3;`,
  // `unsigned : 0;`) parses with a missing field_identifier there, which is valid C.
  if (n.isMissing || n.type === 'ERROR') return n;
  if (!n.hasError) return null;
  let excused = false;
  for (const c of n.children) {
    if (!c) continue;
    if (c.isMissing && c.type === 'field_identifier' && c.nextSibling?.type === 'bitfield_clause') {
      excused = true;
      continue;
    }
    const e = firstSyntaxError(c);
    if (e) return e;
    if (c.hasError) excused = true;
  }
  return excused ? null : n;
}

/**
 * Optional steps of a load for another kernel personality (kernel-sim/freebsd): its own headers,
 * a relocation pass after the globals are laid out (before their initializers and the function
 * bodies, which fold global addresses into constants), and its own wording for undefined symbols
 * (`names` in relocation order: text references first, then data).
 */
export interface LoadHooks {
  resolveHeader?: (name: string) => { path: string; text: string } | string;
  relocate?: (c: Compiler) => void;
  undefinedSymbols?: (module: string, names: string[]) => Error;
  /** Module name (default: the first source's base name). */
  module?: string;
}

export async function loadDriver(m: Machine, s: Scenario, hooks: LoadHooks = {}): Promise<LoadedProgram> {
  const parser = await createCParser();
  const module = hooks.module ?? basename(s.sources[0] ?? 'driver').replace(/\.[ch]$/, '');
  const tus: TU[] = [];
  let lastPre: Preprocessor | null = null;
  const roots = searchRoots(s);
  const inc = { includeDirs: roots.includeDirs, roots: roots.roots, ...(s.gate ? { gate: { defines: roots.defines, undefs: roots.undefs } } : {}) };
  for (const src of s.sources) {
    const path = resolve(s.baseDir, src);
    const pre = new Preprocessor(s.baseDir, s.file, hooks.resolveHeader ?? ((name) => resolveSystemHeader(name, s.builtFor)), s.defines, inc);
    const idx = pre.addSource(path, relative(s.baseDir, path) || src);
    pre.processFile(idx);
    const pp = pre.result();
    lastPre = pre;
    const tree = parser.parse(pp.text);
    if (!tree) throw new ScenarioError(path, 1, 1, 'the C parser gave no tree');
    const tu: TU = { pp, root: tree.rootNode, main: idx };
    const bad = tree.rootNode.hasError ? firstSyntaxError(tree.rootNode) : null;
    if (bad) {
      const c = new Compiler(m, module, new Map());
      c.tu = tu;
      const what = bad.isMissing ? `expected '${bad.type}'` : `unexpected '${bad.text.slice(0, 40).split('\n')[0]}'`;
      c.fail(bad, `syntax error: ${what}`);
    }
    tus.push(tu);
  }
  // illumos kernel functions mapped on first use (not the other personalities' kernels).
  const lazyNatives = hooks.resolveHeader ? null : new Map(KAPI_VARARGS.map((k) => [k.name, k.impl]));
  // Pass 0: the driver's functions get kernel text addresses.
  const defined = new Map<string, TextSymbol>();
  for (const tu of tus) {
    for (const n of tu.root.namedChildren) {
      if (!n || n.type !== 'function_definition') continue;
      const name = findDeclName(n.childForFieldName('declarator'));
      if (!name) continue;
      if (defined.has(name)) {
        const c = new Compiler(m, module, defined);
        c.tu = tu;
        c.fail(n, `redefinition of '${name}'`);
      }
      const existing = m.sym.lookup(name);
      if ((existing && existing.kind === 'native' && (existing.module === 'genunix' || existing.module === 'unix')) || (!existing && lazyNatives?.has(name))) {
        const c = new Compiler(m, module, defined);
        c.tu = tu;
        c.fail(n, `'${name}' is already defined by the kernel (${existing?.module ?? 'genunix'}); a module cannot redefine it`);
      }
      let sym: TextSymbol;
      if (existing) {
        // A driver function replaces kctx's built-in model of it (vmm_savectx, kvm_ctx_save, ...).
        existing.kind = 'c';
        existing.impl = undefined;
        existing.module = module;
        sym = existing;
      } else sym = m.sym.define(name, 'c', module);
      defined.set(name, sym);
    }
  }
  // Kernel variables a driver may reference.
  if (!m.sym.data.has('p0')) m.sym.defineData('p0', m.mem.map(256, 64), 256, 'genunix');
  if (!m.sym.data.has('hz')) {
    const a = m.mem.map(8, 8);
    m.mem.writeI32(a, 100);
    m.sym.defineData('hz', a, 4, 'genunix');
  }
  const c = new Compiler(m, module, defined);
  c.lazyNatives = lazyNatives;
  const bodies: Array<{ tu: TU; node: SyntaxNode; scope: Scope }> = [];
  const inits: Array<() => void> = [];
  for (const tu of tus) c.declareTU(tu, bodies, inits);
  hooks.relocate?.(c);
  c.resolveExterns();
  for (const f of inits) f();
  const dataRefs = [...c.unresolved];
  for (const b of bodies) {
    const fn = c.compileFunction(b.node, b.scope, b.tu);
    fn.sym.cfunc = fn;
    c.funcs.set(fn.name, fn);
  }
  if (c.unresolved.size && hooks.undefinedSymbols) {
    const text = [...c.unresolved].filter((n) => !dataRefs.includes(n));
    throw hooks.undefinedSymbols(module, [...text, ...dataRefs]);
  }
  if (c.unresolved.size) {
    const names = [...c.unresolved].sort();
    throw loadError([...names.map((n) => `/kernel/drv/amd64/${module}: undefined symbol '${n}'`), `WARNING: mod_load: cannot load module '${module}'`]);
  }
  m.hooks.callC = callC;
  const program: LoadedProgram = {
    compiler: c,
    funcs: c.funcs,
    functionAddr(name) {
      return c.funcs.get(name)?.sym.addr;
    },
    checkEntry(name) {
      const f = c.funcs.get(name);
      if (!f) return `no function '${name}' is defined in the sources (${s.sources.join(', ')})`;
      const ps = f.type.params ?? [];
      const ok = f.type.ret.k === 'void' && (ps.length === 0 || (ps.length === 1 && (ps[0]!.k === 'ptr' || ps[0]!.k === 'int')));
      if (!ok) return `'${name}' is '${typeName(f.type)}'; a thread entry must be 'void ${name}(void *)'`;
      return null;
    },
  };
  m.program = createDebug(m, c, s, lastPre, parser);
  return program;
}

export { YIELD };
