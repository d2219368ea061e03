/**
 * `kctx run SCENARIO` and `kctx mdb SCENARIO`: run a scenario headless.
 *
 * Exit codes: 0 the scenario ended cleanly; 2 a bad scenario, unsupported C or a module that
 * does not load (with file:line); 3 the simulated kernel panicked (the panic message in illumos
 * form, then the stack); 4 it did not end: every thread blocked (deadlock) or --max-steps hit.
 */
import { resolve as resolvePath } from 'node:path';
import { loadScenarioFile, ScenarioError, type Scenario } from '../scenario';
import { createKernel } from '../kernel';
import { FlowFormatter } from '../trace/flow';
import { ChromeTraceWriter } from '../trace/chrome';
import { EventRing, TeeSink, type EventSink } from '../trace/events';
import { formatAddr } from '../machine/memory';
import type { Machine, RunOutcome } from '../machine/machine';
import { nsPerCycle } from '../abi/kapi';
import { Schedule, ScheduleError, parseSchedule, type ScheduleFile } from '../machine/schedule';
import { readBoundedFile, FileError } from '../files';
import { stubsOf, stubsCalledLines } from '../cinterp/stubs';
import { formatPanic } from '../panic';
import { UsageError, intArg, oneOf, readArgv } from './argv';
import { setDiskCache } from '../cinterp/disk-cache';
import { setParserOnDemand } from '../cinterp/index';
import { createCParser } from '../../core/cparser';

export const EXIT_OK = 0;
export const EXIT_USAGE = 2;
export const EXIT_PANIC = 3;
export const EXIT_HUNG = 4;

interface RunArgs {
  scenario: string;
  seed?: number;
  trace: 'flow' | 'none';
  mdb: string[];
  maxSteps: number;
  stats: boolean;
  exportTrace?: string;
  quiet: boolean;
  /** Compile the driver's asserts out (no DEBUG/INVARIANTS, NDEBUG defined). */
  noAsserts: boolean;
  /** --gate PATH: build against this illumos-gate checkout (takes the place of the scenario's "gate"). */
  gate?: string;
  /** --stubs auto: undefined functions become stubs. */
  stubs?: 'auto';
  /** A schedule file to replay (kctx explore writes them). */
  schedule?: string;
  /** Write a crash dump of the machine at the end of the run. */
  dump?: string;
}

const RUN_OPTIONS = {
  seed: { type: 'string' },
  trace: { type: 'string' },
  mdb: { type: 'string', multiple: true },
  'max-steps': { type: 'string' },
  stats: { type: 'boolean' },
  'export-trace': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  'no-asserts': { type: 'boolean' },
  gate: { type: 'string' },
  stubs: { type: 'string' },
  schedule: { type: 'string' },
  dump: { type: 'string' },
  'no-cache': { type: 'boolean' },
} as const;

function parseArgs(argv: string[], cmd: string): RunArgs {
  const { values: v, positionals } = readArgv(argv, RUN_OPTIONS);
  const a: RunArgs = { scenario: '', trace: cmd === 'run' ? 'flow' : 'none', mdb: v.mdb ?? [], maxSteps: 50_000_000, stats: !!v.stats, quiet: !!v.quiet, noAsserts: !!v['no-asserts'] };
  if (v.seed !== undefined) a.seed = intArg(v.seed, '--seed');
  if (v.trace !== undefined) a.trace = oneOf(v.trace, '--trace', ['flow', 'none'] as const);
  if (v['max-steps'] !== undefined) a.maxSteps = intArg(v['max-steps'], '--max-steps');
  if (v['export-trace'] !== undefined) a.exportTrace = v['export-trace'];
  if (v.gate !== undefined) a.gate = v.gate;
  if (v.stubs !== undefined) {
    if (v.stubs !== 'auto') throw new UsageError(`--stubs expects auto, got '${v.stubs}' (C stubs go in the scenario's "stubs")`);
    a.stubs = v.stubs;
  }
  if (v.schedule !== undefined) a.schedule = v.schedule;
  if (v.dump !== undefined) a.dump = v.dump;
  // Neither read nor write the preprocessed units kept on disk (as KCTX_CACHE=0).
  if (v['no-cache']) setDiskCache(false);
  if (positionals.length > 1) throw new UsageError(`more than one scenario given ('${positionals[0]}', '${positionals[1]}')`);
  if (!positionals.length) throw new UsageError('missing SCENARIO (a .ksim.json file)');
  a.scenario = positionals[0]!;
  return a;
}

/** A schedule file (`--schedule`): a usage error names the file and what is wrong with it. */
function readScheduleFile(path: string): ScheduleFile {
  try {
    return parseSchedule(readBoundedFile(path, 64 << 20), path);
  } catch (e) {
    if (e instanceof ScheduleError || e instanceof FileError) throw new UsageError(e.message);
    throw e;
  }
}

