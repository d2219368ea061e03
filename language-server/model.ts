/**
 * One parsed C file and the facts the rules share: functions, calls, ctxop templates, the kernel
 * era (file-wide and per preprocessor branch), suppression comments, the preemption analysis.
 * Everything is computed at most once, on first use.
 */
import type { Tree } from '../core/cparser';
import type { Era } from './ctxapi';
import { CTXOP_API, LEGACY_API, SLOTS, handlerText, lockKey } from './ctxapi';
import { apiOfCode, apiRank, lintEraOf } from '../core/infer-era';
import { WorkBudget, WorkBudgetExceeded } from './flow';
import type { SyntaxNode } from './syntax';
import { callArgs, callName, computeLineStarts, declaratorName, functionName, hasStorageClass, walk } from './syntax';
import { PreemptAnalysis } from './preempt';
import type { AnalysisCache } from './fncache';
import { hash53 } from './fncache';
import type { Finding } from './finding';
import type { RunSummaries } from './locks';

export interface Template {
  name: string;
  decl: SyntaxNode; // the declaration
  init: SyntaxNode | null; // initializer_list
  handlers: Map<string, string>; // slot -> handler text (non-NULL only)
  handlerNodes: Map<string, SyntaxNode>;
  rev: SyntaxNode | null; // value node given to ct_rev, if any
  positional: boolean;
  fn: SyntaxNode | null; // enclosing function for a local template
}

export interface Suppression {
  kind: 'line' | 'function' | 'file';
  rules: Set<string>; // 'all' for every rule
  line: number; // 0-based line it applies to (kind line)
  fn?: SyntaxNode;
}

const PREPROC_BRANCH = new Set(['preproc_if', 'preproc_ifdef', 'preproc_elif', 'preproc_elifdef', 'preproc_else']);

export class FileModel {
  readonly lineStarts: number[];
  readonly root: SyntaxNode;
  private _functions?: SyntaxNode[];
  private _fnByName?: Map<string, SyntaxNode>;
  private _calls?: SyntaxNode[];
  private _callsByName?: Map<string, SyntaxNode[]>;
  private _templates?: Map<string, Template>;
  private _preempt?: PreemptAnalysis;
  private _suppressions?: Suppression[];
  private _adaptive?: Set<string>;
  private _fileEra?: Era;
  private _prototypes?: Map<string, SyntaxNode>;
  private _protoCount?: Map<string, number>;
  private _fnNamesKey?: string;
  private _textHash?: Map<number, number>;
  /** Per-function analysis cache (set by LintDocument; undefined for one-shot lints). */
  cache?: AnalysisCache;
  /**
   * Set on a configuration's model (engine.ts withConfigurations), whose findings are kept only
   * inside these ranges: perFunction does not check a function outside them (its findings, within
   * it, would be dropped).
   */
  focus?: readonly (readonly [number, number])[];
  /** The lock summaries of the other files of one `kctx lint` run (LintOptions.lockSummaries; none in the editor). */
  lockSummaries?: RunSummaries;

  constructor(
    readonly text: string,
    readonly tree: Tree,
    readonly file: string,
    readonly eraSetting: Era | 'auto',
    readonly budget: WorkBudget = WorkBudget.none(),
  ) {
    this.lineStarts = computeLineStarts(text);
    this.root = tree.rootNode;
  }

  /** Top-level function definitions (also those inside top-level #if blocks). */
  get functions(): SyntaxNode[] {
    if (!this._functions) {
      const out: SyntaxNode[] = [];
      const visit = (n: SyntaxNode) => {
        for (const c of n.namedChildren) {
          if (!c) continue;
          if (c.type === 'function_definition') out.push(c);
          else if (PREPROC_BRANCH.has(c.type) || c.type === 'linkage_specification' || c.type === 'declaration_list') visit(c);
        }
      };
      visit(this.root);
      this._functions = out;
    }
    return this._functions;
  }

