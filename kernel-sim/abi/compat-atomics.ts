/**
 * The atomics of bhyve's FreeBSD-compat `<machine/atomic.h>` (usr/src/compat/bhyve/amd64):
 * inline-assembly functions in the tree's header, so the kernel's own are intrinsics (a load
 * links them on first use, as the barriers). One CPU step each: atomic in the simulator.
 * `_acq`/`_rel` orderings need nothing more here. u_long values are read and written as 64-bit
 * integers; a u_long result above 2^53 is not exact (the native call returns a JS number).
 */
import type { Machine } from '../machine/machine';
import type { KapiEntry } from './kapi';

const U64 = (v: number | bigint): bigint => BigInt.asUintN(64, BigInt(v));

type Width = { size: 2 | 4 | 8; ty: string };
const SHORT: Width = { size: 2, ty: 'u_short' };
const INT: Width = { size: 4, ty: 'u_int' };
const LONG: Width = { size: 8, ty: 'u_long' };

function rd(m: Machine, a: number, w: Width): bigint {
  return w.size === 8 ? m.mem.readU64(a) : BigInt(w.size === 4 ? m.mem.readU32(a) : m.mem.readU16(a));
}
function wr(m: Machine, a: number, w: Width, v: bigint): void {
  if (w.size === 8) m.mem.writeU64(a, v);
  else if (w.size === 4) m.mem.writeU32(a, Number(BigInt.asUintN(32, v)));
  else m.mem.writeU16(a, Number(BigInt.asUintN(16, v)));
}
const ret = (v: bigint): number => Number(v);

function entry(name: string, ret: string, w: Width, params: string, impl: KapiEntry['impl']): KapiEntry {
  return { name, proto: `${ret} ${name}(volatile ${w.ty} *${params ? ', ' + params : ''});`, impl };
}

function family(suffix: 'int' | 'long', w: Width): KapiEntry[] {
  const v = w.ty;
  return [
    entry(`atomic_load_acq_${suffix}`, v, w, '', (m, _t, a) => ret(rd(m, a[0]!, w))),
    entry(`atomic_store_rel_${suffix}`, 'void', w, v, (m, _t, a) => (wr(m, a[0]!, w, U64(a[1]!)), 0)),
    entry(`atomic_cmpset_${suffix}`, 'int', w, `${v}, ${v}`, (m, _t, a) => {
      const mask = (1n << BigInt(w.size * 8)) - 1n;
      if ((rd(m, a[0]!, w) & mask) !== (U64(a[1]!) & mask)) return 0;
      wr(m, a[0]!, w, U64(a[2]!));
      return 1;
    }),
    entry(`atomic_set_${suffix}`, 'void', w, v, (m, _t, a) => (wr(m, a[0]!, w, rd(m, a[0]!, w) | U64(a[1]!)), 0)),
    entry(`atomic_clear_${suffix}`, 'void', w, v, (m, _t, a) => (wr(m, a[0]!, w, rd(m, a[0]!, w) & ~U64(a[1]!)), 0)),
    entry(`atomic_swap_${suffix}`, v, w, v, (m, _t, a) => {
      const old = rd(m, a[0]!, w);
      wr(m, a[0]!, w, U64(a[1]!));
      return ret(old);
    }),
  ];
}

export const COMPAT_ATOMICS: KapiEntry[] = [
  entry('atomic_load_acq_short', 'u_int', SHORT, '', (m, _t, a) => ret(rd(m, a[0]!, SHORT))),
  ...family('int', INT),
  ...family('long', LONG),
  entry('atomic_testandset_int', 'int', INT, 'u_int', (m, _t, a) => {
    const bit = 1n << (U64(a[1]!) & 31n);
    const old = rd(m, a[0]!, INT);
    wr(m, a[0]!, INT, old | bit);
    return (old & bit) !== 0n ? 1 : 0;
  }),
  entry('atomic_fetchadd_int', 'u_int', INT, 'u_int', (m, _t, a) => {
    const old = rd(m, a[0]!, INT);
    wr(m, a[0]!, INT, old + U64(a[1]!));
    return ret(old);
  }),
  entry('atomic_subtract_int', 'void', INT, 'u_int', (m, _t, a) => (wr(m, a[0]!, INT, rd(m, a[0]!, INT) - U64(a[1]!)), 0)),
  { name: 'atomic_thread_fence_rel', proto: 'void atomic_thread_fence_rel(void);', impl: () => 0 },
  { name: 'atomic_thread_fence_seq_cst', proto: 'void atomic_thread_fence_seq_cst(void);', impl: () => 0 },
];
