/**
 * The lint engine: parse (incrementally when a document changes), run the enabled rules, apply
 * suppression comments and severity settings, and return LSP-shaped diagnostics whose `data`
 * carries the quick fixes. No editor or protocol code here: the CLI, the language server, the
 * extension and the tests all call this.
 */
import type { Parser, Tree } from '../core/cparser';
import { createCParser } from '../core/cparser';
import type { Era } from './ctxapi';
import { DEFAULT_WORK_BUDGET, WalkCancelled, WorkBudget, WorkBudgetExceeded } from './flow';
import { FileModel } from './model';
import { RULES, RULES_BY_ID, SKIPPED_ID } from './rules/index';
import type { Fix, ReadScope, Rule, Severity, TextEdit } from './rules/types';
import type { Range, SyntaxNode } from './syntax';
import { computeLineStarts, hasStructuralError } from './syntax';
import { conditionAt, conditionals, configurationRanges, configurationText } from './ppconfig';
import { ruleDocUri } from './docs';
import { mergeEdits } from './fixes/edits';
import { planMigration } from './fixes/migrate';
import { suppressionFixes } from './fixes/suppress';
import { AnalysisCache } from './fncache';
import { blankUnread } from './unread';
import { NeedleSet, needlesOf } from './needles';
import type { RunSummaries } from './locks';

export type EraSetting = Era | 'auto';
export type RuleSetting = Severity | 'off';

export interface LintOptions {
  /** Kernel era, or 'auto' (default): inferred from the file, else 13917. */
  era?: EraSetting;
  /** Per-rule severity or 'off'; a rule not named is at its default (off for `defaultOff` rules). */
  rules?: Record<string, RuleSetting>;
  /** Files larger than this (UTF-16 units) are skipped with one information diagnostic. Default 2 MiB. */
  maxSize?: number;
  /**
   * Work budget: path steps per function walk (statements and effects visited over all its paths).
   * A function over it gets no findings from that analysis and one information note, the same on
   * every run: work is counted, never time. Default DEFAULT_WORK_BUDGET.
   */
  workBudget?: number;
  /** Polled during the work; true stops it (the result is then partial). */
  isCancelled?: () => boolean;
  /** The kernel tree the file belongs to (a .kctx.json's gate), for --era auto. */
  gate?: string;
  /** With era 'auto': the era the file's kernel tree declares (kerneltree.ts; the CLI and the server look it up). */
  treeEra?: Era;
  /**
   * Parse every function and run every rule whose trigger matches (default false: the bodies no
   * enabled rule reads are blanked before the parse, unread.ts, and a rule whose `mayReport` says
   * no does not run; the findings are the same, the tests compare both).
   */
  parseAll?: boolean;
  /** Include suppression quick fixes (the server does; the CLI does not need them). Default true. */
  suppressionFixes?: boolean;
  /** The lock summaries of the other files of the run (lockpass.ts: `kctx lint`'s first pass). */
  lockSummaries?: RunSummaries;
}

export interface DiagnosticData {
  rule: string;
  severity: Severity;
  fixes: Fix[];
  version?: number;
}

/** An LSP Diagnostic (0-based positions, UTF-16 columns). */
export interface KctxDiagnostic {
  range: Range;
  severity: 1 | 2 | 3 | 4;
  code: string;
  codeDescription: { href: string };
  source: 'kctx';
  message: string;
  data: DiagnosticData;
}

export const SEVERITY_NUMBER: Record<Severity, 1 | 2 | 3 | 4> = { error: 1, warning: 2, information: 3, hint: 4 };
export const SEVERITY_NAME: Record<number, Severity> = { 1: 'error', 2: 'warning', 3: 'information', 4: 'hint' };

export const DEFAULT_MAX_SIZE = 2 * 1024 * 1024;
export { DEFAULT_WORK_BUDGET };

export class LintCancelled extends Error {}

function diag(rule: string, severity: Severity, range: Range, message: string, fixes: Fix[] = []): KctxDiagnostic {
  return { range, severity: SEVERITY_NUMBER[severity], code: rule, codeDescription: { href: ruleDocUri(rule) }, source: 'kctx', message, data: { rule, severity, fixes } };
}

