/**
 * The schedules of a search: schedule `i` is a pure function of the strategy, the search seed,
 * `i` and the ordinary run's shape, so any process computes any part of a search on its own
 * (shards, worker threads) and the parts add up to one search.
 *
 * Schedule 0 is the ordinary run (no decisions). From 1:
 * - `random`: 1..depth preemptions at uniformly drawn steps; on several CPUs each also reorders
 *   the CPUs of a random round; sometimes a KM_SLEEP allocation sleeps a tick, or a dispatch
 *   takes the second thread of its queue.
 * - `pct` (probabilistic concurrency testing, Burckhardt et al. 2010): depth-1 priority change
 *   points at uniformly drawn steps. The machine's dispatcher is the priority scheduler, so a
 *   change point is a preemption of the running thread there; on several CPUs the CPUs run in
 *   one random priority order from each change point's round. A bug of depth d in a run of k
 *   steps is found with probability at least 1/k^(d-1) per schedule.
 * - `preempt-bound`: every schedule with one preemption, then every one with two, ... up to
 *   depth, in order. When the budget cannot cover a level, its preemption points are spread
 *   evenly over the run (a stride) so the whole run is covered.
 */
import { Prng } from '../machine/prng';
import type { Decision } from '../machine/schedule';

export type Strategy = 'pct' | 'random' | 'preempt-bound';
export const STRATEGIES: readonly Strategy[] = ['pct', 'random', 'preempt-bound'];

/** What the ordinary run did: the ranges schedules draw from. */
export interface RunShape {
  steps: number;
  rounds: number;
  allocs: number;
  disps: number;
  cpus: number;
}

export interface SearchPlan {
  strategy: Strategy;
  depth: number;
  budget: number;
  seed: number;
}

/** The decisions of schedule `i` of a search. */
export function scheduleAt(plan: SearchPlan, shape: RunShape, i: number): Decision[] {
  if (i === 0 || shape.steps === 0) return [];
  switch (plan.strategy) {
    case 'random': return randomSchedule(plan, shape, i);
    case 'pct': return pctSchedule(plan, shape, i);
    case 'preempt-bound': return boundedSchedule(plan, shape, i);
  }
}

/** A PRNG for schedule i of a search (a mix of both, so neighbouring i are unrelated). */
function rngFor(seed: number, i: number): Prng {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(i + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  const r = new Prng(h >>> 0);
  r.next();
  return r;
}

function shuffled(r: Prng, n: number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = r.below(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

function sortDecisions(ds: Decision[]): Decision[] {
  const key = (d: Decision): number => ('step' in d ? d.step : 'round' in d ? d.round : 'alloc' in d ? d.alloc : d.disp);
  const rank = (d: Decision): number => ('step' in d ? 0 : 'round' in d ? 1 : 'alloc' in d ? 2 : 3);
  return ds.sort((a, b) => rank(a) - rank(b) || key(a) - key(b));
}

function randomSchedule(plan: SearchPlan, shape: RunShape, i: number): Decision[] {
  const r = rngFor(plan.seed, i);
  const n = 1 + r.below(Math.max(1, plan.depth));
  const steps = new Set<number>();
  for (let k = 0; k < n; k++) steps.add(r.below(shape.steps));
  const ds: Decision[] = [...steps].map((step) => ({ step, preempt: true as const }));
  if (shape.cpus > 1 && shape.rounds > 0) {
    const rounds = new Set<number>();
    for (let k = 0; k < n; k++) rounds.add(1 + r.below(shape.rounds));
    for (const round of rounds) ds.push({ round, cpus: shuffled(r, shape.cpus) });
  }
  if (shape.allocs > 0 && r.below(4) === 0) ds.push({ alloc: 1 + r.below(shape.allocs), sleep: 1 });
  if (shape.disps > 0 && r.below(4) === 0) ds.push({ disp: 1 + r.below(shape.disps), pick: 1 });
  return sortDecisions(ds);
}

function pctSchedule(plan: SearchPlan, shape: RunShape, i: number): Decision[] {
  const r = rngFor(plan.seed, i);
  const points = Math.max(1, plan.depth - 1);
  const steps = new Set<number>();
  for (let k = 0; k < points; k++) steps.add(r.below(shape.steps));
  const ds: Decision[] = [...steps].map((step) => ({ step, preempt: true as const }));
  if (shape.cpus > 1 && shape.rounds > 0) {
    // The CPUs' priority order, changed at each change point's round.
    const perRound = Math.max(1, Math.round(shape.steps / shape.rounds));
    const rounds = new Set<number>([1]);
    for (const s of steps) rounds.add(1 + Math.floor(s / perRound));
    for (const round of rounds) ds.push({ round, cpus: shuffled(r, shape.cpus) });
  }
  return sortDecisions(ds);
}

/** n choose k, saturating at Number.MAX_SAFE_INTEGER. */
function choose(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  let c = 1;
  for (let j = 1; j <= k; j++) {
    c = (c * (n - k + j)) / j;
    if (c > Number.MAX_SAFE_INTEGER) return Number.MAX_SAFE_INTEGER;
  }
  return Math.round(c);
}

/** The combination of rank `rank` (colexicographic) of `k` of `n` points. */
function unrank(rank: number, n: number, k: number): number[] {
  const out: number[] = [];
  let rem = rank;
  for (let j = k; j >= 1; j--) {
    let c = j - 1;
    while (c + 1 < n && choose(c + 1, j) <= rem) c++;
    rem -= choose(c, j);
    out.push(c);
    n = c;
  }
  return out.reverse();
}

function boundedSchedule(plan: SearchPlan, shape: RunShape, i: number): Decision[] {
  let left = plan.budget - 1;
  let idx = i - 1;
  for (let level = 1; level <= Math.max(1, plan.depth); level++) {
    // Points for this level: all steps if the budget left covers them, else an even spread.
    let n = shape.steps;
    while (n > level && choose(n, level) > left) n = level === 1 ? left : Math.floor(n * 0.9);
    n = Math.max(level, Math.min(n, shape.steps));
    const count = Math.min(choose(n, level), Math.max(left, 1));
    if (idx < count) {
      return unrank(idx, n, level).map((p) => ({ step: Math.floor((p * shape.steps) / n), preempt: true as const }));
    }
    idx -= count;
    left -= count;
    if (left <= 0) break;
  }
  return [];
}
