/**
 * Kernel preemption analysis: curthread->t_preempt as a counter along every path of a function
 * (kpreempt_disable/kpreempt_enable, t_preempt++/--, and facts the code states with
 * ASSERT(curthread->t_preempt >= 1)), plus same-file summaries:
 *  - a function that (transitively) does a sleeping allocation on a path where it has not itself
 *    re-enabled preemption is a sleeping function;
 *  - a static function whose address is never taken and whose every call in this file is made
 *    with preemption disabled runs with preemption disabled.
 * Unlike smatch (which takes the lower count where branches disagree) every feasible path counts.
 * Only functions that lead, through the calls in their text, to a sleeping allocation are walked.
 */
import type { SyntaxNode } from './syntax';
import { callArgs, callName, functionName, hasStorageClass, lineOf, unwrap, hasStructuralError } from './syntax';
import type { PathState, Step } from './flow';
import { FlowWalker, WorkBudgetExceeded, initialState } from './flow';
import { SLEEP_WORDS, sleepingAllocation } from './ctxapi';
import type { FileModel } from './model';

export interface PreemptFacts {
  count: number; // relative to the function's entry
  guards: readonly SyntaxNode[]; // active kpreempt_disable() calls (innermost last)
}

export interface SiteState {
  delta: number;
  trail: readonly Step[];
  guards: readonly SyntaxNode[];
}

/** A call site in an analyzed function: what the walk found there (the node is resolved on demand). */
export class SiteRec {
  private _call: SyntaxNode | undefined;
  constructor(
    private readonly m: FileModel,
    readonly owner: FnSummary,
    readonly start: number,
    readonly end: number,
    readonly name: string,
    /** sleepingAllocation() of the call. */
    readonly prim: string | null,
    /** 1-based line of the call. */
    readonly line: number,
    /** The states that reached it (guards as offsets relative to the function). */
    readonly states: readonly StoredState[],
    call?: SyntaxNode,
  ) { this._call = call; }

  get call(): SyntaxNode {
    this._call ??= nodeAt(this.m, this.start, this.end, 'call_expression');
    return this._call;
  }
}

/** What the walk of one function leaves, with offsets relative to its start (kept by the cache). */
interface StoredState { delta: number; trail: readonly Step[]; g: [number, number][] }
interface StoredSite { s: number; e: number; name: string; prim: string | null; line: number; states: StoredState[] }

/** The node with exactly this span (a call or a t_preempt update). */
function nodeAt(m: FileModel, start: number, end: number, type?: string): SyntaxNode {
  let n: SyntaxNode | null = m.root.descendantForIndex(start, end);
  while (n && (n.startIndex > start || n.endIndex < end)) n = n.parent;
  while (n && type && n.type !== type && n.parent && n.parent.startIndex === start && n.parent.endIndex === end) n = n.parent;
  if (!n) throw new Error(`no node at ${start}-${end}`);
  return n;
}

const siteKey = (start: number, end: number) => `${start}:${end}`;

export interface FnSummary {
  fn: SyntaxNode;
  name: string;
  analyzed: boolean;
  isStatic: boolean;
  sites: SiteRec[];
  sleeps: { rec: SiteRec; what: string } | null;
  entry: number;
  entryWhy: Step | null;
}

const CAP = 3;

function isPreemptField(n: SyntaxNode | null): boolean {
  const u = unwrap(n);
  return !!u && u.type === 'field_expression' && u.childForFieldName('field')?.text === 't_preempt';
}

/** ASSERT(curthread->t_preempt >= 1) and its spellings: returns the count the assertion establishes. */
function assertedCount(call: SyntaxNode): number | null {
  const name = callName(call);
  const args = callArgs(call);
  if (name === 'ASSERT' || name === 'VERIFY') {
    const e = unwrap(args[0]);
    if (!e) return null;
    if (isPreemptField(e)) return 1;
    if (e.type === 'binary_expression') {
      const op = e.childForFieldName('operator')?.text;
      const l = e.childForFieldName('left');
      const r = unwrap(e.childForFieldName('right'));
      if (!isPreemptField(l) || !r) return null;
      return relation(op, r.text);
    }
    return null;
  }
  if (/^(ASSERT|VERIFY)3[SU]$/.test(name) && args.length === 3) {
    if (!isPreemptField(args[0]!)) return null;
    return relation(args[1]!.text.trim(), unwrap(args[2])?.text ?? '');
  }
  return null;
}

function relation(op: string | undefined, rhs: string): number | null {
  if ((op === '>=' && rhs === '1') || ((op === '>' || op === '!=') && rhs === '0')) return 1;
  if (op === '==' && rhs === '0') return 0;
  return null;
}

