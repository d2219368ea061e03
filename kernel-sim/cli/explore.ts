/**
 * `kctx explore SCENARIO`: search the scenario's schedules for failures; `kctx explore --merge
 * DIR...`: combine the results of shards.
 *
 * Exit codes: 0 nothing found, 1 failures found, 2 a usage error or a scenario that does not load.
 * Output is deterministic (the same arguments give the same bytes); the progress line on a
 * terminal is the only thing that reads the clock.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadScenarioFile, type Scenario } from '../scenario';
import { inputError } from './run';
import { createKernel } from '../kernel';
import { Explorer, FAILURE_KINDS, type FailureKind, type Found } from '../explore/explorer';
import { STRATEGIES, type Strategy, type SearchPlan, type RunShape } from '../explore/strategies';
import { runPart, mergeParts, sortFound, WHOLE, type Part, type PartResult } from '../explore/search';
import { formatSchedule, parseSchedule, type Decision } from '../machine/schedule';
import { readBoundedFile, FileError } from '../files';
import { writeDump } from '../dump/dump';
import { UsageError, intArg, oneOf, readArgv } from './argv';

export const EXIT_NONE = 0;
export const EXIT_FOUND = 1;
export const EXIT_USAGE = 2;

const USAGE = 'usage: kctx explore SCENARIO [--budget N] [--strategy pct|random|preempt-bound] [--depth D] [--until panic,assert,hazard,deadlock,leak] [--jobs N] [--shard I/N] [--out DIR] [--format text|json] [--seed N] [--max-steps N]\n       kctx explore --merge DIR... [--format text|json]\n';

interface ExploreArgs {
  scenario: string;
  budget: number;
  strategy: Strategy;
  depth: number;
  until: FailureKind[];
  jobs: number;
  shard: number;
  shards: number;
  out?: string;
  format: 'text' | 'json';
  seed?: number;
  maxSteps: number;
  merge: string[] | null;
  /** `--progress json`: progress as JSON lines on standard error, terminal or not (the editor reads them). */
  progressJson: boolean;
}

const EXPLORE_OPTIONS = {
  budget: { type: 'string' },
  strategy: { type: 'string' },
  depth: { type: 'string' },
  until: { type: 'string' },
  jobs: { type: 'string' },
  shard: { type: 'string' },
  out: { type: 'string' },
  format: { type: 'string' },
  seed: { type: 'string' },
  'max-steps': { type: 'string' },
  merge: { type: 'boolean' },
  progress: { type: 'string' },
} as const;

function parseArgs(argv: string[]): ExploreArgs {
  const { values: v, positionals } = readArgv(argv, EXPLORE_OPTIONS);
  const a: ExploreArgs = {
    scenario: '', budget: 1000, strategy: 'pct', depth: 2, until: ['panic', 'assert', 'deadlock'], jobs: 1, shard: 0, shards: 1,
    format: 'text', maxSteps: 50_000_000, merge: v.merge ? [...positionals] : null, progressJson: false,
  };
  if (v.budget !== undefined) a.budget = intArg(v.budget, '--budget', 1);
  if (v.strategy !== undefined) a.strategy = oneOf(v.strategy, '--strategy', STRATEGIES);
  if (v.depth !== undefined) a.depth = intArg(v.depth, '--depth', 1);
  if (v.until !== undefined) {
    const kinds = v.until.split(',').map((s) => s.trim()).filter(Boolean);
    for (const k of kinds) if (!FAILURE_KINDS.includes(k as FailureKind)) throw new UsageError(`--until: unknown kind '${k}' (${FAILURE_KINDS.join(', ')})`);
    if (!kinds.length) throw new UsageError('--until needs at least one kind');
    a.until = kinds as FailureKind[];
  }
  if (v.jobs !== undefined) a.jobs = intArg(v.jobs, '--jobs', 1);
  if (v.shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(v.shard);
    if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) throw new UsageError(`--shard expects I/N with 0 <= I < N, got '${v.shard}'`);
    a.shard = Number(m[1]);
    a.shards = Number(m[2]);
  }
  if (v.out !== undefined) a.out = v.out;
  if (v.format !== undefined) a.format = oneOf(v.format, '--format', ['text', 'json'] as const);
  if (v.seed !== undefined) a.seed = intArg(v.seed, '--seed');
  if (v['max-steps'] !== undefined) a.maxSteps = intArg(v['max-steps'], '--max-steps', 1);
  if (v.progress !== undefined) a.progressJson = oneOf(v.progress, '--progress', ['json'] as const) === 'json';
  if (a.merge) {
    if (!a.merge.length) throw new UsageError('--merge needs at least one folder written by kctx explore --out');
  } else if (positionals.length > 1) throw new UsageError(`more than one scenario given ('${positionals[0]}', '${positionals[1]}')`);
  else if (!positionals.length) throw new UsageError('missing SCENARIO (a .ksim.json file)');
  else a.scenario = positionals[0]!;
  return a;
}

