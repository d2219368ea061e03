/** ctxop-template-rev: a struct ctxop_template without .ct_rev = CTXOP_TPL_REV. */
import { CTX_READS } from '../scopes';
import type { Rule } from './types';
import { lineIndent, insertAt, replaceNode } from '../fixes/edits';
import { rangeOf } from '../syntax';

export const rule: Rule = {
  id: 'ctxop-template-rev',
  title: 'ctxop_template without ct_rev = CTXOP_TPL_REV',
  severity: 'error',
  confidence: 'high',
  rationale:
    'ctxop_allocate() (and so ctxop_install()) starts with VERIFY3U(ct->ct_rev, ==, CTXOP_TPL_REV). VERIFY is compiled into every kernel, so a template that leaves ct_rev at 0, or sets another value, panics the machine the first time it is used. Every in-gate and out-of-gate template (fpu, kfpu, schedctl, bhyve, kvm, LX, VirtualBox) sets .ct_rev = CTXOP_TPL_REV first.',
  trigger: /\bctxop_template\b/,
  scope: CTX_READS,
  check(m, report) {
    for (const t of m.templates.values()) {
      if (t.init) {
        const rev = t.rev;
        if (rev) {
          const v = rev.text.trim();
          if (v === 'CTXOP_TPL_REV' || v === '1') continue;
          // A macro: judge only what this file defines it as (a header may define it correctly).
          if (/^[A-Za-z_]\w*$/.test(v)) {
            const def = new RegExp(`^\\s*#\\s*define\\s+${v}\\s+(\\S+)`, 'm').exec(m.text)?.[1];
            if (!def || def === 'CTXOP_TPL_REV' || def === '1' || !/^\d+$/.test(def)) continue;
          }
          report({ range: rangeOf(rev), node: rev, message: `ct_rev of ctxop template '${t.name}' is ${v}, not CTXOP_TPL_REV: ctxop_allocate() VERIFYs it and panics`, fixes: [{ title: 'Set ct_rev to CTXOP_TPL_REV', edits: [replaceNode(rev, 'CTXOP_TPL_REV')], preferred: true }] });
          continue;
        }
        if (t.positional) continue; // positional with no first element cannot happen; an empty list is handled below
        const items = t.init.namedChildren.filter((c) => c && c.type !== 'comment');
        const first = items[0];
        const edits = [];
        if (first && first.startPosition.row !== t.init.startPosition.row && lineIndent(m, first) !== null) {
          edits.push(insertAt(first.startPosition.row, 0, `${lineIndent(m, first)}.ct_rev\t\t= CTXOP_TPL_REV,\n`));
        } else if (first) {
          edits.push(insertAt(first.startPosition.row, first.startPosition.column, '.ct_rev = CTXOP_TPL_REV, '));
        } else {
          const open = t.init.child(0)!;
          edits.push(insertAt(open.endPosition.row, open.endPosition.column, ' .ct_rev = CTXOP_TPL_REV '));
        }
        report({ range: rangeOf(t.init.parent ?? t.init), node: t.decl, message: `ctxop template '${t.name}' does not set .ct_rev = CTXOP_TPL_REV: ctxop_allocate() VERIFYs ct_rev and panics every kernel that uses it`, fixes: [{ title: 'Add .ct_rev = CTXOP_TPL_REV', edits, preferred: true }] });
      } else {
        // Filled in at run time: look for the assignment of ct_rev.
        const esc = t.name.replace(/[^\w]/g, '');
        const fills = new RegExp(`\\b${esc}\\s*\\.\\s*ct_(save|restore|fork|lwp_create|exit|free)\\s*=`).test(m.text);
        const rev = new RegExp(`\\b${esc}\\s*\\.\\s*ct_rev\\s*=`).test(m.text);
        if (fills && !rev) report({ range: rangeOf(t.decl), node: t.decl, message: `ctxop template '${t.name}' is filled in at run time but ct_rev is never set to CTXOP_TPL_REV: ctxop_allocate() VERIFYs it and panics` });
      }
    }
  },
};
