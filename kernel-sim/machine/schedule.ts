/**
 * Schedules: a replayable list of the choices a run makes that a real machine leaves to chance.
 *
 * An ordinary run makes each choice one way (the seeded CPU order of each round, preemption only
 * when a quantum expires, the first thread on the run queue, KM_SLEEP allocations that never
 * sleep unless the scenario sets memory pressure). A schedule overrides some of them:
 *
 * - `{ "step": S, "preempt": true }`: a preemption request (cpu_kprunrun) lands on the CPU that
 *   runs step S, before that step, as a clock or cross-call interrupt can. The thread is preempted
 *   there if it can be (t_preempt is 0, it is not inside swtch), else at its kpreempt_enable().
 * - `{ "step": S, "clock": true }`: a clock interrupt (lbolt++, quanta, timed wakeups) at step S.
 * - `{ "round": R, "cpus": [..] }`: the order in which the CPUs run in round R.
 * - `{ "alloc": N, "sleep": T }`: the Nth KM_SLEEP allocation (from 1) sleeps T ticks first.
 * - `{ "disp": N, "pick": I }`: the Nth dispatch (from 1) takes the I-th eligible thread of its run
 *   queue instead of the first.
 *
 * Steps are the machine's cycle count (`stats.steps`). The cursor of a replay is machine state
 * (state.ts), so snapshots and reverse execution keep replaying the same schedule.
 */

export type Decision =
  | { step: number; preempt: true }
  | { step: number; clock: true }
  | { round: number; cpus: number[] }
  | { alloc: number; sleep: number }
  | { disp: number; pick: number };

export interface ScheduleFile {
  version: 1;
  /** The scenario file the schedule was explored on (informational). */
  scenario?: string;
  seed?: number;
  decisions: Decision[];
}

/** A schedule prepared for the run loop: step decisions in order, the rest keyed by their count. */
export class Schedule {
  /** Step decisions sorted by step: [step, 0 preempt | 1 clock]. */
  readonly steps: Array<[number, 0 | 1]> = [];
  readonly rounds = new Map<number, number[]>();
  readonly allocs = new Map<number, number>();
  readonly disps = new Map<number, number>();

  constructor(readonly decisions: Decision[]) {
    for (const d of decisions) {
      if ('preempt' in d) this.steps.push([d.step, 0]);
      else if ('clock' in d) this.steps.push([d.step, 1]);
      else if ('cpus' in d) this.rounds.set(d.round, d.cpus);
      else if ('sleep' in d) this.allocs.set(d.alloc, d.sleep);
      else this.disps.set(d.disp, d.pick);
    }
    this.steps.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  }

  /** The step of the decision at `pos`, or NO_STEP. */
  stepAt(pos: number): number {
    return pos < this.steps.length ? this.steps[pos]![0] : NO_STEP;
  }
}

/** "No more step decisions" (a number, so state stays JSON). */
export const NO_STEP = Number.MAX_SAFE_INTEGER;

/** How many decisions of a schedule are preemptions (the count explore minimises first). */
export function preemptions(ds: readonly Decision[]): number {
  let n = 0;
  for (const d of ds) if ('preempt' in d) n++;
  return n;
}

export class ScheduleError extends Error {}

/** Reads a schedule file's JSON; a bad one is a ScheduleError naming what is wrong. */
export function parseSchedule(text: string, file: string): ScheduleFile {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new ScheduleError(`${file}: not JSON: ${(e as Error).message}`);
  }
  const o = j as Record<string, unknown>;
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw new ScheduleError(`${file}: a schedule is a JSON object`);
  if (o.version !== 1) throw new ScheduleError(`${file}: version: expected 1, got ${JSON.stringify(o.version)}`);
  if (!Array.isArray(o.decisions)) throw new ScheduleError(`${file}: decisions: expected an array`);
  const nat = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  o.decisions.forEach((d: unknown, i: number) => {
    const x = d as Record<string, unknown>;
    const at = `${file}: decisions[${i}]`;
    if (!x || typeof x !== 'object') throw new ScheduleError(`${at}: expected an object`);
    if ('step' in x) {
      if (!nat(x.step)) throw new ScheduleError(`${at}.step: expected a non-negative integer`);
      if (x.preempt !== true && x.clock !== true) throw new ScheduleError(`${at}: a step decision has "preempt": true or "clock": true`);
    } else if ('round' in x) {
      if (!nat(x.round)) throw new ScheduleError(`${at}.round: expected a non-negative integer`);
      if (!Array.isArray(x.cpus) || !x.cpus.every(nat)) throw new ScheduleError(`${at}.cpus: expected an array of CPU ids`);
    } else if ('alloc' in x) {
      if (!nat(x.alloc) || !nat(x.sleep)) throw new ScheduleError(`${at}: "alloc" and "sleep" are non-negative integers`);
    } else if ('disp' in x) {
      if (!nat(x.disp) || !nat(x.pick)) throw new ScheduleError(`${at}: "disp" and "pick" are non-negative integers`);
    } else throw new ScheduleError(`${at}: expected one of step, round, alloc, disp`);
  });
  if (o.seed !== undefined && !nat(o.seed)) throw new ScheduleError(`${file}: seed: expected a non-negative integer`);
  return o as unknown as ScheduleFile;
}

/** A schedule file's text: one decision a line, so diffs of minimised schedules read well. */
export function formatSchedule(f: ScheduleFile): string {
  const head: Record<string, unknown> = { version: 1 };
  if (f.scenario !== undefined) head.scenario = f.scenario;
  if (f.seed !== undefined) head.seed = f.seed;
  const h = JSON.stringify(head).slice(0, -1);
  if (!f.decisions.length) return `${h},"decisions":[]}\n`;
  return `${h},"decisions":[\n${f.decisions.map((d) => '  ' + JSON.stringify(d)).join(',\n')}\n]}\n`;
}
