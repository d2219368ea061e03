/**
 * A search: which schedules a process runs (its shard and worker share of `0..budget`), and how
 * results combine. Each part keeps, per failure signature, the best schedule it saw (fewest
 * preemptions, fewest decisions, lowest index); the best of the parts' bests is the best of the
 * whole search, so shards and workers merge into exactly what one process finds.
 */
import type { Explorer, Found } from './explorer';
import { betterThan } from './explorer';
import { scheduleAt, type RunShape, type SearchPlan } from './strategies';
import { preemptions } from '../machine/schedule';

/** A disjoint part of a search: shard `index` of `count`, worker `job` of `jobs` within it. */
export interface Part {
  shard: number;
  shards: number;
  job: number;
  jobs: number;
}

export const WHOLE: Part = { shard: 0, shards: 1, job: 0, jobs: 1 };

/** The schedule indices of a part, in order. */
export function* indicesOf(budget: number, p: Part): Generator<number> {
  let k = 0;
  for (let i = p.shard; i < budget; i += p.shards, k++) {
    if (k % p.jobs === p.job) yield i;
  }
}

export interface PartResult {
  schedules: number;
  /** Best failing schedule per signature (not yet minimised). */
  found: Found[];
}

/** Keeps `f` if it is the best for its signature. */
export function keepBest(best: Map<string, Found>, f: Found): void {
  const old = best.get(f.signature);
  if (!old || betterThan(f, old)) best.set(f.signature, f);
}

/** Runs a part of a search. `progress` is called after each schedule with the count and distinct failures. */
export function runPart(ex: Explorer, plan: SearchPlan, shape: RunShape, part: Part, progress?: (done: number, failures: number) => void): PartResult {
  const best = new Map<string, Found>();
  let n = 0;
  for (const i of indicesOf(plan.budget, part)) {
    const decisions = scheduleAt(plan, shape, i);
    const f = ex.run(decisions);
    n++;
    if (f) keepBest(best, { ...f, decisions, index: i, preemptions: preemptions(decisions) });
    progress?.(n, best.size);
  }
  return { schedules: n, found: [...best.values()] };
}

/** Combines parts: schedule counts add up, the best schedule per signature wins. */
export function mergeParts(parts: PartResult[]): PartResult {
  const best = new Map<string, Found>();
  let schedules = 0;
  for (const p of parts) {
    schedules += p.schedules;
    for (const f of p.found) keepBest(best, f);
  }
  return { schedules, found: sortFound([...best.values()]) };
}

/** Failures in report order: by kind as listed, then signature. */
export function sortFound<T extends { kind: string; signature: string }>(fs: T[]): T[] {
  const order = ['panic', 'assert', 'hazard', 'deadlock', 'leak'];
  return fs.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || (a.signature < b.signature ? -1 : a.signature > b.signature ? 1 : 0));
}
