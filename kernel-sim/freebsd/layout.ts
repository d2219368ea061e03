/**
 * FreeBSD structures the simulated kernel keeps in memory and the shipped FreeBSD headers
 * declare (one definition for both sides, as machine/layout.ts does for illumos).
 *
 * `struct vnet` keeps the field order of sys/net/vnet.h (current main), so that
 * `offsetof(struct vnet, vnet_data_base)` is 0x28 on LP64 and a `V_x` with `curvnet == NULL`
 * faults at virtual address 0x28, as the real kernel does. Two kctx fields sit in the
 * structure's cache-line padding (the real one is `__aligned(CACHE_LINE_SIZE)`).
 */
import { defineStruct } from '../machine/layout';

/** VNET_MAGIC_N of current main (0x3e0d8f29 in 2019 trees). */
export const VNET_MAGIC_N = 0x5e4a6f28;
/** What vnet_destroy() writes into vnet_magic_n before free(). */
export const VNET_MAGIC_DEAD = 0xdeadbeef;
/** VNET_MODMIN: module space reserved in the kernel's set_vnet. */
export const VNET_MODMIN = 8192;

export const VNET = defineStruct('vnet', undefined, [
  { name: 'vnet_le_next', ctype: 'struct vnet *', kind: 'ptr' },
  { name: 'vnet_le_prev', ctype: 'struct vnet **', kind: 'ptr' },
  { name: 'vnet_magic_n', ctype: 'u_int', kind: 'u32' },
  { name: 'vnet_ifcnt', ctype: 'u_int', kind: 'u32' },
  { name: 'vnet_sockcnt', ctype: 'u_int', kind: 'u32' },
  { name: 'vnet_state', ctype: 'u_int', kind: 'u32' },
  { name: 'vnet_data_mem', ctype: 'void *', kind: 'ptr' },
  { name: 'vnet_data_base', ctype: 'uintptr_t', kind: 'u64' },
  { name: 'vnet_shutdown', ctype: 'bool', kind: 'u8' },
  { name: 'kctx_vnet_id', ctype: 'u_int', kind: 'u32' },
  { name: 'kctx_jail', ctype: 'const char *', kind: 'ptr' },
]);

/** `struct thread`: the fields a module may touch (td_vnet is unconditional, as in sys/proc.h). */
export const TD = defineStruct('thread', undefined, [
  { name: 'td_tid', ctype: 'int', kind: 'i32' },
  { name: 'td_pad', ctype: 'int', kind: 'i32' },
  { name: 'td_kthread', ctype: 'void *', kind: 'ptr' },
  { name: 'td_vnet', ctype: 'struct vnet *', kind: 'ptr' },
  { name: 'td_vnet_lpush', ctype: 'const char *', kind: 'ptr' },
]);

/** `struct sysinit` (sys/kernel.h), what SYSINIT() and SYSUNINIT() lay down. */
export const SYSINIT = defineStruct('sysinit', undefined, [
  { name: 'subsystem', ctype: 'u_int', kind: 'u32' },
  { name: 'order', ctype: 'u_int', kind: 'u32' },
  { name: 'func', ctype: 'void', kind: 'ptr', fnArgs: 'void *' },
  { name: 'udata', ctype: 'const void *', kind: 'ptr' },
]);

/** `struct vnet_sysinit` (net/vnet.h). */
export const VNET_SYSINIT = defineStruct('vnet_sysinit', undefined, [
  { name: 'subsystem', ctype: 'u_int', kind: 'u32' },
  { name: 'order', ctype: 'u_int', kind: 'u32' },
  { name: 'func', ctype: 'void', kind: 'ptr', fnArgs: 'const void *' },
  { name: 'arg', ctype: 'const void *', kind: 'ptr' },
  { name: 'link', ctype: 'void *', kind: 'ptr' },
]);

/** `struct mtx`: the lock word first (owner thread or 0, as the shared lock code keeps it), then the name. */
export const MTX = defineStruct('mtx', undefined, [
  { name: 'mtx_lock', ctype: 'volatile uintptr_t', kind: 'u64' },
  { name: 'lo_name', ctype: 'const char *', kind: 'ptr' },
]);

/** Sysinit subsystems and orders used by the model (sys/kernel.h). */
export const SI = {
  SI_SUB_DUMMY: 0x0000000, SI_SUB_KLD: 0x2000000, SI_SUB_VNET: 0x2160000, SI_SUB_DRIVERS: 0x3100000,
  SI_SUB_PSEUDO: 0x7000000, SI_SUB_PROTO_BEGIN: 0x8000000, SI_SUB_PROTO_DOMAIN: 0x8800000,
  SI_SUB_PROTO_IFATTACHDOMAIN: 0x8800001, SI_SUB_PROTO_END: 0x8ffffff, SI_SUB_VNET_DONE: 0xdc00000,
  SI_SUB_LAST: 0xfffffff,
  SI_ORDER_FIRST: 0x0000000, SI_ORDER_SECOND: 0x0000001, SI_ORDER_THIRD: 0x0000002, SI_ORDER_FOURTH: 0x0000003,
  SI_ORDER_FIFTH: 0x0000004, SI_ORDER_MIDDLE: 0x1000000, SI_ORDER_ANY: 0xfffffff,
} as const;
