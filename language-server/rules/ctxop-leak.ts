/** ctxop-leak: a ctxop_allocate() result (or a ctxop_detach()ed ctxop) not freed on some path. */
import { CTX_READS } from '../scopes';
import type { Rule } from './types';
import type { FileModel } from '../model';
import type { SyntaxNode } from '../syntax';
import { callArgs, callName, lineOf, rangeOf, unwrap, walk, hasStructuralError } from '../syntax';
import type { PathState } from '../flow';
import { FlowWalker, condition, initialState, renderTrail } from '../flow';

type Own = { state: 'owned' | 'gone'; since: SyntaxNode };
type Facts = ReadonlyMap<string, Own>;

const OWNERSHIP_API = new Set(['ctxop_attach', 'ctxop_detach', 'ctxop_free']);

/** Local variables (not parameters, not statics) of a function. */
function locals(fn: SyntaxNode): Set<string> {
  const out = new Set<string>();
  const body = fn.childForFieldName('body');
  if (!body) return out;
  walk(body, (n) => {
    if (n.type === 'declaration') {
      if (n.namedChildren.some((c) => c?.type === 'storage_class_specifier' && (c.text === 'static' || c.text === 'extern'))) return false;
      for (const d of n.childrenForFieldName('declarator')) {
        let cur: SyntaxNode | null = d;
        while (cur && cur.type !== 'identifier') cur = cur.childForFieldName('declarator');
        if (cur) out.add(cur.text);
      }
    }
    return true;
  });
  return out;
}

function mentions(n: SyntaxNode | null, v: string): boolean {
  if (!n) return false;
  let hit = false;
  walk(n, (x) => {
    if (x.type === 'identifier' && x.text === v) hit = true;
    return !hit;
  });
  return hit;
}

