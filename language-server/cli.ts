/**
 * `kctx lint [--format text|json|sarif] [--era 12477|13915|13917|auto] [--rule ID,...] [--disable ID,...]
 *  [--severity ID=LEVEL] [--baseline FILE] [--jobs N] [--no-config] PATH...`
 * Files or folders (recursive over *.c and *.h). Each file's nearest .kctx.json (config.ts) gives
 * its era, rule levels and exclude globs; the flags come on top. Exit 0: no error-severity finding
 * (not counting the baseline's); 1: some; 2: usage error (unknown option or rule, missing or
 * unreadable path, malformed .kctx.json or baseline). Big trees are linted on every core with worker
 * threads. A progress line goes to stderr when it is a terminal; a summary always does.
 */
import { accessSync, constants, readFileSync, statSync, existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import type { EraSetting, KctxDiagnostic, LintOptions, RuleSetting } from './engine';
import { lintText, skippedDiagnostic, RULES, RULES_BY_ID, SEVERITY_NUMBER } from './engine';
import { ConfigError, ConfigFinder, ERA_SETTINGS, RULE_LEVELS, excludedBy } from './config';
import type { ProjectConfig } from './config';
import { BaselineError, applyBaseline, loadBaseline } from './baseline';
import { kernelTreeOf } from './kerneltree';
import { formatJson, formatSarif, formatText } from './format';
import { FileRefused, readFileBounded } from '../kernel-sim/io/files';
import type { FileResult } from './format';
import { packageRoot } from './docs';
import { compiledParser } from '../core/cparser';
import { formatAbiJson, formatAbiText, vnetAbiReport } from './vnet-abi';
import { MAX_READ_BYTES, UsageError, eachFile, lintFile, scanFile, workerEntry, type FileLint } from './files';
import { lockRulesOn, lockRulesOnly, runDefinitionsOfFile, type RunDefinitions } from './lockpass';
import { mergeRunDefinitions, type RunSummaries } from './locks';

/** `kctx lint --vnet-abi`: the VIMAGE/non-VIMAGE symbol report of each file. Exit 0, or 2 on an unreadable file. */
function vnetAbiCommand(format: 'text' | 'json', files: string[]): number {
  const reports = [];
  for (const f of files) {
    let text: string;
    try { text = readFileBounded(f, MAX_READ_BYTES).toString('utf8'); } catch (e) { process.stderr.write(`kctx lint: cannot read '${f}': ${e instanceof FileRefused ? e.reason : (e as NodeJS.ErrnoException).code ?? e}\n`); return 2; }
    reports.push(vnetAbiReport(text, f));
  }
  process.stdout.write(format === 'json' ? formatAbiJson(reports) : formatAbiText(reports));
  const n = reports.filter((r) => r.items.length).length;
  const miss = reports.reduce((s, r) => s + r.onNonVimageKernel.length + r.onVimageKernel.length, 0);
  process.stderr.write(`kctx lint --vnet-abi: ${files.length} file${files.length === 1 ? '' : 's'}, ${n} with VNET constructs, ${miss} undefined-symbol load failure${miss === 1 ? '' : 's'} across the two mismatches\n`);
  return 0;
}

const USAGE = 'usage: kctx lint [--format text|json|sarif] [--era 12477|13915|13917|auto] [--rule ID,...] [--disable ID,...]\n                 [--severity ID=LEVEL] [--baseline FILE] [--jobs N] [--no-config] [--follow-symlinks] PATH...\n       kctx lint --vnet-abi [--format text|json] PATH...   (FreeBSD: what differs with and without VIMAGE)\n';
const FORMATS = new Set(['text', 'json', 'sarif']);


interface Args {
  format: 'text' | 'json' | 'sarif';
  /** --era, when given (else each file's .kctx.json, else auto). */
  era?: EraSetting;
  paths: string[];
  jobs?: number;
  vnetAbi?: boolean;
  only?: Set<string>;
  disable: Set<string>;
  severity: Map<string, RuleSetting>;
  baseline?: string;
  noConfig?: boolean;
  followSymlinks?: boolean;
}

function ruleIds(v: string, flag: string): string[] {
  const ids = v.split(',').map((x) => x.trim()).filter(Boolean);
  if (!ids.length) throw new UsageError(`${flag} needs rule ids`);
  for (const id of ids) if (!RULES_BY_ID.has(id)) throw new UsageError(`${flag}: unknown rule '${id}' (known: ${RULES.map((r) => r.id).join(', ')})`);
  return ids;
}

/** A file's options: its .kctx.json, then the flags. */
function optionsFor(a: Args, cfg: ProjectConfig | null): LintOptions {
  const rules: Record<string, RuleSetting> = { ...(cfg?.rules ?? {}) };
  if (a.only) for (const r of RULES) { if (!a.only.has(r.id)) rules[r.id] = 'off'; else if (rules[r.id] === undefined || rules[r.id] === 'off') rules[r.id] = r.severity; }
  for (const id of a.disable) rules[id] = 'off';
  for (const [id, lv] of a.severity) rules[id] = lv;
  const opts: LintOptions = { era: a.era ?? cfg?.kernelEra ?? 'auto', rules };
  if (cfg?.gate) opts.gate = cfg.gate;
  return opts;
}

function parseArgs(argv: string[]): Args | 'help' {
  const a: Args = { format: 'text', paths: [], disable: new Set(), severity: new Map() };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]!;
    let val: string | undefined;
    if (arg === '--') { a.paths.push(...argv.slice(i + 1)); break; }
    if (arg === '-h' || arg === '--help') return 'help';
    if (arg.startsWith('--') && arg.includes('=')) { val = arg.slice(arg.indexOf('=') + 1); arg = arg.slice(0, arg.indexOf('=')); }
    const value = () => {
      if (val !== undefined) return val;
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`option ${arg} needs a value`);
      return v;
    };
    if (arg === '--format' || arg === '-f') {
      const v = value();
      if (!FORMATS.has(v)) throw new UsageError(`unknown format '${v}' (text, json or sarif)`);
      a.format = v as Args['format'];
    } else if (arg === '--era') {
      const v = value();
      if (!ERA_SETTINGS.has(v)) throw new UsageError(`unknown era '${v}' (12477, 13915, 13917 or auto)`);
      a.era = v as EraSetting;
    } else if (arg === '--rule' || arg === '--rules') {
      a.only ??= new Set();
      for (const id of ruleIds(value(), '--rule')) a.only.add(id);
    } else if (arg === '--disable') {
      for (const id of ruleIds(value(), '--disable')) a.disable.add(id);
    } else if (arg === '--severity') {
      for (const item of value().split(',')) {
        const m = /^([\w-]+)=(\w+)$/.exec(item.trim());
        if (!m) throw new UsageError(`--severity wants ID=LEVEL, not '${item}'`);
        ruleIds(m[1]!, '--severity');
        if (!RULE_LEVELS.has(m[2]!)) throw new UsageError(`--severity: level '${m[2]}' is not error, warning, information, hint or off`);
        a.severity.set(m[1]!, m[2] as RuleSetting);
      }
    } else if (arg === '--baseline') {
      a.baseline = value();
    } else if (arg === '--follow-symlinks') {
      a.followSymlinks = true;
    } else if (arg === '--no-config') {
      a.noConfig = true;
    } else if (arg === '--vnet-abi') {
      a.vnetAbi = true;
    } else if (arg === '--jobs' || arg === '-j') {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) throw new UsageError('--jobs needs a positive integer');
      a.jobs = n;
    } else if (arg.startsWith('-') && arg !== '-') {
      throw new UsageError(`unknown option '${arg}'`);
    } else a.paths.push(arg);
  }
  if (!a.paths.length) throw new UsageError('no PATH given');
  if (a.vnetAbi && a.format === 'sarif') throw new UsageError('--vnet-abi prints text or json');
  return a;
}

