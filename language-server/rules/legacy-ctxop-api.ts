/** legacy-ctxop-api: installctx()/removectx()/installctx_preallocate() against a 13917 kernel. */
import { CTX_READS } from '../scopes';
import type { Rule } from './types';
import { callName, rangeOf } from '../syntax';
import { planMigration } from '../fixes/migrate';

const REPLACEMENT: Record<string, string> = {
  installctx: 'a static const struct ctxop_template with ctxop_install(), or ctxop_allocate() before kpreempt_disable() and ctxop_attach() inside',
  removectx: 'ctxop_remove(t, &template, arg)',
  installctx_preallocate: 'ctxop_allocate(&template, arg)',
};

export const rule: Rule = {
  id: 'legacy-ctxop-api',
  title: 'Legacy ctxop interface on a 13917 kernel',
  severity: 'error',
  confidence: 'high',
  rationale:
    'illumos#13917 replaced installctx(), removectx() and installctx_preallocate() with struct ctxop_template and ctxop_allocate/free/attach/detach/install/remove, with no compatibility shims: a module that still references the old symbols no longer loads on a current kernel. installpctx()/removepctx() (process context ops) are a different interface and were not changed.',
  trigger: /\b(installctx|removectx|installctx_preallocate)\s*\(/,
  scope: CTX_READS,
  check(m, report) {
    if (m.era !== '13917') return;
    if (m.fnByName.has('installctx') || m.fnByName.has('removectx')) return; // the kernel's own thread.c
    for (const name of ['installctx', 'removectx', 'installctx_preallocate']) {
      for (const call of m.callsTo(name)) {
        if (m.inOlderKernelBranch(call)) continue;
        const plan = planMigration(m, [call]);
        const fixes = typeof plan === 'string' ? [] : [{
          title: plan.caveats.length ? `Migrate ${callName(call)}() to the ctxop_template API (review: ${plan.caveats.join('; ')})` : `Migrate ${callName(call)}() to the ctxop_template API`,
          edits: plan.edits,
          preferred: plan.caveats.length === 0,
        }];
        report({ range: rangeOf(call), node: call, message: `${name}() does not exist on an illumos 13917 kernel (removed by illumos#13917, no shim): a module calling it fails to load. Use ${REPLACEMENT[name]}.`, fixes });
      }
    }
  },
};
