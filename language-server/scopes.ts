/**
 * The read scopes (rules/types.ts ReadScope) the ctxop rules share: which functions of a file
 * they read, so the engine parses only those (unread.ts).
 */
import type { ReadScope } from './rules/types';
import { CTX_SCOPE } from './ctxapi';
import { BLOCKING_CALLS } from '../core/ctxop-api';

/**
 * The ctxop rules' scope: functions with those tokens, and the same-file functions they name that
 * lead to one or to a sleeping allocation (what the preemption analysis's verdicts can depend on).
 */
export const CTX_READS: ReadScope = { reads: CTX_SCOPE, named: /\b(?:KM_SLEEP|VM_SLEEP)\b/ };

/** blocking-in-ctxop-hook's: the handlers and what they call that leads to a blocking call; mutex_init() for adaptiveLocks. */
export const HOOK_READS: ReadScope = {
  reads: new RegExp(`${CTX_SCOPE.source}|\\bmutex_init\\b`),
  named: new RegExp(`\\b(?:KM_SLEEP|VM_SLEEP|mutex_enter|${[...BLOCKING_CALLS.keys()].join('|')})\\b`),
};