interface Totals { files: number; lines: number; errors: string[] }

type Result = { id: number; diagnostics?: KctxDiagnostic[]; lines?: number; error?: string; defs?: RunDefinitions };

/** A worker: files in flight (to lint, or in blocks to scan), and the blocks in flight (first file -> files). */
interface PoolWorker { w: Worker; sent: number; blocks: Map<number, number>; blockFiles: number; ended: boolean }

/** Another worker starts for each this many bytes of text sent to lint (see LintPool). */
const EXTRA_WORKER_BYTES = 16 * 1024 * 1024;
/** The most files a worker is sent ahead of its answers (the walk reads answers between folders' files only). */
const AHEAD = 4;

/**
 * The worker threads of a big `kctx lint` run. The main thread reads and scans every file
 * (scanFile: most files of a tree are settled by the byte scan); a worker gets only the files some
 * enabled rule may report on, one at a time, the one with fewest waiting first. One worker starts
 * at once, another (up to --jobs) for each further EXTRA_WORKER_BYTES of text sent: each worker
 * pays V8's optimising compile of the rules and the parser again (on the default rules a whole
 * uts sends about 8 MB, every rule about 100 MB). Which worker lints a file changes nothing in
 * the output: each result goes to its file's place.
 */
class LintPool {
  private readonly workers: PoolWorker[] = [];
  private readonly queue: { id: number; bytes: number; defs?: boolean }[] = [];
  private next = 0;
  private bytes = 0;
  private closed = false;
  private exited = 0;
  private finish!: () => void;
  private fail!: (e: Error) => void;
  readonly done: Promise<void>;
  private readonly wasm = compiledParser();
  private lockSummaries?: RunSummaries;
  private defs: { out: RunDefinitions[]; left: number; resolve: (d: RunDefinitions[]) => void } | null = null;

