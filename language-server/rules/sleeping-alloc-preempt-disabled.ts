/** sleeping-alloc-preempt-disabled: a KM_SLEEP allocation on a path where kernel preemption is disabled. */
import { CTX_READS } from '../scopes';
import { mayReach } from '../unread';
import { SLEEP_WORDS } from '../ctxapi';
import type { Rule, Fix } from './types';
import type { FileModel } from '../model';
import type { SyntaxNode } from '../syntax';
import { callArgs, callName, identifiersIn, lineOf, lvalueRoot, rangeOf, unwrap } from '../syntax';
import { renderTrail } from '../flow';
import { declareInFunction, deleteLines, enclosingStatement, freshName, hoistBeforeGuard, insertAt, insertLinesBefore, replaceNode } from '../fixes/edits';
import { planMigration } from '../fixes/migrate';

/** What can disable preemption (kpreempt_disable(), t_preempt++) or state it (ASSERT(curthread->t_preempt >= 1)). */
const PREEMPT_OFF = /\bkpreempt_disable\b|\bt_preempt\b/;

export const rule: Rule = {
  id: 'sleeping-alloc-preempt-disabled',
  title: 'Sleeping allocation with preemption disabled',
  severity: 'warning', // 89% measured: warning by the bar (docs/rules/README.md#precision)
  confidence: 'high',
  rationale:
    'kpreempt_disable() only stops involuntary preemption. A KM_SLEEP allocation inside the region can block, which is a voluntary swtch(): the thread leaves the CPU, its ctxops save and restore, and it may resume elsewhere, so code that relied on staying put sees a half-initialized state (illumos#13915: fp_exec, lwp_installctx, kernel_fpu_begin, KVM vcpu_load). Allocate first with preemption enabled (installctx_preallocate(), later ctxop_allocate()), then kpreempt_disable(), attach, initialize, kpreempt_enable(). Every feasible path counts, not just the one with the lower count.',
  trigger: PREEMPT_OFF,
  // a finding needs a sleeping allocation in a function that disables preemption, or in one it
  // calls (transitively: a callee that sleeps, a static function called only with preemption off)
  mayReport: (text) => mayReach(text, PREEMPT_OFF, SLEEP_WORDS),
  scope: CTX_READS,
  check(m, report) {
    const pa = m.preempt;
    // call sites as the walk left them (nodes resolved only for what is reported)
    const sites = [...pa.fns.values()].flatMap((f) => [...f.sites.values()]).sort((a, b) => a.start - b.start);
    for (const rec of sites) {
      const what = pa.siteWhat(rec);
      if (!what) continue;
      const st = pa.disabledAtRec(rec);
      if (!st) continue;
      // A same-file callee that runs with preemption disabled reports its own allocation: say it once.
      const callee = pa.fns.get(rec.name);
      if (callee && callee.entry > 0 && callee.sleeps && pa.disabledAtRec(callee.sleeps.rec)) continue;
      const call = rec.call;
      const path = renderTrail(st.trail, { line: lineOf(call), text: `${callName(call)}()` });
      const { fixes, why } = fixFor(m, call);
      const tail = fixes.length ? '' : ` No automatic fix: ${why}.`;
      report({
        range: rangeOf(call),
        node: call,
        message: `${what} while preemption is disabled (t_preempt ${st.count}${st.count >= 3 ? '+' : ''}): the thread can switch off the CPU inside the region (illumos#13915). Path: ${path}.${tail}`,
        fixes,
      });
    }
  },
};

