/**
 * The DDI soft state functions (<sys/sunddi.h>): ddi_soft_state_init, ddi_soft_state_zalloc,
 * ddi_get_soft_state, ddi_soft_state_free, ddi_soft_state_fini. Nearly every illumos driver's
 * `_init()` makes its soft state and its attach(9E) finds its instance's with them. Linked on
 * first use, as KAPI_STRINGS, so no address of a driver that does not call them moves.
 *
 * Semantics as illumos's (facts from usr/src/uts/common/os/sunddi.c):
 * - The state is a `struct i_ddi_soft_state` in kmem: the array of item pointers, a lock, the
 *   item size, the array's length and a list of dirty arrays. kctx lays it out as LP64 does
 *   (SS_* below); the lock is not used (the simulated kernel's callers are not concurrent with
 *   a resize).
 * - init: EINVAL for a NULL state_p or a zero size; the array has at least MIN_N_ITEMS entries;
 *   both allocations are KM_SLEEP (so they may sleep: under kpreempt_disable() that is a hazard
 *   the simulator reports, as for kmem_alloc).
 * - zalloc: DDI_FAILURE for a NULL state, a negative item, or an item already allocated; an item
 *   past the array doubles its length until it fits, and the old array is kept on the dirty list
 *   until fini (a reader without the lock may still hold it); the item is kmem_zalloc(size, KM_SLEEP).
 * - get: the item's pointer, NULL past the array or for a negative item.
 * - free: kmem_free of the item, its slot cleared; nothing for an item not allocated.
 * - fini: frees every item, the array, the dirty arrays and the state; *state_p = NULL. A NULL
 *   state_p or *state_p does nothing.
 * Every buffer is an ordinary kmem buffer: ::findleaks reports one the driver lost, and
 * ::kmem_verify checks their redzones.
 */
import type { KThread } from '../machine/thread';
import type { Machine } from '../machine/machine';
import type { KapiEntry } from './kapi';

const EINVAL = 22;
const DDI_SUCCESS = 0;
const DDI_FAILURE = -1;
const MIN_N_ITEMS = 8;
/** struct i_ddi_soft_state, LP64: void **array; kmutex_t lock; size_t size; size_t n_items; struct i_ddi_soft_state *next. */
const SS_ARRAY = 0;
const SS_SIZE = 16;
const SS_N_ITEMS = 24;
const SS_NEXT = 32;
const SS_BYTES = 40;

/**
 * A KM_SLEEP kmem_zalloc made by the kernel on the caller's behalf. The caller said it may sleep
 * (`maySleep`) before changing anything: a debugger's stop there re-runs the call from its start.
 */
function zallocSleep(m: Machine, t: KThread, size: number, caller: string): number {
  return m.kmemAlloc(t, size, 0, true, caller);
}

/** The hazard check of a KM_SLEEP allocation (kmemAllocMaySleep's), once per call, before any change. */
function maySleep(m: Machine, t: KThread, caller: string): void {
  m.mightSleep(t, `${caller}: KM_SLEEP allocation`, false);
}

function nItems(m: Machine, ss: number): number {
  return m.mem.readU64n(ss + SS_N_ITEMS);
}

function softStateInit(m: Machine, t: KThread, statep: number, size: number, n: number): number {
  if (statep === 0 || size === 0) return EINVAL;
  maySleep(m, t, 'ddi_soft_state_init');
  const items = Math.max(n, MIN_N_ITEMS);
  const ss = zallocSleep(m, t, SS_BYTES, 'ddi_soft_state_init');
  m.mem.writeU64n(ss + SS_SIZE, size);
  m.mem.writeU64n(ss + SS_N_ITEMS, items);
  m.mem.writePtr(ss + SS_ARRAY, zallocSleep(m, t, items * 8, 'ddi_soft_state_init'));
  m.mem.writePtr(statep, ss);
  return DDI_SUCCESS;
}

