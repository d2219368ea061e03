/**
 * Building against a kernel tree ("gate", "includePaths"): the flags of a real i86pc module
 * build read from the tree's makefiles, gcc's predefined macros, the include path (a compat
 * folder first, #include_next), the era the headers declare, and the scenario keys' errors.
 * Runs against test/fixtures/gate, a small tree in the shape of illumos-gate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gateBuild, gateBuildStats, clearGateBuilds, moduleDir } from '../../../kernel-sim/gate/build';
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
  // gcc's order: $(CFLAGS) $(CPPFLAGS).
  assert.deepEqual(b.defines, [
    ['_ASM_INLINES', '1'], ['_KERNEL', '1'], ['_SYSCALL32', '1'], ['_SYSCALL32_IMPL', '1'], ['_ELF64', '1'], ['_DDI_STRICT', '1'], ['sun', '1'], ['__sun', '1'], ['__SVR4', '1'],
    ['i86pc', '1'], ['_MACHDEP', '1'], ['OPTERON_ERRATUM_88', '1'], ['KCTX_FIXTURE_WORKAROUND', '7'], ['DEBUG', '1'],
  ]);
  // A non-DEBUG build has no -DDEBUG; the target-specific trap.o flags are never global.
  const nd = gateBuild(GATE, false);
  assert.equal(nd.defines.some(([n]) => n === 'DEBUG' || n === 'TRAPTRACE'), false);
  assert.deepEqual(b.makefiles.map((p) => p.slice(uts.length + 1)), ['i86pc/Makefile.i86pc', 'i86pc/Makefile.files', 'intel/Makefile.files', 'common/Makefile.files', 'Makefile.uts', 'i86pc/Makefile.workarounds']);
});

test('a module\'s own Makefile ("module"): its platform makefile (intel: no _MACHDEP), its -I and -D in gcc\'s order ($(CFLAGS) $(CPPFLAGS)), -I. as its own folder, shell quoting of -D values', () => {
  const uts = join(GATE, 'usr/src/uts');
  const m = moduleDir(GATE, 'kmod');
  assert.deepEqual(m, { dir: join(uts, 'intel/kmod') });
  assert.deepEqual(moduleDir(GATE, 'intel/kmod'), m);
  const b = gateBuild(GATE, true, join(uts, 'intel/kmod'));
  assert.deepEqual(b.includeDirs, [join(uts, 'intel/kmod'), join(uts, 'intel'), join(uts, 'common/io/kmod'), join(uts, 'common'), join(uts, 'common/io/kmod/include')]);
  assert.deepEqual(b.defines, [
    ['_ASM_INLINES', '1'], ['_KERNEL', '1'], ['_SYSCALL32', '1'], ['_SYSCALL32_IMPL', '1'], ['_ELF64', '1'], ['_DDI_STRICT', '1'], ['sun', '1'], ['__sun', '1'], ['__SVR4', '1'],
    ['DEBUG', '1'], ['KMOD_NAME', '"kmod"'], ['KMOD_RINGS', '4'],
  ]);
  assert.deepEqual(b.makefiles.map((p) => p.slice(uts.length + 1)), ['intel/kmod/Makefile', 'intel/Makefile.intel', 'intel/Makefile.files', 'common/Makefile.files', 'Makefile.uts']);
  assert.deepEqual(moduleDir(GATE, 'nosuch'), { why: `no module makefile for "nosuch" (looked for ${join(uts, 'i86pc/nosuch/Makefile')}, ${join(uts, 'intel/nosuch/Makefile')})` });
  assert.deepEqual(moduleDir(GATE, '../kmod'), { why: 'expected a module folder under usr/src/uts such as "intel/zfs", or a module name such as "zfs", got "../kmod"' });
});

test('"module": a driver finds the headers its module\'s makefile adds and sees its flags; without it the missing header says to name the module; wrong values are errors at the key', async () => {
  const d = scratchDir('kctx-gate-');
  writeFileSync(join(d, 'a.c'), [
    '#include <sys/types.h>', '#include <sys/cmn_err.h>', '#include <kmod.h>',
    '#ifdef _MACHDEP', '#define MACHDEP 1', '#else', '#define MACHDEP 0', '#endif',
    'void entry(void *a) { cmn_err(CE_NOTE, "%s queues %d machdep %d", KMOD_NAME, KMOD_QUEUES, MACHDEP); }', '',
  ].join('\n'));
  const base = { kernel: 'illumos-13917', gate: GATE, sources: ['a.c'], threads: [{ name: 't0', entry: 'entry' }] };
  writeFileSync(join(d, 's.ksim.json'), JSON.stringify({ ...base, module: 'kmod' }));
  const r = kctx('run', join(d, 's.ksim.json'), '--trace', 'none');
  assert.equal(r.err, '');
  assert.equal(r.out, 'NOTICE: kmod queues 64 machdep 0\n');
  assert.equal(r.code, 0);
  const plain = scenarioFromObject(base, join(d, 's.ksim.json'), d);
  await assert.rejects(createKernel(plain, { loadDriver }), (e: ScenarioError) => {
    assert.equal(`${e.line}:${e.column}`, '3:10');
    assert.match(e.reason, /^#include <kmod\.h>: no such header in the include path \(.*\); a module's own include folders and flags come from its makefile: name it with "module" \(e\.g\. "intel\/zfs"\)$/);
    return true;
  });
  const file = join(d, 'k.ksim.json');
  const err = (extra: object, withGate = true) => {
    const e = scenarioError(() => scenarioFromObject({ ...extra, ...base, ...(withGate ? {} : { gate: undefined }) }, file, d));
    return `${e.line}:${e.column}: ${e.reason}`;
  };
  assert.equal(err({ module: 'nosuch' }), `2:13: "module": no module makefile for "nosuch" (looked for ${join(GATE, 'usr/src/uts/i86pc/nosuch/Makefile')}, ${join(GATE, 'usr/src/uts/intel/nosuch/Makefile')})`);
  assert.equal(err({ module: 7 }), '2:13: "module": expected a uts module such as "intel/zfs" or "zfs", got 7');
  assert.equal(err({ module: 'kmod' }, false), '2:13: "module" names a module of a kernel tree: the scenario needs a "gate"');
});

test('headers the build generates first (uts/common/sys/Makefile GENHDRS, uts/common/rpc/Makefile DERIVED_FILES) are made from their awk rules on first #include, in the makefile\'s folder: -v FILE=$@ and > $@; rpcgen rules with illumos\' type names, or why not; a rule that is not one command is not run; a failing generator is an error at the #include', async () => {
  const sys = join(GATE, 'usr/src/uts/common/sys/Makefile');
  const rpc = join(GATE, 'usr/src/uts/common/rpc/Makefile');
  const rules = gateBuild(GATE, true).generated;
  assert.deepEqual(rules.map((r) => [r.name, r.tool, r.args, r.stdin, r.stdout, r.cwd, r.at]), [
    ['sys/priv_names.h', 'awk', ['-f', join(GATE, 'usr/src/uts/common/os/privs.awk'), '-v', 'pubhfile=\0output'], join(GATE, 'usr/src/uts/common/os/priv_defs'), false, dirname(sys), `${sys}:15`],
    ['sys/usb/usbdevs.h', 'awk', ['-f', join(GATE, 'usr/src/uts/common/io/usb/usbdevs2h.awk'), join(GATE, 'usr/src/uts/common/io/usb/usbdevs'), '-H'], undefined, true, dirname(sys), `${sys}:18`],
    ['rpc/kctx_sz.h', 'rpcgen', ['-C', '-h', 'kctx_sz.x'], undefined, true, dirname(rpc), `${rpc}:10`],
    ['rpc/kctx_pm.h', 'rpcgen', ['-M', '-h', 'kctx_pm.x'], undefined, true, dirname(rpc), `${rpc}:13`],
  ]);
  const d = scratchDir('kctx-gate-');
  writeFileSync(join(d, 'a.c'), [
    '#include <sys/types.h>', '#include <sys/cmn_err.h>', '#include <sys/priv_names.h>', '#include <sys/usb/usbdevs.h>',
    'void entry(void *a) { cmn_err(CE_NOTE, "%d %d %d %x %x", PRIV_KCTX_SECOND, PRIV_KCTX_THIRD, KCTX_NPRIVS, USB_VENDOR_KCTXA, USB_VENDOR_KCTXB); }', '',
  ].join('\n'));
  writeFileSync(join(d, 's.ksim.json'), JSON.stringify({ kernel: 'illumos-13917', gate: GATE, sources: ['a.c'], threads: [{ name: 't0', entry: 'entry' }] }));
  // With the cache on, the headers are made once into its gen/ folder; off, into a folder removed at exit.
  const cache = scratchDir('kctx-gen-cache-');
  for (const env of [{ KCTX_CACHE_DIR: cache }, { KCTX_CACHE: '0' }]) {
    const r = spawnSync(process.execPath, [KCTX, 'run', join(d, 's.ksim.json'), '--trace', 'none'], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NODE_TEST_CONTEXT: '', ...env } });
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, 'NOTICE: 1 2 3 1234 5678\n');
  }
  const made = readdirSync(join(cache, 'gen'));
  assert.equal(made.length, 2, 'one folder per generated header, named by its inputs');
  assert.deepEqual(made.map((m) => readdirSync(join(cache, 'gen', m, 'sys'))).flat().sort(), ['priv_names.h', 'usb']);
  // shelled.h's rule is a shell pipeline: not run, so the header is not found.
  writeFileSync(join(d, 'b.c'), '#include <sys/shelled.h>\nvoid entry(void *a) { }\n');
  const sb = scenarioFromObject({ kernel: 'illumos-13917', gate: GATE, sources: ['b.c'], threads: [{ name: 't0', entry: 'entry' }] }, join(d, 's.ksim.json'), d);
  await assert.rejects(createKernel(sb, { loadDriver }), (e: ScenarioError) => {
    assert.equal(`${e.line}:${e.column}`, '1:10');
    assert.match(e.reason, /^#include <sys\/shelled\.h>: no such header in the include path/);
    return true;
  });
  // An rpcgen rule runs the host's rpcgen, its 64-bit types spelt as illumos' rpcgen spells them
  // (glibc's u_quad_t is not declared; its quad_t is illumos' struct), or says it is not there.
  writeFileSync(join(d, 'r.c'), [
    '#include <sys/types.h>', '#include <sys/cmn_err.h>', '#include <rpc/kctx_sz.h>',
    'void entry(void *a) { struct kctx_pair p = { 1, 2 }; kctx_u64 u = 1ULL << 40; kctx_i64 i = -(1LL << 33); cmn_err(CE_NOTE, "%d %d %d %d", p.kp_hi, (int)sizeof (u), (int)(u >> 40), (int)(i >> 32)); }', '',
  ].join('\n'));
  const sr = scenarioFromObject({ kernel: 'illumos-13917', gate: GATE, sources: ['r.c'], threads: [{ name: 't0', entry: 'entry' }] }, join(d, 's.ksim.json'), d);
  if (spawnSync('rpcgen', ['--version']).error) {
    await assert.rejects(createKernel(sr, { loadDriver }), (e: ScenarioError) => {
      assert.equal(`${e.line}:${e.column}`, '3:10');
      assert.equal(e.reason, `#include <rpc/kctx_sz.h>: the build generates it (${rpc}:10) and kctx could not: rpcgen: not found`);
      return true;
    });
  } else {
    const m = await createKernel(sr, { loadDriver });
    const out: string[] = [];
    m.onConsole = (l) => out.push(l);
    assert.equal(m.run(1_000_000).kind, 'end');
    assert.deepEqual(out, ['NOTICE: 2 8 1 -2']);
  }
  // An XDR file that passes preprocessor conditionals through is not run: the host's rpcgen lays
  // its prototypes out otherwise; the #include says how to make the header.
  writeFileSync(join(d, 'p.c'), '#include <sys/types.h>\n#include <rpc/kctx_pm.h>\nvoid entry(void *a) { }\n');
  const sp = scenarioFromObject({ kernel: 'illumos-13917', gate: GATE, sources: ['p.c'], threads: [{ name: 't0', entry: 'entry' }] }, join(d, 's.ksim.json'), d);
  await assert.rejects(createKernel(sp, { loadDriver }), (e: ScenarioError) => {
    assert.equal(`${e.line}:${e.column}`, '2:10');
    assert.equal(e.reason, `#include <rpc/kctx_pm.h>: the build generates it (${rpc}:13) and kctx could not: its XDR file passes preprocessor conditionals through (%#if...), and the host's rpcgen, unlike illumos', writes the XDR prototypes after them all: make it with the tree's own tool (in ${dirname(rpc)}: rpcgen -M -h kctx_pm.x > HEADER) into a folder listed in "includePaths"`);
    return true;
  });
  // A generator that fails is an error at the #include that needed it.
  const g = scratchDir('kctx-gate-');
  cpSync(join(GATE, 'usr'), join(g, 'usr'), { recursive: true });
  writeFileSync(join(g, 'usr/src/uts/common/os/privs.awk'), 'BEGIN { print "broken" > "/dev/stderr"; exit 3 }\n');
  writeFileSync(join(d, 'c.c'), '#include <sys/types.h>\n#include <sys/priv_names.h>\nvoid entry(void *a) { }\n');
  const sc = scenarioFromObject({ kernel: 'illumos-13917', gate: g, sources: ['c.c'], threads: [{ name: 't0', entry: 'entry' }] }, join(d, 's.ksim.json'), d);
  await assert.rejects(createKernel(sc, { loadDriver }), (e: ScenarioError) => {
    assert.equal(`${e.line}:${e.column}`, '2:10');
    assert.equal(e.reason, `#include <sys/priv_names.h>: the build generates it (${join(g, 'usr/src/uts/common/sys/Makefile')}:15) and kctx could not: awk exited with 3: broken`);
    return true;
  });
});

test('the build read from the makefiles is kept on disk for the next process, used while every makefile tried has its settled stat', async () => {
  const dir = scratchDir('kctx-gatebuild-');
  const gate = join(dir, 'gate');
  cpSync(join(GATE, 'usr/src/uts'), join(gate, 'usr/src/uts'), { recursive: true, filter: (p) => !/\.[ch]$/.test(p) });
  // A window long enough that a loaded machine does not see the makefile settle between its change and the store.
  const was = { dir: process.env.KCTX_CACHE_DIR, window: setRacyWindow(500_000_000n) };
  process.env.KCTX_CACHE_DIR = join(dir, 'cache');
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 700));
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
    gateBuild(gate, true); // read, or kept if the read before stored it (a store RACY_NS after the change)
    clearGateBuilds();
    const s2 = gateBuildStats();
    assert.deepEqual(gateBuild(gate, true), changed);
    assert.equal(gateBuildStats().kept, s2.kept + 1);
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
    assert.equal(e.reason, `#include <sys/uio.h>: no such header in the include path (${searchRoots(withGate).includeDirs.join(', ')}); a module's own include folders and flags come from its makefile: name it with "module" (e.g. "intel/zfs")`);
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
