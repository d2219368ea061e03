/** lock-not-released: a lock taken in the function and still held on some exit paths but not others. */
import type { Rule } from './types';
import { callName, lineOf, rangeOf, hasStructuralError } from '../syntax';
import { ERRORISH, LOCK_TRIGGER, lockScope, lockMacrosKey, lockResult, renderTrail, usesLocks } from '../locks';

export const rule: Rule = {
  id: 'lock-not-released',
  title: 'Lock not released on some exit path',
  severity: 'warning',
  defaultOff: true, // below the precision bar: docs/rules/README.md#precision
  confidence: 'medium',
  rationale:
    'A lock taken in a function must be released on every path that leaves it, unless the function\'s contract is to return with it held. Error paths are where it goes wrong: Minix do_pipe() returned when get_free_vnode() failed without unlock_vmnt() (068d443d), and the next request on that mount deadlocked. A function that returns holding the lock on every path (a lock wrapper), or only on its success paths with a distinct return value (a conditional acquire), is left alone.',
  trigger: LOCK_TRIGGER,
  scope: { reads: lockScope }, // a callee's summary needs a release in its own text
  check(m, report) {
    for (const fn of m.functions) {
      const text = m.textOf(fn);
      if (!usesLocks(m, text)) continue;
      m.perFunction(rule.id, fn, () => m.calleesKey(text) + lockMacrosKey(m), (report) => {
      if (hasStructuralError(fn)) return;
      const r = lockResult(m, fn);
      const voidFn = /^\s*(static\s+)?(inline\s+)?void\b/.test(text) && !/^\s*(static\s+)?(inline\s+)?void\s*\*/.test(text);
      const done = new Set<number>();
      for (const [key, sites] of r.acquires) {
        if (r.untracked.has(key)) continue;
        const heldAt = r.exits.filter((e) => e.held.has(key));
        // Only paths that released it count against one that still holds it (a path that never touched it says nothing).
        const freeAt = r.exits.filter((e) => e.released.has(key));
        if (!heldAt.length || !freeAt.length) continue; // never leaks, or a wrapper that returns it held
        for (const e of heldAt) {
          const h = e.held.get(key)!;
          if (done.has(h.at.id) || !sites.some((s) => s.id === h.at.id)) continue;
          const bad = voidFn || e.how === 'end' || ERRORISH(e.value) || freeAt.some((f) => f.value === e.value);
          if (!bad) continue;
          done.add(h.at.id);
          const where = e.how === 'return' ? `the return at line ${lineOf(e.node)}${e.value ? ` (${e.value})` : ''}` : 'the end of the function';
          const other = freeAt.find((f) => f.how === 'return') ?? freeAt[0]!;
          report({ range: rangeOf(h.at), node: h.at, message: `${callName(h.at)}(${key}) at line ${lineOf(h.at)} is still held at ${where}, while the path to ${other.how === 'return' ? `the return at line ${lineOf(other.node)}` : 'the end'} releases it: release it before leaving. Path: ${renderTrail(h.trail, { line: e.how === 'return' ? lineOf(e.node) : e.node.endPosition.row + 1, text: e.how === 'return' ? 'return' : 'end of function' })}` });
        }
      }
      }, report);
    }
  },
};
