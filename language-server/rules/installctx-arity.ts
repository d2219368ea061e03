/** installctx-arity: installctx()/removectx() called with the wrong number of arguments for the kernel era. */
import { CTX_READS } from '../scopes';
import type { Rule, Fix } from './types';
import type { FileModel } from '../model';
import type { SyntaxNode } from '../syntax';
import { callArgs, rangeOf } from '../syntax';
import { installctxArity, isEraLabel } from '../ctxapi';
import { declareInFunction, freshName, hoistBeforeGuard, insertAt, insertLinesBefore } from '../fixes/edits';

export const rule: Rule = {
  id: 'installctx-arity',
  title: 'installctx() arity does not match the kernel era',
  severity: 'error',
  confidence: 'high',
  rationale:
    'illumos#13915 added a ninth parameter to installctx(), a struct ctxop * from installctx_preallocate() (NULL keeps the old sleeping allocation); removectx() kept eight. The header declares the handlers as unprototyped void (*)(), so a call with the wrong count is not always caught, and a module compiled for the other era passes garbage as the ctxop pointer (the VirtualBox module on a 13915 kernel).',
  trigger: /\b(installctx|removectx)\s*\(/,
  scope: CTX_READS,
  check(m, report) {
    if (m.fnByName.has('installctx')) return; // the kernel's own implementation
    const want = installctxArity(m.era);
    for (const call of m.callsTo('installctx')) {
      if (want === null || m.inOlderKernelBranch(call)) continue;
      const n = callArgs(call).length;
      if (n === want) continue;
      const why = want === 9
        ? 'since illumos#13915 the ninth argument is a preallocated struct ctxop * (NULL keeps the sleeping allocation)'
        : 'the ninth argument (a preallocated struct ctxop *) only exists from illumos#13915';
      report({ range: rangeOf(call), node: call, message: `installctx() takes ${want} arguments on an illumos ${isEraLabel(m.era)} kernel, not ${n}: ${why}`, fixes: arityFixes(m, call, n, want) });
    }
    if (m.era === '13917') return;
    for (const call of m.callsTo('removectx')) {
      if (m.inOlderKernelBranch(call)) continue;
      const a = callArgs(call);
      if (a.length === 8) continue;
      const fixes: Fix[] = [];
      if (a.length === 9) fixes.push({ title: 'Remove the ninth argument (removectx() always takes 8)', edits: [{ range: { start: rangeOf(a[7]!).end, end: rangeOf(a[8]!).end }, newText: '' }], preferred: true });
      report({ range: rangeOf(call), node: call, message: `removectx() takes 8 arguments in every era, not ${a.length}`, fixes });
    }
  },
};

function arityFixes(m: FileModel, call: SyntaxNode, n: number, want: number): Fix[] {
  const a = callArgs(call);
  const last = a[a.length - 1];
  if (!last) return [];
  if (want === 8 && n === 9) {
    return [{ title: 'Remove the ninth argument (this kernel has no preallocated ctxops)', edits: [{ range: { start: rangeOf(a[7]!).end, end: rangeOf(a[8]!).end }, newText: '' }], preferred: /^(NULL|0)$/.test(a[8]!.text.trim()) }];
  }
  if (want !== 9 || n !== 8) return [];
  const appendNull: Fix = { title: 'Append NULL (installctx() allocates the ctxop itself)', edits: [insertAt(rangeOf(last).end.line, rangeOf(last).end.character, ', NULL')] };
  const pa = m.preempt;
  if (pa.enabledOnAllPaths(call)) return [{ ...appendNull, preferred: true }];
  const disabled = pa.statesAt(call).filter((s) => s.count > 0);
  if (!disabled.length) return [appendNull]; // state unknown: offer, but not as the certain fix
  const guard = disabled[0]!.guards[0];
  if (!guard || !disabled.every((s) => s.guards[0]?.id === guard.id)) return [];
  const fn = m.enclosingFunction(call)!;
  const h = hoistBeforeGuard(m, call, guard, new Set<string>());
  if (typeof h === 'string') return [];
  const ctx = freshName(fn, ['ctx', 'ctxop', 'kctx_ctx']);
  const decl = declareInFunction(m, fn, `struct ctxop *${ctx};`);
  const pre = insertLinesBefore(m, h.guardStmt, [`${ctx} = installctx_preallocate();`]);
  if (!decl || !pre) return [];
  return [{
    title: 'Preallocate the ctxop with installctx_preallocate() before kpreempt_disable() and pass it',
    edits: [decl, pre, insertAt(rangeOf(last).end.line, rangeOf(last).end.character, `, ${ctx}`)],
    preferred: true,
  }];
}
