/**
 * The compiler, part 1 of 7: the shared state and the emitter. The phases follow as a chain of
 * classes, each in its own file: emit.ts, declare.ts (types, declarations, top level), init.ts
 * (initialisers), stmt.ts (function bodies and statements), operators.ts, expr.ts (the other
 * expressions), calls.ts (calls and variable arguments); compile.ts closes the chain.
 */
import type { CNode as SyntaxNode, Located } from './ctree';
import type { Machine } from '../machine/machine';
import { MemoryFault, NULL_GUARD, LITTLE_ENDIAN, type Memory } from '../machine/memory';
import { Gen, lit, lazyFn, type InsJs, type Maker, type Forms } from './codegen';
import { constantValue } from './fold';
import type { TextSymbol, NativeImpl } from '../machine/symbols';
import { ScenarioError } from '../scenario';
import { type CType, type FuncType, type Val, sizeOf, alignOf } from './types';
import type { Origin } from './preprocess';
import {
  Scope, originIn, type Pos, type LocalInfo, type CFunc, type CFrame, type E, type Ent, type Label, type GlobalInfo, type TU,
} from './program';
import { fault, rd64u, rd64s, wr64big, watchHit, hiOfBig, loOfBig, join64 } from './runtime';
import { slotAddr, slotOfAddr, slotRead, slotWrite, coldAddr, syncOut, syncIn, watchJs } from './registers';

/**
 * The compiler's state and the layer every phase uses: positions and errors, emitting
 * instructions, the JavaScript text of values and instructions (codegen.ts), frame slots, loads and stores.
 */
export abstract class Emitter {
  readonly mem: Memory;
  readonly globalScope = new Scope();
  readonly funcs = new Map<string, CFunc>();
  readonly globals: GlobalInfo[] = [];
  readonly unresolved = new Set<string>();
  readonly typeNames = new Map<string, CType>();
  /** String literals placed in simulated memory, by their text (read by compiled.ts). */
  readonly strings = new Map<string, number>();
  readonly linkVars = new Map<string, Ent & { k: 'var' }>();
  tu!: TU;
  readonly tus: TU[] = [];
  protected fileScopes = new Map<TU, Scope>();
  fileScopeOf(tu: TU): Scope {
    return this.fileScopes.get(tu) ?? this.globalScope;
  }
  protected scope!: Scope;
  // per-function state
  protected code: InsJs[] = [];
  protected pos: Array<Pos | undefined> = [];
  protected loc: Pos[] = [];
  /** The current function's generation context. */
  protected g: Gen;
  /** The makers of derived functions, by their text's shape (codegen.ts derive). */
  protected readonly makers = new Map<string, Maker>();
  protected cur: Pos = { file: '', line: 0, col: 0 };
  protected frameSize = 0;
  /** The end of the locals allocated so far in the blocks being compiled (frameSize: the most ever). */
  protected frameTop = 0;
  protected ntemps = 0;
  protected fnName = '';
  protected fnType: FuncType | null = null;
  protected labels = new Map<string, Label>();
  protected gotos: Array<{ name: string; node: SyntaxNode }> = [];
  protected loops: Array<{ brk: Label; cont: Label | null }> = [];
  protected switches: Array<{ table: Map<Val, number>; dflt: Label | null; conv: (v: Val) => Val; seen: Set<Val> }> = [];
  protected locals: LocalInfo[] = [];
  protected pendingInits: Array<() => void> = [];

