/** unlock-not-held: a release of a lock that this path already released (here or in a same-file callee). */
import type { Rule } from './types';
import { callName, lineOf, rangeOf, hasStructuralError } from '../syntax';
import { LOCK_TRIGGER, lockScope, lockMacrosKey, lockResult, renderTrail, usesLocks } from '../locks';

export const rule: Rule = {
  id: 'unlock-not-held',
  title: 'Unlock of a lock that is not held on some path',
  severity: 'warning',
  defaultOff: true, // below the precision bar: docs/rules/README.md#precision
  confidence: 'high',
  rationale:
    'Releasing a lock the thread no longer holds panics a checking kernel (illumos mutex_exit on a mutex not owned, FreeBSD mtx_unlock under WITNESS/INVARIANTS, Minix "failed to unlock") or silently releases another thread\'s hold. Minix common_open() unlocked a vnode that clone_opcl() had already unlocked before get_free_vnode() failed (66dbf730); check_bsf_lock() unlocked bsf_lock after the assert(mutex_trylock()) that took it vanished under NOASSERTS. Reported only when this function (or a function it calls, which releases it on every path: of the same file, or in `kctx lint` of another file of the run) released the lock earlier on the same path: locks the caller holds on entry are not guessed at.',
  trigger: LOCK_TRIGGER,
  scope: { reads: lockScope },
  check(m, report) {
    for (const fn of m.functions) {
      const text = m.textOf(fn);
      if (!usesLocks(m, text)) continue;
      m.perFunction(rule.id, fn, () => m.calleesKey(text) + lockMacrosKey(m), (report) => {
      if (hasStructuralError(fn)) return;
      const r = lockResult(m, fn);
      const done = new Set<number>();
      for (const d of r.doubles) {
        if (done.has(d.node.id)) continue;
        done.add(d.node.id);
        if (d.via === 'ASSERT(!MUTEX_HELD)') {
          report({ range: rangeOf(d.node), node: d.node, message: `${d.key} is released here, but the assertion at line ${lineOf(d.first)} says it is not held there and this path did not take it since. Path: ${renderTrail(d.trail)}` });
          continue;
        }
        const first = d.via ? `${d.via}() at line ${lineOf(d.first)} (it releases it on every path)` : `${callName(d.first)}() at line ${lineOf(d.first)}`;
        report({ range: rangeOf(d.node), node: d.node, message: `${d.key} is released here, but this path already released it in ${first}: a double unlock. Path: ${renderTrail(d.trail)}` });
      }
      }, report);
    }
  },
};
