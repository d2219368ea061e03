/**
 * curvnet-unbalanced (FreeBSD): every path from a CURVNET_SET* to the exit of its block runs exactly
 * one CURVNET_RESTORE(). Exits are the closing brace, `return`, `goto` to a label outside the block
 * (or after the RESTORE), `break`/`continue` that leave the block; a path that comes back to the SET
 * (loop back-edge, backward `goto retry`) without a RESTORE re-SETs; a path that runs a second
 * RESTORE (a backward goto above the RESTORE) restores twice.
 * SETs that are the unbraced body of an if/loop and blocks with two SETs belong to curvnet-set-scope.
 */
import type { Fix, Rule, TextEdit } from './types';
import type { FileModel } from '../model';
import type { SyntaxNode } from '../syntax';
import { callName, identifiersIn, isAncestor, lineOf, rangeOf, walk, hasStructuralError } from '../syntax';
import type { PathState, Step } from '../flow';
import { FlowWalker, initialState, renderTrail } from '../flow';
import { CURVNET_SETS, definesMacro, inNoVimageBranch, scopeBlock, unbracedHolder, vnetNames } from '../vnet';
import { insertLinesBefore, lineIndent } from '../fixes/edits';

type Entry = { call: SyntaxNode; block: SyntaxNode; restored: boolean };
type Facts = readonly Entry[];

const contains = (outer: SyntaxNode, inner: SyntaxNode) => outer.startIndex <= inner.startIndex && inner.endIndex <= outer.endIndex;

interface Leak { set: SyntaxNode; message: string; returns: SyntaxNode[]; other: boolean }

export const rule: Rule = {
  id: 'curvnet-unbalanced',
  title: 'CURVNET_SET without exactly one CURVNET_RESTORE on some path',
  severity: 'error',
  confidence: 'high',
  rationale:
    'CURVNET_SET(v) saves curvnet in a block-scoped saved_vnet and switches the thread to v; exactly one CURVNET_RESTORE() must run in the same block before it is left (vnet(9)). The compiler never sees a goto or return that jumps past the RESTORE (jumping over a non-VLA declaration is legal C): iflib_rxeof() left through `goto err` with the vnet still set (fixed in f49f61f19463), and bootpc_init() restored too early when it jumped back to `retry:` and not at all when it jumped to `out:`. The thread keeps a stale vnet for whatever it runs next; VNET_DEBUG only logs it as a recursion.',
  trigger: /\bCURVNET_(SET|RESTORE)/,
  scope: { reads: /\bCURVNET_\w/ },
  check(m, report) {
    if (definesMacro(m.text, 'CURVNET_SET') || definesMacro(m.text, 'CURVNET_RESTORE')) return; // not the kernel macros
    for (const fn of m.functions) {
      if (hasStructuralError(fn) || !/\bCURVNET_SET/.test(fn.text) || inNoVimageBranch(fn)) continue;
      m.guarded(rule.id, fn, (rep) => checkFunction(m, fn, rep), report);
    }
  },
};

/** SETs this rule leaves to curvnet-set-scope: unbraced bodies, and every SET of a block that has two. */
function scopeIssues(m: FileModel, fn: SyntaxNode): Set<number> {
  const skip = new Set<number>();
  const byBlock = new Map<number, SyntaxNode[]>();
  for (const name of CURVNET_SETS) {
    for (const c of m.callsTo(name)) {
      if (!contains(fn, c)) continue;
      if (unbracedHolder(c) || inNoVimageBranch(c)) { skip.add(c.id); continue; }
      const stmt = c.parent;
      const b = stmt?.type === 'expression_statement' ? scopeBlock(stmt) : null;
      if (!b) continue;
      byBlock.set(b.id, [...(byBlock.get(b.id) ?? []), c]);
    }
  }
  for (const l of byBlock.values()) if (l.length > 1) for (const c of l) skip.add(c.id);
  return skip;
}

