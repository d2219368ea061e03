/** The shape of a lint rule and of what it reports. */
import type { FileModel } from '../model';
import type { Range } from '../syntax';

export type Severity = 'error' | 'warning' | 'information' | 'hint';
export type Confidence = 'high' | 'medium' | 'low';

export type { TextEdit, Fix, Finding } from '../finding';
import type { Finding } from '../finding';

/** Which top-level functions of a file a rule reads (what it can report on, and what that depends on). */
export interface ReadScope {
  /** A function (or file-scope item) whose text matches is read; a function of the text when it depends on the file (its lock macros). */
  reads: RegExp | ((text: string) => RegExp);
  /**
   * Which functions that a read item names (as a word anywhere in it) are read too: 'all' every
   * one, transitively; 'direct' those the matching items name, not further; a RegExp those that
   * lead, through the functions they name, to a function matching it or `reads` (a callee that
   * cannot reach such a token cannot change a verdict); absent none.
   */
  named?: 'all' | 'direct' | RegExp;
}

export interface Rule {
  id: string;
  title: string;
  /** The level it reports at when enabled. */
  severity: Severity;
  /**
   * Off unless selected (--rule, --severity, lint.rules in .kctx.json or the settings): its measured
   * precision is below the bar for a default rule (docs/rules/README.md#precision).
   */
  defaultOff?: boolean;
  confidence: Confidence;
  /** One paragraph: why this is a bug, with the evidence. */
  rationale: string;
  /**
   * The file must match this for the rule to run (a cheap pre-filter). Its words are also its
   * needles (needles.ts `needlesOf`): `kctx lint` skips most files with a byte scan for them, never
   * decoding them; a trigger they cannot be read from has every file decoded and matched.
   */
  trigger: RegExp;
  /**
   * A finer pre-filter, from a token scan (never a parse), asked when the trigger matches: false
   * when the rule cannot report on this text, which is then neither parsed nor read for it.
   */
  mayReport?: (text: string) => boolean;
  /**
   * The functions this rule reads (unread.ts): before the parse, the body of every function that no
   * enabled rule reads is blanked. A rule without a scope reads every function: while it is on and
   * its trigger matches, the whole file is parsed.
   */
  scope?: ReadScope;
  check(m: FileModel, report: (f: Finding) => void): void;
}
