/**
 * The compiler: tree-sitter C syntax to closures.
 *
 * Each C function becomes a flat program of instructions (closures `(frame, thread) => next
 * pc`). Expressions without calls compile to one closure each; calls are lowered out of
 * expressions (also out of `&&`, `||`, `?:`, conditions and loop headers): their arguments
 * with side effects are evaluated into frame temporaries by earlier instructions, so the call
 * instruction itself can be restarted when a debugger stop unwinds it. Locals and parameters
 * live in the thread's simulated stack at fixed offsets from the frame pointer. Variadic
 * functions keep their variable arguments in their frame too, read through `va_list` (varargs.ts).
 */
import type { Node as SyntaxNode } from 'web-tree-sitter';
import { KernelPanic, PUSHED, StopSignal, type Machine, type Frame } from '../machine/machine';
import { MemoryFault, NULL_GUARD, LITTLE_ENDIAN, type Memory } from '../machine/memory';
import { Gen, lit, buildStep, codegenEnabled, type InsJs, type StepFn } from './codegen';
import type { KThread } from '../machine/thread';
import type { TextSymbol, NativeImpl } from '../machine/symbols';
import { ScenarioError } from '../scenario';
import {
  type CType, type IntType, type StructType, type FuncType, type Val, type StructField,
  VOID, CHAR, SCHAR, UCHAR, SHORT, USHORT, INT, UINT, LONG, ULONG, LLONG, ULLONG, BOOL, VOIDP, VA_LIST,
  ptr, sizeOf, alignOf, promote, arith, typeName, withName, intConverter, convInt, ptrToInt, intToPtr, Op64, divideError, toWord,
} from './types';
import { charValue, type PreprocessResult, type Origin } from './preprocess';
import { vaCheck, type VaArgs } from './varargs';

export interface Pos {
  file: string;
  line: number;
  col: number;
}

export type Ins = (fr: CFrame, t: KThread) => number;

/**
 * Deepest nesting of statements and expressions compiled (C requires 127 block levels and 63
 * parenthesized ones; GCC takes more, and so does this, within the JavaScript stack).
 */
const MAX_NESTING = 1000;
/** Returned by an instruction that pushed a frame (it set fr.pc) or returned. */
export const YIELD = -1;

export interface LocalInfo {
  name: string;
  type: CType;
  off: number;
  /** pc range where the name is in scope. */
  from: number;
  to: number;
  /** Static locals live in data. */
  addr?: number;
}

export interface CFunc {
  name: string;
  type: FuncType;
  sym: TextSymbol;
  code: Ins[];
  /** Statement start positions by pc (undefined: not a statement start). */
  pos: Array<Pos | undefined>;
  /** Source position of every instruction. */
  loc: Pos[];
  frameSize: number;
  ntemps: number;
  params: LocalInfo[];
  locals: LocalInfo[];
  /** Writes the incoming argument words into the new frame. */
  bind: (fp: number, args: Val[]) => void;
  file: string;
  line: number;
  col: number;
  /** The file scope the function was compiled in (for the debugger's expressions). */
  scope: Scope;
  /** The generated step function (codegen.ts); absent: the closure loop runs `code`. */
  run?: StepFn;
  /**
   * Variadic (`...`): the number of named parameters; its frames have a variable-argument area
   * at fp + frameSize (varargs.ts). -1: not variadic.
   */
  va: number;
}

export interface CFrame extends Frame {
  kind: 'c';
  pc: number;
  fn: CFunc;
  fp: number;
  sp0: number;
  tmp: Val[];
  args: number[];
  /** Temp slot awaiting a C callee's return value, or -1. */
  wait: number;
  /** Entered through a traced C-to-C call (emit the return event). */
  traced: boolean;
  /**
   * The current statement's cycle was given back at a stop inside it: the next step counts it
   * first, and makes no statement check if it starts at the statement's first instruction.
   */
  owed: boolean;
}

/** A compiled expression. */
interface E {
  t: CType;
  rv: (fr: CFrame) => Val;
  /** Lvalue address. */
  addr?: (fr: CFrame) => number;
  /** Compile-time constant value. */
  cst?: Val;
  /** Boolean form (comparisons). */
  cond?: (fr: CFrame) => boolean;
  /** Has side effects (assignment, ++, calls). */
  se?: boolean;
  /** Local variable offset (fast paths). */
  local?: number;
  /** A function designator: its name. */
  fname?: string;
  /** The lvalue's address is a load-time constant (globals, their members and elements). */
  ca?: boolean;
}

type Ent =
  | { k: 'var'; name: string; type: CType; global: boolean; addr: number; off: number; extern?: boolean }
  | { k: 'typedef'; type: CType }
  | { k: 'enum'; value: number }
  | { k: 'func'; name: string; type: FuncType };

class Scope {
  names = new Map<string, Ent>();
  tags = new Map<string, StructType | { k: 'enum' }>();
  constructor(readonly parent?: Scope) {}
  find(n: string): Ent | undefined {
    for (let s: Scope | undefined = this; s; s = s.parent) {
      const e = s.names.get(n);
      if (e) return e;
    }
    return undefined;
  }
  findTag(n: string): StructType | { k: 'enum' } | undefined {
    for (let s: Scope | undefined = this; s; s = s.parent) {
      const e = s.tags.get(n);
      if (e) return e;
    }
    return undefined;
  }
}

interface Label {
  pc: number;
}

/** Current thread of the running C step (for watchpoint stops). */
export const RT = { thread: null as KThread | null, dataStop: false };

let structIds = 0;

export interface GlobalInfo {
  name: string;
  type: CType;
  addr: number;
  file: string;
  isStatic: boolean;
}

export interface TU {
  pp: PreprocessResult;
  root: SyntaxNode;
  /** Index of the source file in pp.files that this TU compiles. */
  main: number;
}

export class Compiler {
  readonly mem: Memory;
  readonly globalScope = new Scope();
  readonly funcs = new Map<string, CFunc>();
  readonly globals: GlobalInfo[] = [];
  readonly unresolved = new Set<string>();
  readonly typeNames = new Map<string, CType>();
  private strings = new Map<string, number>();
  private linkVars = new Map<string, Ent & { k: 'var' }>();
  tu!: TU;
  readonly tus: TU[] = [];
  private fileScopes = new Map<TU, Scope>();
  fileScopeOf(tu: TU): Scope {
    return this.fileScopes.get(tu) ?? this.globalScope;
  }
  private scope!: Scope;
  // per-function state
  private code: Ins[] = [];
  private pos: Array<Pos | undefined> = [];
  private loc: Pos[] = [];
  /** JavaScript forms of the instructions (codegen.ts), parallel to `code`. */
  private insJs: Array<InsJs | undefined> = [];
  /** The current function's generation context. */
  private g = new Gen();
  private cur: Pos = { file: '', line: 0, col: 0 };
  private frameSize = 0;
  private ntemps = 0;
  private fnName = '';
  private fnType: FuncType | null = null;
  private labels = new Map<string, Label>();
  private gotos: Array<{ name: string; node: SyntaxNode }> = [];
  private loops: Array<{ brk: Label; cont: Label | null }> = [];
  private switches: Array<{ table: Map<Val, number>; dflt: Label | null; conv: (v: Val) => Val; seen: Set<Val> }> = [];
  private locals: LocalInfo[] = [];
  private pendingInits: Array<() => void> = [];

  /**
   * Kernel functions defined on first reference (abi/kapi.ts KAPI_VARARGS on illumos): adding
   * them to the kernel moves no address of a driver that does not use them.
   */
  lazyNatives: Map<string, NativeImpl> | null = null;
  /** Compiling a debugger expression (evaluateNode): nothing may be linked or mapped. */
  private evaluating = false;

  constructor(
    readonly m: Machine,
    readonly module: string,
    readonly definedFns: Map<string, TextSymbol>,
  ) {
    this.mem = m.mem;
  }

  // ------------------------------------------------------------------ positions and errors

  origin(n: SyntaxNode): Origin {
    const pp = this.tu.pp;
    const key = n.startPosition.row * 1048576 + n.startPosition.column;
    const o = pp.posMap.get(key);
    if (o) return o;
    return pp.rowOrigin[n.startPosition.row] ?? { file: this.tu.main, line: 1, col: 1 };
  }

  posOf(n: SyntaxNode): Pos {
    const o = this.origin(n);
    const f = this.tu.pp.files[o.file]!;
    return { file: f.path, line: o.line, col: o.col };
  }

  fail(n: SyntaxNode, msg: string): never {
    const p = this.posOf(n);
    throw new ScenarioError(p.file, p.line, p.col, msg);
  }

  private text(n: SyntaxNode): string {
    return n.text.length > 60 ? n.text.slice(0, 57) + '...' : n.text;
  }

  // ------------------------------------------------------------------ types

  private baseType(n: SyntaxNode, scope: Scope): CType {
    switch (n.type) {
      case 'primitive_type':
      case 'type_identifier': {
        const name = n.text;
        const e = scope.find(name);
        if (e && e.k === 'typedef') return e.type;
        const p = primitive(name);
        if (p) return p;
        if (name === 'float' || name === 'double') this.fail(n, `floating-point type '${name}' is not supported: kernel code does not use the FPU`);
        return this.fail(n, `unknown type name '${name}'`);
      }
      case 'sized_type_specifier': {
        let longs = 0, shorts = 0, uns = false;
        let base = '';
        for (const c of n.children) {
          if (!c) continue;
          if (c.type === 'long') longs++;
          else if (c.type === 'short') shorts++;
          else if (c.type === 'unsigned') uns = true;
          else if (c.type === 'signed') uns = false;
          else if (c.type === 'primitive_type') base = c.text;
          else if (c.text === 'long') longs++;
          else if (c.text === 'short') shorts++;
          else if (c.text === 'unsigned') uns = true;
        }
        if (base === 'double' || base === 'float') this.fail(n, 'floating-point types are not supported: kernel code does not use the FPU');
        if (base === 'char') return uns ? UCHAR : n.text.includes('signed') ? SCHAR : CHAR;
        if (shorts) return uns ? USHORT : SHORT;
        if (longs >= 2) return uns ? ULLONG : LLONG;
        if (longs === 1) return uns ? ULONG : LONG;
        return uns ? UINT : INT;
      }
      case 'struct_specifier':
      case 'union_specifier':
        return this.structType(n, scope);
      case 'enum_specifier':
        return this.enumType(n, scope);
      case 'macro_type_specifier':
        return this.fail(n, `unknown type or macro '${n.childForFieldName('name')?.text ?? n.text}'`);
      default:
        return this.fail(n, `unsupported type specifier '${this.text(n)}'`);
    }
  }

  private structType(n: SyntaxNode, scope: Scope): StructType {
    const union = n.type === 'union_specifier';
    const nameNode = n.childForFieldName('name');
    const body = n.childForFieldName('body');
    const tag = nameNode?.text ?? `<anonymous@${this.posOf(n).line}>`;
    let st: StructType | undefined;
    if (nameNode) {
      const found = body ? scope.tags.get(tag) : scope.findTag(tag);
      if (found && found.k === 'struct') {
        if (found.union !== union) this.fail(nameNode, `'${tag}' defined as wrong kind of tag`);
        st = found;
      }
    }
    if (!st) {
      st = { k: 'struct', union, tag, fields: [], size: 0, align: 1, complete: false, id: structIds++ };
      if (nameNode) scope.tags.set(tag, st);
    }
    if (body) {
      if (st.complete) this.fail(nameNode ?? n, `redefinition of '${union ? 'union' : 'struct'} ${tag}'`);
      this.layout(st, body, scope);
      this.typeNames.set(`${union ? 'union' : 'struct'} ${tag}`, st);
    }
    return st;
  }

  private layout(st: StructType, body: SyntaxNode, scope: Scope): void {
    const fields: StructField[] = [];
    let off = 0;
    let size = 0;
    let align = 1;
    let bitOff = -1; // current bitfield unit position in bits from `bitUnit`
    let bitUnit = 0;
    let bitUnitSize = 0;
    const place = (name: string, t: CType, at: SyntaxNode) => {
      if (t.k === 'func') this.fail(at, `field '${name}' declared as a function`);
      if (t.k === 'void') this.fail(at, `field '${name}' has incomplete type 'void'`);
      if (t.k === 'struct' && !t.complete) this.fail(at, `field '${name}' has incomplete type '${typeName(t)}'`);
      const a = alignOf(t);
      const s = sizeOf(t);
      if (t.k === 'array' && t.n === null) {
        // Flexible array member.
      }
      align = Math.max(align, a);
      bitOff = -1;
      if (st.union) {
        fields.push({ name, type: t, offset: 0 });
        size = Math.max(size, s);
      } else {
        off = Math.ceil(off / a) * a;
        fields.push({ name, type: t, offset: off });
        off += s;
        size = off;
      }
    };
    for (const fd of body.namedChildren) {
      if (!fd) continue;
      if (fd.type === 'comment') continue;
      if (fd.type !== 'field_declaration') this.fail(fd, `unsupported member declaration '${this.text(fd)}'`);
      const tn = fd.childForFieldName('type');
      if (!tn) this.fail(fd, 'member without a type');
      const base = this.baseType(tn, scope);
      const decls = fd.childrenForFieldName('declarator').filter((x): x is SyntaxNode => !!x);
      const bf = fd.namedChildren.find((c) => c?.type === 'bitfield_clause');
      if (!decls.length && !bf) {
        // Anonymous struct/union member (C11): its fields join this one.
        if (base.k !== 'struct') continue;
        const a = base.align;
        const at = st.union ? 0 : Math.ceil(off / a) * a;
        for (const f of base.fields) fields.push({ ...f, offset: f.offset + at });
        align = Math.max(align, a);
        if (st.union) size = Math.max(size, base.size);
        else {
          off = at + base.size;
          size = off;
        }
        bitOff = -1;
        continue;
      }
      if (bf) {
        // Bit-field: packed into units of the declared type, as the SysV ABI does.
        if (base.k !== 'int') this.fail(bf, 'bit-field has non-integral type');
        const wNode = bf.namedChildren[0]!;
        const width = Number(this.constInt(wNode, scope));
        const d = decls[0];
        const name = d ? this.declarator(d, base, scope).name : '';
        const usz = base.size * 8;
        if (width < 0 || width > usz) this.fail(bf, `width of bit-field '${name}' (${width} bits) exceeds its type (${usz} bits)`);
        if (st.union) {
          fields.push({ name, type: base, offset: 0, bits: { width, shift: 0 } });
          size = Math.max(size, base.size);
          align = Math.max(align, base.size);
          continue;
        }
        if (bitOff < 0 || bitUnitSize !== base.size || bitOff + width > usz || width === 0) {
          if (width === 0) {
            bitOff = -1;
            off = Math.ceil(off / base.size) * base.size;
            continue;
          }
          // Start a new unit unless the bits fit in the current bytes.
          const absBit = bitOff >= 0 ? bitUnit * 8 + bitOff : off * 8;
          const unitStart = Math.floor(absBit / usz) * (usz / 8);
          if (bitOff >= 0 && Math.floor(absBit / usz) === Math.floor((absBit + width - 1) / usz)) {
            bitUnit = unitStart;
            bitOff = absBit - unitStart * 8;
          } else {
            bitUnit = Math.ceil(Math.max(off, bitOff >= 0 ? Math.ceil(absBit / 8) : off) / base.size) * base.size;
            bitOff = 0;
          }
          bitUnitSize = base.size;
        }
        if (name) fields.push({ name, type: base, offset: bitUnit, bits: { width, shift: bitOff } });
        bitOff += width;
        off = Math.max(off, bitUnit + Math.ceil(bitOff / 8));
        size = off;
        align = Math.max(align, base.size);
        continue;
      }
      for (const d of decls) {
        const r = this.declarator(d, base, scope);
        place(r.name, r.type, d);
      }
    }
    st.fields = fields;
    st.align = align;
    st.size = Math.ceil(size / align) * align;
    st.complete = true;
  }