  constructor(private readonly max: number, private readonly job: (id: number) => { id: number; file: string; fileOpts: LintOptions }, private readonly onDone: (id: number, r: FileLint) => void) {
    this.done = new Promise<void>((resolve, reject) => { this.finish = resolve; this.fail = reject; });
    this.done.catch(() => { /* the caller awaits it */ });
    this.start();
  }

  get size(): number { return this.workers.length; }

  /** A file to lint on a worker, of this many bytes. */
  add(id: number, bytes: number, defs = false): void {
    this.queue.push(defs ? { id, bytes, defs } : { id, bytes });
    this.bytes += bytes;
    while (this.workers.length < this.max && this.bytes > this.workers.length * EXTRA_WORKER_BYTES) this.start();
    this.pump();
  }

  /**
   * Files still to scan, given to a worker with no file to lint and less than two such blocks (it
   * scans them and lints those it must; with two it has the next while the main thread, busy
   * scanning, has not read its answer to the first yet): false when every worker is busy (the
   * caller scans them).
   */
  offer(ids: readonly number[]): boolean {
    const pw = this.workers.find((w) => w.sent === w.blockFiles && w.blocks.size < 2 && !w.ended);
    if (!pw) return false;
    pw.sent += ids.length;
    pw.blocks.set(ids[0]!, ids.length);
    pw.blockFiles += ids.length;
    pw.w.postMessage({ batch: ids.map(this.job) });
    return true;
  }

  /** The run's first pass (lockpass.ts) over these files of the given sizes: each file's definitions, in the order given. */
  definitions(files: readonly { id: number; bytes: number }[]): Promise<RunDefinitions[]> {
    if (!files.length) return Promise.resolve([]);
    return new Promise((resolve) => {
      this.defs = { out: [], left: files.length, resolve };
      for (const f of files) this.add(f.id, f.bytes, true);
    });
  }

  /** The run's lock summaries, for every worker (those started later get them at start). */
  share(lockSummaries: RunSummaries): void {
    this.lockSummaries = lockSummaries;
    for (const pw of this.workers) pw.w.postMessage({ lockSummaries });
  }

  /** Ends the workers now (a usage error after they started). */
  stop(): void {
    for (const pw of this.workers) { pw.ended = true; pw.sent = 0; void pw.w.terminate(); }
  }

  /** No more files: the workers end once they have answered. */
  close(): void {
    this.closed = true;
    this.pump();
  }

  /**
   * No more files to scan: the main thread lints the files no worker has taken yet, one at a
   * time, as a worker would, then waits for the workers. Without it the main thread would sit
   * idle while one worker lints the last files. What is left is sorted by size: the workers take
   * the largest first, the main thread the smallest, so it answers the workers (it sends them
   * their next files) between short lints and the two meet at the end over files of middle size.
   */
  async lintRest(): Promise<void> {
    const rest = this.queue.splice(this.next).sort((a, b) => b.bytes - a.bytes || a.id - b.id);
    this.queue.push(...rest);
    this.close();
    while (this.next < this.queue.length) {
      const q = this.queue.pop()!;
      const { file, fileOpts } = this.job(q.id);
      const opts = this.lockSummaries ? { ...fileOpts, lockSummaries: this.lockSummaries } : fileOpts;
      let r: FileLint;
      try {
        r = await lintFile(file, opts);
      } catch (e) {
        r = { diagnostics: [], lines: 0, error: e instanceof Error ? e.message : String(e) };
      }
      this.onDone(q.id, r);
      // the workers' answers: they take the next files
      await new Promise((resolve) => setImmediate(resolve));
      this.pump();
    }
    await this.done;
  }