  get fnByName(): Map<string, SyntaxNode> {
    if (!this._fnByName) {
      this._fnByName = new Map();
      for (const f of this.functions) {
        const n = this.nameOf(f);
        if (n && !this._fnByName.has(n)) this._fnByName.set(n, f);
      }
    }
    return this._fnByName;
  }

  /** The text of a node, sliced from the file's text (no call into the parser; memoized per start and end). */
  textOf(n: SyntaxNode): string {
    this._texts ??= new Map();
    const k = n.startIndex * 4294967296 + n.endIndex;
    let t = this._texts.get(k);
    if (t === undefined) { t = this.text.slice(n.startIndex, n.endIndex); this._texts.set(k, t); }
    return t;
  }
  private _texts?: Map<number, string>;

  /**
   * Matches of a global regex in the text, grouped by the top-level function they fall in (in
   * document order), and those outside every function.
   */
  matchesByFunction(re: RegExp): { inFn: Map<SyntaxNode, RegExpExecArray[]>; outside: RegExpExecArray[] } {
    const fns = this.functions;
    const inFn = new Map<SyntaxNode, RegExpExecArray[]>();
    const outside: RegExpExecArray[] = [];
    let k = 0;
    re.lastIndex = 0;
    for (let r = re.exec(this.text); r; r = re.exec(this.text)) {
      while (k < fns.length && fns[k]!.endIndex <= r.index) k++;
      const fn = fns[k];
      if (fn && fn.startIndex <= r.index) {
        let l = inFn.get(fn);
        if (!l) inFn.set(fn, (l = []));
        l.push(r);
      } else outside.push(r);
    }
    return { inFn, outside };
  }

  /** The call of `name` whose name starts at index (how callsTo() maps a text match to a node), or null. */
  callAt(name: string, index: number): SyntaxNode | null {
    const id = this.root.namedDescendantForIndex(index, index + name.length);
    if (!id || id.type !== 'identifier' || id.text !== name) return null; // in a comment, a string, a macro body
    const call = id.parent;
    return call && call.type === 'call_expression' && call.childForFieldName('function')?.id === id.id ? call : null;
  }

  /** A top-level function's name (memoized by its text when a cache is attached). */
  nameOf(fn: SyntaxNode): string {
    return this.fnFacts(fn, 'name', () => functionName(fn));
  }

  /** A fact about a top-level function that its text alone determines, memoized by that text when a cache is attached. */
  fnFacts<T>(fn: SyntaxNode, what: string, compute: () => T): T {
    if (!this.cache) return compute();
    const facts = this.cache.facts(this.textOf(fn));
    if (what in facts) return facts[what] as T;
    const v = compute();
    facts[what] = v;
    return v;
  }

  /** A key that changes when the list of same-file function names changes. */
  get fnNamesKey(): string {
    if (this._fnNamesKey === undefined) this._fnNamesKey = String(hash53(this.functions.map((f) => this.nameOf(f)).join(',')));
    return this._fnNamesKey;
  }

  /** A hash of a function's text. */
  textHash(fn: SyntaxNode): number {
    this._textHash ??= new Map();
    let h = this._textHash.get(fn.startIndex);
    if (h === undefined) { h = hash53(this.textOf(fn)); this._textHash.set(fn.startIndex, h); }
    return h;
  }