/** Buffered stdout: a flow trace can be millions of lines. */
class Out {
  private parts: string[] = [];
  private size = 0;
  line(s: string): void {
    this.parts.push(s, '\n');
    this.size += s.length + 1;
    if (this.size > 1 << 16) this.flush();
  }
  flush(): void {
    if (!this.parts.length) return;
    const data = this.parts.join('');
    this.parts = [];
    this.size = 0;
    writeAllSync(1, data);
  }
}

function writeAllSync(fd: number, data: string): void {
  const fs = require('node:fs') as typeof import('node:fs');
  const buf = Buffer.from(data);
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      if ((e as NodeJS.ErrnoException).code === 'EPIPE') return;
      throw e;
    }
  }
}

export function threadNamer(m: Machine): (addr: number) => string {
  return (addr) => m.names.get(addr) ?? formatAddr(addr);
}

/** The illumos console form of a panic: `panic[cpuN]/thread=ADDR: message`, then the stack. */
export { formatPanic };

function loadForRun(a: RunArgs): Scenario {
  const s = loadScenarioFile(a.scenario, { ...(a.gate !== undefined ? { gate: resolvePath(a.gate) } : {}), ...(a.stubs ? { stubs: a.stubs } : {}) });
  return a.noAsserts ? (require('../freebsd/cells') as typeof import('../freebsd/cells')).noAssertsScenario(s) : s;
}

async function prepare(a: RunArgs, extraSinks: EventSink[] = [], scenario?: Scenario): Promise<{ m: Machine; s: Scenario; out: Out; close: () => void }> {
  const s = scenario ?? loadForRun(a);
  const sched = a.schedule !== undefined ? readScheduleFile(a.schedule) : undefined;
  const m = await createKernel(s, { seed: a.seed ?? sched?.seed });
  if (sched) m.setSchedule(new Schedule(sched.decisions));
  const out = new Out();
  const sinks: EventSink[] = [...extraSinks];
  const namer = threadNamer(m);
  if (a.trace === 'flow') sinks.push(new FlowFormatter((l) => out.line(l), { threadName: namer }));
  let chrome: ChromeTraceWriter | undefined;
  if (a.exportTrace) {
    chrome = new ChromeTraceWriter(a.exportTrace, namer, nsPerCycle(m) / 1000, m.cpus.length);
    sinks.push(chrome);
  }
  if (sinks.length === 1) m.sink = sinks[0]!;
  else if (sinks.length > 1) m.sink = new TeeSink(sinks);
  m.onConsole = (text) => out.line(text);
  return { m, s, out, close: () => chrome?.close() };
}

/** Runs to the end in chunks, showing progress on a terminal. */
function runToEnd(m: Machine, maxSteps: number): RunOutcome {
  const tty = process.stderr.isTTY === true;
  const chunk = 2_000_000;
  const t0 = Date.now();
  let shown = false;
  for (;;) {
    const limit = Math.min(maxSteps, m.stats.steps + chunk);
    const r = m.run(limit);
    if (r.kind !== 'step-limit' || m.stats.steps >= maxSteps) {
      if (shown) process.stderr.write('\r\x1b[K');
      return r;
    }
    if (tty && Date.now() - t0 > 500) {
      shown = true;
      process.stderr.write(`\r\x1b[Kkctx: ${m.stats.steps} steps, ${m.stats.switches} switches, tick ${m.lbolt}`);
    }
  }
}

function report(m: Machine, r: RunOutcome, out: Out, a: RunArgs): number {
  let code = EXIT_OK;
  if (r.kind === 'panic') {
    for (const l of formatPanic(m)) out.line(l);
    code = EXIT_PANIC;
  } else if (r.kind === 'deadlock') {
    out.line(`kctx: the kernel hung: ${r.message}`);
    code = EXIT_HUNG;
  } else if (r.kind === 'step-limit') {
    out.line(`kctx: stopped at the step limit (${a.maxSteps} steps) before the scenario ended: an infinite loop, or raise --max-steps`);
    code = EXIT_HUNG;
  }
  // FreeBSD: a module that failed kldload (its messages are on the console) is a load failure.
  if (code === EXIT_OK && (require('../freebsd/cells') as typeof import('../freebsd/cells')).failedModules(m).length) code = EXIT_USAGE;
  return code;
}

async function runMdbCommands(m: Machine, cmds: string[], out: Out): Promise<void> {
  if (!cmds.length) return;
  // Expressions and the header types a load left for later are parsed (a load may not have loaded the parser).
  await createCParser();
  const { createMdb } = require('../mdb/index') as typeof import('../mdb/index');
  const mdb = createMdb(m);
  for (const c of cmds) {
    out.line(`> ${c}`);
    const text = mdb.execute(c);
    if (text) for (const l of text.replace(/\n$/, '').split('\n')) out.line(l);
  }
}

