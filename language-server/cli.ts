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
import { formatAbiJson, formatAbiText, vnetAbiReport } from './vnet-abi';
import { MAX_READ_BYTES, UsageError, eachFile, lintFile, workerEntry } from './files';

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

type Result = { id: number; diagnostics?: KctxDiagnostic[]; lines?: number; error?: string };

/** A lint worker thread; `ready` settles when it has loaded (it may start before the files are known). */
interface PoolWorker { w: Worker; ready: Promise<void>; sent: number; onBatch?: (batch: Result[]) => void; held: Result[][] }

/** Files per batch sent while the folders are still being walked. */
const STREAM_BATCH = 32;

function startWorkers(n: number): PoolWorker[] {
  const entry = workerEntry();
  return Array.from({ length: n }, () => {
    const w = new Worker(entry.file, { workerData: { kctxLintWorker: true, opts: {} }, argv: entry.argv });
    const pw: PoolWorker = { w, ready: Promise.resolve(), sent: 0, held: [] };
    pw.ready = new Promise<void>((resolve, reject) => {
      w.on('message', (m: { ready?: boolean; batch?: Result[] }) => {
        if (m.ready) resolve();
        else if (pw.onBatch) pw.onBatch(m.batch ?? []);
        else pw.held.push(m.batch ?? []); // before runPool took the worker
      });
      w.once('error', reject);
    });
    pw.ready.catch(() => { /* runPool reports it */ });
    return pw;
  });
}

/** Lints files[start..] on the workers (files before `start` went out as batches during the walk: `sent` counts each worker's). */
async function runPool(files: string[], optsOf: (i: number) => LintOptions, workers: PoolWorker[], onDone: (i: number, r: { diagnostics: KctxDiagnostic[]; lines: number; error?: string }) => void, start = 0): Promise<void> {
  let next = start;
  // Files go in batches (most files of a tree need only a read and a trigger test: a message per
  // file would cost more than the file); small enough that the workers stay balanced.
  const batchSize = Math.max(1, Math.min(32, Math.floor(files.length / (workers.length * 8))));
  await Promise.all(workers.map((pw) => new Promise<void>((resolve, reject) => {
    const w = pw.w;
    const feed = () => {
      if (next >= files.length) { w.postMessage(null); return; }
      // smaller batches towards the end, so that no worker is left with a long one while the others wait
      const size = Math.max(1, Math.min(batchSize, Math.ceil((files.length - next) / (workers.length * 4))));
      const batch = [];
      for (; batch.length < size && next < files.length; next++) batch.push({ id: next, file: files[next], fileOpts: optsOf(next) });
      pw.sent++;
      w.postMessage({ batch });
    };
    pw.onBatch = (results) => {
      for (const r of results) onDone(r.id, { diagnostics: r.diagnostics ?? [], lines: r.lines ?? 0, error: r.error });
      if (--pw.sent === 0) feed();
    };
    w.on('error', reject);
    w.on('exit', () => {
      if (pw.sent > 0) reject(new Error('lint worker exited early'));
      else resolve();
    });
    for (const b of pw.held.splice(0)) pw.onBatch(b);
    pw.ready.then(() => { if (pw.sent === 0) feed(); }, reject);
  })));
}