  /**
   * Hashes of the same-file functions named (as a word followed by '(' or a comment) in text: what a verdict that
   * reads callee bodies depends on. Includes the list of function names.
   */
  calleesKey(text: string): string {
    const parts: string[] = [this.fnNamesKey];
    const seen = new Set<string>();
    const re = /\b([A-Za-z_]\w*)\s*(?:\(|\/[*/])/g; // a call, or a name with a comment before its '('
    for (let r = re.exec(text); r; r = re.exec(text)) {
      const n = r[1]!;
      if (seen.has(n)) continue;
      seen.add(n);
      const f = this.fnByName.get(n);
      if (f) parts.push(n + '=' + this.textHash(f));
    }
    return parts.join(';');
  }

  /**
   * Runs one rule's check of one top-level function, through the cache when one is attached:
   * `dep` must describe everything outside the function's text that the check reads.
   */
  perFunction(ruleId: string, fn: SyntaxNode, dep: string | (() => string), compute: (report: (f: Finding) => void) => boolean | void, report: (f: Finding) => void): void {
    if (this.focus && !this.focus.some(([s, e]) => fn.startIndex < e && fn.endIndex > s)) return;
    if (!this.cache) { this.guarded(ruleId, fn, compute, report); return; }
    try {
      this.cache.run(this.textOf(fn), `${ruleId}\0${typeof dep === 'string' ? dep : dep()}`, fn, compute, report);
    } catch (e) {
      if (!(e instanceof WorkBudgetExceeded)) throw e;
      this.noteOverBudget(ruleId, fn);
    }
  }

  /** Functions whose analysis went over the work budget, by what analysed them (in the order met). */
  readonly overBudget: { what: string; fn: SyntaxNode }[] = [];

  noteOverBudget(what: string, fn: SyntaxNode): void {
    if (!this.overBudget.some((o) => o.what === what && o.fn.id === fn.id)) this.overBudget.push({ what, fn });
  }

  /**
   * Runs one rule's check of one function; a check over the work budget reports nothing for that
   * function (the same with and without the cache), and the lint says so.
   */
  guarded(ruleId: string, fn: SyntaxNode, compute: (report: (f: Finding) => void) => boolean | void, report: (f: Finding) => void): void {
    const found: Finding[] = [];
    try {
      compute((f) => found.push(f));
    } catch (e) {
      if (!(e instanceof WorkBudgetExceeded)) throw e;
      this.noteOverBudget(ruleId, fn);
      return;
    }
    for (const f of found) report(f);
  }

  /** Prototypes (`static void f(void *);`) by name. */
  /** How many top-level prototypes name each function. */
  get prototypeCount(): Map<string, number> {
    void this.prototypes;
    return this._protoCount!;
  }

  get prototypes(): Map<string, SyntaxNode> {
    if (!this._prototypes) {
      this._prototypes = new Map();
      this._protoCount = new Map();
      for (const c of this.root.namedChildren) {
        if (!c || c.type !== 'declaration') continue;
        for (const d of c.childrenForFieldName('declarator')) {
          if (d && d.type === 'function_declarator') {
            const id = declaratorName(d.childForFieldName('declarator'));
            if (id && !this._prototypes.has(id.text)) this._prototypes.set(id.text, d);
            if (id) this._protoCount!.set(id.text, (this._protoCount!.get(id.text) ?? 0) + 1);
          }
        }
      }
    }
    return this._prototypes;
  }

  /**
   * Calls to `name`, found from the text (a regex for `name (`), each mapped to its node: the cost
   * is proportional to the matches, not to the size of the tree.
   */
  callsTo(name: string): SyntaxNode[] {
    let l = this._callsByName?.get(name);
    if (l) return l;
    l = [];
    const re = new RegExp(`\\b${name}\\s*\\(`, 'g');
    for (let r = re.exec(this.text); r; r = re.exec(this.text)) {
      const call = this.callAt(name, r.index);
      if (call) l.push(call);
    }
    (this._callsByName ??= new Map()).set(name, l);
    return l;
  }

  /** Every call in one function (for the functions the analyses look at). */
  callsIn(fn: SyntaxNode): SyntaxNode[] {
    const out: SyntaxNode[] = [];
    walk(fn, (n) => {
      if (n.type === 'call_expression') out.push(n);
      return n.type !== 'comment' && n.type !== 'string_literal';
    });
    return out;
  }

  /** Every call in the file (walks the whole tree: tests and tools only). */
  get calls(): SyntaxNode[] {
    if (!this._calls) this._calls = this.callsIn(this.root);
    return this._calls;
  }

  /** Occurrences of a same-file function's name as a word in the text (comments included). */
  nameCount(name: string): number {
    this._words ??= new Map();
    let n = this._words.get(name);
    if (n !== undefined) return n;
    // the words of /[A-Za-z_]\w*/g that are `name`: a run of \w ends after it, and only digits come
    // before it in its run (a word starts at its run's first letter or underscore)
    n = 0;
    const t = this.text;
    if (!/^[A-Za-z_]\w*$/.test(name)) return 0;
    for (let p = t.indexOf(name); p !== -1; p = t.indexOf(name, p + 1)) {
      if (isWordChar(t.charCodeAt(p + name.length))) continue;
      let q = p - 1;
      while (q >= 0 && t.charCodeAt(q) >= 48 && t.charCodeAt(q) <= 57) q--;
      if (q >= 0 && isWordChar(t.charCodeAt(q))) continue;
      n++;
    }
    this._words.set(name, n);
    return n;
  }
  private _words?: Map<string, number>;

  /** The top-level function definition that contains n. */
  enclosingFunction(n: SyntaxNode): SyntaxNode | null {
    let fn: SyntaxNode | null = null;
    for (let cur: SyntaxNode | null = n.parent; cur; cur = cur.parent) if (cur.type === 'function_definition') fn = cur;
    return fn;
  }

  /** `struct ctxop_template` objects defined or declared in this file. */
  get templates(): Map<string, Template> {
    if (!this._templates) {
      this._templates = new Map();
      const re = /\bstruct\s+ctxop_template\b/g;
      const decls = new Map<number, SyntaxNode>();
      for (let r = re.exec(this.text); r; r = re.exec(this.text)) {
        let n: SyntaxNode | null = this.root.namedDescendantForIndex(r.index, r.index + 6);
        while (n && n.type !== 'declaration' && n.type !== 'translation_unit' && n.type !== 'function_definition') n = n.parent;
        if (n && n.type === 'declaration') decls.set(n.id, n);
      }
      for (const n of decls.values()) {
        const type = n.childForFieldName('type');
        if (!type || type.type !== 'struct_specifier' || type.childForFieldName('name')?.text !== 'ctxop_template') continue;
        if (hasStorageClass(n, 'extern')) continue;
        {
          for (const d of n.childrenForFieldName('declarator')) {
            if (!d) continue;
            const idNode = d.type === 'init_declarator' ? d.childForFieldName('declarator') : d;
            if (!idNode || idNode.type !== 'identifier') continue; // pointers and arrays are not templates
            const init = d.type === 'init_declarator' ? d.childForFieldName('value') : null;
            const t: Template = {
              name: idNode.text, decl: n, init: init && init.type === 'initializer_list' ? init : null,
              handlers: new Map(), handlerNodes: new Map(), rev: null, positional: false, fn: this.enclosingFunction(n),
            };
            if (t.init) {
              const items = t.init.namedChildren.filter((c) => c && c.type !== 'comment') as SyntaxNode[];
              let pos = 0;
              for (const it of items) {
                if (it.type === 'initializer_pair') {
                  const field = it.childForFieldName('designator')?.text.replace(/^\./, '').trim() ?? '';
                  const v = it.childForFieldName('value');
                  if (field === 'ct_rev') t.rev = v;
                  else if ((SLOTS as readonly string[]).includes(field) && v) {
                    const h = handlerText(v);
                    if (h !== 'NULL') { t.handlers.set(field, h); t.handlerNodes.set(field, v); }
                  }
                } else {
                  t.positional = true;
                  const field = ['ct_rev', 'ct_pad', ...SLOTS][pos] ?? '';
                  if (field === 'ct_rev') t.rev = it;
                  else if ((SLOTS as readonly string[]).includes(field)) {
                    const h = handlerText(it);
                    if (h !== 'NULL') { t.handlers.set(field, h); t.handlerNodes.set(field, it); }
                  }
                  pos++;
                }
              }
            }
            this._templates!.set(t.name, t);
          }
        }
      }
    }
    return this._templates;
  }

  /** The handler tuple of a template argument `&tpl` (null if unknown). */
  templateOf(arg: SyntaxNode | undefined): Template | null {
    if (!arg) return null;
    const t = arg.text.replace(/\s+/g, '').replace(/^\(+|\)+$/g, '');
    const name = t.startsWith('&') ? t.slice(1) : '';
    return name ? this.templates.get(name) ?? null : null;
  }

  get preempt(): PreemptAnalysis {
    if (!this._preempt) this._preempt = new PreemptAnalysis(this);
    return this._preempt;
  }

  /** Locks this file initializes as adaptive mutexes (mutex_init with MUTEX_DEFAULT/MUTEX_DRIVER and no interrupt priority). */
  get adaptiveLocks(): Set<string> {
    if (!this._adaptive) {
      this._adaptive = new Set();
      for (const c of this.callsTo('mutex_init')) {
        const a = callArgs(c);
        const type = a[2]?.text ?? '';
        const ipl = a[3];
        const iplNull = !ipl || /^(NULL|0|\(void\s*\*\)\s*0)$/.test(ipl.text.trim());
        if ((type === 'MUTEX_DEFAULT' || type === 'MUTEX_DRIVER' || type === 'MUTEX_ADAPTIVE') && iplNull) {
          const k = lockKey(a[0]);
          if (k) this._adaptive.add(k);
        }
      }
    }
    return this._adaptive;
  }

  /** The era the file is written against: the setting, or inferred from its API use. */
  get era(): Era {
    if (this._fileEra) return this._fileEra;
    if (this.eraSetting !== 'auto') return (this._fileEra = this.eraSetting);
    return (this._fileEra = inferEra(this));
  }

  /**
   * True when n sits in a #if/#ifdef branch whose sibling branches use a newer ctxop interface than
   * this branch does: that branch is for an older kernel, so era rules do not apply to it.
   */
  inOlderKernelBranch(n: SyntaxNode): boolean {
    let child: SyntaxNode = n;
    for (let a = n.parent; a; child = a, a = a.parent) {
      if (!PREPROC_BRANCH.has(a.type)) continue;
      const alt = a.childForFieldName('alternative');
      if (alt && alt.id === child.id) continue; // n is in a later branch; handled when we reach it
      // a is the branch containing n; find the chain root
      let root = a;
      while (root.parent && PREPROC_BRANCH.has(root.parent.type) && root.parent.childForFieldName('alternative')?.id === root.id) root = root.parent;
      const branches: SyntaxNode[] = [];
      for (let b: SyntaxNode | null = root; b; b = b.childForFieldName('alternative')) branches.push(b);
      const mine = apiLevel(a);
      let others = 0;
      for (const b of branches) if (b.id !== a.id) others = Math.max(others, apiLevel(b));
      if (mine > 0 && others > mine) return true;
    }
    return false;
  }

  get suppressions(): Suppression[] {
    if (!this._suppressions) this._suppressions = parseSuppressions(this);
    return this._suppressions;
  }

  isSuppressed(rule: string, line: number, node: { startIndex: number; endIndex: number } | null): boolean {
    for (const s of this.suppressions) {
      if (!s.rules.has(rule) && !s.rules.has('all')) continue;
      if (s.kind === 'file') return true;
      if (s.kind === 'line' && s.line === line) return true;
      if (s.kind === 'function' && s.fn && (node ? (node.startIndex >= s.fn.startIndex && node.endIndex <= s.fn.endIndex) : (line >= s.fn.startPosition.row && line <= s.fn.endPosition.row))) return true;
    }
    return false;
  }

  offsetAt(line: number, character: number): number {
    return (this.lineStarts[line] ?? this.text.length) + character;
  }

  lineText(row: number): string {
    const s = this.lineStarts[row] ?? this.text.length;
    const e = this.lineStarts[row + 1] ?? this.text.length;
    return this.text.slice(s, e).replace(/\r?\n$/, '');
  }
}

/** 3: ctxop_* interface; 2: 13915 installctx (9 args / preallocate); 1: 8-arg installctx/removectx; 0: none. */
function apiLevel(branch: SyntaxNode): number {
  const calls: { name: string; args: number }[] = [];
  let template = false;
  const alt = branch.childForFieldName('alternative');
  for (const c of branch.namedChildren) {
    if (!c || (alt && c.id === alt.id)) continue;
    walk(c, (n) => {
      if (n.type === 'call_expression') {
        const name = callName(n);
        if (CTXOP_API.has(name) || LEGACY_API.has(name)) calls.push({ name, args: callArgs(n).length });
      } else if (n.type === 'struct_specifier' && n.childForFieldName('name')?.text === 'ctxop_template') template = true;
      return true;
    });
  }
  return apiRank(apiOfCode({ calls, template }));
}

/** The era under `--era auto`: the file's ctxop calls, as core/infer-era.ts reads them for the linter. */
export function inferEra(m: FileModel): Era {
  const calls: { name: string; args: number }[] = [];
  for (const name of [...CTXOP_API, ...LEGACY_API]) for (const c of m.callsTo(name)) calls.push({ name, args: callArgs(c).length });
  return lintEraOf({ calls, template: /\bstruct\s+ctxop_template\b/.test(m.text) });
}

const SUPPRESS_RE = /kctx-lint:\s*(disable|disable-line|disable-next-line|disable-function|disable-file)\s*=\s*(\*|[A-Za-z0-9_-]+(?:\s*,\s*[A-Za-z0-9_-]+)*)/g;

function parseSuppressions(m: FileModel): Suppression[] {
  const out: Suppression[] = [];
  if (!m.text.includes('kctx-lint:')) return out;
  SUPPRESS_RE.lastIndex = 0;
  for (let r = SUPPRESS_RE.exec(m.text); r; r = SUPPRESS_RE.exec(m.text)) {
    const kind = r[1]!;
    const rules = new Set(r[2]!.split(/[\s,]+/).filter(Boolean).map((x) => (x === '*' ? 'all' : x)));
    const line = lineAt(m.lineStarts, r.index);
    if (kind === 'disable-file') { out.push({ kind: 'file', rules, line }); continue; }
    if (kind === 'disable-function') {
      const fn = functionForComment(m, r.index);
      if (fn) out.push({ kind: 'function', rules, line, fn });
      continue;
    }
    // Line forms: trailing comment -> this line; a comment alone on its line -> the next code line.
    const lineText = m.lineText(line);
    const col = r.index - (m.lineStarts[line] ?? 0);
    const before = lineText.slice(0, col).replace(/\/\*\s*$|\/\/\s*$/, '').trim();
    if (kind === 'disable-next-line' || (kind === 'disable' && before === '')) {
      let target = line + 1;
      // skip the rest of a multi-line comment and blank lines
      const closeAt = m.text.indexOf('*/', r.index);
      if (closeAt >= 0 && m.text.lastIndexOf('/*', r.index) > m.text.lastIndexOf('*/', r.index - 1)) target = lineAt(m.lineStarts, closeAt) + 1;
      while (target < m.lineStarts.length && m.lineText(target).trim() === '') target++;
      out.push({ kind: 'line', rules, line: target });
    } else out.push({ kind: 'line', rules, line });
  }
  return out;
}

function lineAt(starts: number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The function a disable-function comment belongs to: the one containing it, or the next one after it. */
function functionForComment(m: FileModel, offset: number): SyntaxNode | null {
  for (const f of m.functions) {
    if (f.startIndex <= offset && offset < f.endIndex) return f;
  }
  for (const f of m.functions) if (f.startIndex > offset) {
    // only comments and whitespace between the comment and the function
    const between = m.text.slice(offset, f.startIndex).replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
    const rest = between.replace(/^[^\n]*\*\//, '');
    return rest.trim() === '' ? f : null;
  }
  return null;
}

/** [A-Za-z0-9_] (NaN, past either end, is not). */
function isWordChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}