function at0(): Range {
  return { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
}

/** A NUL byte in the first 8 KB: not C source. */
export function looksBinary(text: string): boolean {
  return (text.length > 8192 ? text.slice(0, 8192) : text).includes('\u0000');
}

/** Why a text is not linted at all, or null. */
export function skipReason(text: string, maxSize = DEFAULT_MAX_SIZE): string | null {
  if (text.length > maxSize) return `file not linted: ${text.length.toLocaleString('en-US')} characters, over the limit of ${maxSize.toLocaleString('en-US')}`;
  if (looksBinary(text)) return 'file not linted: it looks binary (NUL bytes)';
  return null;
}

export function skippedDiagnostic(reason: string): KctxDiagnostic {
  return diag(SKIPPED_ID, 'information', at0(), reason);
}

function enabledRules(opts: LintOptions): { rule: Rule; severity: Severity }[] {
  const out: { rule: Rule; severity: Severity }[] = [];
  for (const r of RULES) {
    const s = opts.rules?.[r.id];
    if (s === 'off' || (r.defaultOff && !(s && s in SEVERITY_NUMBER))) continue;
    out.push({ rule: r, severity: s && s in SEVERITY_NUMBER ? s : r.severity });
  }
  return out;
}

const triggerCache = new Map<string, RegExp>();

/**
 * Could any enabled rule report on this text (its trigger matches)? One pass of one regex over
 * the text, however many rules are on: most files of a kernel tree stop here.
 */
export function anyTrigger(text: string, opts: LintOptions = {}): boolean {
  const on = enabledRules(opts);
  const key = on.map(({ rule }) => rule.id).join(',');
  const memo = memoOf(text);
  let hit = memo.get(key);
  if (hit !== undefined) return hit;
  let re = triggerCache.get(key);
  if (!re) {
    re = new RegExp(on.map(({ rule }) => `(?:${rule.trigger.source})`).join('|') || '(?!)');
    triggerCache.set(key, re);
  }
  hit = re.test(text);
  memo.set(key, hit);
  return hit;
}

/** The trigger tests of the last text asked about (one lint asks each several times: a pass over the text each). */
let memoText: string | null = null;
const memo = new Map<Rule | string, boolean>();

function memoOf(text: string): Map<Rule | string, boolean> {
  if (text !== memoText) {
    memoText = text;
    memo.clear();
  }
  return memo;
}

/** Does the rule's trigger match the text? */
function triggers(rule: Rule, text: string): boolean {
  const m = memoOf(text);
  let hit = m.get(rule);
  if (hit === undefined) {
    hit = rule.trigger.test(text);
    m.set(rule, hit);
  }
  return hit;
}

const needleCache = new Map<string, NeedleSet | null>();
const ruleNeedleCache = new Map<Rule, string[] | null>();

/** A rule's needles, read from its trigger (needles.ts needlesOf); null when they cannot be. */
export function ruleNeedles(rule: Rule): string[] | null {
  let n = ruleNeedleCache.get(rule);
  if (n === undefined) { n = needlesOf(rule.trigger); ruleNeedleCache.set(rule, n); }
  return n;
}

/**
 * The needles of the enabled rules (needles.ts): an ASCII text holding none of them matches no
 * enabled rule's trigger. Null when an enabled rule has none (every text must be matched then).
 */
export function needleSet(opts: LintOptions = {}): NeedleSet | null {
  const on = enabledRules(opts);
  const key = on.map(({ rule }) => rule.id).join(',');
  let ns = needleCache.get(key);
  if (ns === undefined) {
    const each = on.map(({ rule }) => ruleNeedles(rule));
    ns = each.every((n) => n?.length) ? new NeedleSet([...new Set(each.flatMap((n) => n!))]) : null;
    needleCache.set(key, ns);
  }
  return ns;
}

/**
 * What the enabled rules that can report on this text read of its functions (their scopes), or
 * null when one of them reads every function.
 */
export function readScopes(text: string, opts: LintOptions = {}): ReadScope[] | null {
  const out: ReadScope[] = [];
  for (const { rule } of enabledRules(opts)) {
    if (!triggers(rule, text)) continue;
    if (!rule.scope) return null;
    if (!out.includes(rule.scope)) out.push(rule.scope);
  }
  return out;
}

/** The text to parse: `text` with the bodies no enabled rule reads blanked (unread.ts), or `text`. */
export function textToParse(text: string, opts: LintOptions = {}): string {
  if (opts.parseAll) return text;
  const scopes = readScopes(text, opts);
  return scopes ? blankUnread(text, scopes) : text;
}

/** Parses (bounded by the size limit, not by time); null when a cancellation stopped it. */
export function parseCancellable(parser: Parser, text: string, old: Tree | null, isCancelled?: () => boolean): Tree | null {
  let calls = 0;
  const progressCallback = (() => !!isCancelled && (++calls & 255) === 0 && isCancelled()) as unknown as (s: unknown) => void;
  const t = parser.parse(text, old, { progressCallback });
  if (!t) parser.reset();
  return t;
}

/** Top-level constructs (functions, declarations, stray ERROR runs, also inside top-level #if) the parser could not read (errors confined to call arguments aside). */
function errorRegions(tree: Tree): [number, number][] {
  const out: [number, number][] = [];
  const visit = (n: SyntaxNode) => {
    for (const c of n.children) {
      if (!c || !c.hasError) continue;
      if (PREPROC_BRANCHES.has(c.type) || c.type === 'linkage_specification' || c.type === 'declaration_list') visit(c);
      else if (hasStructuralError(c)) out.push([c.startIndex, c.endIndex]); // an error only in call arguments reads right
    }
  };
  if (tree.rootNode.hasError) visit(tree.rootNode);
  return out;
}
const PREPROC_BRANCHES = new Set(['preproc_if', 'preproc_ifdef', 'preproc_elif', 'preproc_elifdef', 'preproc_else']);
const DIRECTIVE_IN = /^[ \t]*#[ \t]*(if|ifdef|ifndef|elif|else|endif)\b/m;

/**
 * Every configuration (ppconfig.ts): where the file does not parse because an #if branch splits a
 * statement or an initializer, the rules run on the text with every conditional's first branch,
 * then its last, and their findings there replace the misread ones. Each finding inside a branch
 * says which (`(under #if defined(__xpv))`).
 */
function withConfigurations(parser: Parser, text: string, tree: Tree, file: string, opts: LintOptions, out: KctxDiagnostic[], cache?: AnalysisCache, parsed = text): KctxDiagnostic[] {
  if (!DIRECTIVE_IN.test(text)) return out;
  const groups = conditionals(text);
  if (!groups || !groups.length) return out;
  // (a loop of its own: one over the text here would have V8 optimise all of this function, mid-loop, again and again)
  const starts = computeLineStarts(text);
  const offsetOf = (d: KctxDiagnostic) => (starts[d.range.start.line] ?? text.length) + d.range.start.character;
  const regions = errorRegions(tree).filter(([s, e]) => DIRECTIVE_IN.test(text.slice(s, e)));
  const inRegion = (o: number, rs: [number, number][]) => rs.some(([s, e]) => o >= s && o < e);
  let result = out;
  if (regions.length) {
    // Only the unreadable regions get a configuration: the rest of the text stays as it is.
    const inside = groups.filter((g) => regions.some(([s, e]) => g.directives[0]!.start >= s && g.directives[0]!.start < e));
    const resolved = new Set<number>();
    const extra: KctxDiagnostic[] = [];
    const seen = new Set<string>();
    for (const which of ['first', 'last'] as const) {
      const vtext = configurationText(text, inside, which);
      if (vtext === text) continue;
      // the same bodies blanked (same length: the model reads vtext, the parse sees what the rules read)
      const ptext = parsed === text ? vtext : configurationText(parsed, inside, which);
      // an incremental parse from the whole text's tree, told what was blanked: what lies outside reads the same
      // (same length, same line breaks: every position stays where it was)
      const old = tree.copy();
      for (const [s, e] of configurationRanges(inside, which)) {
        const a = positionAt(starts, s);
        const b = positionAt(starts, e);
        old.edit({ startIndex: s, oldEndIndex: e, newEndIndex: e, startPosition: a, oldEndPosition: b, newEndPosition: b } as never);
      }
      const vtree = parseCancellable(parser, ptext, old, opts.isCancelled);
      old.delete();
      if (!vtree) throw new LintCancelled('cancelled');
      try {
        const still = errorRegions(vtree);
        const ok = regions.map(([s, e], i) => ({ i, s, e })).filter((r) => !still.some(([a, b]) => a < r.e && b > r.s));
        if (!ok.length) continue;
        for (const r of ok) resolved.add(r.i);
        const vm = new FileModel(vtext, vtree, file, eraOf(opts), budgetOf(opts));
        // the functions outside the unreadable regions have the same text: their walks are reused
        if (cache) vm.cache = cache;
        // only the findings inside the regions it reads are kept: the functions elsewhere are not checked again
        vm.focus = ok.map((r) => [r.s, r.e] as const);
        for (const d of lintModel(vm, opts)) {
          if (d.code === SKIPPED_ID) continue;
          const o = offsetOf(d);
          if (!ok.some((r) => o >= r.s && o < r.e)) continue;
          const k = `${d.range.start.line}:${d.range.start.character}:${d.code}:${d.message}`;
          if (seen.has(k)) continue;
          seen.add(k);
          extra.push(d);
        }
      } finally {
        vtree.delete();
      }
    }
    if (resolved.size) {
      const rs = [...resolved].map((i) => regions[i]!);
      result = [...out.filter((d) => d.code === SKIPPED_ID || !inRegion(offsetOf(d), rs)), ...extra];
    }
  }
  for (const d of result) {
    if (d.code === SKIPPED_ID) continue;
    const under = conditionAt(groups, offsetOf(d));
    if (under.length) d.message += ` (under ${under.join(', ')})`;
  }
  result.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character || a.code.localeCompare(b.code));
  return result;
}

