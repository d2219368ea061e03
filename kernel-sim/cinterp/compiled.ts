/**
 * A warm load compiles each function on first need, not at load.
 *
 * Compiling a function body does more than make its instructions: it places string literals and
 * static locals in simulated memory (with their initial values), links kernel functions mapped on
 * first use (abi/kapi.ts lazy natives) and stubs (`"stubs": "auto"`), and defines data symbols
 * and the leak detector's roots. All of these take addresses from the one memory arena, in compile
 * order. A cold load that compiled every function cleanly records what the compile phase added
 * (the arena's bytes from its start to its end, the text and data symbols, roots, strings, stubs,
 * each function's static locals); a warm load of the same unit under the same needs puts exactly
 * that in place and makes each function a pending one, compiled when first needed (a call, the
 * debugger's lines, frames or globals). That compile, in replay mode (emit.ts `replay`), finds
 * its strings and linked symbols in place, takes its statics' recorded addresses and writes no
 * memory: every address and byte is the cold load's, so the output is the same.
 *
 * A compile phase that changed anything else the rest of a load or the debugger reads (a type
 * name declared before, the file scope, extern links, an error) is not recorded: such loads
 * compile eagerly. Type names a body adds (a struct declared in a block) appear once the
 * debugger compiles every function, which it does before it looks a name up that it lacks.
 */
import type { Machine } from '../machine/machine';
import type { TextSymbol } from '../machine/symbols';
import type { Compiler, CFunc, Scope, TU } from './compile';
import type { CNode as SyntaxNode } from './ctree';
import { stubsOf } from './stubs';
import { loadRecord, storeRecord } from '../io/cache-store';

const stats = { stored: 0, replayed: 0, pending: 0, compiled: 0 };
/**
 * Compile records stored, warm loads that replayed one, functions they left pending, and pending
 * functions compiled since (for tests).
 */
export function compiledStats(): { stored: number; replayed: number; pending: number; compiled: number } {
  return { ...stats };
}

/** One function body of the load, in compile order. */
export interface Body {
  tu: TU;
  node: SyntaxNode;
  scope: Scope;
}

interface Counts {
  top: number;
  text: number;
  data: number;
  roots: number;
  strings: number;
  globals: number;
  stubFns: number;
  stubData: number;
}

/** What a cold compile phase added (see above). */
interface CompiledRecord {
  before: Counts;
  top: number;
  /** The arena's bytes from before.top to top, base64. */
  image: string;
  /** Text symbols defined, in order: name, address, a stub (else a lazy kernel function). */
  text: Array<[string, number, boolean]>;
  /** Data symbols defined, in order: name, address, size, module. */
  data: Array<[string, number, number, string]>;
  roots: Array<[number, number]>;
  strings: Array<[string, number]>;
  stubData: string[];
  /**
   * Per body: its name and its static locals' addresses (and true when it declares a function,
   * which makes the name file-wide), or its name and why it cannot run.
   */
  bodies: Array<[string, number[] | string, boolean?]>;
}

function counts(m: Machine, c: Compiler): Counts {
  const st = stubsOf(m);
  return {
    top: m.mem.top, text: m.sym.count, data: m.sym.data.size, roots: m.dataRoots.length, strings: c.strings.size,
    globals: c.globals.length, stubFns: st?.functions.length ?? 0, stubData: st?.data.length ?? 0,
  };
}

/** The maps a compile phase must leave alone to be recorded: their entries, to compare. */
function shapes(c: Compiler): Array<[Map<unknown, unknown>, Array<[unknown, unknown]>]> {
  const maps: Array<Map<unknown, unknown>> = [c.typeNames, c.linkVars, c.globalScope.names, c.globalScope.tags];
  for (const tu of c.tus) {
    const sc = c.fileScopeOf(tu);
    if (sc !== c.globalScope) maps.push(sc.names, sc.tags);
  }
  return maps.map((mp) => [mp, [...mp]]);
}

/** A cold compile phase being watched: its start, and each body's outcome. */
export interface CompileWatch {
  key: string;
  before: Counts;
  shapes: ReturnType<typeof shapes>;
  bodies: CompiledRecord['bodies'];
  /** Something happened that a record cannot hold. */
  spoilt: boolean;
}

