/**
 * mdb's output conventions (mdb_io.c): `%p` is bare hex, `%?p` a 16-wide column, `%0?p` 16 hex
 * digits zero-filled, `%lr` bare hex in the output radix (16), `%a` symbol+offset where the
 * offset carries `0x` only above 9 (`thread_start+8`, `swtch+0x16b`).
 */
import type { Machine } from '../machine/machine';
import { formatAddr, NULL_GUARD, WILD_BASE } from '../machine/memory';

/**
 * Values of mdb expressions that are neither small nor kernel addresses are kept as
 * `PLAIN_BASE + value` (expr.ts): above every wild pointer, never mapped, exact below 2^52.
 */
export const PLAIN_BASE = 2 ** 52;

/** The bits of a wild pointer (or a plain value) in hex. */
export function wildBits(v: number): string {
  if (v >= PLAIN_BASE) return (v - PLAIN_BASE).toString(16);
  return formatAddr(v);
}

/** `%p`: the pointer in hex, no padding (`0` for NULL). */
export function p(addr: number): string {
  if (addr >= PLAIN_BASE) return (addr - PLAIN_BASE).toString(16);
  if (addr >= WILD_BASE) return BigInt('0x' + formatAddr(addr)).toString(16);
  return formatAddr(addr);
}
/** `%0?p`: 16 hex digits, zero-filled. */
export function p0(addr: number): string {
  return p(addr).padStart(16, '0');
}
/** `%?p`: right-aligned in 16 columns. */
export function pR(addr: number): string {
  return p(addr).padStart(16);
}
/** `%-?p`: left-aligned in 16 columns. */
export function pL(addr: number): string {
  return p(addr).padEnd(16);
}

/** numtostr(.., 16, NTOS_SHOWBASE): `0x` only when the value is above 9. */
export function hexBase(n: number): string {
  if (n < 0) return '-' + hexBase(-n);
  return n > 9 ? '0x' + n.toString(16) : n.toString(16);
}

/**
 * A stack argument or other word as mdb's `%lr` prints it: kernel addresses in their 64-bit
 * form, small values as plain hex.
 */
export function word(m: Machine, v: number): string {
  if (v >= WILD_BASE) return p(v);
  if (v >= NULL_GUARD && v < m.mem.top) return formatAddr(v);
  if (v < 0) return (BigInt.asUintN(64, BigInt(v))).toString(16);
  return v.toString(16);
}

/** `%a`: `sym`, `sym+off`, or the address in hex with `0x`. */
export function sym(m: Machine, addr: number): string {
  if (addr === 0) return '0';
  const s = m.sym.containing(addr);
  if (s) return addr === s.addr ? s.name : `${s.name}+${hexBase(addr - s.addr)}`;
  const d = symbolOf(m, addr);
  if (d) return d;
  return addr < NULL_GUARD ? hexBase(addr) : '0x' + p(addr);
}

/** The symbol (function or data) containing an internal address, as `name` or `name+off`. */
export function symbolOf(m: Machine, addr: number): string | undefined {
  if (!(addr >= NULL_GUARD && addr < m.mem.top)) return undefined;
  const s = m.sym.containing(addr);
  if (s) return addr === s.addr ? s.name : `${s.name}+${hexBase(addr - s.addr)}`;
  for (const [name, d] of m.sym.data) {
    if (addr >= d.addr && addr < d.addr + Math.max(1, d.size)) return addr === d.addr ? name : `${name}+${hexBase(addr - d.addr)}`;
  }
  return undefined;
}

/** The symbol that starts exactly at an internal address (MDB_TGT_SYM_EXACT). */
export function exactSymbol(m: Machine, addr: number): string | undefined {
  if (!(addr >= NULL_GUARD && addr < m.mem.top)) return undefined;
  const s = m.sym.atAddr(addr);
  if (s) return s.name;
  for (const [name, d] of m.sym.data) if (d.addr === addr) return name;
  return undefined;
}

/** A stack entry's function position as `%a` would print the return address. */
export function frameName(name: string, offset: number): string {
  return offset ? `${name}+${hexBase(offset)}` : name;
}

export const rpad = (s: string | number, w: number): string => String(s).padEnd(w);
export const lpad = (s: string | number, w: number): string => String(s).padStart(w);
