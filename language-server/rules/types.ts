/** The shape of a lint rule and of what it reports. */
import type { FileModel } from '../model';
import type { Range } from '../syntax';

export type Severity = 'error' | 'warning' | 'information' | 'hint';
export type Confidence = 'high' | 'medium' | 'low';

export type { TextEdit, Fix, Finding } from '../finding';
import type { Finding } from '../finding';

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
  /** The file must match this for the rule to run (a cheap pre-filter). */
  trigger: RegExp;
  check(m: FileModel, report: (f: Finding) => void): void;
}
