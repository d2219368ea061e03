/**
 * A path-sensitive walk over one function body, on the syntax tree (no hand-written parser):
 * a set of path states flows through statements; branches split it, joins merge equal states,
 * loops run to a fixed point (bounded), `goto` forward edges reach their label, backward `goto`
 * edges re-run the statements from their label (new states only, bounded), `return`,
 * `break`, `continue` and noreturn calls end paths. Each path remembers which branch conditions
 * it assumed (so `if (x) A; ...; if (x) B;` never pairs A with not-B) and a trail of steps
 * for messages. Preprocessor conditionals are branches too, correlated by their condition.
 *
 * A rule supplies a FlowDomain: its facts per path and what each effect node does to them.
 */
import type { SyntaxNode } from './syntax';
import { callArgs, callName, identifiersIn, lineOf, lvalueRoot, unwrap, walk, hasStructuralError } from './syntax';

export interface Step {
  line: number;
  text: string;
}

export interface Cond {
  value: boolean;
  ids: string[];
}

export interface PathState<F> {
  facts: F;
  conds: ReadonlyMap<string, Cond>;
  trail: readonly Step[];
}

export interface FlowDomain<F> {
  /** Equal keys mean equal facts (states with equal facts and conditions merge). */
  key(f: F): string;
  /** An effect node in evaluation order: call_expression, update_expression, assignment_expression, init_declarator. */
  effect(node: SyntaxNode, s: PathState<F>): PathState<F>;
  /** A path leaves the function (`return` or the closing brace). */
  exit?(s: PathState<F>, at: SyntaxNode, how: 'return' | 'end'): void;
  /** A path leaves a compound statement through its closing brace. */
  leaveBlock?(block: SyntaxNode, s: PathState<F>): PathState<F>;
  /** A branch condition is assumed true or false on this path; null when that is impossible. */
  assume?(cond: SyntaxNode, truth: boolean, s: PathState<F>): PathState<F> | null;
  /** A statement or an expression is about to run (for rules that look at statements). */
  statement?(stmt: SyntaxNode, s: PathState<F>): PathState<F>;
  /**
   * A path jumps: `goto` (target: the labeled statement, null when the label is not in the function),
   * `break` (target: the loop or switch it leaves) or `continue` (target: the loop). Called before the
   * jump; blocks that contain the jump but not the target are left without their closing brace.
   */
  jump?(stmt: SyntaxNode, target: SyntaxNode | null, s: PathState<F>): PathState<F>;
}

export const NORETURN = new Set(['panic', 'vpanic', 'abort', '__builtin_unreachable', 'assfail', 'assfail3', 'kassert_panic', 'exit', '_exit', 'longjmp', 'siglongjmp',
  // illumos: declared __NORETURN (thread_exit, the zombie switches, the monitor and boot panics), or ending in vpanic()
  // (fm_panic) or in thread_exit() on every path (zthread_exit, zone.c; lwp_exit is not: it returns when init restarts)
  'thread_exit', 'swtch_from_zombie', 'resume_from_zombie', 'prom_exit_to_mon', 'bop_panic', 'fm_panic', 'zthread_exit']);

const MAX_STATES = 48;
const MAX_LOOP_ROUNDS = 4;

/** Path steps one function walk may take by default (statements and effects visited, over all paths). */
export const DEFAULT_WORK_BUDGET = 250_000;

/**
 * The work budget of the analyses: a number of path steps per function walk, never wall time, so a
 * result does not depend on the machine or its load. A walk over it stops with WorkBudgetExceeded at
 * the same step every time; cancellation (a user action whose result is thrown away) is polled.
 */
export class WorkBudget {
  constructor(readonly steps: number = DEFAULT_WORK_BUDGET, readonly cancelled: () => boolean = () => false) {}
  static none(): WorkBudget { return new WorkBudget(Number.POSITIVE_INFINITY); }
}

/** A function walk went over its work budget: its findings are partial. */
export class WorkBudgetExceeded extends Error {
  constructor(readonly steps: number) { super(`over the work budget of ${steps} path steps`); }
}

/** The lint was cancelled (by the editor): its result is discarded. */
export class WalkCancelled extends Error {}

/** Is this call one that never returns? */
export function isNoreturnCall(call: SyntaxNode): boolean {
  const name = callName(call);
  if (NORETURN.has(name)) return true;
  const args = callArgs(call);
  if ((name === 'cmn_err' || name === 'vcmn_err') && args[0] && args[0].text === 'CE_PANIC') return true;
  if (name === 'ddi_err' && args[0] && args[0].text === 'DER_PANIC') return true;
  if ((name === 'VERIFY' || name === 'VERIFY0') && args[0]) {
    const a = unwrap(args[0]);
    if (name === 'VERIFY' && a && (a.text === '0' || a.text === 'B_FALSE')) return true;
  }
  return false;
}

function condsKey(c: ReadonlyMap<string, Cond>): string {
  if (c.size === 0) return '';
  const parts: string[] = [];
  for (const [k, v] of c) parts.push(k + (v.value ? '=1' : '=0'));
  return parts.sort().join(';');
}

