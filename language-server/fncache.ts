/**
 * Per-function analysis cache for a document kept open across edits (LintDocument). A rule's
 * findings for one top-level function are stored under a key made of the rule id, its text, and a
 * dependency string the rule
 * gives for everything outside the function that its verdict reads (callee texts, the set of
 * same-file function names, file-level macros, ...). The next lint after an edit re-runs only the
 * functions whose key changed, and those with findings that moved (messages quote absolute lines). Entries not used by a lint are dropped at its end, so the cache
 * holds about one entry per function and rule.
 *
 * Findings are kept without their syntax node (nodes belong to one tree): suppression checks use
 * the node's offsets, re-based on the function's current start.
 */
import type { Finding } from './finding';
import type { SyntaxNode } from './syntax';

/** A finding with its node replaced by offsets relative to the function's start. */
interface Stored {
  f: Omit<Finding, 'node'>;
  span: [number, number] | null;
}

/** What lintModel needs of a cached finding's node: its offsets and its top-level function. */
export interface Span { startIndex: number; endIndex: number }

export type Report = (f: Finding) => void;

/** What the cache keeps for one function text. */
interface PerText {
  gen: number;
  /** Facts its text alone determines (name, storage class, parse errors). */
  facts: Record<string, unknown>;
  /** Rule runs and analysis values by the rest of their key (rule id, position, dependencies). */
  runs: Map<string, { v: unknown; gen: number }>;
}

export class AnalysisCache {
  private byText = new Map<string, PerText>();
  private gen = 0;
  hits = 0;
  misses = 0;

  /** Starts a lint: entries used from now on are kept by end(). */
  begin(): void { this.gen++; this.hits = 0; this.misses = 0; }

  /** Ends a lint: drops what it did not use. */
  end(): void {
    for (const [k, e] of this.byText) {
      if (e.gen !== this.gen) { this.byText.delete(k); continue; }
      for (const [rk, r] of e.runs) if (r.gen !== this.gen) e.runs.delete(rk);
    }
  }

  clear(): void { this.byText.clear(); }

  private perText(text: string): PerText {
    let e = this.byText.get(text);
    if (!e) { e = { gen: this.gen, facts: {}, runs: new Map() }; this.byText.set(text, e); }
    e.gen = this.gen;
    return e;
  }

  /** Facts memoized by a top-level function's text (its name, storage class, parse errors). */
  facts(text: string): Record<string, unknown> {
    return this.perText(text).facts;
  }

  /** A value computed from a function's text and what `key` says (nothing else): memoized. A compute that throws stores nothing. */
  value<T>(text: string, key: string, compute: () => T): T {
    const e = this.perText(text);
    const r = e.runs.get(key);
    if (r) { r.gen = this.gen; this.hits++; return r.v as T; }
    this.misses++;
    const v = compute();
    e.runs.set(key, { v, gen: this.gen });
    return v;
  }

  /**
   * Runs `compute` for one function (or replays what it reported last time under the same key).
   * A compute that throws, or returns false (its verdict read more than the key covers), stores nothing.
   */
  run(text: string, key: string, fn: SyntaxNode, compute: (report: Report) => boolean | void, report: (f: Finding & { span?: Span; fn?: SyntaxNode }) => void): void {
    const e = this.perText(text);
    const r = e.runs.get(key);
    const base = fn.startIndex;
    const at = fn.startPosition;
    const prev = r?.v as { findings: Stored[]; row: number; column: number } | undefined;
    let findings: Stored[];
    // A verdict does not depend on where the function sits, only its messages and ranges do: no
    // findings are reused anywhere; findings only at the same start (else they are recomputed).
    if (r && prev && (prev.findings.length === 0 || (prev.row === at.row && prev.column === at.column))) { r.gen = this.gen; this.hits++; findings = prev.findings; }
    else {
      this.misses++;
      findings = [];
      const keep = compute((f) => {
        const { node, ...rest } = f;
        findings.push({ f: rest, span: node ? [node.startIndex - base, node.endIndex - base] : null });
      });
      if (keep !== false) e.runs.set(key, { v: { findings, row: at.row, column: at.column }, gen: this.gen });
    }
    for (const s of findings) report({ ...s.f, span: s.span ? { startIndex: base + s.span[0], endIndex: base + s.span[1] } : undefined, fn: s.span ? fn : undefined });
  }
}

/** cyrb53: a fast 53-bit string hash (for dependency keys built from many texts). */
export function hash53(str: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < str.length; i++) {
    const ch = str.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