  private enumType(n: SyntaxNode, scope: Scope): CType {
    const body = n.childForFieldName('body');
    const name = n.childForFieldName('name');
    if (name) scope.tags.set(name.text, { k: 'enum' });
    if (body) {
      let next = 0;
      for (const en of body.namedChildren) {
        if (!en || en.type !== 'enumerator') continue;
        const v = en.childForFieldName('value');
        if (v) next = Number(this.constInt(v, scope));
        scope.names.set(en.childForFieldName('name')!.text, { k: 'enum', value: next });
        next++;
      }
    }
    return name ? withName(INT, `enum ${name.text}`) : INT;
  }

  /** Applies a declarator to a base type; returns the declared name and type. */
  declarator(n: SyntaxNode | null, base: CType, scope: Scope): { name: string; type: CType; node: SyntaxNode | null; params?: SyntaxNode } {
    if (!n) return { name: '', type: base, node: null };
    switch (n.type) {
      case 'identifier':
      case 'field_identifier':
      case 'type_identifier':
      case 'primitive_type':
        return { name: n.text, type: base, node: n };
      case 'pointer_declarator':
      case 'abstract_pointer_declarator':
        return this.declarator(n.childForFieldName('declarator'), ptr(base), scope);
      case 'array_declarator':
      case 'abstract_array_declarator': {
        const sz = n.childForFieldName('size');
        let len: number | null = null;
        if (sz) {
          const e = this.tryConst(sz, scope);
          if (e === undefined) this.fail(sz, `variable-length array '${this.text(n)}' is not supported (its size is not a constant)`);
          len = Number(e);
          if (len < 0) this.fail(sz, `size of array is negative`);
        }
        if (base.k === 'func') this.fail(n, 'declaration of an array of functions');
        return this.declarator(n.childForFieldName('declarator'), { k: 'array', of: base, n: len }, scope);
      }
      case 'function_declarator':
      case 'abstract_function_declarator': {
        const pl = n.childForFieldName('parameters')!;
        const ft = this.funcType(pl, base, scope);
        const r = this.declarator(n.childForFieldName('declarator'), ft, scope);
        return { ...r, params: r.params ?? pl };
      }
      case 'parenthesized_declarator':
      case 'abstract_parenthesized_declarator': {
        const inner = n.namedChildren.find((c) => c && c.type !== 'comment' && !c.type.startsWith('ms_') && c.type !== 'type_qualifier');
        return this.declarator(inner ?? null, base, scope);
      }
      case 'attributed_declarator':
        return this.declarator(n.namedChildren[0] ?? null, base, scope);
      case 'init_declarator':
        return this.declarator(n.childForFieldName('declarator'), base, scope);
      default:
        return this.fail(n, `unsupported declarator '${this.text(n)}'`);
    }
  }

  private funcType(pl: SyntaxNode, ret: CType, scope: Scope): FuncType {
    const params: CType[] = [];
    const names: string[] = [];
    let variadic = false;
    let sawAny = false;
    for (const p of pl.namedChildren) {
      if (!p || p.type === 'comment') continue;
      sawAny = true;
      if (p.type === 'variadic_parameter') {
        variadic = true;
        continue;
      }
      if (p.type !== 'parameter_declaration') this.fail(p, `K&R-style parameter lists are not supported ('${this.text(p)}')`);
      const tn = p.childForFieldName('type')!;
      const base = this.baseType(tn, scope);
      const r = this.declarator(p.childForFieldName('declarator'), base, scope);
      let t = r.type;
      if (t.k === 'void' && !r.name && pl.namedChildren.filter((x) => x && x.type !== 'comment').length === 1) return { k: 'func', ret, params: [], names: [], variadic: false };
      if (t.k === 'array') t = ptr(t.of);
      else if (t.k === 'func') t = ptr(t);
      params.push(t);
      names.push(r.name);
    }
    if (ret.k === 'array') this.fail(pl, 'function returning an array');
    return { k: 'func', ret, params: sawAny ? params : null, names, variadic };
  }

  typeOfDescriptor(n: SyntaxNode, scope: Scope): CType {
    const base = this.baseType(n.childForFieldName('type')!, scope);
    return this.declarator(n.childForFieldName('declarator'), base, scope).type;
  }

  // ------------------------------------------------------------------ constants

  private tryConst(n: SyntaxNode, scope: Scope): Val | undefined {
    const saved = this.scope;
    const savedCode = this.code.length;
    const savedTemps = this.ntemps;
    this.scope = scope;
    try {
      const e = this.expr(n);
      if (this.code.length !== savedCode) {
        this.code.length = savedCode;
        this.loc.length = savedCode;
        this.insJs.length = savedCode;
        this.pos.length = Math.min(this.pos.length, savedCode);
        this.ntemps = savedTemps;
        return undefined;
      }
      return e.cst;
    } catch (err) {
      if (err instanceof ScenarioError) return undefined;
      throw err;
    } finally {
      this.scope = saved;
    }
  }

  constInt(n: SyntaxNode, scope: Scope): Val {
    const v = this.tryConst(n, scope);
    if (v === undefined) this.fail(n, `expression '${this.text(n)}' is not an integer constant`);
    return v;
  }

  // ------------------------------------------------------------------ top level

  /** Pass 1 over a translation unit: types, globals, prototypes. Function bodies are queued. */
  declareTU(tu: TU, bodies: Array<{ tu: TU; node: SyntaxNode; scope: Scope }>, inits: Array<() => void>): void {
    this.tu = tu;
    this.tus.push(tu);
    const fileScope = new Scope(this.globalScope);
    this.fileScopes.set(tu, fileScope);
    this.scope = fileScope;
    for (const n of tu.root.namedChildren) {
      if (!n) continue;
      this.topLevel(n, fileScope, bodies, inits);
    }
  }

  private topLevel(n: SyntaxNode, scope: Scope, bodies: Array<{ tu: TU; node: SyntaxNode; scope: Scope }>, inits: Array<() => void>): void {
    switch (n.type) {
      case 'comment':
      case ';':
        return;
      case 'function_definition': {
        this.checkUnsupportedDecl(n);
        const tn = n.childForFieldName('type')!;
        const base = this.baseType(tn, scope);
        const r = this.declarator(n.childForFieldName('declarator'), base, scope);
        if (r.type.k !== 'func') this.fail(n, 'function definition without a function declarator');
        if (r.type.params === null) r.type = { ...r.type, params: [] };
        this.declareFunc(r.name, r.type, scope, n);
        bodies.push({ tu: this.tu, node: n, scope });
        return;
      }
      case 'declaration':
        this.declaration(n, scope, true, inits);
        return;
      case 'type_definition':
        this.typedef(n, scope);
        return;
      case 'struct_specifier':
      case 'union_specifier':
      case 'enum_specifier':
        this.baseType(n, scope);
        return;
      case 'expression_statement':
        if (n.text.trim() === ';') return;
        return this.fail(n, `expected a declaration, found '${this.text(n)}'`);
      case 'linkage_specification':
        return this.fail(n, 'extern "C" blocks are C++');
      default:
        if (n.type.startsWith('preproc')) return this.fail(n, 'unexpected preprocessor construct after preprocessing');
        return this.fail(n, `unsupported top-level construct '${this.text(n)}'`);
    }
  }

  private checkUnsupportedDecl(n: SyntaxNode): void {
    for (const c of n.children) {
      if (c && c.type === 'attribute_specifier' && /\bnaked\b/.test(c.text)) this.fail(c, '__attribute__((naked)) functions are not supported');
    }
  }

  private declareFunc(name: string, type: FuncType, scope: Scope, at: SyntaxNode): void {
    const prev = this.globalScope.names.get(name) ?? scope.names.get(name);
    if (prev && prev.k === 'func') {
      if (prev.type.params === null || (type.params !== null && type.params.length > 0)) prev.type = type.params === null ? prev.type : type;
      scope.names.set(name, prev);
      return;
    }
    if (prev && prev.k === 'var') this.fail(at, `'${name}' redeclared as a different kind of symbol`);
    const e: Ent = { k: 'func', name, type };
    this.globalScope.names.set(name, e);
  }

  private typedef(n: SyntaxNode, scope: Scope): void {
    const base = this.baseType(n.childForFieldName('type')!, scope);
    for (const d of n.childrenForFieldName('declarator')) {
      if (!d) continue;
      const r = this.declarator(d, base, scope);
      const t = r.type.k === 'struct' ? r.type : withName(r.type, r.name);
      scope.names.set(r.name, { k: 'typedef', type: t });
      this.typeNames.set(r.name, t);
    }
  }

  private storage(n: SyntaxNode): { isStatic: boolean; isExtern: boolean } {
    let isStatic = false;
    let isExtern = false;
    for (const c of n.children) {
      if (c?.type === 'storage_class_specifier') {
        if (c.text === 'static') isStatic = true;
        if (c.text === 'extern') isExtern = true;
        if (c.text === 'register' || c.text === 'auto' || c.text === 'inline') continue;
        if (c.text === '_Thread_local' || c.text === '__thread') this.fail(c, 'thread-local storage is not supported in kernel code');
      }
    }
    return { isStatic, isExtern };
  }

  /** A declaration at file scope (`global`) or in a block. */
  private declaration(n: SyntaxNode, scope: Scope, global: boolean, inits: Array<() => void>): void {
    const { isStatic, isExtern } = this.storage(n);
    const tn = n.childForFieldName('type');
    if (!tn) this.fail(n, `declaration without a type: '${this.text(n)}'`);
    const base = this.baseType(tn, scope);
    const declStart = this.code.length;
    if (!global) this.stmtStart(n);
    for (const d of n.childrenForFieldName('declarator')) {
      if (!d) continue;
      const r = this.declarator(d, base, scope);
      const init = d.type === 'init_declarator' ? d.childForFieldName('value') : null;
      if (r.type.k === 'func') {
        if (init) this.fail(d, `function '${r.name}' is initialized like a variable`);
        this.declareFunc(r.name, r.type, scope, d);
        continue;
      }
      let type = r.type;
      if (type.k === 'array' && type.n === null && init) {
        type = { ...type, n: this.initCount(init, type) };
      }
      if (global || isStatic || isExtern) {
        this.globalVar(r.name, type, scope, d, { isStatic, isExtern: isExtern && !init, global }, init, inits);
        continue;
      }
      // Automatic variable.
      if (type.k === 'void') this.fail(d, `variable '${r.name}' declared void`);
      if (type.k === 'struct' && !type.complete) this.fail(d, `storage size of '${r.name}' isn't known (incomplete '${typeName(type)}')`);
      if (type.k === 'array' && type.n === null) this.fail(d, `array size missing in '${r.name}'`);
      const off = this.allocLocal(type);
      const ent: Ent = { k: 'var', name: r.name, type, global: false, addr: 0, off };
      const info: LocalInfo = { name: r.name, type, off, from: this.code.length, to: -1 };
      this.locals.push(info);
      scope.names.set(r.name, ent);
      if (init) this.initLocal(off, type, init);
      info.from = this.code.length;
      (info as LocalInfo & { scope?: Scope }).scope = scope;
    }
    if (!global) this.markStmt(declStart, n);
  }

  private initCount(init: SyntaxNode, t: CType & { k: 'array' }): number {
    if (init.type === 'initializer_list') {
      let idx = 0;
      let max = 0;
      for (const c of init.namedChildren) {
        if (!c || c.type === 'comment') continue;
        if (c.type === 'initializer_pair') {
          const des = c.childrenForFieldName('designator')[0];
          if (des?.type === 'subscript_designator') idx = Number(this.constInt(des.namedChildren[0]!, this.scope));
        }
        idx++;
        max = Math.max(max, idx);
      }
      return max;
    }
    const s = this.stringLit(init);
    if (s !== null && t.of.k === 'int' && t.of.size === 1) return s.length + 1;
    return this.fail(init, 'invalid initializer for an array of unknown size');
  }

  private globalVar(name: string, type: CType, scope: Scope, at: SyntaxNode, o: { isStatic: boolean; isExtern: boolean; global: boolean }, init: SyntaxNode | null, inits: Array<() => void>): void {
    if (type.k === 'void') this.fail(at, `variable '${name}' declared void`);
    const linkName = o.isStatic ? null : name;
    if (linkName) {
      const prev = this.linkVars.get(linkName);
      if (prev) {
        if (!o.isExtern && !prev.extern && init) {
          // A second definition with an initializer.
          const had = this.globals.find((g) => g.name === name && !g.isStatic);
          if (had && (had as GlobalInfo & { initialized?: boolean }).initialized) this.fail(at, `redefinition of '${name}'`);
        }
        if (!o.isExtern && prev.extern) {
          prev.extern = false;
          if (type.k === 'array' && prev.type.k === 'array' && prev.type.n === null) prev.type = type;
          this.allocGlobal(prev, name, o.isStatic);
        }
        scope.names.set(name, prev);
        if (init) this.queueInit(prev, init, inits, name);
        return;
      }
    }
    const ent = { k: 'var' as const, name, type, global: true, addr: 0, off: 0, extern: o.isExtern };
    if (linkName) this.linkVars.set(linkName, ent);
    (o.global ? scope : scope).names.set(name, ent);
    if (!o.isExtern) this.allocGlobal(ent, o.global ? name : `${this.fnName}.${name}`, o.isStatic);
    if (init) this.queueInit(ent, init, inits, name);
  }

  private allocGlobal(ent: Ent & { k: 'var' }, name: string, isStatic: boolean): void {
    const t = ent.type;
    if (t.k === 'struct' && !t.complete) return; // completed later or never used
    const size = Math.max(1, sizeOf(t));
    const addr = this.m.mem.map(size, Math.max(8, alignOf(t)));
    ent.addr = addr;
    this.m.dataRoots.push([addr, size]);
    if (!this.m.sym.data.has(name)) this.m.sym.defineData(name, addr, size, this.module);
    this.globals.push({ name, type: t, addr, file: this.posOf(this.tu.root).file, isStatic });
  }

  private queueInit(ent: Ent & { k: 'var' }, init: SyntaxNode, inits: Array<() => void>, name: string): void {
    const tu = this.tu;
    const scope = this.scope;
    const g = this.globals.find((x) => x.addr === ent.addr);
    if (g) (g as GlobalInfo & { initialized?: boolean }).initialized = true;
    inits.push(() => {
      this.tu = tu;
      this.scope = scope;
      if (ent.addr === 0) this.fail(init, `storage size of '${name}' isn't known`);
      this.staticInit(ent.addr, ent.type, init);
    });
  }

  /** Resolves extern variables to kernel data; returns false for unresolved. */
  resolveExterns(): void {
    for (const [name, v] of this.linkVars) {
      if (!v.extern) continue;
      const d = this.m.sym.data.get(name);
      if (d) {
        v.addr = d.addr;
        v.extern = false;
      }
    }
  }

  // ------------------------------------------------------------------ static initializers

  /** Writes a constant initializer into static storage now. */
  private staticInit(addr: number, t: CType, init: SyntaxNode): void {
    const stores: Array<{ off: number; t: CType; e: E; node: SyntaxNode }> = [];
    const before = this.code.length;
    this.collectInit(0, t, init, stores);
    if (this.code.length !== before) {
      this.code.length = before;
      this.loc.length = before;
      this.insJs.length = before;
      this.pos.length = Math.min(this.pos.length, before);
      this.fail(init, 'initializer element is not constant (it calls a function)');
    }
    for (const s of stores) {
      if (s.e.se) this.fail(s.node, 'initializer element is not constant');
      const v = s.e.rv(null as unknown as CFrame);
      if (s.t.k === 'struct' || s.t.k === 'array') this.mem.copy(addr + s.off, v as number, sizeOf(s.t));
      else this.storeTo(s.t, true)(addr + s.off, v);
    }
  }