/** One failure as reported (and as written to DIR/explore.json). */
export interface ReportedFailure {
  kind: FailureKind;
  message: string;
  signature: string;
  /** The schedule file (with --out), else the schedule itself. */
  schedule: string | { version: 1; decisions: Decision[] };
  /** The crash dump file (with --out: the machine at the failure, for `kctx mdb`), else null. */
  dump: string | null;
  preemptions: number;
  /** The schedule as found, before minimising: what merging compares. */
  found: { index: number; preemptions: number; decisions: number };
}

export interface ExploreReport {
  version: 1;
  schedules: number;
  failures: ReportedFailure[];
}

/** The machine for a search: the scenario loaded once; every schedule restores its start. */
export async function explorerFor(s: Scenario, seed: number | undefined, until: FailureKind[], maxSteps: number): Promise<{ ex: Explorer; shape: RunShape; runSteps: number }> {
  const m = await createKernel(s, { seed });
  const ex = new Explorer(m, new Set(until), maxSteps);
  const shape = ex.shape();
  // Each schedule gets room to run longer than the ordinary run, not forever.
  ex.maxSteps = Math.min(maxSteps, Math.max(shape.steps * 4, shape.steps + 100_000));
  return { ex, shape, runSteps: ex.maxSteps };
}

/** Messages between `kctx explore --jobs N` and its worker threads. */
interface WorkerTask { kctxExplore: true; scenario: string; seed?: number; until: FailureKind[]; maxSteps: number; plan: SearchPlan; part: Part }
type WorkerMessage = { type: 'progress'; done: number } | { type: 'done'; result: PartResult } | { type: 'error'; message: string };

