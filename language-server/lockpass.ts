/**
 * The first pass of a `kctx lint` run with a lock rule on: every file some lock rule will lint tells
 * which functions it defines for other files (not `static`) and what each does to locks (locks.ts
 * runDefinitions); mergeRunDefinitions() keeps a name's summary only when every definition of it agrees.
 * The pass ends before any file is linted, so the findings do not depend on --jobs, the workers or the
 * order of the walk. It parses only what the lock rules read (the other bodies blanked, unread.ts). The
 * language server sees one file at a time and uses same-file summaries only.
 */
import type { LintOptions } from './engine';
import { DEFAULT_WORK_BUDGET, RULES, anyTrigger, parseCancellable, parserOnce, skipReason, textToParse } from './engine';
import { WorkBudget } from './flow';
import { FileModel } from './model';
import { readAndScan } from './files';
import type { RunSummary } from './locks';
import { runDefinitions } from './locks';

/** The rules that read other files' lock summaries. */
export const LOCK_RULE_IDS: readonly string[] = ['lock-not-released', 'unlock-not-held'];

/** Is some lock rule on with these options (the run then needs the first pass)? */
export function lockRulesOn(opts: LintOptions): boolean {
  return RULES.some((r) => {
    if (!LOCK_RULE_IDS.includes(r.id)) return false;
    const s = opts.rules?.[r.id];
    return r.defaultOff ? !!s && s !== 'off' : s !== 'off';
  });
}

/** The options with every rule but the lock rules off (what the first pass reads and parses). */
export function lockRulesOnly(opts: LintOptions): LintOptions {
  let o = only.get(opts);
  if (!o) only.set(opts, (o = { ...opts, rules: Object.fromEntries(RULES.map((r) => [r.id, LOCK_RULE_IDS.includes(r.id) ? opts.rules?.[r.id] ?? r.severity : 'off'])) }));
  return o;
}
const only = new WeakMap<LintOptions, LintOptions>();

export type RunDefinitions = [string, RunSummary | null][];

/** A text's definitions for the run (none when no lock rule could read it). */
export async function runDefinitionsOfText(text: string, file: string, opts: LintOptions): Promise<RunDefinitions> {
  const o = lockRulesOnly(opts);
  if (skipReason(text, o.maxSize) || !anyTrigger(text, o)) return [];
  const parser = await parserOnce();
  let parsed = textToParse(text, o);
  let tree = parseCancellable(parser, parsed, null);
  if (tree && parsed !== text && tree.rootNode.hasError) {
    // as lintText() does: a text that does not parse cleanly with blanked bodies is parsed as it is
    tree.delete();
    parsed = text;
    tree = parseCancellable(parser, parsed, null);
  }
  if (!tree) return [];
  try {
    return runDefinitions(new FileModel(text, tree, file, 'auto', new WorkBudget(opts.workBudget ?? DEFAULT_WORK_BUDGET)));
  } finally {
    tree.delete();
  }
}

/** A file's definitions for the run (none when it cannot be read: the lint says why). */
export async function runDefinitionsOfFile(file: string, opts: LintOptions): Promise<RunDefinitions> {
  const o = lockRulesOnly(opts);
  const r = readAndScan(file, o);
  if (!('buf' in r)) return [];
  return runDefinitionsOfText(r.buf.toString(r.encoding), file, o);
}