export class PreemptAnalysis {
  readonly fns = new Map<string, FnSummary>();
  /** Per call span: its site (calls inside analyzed functions); built on first use. */
  private _siteOf?: Map<string, SiteRec>;
  private get siteOf(): Map<string, SiteRec> {
    if (!this._siteOf) {
      this._siteOf = new Map();
      for (const f of this.fns.values()) for (const r of f.sites) this._siteOf.set(siteKey(r.start, r.end), r);
    }
    return this._siteOf;
  }

  constructor(private readonly m: FileModel) {
    const relevant = /\bkpreempt_(disable|enable)\b|\bt_preempt\b/.test(m.text);
    // Which functions to walk: those that touch preemption or install a ctxop, and (transitively)
    // the same-file functions they call (whether those sleep, or are only called with preemption
    // disabled). No other function can change a verdict, so a big file costs little.
    const TOKENS = /\bkpreempt_(disable|enable)\b|\bt_preempt\b|\bctxop_(allocate|install)\b|\binstallctx/;
    const all: FnSummary[] = [];
    for (const fn of m.functions) {
      const name = m.nameOf(fn);
      if (!name || this.fns.has(name)) continue;
      const s: FnSummary = { fn, name, analyzed: false, isStatic: m.fnFacts(fn, 'static', () => hasStorageClass(fn, 'static')), sites: [], sleeps: null, entry: 0, entryWhy: null };
      this.fns.set(name, s);
      all.push(s);
    }
    if (relevant) {
      const textOf = (s: FnSummary) => m.text.slice(s.fn.startIndex, s.fn.endIndex);
      const chosen = new Set(all.filter((s) => TOKENS.test(textOf(s))));
      let frontier = [...chosen];
      const CALL = /\b([A-Za-z_]\w*)\s*\(/g;
      while (frontier.length) {
        const next: FnSummary[] = [];
        for (const f of frontier) {
          const t = textOf(f);
          CALL.lastIndex = 0;
          for (let r = CALL.exec(t); r; r = CALL.exec(t)) {
            const c = this.fns.get(r[1]!);
            if (c && !chosen.has(c)) { chosen.add(c); next.push(c); }
          }
        }
        frontier = next;
      }
      // Only a function that leads, through the calls in its text, to a sleeping allocation can
      // change a verdict: a site's what, a callee's sleeps, and an entry state that matters (its
      // callers lead there through it). The others are not walked.
      const callersOf = new Map<FnSummary, FnSummary[]>();
      const leads = new Set<FnSummary>();
      for (const f of chosen) {
        const t = textOf(f);
        if (SLEEP_WORDS.test(t)) leads.add(f);
        CALL.lastIndex = 0;
        for (let r = CALL.exec(t); r; r = CALL.exec(t)) {
          const c = this.fns.get(r[1]!);
          if (!c || !chosen.has(c)) continue;
          const l = callersOf.get(c);
          if (l) l.push(f); else callersOf.set(c, [f]);
        }
      }
      const up = [...leads];
      while (up.length) for (const g of callersOf.get(up.pop()!) ?? []) if (!leads.has(g)) { leads.add(g); up.push(g); }
      for (const s of all) {
        if (!leads.has(s)) continue;
        if (!chosen.has(s) || m.fnFacts(s.fn, 'structuralError', () => hasStructuralError(s.fn))) continue; // precision: no path claims on a body the parser could not read
        try {
          this.analyze(s);
          s.analyzed = true;
        } catch (e) {
          if (e instanceof WorkBudgetExceeded) { m.noteOverBudget('preemption analysis', s.fn); s.sites = []; continue; }
          throw e;
        }
      }
    }
    if (relevant) {
      this.computeSleeps();
      this.computeEntries();
    }
  }

  /** Walks one function (or takes the walk from the cache: it reads nothing outside the function). */
  private analyze(s: FnSummary): void {
    const m = this.m;
    const fresh = new Map<number, SyntaxNode>();
    const walkIt = (): StoredSite[] => {
      const raw = this.walkFunction(s);
      const base = s.fn.startIndex;
      const out: StoredSite[] = [];
      for (const rec of raw.values()) {
        const c = rec.call;
        fresh.set(c.startIndex - base, c);
        out.push({
          s: c.startIndex - base, e: c.endIndex - base, name: callName(c), prim: sleepingAllocation(c), line: lineOf(c),
          states: rec.states.map((x) => ({ delta: x.delta, trail: x.trail, g: x.guards.map((g): [number, number] => [g.startIndex - base, g.endIndex - base]) })),
        });
      }
      return out;
    };
    // kept by text alone: the lines in it move with the function
    const row = s.fn.startPosition.row;
    const kept = m.cache ? m.cache.value(m.textOf(s.fn), 'preempt', () => ({ row, sites: walkIt() })) : { row, sites: walkIt() };
    const d = row - kept.row;
    const stored = d === 0 ? kept.sites : kept.sites.map((st) => ({
      ...st, line: st.line + d,
      states: st.states.map((x) => ({ ...x, trail: x.trail.map((step) => ({ ...step, line: step.line + d })) })),
    }));
    const base = s.fn.startIndex;
    for (const st of stored) {
      const node = fresh.get(st.s);
      s.sites.push(new SiteRec(m, s, base + st.s, base + st.e, st.name, st.prim, st.line, st.states, node && node.endIndex === base + st.e ? node : undefined));
    }
    this._siteOf = undefined;
  }

  private walkFunction(s: FnSummary): Map<number, { call: SyntaxNode; states: SiteState[] }> {
    const sites = new Map<number, { call: SyntaxNode; states: SiteState[] }>();
    // what a call is to this walk, read from the tree once (loops and gotos visit it again)
    const calls = new Map<number, { name: string; line: number; asserted: number | null }>();
    const callInfo = (node: SyntaxNode) => {
      let c = calls.get(node.id);
      if (!c) {
        const name = callName(node);
        c = { name, line: lineOf(node), asserted: name === 'kpreempt_disable' || name === 'kpreempt_enable' ? null : assertedCount(node) };
        calls.set(node.id, c);
      }
      return c;
    };
    const walker = new FlowWalker<PreemptFacts>({
      key: (f) => String(f.count),
      effect(node, st: PathState<PreemptFacts>) {
        let f = st.facts;
        if (node.type === 'call_expression') {
          let rec = sites.get(node.id);
          if (!rec) { rec = { call: node, states: [] }; sites.set(node.id, rec); }
          if (rec.states.length < 16) rec.states.push({ delta: f.count, trail: st.trail, guards: f.guards });
          const info = callInfo(node);
          const name = info.name;
          if (name === 'kpreempt_disable') {
            return { ...st, facts: { count: Math.min(CAP, f.count + 1), guards: [...f.guards, node] }, trail: [...st.trail, { line: info.line, text: 'kpreempt_disable()' }] };
          }
          if (name === 'kpreempt_enable') {
            return { ...st, facts: { count: Math.max(-CAP, f.count - 1), guards: f.guards.slice(0, -1) }, trail: dropLastGuard(st.trail) };
          }
          const a = info.asserted;
          if (a !== null) {
            if (a === 1 && f.count < 1) return { ...st, facts: { count: 1, guards: f.guards }, trail: [...st.trail, { line: info.line, text: node.text.replace(/\s+/g, ' ') + ' (the caller disabled preemption)' }] };
            if (a === 0 && f.count > 0) return { ...st, facts: { count: 0, guards: [] } };
          }
          return st;
        }
        if (node.type === 'update_expression' && isPreemptField(node.childForFieldName('argument'))) {
          const op = node.childForFieldName('operator')?.text;
          if (op === '++') return { ...st, facts: { count: Math.min(CAP, f.count + 1), guards: [...f.guards, node] }, trail: [...st.trail, { line: lineOf(node), text: node.text.replace(/\s+/g, '') }] };
          if (op === '--') return { ...st, facts: { count: Math.max(-CAP, f.count - 1), guards: f.guards.slice(0, -1) }, trail: dropLastGuard(st.trail) };
        }
        return st;
      },
    }, { budget: this.m.budget, mergeUnreadConditions: true });
    walker.run(s.fn, [initialState<PreemptFacts>({ count: 0, guards: [] })]);
    return sites;
  }

  /** Does the call itself (or a same-file callee) sleep? Returns what sleeps and how. */
  sleepingWhat(call: SyntaxNode): string | null {
    const rec = this.siteOf.get(siteKey(call.startIndex, call.endIndex));
    if (rec) return this.siteWhat(rec);
    const prim = sleepingAllocation(call);
    if (prim) return prim;
    return this.calleeSleeps(callName(call), null);
  }

  /** sleepingWhat() of an analyzed call site. */
  siteWhat(rec: SiteRec): string | null {
    return rec.prim ?? this.calleeSleeps(rec.name, rec.owner);
  }

  private calleeSleeps(name: string, owner: FnSummary | null): string | null {
    const callee = this.fns.get(name);
    if (callee && callee.sleeps && callee.fn.id !== owner?.fn.id) {
      return `${callee.name}() sleeps: ${callee.sleeps.what.replace(/ sleeps:.*$/, '')} at line ${callee.sleeps.rec.line}${callee.sleeps.what.includes(' sleeps:') ? ' (' + callee.sleeps.what + ')' : ''}`;
    }
    return null;
  }

  private computeSleeps(): void {
    let changed = true;
    for (let round = 0; changed && round < 20; round++) {
      changed = false;
      for (const s of this.fns.values()) {
        if (s.sleeps || !s.analyzed) continue;
        for (const rec of s.sites.values()) {
          if (!rec.states.some((x) => x.delta >= 0)) continue;
          const what = this.siteWhat(rec);
          if (what) { s.sleeps = { rec, what: rec.prim ?? what }; changed = true; break; }
        }
      }
    }
  }

  private computeEntries(): void {
    const byCallee = new Map<string, { owner: FnSummary; rec: SiteRec }[]>();
    for (const owner of this.fns.values()) {
      for (const rec of owner.sites.values()) {
        const n = rec.name;
        if (!this.fns.has(n)) continue;
        let l = byCallee.get(n);
        if (!l) byCallee.set(n, (l = []));
        l.push({ owner, rec });
      }
    }
    let changed = true;
    for (let round = 0; changed && round < 20; round++) {
      changed = false;
      for (const s of this.fns.values()) {
        if (s.entry > 0 || !s.isStatic) continue;
        // Every textual use of the name must be the definition, a prototype, or a call we analyzed.
        let calls = 0;
        let ok = true;
        let why: Step | null = null;
        const callSites = byCallee.get(s.name) ?? [];
        for (const { owner, rec } of callSites) {
          if (!owner.analyzed || rec.states.length === 0) { ok = false; break; }
          if (owner.fn.id === s.fn.id) continue; // recursion adds nothing
          if (!rec.states.every((x) => owner.entry + x.delta >= 1)) { ok = false; break; }
          calls++;
          why ??= { line: rec.line, text: `${s.name}() is only called with preemption disabled (e.g. from ${owner.name}())` };
        }
        // (checked last: it counts words over the whole file)
        if (ok && calls > 0) {
          const known = 1 + (this.m.prototypeCount.get(s.name) ?? 0) + callSites.length;
          if (this.m.nameCount(s.name) !== known) ok = false;
        }
        if (ok && calls > 0) { s.entry = 1; s.entryWhy = why; changed = true; }
      }
    }
  }

  /** States reaching a call in an analyzed function, with the absolute preemption count. */
  statesAt(call: SyntaxNode): { count: number; trail: Step[]; guards: readonly SyntaxNode[] }[] {
    const rec = this.siteOf.get(siteKey(call.startIndex, call.endIndex));
    return rec ? this.statesAtRec(rec) : [];
  }

  statesAtRec(rec: SiteRec): { count: number; trail: Step[]; guards: readonly SyntaxNode[] }[] {
    const owner = rec.owner;
    if (!owner.analyzed) return [];
    const m = this.m;
    const base = owner.fn.startIndex;
    return rec.states.map((x) => {
      let guards: readonly SyntaxNode[] | undefined;
      return {
        count: owner.entry + x.delta,
        trail: owner.entry > 0 && owner.entryWhy ? [owner.entryWhy, ...x.trail] : [...x.trail],
        get guards() { guards ??= x.g.map(([a, b]) => nodeAt(m, base + a, base + b)); return guards; },
      };
    });
  }

  /** The first path on which the call runs with preemption disabled, or null. */
  disabledAt(call: SyntaxNode): { count: number; trail: Step[]; guards: readonly SyntaxNode[] } | null {
    return this.statesAt(call).find((x) => x.count > 0) ?? null;
  }

  disabledAtRec(rec: SiteRec): { count: number; trail: Step[]; guards: readonly SyntaxNode[] } | null {
    return this.statesAtRec(rec).find((x) => x.count > 0) ?? null;
  }

  /** True when every path reaching the call (at least one) runs with preemption enabled. */
  enabledOnAllPaths(call: SyntaxNode): boolean {
    const st = this.statesAt(call);
    return st.length > 0 && st.every((x) => x.count <= 0);
  }

  ownerOf(call: SyntaxNode): FnSummary | undefined {
    return this.siteOf.get(siteKey(call.startIndex, call.endIndex))?.owner;
  }
}

function nameNodeId(fn: SyntaxNode): number {
  let d: SyntaxNode | null = fn.childForFieldName('declarator');
  while (d && d.type !== 'identifier') d = d.childForFieldName('declarator');
  return d ? d.id : -1;
}

function dropLastGuard(trail: readonly Step[]): Step[] {
  for (let i = trail.length - 1; i >= 0; i--) {
    const t = trail[i]!.text;
    if (t === 'kpreempt_disable()' || t.endsWith('t_preempt++') || t.includes('(the caller disabled preemption)')) return trail.slice(0, i);
  }
  return [...trail];
}