function checkFunction(m: FileModel, fn: SyntaxNode, report: Parameters<Rule['check']>[1]): void {
  const skip = scopeIssues(m, fn);
  const leaks = new Map<number, Leak>();
  const restoreFindings = new Map<number, string>();
  // every return: the SET ids pending on the paths that reach it ('' for a path with none pending)
  const atReturn = new Map<number, { node: SyntaxNode; pending: Set<string> }>();
  const leak = (s: PathState<Facts>, e: Entry, where: string, last: Step, ret?: SyntaxNode) => {
    let l = leaks.get(e.call.id);
    if (!l) {
      l = { set: e.call, message: `${callName(e.call)}() at line ${lineOf(e.call)} ${where} without CURVNET_RESTORE(): the thread keeps this vnet as curvnet. Path: ${renderTrail(s.trail, last)}`, returns: [], other: false };
      leaks.set(e.call.id, l);
    }
    if (ret) { if (!l.returns.some((r) => r.id === ret.id)) l.returns.push(ret); } else l.other = true;
  };
  const w = new FlowWalker<Facts>({
    key: (f) => f.map((p) => p.call.id + (p.restored ? 'r' : 's')).join(','),
    effect(node, s) {
      if (node.type !== 'call_expression') return s;
      const name = callName(node);
      if (CURVNET_SETS.has(name)) {
        if (skip.has(node.id)) return s;
        const stmt = node.parent;
        const block = stmt?.type === 'expression_statement' ? scopeBlock(stmt) : null;
        if (!block) return s;
        const again = s.facts.find((p) => p.call.id === node.id);
        if (again && !again.restored) {
          leak(s, again, 'is reached again by a loop or a backward goto', { line: lineOf(node), text: `${name}() again` });
        }
        const facts = [...s.facts.filter((p) => p.call.id !== node.id), { call: node, block, restored: false }];
        return { ...s, facts, trail: [...s.trail, { line: lineOf(node), text: `${name}()` }] };
      }
      if (name === 'CURVNET_RESTORE') {
        let idx = -1;
        for (let i = s.facts.length - 1; i >= 0; i--) if (contains(s.facts[i]!.block, node)) { idx = i; break; }
        const step = { line: lineOf(node), text: 'CURVNET_RESTORE()' };
        if (idx < 0) {
          // A SET before it in an enclosing block that this path did not run (a case label or a goto past it).
          const prior = priorSet(m, fn, node, skip);
          if (prior && !restoreFindings.has(node.id)) restoreFindings.set(node.id, `CURVNET_RESTORE() is reached on a path that did not run the ${callName(prior)}() at line ${lineOf(prior)}: saved_vnet is uninitialized there. Path: ${renderTrail(s.trail, step)}`);
          return s;
        }
        const e = s.facts[idx]!;
        if (e.restored) {
          if (!restoreFindings.has(node.id)) restoreFindings.set(node.id, `second CURVNET_RESTORE() on one path for the ${callName(e.call)}() at line ${lineOf(e.call)}: the code between the first RESTORE and here ran without that vnet. Path: ${renderTrail(s.trail, step)}`);
          return s;
        }
        const facts = s.facts.map((p, i) => (i === idx ? { ...p, restored: true } : p));
        return { ...s, facts, trail: [...s.trail, step] };
      }
      return s;
    },
    jump(stmt, target, s) {
      const keep: Entry[] = [];
      const what = stmt.type === 'goto_statement' ? `goto ${stmt.childForFieldName('label')?.text ?? ''}` : stmt.type === 'break_statement' ? 'break' : 'continue';
      for (const e of s.facts) {
        const leaves = contains(e.block, stmt) && (target ? (stmt.type === 'goto_statement' ? !contains(e.block, target) : contains(target, e.block)) : true);
        if (!leaves) { keep.push(e); continue; }
        if (!e.restored) leak(s, e, `is left by the ${what} at line ${lineOf(stmt)}`, { line: lineOf(stmt), text: what });
      }
      return keep.length === s.facts.length ? s : { ...s, facts: keep };
    },
    leaveBlock(block, s) {
      const keep: Entry[] = [];
      for (const e of s.facts) {
        if (!contains(block, e.block)) { keep.push(e); continue; }
        if (!e.restored) leak(s, e, `leaves its block at line ${block.endPosition.row + 1}`, { line: block.endPosition.row + 1, text: 'end of block' });
      }
      return keep.length === s.facts.length ? s : { ...s, facts: keep };
    },
    exit(s, at, how) {
      if (how === 'return') {
        const r = atReturn.get(at.id) ?? { node: at, pending: new Set<string>() };
        atReturn.set(at.id, r);
        const open = s.facts.filter((e) => !e.restored);
        if (!open.length) r.pending.add('');
        for (const e of open) r.pending.add(String(e.call.id));
      }
      for (const e of s.facts) {
        if (e.restored) continue;
        if (how === 'return') leak(s, e, `reaches the return at line ${lineOf(at)}`, { line: lineOf(at), text: 'return' }, at);
        else leak(s, e, 'reaches the end of the function', { line: at.endPosition.row + 1, text: 'end of function' });
      }
    },
  }, { budget: m.budget, mergeUnreadConditions: true });
  w.run(fn, [initialState<Facts>([])]);
  for (const l of leaks.values()) {
    const fixes = l.other ? [] : restoreFix(m, l, atReturn);
    report({ range: rangeOf(l.set), node: l.set, message: l.message, fixes });
  }
  for (const [id, msg] of restoreFindings) {
    const node = m.callsTo('CURVNET_RESTORE').find((c) => c.id === id);
    if (node) report({ range: rangeOf(node), node, message: msg });
  }
}

