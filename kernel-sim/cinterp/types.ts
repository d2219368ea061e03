/**
 * C types of the interpreter (LP64, natural alignment, as the illumos amd64 kernel) and the
 * representation of values.
 *
 * Values: integers up to 32 bits are JS numbers kept in their type's range (int32 / uint32 /
 * narrower). 64-bit integers are JS numbers while they are safe integers and BigInt beyond
 * (one canonical form per value, so `===` compares them). Pointers are internal addresses
 * (numbers; NULL is 0, wild values are >= 2^48). Struct and array values are addresses.
 */
import { Memory, NULL_GUARD } from '../machine/memory';
import { KernelPanic } from '../machine/machine';

export type IntType = {
  k: 'int'; size: 1 | 2 | 4 | 8; signed: boolean; name: string; bool?: boolean;
  /** The value of a bit-field of this declared type, 32 bits wide or less: its width (it promotes by width). */
  bitWidth?: number;
  /**
   * The C integer type this is when `name` is a typedef's ('long' for int64_t, 'signed char' for
   * int8_t), or 'enum TAG' for an enumeration (then `enumBase` is its compatible integer type).
   */
  kind?: string;
  enumBase?: string;
};
export type StructField = { name: string; type: CType; offset: number; bits?: { width: number; shift: number } };
export type StructType = {
  k: 'struct';
  union: boolean;
  tag: string;
  fields: StructField[];
  /** The members as declared (an anonymous struct or union member is one, unnamed), for initialisers. */
  members?: StructField[];
  size: number;
  align: number;
  complete: boolean;
};
export type FuncType = { k: 'func'; ret: CType; params: CType[] | null; names: string[]; variadic: boolean };
export type CType =
  | { k: 'void'; name?: string }
  | IntType
  /** `va: true`: the va_list type (a pointer to the next variable-argument word; see varargs.ts). */
  | { k: 'ptr'; to: CType; name?: string; va?: true }
  | { k: 'array'; of: CType; n: number | null; name?: string }
  | StructType
  | FuncType;

export type Val = number | bigint;

export const VOID: CType = { k: 'void' };
export const CHAR: IntType = { k: 'int', size: 1, signed: true, name: 'char' };
export const SCHAR: IntType = { k: 'int', size: 1, signed: true, name: 'signed char' };
export const UCHAR: IntType = { k: 'int', size: 1, signed: false, name: 'unsigned char' };
export const SHORT: IntType = { k: 'int', size: 2, signed: true, name: 'short' };
export const USHORT: IntType = { k: 'int', size: 2, signed: false, name: 'unsigned short' };
export const INT: IntType = { k: 'int', size: 4, signed: true, name: 'int' };
export const UINT: IntType = { k: 'int', size: 4, signed: false, name: 'unsigned int' };
export const LONG: IntType = { k: 'int', size: 8, signed: true, name: 'long' };
export const ULONG: IntType = { k: 'int', size: 8, signed: false, name: 'unsigned long' };
export const LLONG: IntType = { k: 'int', size: 8, signed: true, name: 'long long' };
export const ULLONG: IntType = { k: 'int', size: 8, signed: false, name: 'unsigned long long' };
export const BOOL: IntType = { k: 'int', size: 1, signed: false, name: '_Bool', bool: true };
export const VOIDP: CType = { k: 'ptr', to: VOID };
export const CHARP: CType = { k: 'ptr', to: CHAR };
/** `__builtin_va_list`, the type under `va_list` and `__va_list` (varargs.ts). */
export const VA_LIST: CType = { k: 'ptr', to: VOID, name: '__builtin_va_list', va: true };

export function ptr(to: CType): CType {
  return { k: 'ptr', to };
}

export function sizeOf(t: CType): number {
  switch (t.k) {
    case 'void': return 1;
    case 'int': return t.size;
    case 'ptr': return 8;
    case 'array': return t.n === null ? 0 : t.n * sizeOf(t.of);
    case 'struct': return t.size;
    case 'func': return 1;
  }
}

export function alignOf(t: CType): number {
  switch (t.k) {
    case 'int': return t.size;
    case 'ptr': return 8;
    case 'array': return alignOf(t.of);
    case 'struct': return t.align;
    default: return 1;
  }
}

export const isInt = (t: CType): t is IntType => t.k === 'int';
export const isPtr = (t: CType): boolean => t.k === 'ptr';
export const isScalar = (t: CType): boolean => t.k === 'int' || t.k === 'ptr';
export const isAggregate = (t: CType): boolean => t.k === 'struct' || t.k === 'array';