function fixFor(m: FileModel, call: SyntaxNode): { fixes: Fix[]; why: string } {
  const pa = m.preempt;
  const disabled = pa.statesAt(call).filter((s) => s.count > 0);
  const guard = disabled[0]?.guards[0];
  if (!guard) return { fixes: [], why: 'preemption is disabled by the callers (or asserted), so the allocation belongs in the callers, before their kpreempt_disable()' };
  if (!disabled.every((s) => s.guards[0]?.id === guard.id)) return { fixes: [], why: 'different paths disable preemption in different places' };
  const fn = m.enclosingFunction(call);
  if (!fn) return { fixes: [], why: 'not in a function' };
  const name = callName(call);
  const a = callArgs(call);
  const stmt = enclosingStatement(call);

  // installctx(...) on a 13915 kernel: preallocate and pass the ctxop; on 13917: migrate.
  if (name === 'installctx' && m.era === '13917') {
    const plan = planMigration(m, [call]);
    if (typeof plan === 'string') return { fixes: [], why: plan };
    if (plan.caveats.length) return { fixes: [], why: plan.caveats.join('; ') };
    return { fixes: [{ title: 'Migrate to ctxop_allocate() before kpreempt_disable() and ctxop_attach() inside', edits: plan.edits, preferred: true }], why: '' };
  }
  if (name === 'installctx' && m.era === '13915' && (a.length === 8 || a.length === 9)) {
    const h = hoistBeforeGuard(m, call, guard, new Set());
    if (typeof h === 'string') return { fixes: [], why: h };
    const ctx = freshName(fn, ['ctx', 'ctxop', 'kctx_ctx']);
    const decl = declareInFunction(m, fn, `struct ctxop *${ctx};`);
    const pre = insertLinesBefore(m, h.guardStmt, [`${ctx} = installctx_preallocate();`]);
    if (!decl || !pre) return { fixes: [], why: 'no room for the declaration' };
    const last = a[a.length - 1]!;
    const pass = a.length === 9 ? replaceNode(a[8]!, ctx) : insertAt(last.endPosition.row, last.endPosition.column, `, ${ctx}`);
    return { fixes: [{ title: 'Preallocate with installctx_preallocate() before kpreempt_disable()', edits: [decl, pre, pass], preferred: true }], why: '' };
  }
  if (name === 'installctx') return { fixes: [], why: 'a pre-13915 kernel has no preallocation, and installing before the guard lets save/restore run on uninitialized state (illumos#13915); target 13915 (installctx_preallocate()) or 13917 (ctxop_allocate())' };

  // ctxop_install(t, &tpl, arg) under the guard: allocate before it, attach inside.
  if (name === 'ctxop_install' && a.length === 3 && stmt?.type === 'expression_statement' && unwrap(stmt.namedChild(0))?.id === call.id) {
    const reads = new Set([...identifiersIn(a[1]!), ...identifiersIn(a[2]!)]);
    const h = hoistBeforeGuard(m, call, guard, reads);
    if (typeof h === 'string') return { fixes: [], why: h };
    const ctx = freshName(fn, ['ctx', 'ctxop', 'kctx_ctx']);
    const decl = declareInFunction(m, fn, `struct ctxop *${ctx};`);
    const pre = insertLinesBefore(m, h.guardStmt, [`${ctx} = ctxop_allocate(${a[1]!.text}, ${a[2]!.text});`]);
    if (!decl || !pre) return { fixes: [], why: 'no room for the declaration' };
    return { fixes: [{ title: 'Allocate with ctxop_allocate() before kpreempt_disable(), ctxop_attach() inside', edits: [decl, pre, replaceNode(call, `ctxop_attach(${a[0]!.text}, ${ctx})`)], preferred: true }], why: '' };
  }

  // `v = alloc(...);` or `T *v = alloc(...);`: move the whole statement above the guard.
  const direct = name === 'ctxop_allocate' || name === 'installctx_preallocate' || /^kmem_(z?alloc|cache_alloc)$|^vmem_/.test(name);
  if (!direct) return { fixes: [], why: `${name}() may itself need preemption disabled; move its allocation before the guard by hand` };
  if (!stmt) return { fixes: [], why: 'the allocation is not a statement of its own' };
  let target = '';
  if (stmt.type === 'expression_statement') {
    const e = unwrap(stmt.namedChild(0));
    if (!e || e.type !== 'assignment_expression' || unwrap(e.childForFieldName('right'))?.id !== call.id) return { fixes: [], why: 'the allocation is part of a larger expression' };
    target = lvalueRoot(e.childForFieldName('left'));
  } else if (stmt.type === 'declaration') {
    const d = stmt.namedChildren.filter((c) => c?.type === 'init_declarator');
    if (d.length !== 1 || unwrap(d[0]!.childForFieldName('value'))?.id !== call.id) return { fixes: [], why: 'the allocation is part of a larger declaration' };
    target = d[0]!.childForFieldName('declarator')?.text.replace(/[^\w]/g, '') ?? '';
  } else return { fixes: [], why: 'the allocation is not a statement of its own' };
  const reads = new Set([...identifiersIn(call), target]);
  const h = hoistBeforeGuard(m, call, guard, reads);
  if (typeof h === 'string') return { fixes: [], why: h };
  // nothing between the guard and the allocation may read the target either
  for (let s = h.guardStmt.nextNamedSibling; s && s.id !== h.callStmt.id; s = s.nextNamedSibling) {
    if (target && identifiersIn(s).has(target)) return { fixes: [], why: `'${target}' is used between the guard and the allocation` };
  }
  const del = deleteLines(m, h.callStmt);
  const ins = insertLinesBefore(m, h.guardStmt, h.callStmt.text.split(/\n[ \t]*/).map((l, i) => (i ? '    ' + l : l)));
  if (!del || !ins) return { fixes: [], why: 'the statement shares its line with other code' };
  return { fixes: [{ title: `Move the allocation before kpreempt_disable() (line ${lineOf(h.guardStmt)})`, edits: [ins, del], preferred: true }], why: '' };
}
