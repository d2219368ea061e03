/**
 * vnet-access-without-curvnet (FreeBSD): a callout, taskqueue task, kernel thread, software interrupt,
 * interrupt handler or (non-VNET) event handler that uses a V_ variable, a curvnet-using kernel API or
 * CURVNET_ASSERT_SET() (itself or through a same-file helper) where no CURVNET_SET* dominates the use.
 */
import type { Rule } from './types';
import type { FileModel } from '../model';
import type { SyntaxNode } from '../syntax';
import { callArgs, callName, lineOf, rangeOf, statementIn, unwrap, walk, hasStructuralError } from '../syntax';
import { CURVNET_APIS, CURVNET_SETS, definesMacro, inNoVimageBranch, scopeBlock, vnetNames } from '../vnet';

/** Registration API -> index of the function argument, and what runs it. */
const ENTRY_APIS: ReadonlyMap<string, { args: number[]; kind: string }> = new Map([
  ['callout_reset', { args: [2], kind: 'callout' }], ['callout_reset_on', { args: [2], kind: 'callout' }],
  ['callout_reset_curcpu', { args: [2], kind: 'callout' }], ['callout_reset_sbt', { args: [3], kind: 'callout' }],
  ['callout_reset_sbt_on', { args: [3], kind: 'callout' }], ['callout_reset_sbt_curcpu', { args: [3], kind: 'callout' }],
  ['TASK_INIT', { args: [2], kind: 'taskqueue task' }], ['NET_TASK_INIT', { args: [2], kind: 'taskqueue task' }],
  ['TIMEOUT_TASK_INIT', { args: [3], kind: 'taskqueue task' }], ['GROUPTASK_INIT', { args: [2], kind: 'grouptask' }],
  ['kproc_create', { args: [0], kind: 'kernel process' }], ['kthread_add', { args: [0], kind: 'kernel thread' }],
  ['kproc_kthread_add', { args: [0], kind: 'kernel thread' }], ['swi_add', { args: [2], kind: 'software interrupt handler' }],
  ['bus_setup_intr', { args: [3, 4], kind: 'interrupt handler' }], ['EVENTHANDLER_REGISTER', { args: [1], kind: 'event handler' }],
]);

interface Use { node: SyntaxNode; what: string; via: SyntaxNode[] }

const contains = (o: SyntaxNode, i: SyntaxNode) => o.startIndex <= i.startIndex && i.endIndex <= o.endIndex;

