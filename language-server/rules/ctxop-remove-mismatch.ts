/** ctxop-remove-mismatch: removectx()/ctxop_remove() whose handlers (or arg) differ from the install. */
import { CTX_READS } from '../scopes';
import type { Rule, Fix } from './types';
import type { FileModel } from '../model';
import type { SyntaxNode } from '../syntax';
import { callArgs, callName, lineOf, normText, rangeOf, unwrap } from '../syntax';
import { LEGACY_HANDLER_BASE, SLOTS, SLOT_ROLE, handlerText } from '../ctxapi';
import { replaceNode } from '../fixes/edits';

interface Op {
  call: SyntaxNode;
  handlers: string[]; // six, 'NULL' for none
  arg: string;
  argNode: SyntaxNode | undefined;
  tpl: string | null; // template name for the 13917 interface
  fn: SyntaxNode | null;
}

function legacyOp(m: FileModel, call: SyntaxNode): Op | null {
  const a = callArgs(call);
  if (a.length < 8) return null;
  return { call, handlers: SLOTS.map((_, i) => handlerText(a[LEGACY_HANDLER_BASE + i])), arg: normText(a[1]), argNode: a[1], tpl: null, fn: m.enclosingFunction(call) };
}

function templateOp(m: FileModel, call: SyntaxNode, tplArg: SyntaxNode | undefined, arg: SyntaxNode | undefined): Op | null {
  const t = m.templateOf(tplArg);
  if (!t || !t.init) return null;
  return { call, handlers: SLOTS.map((s) => t.handlers.get(s) ?? 'NULL'), arg: normText(arg), argNode: arg, tpl: t.name, fn: m.enclosingFunction(call) };
}

const simple = (s: string) => /^[A-Za-z_][\w]*(->[A-Za-z_]\w*|\.[A-Za-z_]\w*)*$/.test(s);

export const rule: Rule = {
  id: 'ctxop-remove-mismatch',
  title: 'removectx()/ctxop_remove() does not match the install',
  severity: 'error',
  confidence: 'high',
  rationale:
    'removectx() and ctxop_remove() find the ctxop to remove by comparing all six handler pointers and arg. One different handler (a NULL where the install passed an exit handler) or a different arg and nothing matches: the call returns 0, the ctxop stays on the thread and its save/restore keep running on state the caller is about to free. Most callers discard the return value with (void), so nothing notices.',
  trigger: /\b(removectx|ctxop_remove)\s*\(/,
  scope: CTX_READS,
  check(m, report) {
    const installs: Op[] = [];
    for (const c of m.callsTo('installctx')) { const o = legacyOp(m, c); if (o) installs.push(o); }
    for (const c of m.callsTo('ctxop_install')) { const a = callArgs(c); const o = templateOp(m, c, a[1], a[2]); if (o) installs.push(o); }
    for (const c of m.callsTo('ctxop_allocate')) { const a = callArgs(c); const o = templateOp(m, c, a[0], a[1]); if (o) installs.push(o); }
    const removes: Op[] = [];
    for (const c of m.callsTo('removectx')) { const o = legacyOp(m, c); if (o) removes.push(o); }
    for (const c of m.callsTo('ctxop_remove')) { const a = callArgs(c); const o = templateOp(m, c, a[1], a[2]); if (o) removes.push(o); }
    for (const r of removes) {
      const same = installs.filter((i) => i.handlers.every((h, k) => h === r.handlers[k]));
      if (same.length) {
        // Handlers match; flag a different arg only where both are in one function and plainly different.
        const local = same.filter((i) => i.fn && r.fn && i.fn.id === r.fn.id);
        if (same.length === 1 && local.length === 1 && local[0]!.arg !== r.arg && simple(local[0]!.arg) && simple(r.arg)) {
          const i = local[0]!;
          const fixes: Fix[] = r.argNode ? [{ title: `Pass '${i.arg}' as at the install on line ${lineOf(i.call)}`, edits: [replaceNode(r.argNode, i.argNode!.text)] }] : [];
          report({ range: rangeOf(r.argNode ?? r.call), node: r.call, message: `${callName(r.call)}() passes arg '${r.arg}' but the ${callName(i.call)}() at line ${lineOf(i.call)} installed with '${i.arg}': nothing matches, it returns 0 and the ctxop stays installed`, fixes });
        }
        continue;
      }
      let best: Op | null = null;
      let bestShared = 0;
      for (const i of installs) {
        let shared = 0;
        for (let k = 0; k < 6; k++) if (i.handlers[k] !== 'NULL' && i.handlers[k] === r.handlers[k]) shared++;
        if (shared > bestShared) { best = i; bestShared = shared; }
      }
      if (!best) continue; // installed elsewhere: nothing to compare with
      const diffs: string[] = [];
      for (let k = 0; k < 6; k++) if (best.handlers[k] !== r.handlers[k]) diffs.push(`${SLOT_ROLE[SLOTS[k]!]} is ${r.handlers[k]} here but ${best.handlers[k]} there`);
      const fixes: Fix[] = [];
      if (!r.tpl && !best.tpl) {
        const a = callArgs(r.call);
        const edits = [];
        for (let k = 0; k < 6; k++) if (best.handlers[k] !== r.handlers[k]) edits.push(replaceNode(a[LEGACY_HANDLER_BASE + k]!, best.handlers[k]!));
        fixes.push({ title: `Use the handlers of the ${callName(best.call)}() at line ${lineOf(best.call)}`, edits });
      } else if (r.tpl && best.tpl) {
        const t = m.templates.get(best.tpl);
        const visible = t && (!t.fn || (r.fn && t.fn.id === r.fn.id));
        if (visible) fixes.push({ title: `Remove with &${best.tpl}, the template installed at line ${lineOf(best.call)}`, edits: [replaceNode(unwrap(callArgs(r.call)[1])!, `&${best.tpl}`)] });
      }
      report({ range: rangeOf(r.call), node: r.call, message: `${callName(r.call)}() does not match the ${callName(best.call)}() at line ${lineOf(best.call)} (${diffs.join('; ')}): all six handlers and arg must match, so it returns 0 and the ctxop stays installed`, fixes });
    }
  },
};