  /**
   * Kernel functions defined on first reference (abi/kapi.ts KAPI_VARARGS on illumos): adding
   * them to the kernel moves no address of a driver that does not use them.
   */
  lazyNatives: Map<string, NativeImpl> | null = null;
  /**
   * `"stubs": "auto"`: an undefined function gets a stub (its address), an undefined extern
   * variable zeroed storage of its declared type (its address); see stubs.ts.
   */
  autoStub: { fn(name: string): number; data(name: string, t: CType): number } | null = null;
  /**
   * Real kernel headers (a gate) declare float and double members (kstat_named_t's obsolete
   * value.f, value.d): they are storage of their size here, copied but never computed with.
   */
  opaqueFloats = false;
  /** Compiling a debugger expression (evaluateNode): nothing may be linked or mapped. */
  protected evaluating = false;
  /** Compiling a function body (compileFunction). */
  protected inBody = false;
  /**
   * A warm load's compile of one function (compiled.ts): its static locals' addresses, in the
   * order the cold load placed them; its string literals and the symbols it links are in place
   * already, so the compile maps and writes nothing.
   */
  replay: { statics: number[] } | null = null;
  /** Function declarations met in bodies since compiled.ts reset it: any; one that changed an earlier declaration. */
  readonly bodyDeclares = { any: false, changed: false };

  constructor(
    readonly m: Machine,
    readonly module: string,
    readonly definedFns: Map<string, TextSymbol>,
  ) {
    this.mem = m.mem;
    this.g = new Gen(m, m.mem, this.makers);
  }

  // ------------------------------------------------------------------ positions and errors

  origin(n: Located): Origin {
    return originIn(this.tu, n);
  }

  posOf(n: Located): Pos {
    const o = this.origin(n);
    const f = this.tu.pp.files[o.file]!;
    return { file: f.path, line: o.line, col: o.col };
  }

  fail(n: Located, msg: string): never {
    const p = this.posOf(n);
    throw new ScenarioError(p.file, p.line, p.col, msg);
  }

  protected text(n: SyntaxNode): string {
    return n.text.length > 60 ? n.text.slice(0, 57) + '...' : n.text;
  }

  protected allocLocal(t: CType): number {
    const a = Math.max(1, alignOf(t));
    const s = Math.max(1, sizeOf(t));
    this.frameTop = Math.ceil(this.frameTop / a) * a + s;
    if (this.frameTop > this.frameSize) this.frameSize = this.frameTop;
    // Locals are addressed downwards from fp + frameSize; we use positive offsets from fp.
    return this.frameTop - s;
  }

  /** The address text of the local at fp + off (its accesses become slots: registers.ts). */
  protected slotAddr(off: number): string {
    return slotAddr(off);
  }

  protected temp(): number {
    return this.ntemps++;
  }


  /** Emits an instruction (its JavaScript form: codegen.ts); returns its pc. */
  protected emit(ins: InsJs): number {
    const pc = this.code.length;
    this.code.push(ins);
    this.loc.push(this.cur);
    return pc;
  }

  // ------------------------------------------------------------------ JavaScript forms (codegen.ts)

  /**
   * The value function of the JavaScript text js (codegen.ts derive: made from the text on its
   * first call); its form is js.
   */
  protected V(js: string): (fr: CFrame) => Val {
    return lazyFn<Val>(this.g, js) as (fr: CFrame) => Val;
  }
  /** A condition's function from its JavaScript text (V). */
  protected B(js: string): (fr: CFrame) => boolean {
    return lazyFn<boolean>(this.g, js) as (fr: CFrame) => boolean;
  }
  /** An address's function from its JavaScript text (V). */
  protected A(js: string): (fr: CFrame) => number {
    return lazyFn<number>(this.g, js) as (fr: CFrame) => number;
  }
  /** The value of a function whose operands are constants, computed now (fold.ts: as calling it gives). */
  protected constant<T>(f: (fr: CFrame) => T): T {
    return constantValue(this.g, f as (fr: never) => T);
  }
  /** The function of a constant value; its form is the literal. */
  protected K(v: Val): (fr: CFrame) => Val {
    // One function per value in a function's compilation (constants repeat: 0, 1, sizes, ...).
    let f = this.g.consts.get(v) as ((fr: CFrame) => Val) | undefined;
    if (f === undefined) {
      f = (): Val => v;
      (f as Forms).js = lit(v);
      this.g.consts.set(v, f);
    }
    return f;
  }
  /** The function of a constant condition; its form is the literal. */
  protected KB(b: boolean): (fr: CFrame) => boolean {
    const f = (): boolean => b;
    (f as Forms).js = String(b);
    return f;
  }
  /**
   * JavaScript for a value function: its recorded form. Every function the compiler makes has one
   * (each construct is described once, by its text); one without is a compiler bug, not a C error.
   */
  protected jsf(f: (fr: CFrame) => unknown): string {
    const js = (f as Forms).js;
    if (js === undefined) throw new Error('kctx internal error: a compiled value without its JavaScript form');
    return js;
  }
  /** JavaScript for an expression's value. */
  protected jsv(e: E): string {
    if (e.cst !== undefined && !e.se && (typeof e.cst === 'bigint' || Number.isFinite(e.cst))) return lit(e.cst);
    return this.jsf(e.rv);
  }
  /** JavaScript for a closure whose value is not used (a statement's expression). */
  protected jsx(f: (fr: CFrame) => unknown): string {
    return (f as Forms).fx ?? this.jsf(f);
  }