export const rule: Rule = {
  id: 'ctxop-leak',
  title: 'ctxop not freed on some path',
  severity: 'warning',
  confidence: 'medium',
  rationale:
    'ctxop_allocate() returns a ctxop owned by the caller until ctxop_attach() hands it to a thread. ctxop_detach() gives it back without freeing it and without calling its free handler, so after a detach the caller must ctxop_free() it (bhyve vcpu_cleanup, KVM kvm_vcpu_uninit). A path that returns while it still owns the ctxop leaks it, along with whatever its free handler would have released.',
  trigger: /\bctxop_(allocate|detach)\s*\(/,
  scope: CTX_READS,
  check(m, report) {
    const reported = new Set<number>();
    // The result thrown away.
    const discarded = (c: SyntaxNode, rep: Parameters<Rule['check']>[1]) => {
      if (c.parent?.type === 'expression_statement') {
        reported.add(c.id);
        rep({ range: rangeOf(c), node: c, message: 'the ctxop returned by ctxop_allocate() is discarded: it can never be attached or freed' });
      }
    };
    const { inFn, outside } = m.matchesByFunction(/\bctxop_allocate\s*\(/g);
    for (const r of outside) { const c = m.callAt('ctxop_allocate', r.index); if (c) discarded(c, report); }
    for (const fn of m.functions) {
      // the verdict reads only the function
      if (!/\bctxop_(allocate|detach)\b/.test(m.textOf(fn))) continue;
      m.perFunction(rule.id, fn, '', (rep) => {
        for (const r of inFn.get(fn) ?? []) { const c = m.callAt('ctxop_allocate', r.index); if (c) discarded(c, rep); }
        if (!hasStructuralError(fn)) checkFunction(m, fn, rep, reported);
      }, report);
    }
  },
};

function checkFunction(m: FileModel, fn: SyntaxNode, report: Parameters<Rule['check']>[1], reported: Set<number>): void {
  const mine = locals(fn);
  const leak = (s: PathState<Facts>, where: string) => {
    for (const [v, o] of s.facts) {
      if (o.state !== 'owned' || reported.has(o.since.id)) continue;
      reported.add(o.since.id);
      const how = callName(o.since) === 'ctxop_detach' ? 'detached here (ctxop_detach() does not free)' : 'allocated here';
      report({ range: rangeOf(o.since), node: o.since, message: `ctxop '${v}' ${how} is not freed on a path that ${where}: call ctxop_free() or attach it. Path: ${renderTrail(s.trail)}` });
    }
  };
  const set = (s: PathState<Facts>, v: string, o: Own | null, step?: { line: number; text: string }): PathState<Facts> => {
    const f = new Map(s.facts);
    if (o) f.set(v, o); else f.delete(v);
    return { ...s, facts: f, trail: step ? [...s.trail, step] : s.trail };
  };
  const escapeAll = (s: PathState<Facts>, n: SyntaxNode | null): PathState<Facts> => {
    let out = s;
    for (const v of s.facts.keys()) if (mentions(n, v)) out = set(out, v, null);
    return out;
  };
  const w = new FlowWalker<Facts>({
    key: (f) => [...f].map(([k, o]) => `${k}:${o.state}:${o.since.id}`).sort().join(','),
    effect(node, s) {
      if (node.type === 'call_expression') {
        const name = callName(node);
        const a = callArgs(node);
        if (OWNERSHIP_API.has(name)) {
          const arg = unwrap(name === 'ctxop_free' ? a[0] : a[1]);
          const v = arg?.type === 'identifier' ? arg.text : '';
          if (v && mine.has(v)) {
            if (name === 'ctxop_detach') return set(s, v, { state: 'owned', since: node }, { line: lineOf(node), text: `ctxop_detach(${v})` });
            return set(s, v, null);
          }
          return s;
        }
        if (name === 'ctxop_allocate') return s; // handled by the assignment that stores it
        // passing a tracked ctxop (or its address) anywhere else hands it over
        let out = s;
        for (const x of a) out = escapeAll(out, x);
        return out;
      }
      if (node.type === 'assignment_expression' || node.type === 'init_declarator') {
        const left = node.type === 'assignment_expression' ? unwrap(node.childForFieldName('left')) : node.childForFieldName('declarator');
        const right = node.type === 'assignment_expression' ? node.childForFieldName('right') : node.childForFieldName('value');
        let out = escapeAll(s, right);
        const v = left?.type === 'identifier' ? left.text : '';
        if (v && mine.has(v)) {
          const prev = out.facts.get(v);
          if (prev?.state === 'owned' && !mentions(right, v)) leak(out, `overwrites '${v}' at line ${lineOf(node)}`);
          const r = unwrap(right);
          if (r?.type === 'call_expression' && callName(r) === 'ctxop_allocate') return set(out, v, { state: 'owned', since: r }, { line: lineOf(r), text: `${v} = ctxop_allocate()` });
          out = set(out, v, null);
        }
        return out;
      }
      return s;
    },
    assume(cond, truth, s) {
      // `if (ctx == NULL)` / `if (!ctx)`: on the NULL side there is nothing to free.
      const c = condition(cond);
      if (!c || c.constant) return s;
      const o = s.facts.get(c.key);
      if (!o) return s;
      const isNull = truth !== c.positive;
      return isNull ? set(s, c.key, null) : s;
    },
    exit(s, at, how) {
      let st = s;
      if (how === 'return') {
        const e = at.namedChildren.find((x) => x && x.type !== 'comment') ?? null;
        st = escapeAll(st, e);
        leak({ ...st, trail: [...st.trail, { line: lineOf(at), text: 'return' }] }, `returns at line ${lineOf(at)}`);
      } else leak({ ...st, trail: [...st.trail, { line: at.endPosition.row + 1, text: 'end of function' }] }, `reaches the end of ${fn.childForFieldName('declarator')?.text.replace(/\(.*$/s, '') ?? 'the function'}()`);
    },
  }, { budget: m.budget, mergeUnreadConditions: true });
  w.run(fn, [initialState<Facts>(new Map())]);
}