/** Condition of a branch as a correlation key: `x`, `!x`, `x != NULL` -> (x, polarity). */
export function condition(expr: SyntaxNode | null, correlate = false): { key: string; positive: boolean; ids: string[]; constant?: boolean } | null {
  let e = unwrap(expr);
  if (!e) return null;
  let positive = true;
  for (;;) {
    if (e.type === 'unary_expression' && e.child(0)?.text === '!') {
      positive = !positive;
      e = unwrap(e.childForFieldName('argument'));
      if (!e) return null;
      continue;
    }
    if (e.type === 'binary_expression') {
      const op = e.childForFieldName('operator')?.text;
      const l = unwrap(e.childForFieldName('left'));
      const r = unwrap(e.childForFieldName('right'));
      const isZero = (n: SyntaxNode | null) => !!n && (n.type === 'null' || n.text === 'NULL' || n.text === '0' || n.text === 'B_FALSE');
      if ((op === '!=' || op === '==') && l && r && (isZero(r) || isZero(l))) {
        if (op === '==') positive = !positive;
        e = isZero(r) ? l : r;
        continue;
      }
    }
    break;
  }
  // `(x = e) != 0`: once evaluated, a condition on x (the walk has run the assignment first)
  if (correlate && e.type === 'assignment_expression' && e.childForFieldName('operator')?.text === '=') {
    const l = unwrap(e.childForFieldName('left'));
    if (l && l.type === 'identifier') return { key: l.text, positive, ids: [l.text] };
  }
  if (e.type === 'number_literal') return { key: '', positive: positive === (Number(e.text.replace(/[uUlL]+$/, '')) !== 0), ids: [], constant: true };
  if (e.type === 'true' || e.text === 'B_TRUE') return { key: '', positive, ids: [], constant: true };
  if (e.type === 'false' || e.text === 'B_FALSE') return { key: '', positive: !positive, ids: [], constant: true };
  // A condition with a call or a side effect is not a stable fact. (One walk: the identifiers too.)
  let unstable = false;
  const ids = new Set<string>();
  walk(e, (n) => {
    if (n.type === 'call_expression' && correlate && pureCall(n)) return true;
    if (n.type === 'call_expression' || n.type === 'assignment_expression' || n.type === 'update_expression') unstable = true;
    else if (n.type === 'identifier') ids.add(n.text);
    return !unstable;
  });
  if (unstable) return null;
  const key = e.text.replace(/\s+/g, '');
  // `x != C` is not `x == C` (correlate: one key for both, and for a switch's `case C`)
  if (correlate && e.type === 'binary_expression' && e.childForFieldName('operator')?.text === '!=') {
    return { key: `${(e.childForFieldName('left')?.text ?? '').replace(/\s+/g, '')}==${(e.childForFieldName('right')?.text ?? '').replace(/\s+/g, '')}`, positive: !positive, ids: [...ids] };
  }
  return { key, positive, ids: [...ids] };
}

/**
 * (correlate) A call a condition may read as a value: a macro-like upper-case name
 * (`HERMON_IN_FASTREBOOT(state)`) or a call without arguments (`ddi_root_node()`), except one that
 * asks about a lock (`MUTEX_HELD(&x)` changes when the path takes it). The same text, with nothing
 * written to its identifiers in between, is the same condition.
 */
function pureCall(n: SyntaxNode): boolean {
  const f = n.childForFieldName('function');
  if (!f || f.type !== 'identifier' || /HELD|OWN|LOCK|TRY/i.test(f.text)) return false;
  if (/^[A-Z_][A-Z0-9_]*$/.test(f.text)) return true;
  return (n.childForFieldName('arguments')?.namedChildren.filter((x) => x && x.type !== 'comment').length ?? 1) === 0;
}

export interface WalkOptions {
  budget?: WorkBudget;
  /**
   * Merge states that differ only in conditions no later branch reads (readConds). The findings are
   * those of the full walk wherever that stays under MAX_STATES; where the full walk went over it
   * (and forgot its correlations), this one may keep them, and report less.
   */
  mergeUnreadConditions?: boolean;
  /**
   * Correlate more (the lock analysis): over MAX_STATES, states with equal facts are joined keeping
   * the branch conditions they agree on (instead of forgetting every condition), so a correlation
   * that decides a fact (`if (dolock)` around both the enter and the exit) survives a function with
   * many unrelated branches; `if ((x = e) != 0)` is a condition on x; a `switch` case is a condition
   * (`e==CASE` true for its label, false for the switch's other labels) that a later switch on the
   * same expression, or an `if (e == CASE)`, follows; `x = C` makes `x == C` true (and `x == D` false);
   * `&p->f` handed to a call, or `p->f = v`, forgets conditions that read through p, not `if (p)`.
   */
  correlate?: boolean;
}

interface Frame<F> {
  breaks: PathState<F>[];
  continues: PathState<F>[];
  kind: 'loop' | 'switch';
  node: SyntaxNode;
}

/**
 * Text that may hold an effect node: a call (a name, `]` or `)` before `(`), `++`/`--`, an assignment
 * (`=` that is not part of `==`, `!=`, `<=`, `>=`; or `<<=`/`>>=`), or a comment (which could sit
 * between a callee and its `(`). Text without any of these has no effect node: expr() skips it.
 * Sound only on a tree without errors (error recovery inserts tokens that are not in the text).
 */
