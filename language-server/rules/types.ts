/** The shape of a lint rule and of what it reports. */
import type { FileModel } from '../model';
import type { Range } from '../syntax';

export type Severity = 'error' | 'warning' | 'information' | 'hint';
export type Confidence = 'high' | 'medium' | 'low';

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
  node?: import('../syntax').SyntaxNode;
  /** Set for findings replayed from the per-function cache (fncache.ts) instead of node: its offsets. */
  span?: { startIndex: number; endIndex: number };
  /** With span: the top-level function the finding is in. */
  fn?: import('../syntax').SyntaxNode;
}

export interface Rule {
  id: string;
  title: string;
  severity: Severity;
  confidence: Confidence;
  /** One paragraph: why this is a bug, with the evidence. */
  rationale: string;
  /** The file must match this for the rule to run (a cheap pre-filter). */
  trigger: RegExp;
  check(m: FileModel, report: (f: Finding) => void): void;
}
