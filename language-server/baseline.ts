/**
 * `kctx lint --baseline FILE`: report only findings that are not in an earlier run's JSON or SARIF
 * output (as semgrep's and clang-tidy's baselines do). A finding is matched by file, rule and
 * message with its numbers masked (messages quote line numbers, which move when code above moves),
 * counting duplicates: two identical findings in the baseline hide two now.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FileResult } from './format';
import { SKIPPED_ID } from './rules/index';

export class BaselineError extends Error {}

const key = (absFile: string, rule: string, message: string) => `${absFile}\0${rule}\0${message.replace(/\s+/g, ' ').replace(/\d+/g, 'N')}`;

/** The findings of an earlier output, as a multiset of keys. Throws a UsageError-like BaselineError. */
export function loadBaseline(path: string): Map<string, number> {
  let text: string;
  try {
    if (statSync(path).size > 512 * 1024 * 1024) throw new BaselineError(`baseline '${path}' is over 512 MB`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof BaselineError) throw e;
    throw new BaselineError(`cannot read baseline '${path}': ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  let j: unknown;
  try { j = JSON.parse(text); } catch (e) { throw new BaselineError(`baseline '${path}' is not JSON: ${(e as Error).message}`); }
  const out = new Map<string, number>();
  const add = (k: string) => out.set(k, (out.get(k) ?? 0) + 1);
  const o = j as { version?: number; diagnostics?: unknown; runs?: unknown };
  if (o && Array.isArray(o.diagnostics)) {
    for (const d of o.diagnostics as { file?: unknown; rule?: unknown; message?: unknown }[]) {
      if (typeof d?.file !== 'string' || typeof d.rule !== 'string' || typeof d.message !== 'string') throw new BaselineError(`baseline '${path}': a diagnostic without file, rule and message`);
      add(key(resolve(d.file), d.rule, d.message));
    }
    return out;
  }
  if (o && Array.isArray(o.runs)) {
    for (const run of o.runs as { results?: unknown; originalUriBaseIds?: Record<string, { uri?: string }> }[]) {
      const base = run?.originalUriBaseIds?.['%SRCROOT%']?.uri;
      const root = base && base.startsWith('file:') ? fileURLToPath(base) : process.cwd();
      for (const r of (Array.isArray(run?.results) ? run.results : []) as { ruleId?: unknown; message?: { text?: unknown }; locations?: { physicalLocation?: { artifactLocation?: { uri?: string } } }[] }[]) {
        const uri = r?.locations?.[0]?.physicalLocation?.artifactLocation?.uri;
        if (typeof r?.ruleId !== 'string' || typeof r.message?.text !== 'string' || typeof uri !== 'string') throw new BaselineError(`baseline '${path}': a SARIF result without ruleId, message or location`);
        const file = uri.startsWith('file:') ? fileURLToPath(uri) : resolve(root, decodeURIComponent(uri));
        add(key(file, r.ruleId, r.message.text));
      }
    }
    return out;
  }
  throw new BaselineError(`baseline '${path}' is neither kctx JSON (version 1) nor SARIF`);
}

/** Drops from the results the findings the baseline has (in place); returns how many. */
export function applyBaseline(results: FileResult[], baseline: Map<string, number>): number {
  const left = new Map(baseline);
  let dropped = 0;
  for (const r of results) {
    const abs = resolve(r.file);
    r.diagnostics = r.diagnostics.filter((d) => {
      if (d.code === SKIPPED_ID) return true;
      const k = key(abs, d.code, d.message);
      const n = left.get(k) ?? 0;
      if (n <= 0) return true;
      left.set(k, n - 1);
      dropped++;
      return false;
    });
  }
  return dropped;
}
