/**
 * curvnet-set-scope (FreeBSD): the three vnet(9) scope rules that only a VIMAGE build enforces, and
 * that a non-VIMAGE build compiles silently: (a) a CURVNET_SET or CURVNET_RESTORE() that is the unbraced
 * body of if/else/a loop, (b) two CURVNET_SET* in one block, (c) a CURVNET_RESTORE() with no
 * CURVNET_SET* before it in its block or an enclosing one.
 */
import type { Fix, Rule } from './types';
import type { SyntaxNode } from '../syntax';
import { callArgs, callName, lineOf, rangeOf, walk } from '../syntax';
import { CURVNET_SETS, definesMacro, exclusiveBranches, inNoVimageBranch, scopeBlock, unbracedHolder } from '../vnet';
import { priorSet } from './curvnet-unbalanced';

export const rule: Rule = {
  id: 'curvnet-set-scope',
  title: 'CURVNET_SET/RESTORE outside the block shape vnet(9) requires',
  severity: 'error',
  confidence: 'high',
  rationale:
    'Under VIMAGE, CURVNET_SET(v) expands to a VNET_ASSERT do-while followed by the declaration `struct vnet *saved_vnet = curvnet;` and `curvnet = v;`, and CURVNET_RESTORE() uses that saved_vnet. So `if (c) CURVNET_SET(v);` makes only the assertion conditional and switches the vnet always (and is a syntax error when an else follows); a second SET in one block redeclares saved_vnet; a RESTORE without a SET in its block or an enclosing one names an undeclared saved_vnet. vnet(9) states all three rules. A kernel without VIMAGE expands both macros to nothing, so such code compiles there and breaks only in the VIMAGE build (or, for the unbraced if, silently misbehaves in it).',
  trigger: /\bCURVNET_(SET|RESTORE)/,
  scope: { reads: /\bCURVNET_\w/ },
  check(m, report) {
    if (definesMacro(m.text, 'CURVNET_SET') || definesMacro(m.text, 'CURVNET_RESTORE')) return;
    const sets = [...CURVNET_SETS].flatMap((n) => m.callsTo(n)).filter((c) => !inNoVimageBranch(c)).sort((a, b) => a.startIndex - b.startIndex);
    const restores = m.callsTo('CURVNET_RESTORE').filter((c) => !inNoVimageBranch(c));
    const done = new Set<number>();
    // (a) unbraced bodies
    for (const c of [...sets, ...restores]) {
      const holder = unbracedHolder(c);
      if (!holder) continue;
      const name = callName(c);
      const what = holder.type === 'else_clause' ? 'an else' : holder.type === 'if_statement' ? 'an if' : 'a loop';
      const ifs = holder.type === 'else_clause' ? holder.parent! : holder;
      // if (c) SET(a); else SET(b);  ->  SET((c) ? (a) : (b));
      if (ifs.type === 'if_statement' && CURVNET_SETS.has(name)) {
        const pair = bothBranchesSet(ifs);
        if (pair) {
          if (done.has(ifs.id)) continue;
          done.add(ifs.id);
          done.add(pair[0].id);
          done.add(pair[1].id);
          report({ range: rangeOf(pair[0]), node: pair[0], message: `${callName(pair[0])}() in both branches of an if without braces: under VIMAGE the first expansion declares saved_vnet outside the if and the else no longer parses; choose the vnet in the argument instead`, fixes: ternaryFix(ifs, pair) });
          continue;
        }
      }
      if (done.has(c.id)) continue;
      done.add(c.id);
      const msg = CURVNET_SETS.has(name)
        ? `${name}() is the unbraced body of ${what}: under VIMAGE only its assertion is conditional, the switch of curvnet happens always; put the SET, the code that needs the vnet and the RESTORE in one braced block`
        : `CURVNET_RESTORE() is the unbraced body of ${what}: under VIMAGE only its assertion is conditional, curvnet is restored always`;
      report({ range: rangeOf(c), node: c, message: msg });
    }
    // (b) two SETs in one block
    const byBlock = new Map<number, SyntaxNode[]>();
    for (const c of sets) {
      if (unbracedHolder(c) || c.parent?.type !== 'expression_statement') continue;
      const b = scopeBlock(c.parent);
      if (!b) continue;
      const l = byBlock.get(b.id) ?? [];
      const first = l.find((x) => !exclusiveBranches(x, c));
      if (first && !done.has(c.id)) {
        done.add(c.id);
        report({ range: rangeOf(c), node: c, message: `second ${callName(c)}() in the block of the ${callName(first)}() at line ${lineOf(first)}: saved_vnet is declared twice (a compile error only in VIMAGE builds); restore and set in separate blocks, or nest a block for the second SET` });
      }
      l.push(c);
      byBlock.set(b.id, l);
    }
    // (c) RESTORE without a SET before it in its block or an enclosing one
    for (const r of restores) {
      if (done.has(r.id)) continue;
      const fn = m.enclosingFunction(r);
      if (!fn) continue;
      if (priorSet(m, fn, r)) continue;
      done.add(r.id);
      report({ range: rangeOf(r), node: r, message: 'CURVNET_RESTORE() without a CURVNET_SET() before it in this block or an enclosing one: saved_vnet is undeclared (a compile error only in VIMAGE builds); a RESTORE must be in the block of its SET or nested in it' });
    }
  },
};

function setIn(stmt: SyntaxNode | null): SyntaxNode | null {
  if (!stmt || stmt.type !== 'expression_statement') return null;
  const e = stmt.namedChildren.find((x) => x && x.type !== 'comment');
  return e && e.type === 'call_expression' && CURVNET_SETS.has(callName(e)) ? e : null;
}

function bothBranchesSet(ifs: SyntaxNode): [SyntaxNode, SyntaxNode] | null {
  const a = setIn(ifs.childForFieldName('consequence'));
  const alt = ifs.childForFieldName('alternative');
  const elseStmt = alt?.namedChildren.find((x) => x && x.type !== 'comment') ?? null;
  const b = setIn(elseStmt);
  return a && b ? [a, b] : null;
}

function ternaryFix(ifs: SyntaxNode, [a, b]: [SyntaxNode, SyntaxNode]): Fix[] {
  if (callName(a) !== callName(b)) return [];
  const cond = ifs.childForFieldName('condition');
  const ca = callArgs(a)[0];
  const cb = callArgs(b)[0];
  if (!cond || !ca || !cb || callArgs(a).length !== 1 || callArgs(b).length !== 1) return [];
  let pure = true;
  walk(cond, (x) => {
    if (x.type === 'call_expression' || x.type === 'assignment_expression' || x.type === 'update_expression') pure = false;
    return pure;
  });
  if (!pure) return [];
  let inner = cond.text.trim();
  if (inner.startsWith('(') && inner.endsWith(')')) inner = inner.slice(1, -1).trim();
  const alt = ifs.childForFieldName('alternative')!;
  return [{
    title: `Replace with ${callName(a)}((${inner}) ? (${ca.text}) : (${cb.text}))`,
    edits: [{ range: { start: { line: ifs.startPosition.row, character: ifs.startPosition.column }, end: { line: alt.endPosition.row, character: alt.endPosition.column } }, newText: `${callName(a)}((${inner}) ? (${ca.text}) : (${cb.text}));` }],
    preferred: true,
  }];
}