  // 64-bit integers as two words. The generated code computes 64-bit operators on the value's
  // words, hi and lo, both int32 (lo's bits as a signed number: V8 keeps int32s as small integers
  // in every tier, where a uint32 above 2^31 is a heap number and a type change that deoptimizes),
  // with no BigInt; a value becomes a Val (joinJs) only where one is needed (a call's argument, a
  // condition, an operator without a word form).

  /** Records the two-word form of a 64-bit integer closure; returns the closure. */
  protected P<F extends object>(f: F, pj: (h: string, l: string) => string): F {
    (f as Forms).p64 = pj;
    return f;
  }
  /** Whether the closure has a two-word form of its own (not a split of its value). */
  protected hasPair(f: object): boolean {
    return (f as Forms).p64 !== undefined;
  }
  /** JavaScript that sets `h`, `l` to the words of the 64-bit integer closure f's value. */
  protected pairJs(f: (fr: CFrame) => unknown, h: string, l: string): string {
    const pj = (f as Forms).p64;
    if (pj) return pj(h, l);
    const js = this.jsf(f);
    const k = /^\(?(-?\d+)n?\)?$/.exec(js);
    if (k) {
      const v = BigInt.asUintN(64, BigInt(k[1]!));
      return `(${h} = ${Number(BigInt.asIntN(32, v >> 32n))}, ${l} = ${Number(BigInt.asIntN(32, v))})`;
    }
    const x = this.g.tmp();
    return `(${x} = ${js}, ${this.splitJs(x, h, l)})`;
  }
  /** JavaScript that sets `h`, `l` to the words of the 64-bit Val in the variable x. */
  protected splitJs(x: string, h: string, l: string): string {
    return `(typeof ${x} === 'number' ? (${h} = Math.floor(${x} / 4294967296) | 0, ${l} = ${x} | 0) : (${h} = ${this.g.ref(hiOfBig)}(${x}), ${l} = ${this.g.ref(loOfBig)}(${x})))`;
  }
  /** JavaScript for the value (a canonical Val) of the words h, l. */
  protected joinJs(h: string, l: string, signed: boolean): string {
    return signed
      ? `(${h} > -2097152 && ${h} < 2097152 ? ${h} * 4294967296 + (${l} >>> 0) : ${this.g.ref(join64)}(${h}, ${l}, true))`
      : `(${h} >= 0 && ${h} < 2097152 ? ${h} * 4294967296 + (${l} >>> 0) : ${this.g.ref(join64)}(${h}, ${l}, false))`;
  }
  /** Records f's two-word form `pj` and its value's JavaScript (the words joined); returns f. */
  protected pairE(signed: boolean, pj: (h: string, l: string) => string): (fr: CFrame) => Val {
    const h = this.g.tmp(), l = this.g.tmp();
    return this.P(this.V(`(${pj(h, l)}, ${this.joinJs(h, l, signed)})`), pj);
  }
  /** The two-word load of a 64-bit integer at `a` (the checks of ldJs). */
  protected ldPairJs(checked: boolean, a: string, aligned: boolean): (h: string, l: string) => string {
    const g = this.g;
    const MEM = g.ref(this.mem);
    // A local's words: its slots (registers.ts).
    const so = checked ? undefined : slotOfAddr(a);
    if (so !== undefined && aligned && LITTLE_ENDIAN) return (h, l) => `(${h} = ${slotRead('I32', so + 4)}, ${l} = ${slotRead('I32', so)})`;
    return (h, l) => {
      const x = g.tmp();
      const chk = checked ? `(${x} < ${NULL_GUARD} || ${x} + 8 > ${MEM}.top) && ${g.ref(fault)}(${x}, 8, false), ` : '';
      const ld = aligned && LITTLE_ENDIAN
        ? `${h} = I32[(${x} >>> 2) + 1], ${l} = I32[${x} >>> 2]`
        : `${h} = D.getInt32(${x} + 4, true), ${l} = D.getInt32(${x}, true)`;
      return `(${x} = ${a}, ${chk}${ld})`;
    };
  }
  /** JavaScript that stores the words h, l as a 64-bit integer at `a` (a name or (fp + N); the checks of stJs). */
  protected stPairJs(checked: boolean, a: string, h: string, l: string, aligned = false): string {
    const g = this.g;
    const MEM = g.ref(this.mem);
    const so = checked ? undefined : slotOfAddr(a);
    if (so !== undefined && aligned && LITTLE_ENDIAN) {
      return `(${slotWrite('I32', so, l)}, ${slotWrite('I32', so + 4, h)}, ${watchJs(`(WATCH && ${g.ref(watchHit)}(m, ${coldAddr(so)}, 8))`)})`;
    }
    const chk = checked ? `((${a} < ${NULL_GUARD} || ${a} + 8 > ${MEM}.top) && ${g.ref(fault)}(${a}, 8, true)), ` : '';
    const st = aligned && LITTLE_ENDIAN
      ? `I32[${a} >>> 2] = ${l}, I32[(${a} >>> 2) + 1] = ${h}`
      : `D.setInt32(${a}, ${l}, true), D.setInt32(${a} + 4, ${h}, true)`;
    return `(${chk}${st}, ${watchJs(`(WATCH && ${g.ref(watchHit)}(m, ${a}, 8))`)})`;
  }
  /** A load of type t at `a`: its JavaScript (ldJs), and its two-word form when t is 64-bit. */
  protected ldE(t: CType, checked: boolean, a: string, aligned = false): (fr: CFrame) => Val {
    const f = this.V(this.ldJs(t, checked, a, aligned));
    if (t.k === 'int' && t.size === 8 && !t.bool) this.P(f, this.ldPairJs(checked, a, aligned));
    return f;
  }
  /** JavaScript for a load of scalar type t from the address `a` (same semantics as loadFrom). */
  protected ldJs(t: CType, checked: boolean, a: string, aligned = false): string {
    const g = this.g;
    const MEM = g.ref(this.mem);
    const so = checked ? undefined : slotOfAddr(a);
    if (t.k === 'ptr') return so !== undefined ? slotRead('P', so, MEM) : `${MEM}.readPtr(${a})`;
    if (t.k !== 'int') return a;
    const size = t.bool ? 1 : t.size;
    if (so !== undefined) {
      // A local: its slot (registers.ts).
      if (t.bool) return slotRead('B', so);
      if (size === 1) return slotRead(t.signed ? 'I8' : 'U8', so);
      if (size === 2 && so % 2 === 0) return slotRead(t.signed ? 'I16' : 'U16', so);
      if (size === 4 && aligned && LITTLE_ENDIAN) return slotRead(t.signed ? 'I32' : 'U32', so);
      if (size === 8 && aligned && LITTLE_ENDIAN) {
        const h = g.tmp();
        const cold = syncOut(so, `${g.ref(t.signed ? rd64s : rd64u)}(D, ${coldAddr(so)})`);
        return t.signed
          ? `((${h} = ${slotRead('I32', so + 4)}) > -2097152 && ${h} < 2097152 ? ${h} * 4294967296 + ${slotRead('U32', so)} : ${cold})`
          : `((${h} = ${slotRead('U32', so + 4)}) < 2097152 ? ${h} * 4294967296 + ${slotRead('U32', so)} : ${cold})`;
      }
    }
    let x = a;
    let pre = '';
    if (checked || size === 8 || !/^[\w$]+$|^\(fp \+ \d+\)$/.test(a)) {
      x = g.tmp();
      pre = checked ? `(${x} = ${a}) < ${NULL_GUARD} || ${x} + ${size} > ${MEM}.top ? ${g.ref(fault)}(${x}, ${size}, false) : ` : `(${x} = ${a}), `;
    }
    let load: string;
    if (t.bool) load = `(U8[${x}] ? 1 : 0)`;
    else if (size === 1) load = t.signed ? `I8[${x}]` : `U8[${x}]`;
    else if (size === 2) load = t.signed ? `D.getInt16(${x}, true)` : `D.getUint16(${x}, true)`;
    else if (size === 4) load = aligned && LITTLE_ENDIAN ? (t.signed ? `I32[${x} >>> 2]` : `U32[${x} >>> 2]`) : (t.signed ? `D.getInt32(${x}, true)` : `D.getUint32(${x}, true)`);
    else if (aligned && LITTLE_ENDIAN) {
      // A 4-byte-aligned local: word loads (x >>> 2 is the low word).
      const h = g.tmp();
      load = t.signed
        ? `((${h} = I32[(${x} >>> 2) + 1]) > -2097152 && ${h} < 2097152 ? ${h} * 4294967296 + U32[${x} >>> 2] : ${g.ref(rd64s)}(D, ${x}))`
        : `((${h} = U32[(${x} >>> 2) + 1]) < 2097152 ? ${h} * 4294967296 + U32[${x} >>> 2] : ${g.ref(rd64u)}(D, ${x}))`;
    } else {
      const h = g.tmp();
      load = t.signed
        ? `((${h} = D.getInt32(${x} + 4, true)) > -2097152 && ${h} < 2097152 ? ${h} * 4294967296 + D.getUint32(${x}, true) : ${g.ref(rd64s)}(D, ${x}))`
        : `((${h} = D.getUint32(${x} + 4, true)) < 2097152 ? ${h} * 4294967296 + D.getUint32(${x}, true) : ${g.ref(rd64u)}(D, ${x}))`;
    }
    return pre ? `(${pre}${load})` : load;
  }
  /** JavaScript that stores `v` (a value already of type t) at `a` (same semantics as storeTo). */
  protected stJs(t: CType, checked: boolean, a: string, v: string, aligned = false): string {
    const g = this.g;
    const MEM = g.ref(this.mem);
    const size = sizeOf(t);
    const so = checked ? undefined : slotOfAddr(a);
    const watch = watchJs(`(WATCH && ${g.ref(watchHit)}(m, ${so !== undefined ? coldAddr(so) : a}, ${size}))`);
    // writePtr and copy report to an armed watch themselves (memory.ts watch).
    if (t.k === 'ptr') return so !== undefined ? slotWrite('P', so, v, MEM) : `${MEM}.writePtr(${a}, ${v})`;
    if (t.k !== 'int') return `${MEM}.copy(${a}, ${v}, ${size})`;
    if (so !== undefined) {
      // A local: its slot (registers.ts).
      let st: string | undefined;
      if (t.size === 1) st = slotWrite('U8', so, v);
      else if (t.size === 2 && so % 2 === 0) st = slotWrite('U16', so, `${v} & 0xffff`);
      else if (t.size === 4 && aligned && LITTLE_ENDIAN) st = slotWrite('U32', so, v);
      else if (t.size === 8 && aligned && LITTLE_ENDIAN) {
        const h = g.tmp();
        st = `(typeof ${v} === 'number' ? (${h} = Math.floor(${v} / 4294967296), ${slotWrite('U32', so, `${v} - ${h} * 4294967296`)}, ${slotWrite('I32', so + 4, h)}) : ${syncIn(so, `${g.ref(wr64big)}(D, ${coldAddr(so)}, ${v})`)})`;
      }
      if (st !== undefined) return `(${st}, ${watch})`;
    }
    const chk = checked ? `((${a} < ${NULL_GUARD} || ${a} + ${size} > ${MEM}.top) && ${g.ref(fault)}(${a}, ${size}, true)), ` : '';
    let st: string;
    switch (t.size) {
      case 1: st = `U8[${a}] = ${v}`; break;
      case 2: st = `D.setUint16(${a}, ${v} & 0xffff, true)`; break;
      case 4: st = aligned && LITTLE_ENDIAN ? `U32[${a} >>> 2] = ${v}` : `D.setUint32(${a}, ${v} >>> 0, true)`; break;
      default: {
        const h = g.tmp();
        st = aligned && LITTLE_ENDIAN
          ? `(typeof ${v} === 'number' ? (${h} = Math.floor(${v} / 4294967296), U32[${a} >>> 2] = ${v} - ${h} * 4294967296, I32[(${a} >>> 2) + 1] = ${h}) : ${g.ref(wr64big)}(D, ${a}, ${v}))`
          : `(typeof ${v} === 'number' ? (${h} = Math.floor(${v} / 4294967296), D.setUint32(${a}, (${v} - ${h} * 4294967296) >>> 0, true), D.setInt32(${a} + 4, ${h} | 0, true)) : ${g.ref(wr64big)}(D, ${a}, ${v}))`;
      }
    }
    return `(${chk}${st}, ${watch})`;
  }