/**
 * Integer promotion: narrower than int becomes int. A bit-field promotes by its width, as GCC
 * does: narrower than 32 bits is int (an `unsigned u3 : 3` holding 2 gives `u3 - 5 < 0`), exactly
 * 32 bits is int or unsigned int by signedness, wider keeps its declared type. An enumeration
 * computes as its compatible integer type (`enum e { A }` as unsigned int: `x - 1 < 0` is false).
 */
export function promote(t: IntType): IntType {
  if (t.bitWidth !== undefined) return t.bitWidth < 32 || t.signed ? INT : UINT;
  if (t.size < 4) return INT;
  if (t.enumBase !== undefined) return t.size === 4 ? (t.signed ? INT : UINT) : t.signed ? LONG : ULONG;
  return t;
}

/** Usual arithmetic conversions (of two 64-bit types, `long long` outranks `long`: it names the result). */
export function arith(a: IntType, b: IntType): IntType {
  a = promote(a);
  b = promote(b);
  if (a.size === b.size) {
    if (a.signed === b.signed) return a.size === 8 && intKind(a) !== intKind(b) ? (isLongLong(a) ? a : isLongLong(b) ? b : a) : a;
    const [s, u] = a.signed ? [a, b] : [b, a];
    // The unsigned type of the signed operand's rank when that is higher (`long long` + `unsigned long`).
    return isLongLong(s) && !isLongLong(u) ? ULLONG : u;
  }
  return a.size > b.size ? a : b;
}
const isLongLong = (t: IntType): boolean => intKind(t).includes('long long');

/** Type text as C writes it, with an optional declarator name. */
export function typeName(t: CType, inner = ''): string {
  const named = (t as { name?: string }).name;
  switch (t.k) {
    case 'void': return join(named ?? 'void', inner);
    case 'int': return join(t.name, inner);
    case 'struct': return join(`${t.union ? 'union' : 'struct'} ${t.tag}`, inner);
    case 'ptr': {
      if (named) return join(named, inner);
      const needParen = t.to.k === 'array' || t.to.k === 'func';
      return typeName(t.to, needParen ? `(*${inner})` : `*${inner}`);
    }
    case 'array': return typeName(t.of, `${inner}[${t.n ?? ''}]`);
    case 'func': {
      const ps = t.params === null ? '' : t.params.length ? t.params.map((p) => typeName(p)).join(', ') + (t.variadic ? ', ...' : '') : 'void';
      return typeName(t.ret, `${inner}(${ps})`);
    }
  }
}

function join(base: string, inner: string): string {
  if (!inner) return base;
  return inner.startsWith('*') || inner.startsWith('(') ? `${base} ${inner}` : `${base} ${inner}`;
}

/** Gives a type a typedef name for display (keeps its structure). */
export function withName(t: CType, name: string): CType {
  if (t.k === 'struct') return t;
  if (t.k === 'int') return { ...t, name, kind: t.kind ?? t.name };
  return { ...t, name } as CType;
}

/** The integer type an IntType is (through typedef names). */
export const intKind = (t: IntType): string => t.kind ?? t.name;

/**
 * Are `a` and `b` compatible types (C11 6.2.7), as gcc's `__builtin_types_compatible_p` answers?
 * Typedef names are the types they name; an enumeration is compatible with its own integer type
 * (unsigned int, or int when an enumerator is negative); `long` and `long long`, `char` and
 * `signed char` are different types of the same size; an array of unknown size matches any size;
 * a struct or union only itself. Qualifiers are not part of kctx's types: only the top level's
 * (which gcc ignores) can be answered exactly.
 */
export function compatible(a: CType, b: CType): boolean {
  if (a === b) return true;
  switch (a.k) {
    case 'void': return b.k === 'void';
    case 'int': {
      if (b.k !== 'int' || a.bool !== b.bool) return false;
      const ka = intKind(a), kb = intKind(b);
      return ka === kb || (a.enumBase !== undefined && a.enumBase === kb) || (b.enumBase !== undefined && b.enumBase === ka);
    }
    case 'ptr': return b.k === 'ptr' && !!a.va === !!b.va && compatible(a.to, b.to);
    case 'array': return b.k === 'array' && (a.n === null || b.n === null || a.n === b.n) && compatible(a.of, b.of);
    case 'struct': return false; // one object per struct or union type
    case 'func': {
      if (b.k !== 'func' || !compatible(a.ret, b.ret)) return false;
      if (a.params === null || b.params === null) return true;
      return a.variadic === b.variadic && a.params.length === b.params.length && a.params.every((p, i) => compatible(p, b.params![i]!));
    }
  }
}

