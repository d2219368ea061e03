/**
 * Suppression quick fixes. The comment forms (documented in docs/rules/README.md):
 *   code();  /* kctx-lint: disable=RULE *\/        this line (trailing comment)
 *   /* kctx-lint: disable=RULE *\/                   alone on a line: the next code line
 *   /* kctx-lint: disable-function=RULE *\/          inside a function or just above it: the function
 *   /* kctx-lint: disable-file=RULE *\/              anywhere: the whole file
 * RULE is one id, a comma-separated list, or `all`.
 */
import type { FileModel } from '../model';
import type { Fix } from '../rules/types';
import type { SyntaxNode } from '../syntax';
import { insertAt } from './edits';

export function suppressionFixes(m: FileModel, rule: string, line: number, node: SyntaxNode | null, fnHint?: SyntaxNode): Fix[] {
  const out: Fix[] = [];
  const text = m.lineText(line);
  const indent = /^[ \t]*/.exec(text)![0];
  if (/\/\*|\/\/|\*\/|\\$/.test(text)) out.push({ title: `Suppress ${rule} on this line`, edits: [insertAt(line, 0, `${indent}/* kctx-lint: disable=${rule} */\n`)] });
  else out.push({ title: `Suppress ${rule} on this line`, edits: [insertAt(line, text.length, `\t/* kctx-lint: disable=${rule} */`)] });
  const fn = fnHint ? fnHint : node ? m.enclosingFunction(node) ?? (node.type === 'function_definition' ? node : null) : m.functions.find((f) => f.startPosition.row <= line && line <= f.endPosition.row) ?? null;
  if (fn) {
    let anchor: SyntaxNode = fn;
    for (let p = fn.previousSibling; p && p.type === 'comment' && p.endPosition.row >= anchor.startPosition.row - 1; p = p.previousSibling) anchor = p;
    out.push({ title: `Suppress ${rule} in this function`, edits: [insertAt(anchor.startPosition.row, 0, `/* kctx-lint: disable-function=${rule} */\n`)] });
  }
  // After a leading license/header comment, else at the top.
  let row = 0;
  const first = m.root.namedChildren[0];
  if (first && first.type === 'comment' && first.startPosition.row === 0) row = first.endPosition.row + 1;
  out.push({ title: `Suppress ${rule} in this file`, edits: [insertAt(row, 0, `/* kctx-lint: disable-file=${rule} */\n`)] });
  return out;
}