const EFFECT_TEXT = /[\w\])]\s*\(|\+\+|--|(?:^|[^=!<>])=(?!=)|<<=|>>=|\/[*/]/;

/** Ends a memoized effect list at a noreturn call. */
const NORETURN_MARK = { type: 'noreturn' } as unknown as SyntaxNode;

/** How often a backward goto may send new states back to its label (a loop made of labels). */
const MAX_BACK_ROUNDS = 6;

export class FlowWalker<F> {
  private frames: Frame<F>[] = [];
  private pending = new Map<string, PathState<F>[]>();
  private seenLabels = new Set<string>();
  /** States sent back by a backward goto, waiting for the block that holds the label. */
  private back = new Map<string, PathState<F>[]>();
  /** Keys of the states that already ran through each label (a backward goto re-runs only new ones). */
  private labelKeys = new Map<string, Set<string>>();
  private labels = new Map<string, SyntaxNode>();
  private readonly budget: WorkBudget;
  private readonly correlate: boolean;
  private spent = 0;
  /** Skip expressions whose text cannot hold an effect (set by run() for a function parsed without errors). */
  private prefilter = false;
  private effectsOf = new Map<number, SyntaxNode[]>();
  private writes = new Map<number, Writes>();
  /** Keys of facts and of condition sets, by object (states share them; both are never mutated). */
  private factKeys = new WeakMap<object, string>();
  private condKeys = new WeakMap<object, string>();

  private factsKey(f: F): string {
    if (typeof f !== 'object' || f === null) return this.d.key(f);
    let k = this.factKeys.get(f);
    if (k === undefined) { k = this.d.key(f); this.factKeys.set(f, k); }
    return k;
  }

  private condsKeyOf(c: ReadonlyMap<string, Cond>): string {
    let k = this.condKeys.get(c);
    if (k === undefined) { k = condsKey(c); this.condKeys.set(c, k); }
    return k;
  }
  private conditions = new Map<number, ReturnType<typeof condition>>();

  /** condition() of a node, once per walk. */
  private cond(n: SyntaxNode | null): ReturnType<typeof condition> {
    if (!n) return condition(n);
    let c = this.conditions.get(n.id);
    if (c === undefined) { c = condition(n, this.correlate); this.conditions.set(n.id, c); }
    return c;
  }

  private readonly mergeUnread: boolean;

  constructor(private readonly d: FlowDomain<F>, opts: WalkOptions = {}) {
    this.budget = opts.budget ?? WorkBudget.none();
    this.mergeUnread = !!opts.mergeUnreadConditions;
    this.correlate = opts.correlate ?? false;
  }

  /**
   * The condition keys a path keeps (null: all). A key that no branch but the one assuming it reads
   * (one `if` with that condition, outside any loop, and no backward `goto` in the function) only
   * splits states that go on alike: it is not kept, so they merge. An assignment's known value is
   * kept when some `if` tests that variable.
   */
  private keptConds: Set<string> | null = null;
  private testedVars: Set<string> | null = null;

  /** Runs the function body from the given entry states. */
  run(fn: SyntaxNode, entry: PathState<F>[]): void {
    const body = fn.childForFieldName('body');
    if (!body) return;
    this.prefilter = !hasStructuralError(fn);
    // (a labeled statement's text holds its ':', and so does every node around it; on a tree without errors)
    walk(body, (n) => {
      if (n.type === 'labeled_statement') {
        const l = n.childForFieldName('label')?.text ?? '';
        if (!this.labels.has(l)) this.labels.set(l, n);
      }
      return n.type !== 'comment' && (!this.prefilter || n.text.includes(':'));
    });
    if (this.mergeUnread) this.readConds(body);
    const out = this.block(body, entry);
    for (const s of out) this.d.exit?.(s, body, 'end');
  }

  /**
   * Counts the conditions of the branches the walk can run (statements, not statement expressions):
   * keptConds, testedVars. A branch that runs again (in a loop, or between a label and a backward
   * `goto` that re-runs it) reads what its own earlier run assumed. With correlation, a `switch`'s
   * case labels are conditions it reads (`e==V`, as switchConds makes them), and a test of `e==C`
   * reads every other `e==D` (excluded()), so they count as one.
   */
  private readConds(body: SyntaxNode): void {
    const ifs: { key: string; at: number; inLoop: boolean }[] = [];
    // what a backward goto re-runs: from its label through the statement beside the label that holds the goto
    const again: [number, number][] = [];
    const visit = (n: SyntaxNode | null, inLoop: boolean): void => {
      if (!n) return;
      switch (n.type) {
        case 'if_statement': {
          const c = this.cond(n.childForFieldName('condition'));
          if (c && !c.constant) ifs.push({ key: c.key, at: n.startIndex, inLoop });
          visit(n.childForFieldName('consequence'), inLoop);
          visit(n.childForFieldName('alternative'), inLoop);
          return;
        }
        case 'while_statement': case 'for_statement': case 'do_statement': case 'function_definition':
          visit(n.childForFieldName('body'), true);
          return;
        case 'switch_statement': {
          // (correlate) each case label is a condition `e==V` the switch reads (switchConds)
          const c = this.correlate ? this.cond(n.childForFieldName('condition')) : null;
          const body = n.childForFieldName('body');
          if (c && !c.constant && c.positive && body) {
            for (const k of body.namedChildren) {
              const v = k?.type === 'case_statement' ? k.childForFieldName('value') : null;
              if (v) ifs.push({ key: `${c.key}==${v.text.replace(/\s+/g, '')}`, at: n.startIndex, inLoop });
            }
          }
          visit(body, inLoop);
          return;
        }
        case 'preproc_if': case 'preproc_elif': case 'preproc_elifdef':
          ifs.push({ key: '#' + (n.childForFieldName('condition')?.text ?? '').replace(/\s+/g, ''), at: n.startIndex, inLoop });
          break;
        case 'preproc_ifdef':
          ifs.push({ key: '#defined(' + (n.childForFieldName('name')?.text ?? '') + ')', at: n.startIndex, inLoop });
          break;
        case 'goto_statement': {
          const target = this.labels.get(n.childForFieldName('label')?.text ?? '');
          if (target && target.startIndex < n.startIndex) {
            const holder = target.parent;
            let x: SyntaxNode | null = n;
            while (x && holder && x.parent && x.parent.id !== holder.id) x = x.parent;
            if (x && holder && x.parent) again.push([target.startIndex, x.endIndex]);
          }
          return;
        }
        case 'expression_statement': case 'declaration': case 'return_statement': case 'comment': case 'break_statement': case 'continue_statement':
        case 'preproc_call': case 'preproc_def': case 'preproc_function_def': case 'preproc_include': case 'type_definition':
          return;
      }
      for (const c of n.namedChildren) visit(c, inLoop);
    };
    visit(body, false);
    const count = new Map<string, number>();
    const kept = new Set<string>();
    // (correlate) `e==C` reads the other `e==D` too (excluded(), a switch's labels): one count for them all
    const group = (k: string): string => {
      if (!this.correlate) return k;
      const i = k.lastIndexOf('==');
      return i > 0 ? k.slice(0, i + 2) : k;
    };
    const groupCount = new Map<string, number>();
    for (const b of ifs) groupCount.set(group(b.key), (groupCount.get(group(b.key)) ?? 0) + 1);
    for (const b of ifs) {
      count.set(b.key, (count.get(b.key) ?? 0) + 1);
      if (b.inLoop || count.get(b.key)! > 1 || groupCount.get(group(b.key))! > 1 || again.some(([s, e]) => b.at >= s && b.at < e)) kept.add(b.key);
    }
    this.keptConds = kept;
    this.testedVars = new Set(count.keys());
  }

  private dedup(states: PathState<F>[]): PathState<F>[] {
    if (states.length <= 1) return states;
    const seen = new Map<string, PathState<F>>();
    for (const s of states) {
      const k = this.factsKey(s.facts) + '#' + this.condsKeyOf(s.conds);
      if (!seen.has(k)) seen.set(k, s);
    }
    let out = [...seen.values()];
    if (out.length > MAX_STATES && this.correlate) {
      // Join the states of equal facts, keeping the conditions all of them agree on.
      const byFacts = new Map<string, PathState<F>>();
      for (const s of out) {
        const k = this.factsKey(s.facts);
        const had = byFacts.get(k);
        if (!had) { byFacts.set(k, s); continue; }
        if (had.conds.size === 0) continue;
        const m = new Map<string, Cond>();
        for (const [ck, c] of had.conds) { const o = s.conds.get(ck); if (o && o.value === c.value) m.set(ck, c); }
        if (m.size !== had.conds.size) byFacts.set(k, { ...had, conds: m });
      }
      out = [...byFacts.values()].slice(0, MAX_STATES);
    } else if (out.length > MAX_STATES) {
      // Forget branch correlations, then keep a bounded sample (fewer paths: fewer reports, never more).
      const byFacts = new Map<string, PathState<F>>();
      for (const s of out) {
        const k = this.factsKey(s.facts);
        if (!byFacts.has(k)) byFacts.set(k, { ...s, conds: new Map() });
      }
      out = [...byFacts.values()].slice(0, MAX_STATES);
    }
    return out;
  }

  private check(): void {
    if (++this.spent > this.budget.steps) throw new WorkBudgetExceeded(this.budget.steps);
    if ((this.spent & 255) === 0 && this.budget.cancelled()) throw new WalkCancelled('cancelled');
  }

  /** A block's statements and the label of each labeled one (null for the others), read from the tree once per walk. */
  private blockKids = new Map<number, { kids: SyntaxNode[]; labels: (string | null)[] }>();

  private block(b: SyntaxNode, states: PathState<F>[]): PathState<F>[] {
    let cur = states;
    let bk = this.blockKids.get(b.id);
    if (!bk) {
      const kids = b.namedChildren.filter((c): c is SyntaxNode => !!c);
      bk = { kids, labels: kids.map((k) => (k.type === 'labeled_statement' ? k.childForFieldName('label')?.text ?? '' : null)) };
      this.blockKids.set(b.id, bk);
    }
    const { kids, labels } = bk;
    for (let i = 0; i < kids.length; i++) {
      cur = this.stmt(kids[i]!, cur);
      if (this.back.size) cur = this.backEdges(kids, labels, i, cur);
    }
    if (b.type === 'compound_statement' && this.d.leaveBlock) cur = cur.map((s) => this.d.leaveBlock!(b, s));
    return cur;
  }

  /**
   * Backward gotos to a label that is one of kids[0..i]: the states that jumped run again from the
   * label through kids[i] (only states not seen at that label before, a bounded number of rounds),
   * and what falls out of kids[i] joins the states that went on normally.
   */
  private backEdges(kids: SyntaxNode[], labels: (string | null)[], i: number, cur: PathState<F>[]): PathState<F>[] {
    for (let round = 0; round < MAX_BACK_ROUNDS && this.back.size; round++) {
      let j = -1;
      let label = '';
      for (let k = 0; k <= i; k++) {
        const l = labels[k];
        if (l === null || l === undefined) continue;
        if (this.back.has(l)) { j = k; label = l; break; }
      }
      if (j < 0) return cur;
      const sent = this.back.get(label)!;
      this.back.delete(label);
      const seen = this.labelKeys.get(label) ?? new Set<string>();
      const fresh = sent.filter((s) => !seen.has(this.stateKey(s)));
      if (!fresh.length) continue;
      let again = fresh;
      for (let k = j; k <= i; k++) again = this.stmt(kids[k]!, again);
      cur = this.dedup([...cur, ...again]);
    }
    // Still more after the last round: dropped (fewer paths: fewer reports, never more).
    return cur;
  }

  private stateKey(s: PathState<F>): string {
    return this.factsKey(s.facts) + '#' + this.condsKeyOf(s.conds);
  }

  /** Runs a statement; returns the states that fall through it. */
  stmt(n: SyntaxNode, states: PathState<F>[]): PathState<F>[] {
    this.check();
    if (n.type === 'labeled_statement') {
      const label = n.childForFieldName('label')?.text ?? '';
      const p = this.pending.get(label) ?? [];
      this.pending.delete(label);
      this.seenLabels.add(label);
      const merged = this.dedup([...states, ...p]);
      const keys = this.labelKeys.get(label) ?? new Set<string>();
      for (const s of merged) keys.add(this.stateKey(s));
      this.labelKeys.set(label, keys);
      const inner = n.namedChildren.filter((c) => c && c.type !== 'statement_identifier' && c.type !== 'comment');
      let cur = merged;
      for (const c of inner) cur = this.stmt(c!, cur);
      return cur;
    }
    if (states.length === 0 && !this.containsLabel(n)) return states;
    if (this.d.statement) states = states.map((s) => this.d.statement!(n, s));
    switch (n.type) {
      case 'comment':
        return states;
      case 'compound_statement':
        return this.block(n, states);
      case 'expression_statement':
      case 'declaration':
        return this.expr(n, states);
      case 'if_statement':
        return this.ifStmt(n, states);
      case 'else_clause':
        return this.blockLike(n, states);
      case 'while_statement':
      case 'for_statement':
      case 'do_statement':
        return this.loop(n, states);
      case 'function_definition':
        // A macro loop: `FOREACH(x) { ... }` parses as a nested function definition.
        return this.macroLoop(n, states);
      case 'switch_statement':
        return this.switchStmt(n, states);
      case 'return_statement': {
        const out = this.expr(n, states);
        for (const s of out) this.d.exit?.(s, n, 'return');
        return [];
      }
      case 'break_statement': {
        const f = this.frames[this.frames.length - 1];
        if (f) f.breaks.push(...this.jumping(n, f.node, states));
        return [];
      }
      case 'continue_statement': {
        const f = [...this.frames].reverse().find((x) => x.kind === 'loop');
        if (f) f.continues.push(...this.jumping(n, f.node, states));
        return [];
      }
      case 'goto_statement': {
        const label = n.childForFieldName('label')?.text ?? '';
        const trailed = this.jumping(n, this.labels.get(label) ?? null, states).map((s) => ({ ...s, trail: [...s.trail, { line: lineOf(n), text: `goto ${label}` }] }));
        // A label already passed: a backward goto, re-run by the block that holds the label.
        const into = this.seenLabels.has(label) ? this.back : this.pending;
        into.set(label, [...(into.get(label) ?? []), ...trailed]);
        return [];
      }
      case 'preproc_if':
      case 'preproc_ifdef':
        return this.preproc(n, states);
      case 'preproc_call':
      case 'preproc_def':
      case 'preproc_function_def':
      case 'preproc_include':
      case 'type_definition':
        return states;
      default:
        return this.expr(n, states);
    }
  }

  private jumping(n: SyntaxNode, target: SyntaxNode | null, states: PathState<F>[]): PathState<F>[] {
    return this.d.jump ? states.map((s) => this.d.jump!(n, target, s)) : states;
  }

  private containsLabel(n: SyntaxNode): boolean {
    if (this.pending.size === 0) return false;
    let found = false;
    walk(n, (x) => {
      if (found) return false;
      if (x.type === 'labeled_statement' && this.pending.has(x.childForFieldName('label')?.text ?? '')) found = true;
      return !found && (!this.prefilter || x.text.includes(':'));
    });
    return found;
  }

  private blockLike(n: SyntaxNode, states: PathState<F>[]): PathState<F>[] {
    let cur = states;
    for (const c of n.namedChildren) if (c) cur = this.stmt(c, cur);
    return cur;
  }

  /** Evaluates the effects inside an expression or declaration, in evaluation order (operands first). */
  expr(n: SyntaxNode | null, states: PathState<F>[]): PathState<F>[] {
    if (!n || states.length === 0) return states;
    // the effect nodes of an expression, found once per walk (loops and backward gotos run it again)
    let effects = this.effectsOf.get(n.id);
    if (!effects) {
      const pf = this.prefilter;
      const found: SyntaxNode[] = [];
      const visit = (x: SyntaxNode) => {
        if (x.type === 'compound_statement' || x.type === 'comment') return;
        for (const c of x.namedChildren) if (c && (!pf || EFFECT_TEXT.test(c.text))) visit(c);
        if (x.type === 'call_expression' || x.type === 'update_expression' || x.type === 'assignment_expression' || x.type === 'init_declarator') found.push(x);
      };
      if (!pf || EFFECT_TEXT.test(n.text)) visit(n);
      // a noreturn call ends the list (what follows it never runs)
      const stop = found.findIndex((e) => e.type === 'call_expression' && isNoreturnCall(e));
      effects = stop >= 0 ? [...found.slice(0, stop), NORETURN_MARK] : found;
      this.effectsOf.set(n.id, effects);
    }
    let cur = states;
    for (const e of effects) {
      if (e === NORETURN_MARK) return [];
      let w = this.writes.get(e.id);
      if (!w) { w = writesOf(e, this.correlate); this.writes.set(e.id, w); }
      const next: PathState<F>[] = [];
      for (const s of cur) next.push(this.d.effect(e, invalidate(w, s, this.testedVars)));
      cur = next;
    }
    return this.dedup(cur);
  }

  private branchStep(states: PathState<F>[], before: PathState<F>, step: Step, mark: number): PathState<F>[] {
    const k0 = this.factsKey(before.facts);
    return states.map((s) => (this.factsKey(s.facts) !== k0 ? { ...s, trail: [...s.trail.slice(0, mark), step, ...s.trail.slice(mark)] } : s));
  }

  private ifStmt(n: SyntaxNode, states: PathState<F>[]): PathState<F>[] {
    const condNode = n.childForFieldName('condition');
    const cons = n.childForFieldName('consequence');
    const alt = n.childForFieldName('alternative');
    const after = this.expr(condNode, states);
    const c = this.cond(condNode);
    const out: PathState<F>[] = [];
    const condText = (condNode?.text ?? '').replace(/\s+/g, ' ');
    const parts = this.correlate ? this.conjuncts(condNode) : null;
    for (const s of after) {
      let takeThen = true;
      let takeElse = true;
      if (c?.constant) { takeThen = c.positive; takeElse = !c.positive; }
      else if (c) {
        const known = s.conds.get(c.key);
        if (known) { takeThen = known.value === c.positive; takeElse = !takeThen; }
        else if (this.correlate && excluded(s.conds, c.key)) { takeThen = !c.positive; takeElse = c.positive; }
        // (correlate) `a && b` with a part this path knows false is false; `a || b` with a part known true is true
        else if (this.correlate && parts) {
          const knownPart = (x: { key: string; positive: boolean } | null, v: boolean) => { const k = x && s.conds.get(x.key); return !!k && (k.value === x.positive) === v; };
          if (parts.op === '&&' && parts.conds.some((x) => knownPart(x, false))) takeThen = false;
          if (parts.op === '||' && parts.conds.some((x) => knownPart(x, true))) takeElse = false;
        }
      }
      const withCond = (v: boolean): PathState<F> => {
        if (!c || c.constant || (this.keptConds && !this.keptConds.has(c.key))) return s;
        const m = new Map(s.conds);
        m.set(c.key, { value: v === c.positive, ids: c.ids });
        return { ...s, conds: m };
      };
      const assumed = (v: boolean): PathState<F> | null => {
        const st = withCond(v);
        return this.d.assume && condNode ? this.d.assume(condNode, v, st) : st;
      };
      if (takeThen && cons) {
        const st = assumed(true);
        if (st) {
        const r = this.stmt(cons, [st]);
        out.push(...this.branchStep(r, st, { line: lineOf(n), text: `'if ${condText}' is true` }, st.trail.length));
        }
      }
      if (takeElse) {
        const st = assumed(false);
        if (!st) continue;
        if (alt) {
          const r = this.stmt(alt, [st]);
          out.push(...this.branchStep(r, st, { line: lineOf(n), text: `'if ${condText}' is false` }, st.trail.length));
        } else out.push(st);
      }
    }
    // A label inside an unreachable branch may still receive gotos.
    if (after.length === 0) {
      if (cons) this.stmt(cons, []);
      if (alt) this.stmt(alt, []);
    }
    return this.dedup(out);
  }

  /** (correlate) The parts of an `a && b && c` or `a || b` condition, as conditions (null: not such a chain). */
  private readonly conjunctsOf = new Map<number, { op: string; conds: ({ key: string; positive: boolean } | null)[] } | null>();
  private conjuncts(n: SyntaxNode | null): { op: string; conds: ({ key: string; positive: boolean } | null)[] } | null {
    if (!n) return null;
    let r = this.conjunctsOf.get(n.id);
    if (r === undefined) { r = this.conjunctsOfNode(n); this.conjunctsOf.set(n.id, r); }
    return r;
  }

  private conjunctsOfNode(n: SyntaxNode): { op: string; conds: ({ key: string; positive: boolean } | null)[] } | null {
    const e = unwrap(n);
    const op = e?.type === 'binary_expression' ? e.childForFieldName('operator')?.text : undefined;
    if (!e || (op !== '&&' && op !== '||')) return null;
    const conds: ({ key: string; positive: boolean } | null)[] = [];
    const visit = (x: SyntaxNode | null) => {
      const u = unwrap(x);
      if (u?.type === 'binary_expression' && u.childForFieldName('operator')?.text === op) { visit(u.childForFieldName('left')); visit(u.childForFieldName('right')); } else if (u) {
        const c = this.cond(u);
        conds.push(c && !c.constant ? c : null);
      }
    };
    visit(e);
    return { op, conds };
  }

  private loop(n: SyntaxNode, states: PathState<F>[]): PathState<F>[] {
    const body = n.childForFieldName('body');
    const condNode = n.childForFieldName('condition');
    let entry = states;
    if (n.type === 'for_statement') {
      const init = n.childForFieldName('initializer');
      entry = this.expr(init, entry);
    }
    const c = this.cond(condNode);
    const infinite = (n.type === 'for_statement' && !condNode) || (c?.constant === true && c.positive);
    const never = c?.constant === true && !c.positive;
    const frame: Frame<F> = { breaks: [], continues: [], kind: 'loop', node: n };
    this.frames.push(frame);
    const exits: PathState<F>[] = [];
    const seen = new Set<string>();
    const keyOf = (s: PathState<F>) => this.stateKey(s);
    let head = entry;
    try {
      for (let round = 0; round < MAX_LOOP_ROUNDS && head.length; round++) {
        const fresh = head.filter((s) => { const k = keyOf(s); if (seen.has(k)) return false; seen.add(k); return true; });
        if (!fresh.length) break;
        let inBody: PathState<F>[];
        if (n.type === 'do_statement') inBody = fresh;
        else {
          const evald = this.expr(condNode, fresh);
          // (correlate) a condition this path knows decides: `while (p == NULL) { ... p = NULL; }` goes round again
          const known = (s: PathState<F>) => (this.correlate && c && !c.constant ? s.conds.get(c.key)?.value : undefined);
          const decided = (s: PathState<F>, v: boolean) => { const k = known(s); return k !== undefined && (k === c!.positive) === v; };
          if (!infinite) exits.push(...evald.filter((s) => !decided(s, true)));
          inBody = never ? [] : evald.filter((s) => !decided(s, false));
        }
        frame.continues = [];
        let out = body ? this.stmt(body, inBody) : inBody;
        out = [...out, ...frame.continues];
        if (n.type === 'for_statement') out = this.expr(n.childForFieldName('update'), out);
        if (n.type === 'do_statement') {
          const evald = this.expr(condNode, out);
          if (!infinite) exits.push(...evald);
          out = never ? [] : evald;
        }
        head = this.dedup(out);
      }
    } finally {
      this.frames.pop();
    }
    return this.dedup([...exits, ...frame.breaks]);
  }

  private macroLoop(n: SyntaxNode, states: PathState<F>[]): PathState<F>[] {
    const body = n.childForFieldName('body');
    if (!body) return states;
    const frame: Frame<F> = { breaks: [], continues: [], kind: 'loop', node: n };
    this.frames.push(frame);
    const exits: PathState<F>[] = [...states];
    try {
      let head = states;
      for (let round = 0; round < 2 && head.length; round++) {
        frame.continues = [];
        const out = this.dedup([...this.stmt(body, head), ...frame.continues]);
        exits.push(...out);
        head = out;
      }
    } finally {
      this.frames.pop();
    }
    return this.dedup([...exits, ...frame.breaks]);
  }

  private switchStmt(n: SyntaxNode, states: PathState<F>[]): PathState<F>[] {
    const entry = this.expr(n.childForFieldName('condition'), states);
    const body = n.childForFieldName('body');
    if (!body) return entry;
    const frame: Frame<F> = { breaks: [], continues: [], kind: 'switch', node: n };
    this.frames.push(frame);
    let cur: PathState<F>[] = [];
    let hasDefault = false;
    const sw = this.correlate ? this.switchConds(n, body) : null;
    try {
      for (const c of body.namedChildren) {
        if (!c) continue;
        if (c.type === 'case_statement') {
          if (c.child(0)?.type === 'default') hasDefault = true;
          cur = this.dedup([...cur, ...(sw ? sw.enter(c, entry) : entry)]);
          for (const s of c.namedChildren) {
            if (!s || s === c.childForFieldName('value')) continue;
            cur = this.stmt(s, cur);
          }
        } else cur = this.stmt(c, cur);
      }
    } finally {
      this.frames.pop();
    }
    return this.dedup([...cur, ...frame.breaks, ...(hasDefault ? [] : sw ? sw.enter(null, entry) : entry)]);
  }

  /**
   * A switch's cases as conditions (correlate): entering at `case V` assumes `e==V` true and the
   * other labels' conditions false; `default` (or no case taken) assumes every label's false. A path
   * whose conditions already rule the label out does not enter there. Null when e is not a stable
   * expression, or the switch has more than 32 labels.
   */
  private switchConds(n: SyntaxNode, body: SyntaxNode): { enter(c: SyntaxNode | null, states: PathState<F>[]): PathState<F>[] } | null {
    const c = this.cond(n.childForFieldName('condition'));
    if (!c || c.constant || !c.positive) return null;
    const labels: string[] = [];
    for (const k of body.namedChildren) {
      if (k?.type !== 'case_statement') continue;
      const v = k.childForFieldName('value');
      if (v) labels.push(`${c.key}==${v.text.replace(/\s+/g, '')}`);
    }
    if (!labels.length || labels.length > 32) return null;
    return {
      enter: (k, states) => {
        const v = k?.childForFieldName('value');
        const mine = v ? `${c.key}==${v.text.replace(/\s+/g, '')}` : null;
        const out: PathState<F>[] = [];
        for (const s of states) {
          if (mine ? s.conds.get(mine)?.value === false || excluded(s.conds, mine) : labels.some((l) => s.conds.get(l)?.value === true)) continue;
          const m = new Map(s.conds);
          for (const l of labels) m.set(l, { value: l === mine, ids: c.ids });
          out.push({ ...s, conds: m });
        }
        return out;
      },
    };
  }

  private preproc(n: SyntaxNode, states: PathState<F>[]): PathState<F>[] {
    // Branch of a #if/#ifdef/#elif/#else chain, correlated by its condition text.
    let key: string;
    let positive = true;
    if (n.type === 'preproc_ifdef') {
      key = 'defined(' + (n.childForFieldName('name')?.text ?? '') + ')';
      positive = n.child(0)?.text === '#ifdef';
    } else if (n.type === 'preproc_else') {
      return this.preprocBody(n, states);
    } else {
      const cn = n.childForFieldName('condition');
      key = (cn?.text ?? '').replace(/\s+/g, '');
      if (key === '0') return this.preprocAlt(n, states);
      if (key === '1') return this.preprocBody(n, states);
    }
    const label = n.type === 'preproc_ifdef' ? `${n.child(0)?.text} ${n.childForFieldName('name')?.text ?? ''}` : `#if ${n.childForFieldName('condition')?.text ?? ''}`;
    const out: PathState<F>[] = [];
    for (const s of states) {
      const known = s.conds.get('#' + key);
      const takeThen = known ? known.value === positive : true;
      const takeElse = known ? !takeThen : true;
      const withCond = (v: boolean): PathState<F> => {
        if (this.keptConds && !this.keptConds.has('#' + key)) return s;
        const m = new Map(s.conds);
        m.set('#' + key, { value: v === positive, ids: [] });
        return { ...s, conds: m };
      };
      if (takeThen) {
        const st = withCond(true);
        out.push(...this.branchStep(this.preprocBody(n, [st]), st, { line: lineOf(n), text: `'${label}' is taken` }, st.trail.length));
      }
      if (takeElse) {
        const st = withCond(false);
        out.push(...this.preprocAlt(n, [st]));
      }
    }
    return this.dedup(out);
  }

  private preprocBody(n: SyntaxNode, states: PathState<F>[]): PathState<F>[] {
    let cur = states;
    const alt = n.childForFieldName('alternative');
    const cond = n.childForFieldName('condition');
    const name = n.childForFieldName('name');
    for (const c of n.namedChildren) {
      if (!c || c === alt || c.id === cond?.id || c.id === name?.id) continue;
      if (alt && c.id === alt.id) continue;
      cur = this.stmt(c, cur);
    }
    return cur;
  }

  private preprocAlt(n: SyntaxNode, states: PathState<F>[]): PathState<F>[] {
    const alt = n.childForFieldName('alternative');
    if (!alt) return states;
    if (alt.type === 'preproc_else') return this.preprocBody(alt, states);
    return this.preproc(alt, states); // preproc_elif / preproc_elifdef
  }
}

/** What an effect writes, for invalidate(): read from the tree once per walk. */
interface Writes {
  /** Roots of the lvalues given by address to a call (`&x`). */
  hit: string[];
  /** For each lvalue reached through a pointer that a call is given the address of (`&p->q->f`: `p->q->`) or an assignment writes: conditions whose text reads through it are forgotten. */
  hitText: string[];
  /** The variable an assignment, update or declaration writes ('' if none). */
  written: string;
  /** `x = NULL` / `x = 0`: false; a non-zero constant or an address: true; else null. */
  known: boolean | null;
  /** (correlate) `x = C` for a constant C: the condition `x==C` holds after it. */
  equals?: string;
}

function writesOf(e: SyntaxNode, pointee: boolean): Writes {
  const none: Writes = { hit: [], hitText: [], written: '', known: null };
  if (e.type === 'call_expression') {
    // &x passed to a call may write x.
    // &x may write x. (pointee: &p->q->f may write what p->q points to, never p or p's own fields: conditions that read through p->q are forgotten, `if (p)` stays.)
    const hit: string[] = [];
    const hitText: string[] = [];
    for (const a of callArgs(e)) {
      const u = unwrap(a);
      if (u && u.type === 'pointer_expression' && u.child(0)?.text === '&') {
        const lv = u.childForFieldName('argument');
        // a lock dropped or waited on: other threads may change what its object holds (`mutex_exit(&p->lock)`
        // forgets `if (p->flags & X)`); any other call reaches the field it is given and what hangs off it
        if (pointee && throughPointer(lv)) hitText.push(LETS_GO.test(callName(e)) ? pointeePrefix(lv!) : (lv?.text ?? '').replace(/\s+/g, ''));
        else hit.push(lvalueRoot(lv));
      }
    }
    return { ...none, hit, hitText };
  }
  // (pointee) `p->f = v`, `p->n++` write p->f, not p: conditions that read p->f are forgotten, `if (p)` and `if (p->g)` stay
  const target = e.type === 'assignment_expression' ? e.childForFieldName('left') : e.type === 'update_expression' ? e.childForFieldName('argument') : null;
  if (pointee && target && throughPointer(target)) return { ...none, hitText: [target.text.replace(/\s+/g, '')] };
  let written = '';
  if (e.type === 'assignment_expression') written = lvalueRoot(e.childForFieldName('left'));
  else if (e.type === 'update_expression') written = lvalueRoot(e.childForFieldName('argument'));
  else if (e.type === 'init_declarator') {
    const d = e.childForFieldName('declarator');
    written = d ? d.text.replace(/[^A-Za-z0-9_]/g, '') : '';
  }
  if (!written) return none;
  // `x = NULL` / `x = 0` (or a non-zero constant, or an address) makes a later `if (x)` known on this
  // path: conditions correlate through assignments.
  const lhs = e.type === 'assignment_expression' ? e.childForFieldName('left') : e.type === 'init_declarator' ? e.childForFieldName('declarator') : null;
  const rhs = e.type === 'assignment_expression' && e.childForFieldName('operator')?.text === '=' ? unwrap(e.childForFieldName('right')) : e.type === 'init_declarator' ? unwrap(e.childForFieldName('value')) : null;
  let known: boolean | null = null;
  if (lhs && lhs.type === 'identifier' && rhs) {
    const t = rhs.text.replace(/\s+/g, '');
    if (rhs.type === 'null' || t === 'NULL' || /^0[uUlL]*$/.test(t) || t === 'B_FALSE' || t === '(void*)0') known = false;
    else if (/^[1-9]\d*[uUlL]*$/.test(t) || t === 'B_TRUE' || (rhs.type === 'pointer_expression' && rhs.child(0)?.text === '&')) known = true;
  }
  let equals: string | undefined;
  if (pointee && lhs && lhs.type === 'identifier' && rhs && /^(\d\w*|[A-Z_][A-Z0-9_]*)$/.test(rhs.text) && rhs.text !== 'NULL') equals = `${written}==${rhs.text}`;
  // (pointee) TRUE and FALSE are the constants they say
  if (pointee && known === null && lhs && lhs.type === 'identifier' && rhs) known = rhs.text === 'TRUE' ? true : rhs.text === 'FALSE' ? false : null;
  return { hit: [], hitText: [], written, known, equals };
}

/** Is an lvalue reached through a pointer (`p->f`, `p->a.b`, `p->a[i]`), so that writing it leaves the root variable as it was? */
function throughPointer(n: SyntaxNode | null): boolean {
  let cur = unwrap(n);
  while (cur && (cur.type === 'field_expression' || cur.type === 'subscript_expression')) {
    if (cur.type === 'field_expression' && cur.childForFieldName('operator')?.text === '->') return true;
    cur = unwrap(cur.childForFieldName('argument'));
  }
  return false;
}

/** Calls that drop a lock or wait (others run meanwhile). */
const LETS_GO = /exit|unlock|release|wait|sleep|delay|yield/i;

/** What an lvalue reached through pointers is read through: `p->q->lock` -> `p->q->` (a write there may change what q points to, not p's own fields). */
function pointeePrefix(n: SyntaxNode): string {
  const t = n.text.replace(/\s+/g, '');
  return t.slice(0, t.lastIndexOf('->') + 2);
}

/** Forgets assumed branch conditions that mention a variable this effect writes (w: writesOf() of the effect). */
function invalidate<F>(w: Writes, s: PathState<F>, tested: ReadonlySet<string> | null): PathState<F> {
  if (w.hit.length || w.hitText.length) {
    if (s.conds.size === 0) return s;
    const m = new Map([...s.conds].filter(([k, c]) => !c.ids.some((i) => w.hit.includes(i)) && !w.hitText.some((t) => k.includes(t))));
    return m.size === s.conds.size ? s : { ...s, conds: m };
  }
  const written = w.written;
  if (!written) return s;
  // (a known value of a variable no branch tests is not kept)
  const known = tested && !tested.has(written) ? null : w.known;
  let touched = false;
  for (const c of s.conds.values()) if (c.ids.includes(written)) { touched = true; break; }
  if (!touched && known === null && !w.equals) return s;
  const m = new Map([...s.conds].filter(([, c]) => !c.ids.includes(written)));
  if (known !== null) m.set(written, { value: known, ids: [written] });
  if (w.equals) m.set(w.equals, { value: true, ids: [written] });
  return { ...s, conds: m };
}

/** `e==C` is false on a path that assumed `e==D` true for another constant D. */
function excluded(conds: ReadonlyMap<string, Cond>, key: string): boolean {
  const i = key.lastIndexOf('==');
  if (i <= 0 || conds.size === 0) return false;
  const e = key.slice(0, i + 2);
  const v = key.slice(i + 2);
  if (!/^(-?\d\w*|[A-Z_][A-Z0-9_]*)$/.test(v)) return false;
  for (const [k, c] of conds) if (c.value && k.startsWith(e) && k.length > e.length && k.slice(e.length) !== v && /^(-?\d\w*|[A-Z_][A-Z0-9_]*)$/.test(k.slice(e.length)) && !k.slice(e.length).includes('==')) return true;
  return false;
}

export function initialState<F>(facts: F): PathState<F> {
  return { facts, conds: new Map(), trail: [] };
}

/** Renders a trail for a message: "line 7: 'if (thisthread)' is true -> line 8: kpreempt_disable()". */
export function renderTrail(trail: readonly Step[], last?: Step): string {
  const steps = last ? [...trail, last] : [...trail];
  const shown = steps.length > 6 ? [...steps.slice(0, 2), { line: 0, text: '...' }, ...steps.slice(-3)] : steps;
  return shown.map((s) => (s.line ? `line ${s.line}: ${s.text}` : s.text)).join(' -> ');
}