// ---------------------------------------------------------------- values

const MAXS = Number.MAX_SAFE_INTEGER;
const TWO32 = 4294967296;

/** Canonical signed 64-bit value. */
export function normI64(v: Val): Val {
  if (typeof v === 'number') {
    if (v <= MAXS && v >= -MAXS) return v;
    return fromBigS(BigInt.asIntN(64, BigInt(v)));
  }
  return fromBigS(BigInt.asIntN(64, v));
}
/** Canonical unsigned 64-bit value. */
export function normU64(v: Val): Val {
  if (typeof v === 'number') {
    if (v <= MAXS && v >= 0) return v;
    return fromBigU(BigInt.asUintN(64, BigInt(v)));
  }
  return fromBigU(BigInt.asUintN(64, v));
}
function fromBigS(b: bigint): Val {
  return b <= 9007199254740991n && b >= -9007199254740991n ? Number(b) : b;
}
function fromBigU(b: bigint): Val {
  return b <= 9007199254740991n ? Number(b) : b;
}
const big = (v: Val): bigint => (typeof v === 'bigint' ? v : BigInt(v));

/** Converts any integer value to the integer type t (truncation/sign extension). */
export function convInt(v: Val, t: IntType): Val {
  if (t.bool) return v !== 0 ? 1 : 0;
  if (typeof v === 'bigint') {
    if (t.size === 8) return t.signed ? fromBigS(BigInt.asIntN(64, v)) : fromBigU(BigInt.asUintN(64, v));
    v = Number(BigInt.asIntN(32, v));
  }
  switch (t.size) {
    case 1: return t.signed ? (v << 24) >> 24 : v & 0xff;
    case 2: return t.signed ? (v << 16) >> 16 : v & 0xffff;
    case 4: return t.signed ? v | 0 : v >>> 0;
    default: return t.signed ? normI64(v) : normU64(v);
  }
}

/** A converter function for a target integer type (fast paths for 32-bit). */
export function intConverter(t: IntType): (v: Val) => Val {
  if (t.bool) return (v) => (v !== 0 ? 1 : 0);
  if (t.size === 4) return t.signed ? (v) => (typeof v === 'number' ? v | 0 : convInt(v, t)) : (v) => (typeof v === 'number' ? v >>> 0 : convInt(v, t));
  if (t.size === 8) {
    return t.signed
      ? (v) => (typeof v === 'number' && v <= MAXS && v >= -MAXS ? v : normI64(v))
      : (v) => (typeof v === 'number' && v <= MAXS && v >= 0 ? v : normU64(v));
  }
  return (v) => convInt(v, t);
}

/** Integer value of a pointer (its kernel virtual address as an unsigned 64-bit). */
export function ptrToInt(p: number): Val {
  if (p === 0) return 0;
  if (p < NULL_GUARD) return p;
  return fromBigU(Memory.ptrToBig(p));
}
/** Pointer from an integer value. */
export function intToPtr(v: Val): number {
  if (v === 0) return 0;
  if (typeof v === 'number' && v >= 0 && v < NULL_GUARD) return v;
  return Memory.bigToPtr(big(v));
}

