/** ctxop-double-free: ctxop_free() after ctxop_remove(), of a freed ctxop, or of one still attached. */
import { CTX_READS } from '../scopes';
import type { Rule } from './types';
import type { FileModel } from '../model';
import type { SyntaxNode } from '../syntax';
import { callArgs, callName, lineOf, lvalueRoot, normText, rangeOf, unwrap, hasStructuralError } from '../syntax';
import type { PathState } from '../flow';
import { FlowWalker, initialState, renderTrail } from '../flow';

type St = { state: 'detached' | 'attached' | 'freed' | 'removed'; at: SyntaxNode; tpl?: string };
type Facts = ReadonlyMap<string, St>;

export const rule: Rule = {
  id: 'ctxop-double-free',
  title: 'ctxop freed twice, after ctxop_remove(), or while attached',
  severity: 'error',
  confidence: 'high',
  rationale:
    'ctxop_remove() detaches and frees the ctxop it finds; ctxop_free() frees a ctxop the caller owns. The kernel checks neither: ctxop_free() after ctxop_remove() (or twice) is a double free, and ctxop_free() of a ctxop that is still attached leaves a freed ctxop on the thread\'s t_ctx ring, whose save/restore run at the next context switch (use after free). Detach first, or manage a ctxop either with attach/detach/free or with install/remove, not both.',
  trigger: /\bctxop_free\s*\(|\bctxop_detach\s*\(/,
  scope: CTX_READS,
  check(m, report) {
    const done = new Set<number>();
    for (const fn of m.functions) {
      if (hasStructuralError(fn) || !/\bctxop_(free|detach)\b/.test(fn.text)) continue;
      m.guarded(rule.id, fn, (rep) => checkFunction(m, fn, rep, done), report);
    }
  },
};

function checkFunction(m: FileModel, fn: SyntaxNode, report: Parameters<Rule['check']>[1], done: Set<number>): void {
  const set = (s: PathState<Facts>, k: string, v: St | null, text?: string, at?: SyntaxNode): PathState<Facts> => {
    const f = new Map(s.facts);
    if (v) f.set(k, v); else f.delete(k);
    return { ...s, facts: f, trail: text && at ? [...s.trail, { line: lineOf(at), text }] : s.trail };
  };
  const say = (call: SyntaxNode, s: PathState<Facts>, msg: string) => {
    if (done.has(call.id)) return;
    done.add(call.id);
    report({ range: rangeOf(call), node: call, message: `${msg}. Path: ${renderTrail(s.trail, { line: lineOf(call), text: callName(call) + '()' })}` });
  };
  const w = new FlowWalker<Facts>({
    key: (f) => [...f].map(([k, v]) => `${k}:${v.state}`).sort().join(','),
    effect(node, s) {
      if (node.type === 'call_expression') {
        const name = callName(node);
        const a = callArgs(node);
        if (name === 'ctxop_attach' && a[1]) {
          const k = normText(a[1]);
          const cur = s.facts.get(k);
          return set(s, k, { state: 'attached', at: node, tpl: cur?.tpl }, `ctxop_attach(${k})`, node);
        }
        if (name === 'ctxop_detach' && a[1]) {
          const k = normText(a[1]);
          const cur = s.facts.get(k);
          if (cur?.state === 'removed') say(node, s, `ctxop_detach() of '${k}', which the ctxop_remove() at line ${lineOf(cur.at)} already detached and freed`);
          else if (cur?.state === 'freed') say(node, s, `ctxop_detach() of '${k}' after ctxop_free() at line ${lineOf(cur.at)}`);
          return set(s, k, { state: 'detached', at: node, tpl: cur?.tpl }, `ctxop_detach(${k})`, node);
        }
        if (name === 'ctxop_free' && a[0]) {
          const k = normText(a[0]);
          const cur = s.facts.get(k);
          if (cur?.state === 'attached') say(node, s, `ctxop_free() of '${k}' while it is still attached (ctxop_attach() at line ${lineOf(cur.at)}): the thread keeps running its handlers on freed memory; ctxop_detach() it first`);
          else if (cur?.state === 'removed') say(node, s, `ctxop_free() of '${k}' after the ctxop_remove() at line ${lineOf(cur.at)}, which already freed it`);
          else if (cur?.state === 'freed') say(node, s, `'${k}' is freed twice (first ctxop_free() at line ${lineOf(cur.at)})`);
          return set(s, k, { state: 'freed', at: node }, `ctxop_free(${k})`, node);
        }
        if (name === 'ctxop_remove' && a[1]) {
          const tpl = normText(a[1]) + '|' + normText(a[2]);
          let out = s;
          for (const [k, v] of s.facts) if (v.tpl === tpl && v.state === 'attached') out = set(out, k, { state: 'removed', at: node, tpl }, `ctxop_remove() frees ${k}`, node);
          return out;
        }
        return s;
      }
      if (node.type === 'assignment_expression' || node.type === 'init_declarator') {
        const left = node.type === 'assignment_expression' ? node.childForFieldName('left') : node.childForFieldName('declarator');
        const right = unwrap(node.type === 'assignment_expression' ? node.childForFieldName('right') : node.childForFieldName('value'));
        const k = normText(left);
        if (!k) return s;
        let out = s;
        // any write to a tracked pointer (or to the variable a tracked field hangs off) forgets it
        const root = lvalueRoot(left);
        for (const key of s.facts.keys()) if (key === k || key.startsWith(root + '->') || key.startsWith(root + '.')) out = set(out, key, null);
        if (right?.type === 'call_expression' && callName(right) === 'ctxop_allocate') {
          const ra = callArgs(right);
          out = set(out, k, { state: 'detached', at: right, tpl: normText(ra[0]) + '|' + normText(ra[1]) }, `${k} = ctxop_allocate()`, right);
        }
        return out;
      }
      return s;
    },
  }, { budget: m.budget, mergeUnreadConditions: true });
  w.run(fn, [initialState<Facts>(new Map())]);
}