/** Is `use` (inside fn) after a CURVNET_SET* in its block or an enclosing one, with no RESTORE in between? */
export function dominatedBySet(m: FileModel, fn: SyntaxNode, use: SyntaxNode): boolean {
  for (const name of CURVNET_SETS) {
    for (const c of m.callsTo(name)) {
      if (!contains(fn, c) || c.startIndex >= use.startIndex || !c.parent) continue;
      let stmt: SyntaxNode = c.parent;
      // an unbraced `if (c) CURVNET_SET(v);` switches always under VIMAGE (curvnet-set-scope reports it)
      if (stmt.parent && /^(if_statement|else_clause|for_statement|while_statement|do_statement)$/.test(stmt.parent.type)) stmt = stmt.parent.type === 'else_clause' ? stmt.parent.parent! : stmt.parent;
      const b = scopeBlock(stmt);
      if (!b || !contains(b, use)) continue;
      const from = statementIn(stmt, b);
      const to = statementIn(use, b);
      if (!from || !to || to.startIndex <= from.startIndex) continue;
      let restored = false;
      for (let s = from.nextNamedSibling; s && s.id !== to.id; s = s.nextNamedSibling) {
        if (s.type === 'expression_statement' && /^\s*CURVNET_RESTORE\s*\(/.test(s.text)) restored = true;
        // `CURVNET_RESTORE(); return;`: that path ended; what follows is reached by a jump (a goto's label)
        else if (restored && (s.type === 'return_statement' || s.type === 'goto_statement')) restored = false;
      }
      if (!restored) return true;
    }
  }
  return false;
}

function firstUse(m: FileModel, fn: SyntaxNode, depth: number, seen: Set<string>): Use | null {
  const names = vnetNames(m);
  const body = fn.childForFieldName('body');
  if (!body) return null;
  let found: Use | null = null;
  walk(body, (n) => {
    if (found) return false;
    if (n.type === 'comment' || n.type === 'string_literal') return false;
    let use: Use | null = null;
    if (n.type === 'identifier' && names.has(n.text)) {
      const p = n.parent;
      if (!(p && p.type === 'call_expression' && p.childForFieldName('function')?.id === n.id)) use = { node: n, what: n.text, via: [] };
    } else if (n.type === 'call_expression') {
      const c = callName(n);
      if (c === 'CURVNET_ASSERT_SET') use = { node: n, what: 'CURVNET_ASSERT_SET()', via: [] };
      else if (CURVNET_APIS.has(c)) use = { node: n, what: `${c}() (it uses curvnet)`, via: [] };
      else if (depth < 3 && c && !seen.has(c)) {
        const callee = m.fnByName.get(c);
        if (callee && !hasStructuralError(callee)) {
          seen.add(c);
          const inner = firstUse(m, callee, depth + 1, seen);
          if (inner) use = { node: n, what: inner.what, via: [n, ...inner.via, inner.node] };
        }
      }
    }
    if (use && !dominatedBySet(m, fn, use.node)) found = use;
    return !found;
  });
  return found;
}

const USES_VNET = /\bV_\w+|\bCURVNET_ASSERT_SET\b|\b(ifunit|ifunit_ref|netisr_\w+|ip6?_output|if_clone_\w+)\s*\(/;

export const rule: Rule = {
  id: 'vnet-access-without-curvnet',
  title: 'V_ variable used by a callout, task or thread without CURVNET_SET',
  severity: 'warning',
  confidence: 'medium',
  rationale:
    'Callouts, taskqueue tasks, kernel threads and interrupt handlers run on threads whose curvnet is NULL. V_x is *(curvnet->vnet_data_base + &vnet_entry_x) under VIMAGE, and no check guards it: a NULL curvnet is a plain NULL dereference (vnet(9); the vnet rework named timer-driven functions as one of the three places that must CURVNET_SET on entry). CURVNET_ASSERT_SET() in such a handler fires on VIMAGE kernels with INVARIANTS. A kernel without VIMAGE hides the bug: V_x is then a plain global.',
  trigger: /\b(callout_reset\w*|TASK_INIT|NET_TASK_INIT|TIMEOUT_TASK_INIT|GROUPTASK_INIT|kproc_create|kthread_add|kproc_kthread_add|swi_add|bus_setup_intr|EVENTHANDLER_REGISTER)\s*\(/,
  scope: { reads: /\b(callout_reset\w*|TASK_INIT|NET_TASK_INIT|TIMEOUT_TASK_INIT|GROUPTASK_INIT|kproc_create|kthread_add|kproc_kthread_add|swi_add|bus_setup_intr|EVENTHANDLER_REGISTER)\s*\(/, named: /\bV_\w|\bCURVNET_\w|\b(?:ifunit|ifunit_ref|netisr_\w+|ip6?_output|if_clone_\w+)\b/ }, // the callbacks, and what they call that uses the vnet
  // a callback can only use the vnet where the file says V_x, CURVNET_ASSERT_SET or a vnet-reading call
  mayReport: (text) => USES_VNET.test(text),
  check(m, report) {
    if (definesMacro(m.text, 'CURVNET_SET')) return;
    if (!USES_VNET.test(m.text)) return;
    const done = new Set<string>();
    for (const [api, { args, kind }] of ENTRY_APIS) {
      for (const reg of m.callsTo(api)) {
        if (inNoVimageBranch(reg)) continue;
        const a = callArgs(reg);
        for (const i of args) {
          let f = unwrap(a[i]);
          if (f && f.type === 'pointer_expression' && f.child(0)?.text === '&') f = unwrap(f.childForFieldName('argument'));
          if (!f || f.type !== 'identifier') continue;
          const fn = m.fnByName.get(f.text);
          if (!fn || hasStructuralError(fn) || done.has(f.text) || inNoVimageBranch(fn)) continue;
          done.add(f.text);
          const use = firstUse(m, fn, 0, new Set([f.text]));
          if (!use) continue;
          const chain = use.via.length ? ` through ${use.via.filter((x) => x.type === 'call_expression').map((x) => `${callName(x)}() (line ${lineOf(x)})`).join(' -> ')}` : '';
          const where = use.via.length ? use.via[0]! : use.node;
          const msg = use.what === 'CURVNET_ASSERT_SET()'
            ? `CURVNET_ASSERT_SET() in ${kind} ${f.text}() (registered with ${api}() at line ${lineOf(reg)})${chain} with no CURVNET_SET before it: ${kind}s run with curvnet NULL, so the assertion fires on VIMAGE kernels with INVARIANTS`
            : `${kind} ${f.text}() (registered with ${api}() at line ${lineOf(reg)}) uses ${use.what}${chain} with no CURVNET_SET before it: ${kind}s run with curvnet NULL, and a V_ variable then dereferences a NULL vnet under VIMAGE; CURVNET_SET() the vnet the work belongs to (e.g. from the argument) first`;
          report({ range: rangeOf(where), node: where, message: msg });
        }
      }
    }
  },
};
