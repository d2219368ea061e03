/**
 * Building against a kernel tree ("gate", "includePaths"): the flags of a real i86pc module
 * build read from the tree's makefiles, gcc's predefined macros, the include path (a compat
 * folder first, #include_next), the era the headers declare, and the scenario keys' errors.
 * Runs against test/fixtures/gate, a small tree in the shape of illumos-gate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gateBuild, gateBuildStats, clearGateBuilds } from '../../../kernel-sim/gate/build';
import { setRacyWindow } from '../../../kernel-sim/cinterp/disk-cache';
import { gateEra, searchRoots } from '../../../kernel-sim/gate/tree';
import { loadScenarioFile, scenarioFromObject, ScenarioError } from '../../../kernel-sim/scenario';
import { createKernel } from '../../../kernel-sim/kernel';
import { loadDriver } from '../../../kernel-sim/cinterp/index';
import { REPO } from '../cinterp/helpers';
import { scratchDir } from '../../scratch';

const GATE = join(REPO, 'test/fixtures/gate');
const DRV = join(REPO, 'test/fixtures/gatedrv');
const KCTX = join(REPO, 'dist', 'kctx.js');

function kctx(...args: string[]) {
  const r = spawnSync(process.execPath, [KCTX, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function scenarioError(f: () => unknown): ScenarioError {
  try {
    f();
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  assert.fail('expected a ScenarioError');
}

test('the makefiles give the include path and -D/-U of a 64-bit i86pc module build, in make order', () => {
  const b = gateBuild(GATE, true);
  const uts = join(GATE, 'usr/src/uts');
  assert.deepEqual(b.includeDirs, [join(uts, 'i86pc'), join(GATE, 'usr/src/common'), join(uts, 'i86xpv'), join(uts, 'common/xen'), join(uts, 'intel'), join(uts, 'common')]);
  assert.deepEqual(b.defines, [
    ['_KERNEL', '1'], ['_SYSCALL32', '1'], ['_SYSCALL32_IMPL', '1'], ['_ELF64', '1'], ['_DDI_STRICT', '1'], ['sun', '1'], ['__sun', '1'], ['__SVR4', '1'],
    ['i86pc', '1'], ['_MACHDEP', '1'], ['OPTERON_ERRATUM_88', '1'], ['KCTX_FIXTURE_WORKAROUND', '7'], ['DEBUG', '1'], ['_ASM_INLINES', '1'],
  ]);
  // A non-DEBUG build has no -DDEBUG; the target-specific trap.o flags are never global.
  const nd = gateBuild(GATE, false);
  assert.equal(nd.defines.some(([n]) => n === 'DEBUG' || n === 'TRAPTRACE'), false);
  assert.deepEqual(b.makefiles.map((p) => p.slice(uts.length + 1)), ['i86pc/Makefile.i86pc', 'i86pc/Makefile.files', 'intel/Makefile.files', 'common/Makefile.files', 'Makefile.uts', 'i86pc/Makefile.workarounds']);
});

test('the build read from the makefiles is kept on disk for the next process, used while every makefile tried has its settled stat', async () => {
  const dir = scratchDir('kctx-gatebuild-');
  const gate = join(dir, 'gate');
  cpSync(join(GATE, 'usr/src/uts'), join(gate, 'usr/src/uts'), { recursive: true, filter: (p) => !/\.[ch]$/.test(p) });
  const was = { dir: process.env.KCTX_CACHE_DIR, window: setRacyWindow(100_000_000n) };
  process.env.KCTX_CACHE_DIR = join(dir, 'cache');
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 300));
  try {
    await settle();
    const s0 = gateBuildStats();
    const first = gateBuild(gate, true);
    assert.deepEqual(first.includeDirs, gateBuild(GATE, true).includeDirs.map((d) => d.replace(GATE, gate)));
    clearGateBuilds();
    assert.deepEqual(gateBuild(gate, true), first);
    assert.equal(gateBuildStats().kept, s0.kept + 1, 'the second process takes the kept build');
    // A changed makefile: read again, with its new flag (and not kept: it changed just now).
    appendFileSync(join(gate, 'usr/src/uts/Makefile.uts'), 'ALWAYS_DEFS += -DKCTX_CHANGED\n');
    clearGateBuilds();
    const s1 = gateBuildStats();
    const changed = gateBuild(gate, true);
    assert.equal(gateBuildStats().read, s1.read + 1);
    assert.ok(changed.defines.some(([n]) => n === 'KCTX_CHANGED'));
    clearGateBuilds();
    gateBuild(gate, true);
    assert.equal(gateBuildStats().read, s1.read + 2, 'a makefile changed within the racy window is read again');
    await settle();
    clearGateBuilds();
    gateBuild(gate, true);
    clearGateBuilds();
    assert.deepEqual(gateBuild(gate, true), changed);
    assert.equal(gateBuildStats().kept, s1.kept + 1);
  } finally {
    setRacyWindow(was.window);
    if (was.dir === undefined) delete process.env.KCTX_CACHE_DIR;
    else process.env.KCTX_CACHE_DIR = was.dir;
    clearGateBuilds();
  }
});

test('a driver built against the fixture gate: gcc and makefile macros, compat folder first with #include_next, real struct sizes', async () => {
  const s = loadScenarioFile(join(DRV, 'drv.ksim.json'));
  assert.equal(s.gate, GATE);
  assert.equal(s.builtFor, 'illumos-13917');
  assert.deepEqual(s.includePaths, [join(GATE, 'usr/src/compat/drv')]);
  assert.equal(searchRoots(s).includeDirs[0], join(GATE, 'usr/src/compat/drv'));
  const m = await createKernel(s, { loadDriver });
  const out: string[] = [];
  m.onConsole = (l) => out.push(l);
  assert.equal(m.run(1_000_000).kind, 'end');
  assert.deepEqual(out, [
    'NOTICE: gnuc 10.4 stdc 199901 i86pc 1 workaround 7 debug 1',
    'NOTICE: compat 2 gnu99 1 rev 1 size 88',
  ]);
});

test('builtFor comes from the headers; a builtFor that contradicts them is an error at its key', () => {
  const base = { kernel: 'illumos-13917', gate: GATE, sources: ['drv.c'], threads: [{ name: 't0', entry: 'entry' }] };
  const e = scenarioError(() => scenarioFromObject({ builtFor: 'illumos-13915', ...base }, join(DRV, 'x.ksim.json'), DRV));
  assert.equal(`${e.line}:${e.column}`, '2:15');
  assert.match(e.reason, /^"builtFor": "illumos-13915" contradicts the gate's headers: .*usr\/src\/uts\/common\/sys\/proc\.h declares struct ctxop_template \(illumos-13917\)/);
  // The running kernel may differ (a driver built for one era on another kernel).
  assert.equal(scenarioFromObject({ ...base, kernel: 'illumos-13915' }, join(DRV, 'x.ksim.json'), DRV).builtFor, 'illumos-13917');
});

test('the era a tree declares: template 13917, 9-argument installctx 13915, ctxop prev link 12477, else before 12477', () => {
  const tree = (proc: string, thread: string) => {
    const d = scratchDir('kctx-gate-');
    mkdirSync(join(d, 'usr/src/uts/common/sys'), { recursive: true });
    writeFileSync(join(d, 'usr/src/uts/common/sys/proc.h'), proc);
    writeFileSync(join(d, 'usr/src/uts/common/sys/thread.h'), thread);
    return d;
  };
  const eight = 'extern\tvoid\tinstallctx(kthread_t *, void *, void (*)(), void (*)(),\n    void (*)(), void (*)(), void (*)(), void (*)());\n';
  const nine = 'extern\tvoid\tinstallctx(kthread_t *, void *, void (*)(), void (*)(),\n    void (*)(), void (*)(), void (*)(), void (*)(), struct ctxop *);\n';
  const ring = 'typedef struct ctxop {\n\tvoid *arg;\n\tstruct ctxop *next;\n\tstruct ctxop *prev;\t/* previous */\n} ctxop_t;\n';
  const list = 'typedef struct ctxop {\n\tvoid *arg;\n\tstruct ctxop *next;\n} ctxop_t;\n/* struct ctxop *prev; in a comment does not count */\n';
  assert.equal(gateEra(tree(nine, ring)).era, 'illumos-13915');
  assert.equal(gateEra(tree(eight, ring)).era, 'illumos-12477');
  assert.equal(gateEra(tree(eight, list)).era, 'illumos-pre12477');
  assert.equal(gateEra(GATE).era, 'illumos-13917');
  assert.match(gateEra(tree(nine, ring)).evidence, /declares installctx\(\) with 9 parameters$/);
});