  protected stmtStart(n: SyntaxNode): void {
    this.cur = this.posOf(n);
  }

  protected markStmt(start: number, n: SyntaxNode): void {
    if (this.code.length > start && this.pos[start] === undefined) this.pos[start] = this.posOf(n);
  }

  protected label(): Label {
    return { pc: -1 };
  }

  protected place(l: Label): void {
    l.pc = this.code.length;
  }

  protected jump(l: Label): void {
    this.emit({ k: 'jmp', to: l });
  }


  // ------------------------------------------------------------------ memory access

  protected fault(a: number, n: number, w: boolean): never {
    throw new MemoryFault(a, n, w);
  }

  /** A loader for scalar type t at an address. */
  loadFrom(t: CType, checked: boolean): (a: number) => Val {
    const mem = this.mem;
    const NG = NULL_GUARD;
    if (t.k === 'ptr') return (a) => mem.readPtr(a);
    if (t.k !== 'int') return (a) => a;
    if (t.bool) {
      return checked ? (a) => {
        if (a < NG || a + 1 > mem.top) this.fault(a, 1, false);
        return mem.u8[a] ? 1 : 0;
      } : (a) => (mem.u8[a] ? 1 : 0);
    }
    switch (t.size) {
      case 1:
        if (t.signed) return checked ? (a) => { if (a < NG || a + 1 > mem.top) this.fault(a, 1, false); return mem.i8[a]!; } : (a) => mem.i8[a]!;
        return checked ? (a) => { if (a < NG || a + 1 > mem.top) this.fault(a, 1, false); return mem.u8[a]!; } : (a) => mem.u8[a]!;
      case 2:
        if (t.signed) return checked ? (a) => { if (a < NG || a + 2 > mem.top) this.fault(a, 2, false); return mem.dv.getInt16(a, true); } : (a) => mem.dv.getInt16(a, true);
        return checked ? (a) => { if (a < NG || a + 2 > mem.top) this.fault(a, 2, false); return mem.dv.getUint16(a, true); } : (a) => mem.dv.getUint16(a, true);
      case 4:
        if (t.signed) return checked ? (a) => { if (a < NG || a + 4 > mem.top) this.fault(a, 4, false); return mem.dv.getInt32(a, true); } : (a) => mem.dv.getInt32(a, true);
        return checked ? (a) => { if (a < NG || a + 4 > mem.top) this.fault(a, 4, false); return mem.dv.getUint32(a, true); } : (a) => mem.dv.getUint32(a, true);
      default: {
        const rd = t.signed ? (a: number): Val => {
          const dv = mem.dv;
          const lo = dv.getUint32(a, true);
          const hi = dv.getInt32(a + 4, true);
          if (hi > -2097152 && hi < 2097152) return hi * 4294967296 + lo;
          return join64(hi, lo, true); // canonical: a number down to -(2^53 - 1)
        } : (a: number): Val => {
          const dv = mem.dv;
          const lo = dv.getUint32(a, true);
          const hi = dv.getUint32(a + 4, true);
          if (hi < 2097152) return hi * 4294967296 + lo;
          return (BigInt(hi) << 32n) + BigInt(lo);
        };
        return checked ? (a) => { if (a < NG || a + 8 > mem.top) this.fault(a, 8, false); return rd(a); } : rd;
      }
    }
  }