export async function lintCommand(argv: string[]): Promise<number> {
  if (argv[0] === '--kctx-worker' && !isMainThread && (workerData as { kctxLintWorker?: boolean })?.kctxLintWorker) {
    (await import('./lint-worker')).startLintWorker();
    return -1;
  }
  let args: Args | 'help';
  let files: string[];
  let fileOpts: LintOptions[];
  let baseline: ReturnType<typeof loadBaseline> | undefined;
  // A folder to lint: the workers start loading while it is walked (stopped if not needed).
  let early: PoolWorker[] = [];
  let streamed = 0; // files sent to the early workers during the walk
  const stopEarly = () => { for (const pw of early) void pw.w.terminate(); early = []; };
  const t0 = performance.now();
  try {
    args = parseArgs(argv);
    if (args === 'help') { process.stdout.write(USAGE); return 0; }
    const want = args.jobs ?? availableParallelism();
    if (want > 1 && !args.vnetAbi && args.paths.some((p) => { try { return statSync(p).isDirectory(); } catch { return false; } })) early = startWorkers(want);
    if (args.baseline) baseline = loadBaseline(args.baseline);
    // Each file's nearest .kctx.json: its exclude globs drop files, its keys give the options.
    const finder = new ConfigFinder();
    const a = args;
    const optsByCfg = new Map<ProjectConfig | null, LintOptions>();
    files = [];
    fileOpts = [];
    for (const f of eachFile(args.paths, { followSymlinks: args.followSymlinks })) {
      const c = a.noConfig ? null : finder.forFile(f);
      if (excludedBy(c, f)) continue;
      let o = optsByCfg.get(c);
      if (!o) optsByCfg.set(c, (o = optionsFor(a, c)));
      files.push(f);
      fileOpts.push(o);
      // the workers start on the files found so far while the walk goes on
      if (early.length && files.length - streamed >= STREAM_BATCH) {
        const pw = early[(streamed / STREAM_BATCH) % early.length]!;
        const batch = [];
        for (; streamed < files.length; streamed++) batch.push({ id: streamed, file: files[streamed], fileOpts: fileOpts[streamed] });
        pw.sent++;
        pw.w.postMessage({ batch });
      }
    }
  } catch (e) {
    stopEarly();
    if (e instanceof UsageError) { process.stderr.write(`kctx lint: ${e.message}\n${USAGE}`); return 2; }
    if (e instanceof ConfigError || e instanceof BaselineError) { process.stderr.write(`kctx lint: ${e.message}\n`); return 2; }
    throw e;
  }
  if (args.vnetAbi) return vnetAbiCommand(args.format === 'json' ? 'json' : 'text', files);
  const results: FileResult[] = files.map((file) => ({ file, diagnostics: [] }));
  const totals: Totals = { files: files.length, lines: 0, errors: [] };
  const tty = !!process.stderr.isTTY;
  let done = 0;
  const progress = (file: string) => {
    done++;
    if (tty && (done % 16 === 0 || done === files.length)) process.stderr.write(`\r\x1b[Kkctx lint: [${done}/${files.length}] ${file.length > 60 ? '...' + file.slice(-57) : file}`);
  };
  const onDone = (i: number, r: { diagnostics: KctxDiagnostic[]; lines: number; error?: string }) => {
    results[i]!.diagnostics = r.diagnostics;
    totals.lines += r.lines;
    if (r.error) totals.errors.push(r.error);
    progress(files[i]!);
  };
  const jobs = Math.min(args.jobs ?? availableParallelism(), files.length);
  // worker threads for 8 files or more and 256 KB or more (the sizes are added up to that only)
  let size = 0;
  for (let i = 0; i < files.length && size < 256 * 1024; i++) { try { size += statSync(files[i]!).size; } catch { /* read later: its error then */ } }
  const pool = streamed > 0 || (jobs > 1 && files.length >= 8 && size >= 256 * 1024);
  if (pool) {
    // (the batches sent during the walk went to the first of them, round the list)
    const workers = early.length ? early.slice(0, jobs) : startWorkers(jobs);
    for (const pw of early.slice(jobs)) void pw.w.terminate();
    early = [];
    await runPool(files, (i) => fileOpts[i]!, workers, onDone, streamed);
  } else {
    stopEarly();
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
  process.stderr.write(`kctx lint: ${totals.files} file${totals.files === 1 ? '' : 's'}, ${totals.lines} lines, ${findings} finding${findings === 1 ? '' : 's'}${rules ? ` (${rules})` : ''}, ${errors} error${errors === 1 ? '' : 's'}${baseline ? `, ${inBaseline} in the baseline not shown` : ''}, ${secs.toFixed(2)} s${pool ? `, ${jobs} workers` : ''}\n`);
  return errors > 0 ? 1 : 0;
}