test('an unknown kernel header: without a gate the message says "gate" uses the real ones; with one it lists the include path', async () => {
  const d = scratchDir('kctx-gate-');
  writeFileSync(join(d, 'a.c'), '#include <sys/types.h>\n#include <sys/uio.h>\nvoid entry(void *a) { }\n');
  const base = { kernel: 'illumos-13917', sources: ['a.c'], threads: [{ name: 't0', entry: 'entry' }] };
  const noGate = scenarioFromObject(base, join(d, 's.ksim.json'), d);
  await assert.rejects(createKernel(noGate, { loadDriver }), (e: ScenarioError) => {
    assert.equal(`${e.file}:${e.line}:${e.column}`, `${join(d, 'a.c')}:2:10`);
    assert.match(e.reason, /^kernel header <sys\/uio\.h> is not shipped by kctx \(known: .*\); set "gate" to an illumos-gate checkout to build with its real headers$/);
    return true;
  });
  const withGate = scenarioFromObject({ ...base, gate: GATE }, join(d, 's.ksim.json'), d);
  await assert.rejects(createKernel(withGate, { loadDriver }), (e: ScenarioError) => {
    assert.equal(`${e.line}:${e.column}`, '2:10');
    assert.equal(e.reason, `#include <sys/uio.h>: no such header in the include path (${searchRoots(withGate).includeDirs.join(', ')})`);
    return true;
  });
});