export function watchCompile(m: Machine, c: Compiler, key: string): CompileWatch {
  return { key, before: counts(m, c), shapes: shapes(c), bodies: [], spoilt: c.unresolved.size > 0 };
}

/** Compiles body `b` as a cold load does, noting its outcome. */
export function noteBody(w: CompileWatch | null, c: Compiler, name: string, compile: () => boolean, unrunnable: () => string | undefined): void {
  const g0 = c.globals.length;
  c.bodyDeclares.any = false;
  const ok = compile();
  if (!w) return;
  if (c.bodyDeclares.changed) w.spoilt = true;
  if (ok) {
    const added = c.globals.slice(g0);
    if (added.some((g) => !g.name.startsWith(`${name}.`))) w.spoilt = true;
    w.bodies.push(c.bodyDeclares.any ? [name, added.map((g) => g.addr), true] : [name, added.map((g) => g.addr)]);
    return;
  }
  const why = unrunnable();
  if (why === undefined || c.globals.length !== g0) w.spoilt = true;
  w.bodies.push([name, why ?? '']);
}

/** Keeps the record of a cold compile phase that ended a load without errors (best effort). */
export function storeCompiled(m: Machine, c: Compiler, w: CompileWatch, lazy: ReadonlySet<string>): void {
  if (w.spoilt || c.unresolved.size) return;
  for (const [mp, was] of w.shapes) {
    // Types defined in a function body may be new names (the debugger compiles every function
    // before it looks a type up that it lacks), and so may functions declared in a body (a
    // warm load compiles those bodies first); anything else must be as declared.
    if (mp === c.globalScope.names) {
      for (const [k, v] of mp) if (!was.some(([x]) => x === k) && (v as { k: string }).k !== 'func') return;
    } else if (mp !== c.typeNames && mp.size !== was.length) return;
    for (const [k, v] of was) if (mp.get(k) !== v) return;
  }
  const b = w.before;
  const st = stubsOf(m);
  const stubbed = new Set(st?.functions.slice(b.stubFns) ?? []);
  const text: CompiledRecord['text'] = [];
  for (const s of m.sym.all().slice(b.text)) {
    if (s.kind !== 'native') return;
    if (stubbed.has(s.name)) text.push([s.name, s.addr, true]);
    else if (lazy.has(s.name)) text.push([s.name, s.addr, false]);
    else return;
  }
  const top = m.mem.top;
  const rec: CompiledRecord = {
    before: b, top,
    image: Buffer.from(m.mem.u8.buffer, m.mem.u8.byteOffset + b.top, top - b.top).toString('base64'),
    text,
    data: [...m.sym.data].slice(b.data).map(([n, d]) => [n, d.addr, d.size, d.module]),
    roots: m.dataRoots.slice(b.roots).map(([a, n]) => [a, n]),
    strings: [...c.strings].slice(b.strings),
    stubData: st?.data.slice(b.stubData) ?? [],
    bodies: w.bodies,
  };
  storeRecord(`compiled ${w.key}`, rec);
  stats.stored++;
}

function valid(r: unknown): r is CompiledRecord {
  const x = r as CompiledRecord | null;
  return !!x && typeof x === 'object' && !!x.before && Number.isInteger(x.top) && typeof x.image === 'string'
    && [x.text, x.data, x.roots, x.strings, x.stubData, x.bodies].every(Array.isArray);
}

/** The function a pending function becomes, and the way there: `force()`. */
interface Pending {
  readonly name: string;
  readonly sym: TextSymbol;
  readonly pending: () => CFunc;
}

/** A function of a warm load not compiled yet: reading anything but its name and symbol compiles it. */
class PendingFunc implements Pending {
  constructor(readonly name: string, readonly sym: TextSymbol, readonly pending: () => CFunc) {}
}
for (const k of ['type', 'code', 'pos', 'loc', 'frameSize', 'ntemps', 'params', 'locals', 'bind', 'bindJs', 'file', 'line', 'col', 'scope', 'run', 'env', 'va']) {
  Object.defineProperty(PendingFunc.prototype, k, {
    get(this: PendingFunc) {
      return (this.pending() as unknown as Record<string, unknown>)[k];
    },
  });
}