  /** Flattens an initializer into (offset, type, expression) stores. */
  private collectInit(off: number, t: CType, init: SyntaxNode, out: Array<{ off: number; t: CType; e: E; node: SyntaxNode }>): void {
    if (init.type === 'initializer_list') {
      if (t.k === 'array') {
        let idx = 0;
        for (const c of init.namedChildren) {
          if (!c || c.type === 'comment') continue;
          let valNode = c;
          if (c.type === 'initializer_pair') {
            const des = c.childrenForFieldName('designator').filter((x): x is SyntaxNode => !!x);
            if (des.length !== 1 || des[0]!.type !== 'subscript_designator') this.fail(c, 'nested designators are not supported');
            idx = Number(this.constInt(des[0]!.namedChildren[0]!, this.scope));
            valNode = c.childForFieldName('value')!;
          }
          if (t.n !== null && idx >= t.n) this.fail(c, 'excess elements in array initializer');
          this.collectInit(off + idx * sizeOf(t.of), t.of, valNode, out);
          idx++;
        }
        return;
      }
      if (t.k === 'struct') {
        let fi = 0;
        const named = t.fields;
        for (const c of init.namedChildren) {
          if (!c || c.type === 'comment') continue;
          let valNode = c;
          if (c.type === 'initializer_pair') {
            const des = c.childrenForFieldName('designator').filter((x): x is SyntaxNode => !!x);
            let cur: { off: number; t: CType } = { off, t };
            for (const d of des) {
              if (d.type === 'field_designator') {
                if (cur.t.k !== 'struct') this.fail(d, 'field designator in a non-struct initializer');
                const fname = d.namedChildren[0]!.text;
                const f = cur.t.fields.find((x) => x.name === fname);
                if (!f) this.fail(d, `'${typeName(cur.t)}' has no member named '${fname}'`);
                if (cur.t === t) fi = t.fields.indexOf(f) + 1;
                cur = { off: cur.off + f.offset, t: f.type };
                if (f.bits) this.fail(d, 'initializing bit-fields by designator is not supported');
              } else if (d.type === 'subscript_designator') {
                if (cur.t.k !== 'array') this.fail(d, 'array index in a non-array initializer');
                const i = Number(this.constInt(d.namedChildren[0]!, this.scope));
                cur = { off: cur.off + i * sizeOf(cur.t.of), t: cur.t.of };
              } else this.fail(d, `unsupported designator '${d.text}'`);
            }
            valNode = c.childForFieldName('value')!;
            this.collectInit(cur.off, cur.t, valNode, out);
            continue;
          }
          const f = named[fi++];
          if (!f) this.fail(c, `excess elements in ${t.union ? 'union' : 'struct'} initializer`);
          if (f.bits) this.fail(c, 'initializing bit-fields is not supported');
          this.collectInit(off + f.offset, f.type, valNode, out);
          if (t.union) break;
        }
        return;
      }
      // Scalar in braces.
      const first = init.namedChildren.find((c) => c && c.type !== 'comment');
      if (!first) return;
      this.collectInit(off, t, first, out);
      return;
    }
    if (t.k === 'array') {
      const s = this.stringLit(init);
      if (s !== null && t.of.k === 'int' && t.of.size === 1) {
        const n = t.n ?? s.length + 1;
        for (let i = 0; i < n && i < s.length + 1; i++) {
          const v = i < s.length ? s.charCodeAt(i) : 0;
          out.push({ off: off + i, t: t.of, e: { t: INT, rv: this.J(() => v, lit(v)), cst: v }, node: init });
        }
        return;
      }
      this.fail(init, `invalid initializer for an array ('${this.text(init)}')`);
    }
    const e = this.expr(init);
    if (t.k === 'struct') {
      if (e.t.k !== 'struct' || e.t !== t) this.fail(init, `incompatible types when initializing '${typeName(t)}' from '${typeName(e.t)}'`);
      out.push({ off, t, e, node: init });
      return;
    }
    out.push({ off, t, e: this.convertE(e, t, init), node: init });
  }

  private stringLit(n: SyntaxNode): string | null {
    if (n.type === 'string_literal') return decodeString(n.text);
    if (n.type === 'concatenated_string') {
      let s = '';
      for (const c of n.namedChildren) if (c && c.type === 'string_literal') s += decodeString(c.text);
      return s;
    }
    if (n.type === 'parenthesized_expression') return this.stringLit(n.namedChildren[0]!);
    return null;
  }

  /** A local initializer: zero the object, then store each element (runtime instructions). */
  private initLocal(off: number, t: CType, init: SyntaxNode): void {
    const mem = this.mem;
    if (t.k === 'struct' || t.k === 'array') {
      const stores: Array<{ off: number; t: CType; e: E; node: SyntaxNode }> = [];
      const size = sizeOf(t);
      // Single struct expression: copy.
      if (t.k === 'struct' && init.type !== 'initializer_list') {
        const e = this.expr(init);
        if (e.t !== t) this.fail(init, `incompatible types when initializing '${typeName(t)}' from '${typeName(e.t)}'`);
        this.emit((fr) => {
          mem.copy(fr.fp + off, e.rv(fr) as number, size);
          return -2;
        });
        return;
      }
      this.emit((fr) => {
        mem.u8.fill(0, fr.fp + off, fr.fp + off + size);
        return -2;
      });
      this.collectInit(0, t, init, stores);
      for (const s of stores) {
        const e = s.e;
        const sz = sizeOf(s.t);
        const o = off + s.off;
        if (s.t.k === 'struct' || s.t.k === 'array') {
          this.emit((fr) => {
            mem.copy(fr.fp + o, e.rv(fr) as number, sz);
            return -2;
          });
        } else {
          const st = this.storeTo(s.t, false);
          this.emit((fr) => {
            st(fr.fp + o, e.rv(fr));
            return -2;
          });
        }
      }
      return;
    }
    const e = this.convertE(this.expr(init), t, init);
    const st = this.storeTo(t, false);
    this.emit((fr) => {
      st(fr.fp + off, e.rv(fr));
      return -2;
    });
  }

  private allocLocal(t: CType): number {
    const a = Math.max(1, alignOf(t));
    const s = Math.max(1, sizeOf(t));
    this.frameSize = Math.ceil(this.frameSize / a) * a + s;
    // Locals are addressed downwards from fp + frameSize; we use positive offsets from fp.
    return this.frameSize - s;
  }

  private temp(): number {
    return this.ntemps++;
  }

  /** Compiles a debugger expression in `scope`; calls are refused (they would need frames). */
  evaluateNode(tu: TU, node: SyntaxNode, scope: Scope): { t: CType; rv: (fr: CFrame) => Val; addr?: (fr: CFrame) => number; se: boolean; bits?: BitField } {
    const saved = { tu: this.tu, scope: this.scope, code: this.code, pos: this.pos, loc: this.loc, insJs: this.insJs, g: this.g, fnType: this.fnType, ntemps: this.ntemps, frameSize: this.frameSize };
    this.g = new Gen();
    this.tu = tu;
    this.scope = scope;
    this.code = [];
    this.pos = [];
    this.loc = [];
    this.insJs = [];
    this.fnType = null;
    this.evaluating = true;
    try {
      const e = this.expr(node);
      if (this.code.length) this.fail(node, 'function calls and && / || / ?: around calls cannot be evaluated in the debugger');
      const r = this.rvalue(e);
      return { t: e.t.k === 'array' || e.t.k === 'struct' ? e.t : r.t, rv: e.t.k === 'array' || e.t.k === 'struct' ? e.rv : r.rv, addr: e.addr, se: !!e.se, bits: (e as E & { bits?: BitField }).bits };
    } finally {
      this.evaluating = false;
      Object.assign(this, saved);
    }
  }

  // ------------------------------------------------------------------ function bodies

  compileFunction(node: SyntaxNode, scope: Scope, tu: TU): CFunc {
    this.tu = tu;
    const tn = node.childForFieldName('type')!;
    const base = this.baseType(tn, scope);
    const r = this.declarator(node.childForFieldName('declarator'), base, scope);
    const ft = (this.globalScope.names.get(r.name) as { type: FuncType }).type;
    const type = r.type as FuncType;
    this.code = [];
    this.pos = [];
    this.loc = [];
    this.insJs = [];
    this.frameSize = 0;
    this.ntemps = 0;
    this.fnName = r.name;
    this.fnType = type;
    this.g = new Gen();
    this.labels = new Map();
    this.gotos = [];
    this.loops = [];
    this.switches = [];
    this.locals = [];
    const fscope = new Scope(scope);
    this.scope = fscope;
    // Parameters.
    const params: LocalInfo[] = [];
    const pl = r.params!;
    let i = 0;
    const binds: Array<(fp: number, v: Val) => void> = [];
    for (const p of pl.namedChildren) {
      if (!p || p.type !== 'parameter_declaration') continue;
      const pt = type.params![i];
      if (!pt) break;
      const name = type.names[i] ?? '';
      const off = this.allocLocal(pt);
      if (pt.k === 'struct') this.fail(p, `passing a struct by value ('${typeName(pt)} ${name}') is not supported`);
      const st = this.storeTo(pt, false);
      const conv = pt.k === 'int' ? intConverter(pt) : (v: Val) => v;
      binds.push((fp, v) => st(fp + off, conv(v)));
      if (name) {
        fscope.names.set(name, { k: 'var', name, type: pt, global: false, addr: 0, off });
        params.push({ name, type: pt, off, from: 0, to: Number.MAX_SAFE_INTEGER });
      }
      i++;
    }
    void ft;
    const body = node.childForFieldName('body')!;
    this.block(body, fscope, true);
    // Implicit return at the closing brace.
    const close = body.lastChild!;
    this.stmtStart(close);
    const start = this.code.length;
    this.emitReturn(null, close);
    this.markStmt(start, close);
    for (const g of this.gotos) {
      const l = this.labels.get(g.name);
      if (!l || l.pc < 0) this.fail(g.node, `label '${g.name}' used but not defined`);
    }
    for (const l of this.locals) if (l.to < 0) l.to = this.code.length;
    const p = this.posOf(node.childForFieldName('declarator')!);
    const sym = this.definedFns.get(r.name)!;
    const frameSize = Math.ceil(this.frameSize / 16) * 16;
    const fn: CFunc = {
      name: r.name, type, sym, code: this.code, pos: this.pos, loc: this.loc, frameSize, ntemps: this.ntemps,
      params, locals: this.locals.map((l) => ({ name: l.name, type: l.type, off: l.off, from: l.from, to: l.to, addr: l.addr })),
      bind: (fp, args) => {
        for (let k = 0; k < binds.length; k++) binds[k]!(fp, args[k] ?? 0);
      },
      file: p.file, line: p.line, col: p.col, scope,
      va: type.variadic ? type.params!.length : -1,
    };
    // Fill missing positions.
    for (let k = 0; k < fn.loc.length; k++) if (!fn.loc[k]) fn.loc[k] = fn.loc[k - 1] ?? { file: p.file, line: p.line, col: p.col };
    if (codegenEnabled()) fn.run = this.generate(fn);
    this.g = new Gen();
    return fn;
  }

  /** The generated step function of `fn` (see codegen.ts). */
  private generate(fn: CFunc): StepFn {
    const pos = fn.pos;
    const stop = (m: Machine, t: KThread, pc: number): boolean => {
      const p = pos[pc]!;
      return m.checkStop({ kind: 'statement', thread: t, cpu: t.cpu, detail: { file: p.file, line: p.line, column: p.col, frameIndex: t.stack.length - 1 } });
    };
    return buildStep(this.g, {
      name: fn.name, ncode: fn.code.length, isStmt: (pc) => pos[pc] !== undefined, ins: this.insJs, stop,
      closures: fn.code, rt: RT, stopSignal: StopSignal, stoppedInStatement, mem: this.mem, littleEndian: LITTLE_ENDIAN,
    });
  }

  private emit(ins: Ins, js?: InsJs): number {
    const pc = this.code.length;
    // Plain instructions return -2 to mean "next".
    this.code.push(ins);
    this.loc.push(this.cur);
    this.insJs[pc] = js;
    return pc;
  }

  // ------------------------------------------------------------------ JavaScript forms (codegen.ts)

