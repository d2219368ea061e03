/**
 * The four kernel eras of the thread context-op interface (reference: illumos-ctxops.md §1, §3).
 */
import { CTXOP, CTXOP_PRE12477, type StructLayout } from '../machine/layout';

export type EraId = 'illumos-pre12477' | 'illumos-12477' | 'illumos-13915' | 'illumos-13917';
export const ERA_IDS: readonly EraId[] = ['illumos-pre12477', 'illumos-12477', 'illumos-13915', 'illumos-13917'];

export interface Era {
  id: EraId;
  /** Short label used in messages: the illumos change that opened the era. */
  label: string;
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
  ctxopLayout: StructLayout;
  /** Name of the FPU ctxop's free handler (13917 added the fp_free_ctx wrapper). */
  fpFreeHandler: string;
}

export const ERAS: Record<EraId, Era> = {
  'illumos-pre12477': {
    id: 'illumos-pre12477', label: 'pre-12477', ring: false, restoreOldestFirst: false,
    installctxArity: 8, hasPreallocate: false, hasTemplates: false, insertUnderKpreempt: false,
    ctxopLayout: CTXOP_PRE12477, fpFreeHandler: 'fp_free',
  },
  'illumos-12477': {
    id: 'illumos-12477', label: '12477', ring: true, restoreOldestFirst: true,
    installctxArity: 8, hasPreallocate: false, hasTemplates: false, insertUnderKpreempt: true,
    ctxopLayout: CTXOP, fpFreeHandler: 'fp_free',
  },
  'illumos-13915': {
    id: 'illumos-13915', label: '13915', ring: true, restoreOldestFirst: true,
    installctxArity: 9, hasPreallocate: true, hasTemplates: false, insertUnderKpreempt: true,
    ctxopLayout: CTXOP, fpFreeHandler: 'fp_free',
  },
  'illumos-13917': {
    id: 'illumos-13917', label: '13917', ring: true, restoreOldestFirst: true,
    installctxArity: 0, hasPreallocate: false, hasTemplates: true, insertUnderKpreempt: true,
    ctxopLayout: CTXOP, fpFreeHandler: 'fp_free_ctx',
  },
};