/** The compiled function behind a symbol's cfunc (compiling a pending one). */
export function compiled(f: CFunc): CFunc {
  const p = (f as unknown as Partial<Pending>).pending;
  return p ? p() : f;
}

/** Every function of the load compiled (the debugger's lines, globals): in load order. */
export function compileAll(c: Compiler): void {
  for (const f of c.funcs.values()) compiled(f);
}

/**
 * A warm load: puts in place what the cold compile phase added and makes every body a pending
 * function. False (nothing changed) when there is no record for `key`, or it does not fit this
 * load (then the load compiles eagerly).
 */
export function replayCompiled(
  m: Machine, c: Compiler, key: string, bodies: Array<{ b: Body; name: string; sym: TextSymbol }>,
  unrunnable: (sym: TextSymbol, why: string) => void,
): boolean {
  const r = loadRecord(`compiled ${key}`);
  if (!valid(r)) return false;
  const now = counts(m, c);
  for (const k of Object.keys(now) as Array<keyof Counts>) if (now[k] !== r.before[k]) return false;
  if (r.bodies.length !== bodies.length || r.bodies.some(([n], i) => n !== bodies[i]!.name)) return false;
  const image = Buffer.from(r.image, 'base64');
  if (image.length !== r.top - now.top || (r.text.length && !c.autoStub && r.text.some(([, , stub]) => stub))) return false;
  for (const [name, , stub] of r.text) if (!stub && !c.lazyNatives?.has(name)) return false;
  // The text symbols at their addresses (the arena is advanced to each, then mapped as it was).
  const mem = m.mem;
  for (const [name, addr, stub] of r.text) {
    if (addr < mem.top) throw new Error(`kctx: the compile record of '${key}' is out of order`);
    if (addr > mem.top) mem.map(addr - mem.top, 1);
    const at = stub ? c.autoStub!.fn(name) : m.native(name, c.lazyNatives!.get(name)!);
    if (at !== addr) throw new Error(`kctx: '${name}' is at ${at}, not ${addr} as the compile record says`);
  }
  if (r.top > mem.top) mem.map(r.top - mem.top, 1);
  mem.u8.set(image, now.top);
  for (const [name, addr, size, module] of r.data) m.sym.defineData(name, addr, size, module);
  for (const [a, n] of r.roots) m.dataRoots.push([a, n]);
  for (const [s, a] of r.strings) c.strings.set(s, a);
  stubsOf(m)?.data.push(...r.stubData);
  bodies.forEach(({ b, name, sym }, i) => {
    const out = r.bodies[i]![1];
    if (typeof out === 'string') {
      if (out) unrunnable(sym, out);
      return;
    }
    let real: CFunc | undefined;
    const pending = (): CFunc => {
      if (real) return real;
      // As at load: the compiler's state of the moment kept, and without the late names a load
      // gives the debugger afterwards (needed.ts declareRestLate), which the cold compile never saw.
      const saved = Object.assign({}, c);
      const late = c.globalScope.late;
      c.globalScope.late = undefined;
      c.replay = { statics: out.slice() };
      try {
        real = c.compileFunction(b.node, b.scope, b.tu);
      } finally {
        Object.assign(c, saved);
        c.globalScope.late = late;
      }
      sym.cfunc = real;
      c.funcs.set(name, real);
      stats.compiled++;
      return real;
    };
    stats.pending++;
    const p = new PendingFunc(name, sym, pending) as unknown as CFunc;
    sym.cfunc = p;
    c.funcs.set(name, p);
  });
  stats.replayed++;
  // The functions bodies declare file-wide, in the cold load's order, before anything compiles
  // (the bodies themselves only when that cannot be done without compiling them).
  bodies.forEach(({ b, sym }, i) => {
    if (r.bodies[i]![2] === true && !c.declareBodyFunctions(b.node, b.scope, b.tu)) compiled(sym.cfunc as CFunc);
  });
  return true;
}
