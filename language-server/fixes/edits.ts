/**
 * Building blocks for quick fixes: text edits anchored to statements, a fresh local name,
 * a declaration at the top of a function, and the safety test for moving work before a
 * kpreempt_disable() guard.
 */
import type { FileModel } from '../model';
import type { TextEdit } from '../rules/types';
import type { Range, SyntaxNode } from '../syntax';
import { ancestor, callName, identifiersIn, lvalueRoot, rangeOf, walk } from '../syntax';
import { isNoreturnCall } from '../flow';

export function pos(line: number, character: number) {
  return { line, character };
}

export function insertAt(line: number, character: number, text: string): TextEdit {
  return { range: { start: pos(line, character), end: pos(line, character) }, newText: text };
}

export function replaceNode(n: SyntaxNode, text: string): TextEdit {
  return { range: rangeOf(n), newText: text };
}

/** Leading whitespace of the line a node starts on, or null when the node does not start its line. */
export function lineIndent(m: FileModel, n: SyntaxNode): string | null {
  const row = n.startPosition.row;
  const before = m.lineText(row).slice(0, n.startPosition.column);
  return /^[ \t]*$/.test(before) ? before : null;
}

/** Inserts whole lines before the line of statement s (same indentation). */
export function insertLinesBefore(m: FileModel, s: SyntaxNode, lines: string[]): TextEdit | null {
  const ind = lineIndent(m, s);
  if (ind === null) return null;
  return insertAt(s.startPosition.row, 0, lines.map((l) => ind + l + '\n').join(''));
}

/** Deletes the whole lines a statement occupies (it must own them). */
export function deleteLines(m: FileModel, s: SyntaxNode): TextEdit | null {
  if (lineIndent(m, s) === null) return null;
  const endRow = s.endPosition.row;
  const after = m.lineText(endRow).slice(s.endPosition.column);
  if (after.trim() !== '' && !/^\s*\/\*.*\*\/\s*$/.test(after)) return null;
  return { range: { start: pos(s.startPosition.row, 0), end: pos(endRow + 1, 0) }, newText: '' };
}

/** A local name not used anywhere in the function. */
export function freshName(fn: SyntaxNode, bases: string[]): string {
  const used = identifiersIn(fn);
  for (const b of bases) if (!used.has(b)) return b;
  for (let i = 2; ; i++) if (!used.has(bases[0] + i)) return bases[0] + i;
}

/** Adds a declaration after the function's leading declarations (illumos style: declarations first). */
export function declareInFunction(m: FileModel, fn: SyntaxNode, decl: string): TextEdit | null {
  const body = fn.childForFieldName('body');
  if (!body) return null;
  const stmts = body.namedChildren.filter((c) => c && c.type !== 'comment') as SyntaxNode[];
  const first = stmts[0];
  let lastDecl: SyntaxNode | null = null;
  for (const s of stmts) {
    if (s.type === 'declaration') lastDecl = s;
    else break;
  }
  const indent = (first && lineIndent(m, first)) || '\t';
  if (lastDecl) return insertAt(lastDecl.endPosition.row + 1, 0, indent + decl + '\n');
  const open = body.child(0)!;
  if (first && first.startPosition.row === open.startPosition.row) return null; // one-line body
  return insertAt(open.endPosition.row + 1, 0, indent + decl + '\n' + (first ? '\n' : ''));
}

/** The innermost compound statement containing both nodes. */
export function commonBlock(a: SyntaxNode, b: SyntaxNode): SyntaxNode | null {
  for (let cur: SyntaxNode | null = a.parent; cur; cur = cur.parent) {
    if (cur.type !== 'compound_statement') continue;
    if (cur.startIndex <= b.startIndex && b.endIndex <= cur.endIndex) return cur;
  }
  return null;
}

function directChild(n: SyntaxNode, block: SyntaxNode): SyntaxNode | null {
  let cur: SyntaxNode | null = n;
  while (cur && cur.parent && cur.parent.id !== block.id) cur = cur.parent;
  return cur && cur.parent?.id === block.id ? cur : null;
}

