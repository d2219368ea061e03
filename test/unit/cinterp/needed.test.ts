/**
 * With a kernel tree, a load declares only the header constructs its driver needs once an
 * earlier load (this process's or another's) found them (cinterp/needed.ts): the run is
 * byte-identical to a load of the whole unit (the cache off) (outcome, console, events,
 * addresses of header data), the debugger still sees the types the driver never used, and a
 * driver error naming a header declaration that failed says the same. A changed header is a new
 * unit; a corrupt record of the needs is a whole load. The syntax tree of the needed constructs
 * is kept too: a new process revives it and parses nothing; it is the tree a parse of only them
 * gives; a damaged one is parsed again. Against the fixture tree
 * (test/fixtures/gate); every cache in a scratch folder.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { recordedRun, REPO } from './helpers';
import { createKernel } from '../../../kernel-sim/kernel';
import { scenarioFromObject } from '../../../kernel-sim/scenario';
import { loadDriver } from '../../../kernel-sim/cinterp/index';
import { clearUnitCache } from '../../../kernel-sim/cinterp/unit-cache';
import { neededStats } from '../../../kernel-sim/cinterp/needed';
import { compiledStats } from '../../../kernel-sim/cinterp/compiled';
import { scratchDir } from '../../scratch';

const GATE = join(REPO, 'test/fixtures/gate');

const HEADER = [
  '#ifndef _MYDEV_H',
  '#define _MYDEV_H',
  '#include <sys/types.h>',
  'typedef struct mydev_stats { uint32_t ms_loads; uint64_t ms_bytes; } mydev_stats_t;',
  'typedef enum { MD_IDLE, MD_BUSY = 4 } mydev_state_t;',
  'struct mydev_unused { int mu_a; long mu_b; char mu_c[3]; };',
  'typedef struct mydev_unused mydev_unused_t;',
  'enum mydev_color { MC_RED = 7, MC_BLUE };',
  'typedef struct mydev_broken { struct mydev_nosuch mb_x; } mydev_broken_t;',
  // Fails, declares nothing the driver names, but is what a driver error about the type recalls.
  'typedef mydev_missing_t mydev_alias_t;',
  'static int mydev_hdr_data = 5;',
  'static inline int mydev_twice(int x) { return (x * 2); }',
  'static inline int mydev_unused_fn(int x) { return (x + MC_RED); }',
  'extern int mydev_prototype(mydev_unused_t *);',
  'extern int hz;',
  'extern mydev_unused_t mydev_extern_unused;',
  '#endif',
  '',
].join('\n');

const DRV = [
  '#include <sys/types.h>',
  '#include <sys/proc.h>',
  '#include <sys/cmn_err.h>',
  '#include "mydev.h"',
  'static mydev_stats_t stats;',
  'void',
  'entry(void *arg)',
  '{',
  '\tmydev_state_t st = MD_BUSY;',
  '\tstats.ms_loads = mydev_twice(21);',
  '\tcmn_err(CE_NOTE, "loads %u state %d data %d at %p %p size %d", stats.ms_loads, st,',
  '\t    mydev_hdr_data, (void *)&stats, (void *)&mydev_hdr_data, (int)sizeof (struct ctxop));',
  '}',
  '',
].join('\n');

/** A driver whose error names a header declaration that failed. */
const BAD = DRV.replace('static mydev_stats_t stats;', 'static mydev_stats_t stats;\nstatic mydev_broken_t broken;\nstatic mydev_missing_t missing;');

interface Seen {
  outcome: string;
  console: string[];
  events: string;
  layout: string;
  values: string[];
  symbols: string[];
}

function folder(): { dir: string; cache: string } {
  const dir = scratchDir('kctx-needed-');
  mkdirSync(join(dir, 'inc'));
  writeFileSync(join(dir, 'inc', 'mydev.h'), HEADER);
  writeFileSync(join(dir, 'drv.c'), DRV);
  writeFileSync(join(dir, 'bad.c'), BAD);
  return { dir, cache: join(dir, 'cache') };
}