function softStateZalloc(m: Machine, t: KThread, ss: number, item: number): number {
  if (ss === 0 || item < 0) return DDI_FAILURE;
  maySleep(m, t, 'ddi_soft_state_zalloc');
  let n = nItems(m, ss);
  if (item >= n) {
    // A longer array; the old one goes on the dirty list (a copy of the state that holds it).
    let grown = n;
    while (grown < item + 1) grown *= 2;
    const old = m.mem.readPtr(ss + SS_ARRAY);
    const arr = zallocSleep(m, t, grown * 8, 'ddi_soft_state_zalloc');
    for (let i = 0; i < n; i++) m.mem.writePtr(arr + i * 8, m.mem.readPtr(old + i * 8));
    const dirty = zallocSleep(m, t, SS_BYTES, 'ddi_soft_state_zalloc');
    m.mem.writePtr(dirty + SS_ARRAY, old);
    m.mem.writeU64n(dirty + SS_N_ITEMS, n);
    m.mem.writePtr(dirty + SS_NEXT, m.mem.readPtr(ss + SS_NEXT));
    m.mem.writePtr(ss + SS_NEXT, dirty);
    m.mem.writePtr(ss + SS_ARRAY, arr);
    m.mem.writeU64n(ss + SS_N_ITEMS, grown);
    n = grown;
  }
  const slot = m.mem.readPtr(ss + SS_ARRAY) + item * 8;
  if (m.mem.readPtr(slot) !== 0) return DDI_FAILURE;
  m.mem.writePtr(slot, zallocSleep(m, t, m.mem.readU64n(ss + SS_SIZE), 'ddi_soft_state_zalloc'));
  return DDI_SUCCESS;
}

function getSoftState(m: Machine, ss: number, item: number): number {
  if (ss === 0 || item < 0 || item >= nItems(m, ss)) return 0;
  return m.mem.readPtr(m.mem.readPtr(ss + SS_ARRAY) + item * 8);
}

function softStateFree(m: Machine, t: KThread, ss: number, item: number): void {
  if (ss === 0 || item < 0 || item >= nItems(m, ss)) return;
  const slot = m.mem.readPtr(ss + SS_ARRAY) + item * 8;
  const e = m.mem.readPtr(slot);
  if (e === 0) return;
  m.mem.writePtr(slot, 0);
  m.kmemFree(t, e, m.mem.readU64n(ss + SS_SIZE), 'ddi_soft_state_free');
}

function softStateFini(m: Machine, t: KThread, statep: number): void {
  if (statep === 0) return;
  const ss = m.mem.readPtr(statep);
  if (ss === 0) return;
  const n = nItems(m, ss);
  const arr = m.mem.readPtr(ss + SS_ARRAY);
  const size = m.mem.readU64n(ss + SS_SIZE);
  for (let i = 0; i < n; i++) {
    const e = m.mem.readPtr(arr + i * 8);
    if (e !== 0) m.kmemFree(t, e, size, 'ddi_soft_state_fini');
  }
  m.kmemFree(t, arr, n * 8, 'ddi_soft_state_fini');
  for (let d = m.mem.readPtr(ss + SS_NEXT); d !== 0;) {
    const next = m.mem.readPtr(d + SS_NEXT);
    m.kmemFree(t, m.mem.readPtr(d + SS_ARRAY), nItems(m, d) * 8, 'ddi_soft_state_fini');
    m.kmemFree(t, d, SS_BYTES, 'ddi_soft_state_fini');
    d = next;
  }
  m.kmemFree(t, ss, SS_BYTES, 'ddi_soft_state_fini');
  m.mem.writePtr(statep, 0);
}

/** An item number as the C `int` argument it is (the word may carry a sign-extended negative). */
const intArg = (w: number): number => (w | 0);

export const KAPI_SOFTSTATE: KapiEntry[] = [
  { name: 'ddi_soft_state_init', proto: 'int ddi_soft_state_init(void **, size_t, size_t);', impl: (m, t, a) => softStateInit(m, t, a[0]!, a[1]!, a[2]!) },
  { name: 'ddi_soft_state_zalloc', proto: 'int ddi_soft_state_zalloc(void *, int);', impl: (m, t, a) => softStateZalloc(m, t, a[0]!, intArg(a[1]!)) },
  { name: 'ddi_get_soft_state', proto: 'void *ddi_get_soft_state(void *, int);', impl: (m, _t, a) => getSoftState(m, a[0]!, intArg(a[1]!)) },
  { name: 'ddi_soft_state_free', proto: 'void ddi_soft_state_free(void *, int);', impl: (m, t, a) => { softStateFree(m, t, a[0]!, intArg(a[1]!)); return 0; } },
  { name: 'ddi_soft_state_fini', proto: 'void ddi_soft_state_fini(void **);', impl: (m, t, a) => { softStateFini(m, t, a[0]!); return 0; } },
];