/** The row and column (UTF-16 units, as web-tree-sitter counts them here) of an offset, from the line starts. */
function positionAt(starts: readonly number[], o: number): { row: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= o) lo = mid; else hi = mid - 1;
  }
  return { row: lo, column: o - starts[lo]! };
}

/**
 * Runs the rules on a parsed file (and its configurations where it does not parse). `parsed` is
 * the text the tree was parsed from when it is not `text` (textToParse(): same length, the bodies
 * no rule reads blanked); the rules read `text`.
 */
export function lintTree(text: string, tree: Tree, file: string, opts: LintOptions = {}, cache?: AnalysisCache, parser?: Parser, parsed = text): KctxDiagnostic[] {
  const out = lintTree0(text, tree, file, opts, cache);
  return parser ? withConfigurations(parser, text, tree, file, opts, out, cache, parsed) : out;
}

function lintTree0(text: string, tree: Tree, file: string, opts: LintOptions = {}, cache?: AnalysisCache): KctxDiagnostic[] {
  const m = new FileModel(text, tree, file, eraOf(opts), budgetOf(opts));
  if (!cache) return lintModel(m, opts);
  m.cache = cache;
  cache.begin();
  let ok = false;
  try {
    const out = lintModel(m, opts);
    ok = true;
    return out;
  } finally {
    // A lint cut short (cancelled, over budget) keeps everything: the next one may reuse it.
    if (ok) cache.end();
  }
}