export interface Hoist {
  guardStmt: SyntaxNode; // statement (in the common block) that holds the outermost guard
  callStmt: SyntaxNode; // statement (in the same block) that holds the call
}

/**
 * Can work done by `call` move to just before the statement holding `guard`? Safe when both sit
 * in one block, the call's statement runs on every path that runs the guard's statement (nothing
 * in between can leave the block), and nothing in between writes what `reads` names.
 * Returns the statements, or a reason why not.
 */
export function hoistBeforeGuard(m: FileModel, call: SyntaxNode, guard: SyntaxNode, reads: Set<string>): Hoist | string {
  const block = commonBlock(guard, call);
  if (!block) return 'the guard and the call are not in one block';
  const guardStmt = directChild(guard, block);
  const callStmt = directChild(call, block);
  if (!guardStmt || !callStmt || guardStmt.id === callStmt.id) return 'the call is inside the guard statement';
  if (callStmt.type !== 'expression_statement' && callStmt.type !== 'declaration') return 'the call runs only on some paths after the guard';
  if (lineIndent(m, guardStmt) === null) return 'the guard does not start its own line';
  for (let s = guardStmt.nextNamedSibling; s && s.id !== callStmt.id; s = s.nextNamedSibling) {
    let bad = '';
    walk(s, (x) => {
      if (bad) return false;
      if (x.type === 'return_statement' || x.type === 'goto_statement' || x.type === 'break_statement' || x.type === 'continue_statement') bad = `a ${x.type.replace('_statement', '')} at line ${x.startPosition.row + 1} can skip the call`;
      else if (x.type === 'call_expression' && isNoreturnCall(x)) bad = `${callName(x)}() at line ${x.startPosition.row + 1}`;
      else if (x.type === 'labeled_statement') bad = `a label at line ${x.startPosition.row + 1} can enter between them`;
      else if (x.type === 'assignment_expression' || x.type === 'update_expression') {
        const root = lvalueRoot(x.childForFieldName(x.type === 'assignment_expression' ? 'left' : 'argument'));
        if (root && reads.has(root)) bad = `'${root}' changes at line ${x.startPosition.row + 1}`;
      }
      return !bad;
    });
    if (bad) return bad;
  }
  return { guardStmt, callStmt };
}

export function rangeEq(a: Range, b: Range): boolean {
  return a.start.line === b.start.line && a.start.character === b.start.character && a.end.line === b.end.line && a.end.character === b.end.character;
}

/** Applies non-overlapping edits to a text (positions in UTF-16 units, as LSP). */
export function applyEdits(text: string, edits: TextEdit[]): string {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  const off = (p: { line: number; character: number }) => (p.line < starts.length ? starts[p.line]! + p.character : text.length);
  const sorted = edits.map((e, i) => ({ s: off(e.range.start), e: off(e.range.end), t: e.newText, i })).sort((a, b) => a.s - b.s || a.e - b.e || a.i - b.i);
  let out = '';
  let at = 0;
  for (const e of sorted) {
    if (e.s < at) throw new Error('overlapping edits');
    out += text.slice(at, e.s) + e.t;
    at = e.e;
  }
  return out + text.slice(at);
}

/** Merges edit sets, skipping any set that overlaps one already taken (as shellcheck's fix-all does). */
export function mergeEdits(sets: TextEdit[][], text: string): TextEdit[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  const off = (p: { line: number; character: number }) => (p.line < starts.length ? starts[p.line]! + p.character : text.length);
  const taken: { s: number; e: number }[] = [];
  const out: TextEdit[] = [];
  for (const set of sets) {
    const spans = set.map((e) => ({ s: off(e.range.start), e: off(e.range.end) }));
    const clash = spans.some((a) => taken.some((b) => (a.s < b.e && b.s < a.e) || (a.s === a.e && a.s > b.s && a.s < b.e) || (a.s === b.s && a.e === b.e && a.s === a.e)));
    if (clash) continue;
    taken.push(...spans);
    out.push(...set);
  }
  return out;
}

export function enclosingStatement(n: SyntaxNode): SyntaxNode | null {
  return ancestor(n, (a) => a.type === 'expression_statement' || a.type === 'declaration' || a.type === 'return_statement');
}