function statsLine(m: Machine): string {
  const s = m.stats;
  const stubs = stubsOf(m);
  // "stubs": "auto": the calls to stubs, an extra key after the fixed ones.
  const extra = stubs ? { stubs: [...stubs.calls.values()].reduce((a, b) => a + b, 0) } : {};
  return JSON.stringify({ switches: s.switches, hooks: s.hooks, steps: s.steps, ticks: s.ticks, allocs: s.allocs, frees: s.frees, ...extra });
}

async function guarded(cmd: string, argv: string[], body: (a: RunArgs) => Promise<number>): Promise<number> {
  let a: RunArgs;
  try {
    a = parseArgs(argv, cmd);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`kctx ${cmd}: ${e.message}\nusage: kctx ${cmd} SCENARIO [--seed N] [--trace flow|none] [--mdb CMD]... [--max-steps N] [--stats] [--export-trace FILE.json] [--no-asserts] [--gate PATH] [--stubs auto] [--schedule FILE] [--dump FILE] [--no-cache]\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
  try {
    return await body(a);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`kctx ${cmd}: ${e.message}\n`);
      return EXIT_USAGE;
    }
    const why = inputError(e);
    if (why === null) throw e;
    process.stderr.write(`kctx: ${why}\n`);
    return EXIT_USAGE;
  }
}

/**
 * What to say about an error in the user's input (exit 2), or null for an internal error: a bad
 * scenario, a driver that does not load, a file we were asked to read or write that the system
 * refuses (--export-trace into a missing folder).
 */
export function inputError(e: unknown): string | null {
  if (e instanceof ScenarioError || (e as { kctxLoadError?: boolean }).kctxLoadError) return (e as Error).message;
  const code = (e as NodeJS.ErrnoException).code;
  const path = (e as NodeJS.ErrnoException).path;
  if (typeof code === 'string' && typeof path === 'string' && /^E[A-Z]+$/.test(code)) {
    return `${path}: ${(e as Error).message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '')}`;
  }
  return null;
}

/** `"matrix": true`: the four cells one after the other, then a table of what each did. */
async function runMatrix(a: RunArgs, s: Scenario): Promise<number> {
  const cells = require('../freebsd/cells') as typeof import('../freebsd/cells');
  const rows: Array<{ label: string; result: string }> = [];
  let worst = EXIT_OK;
  for (const c of cells.CELLS) {
    const cs = cells.cellScenario(s, c);
    const ring = a.mdb.length ? new EventRing() : undefined;
    const { m, out, close } = await prepare(a, ring ? [ring] : [], cs);
    if (ring) m.eventRing = ring;
    out.line(`=== ${cells.cellLabel(c)} ===`);
    const consoleLines: string[] = [];
    const prev = m.onConsole;
    m.onConsole = (text) => { consoleLines.push(text); prev?.(text); };
    const r = runToEnd(m, a.maxSteps);
    close();
    const code = report(m, r, out, a);
    await runMdbCommands(m, a.mdb, out);
    out.line('');
    out.flush();
    const failed = cells.failedModules(m);
    let result: string;
    if (failed.length) result = `kldload fails: ${failed.join('; ')}`;
    else if (r.kind === 'panic') result = `panic: ${m.panicInfo!.message.startsWith('BAD TRAP') ? 'page fault' : m.panicInfo!.message}`;
    else if (code === EXIT_HUNG) result = 'hangs';
    else result = 'runs to the end';
    const notes = consoleLines.filter((l) => !l.startsWith('kctx:') && !l.startsWith('link_elf') && !l.startsWith('kldload:'));
    if (notes.length) result += ` (${notes.join(' | ')})`;
    rows.push({ label: cells.cellLabel(c), result });
    worst = Math.max(worst, code);
  }
  const out = new Out();
  out.line('=== matrix ===');
  const w = Math.max(...rows.map((r) => r.label.length));
  for (const r of rows) out.line(`${r.label.padEnd(w)}  ${r.result}`);
  out.flush();
  return worst;
}

export function runCommand(argv: string[]): Promise<number> {
  return guarded('run', argv, async (a) => {
    const s0 = loadForRun(a);
    if (s0.freebsd?.matrix) return runMatrix(a, s0);
    // --mdb commands get the recent-events ring too (::ctxtrace).
    const ring = a.mdb.length ? new EventRing() : undefined;
    // A load whose syntax trees come from the disk cache does not load the C parser (runMdbCommands does).
    setParserOnDemand(true);
    let prepared: Awaited<ReturnType<typeof prepare>>;
    try {
      prepared = await prepare(a, ring ? [ring] : [], s0);
    } finally {
      setParserOnDemand(false);
    }
    const { m, out, close } = prepared;
    if (ring) m.eventRing = ring;
    const r = runToEnd(m, a.maxSteps);
    close();
    if (a.dump) (require('../dump/dump') as typeof import('../dump/dump')).writeDump(m, a.dump, a.scenario);
    const code = report(m, r, out, a);
    for (const l of stubsCalledLines(m)) out.line(l);
    await runMdbCommands(m, a.mdb, out);
    if (a.stats) out.line(statsLine(m));
    out.flush();
    return code;
  });
}

/** Whether `path` is a crash dump (gzip) rather than a scenario: its first two bytes. */
function looksLikeDump(path: string): boolean {
  const fs = require('node:fs') as typeof import('node:fs');
  let fd: number | undefined;
  try {
    fd = fs.openSync(path, 'r');
    if (!fs.fstatSync(fd).isFile()) return false;
    const b = Buffer.alloc(2);
    return fs.readSync(fd, b, 0, 2, 0) === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** `kctx mdb DUMP`: the post-mortem machine of a crash dump (exit 3 when it was a panic). */
function openDump(path: string): { m: Machine; out: Out; code: number } {
  const dumps = require('../dump/dump') as typeof import('../dump/dump');
  let m: Machine;
  try {
    m = dumps.readDump(path).m;
  } catch (e) {
    if (e instanceof dumps.DumpError) throw new UsageError(e.message);
    throw e;
  }
  return { m, out: new Out(), code: m.panicInfo ? EXIT_PANIC : m.deadlock ? EXIT_HUNG : EXIT_OK };
}

export function mdbCommand(argv: string[]): Promise<number> {
  return guarded('mdb', argv, async (a) => {
    let m: Machine;
    let out: Out;
    let code: number;
    if (looksLikeDump(a.scenario)) {
      ({ m, out, code } = openDump(a.scenario));
    } else {
      const ring = new EventRing();
      let close: () => void;
      ({ m, out, close } = await prepare(a, [ring]));
      m.eventRing = ring;
      const r = runToEnd(m, a.maxSteps);
      close();
      code = report(m, r, out, a);
    }
    await runMdbCommands(m, a.mdb, out);
    out.flush();
    const { createMdb, complete } = require('../mdb/index') as typeof import('../mdb/index');
    const mdb = createMdb(m);
    const tty = process.stdin.isTTY === true;
    const run = (line: string): boolean => {
      const cmd = line.trim();
      if (cmd === '$q' || cmd === '::quit' || cmd === '$Q') return false;
      if (cmd) {
        const text = mdb.execute(cmd);
        if (text) writeAllSync(1, text.endsWith('\n') ? text : text + '\n');
      }
      return true;
    };
    if (!tty) {
      // A pipe or a file: lines of at most 64 KB (mdb commands are short; /dev/zero is not input).
      const bad = await readLines(process.stdin, MAX_MDB_LINE, run);
      if (bad) {
        process.stderr.write(`kctx mdb: ${bad}\n`);
        return EXIT_USAGE;
      }
      return code;
    }
    const { createInterface } = require('node:readline') as typeof import('node:readline');
    const rl = createInterface({
      input: process.stdin, output: process.stdout, terminal: true, prompt: '> ', historySize: 1000,
      completer: (line: string) => [complete(line), line],
    });
    rl.prompt();
    for await (const line of rl) {
      if (!run(line)) break;
      rl.prompt();
    }
    rl.close();
    return code;
  });
}

/** The longest line `kctx mdb` reads from a pipe. */
export const MAX_MDB_LINE = 64 * 1024;

/**
 * Reads lines from a stream with a bounded buffer: `each` gets every line (false stops);
 * resolves with null at the end, or with what was wrong (a line over `max` bytes) without
 * reading the rest.
 */
export async function readLines(input: NodeJS.ReadableStream, max: number, each: (line: string) => boolean): Promise<string | null> {
  let pending = '';
  let lineNo = 0;
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    let text = pending + (typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    let nl: number;
    while ((nl = text.indexOf('\n')) >= 0) {
      lineNo++;
      if (nl > max) return `input line ${lineNo} is longer than ${max / 1024} KB: not mdb commands`;
      if (!each(text.slice(0, nl).replace(/\r$/, ''))) return null;
      text = text.slice(nl + 1);
    }
    if (text.length > max) return `input line ${lineNo + 1} is longer than ${max / 1024} KB: not mdb commands`;
    pending = text;
  }
  if (pending) each(pending);
  return null;
}
