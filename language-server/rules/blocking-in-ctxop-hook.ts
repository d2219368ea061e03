/** blocking-in-ctxop-hook: a save/restore handler that can block. */
import { HOOK_READS } from '../scopes';
import type { Rule } from './types';
import type { FileModel } from '../model';
import type { SyntaxNode } from '../syntax';
import { callName, lineOf, rangeOf, walk } from '../syntax';
import { blockingCall } from '../ctxapi';
import { handlerBindings } from '../handlers';
import { SLOT_ROLE, SWITCH_HOOKS } from '../../core/ctxop-api';

/** First blocking call reached from fn (directly or through same-file callees, depth-limited). */
function blocksIn(m: FileModel, fn: SyntaxNode, depth: number, seen: Set<number>): { at: SyntaxNode; what: string }[] {
  if (seen.has(fn.id) || depth > 4) return [];
  seen.add(fn.id);
  const out: { at: SyntaxNode; what: string }[] = [];
  const body = fn.childForFieldName('body');
  if (!body) return out;
  walk(body, (n) => {
    if (n.type !== 'call_expression') return true;
    const what = blockingCall(n, m.adaptiveLocks);
    if (what) { out.push({ at: n, what }); return true; }
    const callee = m.fnByName.get(callName(n));
    if (callee) {
      const inner = blocksIn(m, callee, depth + 1, seen);
      if (inner.length) out.push({ at: n, what: `${callName(n)}() can block (${inner[0]!.what} at line ${lineOf(inner[0]!.at)})` });
    }
    return true;
  });
  return out;
}

export const rule: Rule = {
  id: 'blocking-in-ctxop-hook',
  title: 'ctxop save/restore handler can block',
  severity: 'error',
  confidence: 'high',
  rationale:
    'resume() calls the save handlers of the outgoing thread and the restore handlers of the incoming one in the middle of a context switch: interrupts are raised to at least DISP_LEVEL, the thread locks are held, and for restore the CPU already runs the new thread on its own stack. A handler that sleeps there (KM_SLEEP, cv_wait, delay, an adaptive mutex that is contended) re-enters the dispatcher from inside it. Save and restore must only copy state; defer anything that can block.',
  trigger: /\bctxop_template\b|\binstallctx\s*\(/,
  scope: HOOK_READS,
  check(m, report) {
    const done = new Set<number>();
    for (const b of handlerBindings(m)) {
      if (!SWITCH_HOOKS.includes(b.slot)) continue;
      const fn = m.fnByName.get(b.name);
      if (!fn) continue;
      for (const hit of blocksIn(m, fn, 0, new Set())) {
        if (done.has(hit.at.id)) continue;
        done.add(hit.at.id);
        report({ range: rangeOf(hit.at), node: hit.at, message: `${b.name}() is the ${SLOT_ROLE[b.slot]} handler of ${b.via} and runs inside resume() with thread locks held and PIL raised, but ${hit.what}` });
      }
    }
  },
};
