/**
 * The kernel eras of the thread context-op interface and what each era's interface is
 * (reference: illumos-ctxops.md §1, §3). Shared by the simulator, the linter and the extension.
 *
 * core/ is the leaf of the project: it imports nothing else from it.
 */

/** An era the simulator runs: the illumos change that opened it. */
export type EraId = 'illumos-pre12477' | 'illumos-12477' | 'illumos-13915' | 'illumos-13917';
export const ERA_IDS: readonly EraId[] = ['illumos-pre12477', 'illumos-12477', 'illumos-13915', 'illumos-13917'];

/**
 * The ctxop interface a file is written against, as the linter and its settings name it:
 * '12477' is any kernel before 13915 (8-argument installctx), '13915' adds the 9th argument and
 * installctx_preallocate(), '13917' is the ctxop_template API.
 */
export type ApiEra = '12477' | '13915' | '13917';
export const API_ERAS: readonly ApiEra[] = ['12477', '13915', '13917'];

/** A ctxop hook: the six handlers of a ctxop, in template slot order. */
export type HookOp = 'save' | 'restore' | 'fork' | 'lwp_create' | 'exit' | 'free';
export const HOOK_OPS: readonly HookOp[] = ['save', 'restore', 'fork', 'lwp_create', 'exit', 'free'];

/** The order a walk of `t_ctx` visits the ring in. */
export type WalkOrder = 'newest-first' | 'oldest-first';

export interface EraFacts {
  id: EraId;
  /** Short label used in messages: the illumos change that opened the era. */
  label: string;
  /** The interface its drivers are written against. */
  api: ApiEra;
  /** t_ctx is a doubly linked ring (illumos#12477) rather than a NULL-terminated list. */
  ring: boolean;
  /** restorectx walks oldest-first (12477 on); before, newest-first like savectx. */
  restoreOldestFirst: boolean;
  /** Arity of installctx, or 0 when it no longer exists (13917). */
  installctxArity: 0 | 8 | 9;
  /** installctx_preallocate() exists (13915 only). */
  hasPreallocate: boolean;
  /** The ctxop_* / struct ctxop_template interface exists (13917). */
  hasTemplates: boolean;
  /** installctx brackets the list insertion with kpreempt_disable (12477 on). */
  insertUnderKpreempt: boolean;
  /** Name of the FPU ctxop's free handler (13917 added the fp_free_ctx wrapper). */
  fpFreeHandler: string;
}

export const ERA_FACTS: Readonly<Record<EraId, EraFacts>> = {
  'illumos-pre12477': {
    id: 'illumos-pre12477', label: 'pre-12477', api: '12477', ring: false, restoreOldestFirst: false,
    installctxArity: 8, hasPreallocate: false, hasTemplates: false, insertUnderKpreempt: false, fpFreeHandler: 'fp_free',
  },
  'illumos-12477': {
    id: 'illumos-12477', label: '12477', api: '12477', ring: true, restoreOldestFirst: true,
    installctxArity: 8, hasPreallocate: false, hasTemplates: false, insertUnderKpreempt: true, fpFreeHandler: 'fp_free',
  },
  'illumos-13915': {
    id: 'illumos-13915', label: '13915', api: '13915', ring: true, restoreOldestFirst: true,
    installctxArity: 9, hasPreallocate: true, hasTemplates: false, insertUnderKpreempt: true, fpFreeHandler: 'fp_free',
  },
  'illumos-13917': {
    id: 'illumos-13917', label: '13917', api: '13917', ring: true, restoreOldestFirst: true,
    installctxArity: 0, hasPreallocate: false, hasTemplates: true, insertUnderKpreempt: true, fpFreeHandler: 'fp_free_ctx',
  },
};

/** The simulated kernel that runs code written against `api` (12477: the ring era). */
export const ERA_OF_API: Readonly<Record<ApiEra, EraId>> = { '12477': 'illumos-12477', '13915': 'illumos-13915', '13917': 'illumos-13917' };

/** removectx() takes the same eight arguments in every era that has it. */
export const REMOVECTX_ARITY = 8;

/** Expected arity of installctx() for code written against `api`; null where it does not exist. */
export function installctxArity(api: ApiEra): 8 | 9 | null {
  for (const id of ERA_IDS) {
    const f = ERA_FACTS[id];
    if (f.api === api) return f.installctxArity === 0 ? null : f.installctxArity;
  }
  return null;
}

/**
 * The order each walk of `t_ctx` visits the ctxops in: savectx newest first in every era,
 * restorectx oldest first from illumos#12477 on; fork, lwp_create, exit and free newest first.
 */
export function walkOrder(era: Pick<EraFacts, 'restoreOldestFirst'>, op: HookOp): WalkOrder {
  return op === 'restore' && era.restoreOldestFirst ? 'oldest-first' : 'newest-first';
}
