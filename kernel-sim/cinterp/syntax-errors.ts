/**
 * The syntax errors a load reports, found in web-tree-sitter's nodes (split-parse.ts's worker
 * looks for them in its part too), and the error node tree-sitter makes of a switch without braces.
 */
import type { Node as TSNode } from 'web-tree-sitter';

/** What switchHead reads of a node (web-tree-sitter's while a load looks for syntax errors, ctree.ts's when compiling). */
interface HeadNode<N> {
  type: string;
  parent: N | null;
  nextNamedSibling: N | null;
  children: readonly (N | null)[];
  hasError: boolean;
}

/**
 * `switch (x)` followed by a statement without braces, which tree-sitter parses as an error
 * node (`switch` and the condition) in a block: the condition, or null when err is not that.
 */
export function switchHead<N extends HeadNode<N>>(err: N): N | null {
  const p = err.parent?.type;
  if ((p !== 'compound_statement' && p !== 'case_statement') || !err.nextNamedSibling) return null;
  const parts = err.children.filter((c) => c && c.type !== 'comment');
  return parts.length === 2 && parts[0]!.type === 'switch' && parts[1]!.type === 'parenthesized_expression' && !parts[1]!.hasError ? parts[1] : null;
}

/**
 * Every syntax error node under `n` (at most `max`). tree-sitter-c wants a name before a
 * bit-field's width: an unnamed bit-field (`int : 3;`) parses with a missing field_identifier
 * there, which is valid C. True when it found one.
 */
export function syntaxErrors(n: TSNode, out: TSNode[], max: number): boolean {
  if (out.length >= max) return true;
  if (n.type === 'ERROR' && switchHead(n)) return false; // stmt.ts compiles it
  if (n.isMissing || n.type === 'ERROR') {
    out.push(n);
    return true;
  }
  if (!n.hasError) return false;
  let found = false;
  let excused = false;
  for (const c of n.children) {
    if (!c) continue;
    if (c.isMissing && c.type === 'field_identifier' && c.nextSibling?.type === 'bitfield_clause') {
      excused = true;
      continue;
    }
    if (syntaxErrors(c, out, max)) found = true;
    else if (c.hasError) excused = true;
  }
  if (!found && !excused) {
    out.push(n);
    return true;
  }
  return found;
}