/** 64-bit binary operations, exact, on canonical values. */
export const Op64 = {
  add(a: Val, b: Val, s: boolean): Val {
    if (typeof a === 'number' && typeof b === 'number') {
      const r = a + b;
      if (r <= MAXS && r >= (s ? -MAXS : 0)) return r;
    }
    return s ? fromBigS(BigInt.asIntN(64, big(a) + big(b))) : fromBigU(BigInt.asUintN(64, big(a) + big(b)));
  },
  sub(a: Val, b: Val, s: boolean): Val {
    if (typeof a === 'number' && typeof b === 'number') {
      const r = a - b;
      if (r <= MAXS && r >= (s ? -MAXS : 0)) return r;
    }
    return s ? fromBigS(BigInt.asIntN(64, big(a) - big(b))) : fromBigU(BigInt.asUintN(64, big(a) - big(b)));
  },
  mul(a: Val, b: Val, s: boolean): Val {
    if (typeof a === 'number' && typeof b === 'number') {
      const r = a * b;
      if (r <= MAXS && r >= (s ? -MAXS : 0)) return r === 0 ? 0 : r;
    }
    return s ? fromBigS(BigInt.asIntN(64, big(a) * big(b))) : fromBigU(BigInt.asUintN(64, big(a) * big(b)));
  },
  div(a: Val, b: Val, s: boolean): Val {
    if (b === 0) throw divideError();
    if (s && idivOverflows64(a, b)) throw divideError(true);
    if (typeof a === 'number' && typeof b === 'number') {
      // Exact on doubles (values within ±(2^53 - 1)): % is exact and has the dividend's sign
      // (C's truncation), and a - r is a multiple of b, so its quotient is exact too.
      const q = (a - (a % b)) / b;
      return q === 0 ? 0 : q;
    }
    return s ? fromBigS(BigInt.asIntN(64, big(a) / big(b))) : fromBigU(BigInt.asUintN(64, big(a) / big(b)));
  },
  mod(a: Val, b: Val, s: boolean): Val {
    if (b === 0) throw divideError();
    if (s && idivOverflows64(a, b)) throw divideError(true);
    if (typeof a === 'number' && typeof b === 'number') {
      const r = a % b; // exact, with the dividend's sign
      return r === 0 ? 0 : r;
    }
    return s ? fromBigS(BigInt.asIntN(64, big(a) % big(b))) : fromBigU(BigInt.asUintN(64, big(a) % big(b)));
  },
  and(a: Val, b: Val, s: boolean): Val {
    if (typeof a === 'number' && typeof b === 'number' && (a | 0) === a && (b | 0) === b) return a & b;
    return s ? fromBigS(BigInt.asIntN(64, big(a) & big(b))) : fromBigU(BigInt.asUintN(64, big(a) & big(b)));
  },
  or(a: Val, b: Val, s: boolean): Val {
    if (typeof a === 'number' && typeof b === 'number' && (a | 0) === a && (b | 0) === b) return a | b;
    return s ? fromBigS(BigInt.asIntN(64, big(a) | big(b))) : fromBigU(BigInt.asUintN(64, big(a) | big(b)));
  },
  xor(a: Val, b: Val, s: boolean): Val {
    if (typeof a === 'number' && typeof b === 'number' && (a | 0) === a && (b | 0) === b) return a ^ b;
    return s ? fromBigS(BigInt.asIntN(64, big(a) ^ big(b))) : fromBigU(BigInt.asUintN(64, big(a) ^ big(b)));
  },
  shl(a: Val, b: Val, s: boolean): Val {
    const n = BigInt(Number(b) & 63);
    return s ? fromBigS(BigInt.asIntN(64, big(a) << n)) : fromBigU(BigInt.asUintN(64, big(a) << n));
  },
  shr(a: Val, b: Val, s: boolean): Val {
    const n = Number(b) & 63;
    if (typeof a === 'number') return Math.floor(a / 2 ** n);
    return s ? fromBigS(BigInt.asIntN(64, a >> BigInt(n))) : fromBigU(BigInt.asUintN(64, a >> BigInt(n)));
  },
  neg(a: Val, s: boolean): Val {
    if (typeof a === 'number' && s) return a === 0 ? 0 : -a;
    return s ? fromBigS(BigInt.asIntN(64, -big(a))) : fromBigU(BigInt.asUintN(64, -big(a)));
  },
  not(a: Val, s: boolean): Val {
    if (typeof a === 'number' && s) return -a - 1;
    return s ? fromBigS(BigInt.asIntN(64, ~big(a))) : fromBigU(BigInt.asUintN(64, ~big(a)));
  },
};

/** Integer division by zero, or a signed quotient that does not fit (INT_MIN / -1): the #DE trap. */
export function divideError(overflow = false): Error {
  return new KernelPanic(`BAD TRAP: type=0 (#de Divide error) rp=0 addr=0: integer divide ${overflow ? 'overflow' : 'by zero'}`);
}

/** idiv of the most negative 64-bit value by -1 traps (the quotient 2^63 does not fit). */
function idivOverflows64(a: Val, b: Val): boolean {
  return (b === -1 || b === -1n) && (a === -9223372036854775808n || a === -9223372036854775808);
}

/** The word passed to native kernel functions for a value (numbers only at the boundary). */
export function toWord(v: Val): number {
  if (typeof v === 'number') return v;
  return Number(BigInt.asIntN(64, v));
}

export function fmtInt(v: Val, t: IntType): string {
  if (t.bool) return v ? 'true' : 'false';
  return String(v);
}

export function hex(v: Val): string {
  if (typeof v === 'number' && v < 0) return '0x' + BigInt.asUintN(64, BigInt(v)).toString(16);
  return '0x' + v.toString(16);
}

export { TWO32 };