  /** Records the JavaScript form of a closure made for the current function; returns the closure. */
  private J<F extends object>(f: F, js: string): F {
    this.g.js.set(f, js);
    return f;
  }
  /** JavaScript for a value closure `(fr) => ...`: its recorded form, or a call of it. */
  private jsf(f: (fr: CFrame) => unknown): string {
    return this.g.js.get(f) ?? `${this.g.ref(f)}(fr)`;
  }
  /** JavaScript for an expression's value. */
  private jsv(e: E): string {
    if (e.cst !== undefined && !e.se && (typeof e.cst === 'bigint' || Number.isFinite(e.cst))) return lit(e.cst);
    return this.jsf(e.rv);
  }
  /** JavaScript for a load of scalar type t from the address `a` (same semantics as loadFrom). */
  private ldJs(t: CType, checked: boolean, a: string, aligned = false): string {
    const g = this.g;
    const MEM = g.ref(this.mem);
    if (t.k === 'ptr') return `${MEM}.readPtr(${a})`;
    if (t.k !== 'int') return a;
    const size = t.bool ? 1 : t.size;
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
  private stJs(t: CType, checked: boolean, a: string, v: string, aligned = false): string {
    const g = this.g;
    const MEM = g.ref(this.mem);
    const size = sizeOf(t);
    const watch = `(m.watchpoints.length !== 0 && ${g.ref(watchHit)}(m, ${a}, ${size}))`;
    if (t.k === 'ptr') return `(${MEM}.writePtr(${a}, ${v}), ${watch})`;
    if (t.k !== 'int') return `(${MEM}.copy(${a}, ${v}, ${size}), ${watch})`;
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

  private stmtStart(n: SyntaxNode): void {
    this.cur = this.posOf(n);
  }

  private markStmt(start: number, n: SyntaxNode): void {
    if (this.code.length > start && this.pos[start] === undefined) this.pos[start] = this.posOf(n);
  }

  private label(): Label {
    return { pc: -1 };
  }

  private place(l: Label): void {
    l.pc = this.code.length;
  }

  private jump(l: Label): void {
    this.emit(() => l.pc, { k: 'jmp', to: l });
  }

  private block(n: SyntaxNode, scope: Scope, isFnBody = false): void {
    const s = isFnBody ? scope : new Scope(scope);
    const firstLocal = this.locals.length;
    for (const c of n.namedChildren) {
      if (!c) continue;
      this.stmt(c, s);
    }
    for (let i = firstLocal; i < this.locals.length; i++) {
      const l = this.locals[i]!;
      if (l.to < 0 && (l as LocalInfo & { scope?: Scope }).scope === s) l.to = this.code.length;
    }
  }

  private stmt(n: SyntaxNode, scope: Scope): void {
    const saved = this.scope;
    this.scope = scope;
    if (++this.depth > MAX_NESTING) this.fail(n, `statements nested too deeply (more than ${MAX_NESTING} levels)`);
    try {
      this.stmtInner(n, scope);
    } finally {
      this.scope = saved;
      this.depth--;
    }
  }

  private stmtInner(n: SyntaxNode, scope: Scope): void {
    const start = this.code.length;
    switch (n.type) {
      case 'comment':
        return;
      case 'compound_statement':
        this.block(n, scope);
        return;
      case 'declaration':
        this.declaration(n, scope, false, this.pendingInits);
        this.flushStaticInits();
        return;
      case 'type_definition':
        this.typedef(n, scope);
        return;
      case 'expression_statement': {
        const e = n.namedChildren[0];
        if (!e) return;
        this.stmtStart(n);
        const ce = this.expr(e);
        const rv = ce.rv;
        this.emit((fr) => {
          rv(fr);
          return -2;
        }, { k: 'stmt', code: this.jsf(rv) });
        this.markStmt(start, n);
        return;
      }
      case 'if_statement': {
        this.stmtStart(n);
        const cond = this.condOf(n.childForFieldName('condition')!);
        const elseL = this.label();
        const end = this.label();
        this.emit((fr) => (cond(fr) ? -2 : elseL.pc), { k: 'br', cond: this.jsf(cond), t: null, f: elseL });
        this.markStmt(start, n);
        this.stmt(n.childForFieldName('consequence')!, scope);
        const alt = n.childForFieldName('alternative');
        if (alt) {
          this.jump(end);
          this.place(elseL);
          const body = alt.type === 'else_clause' ? alt.namedChildren.find((c) => c && c.type !== 'comment')! : alt;
          this.stmt(body, scope);
        } else this.place(elseL);
        this.place(end);
        return;
      }
      case 'while_statement': {
        const condNode = n.childForFieldName('condition')!;
        const top = this.label();
        const end = this.label();
        this.place(top);
        this.stmtStart(n);
        const cs = this.code.length;
        const cond = this.condOf(condNode);
        const simple = this.code.length === cs;
        const body = this.label();
        this.emit((fr) => (cond(fr) ? body.pc : end.pc), { k: 'br', cond: this.jsf(cond), t: body, f: end });
        this.markStmt(cs, n);
        this.place(body);
        this.loops.push({ brk: end, cont: top });
        this.stmt(n.childForFieldName('body')!, new Scope(scope));
        this.loops.pop();
        if (simple) {
          // Loop back with the condition fused in (one instruction per iteration).
          this.stmtStart(n);
          const p = this.emit((fr) => (cond(fr) ? body.pc : end.pc), { k: 'br', cond: this.jsf(cond), t: body, f: end });
          this.pos[p] = this.posOf(n);
        } else this.jump(top);
        this.place(end);
        return;
      }
      case 'do_statement': {
        const top = this.label();
        const end = this.label();
        const cont = this.label();
        this.place(top);
        this.loops.push({ brk: end, cont });
        this.stmt(n.childForFieldName('body')!, new Scope(scope));
        this.loops.pop();
        this.place(cont);
        const condNode = n.childForFieldName('condition')!;
        this.stmtStart(condNode);
        const cs = this.code.length;
        const cond = this.condOf(condNode);
        this.emit((fr) => (cond(fr) ? top.pc : -2), { k: 'br', cond: this.jsf(cond), t: top, f: null });
        this.markStmt(cs, condNode);
        this.place(end);
        return;
      }
      case 'for_statement': {
        const fscope = new Scope(scope);
        this.scope = fscope;
        const init = n.childForFieldName('initializer');
        const condNode = n.childForFieldName('condition');
        const upd = n.childForFieldName('update');
        if (init) {
          if (init.type === 'declaration') this.declaration(init, fscope, false, this.pendingInits);
          else {
            this.stmtStart(init);
            const is = this.code.length;
            const e = this.expr(init);
            this.emit((fr) => {
              e.rv(fr);
              return -2;
            }, { k: 'stmt', code: this.jsf(e.rv) });
            this.markStmt(is, init);
          }
        }
        const top = this.label();
        const end = this.label();
        const cont = this.label();
        const body = this.label();
        this.place(top);
        let cond: ((fr: CFrame) => boolean) | null = null;
        let condSimple = true;
        const condPos = condNode ?? n;
        if (condNode) {
          this.stmtStart(condNode);
          const cs = this.code.length;
          cond = this.condOf(condNode);
          condSimple = this.code.length === cs;
          const c = cond;
          this.emit((fr) => (c(fr) ? body.pc : end.pc), { k: 'br', cond: this.jsf(c), t: body, f: end });
          this.markStmt(cs, condPos);
        }
        this.place(body);
        this.loops.push({ brk: end, cont });
        this.stmt(n.childForFieldName('body')!, new Scope(fscope));
        this.loops.pop();
        this.place(cont);
        if (upd) {
          this.stmtStart(upd);
          const us = this.code.length;
          const ue = this.expr(upd);
          const urv = ue.rv;
          if (this.code.length === us && condSimple) {
            const c = cond;
            const p = this.emit(c ? (fr) => {
              urv(fr);
              return c(fr) ? body.pc : end.pc;
            } : (fr) => {
              urv(fr);
              return body.pc;
            }, c ? { k: 'br', code: this.jsf(urv), cond: this.jsf(c), t: body, f: end } : { k: 'br', code: this.jsf(urv), cond: 'true', t: body, f: body });
            this.pos[p] = this.posOf(condPos);
            this.place(end);
            this.scope = scope;
            return;
          }
          this.emit((fr) => {
            urv(fr);
            return -2;
          }, { k: 'stmt', code: this.jsf(urv) });
          this.markStmt(us, upd);
        }
        if (!condNode) {
          const p = this.emit(() => body.pc, { k: 'jmp', to: body });
          this.pos[p] = this.posOf(n);
        } else this.jump(top);
        this.place(end);
        this.scope = scope;
        return;
      }
      case 'return_statement': {
        this.stmtStart(n);
        const e = n.namedChildren.find((c) => c && c.type !== 'comment') ?? null;
        this.emitReturn(e, n);
        this.markStmt(start, n);
        return;
      }
      case 'break_statement': {
        this.stmtStart(n);
        const l = this.loops[this.loops.length - 1];
        if (!l) this.fail(n, "break statement not within loop or switch");
        this.jump(l.brk);
        this.markStmt(start, n);
        return;
      }
      case 'continue_statement': {
        this.stmtStart(n);
        const l = [...this.loops].reverse().find((x) => x.cont);
        if (!l) this.fail(n, 'continue statement not within a loop');
        this.jump(l.cont!);
        this.markStmt(start, n);
        return;
      }
      case 'goto_statement': {
        this.stmtStart(n);
        const name = n.childForFieldName('label')!.text;
        let l = this.labels.get(name);
        if (!l) this.labels.set(name, (l = this.label()));
        this.gotos.push({ name, node: n });
        const L = l;
        this.emit(() => L.pc, { k: 'jmp', to: L });
        this.markStmt(start, n);
        return;
      }
      case 'labeled_statement': {
        const name = n.childForFieldName('label')!.text;
        let l = this.labels.get(name);
        if (!l) this.labels.set(name, (l = this.label()));
        if (l.pc >= 0) this.fail(n, `duplicate label '${name}'`);
        this.place(l);
        const inner = n.namedChildren.filter((c) => c && c.type !== 'statement_identifier' && c.type !== 'comment');
        for (const c of inner) this.stmt(c!, scope);
        return;
      }
      case 'switch_statement': {
        this.stmtStart(n);
        const condNode = n.childForFieldName('condition')!;
        const ce = this.rvalue(this.expr(condNode));
        if (ce.t.k !== 'int') this.fail(condNode, 'switch quantity not an integer');
        const ct = promote(ce.t);
        const conv = intConverter(ct);
        const table = new Map<Val, number>();
        const end = this.label();
        const sw = { table, dflt: null as Label | null, conv, seen: new Set<Val>() };
        const rv = ce.rv;
        this.emit((fr) => {
          const p = table.get(conv(rv(fr)));
          if (p !== undefined) return p;
          return sw.dflt ? sw.dflt.pc : end.pc;
        });
        this.markStmt(start, n);
        this.switches.push(sw);
        this.loops.push({ brk: end, cont: null });
        this.stmt(n.childForFieldName('body')!, scope);
        this.loops.pop();
        this.switches.pop();
        this.place(end);
        return;
      }
      case 'case_statement': {
        const sw = this.switches[this.switches.length - 1];
        if (!sw) this.fail(n, "case label not within a switch statement");
        const v = n.childForFieldName('value');
        if (v) {
          const cv = sw.conv(this.constInt(v, scope));
          if (sw.seen.has(cv)) this.fail(v, `duplicate case value '${v.text}'`);
          sw.seen.add(cv);
          sw.table.set(cv, this.code.length);
        } else {
          if (sw.dflt) this.fail(n, 'multiple default labels in one switch');
          sw.dflt = { pc: this.code.length };
        }
        for (const c of n.namedChildren) {
          if (!c || (v && c.id === v.id) || c.type === 'comment') continue;
          this.stmt(c, scope);
        }
        return;
      }
      case 'attributed_statement': {
        const inner = n.namedChildren.find((c) => c && c.type !== 'attribute_declaration');
        if (inner) this.stmt(inner, scope);
        return;
      }
      case 'seh_try_statement':
      case 'seh_leave_statement':
        return this.fail(n, 'structured exception handling (__try/__leave) is not C');
      case 'function_definition':
        return this.fail(n, 'nested function definitions are not supported');
      default:
        if (n.type.startsWith('preproc')) return this.fail(n, 'unexpected preprocessor construct');
        return this.fail(n, `unsupported statement '${this.text(n)}'`);
    }
  }

  private flushStaticInits(): void {
    const list = this.pendingInits.splice(0);
    const save = { scope: this.scope };
    for (const f of list) f();
    this.scope = save.scope;
  }

  private emitReturn(eNode: SyntaxNode | null, at: SyntaxNode): void {
    const m = this.m;
    const ret = this.fnType!.ret;
    let rv: (fr: CFrame) => Val = () => 0;
    if (eNode) {
      const e = this.expr(eNode);
      if (ret.k === 'void') {
        if (e.t.k !== 'void') this.fail(eNode, `'return' with a value, in function returning void`);
        rv = e.rv;
      } else {
        if (ret.k === 'struct') this.fail(eNode, 'returning a struct by value is not supported');
        rv = this.convertE(e, ret, eNode).rv;
      }
    } else if (ret.k !== 'void' && at.type === 'return_statement') {
      this.fail(at, `'return' with no value, in function returning '${typeName(ret)}'`);
    }
    const isVoid = ret.k === 'void';
    this.emit((fr, t) => {
      const v = rv(fr);
      const value = isVoid ? 0 : v;
      t.sp = fr.sp0;
      if (fr.traced) m.exit(t, fr.fn.name);
      const st = t.stack;
      const below = st[st.length - 2] as CFrame | undefined;
      if (below && below.kind === 'c' && below.wait >= 0) {
        below.tmp[below.wait] = value;
        below.wait = -1;
        st.pop();
        t.retval = value as number;
        return YIELD;
      }
      m.ret(t, value as number);
      return YIELD;
    });
  }

  /** Compiles a condition to a boolean closure (emitting call lowering first). */
  private condOf(n: SyntaxNode): (fr: CFrame) => boolean {
    const inner = n.type === 'parenthesized_expression' ? n.namedChildren[0]! : n;
    if (inner.type === 'declaration') this.fail(inner, 'declarations in conditions are C++');
    const e = this.rvalue(this.expr(inner));
    return this.truth(e, inner);
  }

  private truth(e: E, n: SyntaxNode): (fr: CFrame) => boolean {
    if (e.cond) return e.cond;
    if (e.t.k !== 'int' && e.t.k !== 'ptr') this.fail(n, `used ${typeName(e.t)} value where a scalar is required`);
    if (e.cst !== undefined) {
      const b = e.cst !== 0;
      return this.J(() => b, String(b));
    }
    const rv = e.rv;
    return this.J((fr: CFrame) => rv(fr) !== 0, `(${this.jsv(e)} !== 0)`);
  }

  // ------------------------------------------------------------------ memory access

  private fault(a: number, n: number, w: boolean): never {
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
          return (BigInt(hi) << 32n) + BigInt(lo);
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
    if (t.k === 'ptr') return (a, v) => { mem.writePtr(a, v as number); watch(a); };
    if (t.k !== 'int') return (a, v) => { mem.copy(a, v as number, size); watch(a); };
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

  // ------------------------------------------------------------------ expressions

  /** Array and function designators decay to pointers. */
  private rvalue(e: E): E {
    if (e.t.k === 'array') return { t: ptr(e.t.of), rv: e.rv, cst: e.cst };
    if (e.t.k === 'func') return { t: ptr(e.t), rv: e.rv, cst: e.cst, fname: e.fname };
    return e;
  }

  /** Converts an rvalue to type `to` (implicit conversion / cast). */
  private convertE(e0: E, to: CType, n: SyntaxNode, explicit = false): E {
    const e = this.rvalue(e0);
    const from = e.t;
    const rv = e.rv;
    let out: (fr: CFrame) => Val;
    if (to.k === 'void') return { t: VOID, rv, se: e.se };
    if (to.k === 'int') {
      if (from.k === 'int') {
        if (from.size === to.size && from.signed === to.signed && !to.bool) return { ...e, t: to, addr: undefined };
        if (to.bool && e.cond) {
          const c = e.cond;
          out = this.J((fr: CFrame) => (c(fr) ? 1 : 0), `(${this.jsf(c)} ? 1 : 0)`);
        } else {
          const cv = intConverter(to);
          // Widening without sign change needs no work.
          if (!to.bool && to.size > from.size && (from.signed === to.signed || !from.signed)) return { ...e, t: to, addr: undefined };
          out = (fr) => cv(rv(fr));
          const x = this.jsv(e);
          let js: string;
          if (to.bool) js = `(${x} !== 0 ? 1 : 0)`;
          else if (from.size <= 4 && to.size === 4) js = to.signed ? `(${x} | 0)` : `(${x} >>> 0)`;
          else if (from.size <= 4 && to.size === 2) js = to.signed ? `((${x} << 16) >> 16)` : `(${x} & 0xffff)`;
          else if (from.size <= 4 && to.size === 1) js = to.signed ? `((${x} << 24) >> 24)` : `(${x} & 0xff)`;
          else if (from.size <= 4 && to.size === 8 && from.signed && !to.signed) {
            const v = this.g.tmp();
            js = `((${v} = ${x}) >= 0 ? ${v} : ${this.g.ref(cv)}(${v}))`;
          } else js = `${this.g.ref(cv)}(${x})`;
          this.J(out, js);
        }
      } else if (from.k === 'ptr') {
        if (!explicit && !to.bool) this.warnOrFail(n, `making integer from pointer without a cast`);
        if (to.bool) out = (fr) => (rv(fr) !== 0 ? 1 : 0);
        else {
          const cv = intConverter(to);
          out = (fr) => cv(ptrToInt(rv(fr) as number));
        }
      } else return this.fail(n, `cannot convert '${typeName(from)}' to '${typeName(to)}'`);
    } else if (to.k === 'ptr') {
      if (from.k === 'ptr') return { ...e, t: to, addr: undefined };
      if (from.k === 'int') {
        if (e.cst === 0) return { t: to, rv: this.J(() => 0, lit(0)), cst: 0 };
        if (!explicit) this.warnOrFail(n, `making pointer from integer without a cast`);
        out = (fr) => intToPtr(rv(fr));
      } else return this.fail(n, `cannot convert '${typeName(from)}' to '${typeName(to)}'`);
    } else if (to.k === 'struct') {
      if (from !== to) this.fail(n, `incompatible types: '${typeName(from)}' to '${typeName(to)}'`);
      return e;
    } else return this.fail(n, `cannot convert to '${typeName(to)}'`);
    const r: E = { t: to, rv: out, se: e.se };
    if (e.cst !== undefined) r.cst = out(null as unknown as CFrame);
    if (r.cst !== undefined) {
      const c = r.cst;
      r.rv = this.J(() => c, lit(c));
    }
    return r;
  }

  private warnOrFail(_n: SyntaxNode, _msg: string): void {
    // gcc warns; the kernel build uses -Werror only for some warnings. Accept.
  }

  /** Nesting of the statement or expression being compiled (bounded: MAX_NESTING). */
  private depth = 0;

  expr(n: SyntaxNode): E {
    if (++this.depth > MAX_NESTING) this.fail(n, `expression nested too deeply (more than ${MAX_NESTING} levels)`);
    try {
      return this.exprInner(n);
    } finally {
      this.depth--;
    }
  }

  private exprInner(n: SyntaxNode): E {
    switch (n.type) {
      case 'parenthesized_expression': {
        const inner = n.namedChildren.find((c) => c && c.type !== 'comment');
        if (!inner) this.fail(n, 'empty parentheses');
        if (inner.type === 'compound_statement') this.fail(n, 'statement expressions ({ ... }) are not supported');
        return this.expr(inner);
      }
      case 'number_literal':
        return this.number(n);
      case 'char_literal': {
        const v = charValue(n.text);
        const s = v > 127 ? v - 256 : v;
        return { t: INT, rv: this.J(() => s, lit(s)), cst: s };
      }
      case 'true':
        return { t: INT, rv: this.J(() => 1, lit(1)), cst: 1 };
      case 'false':
        return { t: INT, rv: this.J(() => 0, lit(0)), cst: 0 };
      case 'null':
        return { t: VOIDP, rv: this.J(() => 0, lit(0)), cst: 0 };
      case 'string_literal':
      case 'concatenated_string': {
        const s = this.stringLit(n)!;
        const a = this.internString(s);
        const t: CType = { k: 'array', of: CHAR, n: s.length + 1 };
        return { t, rv: this.J(() => a, lit(a)), cst: a };
      }
      case 'identifier':
        return this.ident(n);
      case 'binary_expression':
        return this.binary(n);
      case 'unary_expression':
        return this.unary(n);
      case 'pointer_expression':
        return this.pointerExpr(n);
      case 'update_expression':
        return this.update(n);
      case 'assignment_expression':
        return this.assign(n);
      case 'call_expression':
        return this.call(n);
      case 'field_expression':
        return this.field(n);
      case 'subscript_expression':
        return this.subscript(n);
      case 'cast_expression': {
        const t = this.typeOfDescriptor(n.childForFieldName('type')!, this.scope);
        const v = this.expr(n.childForFieldName('value')!);
        if (t.k === 'struct' || t.k === 'array') this.fail(n, `cast to '${typeName(t)}' is not a scalar type`);
        return this.convertE(v, t, n, true);
      }
      case 'sizeof_expression': {
        const tn = n.childForFieldName('type');
        let t: CType;
        const vn = n.childForFieldName('value');
        const td = this.typedefInParens(vn);
        if (tn) t = this.typeOfDescriptor(tn, this.scope);
        else if (td) t = td;
        else {
          const saved = this.code.length;
          const savedTemps = this.ntemps;
          const v = this.expr(n.childForFieldName('value')!);
          this.code.length = saved;
          this.loc.length = saved;
          this.insJs.length = saved;
          this.pos.length = Math.min(this.pos.length, saved);
          this.ntemps = savedTemps;
          t = v.t;
        }
        if (t.k === 'struct' && !t.complete) this.fail(n, `invalid application of 'sizeof' to incomplete type '${typeName(t)}'`);
        if (t.k === 'func') this.fail(n, "invalid application of 'sizeof' to a function type");
        const s = sizeOf(t);
        return { t: ULONG, rv: this.J(() => s, lit(s)), cst: s };
      }
      case 'alignof_expression': {
        const t = this.typeOfDescriptor(n.childForFieldName('type')!, this.scope);
        const a = alignOf(t);
        return { t: ULONG, rv: this.J(() => a, lit(a)), cst: a };
      }
      case 'offsetof_expression': {
        let t = this.typeOfDescriptor(n.childForFieldName('type')!, this.scope);
        const mem = n.childForFieldName('member')!;
        let off = 0;
        for (const part of mem.text.split('.')) {
          if (t.k !== 'struct') this.fail(mem, `'${mem.text}' is not a member path`);
          const f = t.fields.find((x) => x.name === part.trim());
          if (!f) this.fail(mem, `'${typeName(t)}' has no member named '${part.trim()}'`);
          off += f.offset;
          t = f.type;
        }
        return { t: ULONG, rv: this.J(() => off, lit(off)), cst: off };
      }
      case 'conditional_expression':
        return this.conditional(n);
      case 'comma_expression': {
        const l = this.expr(n.childForFieldName('left')!);
        const lrv = l.rv;
        this.emit((fr) => {
          lrv(fr);
          return -2;
        });
        return this.expr(n.childForFieldName('right')!);
      }
      case 'compound_literal_expression':
        return this.compoundLiteral(n);
      case 'initializer_list':
        return this.fail(n, 'braced initializer used as an expression');
      case 'gnu_asm_expression':
        return this.fail(n, 'inline assembly (asm/__asm__) is not supported: the simulated kernel runs C only');
      case 'generic_expression':
        return this.fail(n, '_Generic is not supported');
      case 'extension_expression':
        return this.expr(n.namedChildren[0]!);
      case 'ERROR':
        return this.fail(n, `syntax error near '${this.text(n)}'`);
      default:
        return this.fail(n, `unsupported expression '${this.text(n)}' (${n.type})`);
    }
  }

  private number(n: SyntaxNode): E {
    const txt = n.text;
    const m = /^(0[xX][0-9a-fA-F]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)([uUlL]*)$/.exec(txt);
    if (!m) {
      if (/[.eEpP]/.test(txt) && !/^0[xX]/.test(txt)) this.fail(n, `floating-point constant '${txt}' is not supported: kernel code does not use the FPU`);
      this.fail(n, `invalid integer constant '${txt}'`);
    }
    let s = m[1]!;
    const suf = m[2]!.toLowerCase();
    const decimal = !/^0/.test(s) || s === '0';
    if (/^0[0-7]+$/.test(s)) s = '0o' + s.slice(1);
    const v = BigInt(s);
    const u = suf.includes('u');
    const longs = (suf.match(/l/g) ?? []).length;
    let t: IntType;
    const fits = (tt: IntType) => (tt.signed ? v <= (tt.size === 4 ? 0x7fffffffn : 0x7fffffffffffffffn) : v <= (tt.size === 4 ? 0xffffffffn : 0xffffffffffffffffn));
    const cands: IntType[] = [];
    if (longs === 0) cands.push(...(u ? [UINT, ULONG] : decimal ? [INT, LONG] : [INT, UINT, LONG, ULONG]));
    else if (longs === 1) cands.push(...(u ? [ULONG] : decimal ? [LONG] : [LONG, ULONG]));
    else cands.push(...(u ? [ULLONG] : decimal ? [LLONG] : [LLONG, ULLONG]));
    const found = cands.find(fits);
    if (found) t = found;
    else if (fits(ULONG)) t = ULONG;
    else return this.fail(n, `integer constant '${txt}' is too large for its type`);
    const val = convInt(v, t);
    return { t, rv: this.J(() => val, lit(val)), cst: val };
  }

  private internString(s: string): number {
    let a = this.strings.get(s);
    if (a === undefined) {
      a = this.m.mem.map(s.length + 1, 8);
      for (let i = 0; i < s.length; i++) this.m.mem.u8[a + i] = s.charCodeAt(i) & 0xff;
      this.m.mem.u8[a + s.length] = 0;
      this.strings.set(s, a);
    }
    return a;
  }

  private ident(n: SyntaxNode): E {
    const name = n.text;
    const e = this.scope.find(name);
    if (!e) {
      if (name === 'setjmp' || name === 'longjmp' || name === '_setjmp' || name === '__builtin_setjmp') this.fail(n, `${name}() is not supported (non-local jumps)`);
      if (VA_MACROS.has(name)) this.fail(n, `'${name}' is a macro of <sys/varargs.h> (or <stdarg.h>): include it`);
      if (name.startsWith('__builtin_va_')) this.fail(n, `'${name}' can only be called`);
      return this.fail(n, `'${name}' undeclared`);
    }
    switch (e.k) {
      case 'enum': {
        const v = e.value;
        return { t: INT, rv: this.J(() => v, lit(v)), cst: v };
      }
      case 'typedef':
        return this.fail(n, `'${name}' is a type name, not a value`);
      case 'func': {
        const addr = this.funcAddr(name, n);
        return { t: e.type, rv: this.J(() => addr, lit(addr)), cst: addr, fname: name };
      }
      case 'var': {
        const t = e.type;
        if (e.global) {
          if (e.extern) {
            const d = this.m.sym.data.get(name);
            if (d) {
              e.addr = d.addr;
              e.extern = false;
            } else {
              this.unresolved.add(name);
              e.addr = 0;
            }
          }
          const ent = e;
          const ga = `${this.g.ref(ent)}.addr`;
          if (t.k === 'array' || t.k === 'struct') return { t, rv: this.J(() => ent.addr, ga), addr: this.J(() => ent.addr, ga), ca: true };
          const ld = this.loadFrom(t, false);
          return { t, rv: this.J((_fr: CFrame) => ld(ent.addr), this.ldJs(t, false, ga)), addr: this.J(() => ent.addr, ga), ca: true };
        }
        const off = e.off;
        const la = `(fp + ${off})`;
        if (t.k === 'array' || t.k === 'struct') return { t, rv: this.J((fr: CFrame) => fr.fp + off, la), addr: this.J((fr: CFrame) => fr.fp + off, la), local: off };
        const mem = this.mem;
        let rv: (fr: CFrame) => Val;
        if (t.k === 'int' && !t.bool && t.size === 4) rv = t.signed ? (fr) => mem.dv.getInt32(fr.fp + off, true) : (fr) => mem.dv.getUint32(fr.fp + off, true);
        else if (t.k === 'ptr') rv = (fr) => mem.readPtr(fr.fp + off);
        else {
          const ld = this.loadFrom(t, false);
          rv = (fr) => ld(fr.fp + off);
        }
        this.J(rv, this.ldJs(t, false, la, off % sizeOf(t) === 0));
        return { t, rv, addr: this.J((fr: CFrame) => fr.fp + off, la), local: off };
      }
    }
  }

  private funcAddr(name: string, n: SyntaxNode): number {
    const c = this.definedFns.get(name);
    if (c) return c.addr;
    const s = this.m.sym.lookup(name);
    if (s) return s.addr;
    // A kernel function whose text is mapped when a module first links against it.
    const lazy = this.lazyNatives?.get(name);
    if (lazy && !this.evaluating) return this.m.native(name, lazy);
    void n;
    this.unresolved.add(name);
    return 0;
  }

  /** `(name)` where name is a typedef: tree-sitter cannot tell a cast from an expression. */
  private typedefInParens(n: SyntaxNode | null): CType | undefined {
    if (!n || n.type !== 'parenthesized_expression') return undefined;
    const inner = n.namedChildren.filter((c) => c && c.type !== 'comment');
    if (inner.length !== 1 || inner[0]!.type !== 'identifier') return undefined;
    const e = this.scope.find(inner[0]!.text);
    return e && e.k === 'typedef' ? e.type : undefined;
  }

  private binary(n: SyntaxNode): E {
    const op = n.childForFieldName('operator')!.text;
    const ln = n.childForFieldName('left')!;
    const rn = n.childForFieldName('right')!;
    const castTo = ['*', '-', '+', '&'].includes(op) ? this.typedefInParens(ln) : undefined;
    if (castTo) {
      // (type_t)*p, (type_t)-1, (type_t)&x parsed as binary expressions.
      const r = this.rvalue(this.expr(rn));
      let v: E;
      if (op === '*') {
        if (r.t.k !== 'ptr') this.fail(n, `invalid type argument of unary '*' (have '${typeName(r.t)}')`);
        v = this.deref(r, r.t.to, n);
      } else if (op === '&') {
        const a = this.expr(rn);
        if (!a.addr) this.fail(n, 'lvalue required as unary \'&\' operand');
        const ad = a.addr;
        v = { t: ptr(a.t), rv: (fr) => ad(fr), se: a.se };
      } else {
        if (r.t.k !== 'int') this.fail(n, `wrong type argument to unary ${op}`);
        const t = promote(r.t);
        const x = this.convertE(r, t, n).rv;
        const neg = op === '-';
        const s = t.signed;
        v = { t, rv: neg ? (t.size === 4 ? (s ? (fr) => (0 - (x(fr) as number)) | 0 : (fr) => (0 - (x(fr) as number)) >>> 0) : (fr) => Op64.neg(x(fr), s)) : x, se: r.se };
        if (r.cst !== undefined) {
          const c = v.rv(null as unknown as CFrame);
          v = { t, rv: this.J(() => c, lit(c)), cst: c };
        }
      }
      return this.convertE(v, castTo, n, true);
    }
    if (op === '&&' || op === '||') return this.logical(n, op, ln, rn);
    const l = this.rvalue(this.expr(ln));
    const r = this.rvalue(this.expr(rn));
    return this.binop(op, l, r, n);
  }

  private binop(op: string, l: E, r: E, n: SyntaxNode): E {
    const lt = l.t;
    const rt = r.t;
    const res = this.binopInner(op, l, r, n);
    if (l.cst !== undefined && r.cst !== undefined && res.cst === undefined) {
      let v: Val;
      try {
        v = res.rv(null as unknown as CFrame);
      } catch {
        res.se = l.se || r.se;
        return res;
      }
      res.cst = v;
      res.rv = this.J(() => v, lit(v));
      if (res.cond) {
        const b = v !== 0;
        res.cond = () => b;
      }
    }
    res.se = l.se || r.se;
    void lt;
    void rt;
    return res;
  }

  private binopInner(op: string, l: E, r: E, n: SyntaxNode): E {
    const lt = l.t;
    const rt = r.t;
    const lrv = l.rv;
    const rrv = r.rv;
    // Pointer arithmetic.
    if (lt.k === 'ptr' || rt.k === 'ptr') {
      if (op === '+' || op === '-') {
        if (lt.k === 'ptr' && rt.k === 'int') {
          const sz = this.elemSize(lt, n);
          const sign = op === '+' ? 1 : -1;
          const ri = rt.size <= 4 ? this.jsv(r) : `Number(${this.jsv(r)})`;
          return { t: lt, rv: this.J((fr: CFrame) => (lrv(fr) as number) + sign * Number(rrv(fr)) * sz, `(${this.jsv(l)} + ${sign} * ${ri} * ${sz})`) };
        }
        if (rt.k === 'ptr' && lt.k === 'int' && op === '+') {
          const sz = this.elemSize(rt, n);
          return { t: rt, rv: (fr) => (rrv(fr) as number) + Number(lrv(fr)) * sz };
        }
        if (lt.k === 'ptr' && rt.k === 'ptr' && op === '-') {
          const sz = this.elemSize(lt, n);
          return { t: LONG, rv: (fr) => Math.trunc(((lrv(fr) as number) - (rrv(fr) as number)) / sz) };
        }
        return this.fail(n, `invalid operands to binary ${op} ('${typeName(lt)}' and '${typeName(rt)}')`);
      }
      if (['==', '!=', '<', '>', '<=', '>='].includes(op)) {
        if ((lt.k === 'int' && l.cst !== 0 && rt.k === 'ptr') || (rt.k === 'int' && r.cst !== 0 && lt.k === 'ptr')) {
          // comparison between pointer and integer: gcc warns; compare addresses.
        }
        const a = lt.k === 'ptr' ? lrv : (fr: CFrame) => intToPtr(lrv(fr));
        const b = rt.k === 'ptr' ? rrv : (fr: CFrame) => intToPtr(rrv(fr));
        if (lt.k === 'ptr' && l.cst !== undefined && !l.se) this.J(a, this.jsv(l));
        if (rt.k === 'ptr' && r.cst !== undefined && !r.se) this.J(b, this.jsv(r));
        return this.compare(op, a, b, true);
      }
      return this.fail(n, `invalid operands to binary ${op} ('${typeName(lt)}' and '${typeName(rt)}')`);
    }
    if (lt.k !== 'int' || rt.k !== 'int') return this.fail(n, `invalid operands to binary ${op} ('${typeName(lt)}' and '${typeName(rt)}')`);
    if (op === '<<' || op === '>>') {
      const t = promote(lt);
      const a = this.convertE(l, t, n).rv;
      const s = t.signed;
      if (t.size === 4) {
        const ja = this.jsf(a);
        const jb = rt.size <= 4 ? `(${this.jsv(r)} & 31)` : `(Number(${this.jsv(r)}) & 31)`;
        if (op === '<<') return { t, rv: this.J(s ? (fr: CFrame) => (a(fr) as number) << (Number(rrv(fr)) & 31) : (fr: CFrame) => ((a(fr) as number) << (Number(rrv(fr)) & 31)) >>> 0, s ? `(${ja} << ${jb})` : `((${ja} << ${jb}) >>> 0)`) };
        return { t, rv: this.J(s ? (fr: CFrame) => (a(fr) as number) >> (Number(rrv(fr)) & 31) : (fr: CFrame) => (a(fr) as number) >>> (Number(rrv(fr)) & 31), s ? `(${ja} >> ${jb})` : `(${ja} >>> ${jb})`) };
      }
      if (op === '<<') return { t, rv: (fr) => Op64.shl(a(fr), rrv(fr), s) };
      return { t, rv: (fr) => Op64.shr(a(fr), rrv(fr), s) };
    }
    const t = arith(lt, rt);
    const a = this.convertE(l, t, n).rv;
    const b = this.convertE(r, t, n).rv;
    if (['==', '!=', '<', '>', '<=', '>='].includes(op)) return this.compare(op, a, b, false);
    const s = t.signed;
    const e32 = this.bin32(op, s, this.jsf(a), this.jsf(b));
    if (t.size === 4 && e32 !== null) {
      const e = this.binopInner32(op, s, a, b, t);
      if (e) {
        this.J(e.rv, e32);
        return e;
      }
    }
    if (t.size === 4) {
      switch (op) {
        case '+': return { t, rv: s ? (fr) => ((a(fr) as number) + (b(fr) as number)) | 0 : (fr) => ((a(fr) as number) + (b(fr) as number)) >>> 0 };
        case '-': return { t, rv: s ? (fr) => ((a(fr) as number) - (b(fr) as number)) | 0 : (fr) => ((a(fr) as number) - (b(fr) as number)) >>> 0 };
        case '*': return { t, rv: s ? (fr) => Math.imul(a(fr) as number, b(fr) as number) : (fr) => Math.imul(a(fr) as number, b(fr) as number) >>> 0 };
        case '/': return { t, rv: s ? (fr) => { const d = b(fr) as number; if (d === 0) throw divideError(); return ((a(fr) as number) / d) | 0; } : (fr) => { const d = b(fr) as number; if (d === 0) throw divideError(); return Math.floor((a(fr) as number) / d) >>> 0; } };
        case '%': return { t, rv: s ? (fr) => { const d = b(fr) as number; if (d === 0) throw divideError(); return ((a(fr) as number) % d) | 0; } : (fr) => { const d = b(fr) as number; if (d === 0) throw divideError(); return ((a(fr) as number) % d) >>> 0; } };
        case '&': return { t, rv: s ? (fr) => (a(fr) as number) & (b(fr) as number) : (fr) => ((a(fr) as number) & (b(fr) as number)) >>> 0 };
        case '|': return { t, rv: s ? (fr) => (a(fr) as number) | (b(fr) as number) : (fr) => ((a(fr) as number) | (b(fr) as number)) >>> 0 };
        case '^': return { t, rv: s ? (fr) => (a(fr) as number) ^ (b(fr) as number) : (fr) => ((a(fr) as number) ^ (b(fr) as number)) >>> 0 };
      }
    } else {
      const f = { '+': Op64.add, '-': Op64.sub, '*': Op64.mul, '/': Op64.div, '%': Op64.mod, '&': Op64.and, '|': Op64.or, '^': Op64.xor }[op];
      if (f) {
        const ja = this.jsf(a);
        const jb = this.jsf(b);
        const g = this.g;
        if (op === '+' || op === '-') {
          const x = g.tmp(), y = g.tmp(), z = g.tmp();
          const F = g.ref(f);
          const js = `((${x} = ${ja}, ${y} = ${jb}, typeof ${x} === 'number' && typeof ${y} === 'number' && (${z} = ${x} ${op} ${y}) <= 9007199254740991 && ${z} >= ${s ? '-9007199254740991' : '0'}) ? ${z} : ${F}(${x}, ${y}, ${s}))`;
          const e = this.binop64(op, s, a, b, t, f);
          this.J(e.rv, js);
          return e;
        }
        if (op === '+') return { t, rv: s ? (fr) => { const x = a(fr), y = b(fr); if (typeof x === 'number' && typeof y === 'number') { const z = x + y; if (z <= 9007199254740991 && z >= -9007199254740991) return z; } return Op64.add(x, y, true); } : (fr) => { const x = a(fr), y = b(fr); if (typeof x === 'number' && typeof y === 'number') { const z = x + y; if (z <= 9007199254740991 && z >= 0) return z; } return Op64.add(x, y, false); } };
        return { t, rv: this.J((fr: CFrame) => f(a(fr), b(fr), s), `${g.ref(f)}(${ja}, ${jb}, ${s})`) };
      }
    }
    return this.fail(n, `unsupported operator '${op}'`);
  }

  /** 64-bit + and - (the closure binopInner has always used: number fast path, then Op64). */
  private binop64(op: string, s: boolean, a: (fr: CFrame) => Val, b: (fr: CFrame) => Val, t: IntType, f: (x: Val, y: Val, s: boolean) => Val): E {
    if (op === '+') return { t, rv: s ? (fr) => { const x = a(fr), y = b(fr); if (typeof x === 'number' && typeof y === 'number') { const z = x + y; if (z <= 9007199254740991 && z >= -9007199254740991) return z; } return Op64.add(x, y, true); } : (fr) => { const x = a(fr), y = b(fr); if (typeof x === 'number' && typeof y === 'number') { const z = x + y; if (z <= 9007199254740991 && z >= 0) return z; } return Op64.add(x, y, false); } };
    return { t, rv: (fr) => f(a(fr), b(fr), s) };
  }

  /** JavaScript for a 32-bit integer operator (operands are numbers in the type's range), or null. */
  private bin32(op: string, s: boolean, a: string, b: string): string | null {
    switch (op) {
      case '+': return s ? `((${a} + ${b}) | 0)` : `((${a} + ${b}) >>> 0)`;
      case '-': return s ? `((${a} - ${b}) | 0)` : `((${a} - ${b}) >>> 0)`;
      case '*': return s ? `Math.imul(${a}, ${b})` : `(Math.imul(${a}, ${b}) >>> 0)`;
      case '&': return s ? `(${a} & ${b})` : `((${a} & ${b}) >>> 0)`;
      case '|': return s ? `(${a} | ${b})` : `((${a} | ${b}) >>> 0)`;
      case '^': return s ? `(${a} ^ ${b})` : `((${a} ^ ${b}) >>> 0)`;
      default: return null;
    }
  }

  /** The closures of the 32-bit operators bin32 expresses (the same as binopInner's). */
  private binopInner32(op: string, s: boolean, a: (fr: CFrame) => Val, b: (fr: CFrame) => Val, t: IntType): E | null {
    switch (op) {
      case '+': return { t, rv: s ? (fr) => ((a(fr) as number) + (b(fr) as number)) | 0 : (fr) => ((a(fr) as number) + (b(fr) as number)) >>> 0 };
      case '-': return { t, rv: s ? (fr) => ((a(fr) as number) - (b(fr) as number)) | 0 : (fr) => ((a(fr) as number) - (b(fr) as number)) >>> 0 };
      case '*': return { t, rv: s ? (fr) => Math.imul(a(fr) as number, b(fr) as number) : (fr) => Math.imul(a(fr) as number, b(fr) as number) >>> 0 };
      case '&': return { t, rv: s ? (fr) => (a(fr) as number) & (b(fr) as number) : (fr) => ((a(fr) as number) & (b(fr) as number)) >>> 0 };
      case '|': return { t, rv: s ? (fr) => (a(fr) as number) | (b(fr) as number) : (fr) => ((a(fr) as number) | (b(fr) as number)) >>> 0 };
      case '^': return { t, rv: s ? (fr) => (a(fr) as number) ^ (b(fr) as number) : (fr) => ((a(fr) as number) ^ (b(fr) as number)) >>> 0 };
      default: return null;
    }
  }

  private compare(op: string, a: (fr: CFrame) => Val, b: (fr: CFrame) => Val, _p: boolean): E {
    let c: (fr: CFrame) => boolean;
    switch (op) {
      case '==': c = (fr) => a(fr) === b(fr); break;
      case '!=': c = (fr) => a(fr) !== b(fr); break;
      case '<': c = (fr) => a(fr) < b(fr); break;
      case '>': c = (fr) => a(fr) > b(fr); break;
      case '<=': c = (fr) => a(fr) <= b(fr); break;
      default: c = (fr) => a(fr) >= b(fr); break;
    }
    const jop = op === '==' ? '===' : op === '!=' ? '!==' : op;
    const jc = `(${this.jsf(a)} ${jop} ${this.jsf(b)})`;
    this.J(c, jc);
    return { t: INT, rv: this.J((fr: CFrame) => (c(fr) ? 1 : 0), `(${jc} ? 1 : 0)`), cond: c };
  }

  private elemSize(t: CType, n: SyntaxNode): number {
    if (t.k !== 'ptr') return 1;
    const to = t.to;
    if (to.k === 'void') return 1; // GNU extension: void * arithmetic in bytes
    if (to.k === 'func') return 1;
    if (to.k === 'struct' && !to.complete) this.fail(n, `arithmetic on a pointer to an incomplete type '${typeName(to)}'`);
    return sizeOf(to);
  }

  /** && and ||: a closure when the right side has no calls, else lowered to branches. */
  private logical(n: SyntaxNode, op: string, ln: SyntaxNode, rn: SyntaxNode): E {
    const l = this.rvalue(this.expr(ln));
    const lc = this.truth(l, ln);
    const before = this.code.length;
    const temps = this.ntemps;
    const r = this.rvalue(this.expr(rn));
    if (this.code.length === before) {
      const rc = this.truth(r, rn);
      const c: (fr: CFrame) => boolean = op === '&&' ? (fr) => lc(fr) && rc(fr) : (fr) => lc(fr) || rc(fr);
      const jc = `(${this.jsf(lc)} ${op} ${this.jsf(rc)})`;
      this.J(c, jc);
      const e: E = { t: INT, rv: this.J((fr: CFrame) => (c(fr) ? 1 : 0), `(${jc} ? 1 : 0)`), cond: c, se: l.se || r.se };
      if (l.cst !== undefined && r.cst !== undefined) {
        const v = c(null as unknown as CFrame) ? 1 : 0;
        return { t: INT, rv: this.J(() => v, lit(v)), cst: v, cond: () => v === 1 };
      }
      return e;
    }
    // The right side emitted instructions (calls): rebuild with control flow.
    this.code.length = before;
    this.loc.length = before;
    this.insJs.length = before;
    this.pos.length = Math.min(this.pos.length, before);
    this.ntemps = temps;
    const slot = this.temp();
    const end = this.label();
    const isAnd = op === '&&';
    this.emit((fr) => {
      const v = lc(fr);
      fr.tmp[slot] = v ? 1 : 0;
      return v === isAnd ? -2 : end.pc;
    });
    const r2 = this.rvalue(this.expr(rn));
    const rc2 = this.truth(r2, rn);
    this.emit((fr) => {
      fr.tmp[slot] = rc2(fr) ? 1 : 0;
      return -2;
    });
    this.place(end);
    return { t: INT, rv: (fr) => fr.tmp[slot]!, cond: (fr) => fr.tmp[slot] === 1, se: true };
  }

  private conditional(n: SyntaxNode): E {
    const cn = n.childForFieldName('condition')!;
    const an = n.childForFieldName('consequence');
    const bn = n.childForFieldName('alternative')!;
    if (!an) this.fail(n, "the GNU '?:' with an omitted middle operand is not supported");
    const c = this.truth(this.rvalue(this.expr(cn)), cn);
    const before = this.code.length;
    const temps = this.ntemps;
    const a = this.rvalue(this.expr(an));
    const mid = this.code.length;
    const b = this.rvalue(this.expr(bn));
    const rt = this.condType(a, b, n);
    if (this.code.length === before) {
      const ca = this.convertE(a, rt, an).rv;
      const cb = this.convertE(b, rt, bn).rv;
      const e: E = { t: rt, rv: this.J((fr: CFrame) => (c(fr) ? ca(fr) : cb(fr)), `(${this.jsf(c)} ? ${this.jsf(ca)} : ${this.jsf(cb)})`), se: a.se || b.se };
      if (a.cst !== undefined && b.cst !== undefined) {
        try {
          const cv = c(null as unknown as CFrame);
          const v = cv ? ca(null as unknown as CFrame) : cb(null as unknown as CFrame);
          return { t: rt, rv: this.J(() => v, lit(v)), cst: v };
        } catch {
          return e;
        }
      }
      return e;
    }
    void mid;
    this.code.length = before;
    this.loc.length = before;
    this.insJs.length = before;
    this.pos.length = Math.min(this.pos.length, before);
    this.ntemps = temps;
    const slot = this.temp();
    const elseL = this.label();
    const end = this.label();
    this.emit((fr) => (c(fr) ? -2 : elseL.pc));
    const a2 = this.convertE(this.rvalue(this.expr(an)), rt, an).rv;
    this.emit((fr) => {
      fr.tmp[slot] = a2(fr);
      return end.pc;
    });
    this.place(elseL);
    const b2 = this.convertE(this.rvalue(this.expr(bn)), rt, bn).rv;
    this.emit((fr) => {
      fr.tmp[slot] = b2(fr);
      return -2;
    });
    this.place(end);
    return { t: rt, rv: (fr) => fr.tmp[slot]!, se: true };
  }

  private condType(a: E, b: E, n: SyntaxNode): CType {
    if (a.t.k === 'int' && b.t.k === 'int') return arith(a.t, b.t);
    if (a.t.k === 'ptr' && b.t.k === 'ptr') return a.t.to.k === 'void' ? b.t : a.t;
    if (a.t.k === 'ptr' && b.t.k === 'int') return a.t;
    if (b.t.k === 'ptr' && a.t.k === 'int') return b.t;
    if (a.t.k === 'void' || b.t.k === 'void') return VOID;
    if (a.t.k === 'struct' && a.t === b.t) return a.t;
    return this.fail(n, `type mismatch in conditional expression ('${typeName(a.t)}' and '${typeName(b.t)}')`);
  }

  private unary(n: SyntaxNode): E {
    const op = n.childForFieldName('operator')!.text;
    const an = n.childForFieldName('argument')!;
    const a = this.rvalue(this.expr(an));
    const rv = a.rv;
    let e: E;
    switch (op) {
      case '!': {
        const c = this.truth(a, an);
        const jc = this.jsf(c);
        e = { t: INT, rv: this.J((fr: CFrame) => (c(fr) ? 0 : 1), `(${jc} ? 0 : 1)`), cond: this.J((fr: CFrame) => !c(fr), `(!${jc})`) };
        break;
      }
      case '-':
      case '+':
      case '~': {
        if (a.t.k !== 'int') this.fail(n, `wrong type argument to unary ${op === '~' ? 'complement' : op === '-' ? 'minus' : 'plus'}`);
        const t = promote(a.t);
        const x = this.convertE(a, t, n).rv;
        const s = t.signed;
        if (op === '+') e = { t, rv: x };
        else if (t.size === 4) {
          const jx = this.jsf(x);
          if (op === '-') e = { t, rv: this.J(s ? (fr: CFrame) => (0 - (x(fr) as number)) | 0 : (fr: CFrame) => (0 - (x(fr) as number)) >>> 0, s ? `((0 - ${jx}) | 0)` : `((0 - ${jx}) >>> 0)`) };
          else e = { t, rv: this.J(s ? (fr: CFrame) => ~(x(fr) as number) : (fr: CFrame) => ~(x(fr) as number) >>> 0, s ? `(~${jx})` : `(~${jx} >>> 0)`) };
        } else if (op === '-') e = { t, rv: (fr) => Op64.neg(x(fr), s) };
        else e = { t, rv: (fr) => Op64.not(x(fr), s) };
        break;
      }
      default:
        return this.fail(n, `unsupported unary operator '${op}'`);
    }
    e.se = a.se;
    if (a.cst !== undefined) {
      const v = e.rv(null as unknown as CFrame);
      return { t: e.t, rv: this.J(() => v, lit(v)), cst: v, cond: () => v !== 0 };
    }
    void rv;
    return e;
  }

  private pointerExpr(n: SyntaxNode): E {
    const op = n.childForFieldName('operator')!.text;
    const an = n.childForFieldName('argument')!;
    if (op === '&') {
      const a = this.expr(an);
      if (a.t.k === 'func') return { t: ptr(a.t), rv: a.rv, cst: a.cst, fname: a.fname };
      if (!a.addr) this.fail(n, `lvalue required as unary '&' operand ('${this.text(an)}')`);
      const ad = a.addr;
      const r: E = { t: ptr(a.t), rv: this.J((fr: CFrame) => ad(fr), this.jsf(ad)), se: a.se };
      if (a.cst !== undefined && (a.t.k === 'array' || a.t.k === 'struct')) r.cst = a.cst;
      // Address of a global is a load-time constant.
      if (a.ca && !a.se && a.cst === undefined) {
        try {
          const v = ad(null as unknown as CFrame);
          if (v !== 0) {
            r.cst = v;
            r.rv = this.J(() => v, lit(v));
          }
        } catch { /* not constant */ }
      }
      return r;
    }
    // '*'
    const a = this.rvalue(this.expr(an));
    if (a.t.k !== 'ptr') this.fail(n, `invalid type argument of unary '*' (have '${typeName(a.t)}')`);
    return this.deref(a, a.t.to, n);
  }

  /** *p as an lvalue of type t. */
  private deref(p: E, t: CType, n: SyntaxNode): E {
    const prv = p.rv;
    if (t.k === 'void') this.fail(n, "dereferencing a 'void *' pointer");
    if (t.k === 'func') return { t, rv: prv, cst: p.cst };
    if (t.k === 'struct' && !t.complete) return { t, rv: prv, addr: (fr) => prv(fr) as number, se: p.se };
    if (t.k === 'array' || t.k === 'struct') {
      return { t, rv: prv, addr: (fr) => prv(fr) as number, se: p.se };
    }
    const ld = this.loadFrom(t, true);
    const jp = this.jsv(p);
    return { t, rv: this.J((fr: CFrame) => ld(prv(fr) as number), this.ldJs(t, true, jp)), addr: this.J((fr: CFrame) => prv(fr) as number, jp), se: p.se };
  }

  private field(n: SyntaxNode): E {
    const an = n.childForFieldName('argument')!;
    const op = n.childForFieldName('operator')!.text;
    const fname = n.childForFieldName('field')!.text;
    const a = this.expr(an);
    let st: CType;
    let base: (fr: CFrame) => number;
    if (op === '->') {
      const p = this.rvalue(a);
      if (p.t.k !== 'ptr') this.fail(n, `invalid type argument of '->' (have '${typeName(p.t)}')`);
      st = p.t.to;
      const prv = p.rv;
      base = this.J((fr: CFrame) => prv(fr) as number, this.jsv(p));
    } else {
      st = a.t;
      if (!a.addr) {
        if (st.k === 'struct') base = (fr) => a.rv(fr) as number;
        else this.fail(n, `request for member '${fname}' in something not a structure or union`);
      } else base = a.addr;
    }
    if (st.k !== 'struct') this.fail(n, `request for member '${fname}' in something not a structure or union ('${typeName(st)}')`);
    if (!st.complete) this.fail(n, `dereferencing pointer to incomplete type '${typeName(st)}'`);
    const f = st.fields.find((x) => x.name === fname);
    if (!f) this.fail(n.childForFieldName('field')!, `'${typeName(st)}' has no member named '${fname}'`);
    const off = f.offset;
    const b = base!;
    const addr = off === 0 ? b : this.J((fr: CFrame) => b(fr) + off, `(${this.jsf(b)} + ${off})`);
    const t = f.type;
    const checked = op === '->' || a.local === undefined;
    if (f.bits) return this.bitfield(addr, t as IntType, f.bits, a.se);
    const ca = op === '.' && !!a.ca;
    if (t.k === 'array' || t.k === 'struct' || t.k === 'func') return { t, rv: addr, addr, se: a.se, ca };
    const ld = this.loadFrom(t, checked);
    const local = a.local !== undefined && op === '.' ? a.local + off : undefined;
    const e: E = { t, rv: this.J((fr: CFrame) => ld(addr(fr)), local !== undefined ? this.ldJs(t, checked, `(fp + ${local})`, local % sizeOf(t) === 0) : this.ldJs(t, checked, this.jsf(addr))), addr, se: a.se, ca };
    if (local !== undefined) {
      e.local = local;
      this.J(addr, `(fp + ${local})`);
    }
    return e;
  }

  private bitfield(addr: (fr: CFrame) => number, t: IntType, bits: BitField, se?: boolean): E {
    const ld = this.loadFrom(bitUnitType(t), true);
    const st = this.storeTo(bitUnitType(t), true);
    // The expression's type carries the width when it decides the promotion (promote()).
    const et: IntType = bits.width <= 32 && !t.bool ? { ...t, bitWidth: bits.width } : t;
    const e: E & { bits?: BitField } = { t: et, rv: (fr) => bitGet(ld(addr(fr)), t, bits), addr, se };
    e.bits = bits;
    (e as E & { bf?: unknown }).bf = {
      set: (fr: CFrame, v: Val) => {
        const a = addr(fr);
        const unit = bitPut(ld(a), v, t, bits);
        st(a, unit);
        return bitGet(unit, t, bits);
      },
    };
    return e;
  }

  private subscript(n: SyntaxNode): E {
    let a = this.rvalue(this.expr(n.childForFieldName('argument')!));
    let i = this.rvalue(this.expr(n.childForFieldName('index')!));
    if (a.t.k !== 'ptr' && i.t.k === 'ptr') [a, i] = [i, a];
    if (a.t.k !== 'ptr') this.fail(n, 'subscripted value is neither array nor pointer');
    if (i.t.k !== 'int') this.fail(n, 'array subscript is not an integer');
    const sz = this.elemSize(a.t, n);
    const arv = a.rv;
    const irv = i.rv;
    const ji = i.t.k === 'int' && i.t.size <= 4 ? this.jsv(i) : `Number(${this.jsv(i)})`;
    const p: E = { t: a.t, rv: this.J((fr: CFrame) => (arv(fr) as number) + Number(irv(fr)) * sz, `(${this.jsv(a)} + ${ji} * ${sz})`), se: a.se || i.se };
    const d = this.deref(p, a.t.to, n);
    if (a.cst !== undefined && i.cst !== undefined) d.ca = true;
    return d;
  }

  private compoundLiteral(n: SyntaxNode): E {
    const t = this.typeOfDescriptor(n.childForFieldName('type')!, this.scope);
    const init = n.childForFieldName('value')!;
    let tt = t;
    if (tt.k === 'array' && tt.n === null) tt = { ...tt, n: this.initCount(init, tt) };
    if (!this.fnType) {
      // File scope: static storage.
      const size = Math.max(1, sizeOf(tt));
      const addr = this.m.mem.map(size, Math.max(8, alignOf(tt)));
      this.m.dataRoots.push([addr, size]);
      this.staticInit(addr, tt, init);
      if (tt.k === 'struct' || tt.k === 'array') return { t: tt, rv: () => addr, addr: () => addr, cst: addr };
      const ld = this.loadFrom(tt, false);
      return { t: tt, rv: () => ld(addr), addr: () => addr };
    }
    const off = this.allocLocal(tt);
    this.initLocal(off, tt, init);
    if (tt.k === 'struct' || tt.k === 'array') return { t: tt, rv: (fr) => fr.fp + off, addr: (fr) => fr.fp + off, local: off };
    const ld = this.loadFrom(tt, false);
    return { t: tt, rv: (fr) => ld(fr.fp + off), addr: (fr) => fr.fp + off, local: off };
  }

  private update(n: SyntaxNode): E {
    const op = n.childForFieldName('operator')!.text;
    const an = n.childForFieldName('argument')!;
    const prefix = n.firstChild!.type === op || n.firstChild!.text === op;
    const a = this.expr(an);
    if (!a.addr) this.fail(n, `lvalue required as ${op === '++' ? 'increment' : 'decrement'} operand`);
    const t = a.t;
    const d = op === '++' ? 1 : -1;
    const bf = (a as E & { bf?: { set(fr: CFrame, v: Val): Val } }).bf;
    let next: (v: Val) => Val;
    let nextJs: (v: string) => string;
    if (t.k === 'ptr') {
      const sz = this.elemSize(t, n) * d;
      next = (v) => (v as number) + sz;
      nextJs = (v) => `(${v} + ${lit(sz)})`;
    } else if (t.k === 'int') {
      if (t.size === 4 && !t.bool) {
        next = t.signed ? (v) => ((v as number) + d) | 0 : (v) => ((v as number) + d) >>> 0;
        nextJs = t.signed ? (v) => `((${v} + ${lit(d)}) | 0)` : (v) => `((${v} + ${lit(d)}) >>> 0)`;
      } else {
        const cv = intConverter(t);
        next = t.size === 8 ? (v) => Op64.add(v, d, t.signed) : (v) => cv((v as number) + d);
        const NX = this.g.ref(next);
        nextJs = (v) => `${NX}(${v})`;
      }
    } else return this.fail(n, `wrong type argument to ${op === '++' ? 'increment' : 'decrement'}`);
    const rv = a.rv;
    if (bf) {
      return { t, rv: (fr) => { const v = rv(fr); const nv = bf.set(fr, next(v)); return prefix ? nv : v; }, se: true };
    }
    const ad = a.addr;
    const ld = this.loadFrom(t, a.local === undefined);
    const st = this.storeTo(t, a.local === undefined);
    const checked = a.local === undefined;
    const g = this.g;
    const pa = checked ? g.tmp() : `(fp + ${a.local})`;
    const aligned = !checked && a.local! % sizeOf(t) === 0;
    const v = g.tmp();
    const w = g.tmp();
    const setP = checked ? `${pa} = ${this.jsf(ad)}, ` : '';
    const js = prefix
      ? `(${setP}${v} = ${nextJs(this.ldJs(t, checked, pa, aligned))}, ${this.stJs(t, checked, pa, v, aligned)}, ${v})`
      : `(${setP}${v} = ${this.ldJs(t, checked, pa, aligned)}, ${w} = ${nextJs(v)}, ${this.stJs(t, checked, pa, w, aligned)}, ${v})`;
    if (a.local !== undefined) {
      const off = a.local;
      return { t, rv: this.J(prefix ? (fr: CFrame) => { const p = fr.fp + off; const v = next(ld(p)); st(p, v); return v; } : (fr: CFrame) => { const p = fr.fp + off; const v = ld(p); st(p, next(v)); return v; }, js), se: true };
    }
    return { t, rv: this.J(prefix ? (fr: CFrame) => { const p = ad(fr); const v = next(ld(p)); st(p, v); return v; } : (fr: CFrame) => { const p = ad(fr); const v = ld(p); st(p, next(v)); return v; }, js), se: true };
  }

  private assign(n: SyntaxNode): E {
    const op = n.childForFieldName('operator')!.text;
    const ln = n.childForFieldName('left')!;
    const rn = n.childForFieldName('right')!;
    const l = this.expr(ln);
    if (!l.addr || l.t.k === 'array' || l.t.k === 'func') this.fail(ln, `lvalue required as left operand of assignment ('${this.text(ln)}')`);
    const r = this.expr(rn);
    const t = l.t;
    const ad = l.addr;
    const checked = l.local === undefined;
    const bf = (l as E & { bf?: { set(fr: CFrame, v: Val): Val } }).bf;
    if (op === '=') {
      if (t.k === 'struct') {
        const re = this.rvalue(r);
        if (re.t !== t) this.fail(n, `incompatible types when assigning to type '${typeName(t)}' from type '${typeName(re.t)}'`);
        const size = t.size;
        const mem = this.mem;
        const m = this.m;
        const rrv = re.rv;
        return { t, rv: (fr) => { const d = ad(fr); mem.copy(d, rrv(fr) as number, size); if (m.watchpoints.length) watchHit(m, d, size); return d; }, se: true };
      }
      const v = this.convertE(r, t, rn).rv;
      if (bf) return { t, rv: (fr) => bf.set(fr, v(fr)), se: true };
      const st = this.storeTo(t, checked);
      const g = this.g;
      const x = g.tmp();
      if (l.local !== undefined) {
        const off = l.local;
        const pa = `(fp + ${off})`;
        return { t, rv: this.J((fr: CFrame) => { const x = v(fr); st(fr.fp + off, x); return x; }, `(${x} = ${this.jsf(v)}, ${this.stJs(t, false, pa, x, off % sizeOf(t) === 0)}, ${x})`), se: true };
      }
      const pa = g.tmp();
      return { t, rv: this.J((fr: CFrame) => { const x = v(fr); st(ad(fr), x); return x; }, `(${x} = ${this.jsf(v)}, ${pa} = ${this.jsf(ad)}, ${this.stJs(t, checked, pa, x)}, ${x})`), se: true };
    }
    // Compound assignment: lhs op= rhs, computing the address once.
    const bop = op.slice(0, -1);
    const ld = this.loadFrom(t, checked);
    const slotE: E & { _cur?: Val } = { t, rv: () => 0 };
    let curVal: Val = 0;
    slotE.rv = () => curVal;
    const k = this.g.tmp();
    this.J(slotE.rv, k);
    // The generated code keeps the current value in a temp; closures it calls (operators without
    // a JavaScript form) read it from curVal, so it sets both.
    const setCur = (v: Val): Val => (curVal = v);
    const SETCUR = this.g.ref(setCur);
    const res = this.binopInner(bop, slotE, this.rvalue(r), n);
    const back = this.convertE(res, t, n).rv;
    if (bf) {
      return { t, rv: (fr) => { curVal = l.rv(fr); return bf.set(fr, back(fr)); }, se: true };
    }
    const st = this.storeTo(t, checked);
    const g = this.g;
    const x = g.tmp();
    const backJs = this.jsf(back);
    // Only a closure call in the operator's code can read curVal.
    const cur = (load: string) => (backJs.includes('(fr)') ? `${SETCUR}(${load})` : load);
    if (l.local !== undefined) {
      const off = l.local;
      const pa = `(fp + ${off})`;
      const al = off % sizeOf(t) === 0;
      return { t, rv: this.J((fr: CFrame) => { const p = fr.fp + off; curVal = ld(p); const x = back(fr); st(p, x); return x; }, `(${k} = ${cur(this.ldJs(t, false, pa, al))}, ${x} = ${backJs}, ${this.stJs(t, false, pa, x, al)}, ${x})`), se: true };
    }
    const pa = g.tmp();
    return { t, rv: this.J((fr: CFrame) => { const p = ad(fr); curVal = ld(p); const x = back(fr); st(p, x); return x; }, `(${pa} = ${this.jsf(ad)}, ${k} = ${cur(this.ldJs(t, checked, pa))}, ${x} = ${backJs}, ${this.stJs(t, checked, pa, x)}, ${x})`), se: true };
  }

  // ------------------------------------------------------------------ calls

  private call(n: SyntaxNode): E {
    const fnNode = n.childForFieldName('function')!;
    const argNodes = n.childForFieldName('arguments')!.namedChildren.filter((c): c is SyntaxNode => !!c && c.type !== 'comment');
    const castTo = this.typedefInParens(fnNode);
    if (castTo) {
      // (type_t)(expr) parsed as a call.
      if (argNodes.length !== 1) this.fail(n, `expected an expression after the cast to '${typeName(castTo)}'`);
      if (castTo.k === 'struct' || castTo.k === 'array') this.fail(n, `cast to '${typeName(castTo)}' is not a scalar type`);
      return this.convertE(this.expr(argNodes[0]!), castTo, n, true);
    }
    if (fnNode.type === 'identifier') {
      const name = fnNode.text;
      if (name === '__builtin_expect') return this.expr(argNodes[0]!);
      if (name === '__builtin_unreachable') return { t: VOID, rv: () => { throw new KernelPanic('__builtin_unreachable() reached'); } };
      if (name === '__builtin_constant_p') return { t: INT, rv: this.J(() => 0, lit(0)), cst: 0 };
      if (['setjmp', 'longjmp', '_setjmp', '_longjmp', 'sigsetjmp', 'siglongjmp', '__builtin_setjmp', '__builtin_longjmp'].includes(name)) {
        this.fail(fnNode, `${name}() is not supported: non-local jumps cannot be simulated`);
      }
      if (name.startsWith('__builtin_va_') && !this.scope.find(name)) return this.vaBuiltin(name, n, argNodes);
      if (VA_MACROS.has(name) && !this.scope.find(name)) this.fail(fnNode, `'${name}' is a macro of <sys/varargs.h> (or <stdarg.h>): include it`);
      if (!this.scope.find(name)) this.fail(fnNode, `implicit declaration of function '${name}'`);
    }
    const callee = this.rvalue(this.expr(fnNode));
    let ft: FuncType;
    if (callee.t.k === 'ptr' && callee.t.to.k === 'func') ft = callee.t.to;
    else return this.fail(fnNode, `called object '${this.text(fnNode)}' is not a function or function pointer`);
    const fname = callee.fname ?? this.text(fnNode);
    if (ft.params !== null) {
      if (argNodes.length < ft.params.length) this.fail(n, `too few arguments to function '${fname}' (expected ${ft.params.length}, have ${argNodes.length})`);
      if (argNodes.length > ft.params.length && !ft.variadic) this.fail(n, `too many arguments to function '${fname}' (expected ${ft.params.length}, have ${argNodes.length})`);
    }
    // Arguments: pure ones are computed in the call instruction, others into temps first.
    const argFns: Array<(fr: CFrame) => Val> = [];
    let has64 = false;
    // Through a variadic prototype: which argument words are pointers (varargs.ts).
    const vaPtr: boolean[] | null = ft.variadic ? [] : null;
    for (let i = 0; i < argNodes.length; i++) {
      const an = argNodes[i]!;
      let e = this.rvalue(this.expr(an));
      const pt = ft.params && i < ft.params.length ? ft.params[i]! : null;
      if (pt) {
        if (pt.k === 'struct') this.fail(an, 'passing a struct by value is not supported');
        e = this.convertE(e, pt, an);
      } else if (e.t.k === 'int') e = this.convertE(e, promote(e.t), an);
      else if (e.t.k === 'struct') this.fail(an, 'passing a struct by value is not supported');
      if ((e.t.k === 'int' && e.t.size === 8)) has64 = true;
      if (vaPtr !== null) vaPtr.push(e.t.k === 'ptr');
      if (e.se) {
        const slot = this.temp();
        const rv = e.rv;
        this.emit((fr) => {
          fr.tmp[slot] = rv(fr);
          return -2;
        });
        argFns.push((fr) => fr.tmp[slot]!);
      } else argFns.push(e.rv);
    }
    let calleeFn = callee.rv;
    if (callee.se) {
      const slot = this.temp();
      const rv = callee.rv;
      this.emit((fr) => {
        fr.tmp[slot] = rv(fr);
        return -2;
      });
      calleeFn = (fr) => fr.tmp[slot]!;
    }
    const ret = ft.ret;
    const isVoid = ret.k === 'void';
    if (ret.k === 'struct') this.fail(n, 'calling a function that returns a struct by value is not supported');
    const slot = this.temp();
    const conv: (v: Val) => Val = ret.k === 'int' ? intConverter(ret) : (v) => v;
    const m = this.m;
    const nargs = argFns.length;
    const convName = ret.k === 'int' ? ret : null;
    this.emit((fr, t) => {
      const f = calleeFn(fr) as number;
      const args: number[] = new Array(nargs);
      for (let k = 0; k < nargs; k++) args[k] = argFns[k]!(fr) as number;
      if (vaPtr !== null) (args as VaArgs).vaPtr = vaPtr;
      if (has64) {
        const s = m.sym.atAddr(f);
        if (s && s.kind === 'native') for (let k = 0; k < nargs; k++) args[k] = toWord(args[k]!);
      }
      const base = t.stack.length;
      let r: ReturnType<Machine['callFunction']>;
      try {
        r = m.callFunction(t, f, args);
      } catch (e) {
        // A kernel function that panicked inline: show it on the panic stack, as illumos does.
        if (!(e instanceof StopSignal) && t.stack.length === base) {
          const s = m.sym.atAddr(f);
          if (s && s.kind === 'native') t.stack.push({ kind: 'cnative', pc: 0, name: s.name, args: args.slice(0, 6) });
        }
        throw e;
      }
      if (r === PUSHED) {
        const s = m.sym.atAddr(f)!;
        const direct = s.kind === 'c' && t.stack[base] !== undefined && (t.stack[base] as CFrame).kind === 'c';
        if (direct && m.sink) {
          // fbt-style entry/return probes for the driver's own functions.
          (t.stack[base] as CFrame).traced = true;
          m.entry(t, s.name);
        }
        if (!isVoid) {
          if (direct) fr.wait = slot;
          else t.stack.splice(base, 0, { kind: 'cret', pc: 0, slot, conv: convName });
        }
        return YIELD;
      }
      fr.tmp[slot] = isVoid ? 0 : conv(r);
      return -2;
    });
    return { t: isVoid ? VOID : ret, rv: (fr) => fr.tmp[slot]!, se: true };
  }

  // ------------------------------------------------------------------ variable arguments

  /**
   * `__builtin_va_start`, `__builtin_va_arg`, `__builtin_va_copy`, `__builtin_va_end`: what the
   * macros of <sys/varargs.h> and <stdarg.h> expand to (`va_arg(ap, T)` becomes
   * `__builtin_va_arg(ap, (T *)0)`, so that any type name parses). The model is in varargs.ts.
   */
  private vaBuiltin(name: string, n: SyntaxNode, argNodes: SyntaxNode[]): E {
    const what = name.slice('__builtin_'.length);
    const want = VA_BUILTINS.get(name);
    if (want === undefined) return this.fail(n, `unknown builtin '${name}'`);
    if (argNodes.length !== want) this.fail(n, `${what} takes ${want} argument${want === 1 ? '' : 's'}, not ${argNodes.length}`);
    const ft = this.fnType;
    if (!ft) return this.fail(n, `${what} cannot be evaluated in the debugger`);
    const vaLvalue = (an: SyntaxNode): { addr: (fr: CFrame) => number } => {
      const e = this.expr(an);
      if (!(e.t.k === 'ptr' && e.t.va)) this.fail(an, `${what}: '${this.text(an)}' is not a va_list (it is '${typeName(this.rvalue(e).t)}')`);
      if (!e.addr) this.fail(an, `${what}: '${this.text(an)}' is not an lvalue`);
      return { addr: e.addr };
    };
    const mem = this.mem;
    const st = this.storeTo(VA_LIST, true);
    switch (what) {
      case 'va_start': {
        const ap = vaLvalue(argNodes[0]!);
        if (!ft.variadic) this.fail(n, `va_start used in '${this.fnName}', a function with fixed arguments (no '...')`);
        const np = ft.params!.length;
        if (np === 0) this.fail(n, `va_start in '${this.fnName}', which has no named parameter before '...'`);
        const last = ft.names[np - 1] ?? '';
        const ln = argNodes[1]!;
        if (ln.type !== 'identifier' || ln.text !== last) {
          this.fail(ln, `va_start's second argument must be the last named parameter of '${this.fnName}' ('${last}'), not '${this.text(ln)}'`);
        }
        const ad = ap.addr;
        // The first variable argument: past the count word of the frame's area (varargs.ts).
        return { t: VOID, rv: (fr) => { st(ad(fr), fr.fp + fr.fn.frameSize + 8); return 0; }, se: true };
      }
      case 'va_arg': {
        const ap = vaLvalue(argNodes[0]!);
        const tn = argNodes[1]!;
        const desc = tn.type === 'cast_expression' ? tn.childForFieldName('type') : null;
        if (!desc) return this.fail(tn, `va_arg: expected a type name, found '${this.text(tn)}'`);
        const base = desc.childForFieldName('type');
        if (base && (base.type === 'primitive_type' || base.type === 'sized_type_specifier') && /\b(double|float)\b/.test(base.text)) {
          this.fail(tn, `va_arg of floating type '${base.text}' is not supported: kernel code does not use the FPU`);
        }
        const pt = this.typeOfDescriptor(desc, this.scope);
        if (pt.k !== 'ptr') return this.fail(tn, `va_arg: expected a type name, found '${this.text(tn)}'`);
        const T = pt.to;
        const tname = typeName(T);
        if (T.k === 'struct') this.fail(n, `va_arg of ${T.union ? 'a union' : 'a struct'} ('${tname}') is not supported: pass a pointer to it`);
        if (T.k !== 'int' && T.k !== 'ptr') this.fail(n, `va_arg of type '${tname}' is not valid`);
        if (T.k === 'int' && (T.size < 4 || T.bool)) this.fail(n, `va_arg of type '${tname}': '${tname}' is promoted to 'int' when passed through '...' (use va_arg(ap, int))`);
        const o = this.origin(n);
        const where = `va_arg at ${this.tu.pp.files[o.file]!.display}:${o.line}`;
        const ad = ap.addr;
        const ld = this.loadFrom(T, true);
        return {
          t: T, se: true,
          rv: (fr) => {
            const a = ad(fr);
            const w = mem.readPtr(a);
            vaCheck(mem, RT.thread, w, where);
            const v = ld(w);
            st(a, w + 8);
            return v;
          },
        };
      }
      case 'va_copy': {
        const d = vaLvalue(argNodes[0]!);
        const sn = argNodes[1]!;
        const src = this.rvalue(this.expr(sn));
        if (!(src.t.k === 'ptr' && src.t.va)) this.fail(sn, `va_copy: '${this.text(sn)}' is not a va_list (it is '${typeName(src.t)}')`);
        const ad = d.addr;
        const srv = src.rv;
        return { t: VOID, rv: (fr) => { const v = srv(fr) as number; st(ad(fr), v); return 0; }, se: true };
      }
      default: {
        // va_end: nothing to undo.
        vaLvalue(argNodes[0]!);
        return { t: VOID, rv: this.J(() => 0, '0'), se: true };
      }
    }
  }
}

/** The macros of <sys/varargs.h> / <stdarg.h> (a use without the header gets a hint). */
const VA_MACROS = new Set(['va_start', 'va_arg', 'va_copy', 'va_end', '__va_copy', '__va_start', '__va_arg', '__va_end']);
/** The builtins they expand to, with their argument counts. */
const VA_BUILTINS = new Map([['__builtin_va_start', 2], ['__builtin_va_arg', 2], ['__builtin_va_copy', 2], ['__builtin_va_end', 1]]);


/**
 * A stop point raised by an instruction (a call's 'function' point, a hazard in a kernel
 * function it called) unwinds to the frame with nothing done at that instruction. When the
 * current statement began in this step, its cycle was already counted: the step gives it back
 * (the run before the stop uses exactly the cycles an unstopped run used before the statement,
 * so the budget, the slice and the schedule stay the same) and the frame owes it; the resumed
 * step counts it without checking the statement again, so the first check it makes is the one
 * that stopped (which `skipStopOnce` or the debugger's re-check skips). A step that gives back
 * its only cycle used none: the signal goes on to the run loop.
 */
export function stoppedInStatement(fr: CFrame, used: number, e: unknown): number {
  if (used === 0) throw e;
  fr.owed = true;
  if (used === 1) throw e;
  return used - 1;
}

/** A bit-field's position in its storage unit (a unit of its declared type). */
export type BitField = { width: number; shift: number };

/** The type a bit-field's storage unit is loaded and stored as: unsigned, of the declared size. */
export function bitUnitType(t: IntType): IntType {
  return { ...t, signed: false, bool: false };
}

/**
 * A bit-field's value from its storage unit: the field's bits, sign-extended when the declared
 * type is signed (`int bf : 5` holding 11100 is -4), as the value of the declared type.
 */
export function bitGet(unit: Val, t: IntType, bits: BitField): Val {
  const { width, shift } = bits;
  if (width === 0) return 0;
  let v = (BigInt(unit) >> BigInt(shift)) & ((1n << BigInt(width)) - 1n);
  if (t.bool) return v !== 0n ? 1 : 0;
  if (t.signed && (v >> BigInt(width - 1)) & 1n) v -= 1n << BigInt(width);
  return convInt(v, t);
}

/** The storage unit with the bit-field set to (the low `width` bits of) v. */
export function bitPut(unit: Val, v: Val, t: IntType, bits: BitField): Val {
  const mask = ((1n << BigInt(bits.width)) - 1n) << BigInt(bits.shift);
  const x = t.bool ? (v !== 0 && v !== 0n ? 1n : 0n) : BigInt(v);
  return convInt((BigInt(unit) & ~mask) | ((x << BigInt(bits.shift)) & mask), bitUnitType(t));
}

/** Helpers the generated code calls (codegen.ts). */
function fault(a: number, n: number, w: boolean): never {
  throw new MemoryFault(a, n, w);
}
function rd64u(dv: DataView, a: number): Val {
  const lo = dv.getUint32(a, true);
  const hi = dv.getUint32(a + 4, true);
  if (hi < 2097152) return hi * 4294967296 + lo;
  return (BigInt(hi) << 32n) + BigInt(lo);
}
function rd64s(dv: DataView, a: number): Val {
  const lo = dv.getUint32(a, true);
  const hi = dv.getInt32(a + 4, true);
  if (hi > -2097152 && hi < 2097152) return hi * 4294967296 + lo;
  return (BigInt(hi) << 32n) + BigInt(lo);
}
function wr64big(dv: DataView, a: number, v: Val): void {
  dv.setBigUint64(a, BigInt.asUintN(64, BigInt(v)), true);
}

/** A store overlapped a watchpoint: ask the debugger (the stop comes after the write). */
export function watchHit(m: Machine, a: number, size: number): void {
  if (RT.dataStop) return;
  for (const w of m.watchpoints) {
    if (a < w.addr + w.size && w.addr < a + size) {
      const t = RT.thread;
      if (!t) return;
      if (m.checkStop({ kind: 'data', thread: t, cpu: t.cpu, detail: { id: w.id, addr: w.addr } })) RT.dataStop = true;
      return;
    }
  }
}

function primitive(name: string): CType | undefined {
  switch (name) {
    case 'void': return VOID;
    case 'char': return CHAR;
    case 'int': return INT;
    case 'short': return SHORT;
    case 'long': return LONG;
    case 'unsigned': return UINT;
    case 'signed': return INT;
    case '_Bool': return BOOL;
    case '__builtin_va_list': return VA_LIST;
    default: return undefined;
  }
}

export function decodeString(lit: string): string {
  const body = lit.slice(1, -1);
  let s = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      s += c;
      continue;
    }
    const e = body[++i]!;
    switch (e) {
      case 'n': s += '\n'; break;
      case 't': s += '\t'; break;
      case 'r': s += '\r'; break;
      case 'a': s += '\x07'; break;
      case 'b': s += '\b'; break;
      case 'f': s += '\f'; break;
      case 'v': s += '\v'; break;
      case 'e': s += '\x1b'; break;
      case 'x': {
        let h = '';
        while (/[0-9a-fA-F]/.test(body[i + 1] ?? '')) h += body[++i];
        s += String.fromCharCode(parseInt(h || '0', 16) & 0xff);
        break;
      }
      default:
        if (/[0-7]/.test(e)) {
          let o = e;
          while (o.length < 3 && /[0-7]/.test(body[i + 1] ?? '')) o += body[++i];
          s += String.fromCharCode(parseInt(o, 8) & 0xff);
        } else s += e;
    }
  }
  return s;
}

export { Scope };