/** Runs `f` with the disk cache in `cache` (null: off), the process's unit cache first cleared when `newProcess`. */
async function withCache<T>(cache: string | null, newProcess: boolean, f: () => Promise<T>): Promise<T> {
  const was = { dir: process.env.KCTX_CACHE_DIR, on: process.env.KCTX_CACHE };
  if (cache) {
    process.env.KCTX_CACHE_DIR = cache;
    delete process.env.KCTX_CACHE;
  } else process.env.KCTX_CACHE = '0';
  if (newProcess) clearUnitCache();
  try {
    return await f();
  } finally {
    if (was.dir === undefined) delete process.env.KCTX_CACHE_DIR;
    else process.env.KCTX_CACHE_DIR = was.dir;
    if (was.on === undefined) delete process.env.KCTX_CACHE;
    else process.env.KCTX_CACHE = was.on;
  }
}

async function load(dir: string, cache: string | null, newProcess: boolean, src = 'drv.c'): Promise<Seen> {
  return withCache(cache, newProcess, async () => {
    try {
      const { m, outcome, console, events } = await recordedRun(dir, { kernel: 'illumos-13917', gate: GATE, includePaths: ['inc'], cpus: 1, sources: [src], threads: [{ name: 't0', entry: 'entry' }] });
      const p = m.program!;
      const ev = (e: string) => JSON.stringify(p.evaluate(m, undefined, undefined, e));
      return {
        outcome: JSON.stringify(outcome),
        console,
        events,
        layout: JSON.stringify([p.typeLayout('struct mydev_unused'), p.typeLayout('mydev_unused_t'), p.typeLayout('mydev_stats_t'), p.typeLayout('kthread_t')]),
        values: [ev('sizeof (mydev_unused_t)'), ev('MC_BLUE'), ev('((struct mydev_unused *)0)->mu_c'), ev('stats.ms_loads'), ev('(mydev_state_t)4'),
          // Names of a header's prototype and extern variables the driver never uses.
          ev('mydev_prototype'), ev('sizeof (mydev_prototype(0))'), ev('hz'), ev('&hz'), ev('sizeof (mydev_extern_unused)'), ev('&mydev_extern_unused')],
        symbols: [...new Set(p.symbols())].sort(),
      };
    } catch (e) {
      return { outcome: `error: ${(e as Error).message}`, console: [], events: '', layout: '', values: [], symbols: [] };
    }
  });
}

