/**
 * The control-register helpers of bhyve's FreeBSD-compat `<machine/cpufunc.h>`: inline
 * assembly in the tree's header, intrinsics here (linked on first use). Each CPU register is
 * simulated per machine: CR0 (with TS, which clts() clears and the FPU-emulation checks read),
 * CR4 (no XSAVE: the guest XCR0 paths are not taken), XCR0. A real run's values are the
 * kernel's; these start as an illumos amd64 kernel's CR0 (PE MP ET NE WP AM PG) and stay
 * deterministic.
 */
import type { Machine } from '../machine/machine';
import type { KapiEntry } from './kapi';

interface Regs { cr0: bigint; cr4: bigint; xcr0: bigint }
const regs = new WeakMap<Machine, Regs>();
const CR0_TS = 0x8n;

function of(m: Machine): Regs {
  let r = regs.get(m);
  if (!r) regs.set(m, (r = { cr0: 0x80050033n, cr4: 0x6f8n, xcr0: 0x7n }));
  return r;
}
const u64 = (v: number | bigint): bigint => BigInt.asUintN(64, BigInt(v));

export const COMPAT_CPUFUNC: KapiEntry[] = [
  { name: 'clts', proto: 'void clts(void);', impl: (m) => ((of(m).cr0 &= ~CR0_TS), 0) },
  { name: 'rcr0', proto: 'u_long rcr0(void);', impl: (m) => Number(of(m).cr0) },
  { name: 'load_cr0', proto: 'void load_cr0(u_long);', impl: (m, _t, a) => ((of(m).cr0 = u64(a[0]!)), 0) },
  { name: 'rcr4', proto: 'u_long rcr4(void);', impl: (m) => Number(of(m).cr4) },
  { name: 'load_cr4', proto: 'void load_cr4(u_long);', impl: (m, _t, a) => ((of(m).cr4 = u64(a[0]!)), 0) },
  { name: 'rxcr', proto: 'u_long rxcr(u_int);', impl: (m) => Number(of(m).xcr0) },
  { name: 'load_xcr', proto: 'void load_xcr(u_int, u_long);', impl: (m, _t, a) => ((of(m).xcr0 = u64(a[1]!)), 0) },
];