export function lintModel(m: FileModel, opts: LintOptions = {}): KctxDiagnostic[] {
  if (opts.lockSummaries) m.lockSummaries = opts.lockSummaries;
  const out: KctxDiagnostic[] = [];
  const withSuppress = opts.suppressionFixes !== false;
  for (const { rule, severity } of enabledRules(opts)) {
    if (!triggers(rule, m.text)) continue;
    try {
      rule.check(m, (f) => {
        if (m.isSuppressed(rule.id, f.range.start.line, f.node ?? f.span ?? null)) return;
        const fixes = [...(f.fixes ?? [])];
        if (withSuppress) fixes.push(...suppressionFixes(m, rule.id, f.range.start.line, f.node ?? null, f.span ? f.fn : undefined));
        out.push(diag(rule.id, severity, f.range, f.message, fixes));
      });
    } catch (e) {
      if (e instanceof WalkCancelled || opts.isCancelled?.()) throw new LintCancelled('cancelled');
      if (e instanceof WorkBudgetExceeded) {
        out.push(diag(SKIPPED_ID, 'information', at0(), `rule ${rule.id} stopped: over the work budget (${e.steps} path steps); its findings in this file are partial`));
        continue;
      }
      // A stack overflow comes from the file's shape (thousands of nested blocks or operands), not a bug.
      const why = e instanceof RangeError && /call stack/i.test(e.message)
        ? `rule ${rule.id} skipped this file: its code is nested too deeply for the analysis`
        : `internal error in rule ${rule.id}: ${e instanceof Error ? e.message : String(e)}`;
      out.push(diag(SKIPPED_ID, 'information', at0(), why));
    }
  }
  for (const { what, fn } of m.overBudget) {
    const name = m.nameOf(fn) || 'a function';
    const at = fn.startPosition;
    out.push(diag(SKIPPED_ID, 'information', { start: { line: at.row, character: at.column }, end: { line: at.row, character: at.column } },
      `${what.includes(' ') ? what : `rule ${what}`}: ${name}() is over the work budget (${m.budget.steps} path steps); no findings from it for this function`));
  }
  out.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character || a.code.localeCompare(b.code));
  return out;
}

