/** ctx-ring-walk: a walk of t_ctx that stops at NULL; the list is a ring since illumos#12477. */
import { CTX_READS } from '../scopes';
import type { Rule } from './types';
import type { SyntaxNode } from '../syntax';
import { collect, rangeOf, unwrap, walk } from '../syntax';
import { condition } from '../flow';

const LOOPS = new Set(['for_statement', 'while_statement', 'do_statement']);

/** `v = v->next` or `v = v->prev` anywhere in n. */
function advances(n: SyntaxNode | null, v: string): boolean {
  if (!n) return false;
  let hit = false;
  walk(n, (x) => {
    if (x.type === 'assignment_expression' && unwrap(x.childForFieldName('left'))?.text === v) {
      const r = unwrap(x.childForFieldName('right'));
      if (r?.type === 'field_expression' && unwrap(r.childForFieldName('argument'))?.text === v && /^(next|prev)$/.test(r.childForFieldName('field')?.text ?? '')) hit = true;
    }
    return !hit;
  });
  return hit;
}

/** Is v (or v->next) compared with something that is not NULL, i.e. the head? */
function comparesWithHead(n: SyntaxNode | null, v: string): boolean {
  if (!n) return false;
  let hit = false;
  walk(n, (x) => {
    if (x.type === 'binary_expression' && /^(==|!=)$/.test(x.childForFieldName('operator')?.text ?? '')) {
      const l = unwrap(x.childForFieldName('left'));
      const r = unwrap(x.childForFieldName('right'));
      const isV = (e: SyntaxNode | null) => !!e && (e.text === v || new RegExp(`^${v}\\s*->\\s*(next|prev)$`).test(e.text));
      const isNull = (e: SyntaxNode | null) => !e || e.type === 'null' || e.text === 'NULL' || e.text === '0';
      if ((isV(l) && !isNull(r)) || (isV(r) && !isNull(l))) hit = true;
    }
    return !hit;
  });
  return hit;
}

/** Was v last set from an expression naming t_ctx before the loop (or in its initializer)? */
function fromTctx(loop: SyntaxNode, v: string): boolean {
  const init = loop.type === 'for_statement' ? loop.childForFieldName('initializer') : null;
  const fromExpr = (e: SyntaxNode | null) => !!e && /\bt_ctx\b/.test(e.text);
  if (init) {
    let ok = false;
    walk(init, (x) => {
      if ((x.type === 'assignment_expression' && unwrap(x.childForFieldName('left'))?.text === v && fromExpr(x.childForFieldName('right'))) ||
        (x.type === 'init_declarator' && x.childForFieldName('declarator')?.text.replace(/[^\w]/g, '') === v && fromExpr(x.childForFieldName('value')))) ok = true;
      return !ok;
    });
    if (ok) return true;
  }
  // the nearest earlier assignment to v in the same function
  let fn: SyntaxNode | null = loop.parent;
  while (fn && fn.type !== 'function_definition') fn = fn.parent;
  if (!fn) return false;
  let last: SyntaxNode | null = null;
  walk(fn, (x) => {
    if (x.startIndex >= loop.startIndex) return false;
    if (x.type === 'assignment_expression' && unwrap(x.childForFieldName('left'))?.text === v) last = x.childForFieldName('right');
    if (x.type === 'init_declarator' && x.childForFieldName('declarator')?.text.replace(/[^\w]/g, '') === v) last = x.childForFieldName('value');
    return true;
  });
  return fromExpr(last);
}

export const rule: Rule = {
  id: 'ctx-ring-walk',
  title: 'Walk of t_ctx ends at NULL',
  severity: 'error',
  confidence: 'high',
  rationale:
    'Since illumos#12477 (2020) a thread\'s ctxops form a circular doubly-linked list: t_ctx is the newest, next goes to older entries and wraps around to t_ctx, prev goes the other way, and no link is ever NULL while the list is non-empty. A loop written for the old singly-linked list (`for (c = t->t_ctx; c != NULL; c = c->next)`) never terminates when the entry it looks for is absent. Stop when the cursor comes back to the head (the mdb ctxop walker does both).',
  trigger: /\bt_ctx\b/,
  scope: CTX_READS,
  check(m, report) {
    for (const loop of collect(m.root, LOOPS)) {
      const cond = loop.childForFieldName('condition');
      const c = condition(cond);
      if (!c || c.constant || !c.positive || !/^[A-Za-z_]\w*$/.test(c.key)) continue; // wants `v != NULL` / `v`
      const v = c.key;
      const body = loop.childForFieldName('body');
      const update = loop.type === 'for_statement' ? loop.childForFieldName('update') : null;
      if (!advances(update, v) && !advances(body, v)) continue;
      if (!fromTctx(loop, v)) continue;
      if (comparesWithHead(cond, v) || comparesWithHead(body, v) || comparesWithHead(update, v)) continue;
      report({ range: rangeOf(cond ?? loop), node: loop, message: `this walk of t_ctx stops only when '${v}' is NULL, but the ctxop list is a ring since illumos#12477 (next/prev are never NULL): the loop never ends when the entry is absent; stop when '${v}' comes back to the head` });
    }
  },
};