  private start(): void {
    const entry = workerEntry();
    // the parser compiled once, here: the workers share it and the code V8 optimises it into (cparser.ts)
    const w = new Worker(entry.file, { workerData: { kctxLintWorker: true, opts: {}, wasm: this.wasm, lockSummaries: this.lockSummaries }, argv: entry.argv });
    const pw: PoolWorker = { w, sent: 0, blocks: new Map(), blockFiles: 0, ended: false };
    this.workers.push(pw);
    w.on('message', (m: { ready?: boolean; batch?: Result[] }) => {
      if (m.ready) return;
      const first = m.batch?.[0]?.id;
      const block = first === undefined ? undefined : pw.blocks.get(first);
      if (block !== undefined) { pw.blocks.delete(first!); pw.blockFiles -= block; }
      for (const r of m.batch ?? []) {
        pw.sent--;
        if (r.defs && this.defs) {
          this.defs.out[r.id] = r.defs;
          if (--this.defs.left === 0) { const d = this.defs; this.defs = null; d.resolve(d.out.filter(Boolean)); }
        } else this.onDone(r.id, { diagnostics: r.diagnostics ?? [], lines: r.lines ?? 0, error: r.error });
      }
      this.pump();
    });
    w.once('error', (e) => this.fail(e));
    w.once('exit', () => {
      if (pw.sent > 0 || !pw.ended) this.fail(new Error('lint worker exited early'));
      else if (++this.exited === this.workers.length) this.finish();
    });
  }

  private pump(): void {
    while (this.next < this.queue.length) {
      let best: PoolWorker | null = null;
      for (const pw of this.workers) if (pw.sent < AHEAD && (!best || pw.sent < best.sent)) best = pw;
      if (!best) break;
      best.sent++;
      const q = this.queue[this.next++]!;
      best.w.postMessage({ batch: [q.defs ? { ...this.job(q.id), defs: true } : this.job(q.id)] });
    }
    if (!this.closed || this.next < this.queue.length) return;
    for (const pw of this.workers) {
      if (pw.sent === 0 && !pw.ended) {
        pw.ended = true;
        pw.w.postMessage(null);
      }
    }
  }
}

/**
 * The first pass of a run with a lock rule on (lockpass.ts): the definitions of every file some lock
 * rule will lint, merged into the run's lock summaries, which every later lint of the run reads.
 */
async function lockSummariesPass(files: readonly string[], fileOpts: LintOptions[], pool: LintPool | null): Promise<void> {
  const ids = files.map((_, i) => i).filter((i) => lockRulesOn(fileOpts[i]!));
  let defs: RunDefinitions[];
  if (pool) {
    const sized: { id: number; bytes: number }[] = [];
    for (const id of ids) { const r = scanFile(files[id]!, lockRulesOnly(fileOpts[id]!)); if ('size' in r) sized.push({ id, bytes: r.size }); }
    defs = await pool.definitions(sized);
  } else {
    defs = [];
    for (const id of ids) defs.push(await runDefinitionsOfFile(files[id]!, fileOpts[id]!));
  }
  const summaries = mergeRunDefinitions(defs);
  if (pool) pool.share(summaries);
  else for (const o of new Set(fileOpts)) o.lockSummaries = summaries;
}