test('a header outside the scenario folder, its includePaths and its gate is refused', async () => {
  const d = scratchDir('kctx-gate-');
  writeFileSync(join(d, 'a.c'), '#include "../../etc/passwd"\nvoid entry(void *a) { }\n');
  const s = scenarioFromObject({ kernel: 'illumos-13917', gate: GATE, sources: ['a.c'], threads: [{ name: 't0', entry: 'entry' }] }, join(d, 's.ksim.json'), d);
  await assert.rejects(createKernel(s, { loadDriver }), /a\.c:1:10: #include "\.\.\/\.\.\/etc\/passwd": outside the scenario's folder/);
});

test('gate, includePaths, stubs, replaces: each wrong value is an error at its key', () => {
  const file = join(DRV, 'k.ksim.json');
  const base = { kernel: 'illumos-13917', sources: ['drv.c'], threads: [{ name: 't0', entry: 'entry' }] };
  const err = (extra: object) => {
    const e = scenarioError(() => scenarioFromObject({ ...extra, ...base }, file, DRV));
    return `${e.line}:${e.column}: ${e.reason}`;
  };
  assert.equal(err({ gate: 'nowhere' }), `2:11: "gate": ${join(DRV, 'nowhere')}: no such folder`);
  assert.equal(err({ gate: '.' }), `2:11: "gate": ${DRV}: not an illumos-gate checkout (no usr/src/uts/common/sys/thread.h)`);
  assert.equal(err({ gate: 3 }), '2:11: "gate": expected the path of an illumos-gate checkout, got 3');
  assert.equal(err({ includePaths: ['${gate}/x'] }), '3:5: "includePaths[0]": ${gate} is used but the scenario has no "gate"');
  assert.equal(err({ includePaths: ['${env:KCTX_TEST_SURELY_UNSET}'] }), '3:5: "includePaths[0]": environment variable KCTX_TEST_SURELY_UNSET is not set');
  assert.equal(err({ includePaths: ['${home}'] }), '3:5: "includePaths[0]": unknown variable ${home} (known: ${env:NAME}, ${gate})');
  assert.equal(err({ includePaths: 'inc' }), '2:19: "includePaths": expected an array of paths, got string');
  assert.equal(err({ stubs: 'sometimes' }), '2:12: "stubs": expected "auto" or an array of C files, got "sometimes"');
  assert.equal(err({ stubs: ['s.h'] }), '3:5: "stubs[0]": expected a C file (.c), got "s.h"');
  assert.equal(err({ replaces: ['not a name'] }), '3:5: "replaces[0]": expected a C function name, got "not a name"');
  process.env.KCTX_TEST_GATE_DIR = GATE;
  try {
    const s = scenarioFromObject({ ...base, gate: '${env:KCTX_TEST_GATE_DIR}', includePaths: ['${gate}/usr/src/compat/drv'], stubs: 'auto', replaces: ['kernel_fpu_begin'] }, file, DRV);
    assert.equal(s.gate, GATE);
    assert.deepEqual(s.includePaths, [join(GATE, 'usr/src/compat/drv')]);
    assert.deepEqual(s.stubs, { auto: true, files: [] });
    assert.deepEqual(s.replaces, ['kernel_fpu_begin']);
  } finally {
    delete process.env.KCTX_TEST_GATE_DIR;
  }
  // A gate given as usr/src is its checkout.
  assert.equal(scenarioFromObject({ ...base, gate: join(GATE, 'usr/src') }, file, DRV).gate, GATE);
});

test('kctx run --gate PATH builds a scenario without "gate" against the tree; --stubs takes only auto', () => {
  const d = scratchDir('kctx-gate-');
  writeFileSync(join(d, 'a.c'), '#include <sys/types.h>\n#include <sys/cmn_err.h>\nvoid entry(void *a) { cmn_err(CE_NOTE, "machdep %d", _MACHDEP); }\n');
  writeFileSync(join(d, 's.ksim.json'), JSON.stringify({ kernel: 'illumos-13917', sources: ['a.c'], threads: [{ name: 't0', entry: 'entry' }] }));
  const plain = kctx('run', join(d, 's.ksim.json'), '--trace', 'none');
  assert.equal(plain.code, 2);
  assert.match(plain.err, /a\.c:3:.*'_MACHDEP' undeclared|_MACHDEP/);
  const r = kctx('run', join(d, 's.ksim.json'), '--trace', 'none', '--gate', GATE);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'NOTICE: machdep 1\n');
  const bad = kctx('run', join(d, 's.ksim.json'), '--stubs', 'some');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /^kctx run: --stubs expects auto, got 'some'/);
  const nogate = kctx('run', join(d, 's.ksim.json'), '--gate', d);
  assert.equal(nogate.code, 2);
  assert.match(nogate.err, /--gate: .*: not an illumos-gate checkout/);
});
