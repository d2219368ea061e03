/**
 * gcc's integer builtins a kernel header uses: `__builtin_clz`, `ctz`, `popcount`, `parity`,
 * `ffs` (each with its `l` and `ll` forms) and `__builtin_bswap16/32/64`. Each is a pure function
 * of its operand's bits, computed as gcc defines it on amd64 (clz and ctz of 0 are undefined in
 * gcc; here they give the operand's width, as the lzcnt/tzcnt instructions do).
 */
import { type IntType, type Val, INT, UINT, ULONG, USHORT, ULLONG, LONG, LLONG, normU64 } from './types';

export interface IntBuiltin {
  /** The operand's type (the argument converts to it). */
  arg: IntType;
  ret: IntType;
  fn: (v: bigint) => Val;
}

const bits = (v: bigint): number => v.toString(2).length;
function clz(w: number): (v: bigint) => Val {
  return (v) => (v === 0n ? w : w - bits(v));
}
function ctz(w: number): (v: bigint) => Val {
  return (v) => {
    if (v === 0n) return w;
    let n = 0;
    while (((v >> BigInt(n)) & 1n) === 0n) n++;
    return n;
  };
}
const popcount = (v: bigint): number => {
  let n = 0;
  for (const c of v.toString(2)) if (c === '1') n++;
  return n;
};
function ffs(v: bigint): Val {
  return v === 0n ? 0 : (ctz(64)(v) as number) + 1;
}
function bswap(bytes: number): (v: bigint) => Val {
  return (v) => {
    let r = 0n;
    for (let i = 0; i < bytes; i++) r = (r << 8n) | ((v >> BigInt(8 * i)) & 0xffn);
    return bytes === 8 ? normU64(r) : Number(r);
  };
}

const FAMILY: Array<[string, IntType]> = [['', UINT], ['l', ULONG], ['ll', ULLONG]];

export const INT_BUILTINS = new Map<string, IntBuiltin>();
for (const [suffix, arg] of FAMILY) {
  const w = arg.size * 8;
  INT_BUILTINS.set(`__builtin_clz${suffix}`, { arg, ret: INT, fn: clz(w) });
  INT_BUILTINS.set(`__builtin_ctz${suffix}`, { arg, ret: INT, fn: ctz(w) });
  INT_BUILTINS.set(`__builtin_popcount${suffix}`, { arg, ret: INT, fn: popcount });
  INT_BUILTINS.set(`__builtin_parity${suffix}`, { arg, ret: INT, fn: (v) => popcount(v) & 1 });
}
INT_BUILTINS.set('__builtin_ffs', { arg: INT, ret: INT, fn: ffs });
INT_BUILTINS.set('__builtin_ffsl', { arg: LONG, ret: INT, fn: ffs });
INT_BUILTINS.set('__builtin_ffsll', { arg: LLONG, ret: INT, fn: ffs });
INT_BUILTINS.set('__builtin_bswap16', { arg: USHORT, ret: USHORT, fn: bswap(2) });
INT_BUILTINS.set('__builtin_bswap32', { arg: UINT, ret: UINT, fn: bswap(4) });
INT_BUILTINS.set('__builtin_bswap64', { arg: ULONG, ret: ULONG, fn: bswap(8) });

/** The operand's bits as an unsigned bigint of its type's width. */
export function operandBits(v: Val, t: IntType): bigint {
  return BigInt.asUintN(t.size * 8, typeof v === 'bigint' ? v : BigInt(v));
}
