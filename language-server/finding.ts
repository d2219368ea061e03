/** What a lint rule reports: a finding with its range, message and fixes (rules/types.ts has the rule's shape). */
import type { Range, SyntaxNode } from './syntax';

export interface TextEdit {
  range: Range;
  newText: string;
}

export interface Fix {
  title: string;
  edits: TextEdit[];
  /** Certainly right: may be applied by "auto fix" and by source.fixAll.kctx. */
  preferred?: boolean;
}

export interface Finding {
  range: Range;
  message: string;
  fixes?: Fix[];
  /** Node the finding is about (for function-level suppression). */
  node?: SyntaxNode;
  /** Set for findings replayed from the per-function cache (fncache.ts) instead of node: its offsets. */
  span?: { startIndex: number; endIndex: number };
  /** With span: the top-level function the finding is in. */
  fn?: SyntaxNode;
}