  /** A storer for scalar type t (values already converted to t). */
  storeTo(t: CType, checked: boolean): (a: number, v: Val) => void {
    const mem = this.mem;
    const m = this.m;
    const NG = NULL_GUARD;
    const size = sizeOf(t);
    const watch = (a: number) => {
      if (m.watchpoints.length !== 0) watchHit(m, a, size);
    };
    const chk = checked ? (a: number) => { if (a < NG || a + size > mem.top) this.fault(a, size, true); } : null;
    if (t.k === 'ptr') return (a, v) => { mem.writePtr(a, v as number); };
    if (t.k !== 'int') return (a, v) => { mem.copy(a, v as number, size); };
    switch (t.size) {
      case 1: return chk ? (a, v) => { chk(a); mem.u8[a] = v as number; watch(a); } : (a, v) => { mem.u8[a] = v as number; watch(a); };
      case 2: return chk ? (a, v) => { chk(a); mem.dv.setUint16(a, (v as number) & 0xffff, true); watch(a); } : (a, v) => { mem.dv.setUint16(a, (v as number) & 0xffff, true); watch(a); };
      case 4: return chk ? (a, v) => { chk(a); mem.dv.setUint32(a, (v as number) >>> 0, true); watch(a); } : (a, v) => { mem.dv.setUint32(a, (v as number) >>> 0, true); watch(a); };
      default: {
        const wr = (a: number, v: Val) => {
          const dv = mem.dv;
          if (typeof v === 'number') {
            const hi = Math.floor(v / 4294967296);
            dv.setUint32(a, (v - hi * 4294967296) >>> 0, true);
            dv.setInt32(a + 4, hi | 0, true);
          } else dv.setBigUint64(a, BigInt.asUintN(64, v), true);
          watch(a);
        };
        return chk ? (a, v) => { chk(a); wr(a, v); } : wr;
      }
    }
  }


  /** Nesting of the statement or expression being compiled (bounded: MAX_NESTING). */
  protected depth = 0;

  // ------------------------------------------------------------------ defined by later phases

  abstract expr(n: SyntaxNode): E;
  protected abstract rvalue(e: E): E;
  protected abstract convertE(e0: E, to: CType, n: SyntaxNode, explicit?: boolean): E;
  protected abstract typedefInParens(n: SyntaxNode | null): CType | undefined;
  protected abstract castsInParens(n: SyntaxNode): CType[] | undefined;
  protected abstract operandOf(n: SyntaxNode): SyntaxNode;
  protected abstract deref(p: E, t: CType, n: SyntaxNode): E;
  protected abstract call(n: SyntaxNode): E;
  protected abstract initCount(init: SyntaxNode, t: CType & { k: 'array' }): number;
  protected abstract initLocal(off: number, t: CType, init: SyntaxNode): void;
  protected abstract staticInit(addr: number, t: CType, init: SyntaxNode): void;
}