/** The era setting a model gets: the option, or under 'auto' the era the file's kernel tree declares. */
function eraOf(opts: LintOptions): EraSetting {
  const e = opts.era ?? 'auto';
  return e === 'auto' && opts.treeEra ? opts.treeEra : e;
}

function budgetOf(opts: LintOptions): WorkBudget {
  return new WorkBudget(opts.workBudget ?? DEFAULT_WORK_BUDGET, opts.isCancelled);
}

let sharedParser: Promise<Parser> | undefined;

export function parserOnce(): Promise<Parser> {
  sharedParser ??= createCParser();
  return sharedParser;
}

/**
 * Lints one C file's text. The pure entry point for the extension, the CLI and tests.
 * `file` is only used for messages and era hints; nothing is read from disk.
 */
export async function lintText(text: string, file: string, opts: LintOptions = {}): Promise<KctxDiagnostic[]> {
  const skip = skipReason(text, opts.maxSize);
  if (skip) return [skippedDiagnostic(skip)];
  // Like spatch, do not parse a file that none of the enabled rules could report on.
  if (!anyTrigger(text, opts)) return [];
  if (!opts.parseAll) {
    // a rule whose finer pre-filter (a token scan) says it cannot report here does not run
    const cannot = enabledRules(opts).filter(({ rule }) => rule.mayReport && triggers(rule, text) && !rule.mayReport(text));
    if (cannot.length) {
      opts = { ...opts, rules: { ...opts.rules, ...Object.fromEntries(cannot.map(({ rule }) => [rule.id, 'off'])) } };
      if (!anyTrigger(text, opts)) return [];
    }
  }
  const parser = await parserOnce();
  // parse only what some rule reads: the other functions' bodies are blanked (unread.ts)
  let parsed = textToParse(text, opts);
  let tree = parseCancellable(parser, parsed, null, opts.isCancelled);
  if (tree && parsed !== text && errorRegions(tree).length) {
    // The parser recovers from an error differently when the text around it changed (an error it
    // kept inside one function can swallow the next ones once their bodies are blank): a file
    // that does not parse cleanly is parsed whole, as it is.
    tree.delete();
    parsed = text;
    tree = parseCancellable(parser, parsed, null, opts.isCancelled);
  }
  if (!tree) throw new LintCancelled('cancelled');
  try {
    // a cache for this lint alone: the configurations (withConfigurations) reuse its per-function work
    return lintTree(text, tree, file, opts, new AnalysisCache(), parser, parsed);
  } finally {
    tree.delete();
  }
}