export async function lintCommand(argv: string[]): Promise<number> {
  if (argv[0] === '--kctx-worker' && !isMainThread && (workerData as { kctxLintWorker?: boolean })?.kctxLintWorker) {
    (await import('./lint-worker')).startLintWorker();
    return -1;
  }
  let args: Args | 'help';
  let baseline: ReturnType<typeof loadBaseline> | undefined;
  const files: string[] = [];
  const fileOpts: LintOptions[] = [];
  const results: FileResult[] = [];
  const totals: Totals = { files: 0, lines: 0, errors: [] };
  const tty = !!process.stderr.isTTY;
  let done = 0;
  const onDone = (i: number, r: FileLint) => {
    results[i]!.diagnostics = r.diagnostics;
    totals.lines += r.lines;
    if (r.error) totals.errors.push(r.error);
    done++;
    if (tty && (done % 16 === 0 || done === files.length)) {
      const file = files[i]!;
      process.stderr.write(`\r\x1b[Kkctx lint: [${done}/${files.length}] ${file.length > 60 ? '...' + file.slice(-57) : file}`);
    }
  };
  // A folder to lint: the workers start while it is walked, and get its files as the scan finds them.
  let pool: LintPool | null = null;
  const job = (id: number) => ({ id, file: files[id]!, fileOpts: fileOpts[id]! });
  // scanned here, and linted by a worker when the byte scan cannot settle it; or all sent to a
  // worker that has nothing to do (the walk and the scan here are then the slower part)
  const scan = (ids: number[]) => {
    if (!ids.length || pool!.offer(ids)) return;
    for (const id of ids) {
      const r = scanFile(files[id]!, fileOpts[id]!);
      if ('size' in r) pool!.add(id, r.size); else onDone(id, r);
    }
  };
  const SCAN_BLOCK = 32;
  // the files the walk gave the pool so far; once a file has a lock rule on, the walk gives none
  // (the run's first pass, lockpass.ts, must be over before such a file is linted)
  let scanned = 0;
  let lockOn = false;
  const t0 = performance.now();
  try {
    args = parseArgs(argv);
    if (args === 'help') { process.stdout.write(USAGE); return 0; }
    const want = args.jobs ?? availableParallelism();
    if (want > 1 && !args.vnetAbi && args.paths.some((p) => { try { return statSync(p).isDirectory(); } catch { return false; } })) pool = new LintPool(want, job, onDone);
    if (args.baseline) baseline = loadBaseline(args.baseline);
    // Each file's nearest .kctx.json: its exclude globs drop files, its keys give the options.
    const finder = new ConfigFinder();
    const a = args;
    const optsByCfg = new Map<ProjectConfig | null, LintOptions>();
    for (const f of eachFile(args.paths, { followSymlinks: args.followSymlinks })) {
      const c = a.noConfig ? null : finder.forFile(f);
      if (excludedBy(c, f)) continue;
      let o = optsByCfg.get(c);
      if (!o) optsByCfg.set(c, (o = optionsFor(a, c)));
      files.push(f);
      fileOpts.push(o);
      results.push({ file: f, diagnostics: [] });
      lockOn ||= lockRulesOn(o);
      if (pool && !args.vnetAbi && !lockOn && files.length % SCAN_BLOCK === 0) {
        scan(Array.from({ length: SCAN_BLOCK }, (_, k) => files.length - SCAN_BLOCK + k));
        scanned = files.length;
        // the workers' answers (they get their next files from them, or a block to scan)
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  } catch (e) {
    pool?.stop();
    if (e instanceof UsageError) { process.stderr.write(`kctx lint: ${e.message}\n${USAGE}`); return 2; }
    if (e instanceof ConfigError || e instanceof BaselineError) { process.stderr.write(`kctx lint: ${e.message}\n`); return 2; }
    throw e;
  }
  if (args.vnetAbi) return vnetAbiCommand(args.format === 'json' ? 'json' : 'text', files);
  totals.files = files.length;
  const jobs = Math.min(args.jobs ?? availableParallelism(), files.length);
  if (!pool) {
    // worker threads for 8 files or more and 256 KB or more (the sizes are added up to that only)
    let size = 0;
    for (let i = 0; i < files.length && size < 256 * 1024; i++) { try { size += statSync(files[i]!).size; } catch { /* read later: its error then */ } }
    if (jobs > 1 && files.length >= 8 && size >= 256 * 1024) pool = new LintPool(jobs, job, onDone);
  }
  if (lockOn) await lockSummariesPass(files, fileOpts, pool);
  if (pool) for (let i = scanned; i < files.length; i += SCAN_BLOCK) scan(Array.from({ length: Math.min(SCAN_BLOCK, files.length - i) }, (_, k) => i + k));
  if (pool) await pool.lintRest();
  else {
    for (let i = 0; i < files.length; i++) onDone(i, await lintFile(files[i]!, fileOpts[i]!));
  }
  if (tty) process.stderr.write('\r\x1b[K');
  if (totals.errors.length) {
    for (const e of totals.errors) process.stderr.write(`kctx lint: ${e}\n`);
    return 2;
  }
  const inBaseline = baseline ? applyBaseline(results, baseline) : 0;
  const version = (() => { try { return JSON.parse(readFileSync(join(packageRoot() ?? '.', 'package.json'), 'utf8')).version as string; } catch { return '0.0.0'; } })();
  const out = args.format === 'json' ? formatJson(results) : args.format === 'sarif' ? formatSarif(results, version, !!baseline) : formatText(results);
  process.stdout.write(out);
  const byRule = new Map<string, number>();
  let errors = 0;
  let findings = 0;
  for (const r of results) for (const d of r.diagnostics) {
    findings++;
    byRule.set(d.code, (byRule.get(d.code) ?? 0) + 1);
    if (d.severity === SEVERITY_NUMBER.error) errors++;
  }
  const secs = (performance.now() - t0) / 1000;
  const rules = [...byRule].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k, v]) => `${k} ${v}`).join(', ');
  process.stderr.write(`kctx lint: ${totals.files} file${totals.files === 1 ? '' : 's'}, ${totals.lines} lines, ${findings} finding${findings === 1 ? '' : 's'}${rules ? ` (${rules})` : ''}, ${errors} error${errors === 1 ? '' : 's'}${baseline ? `, ${inBaseline} in the baseline not shown` : ''}, ${secs.toFixed(2)} s${pool ? `, ${pool.size} worker${pool.size === 1 ? '' : 's'}` : ''}\n`);
  return errors > 0 ? 1 : 0;
}