/** The worker thread's side: run its part of the search, report progress and the result. */
export async function exploreWorker(): Promise<void> {
  const { parentPort, workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const w = workerData as WorkerTask;
  const post = (msg: WorkerMessage) => parentPort!.postMessage(msg);
  try {
    const { ex, shape } = await explorerFor(loadScenarioFile(w.scenario), w.seed, w.until, w.maxSteps);
    let last = 0;
    const result = runPart(ex, w.plan, shape, w.part, (done) => {
      if (done - last >= 16) {
        last = done;
        post({ type: 'progress', done });
      }
    });
    post({ type: 'done', result });
  } catch (e) {
    post({ type: 'error', message: (e as Error).message });
  }
}

/** The kctx entry script (the bundle itself, or out/kctx.js in the test tree): what workers run. */
function entryScript(): string {
  // The CLI's bundle (dist/kctx-cli.js) runs under its loader, dist/kctx.js, beside it.
  if (__filename.endsWith('kctx-cli.js')) return join(__dirname, 'kctx.js');
  return __filename.endsWith('kctx.js') ? __filename : join(__dirname, '..', '..', 'kctx.js');
}

async function runWorkers(a: ExploreArgs, plan: SearchPlan, progress: (done: number) => void): Promise<PartResult[]> {
  const { Worker } = require('node:worker_threads') as typeof import('node:worker_threads');
  const done = new Array<number>(a.jobs).fill(0);
  const jobs = Array.from({ length: a.jobs }, (_, job) => new Promise<PartResult>((res, rej) => {
    const task: WorkerTask = {
      kctxExplore: true, scenario: resolve(a.scenario), seed: a.seed, until: a.until, maxSteps: a.maxSteps, plan,
      part: { shard: a.shard, shards: a.shards, job, jobs: a.jobs },
    };
    const w = new Worker(entryScript(), { workerData: task, argv: [] });
    w.on('message', (msg: WorkerMessage) => {
      if (msg.type === 'progress') {
        done[job] = msg.done;
        progress(done.reduce((x, y) => x + y, 0));
      } else if (msg.type === 'done') {
        done[job] = msg.result.schedules;
        progress(done.reduce((x, y) => x + y, 0));
        res(msg.result);
        void w.terminate();
      } else rej(new Error(msg.message));
    });
    w.on('error', rej);
  }));
  return Promise.all(jobs);
}

class Progress {
  private readonly tty = process.stderr.isTTY === true;
  private readonly t0 = Date.now();
  private last = 0;
  private shown = false;
  constructor(private readonly total: number, private readonly json = false) {}
  update(done: number, failures: number): void {
    if (!this.tty && !this.json) return;
    const now = Date.now();
    if (now - this.last < 200 && done < this.total) return;
    this.last = now;
    if (this.json) {
      process.stderr.write(JSON.stringify({ done, total: this.total, failures }) + '\n');
      return;
    }
    this.shown = true;
    const rate = Math.round((done * 1000) / Math.max(1, now - this.t0));
    process.stderr.write(`\r\x1b[Kkctx explore: ${done}/${this.total} schedules, ${rate}/s, ${failures} distinct failure${failures === 1 ? '' : 's'}`);
  }
  clear(): void {
    if (this.shown) process.stderr.write('\r\x1b[K');
  }
}

function partTotal(budget: number, a: ExploreArgs): number {
  return Math.max(0, Math.ceil((budget - a.shard) / a.shards));
}

async function explore(a: ExploreArgs): Promise<ExploreReport> {
  const s = loadScenarioFile(a.scenario);
  const seed = a.seed ?? s.seed;
  const plan: SearchPlan = { strategy: a.strategy, depth: a.depth, budget: a.budget, seed };
  const { ex, shape } = await explorerFor(s, a.seed, a.until, a.maxSteps);
  const bar = new Progress(partTotal(a.budget, a), a.progressJson);
  let parts: PartResult[];
  if (a.jobs > 1) {
    let failures = 0;
    parts = await runWorkers(a, plan, (done) => bar.update(done, failures));
    failures = mergeParts(parts).found.length;
  } else {
    parts = [runPart(ex, plan, shape, { ...WHOLE, shard: a.shard, shards: a.shards }, (done, f) => bar.update(done, f))];
  }
  bar.clear();
  const merged = mergeParts(parts);
  const failures: ReportedFailure[] = [];
  if (a.out) mkdirSync(a.out, { recursive: true });
  merged.found.forEach((raw, n) => {
    const f = ex.minimise(raw);
    const sched = { version: 1 as const, scenario: a.scenario, seed, decisions: f.decisions };
    let schedule: ReportedFailure['schedule'] = { version: 1, decisions: f.decisions };
    let dump: string | null = null;
    if (a.out) {
      const base = `${n + 1}-${f.kind}`;
      writeFileSync(join(a.out, `${base}.schedule.json`), formatSchedule(sched));
      schedule = join(a.out, `${base}.schedule.json`);
      // The machine at the failure: replay the minimised schedule, dump it.
      ex.run(f.decisions);
      dump = join(a.out, `${base}.dump`);
      writeDump(ex.m, dump, a.scenario);
    }
    failures.push({
      kind: f.kind, message: f.message, signature: f.signature, schedule, dump, preemptions: f.preemptions,
      found: { index: raw.index, preemptions: raw.preemptions, decisions: raw.decisions.length },
    });
  });
  const report: ExploreReport = { version: 1, schedules: merged.schedules, failures };
  if (a.out) writeFileSync(join(a.out, 'explore.json'), JSON.stringify(relativeTo(report, a.out), null, 2) + '\n');
  return report;
}

/** DIR/explore.json names its files relative to DIR, so the folder can move (a CI artifact). */
function relativeTo(r: ExploreReport, dir: string): ExploreReport {
  const strip = (p: string) => (p.startsWith(dir) ? p.slice(dir.length).replace(/^[/\\]+/, '') : p);
  return {
    ...r,
    failures: r.failures.map((f) => ({ ...f, schedule: typeof f.schedule === 'string' ? strip(f.schedule) : f.schedule, dump: f.dump ? strip(f.dump) : null })),
  };
}

/** `--merge DIR...`: the shards' explore.json files combined, paths pointing into each DIR. */
function merge(dirs: string[]): ExploreReport {
  let schedules = 0;
  const best = new Map<string, ReportedFailure>();
  for (const dir of dirs) {
    const file = join(dir, 'explore.json');
    let r: ExploreReport;
    try {
      r = JSON.parse(readBoundedFile(file, 256 << 20)) as ExploreReport;
    } catch (e) {
      if (e instanceof FileError) throw new UsageError(e.message);
      throw new UsageError(`${file}: not JSON: ${(e as Error).message}`);
    }
    if (!r || r.version !== 1 || !Array.isArray(r.failures) || typeof r.schedules !== 'number') throw new UsageError(`${file}: not a kctx explore result (version 1)`);
    schedules += r.schedules;
    for (const f0 of r.failures) {
      const f = { ...f0, schedule: typeof f0.schedule === 'string' ? join(dir, f0.schedule) : f0.schedule, dump: f0.dump ? join(dir, f0.dump) : null };
      const old = best.get(f.signature);
      if (!old || rawBetter(f.found, old.found)) best.set(f.signature, f);
    }
  }
  return { version: 1, schedules, failures: sortFound([...best.values()]) };
}

function rawBetter(a: ReportedFailure['found'], b: ReportedFailure['found']): boolean {
  if (a.preemptions !== b.preemptions) return a.preemptions < b.preemptions;
  if (a.decisions !== b.decisions) return a.decisions < b.decisions;
  return a.index < b.index;
}

function printReport(r: ExploreReport, a: ExploreArgs): void {
  if (a.format === 'json') {
    process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    return;
  }
  const lines: string[] = [];
  const what = a.merge ? `merged ${a.merge.length} result${a.merge.length === 1 ? '' : 's'}` : `${a.scenario} (${a.strategy}, depth ${a.depth}${a.shards > 1 ? `, shard ${a.shard}/${a.shards}` : ''})`;
  lines.push(`kctx explore: ${what}: ${r.schedules} schedules, ${r.failures.length} distinct failure${r.failures.length === 1 ? '' : 's'}`);
  if (r.failures.length) {
    const rows = r.failures.map((f, i) => [String(i + 1), f.kind, String(f.preemptions), `#${f.found.index}`, f.signature]);
    const head = ['#', 'KIND', 'PREEMPTIONS', 'FOUND', 'SIGNATURE'];
    const w = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
    const fmt = (row: string[]) => row.map((x, c) => (c === row.length - 1 ? x : x.padEnd(w[c]!))).join('  ');
    lines.push('', fmt(head));
    r.failures.forEach((f, i) => {
      lines.push(fmt(rows[i]!));
      const pad = ' '.repeat(w[0]! + 2);
      lines.push(`${pad}${f.message}`);
      if (typeof f.schedule === 'string') lines.push(`${pad}replay: kctx run ${a.scenario || '<scenario>'} --schedule ${f.schedule}`);
      else lines.push(`${pad}schedule: ${JSON.stringify(f.schedule.decisions)}`);
      if (f.dump) lines.push(`${pad}dump:   kctx mdb ${f.dump}`);
    });
  }
  process.stdout.write(lines.join('\n') + '\n');
}

export async function exploreCommand(argv: string[]): Promise<number> {
  let a: ExploreArgs;
  try {
    a = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`kctx explore: ${e.message}\n${USAGE}`);
      return EXIT_USAGE;
    }
    throw e;
  }
  try {
    const r = a.merge ? merge(a.merge) : await explore(a);
    printReport(r, a);
    return r.failures.length ? EXIT_FOUND : EXIT_NONE;
  } catch (e) {
    if (e instanceof UsageError || e instanceof FileError) {
      process.stderr.write(`kctx explore: ${e.message}\n`);
      return EXIT_USAGE;
    }
    const why = inputError(e);
    if (why === null) throw e;
    process.stderr.write(`kctx: ${why}\n`);
    return EXIT_USAGE;
  }
}

export { parseSchedule };
