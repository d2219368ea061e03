/**
 * The ctxop interface's names and shapes, the same in every tool: the legacy and template
 * calls, the template slots with their handler signatures, the positional handler arguments of
 * installctx()/removectx(), and which kernel calls sleep or block.
 */
import type { HookOp } from './eras';

/** The interface 13917 removed. */
export const LEGACY_API: ReadonlySet<string> = new Set(['installctx', 'removectx', 'installctx_preallocate']);
/** The interface 13917 added. */
export const CTXOP_API: ReadonlySet<string> = new Set(['ctxop_allocate', 'ctxop_free', 'ctxop_attach', 'ctxop_detach', 'ctxop_install', 'ctxop_remove']);
/** Calls that put a ctxop on a thread (or allocate one to put there). */
export const CTXOP_INSTALLERS: ReadonlySet<string> = new Set(['installctx', 'installctx_preallocate', 'ctxop_install', 'ctxop_attach']);

/** Template slots in declaration order, and the matching positional argument of installctx/removectx. */
export const SLOTS = ['ct_save', 'ct_restore', 'ct_fork', 'ct_lwp_create', 'ct_exit', 'ct_free'] as const;
export type Slot = (typeof SLOTS)[number];
/** The hook each slot is called for. */
export const SLOT_ROLE: Readonly<Record<Slot, HookOp>> = {
  ct_save: 'save',
  ct_restore: 'restore',
  ct_fork: 'fork',
  ct_lwp_create: 'lwp_create',
  ct_exit: 'exit',
  ct_free: 'free',
};
/** installctx(t, arg, save, restore, fork, lwp_create, exit, free[, ctx]): handler i is argument i + 2. */
export const LEGACY_HANDLER_BASE = 2;

/** How each slot's handler is called: its C parameter list and, in words, what it gets. */
export const HANDLER_SIGNATURES: Readonly<Record<Slot, { params: string; n: number; call: string }>> = {
  ct_save: { params: 'void *', n: 1, call: 'save(arg)' },
  ct_restore: { params: 'void *', n: 1, call: 'restore(arg)' },
  ct_fork: { params: 'void *, void *', n: 2, call: 'fork(parent, child): two kthread_t *, not arg' },
  ct_lwp_create: { params: 'void *, void *', n: 2, call: 'lwp_create(parent, child): two kthread_t *, not arg' },
  ct_exit: { params: 'void *', n: 1, call: 'exit(t): the exiting kthread_t *, not arg' },
  ct_free: { params: 'void *, int', n: 2, call: 'free(arg, isexec)' },
};

/** The hooks that run inside resume(), with thread locks held: they must not block. */
export const SWITCH_HOOKS: readonly Slot[] = ['ct_save', 'ct_restore'];

/** kmem allocators whose last argument says KM_SLEEP or KM_NOSLEEP. */
export const KM_ALLOCATORS: ReadonlySet<string> = new Set(['kmem_alloc', 'kmem_zalloc', 'kmem_cache_alloc', 'kmem_alloc_tryhard']);
/** vmem allocators (flags last for vmem_xalloc, third otherwise). */
export const VM_ALLOCATORS: ReadonlySet<string> = new Set(['vmem_alloc', 'vmem_xalloc', 'vmem_zalloc']);

/** ctxop calls that allocate with KM_SLEEP whatever their arguments (installctx: unless given a ctxop). */
export const SLEEPING_CTXOP_CALLS: ReadonlyMap<string, string> = new Map([
  ['installctx_preallocate', 'installctx_preallocate() allocates with KM_SLEEP'],
  ['ctxop_allocate', 'ctxop_allocate() allocates with KM_SLEEP'],
  ['ctxop_install', 'ctxop_install() allocates with KM_SLEEP'],
]);

/** Kernel calls that block or sleep, and how to say so. */
export const BLOCKING_CALLS: ReadonlyMap<string, string> = new Map<string, string>([
  ['cv_wait', 'cv_wait() blocks'],
  ['cv_wait_sig', 'cv_wait_sig() blocks'],
  ['cv_wait_sig_swap', 'cv_wait_sig_swap() blocks'],
  ['cv_timedwait', 'cv_timedwait() blocks'],
  ['cv_timedwait_sig', 'cv_timedwait_sig() blocks'],
  ['cv_reltimedwait', 'cv_reltimedwait() blocks'],
  ['cv_reltimedwait_sig', 'cv_reltimedwait_sig() blocks'],
  ['cv_timedwait_hires', 'cv_timedwait_hires() blocks'],
  ['delay', 'delay() sleeps'],
  ['delay_sig', 'delay_sig() sleeps'],
  ['sema_p', 'sema_p() blocks'],
  ['sema_p_sig', 'sema_p_sig() blocks'],
  ['rw_enter', 'rw_enter() can block'],
  ['taskq_wait', 'taskq_wait() blocks'],
  ['ddi_taskq_wait', 'ddi_taskq_wait() blocks'],
  ['untimeout', 'untimeout() waits for a running callout'],
]);
