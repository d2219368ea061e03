/** curvnet-unbalanced (FreeBSD): CURVNET_SET without CURVNET_RESTORE in the same block, on every path. */
import type { Rule } from './types';
import type { FileModel } from '../model';
import type { SyntaxNode } from '../syntax';
import { callName, lineOf, rangeOf } from '../syntax';
import type { PathState } from '../flow';
import { FlowWalker, TimeBudgetExceeded, initialState, renderTrail } from '../flow';

const SETS = new Set(['CURVNET_SET', 'CURVNET_SET_QUIET', 'CURVNET_SET_VERBOSE']);
type Pending = { block: SyntaxNode; call: SyntaxNode };
type Facts = readonly Pending[];

function blockOf(call: SyntaxNode): SyntaxNode | null {
  let cur: SyntaxNode | null = call.parent;
  while (cur && cur.type !== 'compound_statement') cur = cur.parent;
  return cur;
}

export const rule: Rule = {
  id: 'curvnet-unbalanced',
  title: 'CURVNET_SET without CURVNET_RESTORE on some path',
  severity: 'error',
  confidence: 'high',
  rationale:
    'CURVNET_SET(v) saves curvnet in a block-scoped saved_vnet and switches the thread to v; CURVNET_RESTORE() must run in the same block before it is left (vnet(9)). The compiler only catches a missing RESTORE in VIMAGE builds and never a goto or return that jumps past it: iflib_rxeof() (fixed in f49f61f19463) and bootpc_init() returned with td_vnet still set, leaving a stale vnet for the next task on that thread. A SET that is the unbraced body of an if or a loop is only partly conditional under VIMAGE.',
  trigger: /\bCURVNET_SET/,
  check(m, report) {
    if (/#\s*define\s+CURVNET_SET\b/.test(m.text)) return; // a local definition (userland port): not the kernel macro
    const done = new Set<number>();
    const say = (call: SyntaxNode, msg: string) => {
      if (done.has(call.id)) return;
      done.add(call.id);
      report({ range: rangeOf(call), node: call, message: msg });
    };
    for (const name of SETS) {
      for (const call of m.callsTo(name)) {
        const stmt = call.parent;
        const holder = stmt?.parent;
        if (stmt?.type === 'expression_statement' && holder && /^(if_statement|else_clause|for_statement|while_statement|do_statement)$/.test(holder.type)) {
          say(call, `${name}() is the unbraced body of ${holder.type === 'else_clause' ? 'an else' : 'a' + (holder.type === 'if_statement' ? 'n if' : ' loop')}: under VIMAGE only its assertion is conditional, the switch of curvnet happens always; put the SET and its RESTORE in one braced block`);
        }
      }
    }
    for (const fn of m.functions) {
      if (fn.hasError || !/\bCURVNET_SET/.test(fn.text)) continue;
      try { checkFunction(m, fn, say); } catch (e) { if (!(e instanceof TimeBudgetExceeded)) throw e; return; }
    }
  },
};

function checkFunction(m: FileModel, fn: SyntaxNode, say: (c: SyntaxNode, msg: string) => void): void {
  const flag = (s: PathState<Facts>, p: Pending, where: string, at: { line: number; text: string }) => {
    say(p.call, `${callName(p.call)}() at line ${lineOf(p.call)} ${where} without CURVNET_RESTORE(): the thread keeps this vnet as curvnet. Path: ${renderTrail(s.trail, at)}`);
  };
  const w = new FlowWalker<Facts>({
    key: (f) => f.map((p) => p.call.id).join(','),
    effect(node, s) {
      if (node.type !== 'call_expression') return s;
      const name = callName(node);
      if (SETS.has(name)) {
        const block = blockOf(node);
        if (!block) return s;
        const same = s.facts.find((p) => p.block.id === block.id);
        if (same) say(node, `second ${name}() in the block of the ${callName(same.call)}() at line ${lineOf(same.call)}: saved_vnet is declared twice (a VIMAGE-only compile error) and the first vnet is never restored`);
        return { ...s, facts: [...s.facts, { block, call: node }], trail: [...s.trail, { line: lineOf(node), text: `${name}()` }] };
      }
      if (name === 'CURVNET_RESTORE') {
        if (!s.facts.length) return s;
        return { ...s, facts: s.facts.slice(0, -1), trail: [...s.trail, { line: lineOf(node), text: 'CURVNET_RESTORE()' }] };
      }
      return s;
    },
    leaveBlock(block, s) {
      const keep: Pending[] = [];
      for (const p of s.facts) {
        const inside = p.block.startIndex >= block.startIndex && p.block.endIndex <= block.endIndex;
        if (inside) flag(s, p, `leaves its block at line ${block.endPosition.row + 1}`, { line: block.endPosition.row + 1, text: 'end of block' });
        else keep.push(p);
      }
      return keep.length === s.facts.length ? s : { ...s, facts: keep };
    },
    exit(s, at, how) {
      for (const p of s.facts) flag(s, p, how === 'return' ? `reaches the return at line ${lineOf(at)}` : 'reaches the end of the function', { line: how === 'return' ? lineOf(at) : at.endPosition.row + 1, text: how === 'return' ? 'return' : 'end of function' });
    },
  }, { deadline: m.deadline });
  w.run(fn, [initialState<Facts>([])]);
}