/** Edits for `source.fixAll.kctx`: the whole-file 13917 migration plus every preferred fix, non-overlapping. */
export function fixAllEdits(m: FileModel, diags: KctxDiagnostic[]): TextEdit[] {
  const sets: TextEdit[][] = [];
  const legacy = diags.filter((d) => d.code === 'legacy-ctxop-api');
  if (legacy.length) {
    const calls = ['installctx', 'removectx', 'installctx_preallocate'].flatMap((n) => m.callsTo(n)).sort((a, b) => a.startIndex - b.startIndex).filter((c) => legacy.some((d) => d.range.start.line === c.startPosition.row && d.range.start.character === c.startPosition.column));
    const plan = planMigration(m, calls);
    if (typeof plan !== 'string') sets.push(plan.edits);
  }
  for (const d of diags) {
    if (d.code === 'legacy-ctxop-api') continue;
    const f = d.data.fixes.find((x) => x.preferred);
    if (f) sets.push(f.edits);
  }
  return mergeEdits(sets, m.text);
}

/** A document kept parsed across edits (tree.edit + incremental reparse). */
export class LintDocument {
  private tree: Tree | null = null;
  private stale = true;
  /** Per-function results of the previous lints (fncache.ts); only functions an edit changed re-run. */
  readonly cache = new AnalysisCache();
  /** Set false to lint without the cache (tests compare both). */
  useCache = true;

  private constructor(private parser: Parser, public text: string) {}

  static async create(text: string): Promise<LintDocument> {
    return new LintDocument(await createCParser(), text);
  }

  /** Applies LSP content changes (ranges in the text before each change), keeping the old tree for reuse. */
  applyChanges(changes: { range?: Range; text: string }[]): void {
    for (const ch of changes) {
      if (!ch.range) {
        this.text = ch.text;
        this.tree?.delete();
        this.tree = null;
        continue;
      }
      const starts = computeLineStarts(this.text);
      const off = (p: { line: number; character: number }) => Math.min(this.text.length, (p.line < starts.length ? starts[p.line]! : this.text.length) + p.character);
      const startIndex = off(ch.range.start);
      const oldEndIndex = off(ch.range.end);
      const newText = this.text.slice(0, startIndex) + ch.text + this.text.slice(oldEndIndex);
      if (this.tree) {
        const newEndIndex = startIndex + ch.text.length;
        const nl = ch.text.split('\n');
        const newEndRow = ch.range.start.line + nl.length - 1;
        const newEndCol = nl.length === 1 ? ch.range.start.character + ch.text.length : nl[nl.length - 1]!.length;
        // web-tree-sitter counts UTF-16 units; its byte offsets are twice those.
        this.tree.edit({
          startIndex, oldEndIndex, newEndIndex,
          startPosition: { row: ch.range.start.line, column: ch.range.start.character },
          oldEndPosition: { row: ch.range.end.line, column: ch.range.end.character },
          newEndPosition: { row: newEndRow, column: newEndCol },
        } as never);
      }
      this.text = newText;
    }
    this.stale = true;
  }

  /** Reparses if needed (incrementally from the edited tree); null when over budget. */
  parse(isCancelled?: () => boolean): Tree | null {
    if (!this.stale && this.tree) return this.tree;
    const t = parseCancellable(this.parser, this.text, this.tree, isCancelled);
    if (!t) return null;
    this.tree?.delete();
    this.tree = t;
    this.stale = false;
    return t;
  }

  lint(file: string, opts: LintOptions = {}): KctxDiagnostic[] {
    const skip = skipReason(this.text, opts.maxSize);
    if (skip) return [skippedDiagnostic(skip)];
    const t = this.parse(opts.isCancelled);
    if (!t) throw new LintCancelled('cancelled');
    return lintTree(this.text, t, file, opts, this.useCache ? this.cache : undefined, this.parser);
  }

  /** A model of the current text (for code actions). */
  model(file: string, opts: LintOptions = {}): FileModel | null {
    const t = this.parse();
    return t ? new FileModel(this.text, t, file, eraOf(opts)) : null;
  }

  dispose(): void {
    this.tree?.delete();
    this.tree = null;
    this.cache.clear();
    this.parser.delete();
  }
}


export { RULES, RULES_BY_ID, SKIPPED_ID };
export type { Fix, Severity, TextEdit, Rule };
