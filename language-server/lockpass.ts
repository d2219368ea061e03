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
import { lockMacrosOfText, mayHaveSummary, runDefinitions } from './locks';
import { topLevelItems } from './unread';

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

/**
 * The work budget of a summary walk in the first pass (path steps): a function over it gives the other files no
 * summary. The lint walks a function over it again anyway; over uts/common/{os,fs/sockfs,fs/ufs,inet/ip} the
 * summaries are the same as with the whole budget, for a third less work.
 */
export const SUMMARY_BUDGET = 10_000;

export type RunDefinitions = [string, RunSummary | null][];

/** A text's definitions for the run (none when no lock rule could read it). */
export async function runDefinitionsOfText(text: string, file: string, opts: LintOptions): Promise<RunDefinitions> {
  const o = lockRulesOnly(opts);
  if (skipReason(text, o.maxSize) || !anyTrigger(text, o)) return [];
  const unparsed = withoutSummaries(text);
  if (unparsed) return unparsed;
  const parser = await parserOnce();
  // (a function the parser could not read has no summary)
  const tree = parseCancellable(parser, textToParse(text, o), null);
  if (!tree) return [];
  try {
    return runDefinitions(new FileModel(text, tree, file, 'auto', new WorkBudget(Math.min(opts.workBudget ?? DEFAULT_WORK_BUDGET, SUMMARY_BUDGET))));
  } finally {
    tree.delete();
  }
}

/**
 * A text none of whose functions can have a summary (read from its tokens, as summaryOf() decides whether to
 * walk one): its non-static functions, each without one, and no parse. Null when it must be parsed (some
 * function may have one, or the token scan cannot read the file's braces).
 */
function withoutSummaries(text: string): RunDefinitions | null {
  const items = topLevelItems(text);
  if (!items || items.some((it) => it.opaque)) return null;
  // a brace at the start of a line opens a function body in most kernel code: more of them than bodies the scan found,
  // and it missed some (a `#if` that splits one): parse
  if ((text.match(/^\{/gm)?.length ?? 0) > items.filter((it) => it.body).length) return null;
  const macros = lockMacrosOfText(text);
  const out: RunDefinitions = [];
  for (const it of items) {
    if (!it.body || !it.name) continue;
    if (mayHaveSummary(text.slice(it.body[0], it.body[1]), macros)) return null;
    // the declaration before the body, without comments and preprocessor lines
    const head = text.slice(it.start, it.body[0]).replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/.*$/gm, ' ').replace(/^[ \t]*#.*$/gm, ' ');
    if (!/\bstatic\b/.test(head) && !out.some(([n]) => n === it.name)) out.push([it.name, null]);
  }
  return out;
}

/** A file's definitions for the run (none when it cannot be read: the lint says why). */
export async function runDefinitionsOfFile(file: string, opts: LintOptions): Promise<RunDefinitions> {
  const o = lockRulesOnly(opts);
  const r = readAndScan(file, o);
  if (!('buf' in r)) return [];
  return runDefinitionsOfText(r.buf.toString(r.encoding), file, o);
}