/** The records of what the driver's unit needs (not those of the tree's layouts). */
const needsFiles = (cache: string): string[] =>
  readdirSync(join(cache, 'units')).map((n) => join(cache, 'units', n)).filter((f) => /"key":"needs \w+ \w/.test(readFileSync(f, 'latin1')) && !readFileSync(f, 'latin1').includes(' layouts '));

/** The kept syntax trees of what the driver's unit needs (not those of the tree's layouts). */
const treeFiles = (cache: string): string[] =>
  readdirSync(join(cache, 'units')).map((n) => join(cache, 'units', n)).filter((f) => /"key":"tree \w+ \w/.test(readFileSync(f, 'latin1')) && !readFileSync(f, 'latin1').includes(' layouts '));

test('a load that declares only what its driver needs of the tree runs byte-identically: in this process, in a new one, with the cache off', async () => {
  const t = folder();
  const off = await load(t.dir, null, true);
  assert.match(off.console[0]!, /^NOTICE: loads 42 state 4 data 5 at fffffe\w+ fffffe\w+ size \d+$/);
  assert.equal(JSON.parse(off.layout)[0].size, 24);
  assert.ok(off.symbols.includes('struct mydev_unused') && off.symbols.includes('mydev_unused_t'));
  const s0 = neededStats();
  const cold = await load(t.dir, t.cache, true);
  assert.deepEqual(cold, off);
  assert.equal(neededStats().found, s0.found + 1, 'the first load finds what the driver needs');
  assert.equal(neededStats().partial, s0.partial + 1, 'and declares only that');
  assert.equal(needsFiles(t.cache).length, 1, 'and keeps it beside the unit');
  const again = await load(t.dir, t.cache, false);
  assert.deepEqual(again, off);
  assert.equal(neededStats().partial, s0.partial + 2, 'again in this process');
  const warm = await load(t.dir, t.cache, true);
  assert.deepEqual(warm, off);
  assert.equal(neededStats().partial, s0.partial + 3, 'in a new process');
  assert.equal(neededStats().parsed, s0.parsed + 1, 'with a tree of only them');
  assert.equal(neededStats().revived, s0.revived + 3, 'revived from disk, not parsed (the layouts\' tree on each load, the driver\'s in the new process)');
  assert.equal(neededStats().found, s0.found + 1);
  // The cache off in the same process: the whole unit again, from the partial one kept.
  assert.deepEqual(await load(t.dir, null, false), off);
  assert.equal(neededStats().partial, s0.partial + 3);
});

test('a driver error naming a header declaration that failed reads the same from a partial load', async () => {
  const t = folder();
  const off = await load(t.dir, null, true, 'bad.c');
  assert.match(off.outcome, /^error: .*bad\.c:6:\d+: .*mydev_broken_t.*\(its declaration at .*mydev\.h:9:\d+ was not understood: /);
  assert.match(off.outcome, /bad\.c:7:\d+: .*mydev_missing_t.*\(its declaration at .*mydev\.h:10:\d+ was not understood: /);
  const s0 = neededStats();
  assert.deepEqual(await load(t.dir, t.cache, true, 'bad.c'), off);
  assert.deepEqual(await load(t.dir, t.cache, false, 'bad.c'), off);
  assert.deepEqual(await load(t.dir, t.cache, true, 'bad.c'), off);
  assert.equal(neededStats().partial, s0.partial + 3);
});

test('a changed header is a new unit whose needs are found again; a corrupt record of the needs is a whole load', async () => {
  const t = folder();
  await load(t.dir, t.cache, true);
  // The driver now uses a type it did not: it must be declared (it was not needed before).
  writeFileSync(join(t.dir, 'drv.c'), DRV.replace('\tmydev_state_t st = MD_BUSY;', '\tmydev_state_t st = MD_BUSY + sizeof (mydev_unused_t);'));
  const off = await load(t.dir, null, true);
  assert.match(off.console[0]!, /^NOTICE: loads 42 state 28 /);
  const s0 = neededStats();
  assert.deepEqual(await load(t.dir, t.cache, true), off);
  assert.equal(neededStats().found, s0.found + 1, 'the stored needs were for the old unit');
  assert.deepEqual(await load(t.dir, t.cache, true), off);
  assert.equal(neededStats().parsed, s0.parsed + 1);
  // One flipped byte, then a truncated file: whole loads, the same run, the needs stored again.
  for (const damage of [(b: Buffer) => { b[b.length - 5] ^= 1; return b; }, (b: Buffer) => b.subarray(0, 100)]) {
    const files = needsFiles(t.cache);
    assert.equal(files.length, 2, 'the old unit\'s and the new one\'s');
    for (const f of files) writeFileSync(f, damage(readFileSync(f)));
    const s1 = neededStats();
    assert.deepEqual(await load(t.dir, t.cache, true), off);
    assert.equal(neededStats().parsed, s1.parsed, 'a damaged record is not used');
    assert.equal(neededStats().found, s1.found + 1);
  }
});

test('the kept tree of the needed constructs is what parsing only them gives; a damaged one is parsed again', async () => {
  const t = folder();
  const off = await load(t.dir, null, true);
  assert.deepEqual(await load(t.dir, t.cache, true), off);
  // Kept by the first load: its whole tree pruned to the needed constructs.
  const [file] = treeFiles(t.cache);
  assert.ok(file, 'the first load keeps the tree');
  const pruned = readFileSync(file);
  // Without it, a new process parses only the needed constructs and keeps that tree: the same bytes.
  writeFileSync(file, pruned.subarray(0, 10));
  let s0 = neededStats();
  assert.deepEqual(await load(t.dir, t.cache, true), off);
  assert.equal(neededStats().parsed, s0.parsed + 1);
  assert.equal(neededStats().revived, s0.revived + 1, 'only the layouts\' tree is revived');
  assert.deepEqual(readFileSync(file), pruned);
  s0 = neededStats();
  assert.deepEqual(await load(t.dir, t.cache, true), off);
  assert.equal(neededStats().revived, s0.revived + 2);
  // One flipped byte in the tables: parsed again, the same run.
  const flipped = Buffer.from(pruned);
  flipped[flipped.length - 9] ^= 0x40;
  writeFileSync(file, flipped);
  s0 = neededStats();
  assert.deepEqual(await load(t.dir, t.cache, true), off);
  assert.equal(neededStats().revived, s0.revived + 1);
  assert.deepEqual(readFileSync(file), pruned);
});

test('kctx run: a new process whose trees are revived never loads the C parser, and prints the same bytes; it loads it to parse (a damaged tree) and for --mdb', () => {
  const t = folder();
  const scen = join(t.dir, 'drv.ksim.json');
  writeFileSync(scen, JSON.stringify({ kernel: 'illumos-13917', gate: GATE, includePaths: ['inc'], cpus: 1, sources: ['drv.c'], threads: [{ name: 't0', entry: 'entry' }] }));
  // Counts the WebAssembly modules the process instantiates (tree-sitter's runtime and grammar: two).
  const hook = join(t.dir, 'wasm-count.js');
  writeFileSync(hook, "const fs = require('fs'); const i = WebAssembly.instantiate; let n = 0;\nWebAssembly.instantiate = function () { n++; return i.apply(this, arguments); };\nprocess.on('exit', () => fs.writeFileSync(process.env.WASM_COUNT, String(n)));\n");
  const count = join(t.dir, 'wasm-count');
  const kctx = join(REPO, 'dist/kctx.js');
  const run = (...extra: string[]): { out: string; wasm: number } => {
    const r = spawnSync(process.execPath, ['-r', hook, kctx, 'run', scen, '--stats', ...extra], { encoding: 'utf8', env: { ...process.env, KCTX_CACHE: '1', KCTX_CACHE_DIR: t.cache, WASM_COUNT: count } });
    return { out: `${r.status}\n${r.stdout}${r.stderr}`, wasm: Number(readFileSync(count, 'utf8')) };
  };
  const off = run('--no-cache');
  assert.match(off.out, /^0\n.*NOTICE: loads 42 state 4 /s);
  assert.equal(off.wasm, 2, 'the cache off: parsed');
  const cold = run();
  assert.deepEqual(cold, off, 'cold: the parser loaded on demand, the units made again');
  const warm = run();
  assert.deepEqual(warm, { out: off.out, wasm: 0 }, 'warm: every tree revived, no parser');
  // The layouts' kept tree damaged: the driver's tree is revived, the layouts' parsed (the parser loaded then).
  const layoutsTree = readdirSync(join(t.cache, 'units')).map((n) => join(t.cache, 'units', n)).filter((f) => /"key":"tree \w+ \w/.test(readFileSync(f, 'latin1')) && readFileSync(f, 'latin1').includes(' layouts '));
  assert.equal(layoutsTree.length, 1);
  writeFileSync(layoutsTree[0]!, 'damaged');
  assert.deepEqual(run(), off);
  assert.deepEqual(run(), { out: off.out, wasm: 0 }, 'kept again');
  // The debugger's commands parse (a header type the driver never uses).
  const mdb = ['--mdb', '::print -t struct mydev_unused', '--mdb', '::sizeof mydev_unused_t'];
  const offMdb = run('--no-cache', ...mdb);
  assert.match(offMdb.out, /struct mydev_unused \{[\s\S]*mu_c[\s\S]*sizeof \(mydev_unused_t\) = 0x18/);
  assert.deepEqual(run(...mdb), offMdb);
});

/**
 * A driver whose functions place string literals and static locals (with initial values), link a
 * kernel function mapped on first use (bzero, membar_producer), an auto stub and stub data, define
 * a struct in a block, and declare a function in a body; one function never runs, yet its
 * literal and static sit before those of the functions that do.
 */
const LAZY = [
  '#include <sys/types.h>',
  '#include <sys/proc.h>',
  '#include <sys/cmn_err.h>',
  '#include <sys/atomic.h>',
  '#include "mydev.h"',
  'extern void bzero(void *, size_t);',
  'extern int mydev_hook(int);',
  'extern int mydev_hook_data;',
  'static mydev_stats_t stats;',
  'static const char *',
  'never_called(void)',
  '{',
  '\tstatic int seen = 3;',
  '\tstruct unseen { long u; } us = { 1 };',
  '\tseen += us.u;',
  '\treturn ("placed first, never run");',
  '}',
  'static int',
  'counter(void)',
  '{',
  '\tstatic int n = 40;',
  '\tstatic const char *who = "counter";',
  '\tstruct pair { int a; int b; } p = { 1, 2 };',
  '\tstruct mydev_opaque *op = 0;',
  '\tif (op == 0)',
  '\t\tn++;',
  '\treturn (n + p.b - 2 + (who[0] == \'c\'));',
  '}',
  'static void',
  'note(const char *what)',
  '{',
  '\textern void mydev_probe(int);',
  '\tcmn_err(CE_NOTE, "%s %s at %p", what, __func__, (void *)what);',
  '}',
  'void',
  'entry(void *arg)',
  '{',
  '\tchar buf[8];',
  '\tbzero(buf, sizeof (buf));',
  '\tmembar_producer();',
  '\tnote("first");',
  '\tstats.ms_loads = counter() + mydev_twice(0);',
  '\tcmn_err(CE_NOTE, "count %d hook %d data %p never %p", stats.ms_loads, mydev_hook(1), (void *)&mydev_hook_data, (void *)never_called);',
  '\tnote("second");',
  '}',
  '',
].join('\n');

/** The compile records of a cache folder. */
const compiledFiles = (cache: string): string[] =>
  readdirSync(join(cache, 'units')).map((n) => join(cache, 'units', n)).filter((f) => readFileSync(f, 'latin1').includes('"key":"compiled '));

async function lazyLoad(dir: string, cache: string | null, newProcess: boolean): Promise<{ seen: string[]; stats: ReturnType<typeof compiledStats> }> {
  return withCache(cache, newProcess, async () => {
    const s0 = compiledStats();
    const m = await createKernel(scenarioFromObject({ kernel: 'illumos-13917', gate: GATE, includePaths: ['inc'], cpus: 1, sources: ['lazy.c'], stubs: 'auto', threads: [{ name: 't0', entry: 'entry' }] }, join(dir, 'lazy.ksim.json'), dir), { loadDriver });
    const p = m.program!;
    // Before the run (a debugger stopped on entry): a function a body declares is known file-wide.
    const early = JSON.stringify(p.evaluate(m, undefined, undefined, 'mydev_probe'));
    const console: string[] = [];
    const events: unknown[] = [];
    m.onConsole = (l) => console.push(l);
    m.sink = { event: (e) => events.push(e) };
    const outcome = m.run(1_000_000);
    const s1 = compiledStats();
    const stats = { stored: s1.stored - s0.stored, replayed: s1.replayed - s0.replayed, pending: s1.pending - s0.pending, compiled: s1.compiled - s0.compiled };
    const seen = [JSON.stringify(outcome), ...console, JSON.stringify(events), early,
      // The debugger: a struct declared in a function that never ran, the globals with the statics,
      // a block's struct type, every function's lines, the symbols.
      JSON.stringify(p.typeLayout('struct unseen')), JSON.stringify(p.globals(m)), JSON.stringify(p.typeLayout('struct pair')), JSON.stringify(p.statementLines(join(dir, 'lazy.c'))),
      JSON.stringify(p.evaluate(m, undefined, undefined, 'mydev_probe')), JSON.stringify([...new Set(p.symbols())].sort()),
      JSON.stringify(m.sym.all().map((x) => [x.name, x.addr, x.module])), JSON.stringify([...m.sym.data]), JSON.stringify(m.dataRoots), String(m.mem.top)];
    return { seen, stats };
  });
}

test('a warm load compiles each function on first need, with the addresses and bytes of a cold load; a damaged record is an eager compile; a changed header misses', async () => {
  const t = folder();
  writeFileSync(join(t.dir, 'lazy.c'), LAZY);
  const off = await lazyLoad(t.dir, null, true);
  assert.match(off.seen[1]!, /^NOTICE: first note at fffffe\w+$/);
  assert.match(off.seen[2]!, /^NOTICE: count 42 hook 0 data fffffe\w+ never fffffe\w+$/);
  assert.match(off.seen[5]!, /"name":"mydev_probe","type":"void \(\*\)\(int\)"/);
  assert.equal(off.seen[6], '{"name":"struct unseen","size":8,"fields":[{"name":"u","type":"long","offset":0,"size":8}]}');
  assert.deepEqual(off.stats, { stored: 0, replayed: 0, pending: 0, compiled: 0 }, 'the cache off: compiled at load');
  const cold = await lazyLoad(t.dir, t.cache, true);
  assert.deepEqual(cold.seen, off.seen);
  assert.deepEqual(cold.stats, { stored: 1, replayed: 0, pending: 0, compiled: 0 }, 'cold: compiled at load, recorded');
  assert.equal(compiledFiles(t.cache).length, 1);
  const warm = await lazyLoad(t.dir, t.cache, true);
  assert.deepEqual(warm.seen, off.seen);
  // never_called, counter, note, entry and the header's mydev_twice and mydev_unused_fn are
  // pending; the run compiles note (it declares a function: at the start), entry, counter and
  // mydev_twice; the others only when the debugger asks for every function's lines.
  assert.deepEqual(warm.stats, { stored: 0, replayed: 1, pending: 6, compiled: 4 }, 'warm: compiled on first need');
  const again = await lazyLoad(t.dir, t.cache, false);
  assert.deepEqual(again.seen, off.seen);
  assert.equal(again.stats.replayed, 1, 'again in this process: the record replayed too');
  // A damaged record (a flipped byte, then cut short) is not used: compiled at load, recorded again.
  for (const damage of [(b: Buffer) => { b[b.length - 7] ^= 4; return b; }, (b: Buffer) => b.subarray(0, 60)]) {
    const [file] = compiledFiles(t.cache);
    writeFileSync(file!, damage(readFileSync(file!)));
    const r = await lazyLoad(t.dir, t.cache, true);
    assert.deepEqual(r.seen, off.seen);
    assert.deepEqual(r.stats, { stored: 1, replayed: 0, pending: 0, compiled: 0 });
    assert.equal((await lazyLoad(t.dir, t.cache, true)).stats.replayed, 1);
  }
  // A changed header: another unit, whose compile is recorded anew (no record of the old one fits).
  writeFileSync(join(t.dir, 'inc', 'mydev.h'), HEADER.replace('static int mydev_hdr_data = 5;', 'static int mydev_hdr_data = 5;\nstatic const char mydev_banner[] = "moved";'));
  const offChanged = await lazyLoad(t.dir, null, true);
  const changed = await lazyLoad(t.dir, t.cache, true);
  assert.deepEqual(changed.seen, offChanged.seen);
  assert.deepEqual(changed.stats, { stored: 1, replayed: 0, pending: 0, compiled: 0 }, 'a changed header misses');
  assert.notDeepEqual(offChanged.seen, off.seen, 'the new header moves the driver\'s data');
  const warmChanged = await lazyLoad(t.dir, t.cache, true);
  assert.deepEqual(warmChanged.seen, offChanged.seen);
  assert.equal(warmChanged.stats.replayed, 1);
});

test('kctx run: a warm new process compiles on first need without the C parser (a tag no header declares is not looked up late), and prints the same bytes', () => {
  const t = folder();
  writeFileSync(join(t.dir, 'lazy.c'), LAZY);
  const scen = join(t.dir, 'lazy.ksim.json');
  writeFileSync(scen, JSON.stringify({ kernel: 'illumos-13917', gate: GATE, includePaths: ['inc'], cpus: 1, sources: ['lazy.c'], stubs: 'auto', threads: [{ name: 't0', entry: 'entry' }] }));
  const run = (...extra: string[]): string => {
    const r = spawnSync(process.execPath, [join(REPO, 'dist/kctx.js'), 'run', scen, '--stats', ...extra], { encoding: 'utf8', env: { ...process.env, KCTX_CACHE: '1', KCTX_CACHE_DIR: t.cache } });
    return `${r.status}\n${r.stdout}${r.stderr}`;
  };
  const off = run('--no-cache');
  assert.match(off, /^0\n.*NOTICE: count 42 hook 0 /s);
  assert.equal(run(), off, 'cold');
  assert.equal(compiledFiles(t.cache).length, 1);
  assert.equal(run(), off, 'warm');
  const mdb = ['--mdb', '::print -t struct pair', '--mdb', '::nm'];
  assert.equal(run(...mdb), run('--no-cache', ...mdb), 'warm, with the debugger\'s commands');
});