/** The CURVNET_SET* in an enclosing block of `restore` (same function) that precedes it. */
export function priorSet(m: FileModel, fn: SyntaxNode, restore: SyntaxNode, skip?: Set<number>): SyntaxNode | null {
  let best: SyntaxNode | null = null;
  for (const name of CURVNET_SETS) {
    for (const c of m.callsTo(name)) {
      if (!contains(fn, c) || c.startIndex > restore.startIndex || skip?.has(c.id)) continue;
      const stmt = c.parent;
      const b = stmt?.type === 'expression_statement' ? (unbracedHolder(c) ? scopeBlock(unbracedHolder(c)!.type === 'else_clause' ? unbracedHolder(c)!.parent! : unbracedHolder(c)!) : scopeBlock(stmt)) : null;
      if (b && contains(b, restore) && (!best || c.startIndex > best.startIndex)) best = c;
    }
  }
  return best;
}

/**
 * Add CURVNET_RESTORE() before each return the SET leaks through: only when every path that
 * reaches such a return has this SET pending (no other path would restore twice), the return
 * is inside the SET's block, and its value does not need the vnet (no calls, no V_ names, no curvnet).
 */
function restoreFix(m: FileModel, l: Leak, atReturn: Map<number, { node: SyntaxNode; pending: Set<string> }>): Fix[] {
  const vnames = vnetNames(m);
  const block = scopeBlock(l.set.parent!);
  if (!block || !l.returns.length) return [];
  const edits: TextEdit[] = [];
  for (const r of l.returns) {
    const info = atReturn.get(r.id);
    if (!info || info.pending.size !== 1 || !info.pending.has(String(l.set.id))) return [];
    if (!contains(block, r)) return [];
    let pure = true;
    walk(r, (x) => {
      if (x.type === 'call_expression' || x.type === 'assignment_expression' || x.type === 'update_expression') pure = false;
      return pure;
    });
    for (const id of identifiersIn(r)) if (vnames.has(id) || id === 'curvnet' || /^V_/.test(id)) pure = false;
    if (!pure) return [];
    const e = restoreBefore(m, r);
    if (!e) return [];
    edits.push(e);
  }
  return [{ title: `Add CURVNET_RESTORE() before ${l.returns.length === 1 ? `the return at line ${lineOf(l.returns[0]!)}` : `the returns at lines ${l.returns.map(lineOf).join(', ')}`}`, edits, preferred: true }];
}

function restoreBefore(m: FileModel, r: SyntaxNode): TextEdit | null {
  const p = r.parent;
  if (!p) return null;
  if (p.type === 'compound_statement' || p.type === 'case_statement' || p.type === 'labeled_statement') return insertLinesBefore(m, r, ['CURVNET_RESTORE();']);
  // The unbraced body of an if or else: brace it.
  const holder = p.type === 'if_statement' && p.childForFieldName('consequence')?.id === r.id ? p : p.type === 'else_clause' ? p : null;
  if (!holder) return null;
  const ind = lineIndent(m, r);
  const outer = lineIndent(m, holder.type === 'else_clause' ? holder.parent! : holder);
  if (ind === null || outer === null || r.startPosition.row === holder.startPosition.row) return null;
  const before = holder.type === 'if_statement' ? holder.childForFieldName('condition')! : holder.child(0)!; // the condition, or `else`
  if (!isAncestor(holder, before)) return null;
  return {
    range: { start: { line: before.endPosition.row, character: before.endPosition.column }, end: { line: r.endPosition.row, character: r.endPosition.column } },
    newText: ` {\n${ind}CURVNET_RESTORE();\n${ind}${r.text}\n${outer}}`,
  };
}
