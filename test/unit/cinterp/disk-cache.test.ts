/**
 * The preprocessed units kept on disk across processes (cinterp/disk-cache.ts): a load in a new
 * process takes the stored unit and runs byte-identically; a changed header, a header that now
 * exists earlier in the include path, other defines are misses; a truncated or corrupt cache file
 * is a miss, never an error; KCTX_CACHE=0 and `--no-cache` write nothing; the folder is bounded.
 * Files settled before the store are checked by their stat; the CLI's code cache runs the same.
 * Every cache here lives in a scratch folder (KCTX_CACHE_DIR), never the user's.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { recordedRun } from './helpers';
import { clearUnitCache } from '../../../kernel-sim/cinterp/unit-cache';
import { diskCacheStats, evict, setRacyWindow, storeUnit, loadStoredUnit } from '../../../kernel-sim/cinterp/disk-cache';
import { PosMap, type Macro } from '../../../kernel-sim/cinterp/preprocess';
import { unitCacheStats } from '../../../kernel-sim/cinterp/unit-cache';
import { scratchDir } from '../../scratch';

const DRV = [
  '#include <sys/types.h>',
  '#include <sys/cmn_err.h>',
  '#include <sys/disp.h>',
  '#include "vcpu.h"',
  '#define TWICE(x) ((x) * 2)',
  'static const char *tag = "drv";',
  'void',
  'entry(void *arg)',
  '{',
  '\tint i;',
  '\tfor (i = 0; i < 3; i++) {',
  '\t\tcmn_err(CE_NOTE, "%s %s %d %p", tag, VCPU_NAME, TWICE(i), (void *)tag);',
  '\t\tdelay(1);',
  '\t}',
  '}',
  '',
].join('\n');

interface Run { outcome: unknown; console: string[]; events: string; expanded: string }

async function load(dir: string, defines: Record<string, number> = { DEBUG: 1 }, newProcess = true): Promise<Run> {
  // Each load as in a new process: nothing kept in this one.
  if (newProcess) clearUnitCache();
  const { m, outcome, console, events } = await recordedRun(dir, { kernel: 'illumos-13917', cpus: 1, sources: ['drv.c'], includePaths: ['inc1', 'inc2'], defines, threads: [{ name: 'a', entry: 'entry' }, { name: 'b', entry: 'entry' }] });
  // The debugger's macro expansion works from a stored unit's macro table.
  const ev = m.program!.evaluate(m, undefined, undefined, 'TWICE(21)');
  return { outcome, console, events, expanded: JSON.stringify(ev) };
}

function tree(): { dir: string; cache: string } {
  const dir = scratchDir('kctx-diskcache-');
  mkdirSync(join(dir, 'inc1'));
  mkdirSync(join(dir, 'inc2'));
  writeFileSync(join(dir, 'drv.c'), DRV);
  writeFileSync(join(dir, 'inc2', 'vcpu.h'), '#define VCPU_NAME "vcpu0"\n');
  return { dir, cache: join(dir, 'cache') };
}

function withCache<T>(cache: string, f: () => Promise<T>): Promise<T> {
  const was = { dir: process.env.KCTX_CACHE_DIR, on: process.env.KCTX_CACHE };
  process.env.KCTX_CACHE_DIR = cache;
  delete process.env.KCTX_CACHE;
  return f().finally(() => {
    if (was.dir === undefined) delete process.env.KCTX_CACHE_DIR;
    else process.env.KCTX_CACHE_DIR = was.dir;
    if (was.on !== undefined) process.env.KCTX_CACHE = was.on;
  });
}

const units = (cache: string): string[] => (existsSync(join(cache, 'units')) ? readdirSync(join(cache, 'units')).filter((n) => n.endsWith('.unit')).map((n) => join(cache, 'units', n)) : []);

test('a load in a new process takes the stored unit and runs byte-identically; a changed header, a header now earlier in the include path and other defines are misses', async () => {
  const t = tree();
  await withCache(t.cache, async () => {
    const s0 = diskCacheStats();
    const cold = await load(t.dir);
    assert.equal(cold.outcome && (cold.outcome as { kind: string }).kind, 'end');
    assert.match(cold.console[0]!, /^NOTICE: drv vcpu0 0 fffffe/);
    assert.equal(diskCacheStats().stores, s0.stores + 1, 'the cold load stores its unit');
    assert.equal(units(t.cache).length, 1);
    const warm = await load(t.dir);
    assert.equal(diskCacheStats().hits, s0.hits + 1, 'the second load takes it');
    assert.deepEqual(warm, cold, 'byte-identical: outcome, console, every event, the debugger\'s macro expansion');
    assert.equal(JSON.parse(cold.expanded).value, '42');

    // A changed header: a miss, and the new text is what runs.
    writeFileSync(join(t.dir, 'inc2', 'vcpu.h'), '#define VCPU_NAME "vcpu1"\n');
    const changed = await load(t.dir);
    assert.equal(diskCacheStats().hits, s0.hits + 1);
    assert.match(changed.console[0]!, /^NOTICE: drv vcpu1 0 /);
    // The same header now also in an earlier include folder: every file read is unchanged, but
    // the search would find another one: a miss.
    writeFileSync(join(t.dir, 'inc1', 'vcpu.h'), '#define VCPU_NAME "first"\n');
    const shadowed = await load(t.dir);
    assert.equal(diskCacheStats().hits, s0.hits + 1);
    assert.match(shadowed.console[0]!, /^NOTICE: drv first 0 /);
    // Other defines: another unit.
    await load(t.dir, { DEBUG: 0 });
    assert.equal(diskCacheStats().hits, s0.hits + 1);
    // And the unchanged inputs hit again.
    const again = await load(t.dir);
    assert.equal(diskCacheStats().hits, s0.hits + 2);
    assert.deepEqual(again, shadowed);
  });
});

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 300));

test('files and folders settled before the store are checked by their stat, not read; a change, a new header earlier in the path, a file changed just before the store are still seen', async () => {
  const t = tree();
  await withCache(t.cache, async () => {
    // Files written just now are within the racy window: read and hashed at each check (a
    // window of a minute: on a loaded machine the store may come more than 2 s after the writes).
    const long = setRacyWindow(60_000_000_000n);
    let s0 = diskCacheStats();
    let cold: Run;
    try {
      cold = await load(t.dir);
      await load(t.dir);
    } finally {
      setRacyWindow(long);
    }
    assert.equal(diskCacheStats().hits, s0.hits + 1);
    assert.equal(diskCacheStats().stamped, s0.stamped, 'nothing taken by its stat');
    assert.ok(diskCacheStats().hashed > s0.hashed);
    const was = setRacyWindow(100_000_000n);
    try {
      await settle();
      // Stored again now that they have settled (a new key: other defines, then back).
      await load(t.dir, { DEBUG: 2 });
      s0 = diskCacheStats();
      const warm = await load(t.dir, { DEBUG: 2 });
      assert.equal(diskCacheStats().hits, s0.hits + 1);
      assert.ok(diskCacheStats().stamped > s0.stamped, 'files taken by their stat');
      assert.equal(diskCacheStats().hashed, s0.hashed, 'none read');
      assert.deepEqual(warm.console, cold.console);
      // Again in this process: the unit kept here is checked by the same stats.
      const u0 = unitCacheStats();
      assert.deepEqual(await load(t.dir, { DEBUG: 2 }, false), warm);
      assert.equal(unitCacheStats().hits, u0.hits + 1);
      // The same size, other bytes: the stat differs (change time), a miss in this process and on disk.
      writeFileSync(join(t.dir, 'inc2', 'vcpu.h'), '#define VCPU_NAME "vcpu9"\n');
      s0 = diskCacheStats();
      const changed = await load(t.dir, { DEBUG: 2 }, false);
      assert.equal(unitCacheStats().hits, u0.hits + 1);
      assert.equal(diskCacheStats().hits, s0.hits);
      assert.match(changed.console[0]!, /^NOTICE: drv vcpu9 0 /);
      await settle();
      await load(t.dir, { DEBUG: 3 });
      s0 = diskCacheStats();
      await load(t.dir, { DEBUG: 3 });
      assert.equal(diskCacheStats().hits, s0.hits + 1);
      assert.equal(diskCacheStats().hashed, s0.hashed);
      // A header now earlier in the include path: its folder's stat differs, its probes are asked again.
      writeFileSync(join(t.dir, 'inc1', 'vcpu.h'), '#define VCPU_NAME "first"\n');
      const shadowed = await load(t.dir, { DEBUG: 3 });
      assert.equal(diskCacheStats().hits, s0.hits + 1);
      assert.match(shadowed.console[0]!, /^NOTICE: drv first 0 /);
    } finally {
      setRacyWindow(was);
    }
  });
});

test('a truncated, corrupt or foreign cache file is a miss, never an error, and is replaced', async () => {
  const t = tree();
  await withCache(t.cache, async () => {
    const cold = await load(t.dir);
    const [file] = units(t.cache);
    assert.ok(file);
    const good = readFileSync(file);
    const cases: Array<[string, () => void]> = [
      ['truncated', () => truncateSync(file, Math.floor(good.length / 2))],
      ['empty', () => truncateSync(file, 0)],
      ['one byte of the body changed', () => {
        const b = Buffer.from(good);
        b[b.length - 10] ^= 0x20;
        writeFileSync(file, b);
      }],
      ['not ours', () => writeFileSync(file, 'garbage\n'.repeat(100))],
    ];
    for (const [what, spoil] of cases) {
      spoil();
      const h0 = diskCacheStats();
      const r = await load(t.dir);
      assert.deepEqual(r, cold, `${what}: the load is a fresh one`);
      assert.equal(diskCacheStats().hits, h0.hits, `${what}: a miss`);
      assert.deepEqual(readFileSync(file), good, `${what}: the unit is stored again`);
    }
  });
});

test('a unit whose text is not all latin1 (a path in __FILE__ beyond it) is stored and taken back the same', async () => {
  const dir = scratchDir('kctx-diskcache-');
  mkdirSync(join(dir, 'drv-\u4e2d-\u00e9'));
  writeFileSync(join(dir, 'drv-\u4e2d-\u00e9', 'drv.c'), '#include <sys/cmn_err.h>\nvoid\nentry(void *arg)\n{\n\tcmn_err(CE_NOTE, "%s:%d", __FILE__, __LINE__);\n}\n');
  const cache = join(dir, 'cache');
  const scen = { kernel: 'illumos-13917', cpus: 1, sources: ['drv-\u4e2d-\u00e9/drv.c'], threads: [{ name: 'a', entry: 'entry' }] };
  await withCache(cache, async () => {
    clearUnitCache();
    const cold = await recordedRun(dir, scen);
    assert.match(cold.console[0]!, /^NOTICE: drv-.*\/drv\.c:5$/);
    const h0 = diskCacheStats();
    clearUnitCache();
    const warm = await recordedRun(dir, scen);
    assert.equal(diskCacheStats().hits, h0.hits + 1);
    assert.deepEqual([warm.outcome, warm.console, warm.events], [cold.outcome, cold.console, cold.events]);
  });
});

test('a stored unit comes back as stored: its text (latin1 or not), position map, files and macro table', async () => {
  const dir = scratchDir('kctx-diskcache-');
  await withCache(join(dir, 'cache'), async () => {
    for (const text of ['int a = 1;\nchar *f = "x\u00e9\u00ff";\n', 'char *f = "drv-\u4e2d-\u00e9/drv.c";\nint b;\n']) {
      const i32 = (...n: number[]): Int32Array => Int32Array.from(n);
      const pos = new PosMap(i32(0, 0), i32(1, 2), i32(0, 2, 3), i32(0, 4, -7), i32(0, 4, 2147483647));
      const macro: Macro = { name: 'TWICE', fn: true, params: ['x'], variadic: false, body: [{ k: 'id', v: 'x', file: 0, line: 1, col: 2, bol: false, ws: true }] };
      const files = [{ path: '<command line>', display: '<command line>', text: '#define A 1\n' }];
      const key = `round trip ${text.length}`;
      storeUnit(key, { pp: { text, files, pos, macros: new Map([['TWICE', macro]]) }, main: 0, macros: () => new Map() }, new Map());
      const u = loadStoredUnit(key, (p) => (p === '<command line>' ? '#define A 1\n' : undefined));
      assert.ok(u, 'a hit');
      assert.equal(u.pp.text, text);
      assert.deepEqual([u.pp.pos.rowFile, u.pp.pos.rowLine, u.pp.pos.rowStart, u.pp.pos.tokOut, u.pp.pos.tokCol], [pos.rowFile, pos.rowLine, pos.rowStart, pos.tokOut, pos.tokCol]);
      assert.deepEqual(u.pp.files.map((f) => [f.path, f.display, f.text]), [['<command line>', '<command line>', '#define A 1\n']]);
      assert.deepEqual(u.macros().get('TWICE'), macro);
      // Another text kctx would make now: a miss.
      assert.equal(loadStoredUnit(key, () => '#define A 2\n'), null);
    }
  });
});

test('KCTX_CACHE=0 writes and reads nothing', async () => {
  const t = tree();
  const was = process.env.KCTX_CACHE;
  process.env.KCTX_CACHE = '0';
  process.env.KCTX_CACHE_DIR = t.cache;
  try {
    const s0 = diskCacheStats();
    await load(t.dir);
    await load(t.dir);
    assert.deepEqual(diskCacheStats(), s0);
    assert.equal(existsSync(t.cache), false);
  } finally {
    if (was === undefined) delete process.env.KCTX_CACHE;
    else process.env.KCTX_CACHE = was;
    delete process.env.KCTX_CACHE_DIR;
  }
});

test('the cache folder is bounded: past the limit the least recently used units go first', () => {
  const d = join(scratchDir('kctx-diskcache-evict-'), 'units');
  mkdirSync(d, { recursive: true });
  for (let i = 0; i < 5; i++) {
    const p = join(d, `u${i}.unit`);
    writeFileSync(p, Buffer.alloc(1000));
    utimesSync(p, 1000 + i, 1000 + i); // u0 is the oldest
  }
  writeFileSync(join(d, 'other.txt'), Buffer.alloc(5000)); // not a unit: left alone
  evict(d, 3000);
  assert.deepEqual(readdirSync(d).sort(), ['other.txt', 'u2.unit', 'u3.unit', 'u4.unit']);
  evict(d, 3000);
  assert.equal(readdirSync(d).length, 4, 'under the limit: nothing removed');
  assert.equal(statSync(join(d, 'u4.unit')).size, 1000);
});

test('kctx run: a second process with a warm cache prints the same bytes; --no-cache writes nothing', () => {
  const t = tree();
  writeFileSync(join(t.dir, 'test.ksim.json'), JSON.stringify({ kernel: 'illumos-13917', cpus: 1, sources: ['drv.c'], includePaths: ['inc1', 'inc2'], threads: [{ name: 'a', entry: 'entry' }] }));
  const kctx = join(__dirname, '../../../../dist/kctx.js');
  const run = (cache: string, ...extra: string[]) => spawnSync(process.execPath, [kctx, 'run', join(t.dir, 'test.ksim.json'), '--stats', '--mdb', '::threadlist', ...extra], { encoding: 'utf8', env: { ...process.env, KCTX_CACHE: '1', KCTX_CACHE_DIR: cache } });
  const cold = run(t.cache);
  assert.equal(cold.status, 0, cold.stderr);
  assert.equal(units(t.cache).length, 1);
  const before = statSync(units(t.cache)[0]!).mtimeMs;
  const warm = run(t.cache);
  assert.equal(warm.status, 0, warm.stderr);
  assert.equal(warm.stdout, cold.stdout);
  assert.equal(warm.stderr, cold.stderr);
  assert.ok(statSync(units(t.cache)[0]!).mtimeMs >= before);
  // The first process left V8's code cache of the CLI's bundle (core/code-cache.ts); a process
  // that runs from it prints the same bytes.
  assert.equal(readdirSync(join(t.cache, 'code')).filter((n) => n.endsWith('.v8')).length, 1);
  const fromCode = run(t.cache);
  assert.equal(fromCode.stdout, cold.stdout);
  assert.equal(fromCode.stderr, cold.stderr);
  const off = join(t.dir, 'cache-off');
  const none = run(off, '--no-cache');
  assert.equal(none.status, 0, none.stderr);
  assert.equal(none.stdout, cold.stdout);
  assert.equal(existsSync(off), false);
});
