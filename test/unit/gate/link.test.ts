/**
 * Loading like the kernel's loader: every error of a load at once (compiler style, at most 50
 * then a count), undefined symbols listed together (the module does not load), "stubs": "auto"
 * (stub functions returning 0 with a stub:call probe, zeroed data), the user's C stubs, and
 * "replaces". With a kernel tree: a header's inline-asm helper the kernel has is an intrinsic,
 * one it does not have loads and panics naming itself only if called, and a header declaration
 * kctx cannot take stops the load only when the driver uses it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scenarioFromObject, loadScenarioFile, ScenarioError } from '../../../kernel-sim/scenario';
import { createKernel } from '../../../kernel-sim/kernel';
import { loadDriver } from '../../../kernel-sim/cinterp/index';
import { stubsOf } from '../../../kernel-sim/cinterp/stubs';
import type { KEvent } from '../../../kernel-sim/trace/events';
import { REPO } from '../cinterp/helpers';
import { scratchDir } from '../../scratch';

const GATE = join(REPO, 'test/fixtures/gate');
const KCTX = join(REPO, 'dist', 'kctx.js');

function folder(files: Record<string, string>): string {
  const d = scratchDir('kctx-link-');
  for (const [n, t] of Object.entries(files)) writeFileSync(join(d, n), t);
  return d;
}
function scenario(d: string, extra: object = {}, sources = ['drv.c']) {
  return scenarioFromObject({ kernel: 'illumos-13917', sources, threads: [{ name: 't0', entry: 'entry' }], ...extra }, join(d, 's.ksim.json'), d);
}
async function loadFails(d: string, extra: object = {}): Promise<Error> {
  try {
    await createKernel(scenario(d, extra), { loadDriver });
  } catch (e) {
    return e as Error;
  }
  return assert.fail('the load should fail');
}

const UNDEF = `#include <sys/types.h>
#include <sys/cmn_err.h>
extern int mystery_fn(int);
extern void other_fn(void);
extern int mystery_data;
struct big { long a[4]; };
extern struct big mystery_struct;
void
entry(void *arg)
{
	int r = mystery_fn(3);

	other_fn();
	other_fn();
	cmn_err(CE_NOTE, "r=%d d=%d s=%ld", r, mystery_data, mystery_struct.a[3]);
}
`;

test('undefined symbols are listed together, as krtld does, and the module does not load', async () => {
  const e = await loadFails(folder({ 'drv.c': UNDEF }));
  assert.equal(e.message, [
    "/kernel/drv/amd64/drv: undefined symbol 'mystery_data'",
    "/kernel/drv/amd64/drv: undefined symbol 'mystery_fn'",
    "/kernel/drv/amd64/drv: undefined symbol 'mystery_struct'",
    "/kernel/drv/amd64/drv: undefined symbol 'other_fn'",
    "WARNING: mod_load: cannot load module 'drv'",
    '(kctx: "stubs": "auto" or --stubs auto makes stubs of them)',
  ].join('\n'));
});

test('"stubs": "auto": stub functions return 0 and emit stub:call in call order; data symbols are zeroed storage of their type', async () => {
  const m = await createKernel(scenario(folder({ 'drv.c': UNDEF }), { stubs: 'auto' }), { loadDriver });
  const out: string[] = [];
  const probes: string[] = [];
  m.onConsole = (l) => out.push(l);
  m.sink = { event: (e: KEvent) => { if (e.type === 'probe' && (e.probe === 'stub:call' || e.probe === 'kernel:cmn_err')) probes.push(`${e.probe} ${e.detail}`); } };
  assert.equal(m.run(1_000_000).kind, 'end');
  assert.deepEqual(out, ['NOTICE: r=0 d=0 s=0']);
  assert.deepEqual(probes, ['stub:call mystery_fn() returns 0 (stub)', 'stub:call other_fn() returns 0 (stub)', 'stub:call other_fn() returns 0 (stub)', 'kernel:cmn_err NOTICE: r=0 d=0 s=0']);
  const t = stubsOf(m)!;
  assert.deepEqual(t.functions, ['mystery_fn', 'other_fn']);
  assert.deepEqual(t.data, ['mystery_data', 'mystery_struct']);
  assert.deepEqual([...t.calls], [['mystery_fn', 1], ['other_fn', 2]]);
  assert.equal(m.sym.data.get('mystery_struct')!.size, 32);
});

test('kctx run --stubs auto: the run ends listing the stubs called; --stats counts them in an extra key', () => {
  const d = folder({ 'drv.c': UNDEF });
  writeFileSync(join(d, 's.ksim.json'), JSON.stringify({ kernel: 'illumos-13917', sources: ['drv.c'], threads: [{ name: 't0', entry: 'entry' }] }));
  const r = spawnSync(process.execPath, [KCTX, 'run', join(d, 's.ksim.json'), '--stubs', 'auto', '--stats'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.filter((l) => /\| stub:call\s+t0 other_fn\(\) returns 0 \(stub\)$/.test(l)).length, 2);
  assert.equal(lines.at(-2), 'kctx: stubs called: mystery_fn (1), other_fn (2)');
  const stats = JSON.parse(lines.at(-1)!);
  assert.deepEqual(Object.keys(stats), ['switches', 'hooks', 'steps', 'ticks', 'allocs', 'frees', 'stubs']);
  assert.equal(stats.stubs, 3);
  const plain = spawnSync(process.execPath, [KCTX, 'run', join(d, 's.ksim.json')], { encoding: 'utf8' });
  assert.equal(plain.status, 2);
  assert.match(plain.stderr, /undefined symbol 'other_fn'/);
});

test('the user\'s C stubs win over auto stubs; without auto the rest stay undefined', async () => {
  const d = folder({ 'drv.c': UNDEF, 'stubs.c': 'int mystery_fn(int x) { return (x * 7); }\nint mystery_data = 5;\n' });
  const s = scenario(d, { stubs: ['stubs.c'] });
  const e = await createKernel(s, { loadDriver }).then(() => null, (x: Error) => x);
  assert.match(e!.message, /^\/kernel\/drv\/amd64\/drv: undefined symbol 'mystery_struct'\n\/kernel\/drv\/amd64\/drv: undefined symbol 'other_fn'\n/);
  const both = { ...s, stubs: { auto: true, files: s.stubs.files } };
  const m = await createKernel(both, { loadDriver });
  const out: string[] = [];
  m.onConsole = (l) => out.push(l);
  m.run(1_000_000);
  assert.deepEqual(out, ['NOTICE: r=21 d=5 s=0']);
  assert.deepEqual(stubsOf(m)!.functions, ['other_fn']);
});

test('every error of a load at once, compiler style; past 50, a count', async () => {
  const e = await loadFails(folder({ 'drv.c': '#include <sys/types.h>\nint f(void) { return nosuch1; }\nint h(void) { unknown_t x; return 0; }\nvoid entry(void *a) { }\n' }));
  const d = e as ScenarioError;
  assert.equal(d.line, 2);
  assert.match(e.message, /^\S+drv\.c:2:22: error: 'nosuch1' undeclared\n\S+drv\.c:3:15: error: unknown type name 'unknown_t'\n2 errors$/);
  const many = Array.from({ length: 60 }, (_, i) => `int f${i}(void) { return u${i}; }`).join('\n');
  const e2 = await loadFails(folder({ 'drv.c': `${many}\nvoid entry(void *a) { }\n` }));
  const lines = e2.message.split('\n');
  assert.equal(lines.length, 51);
  assert.match(lines[49]!, /drv\.c:50:\d+: error: 'u49' undeclared$/);
  assert.equal(lines[50], '60 errors (the first 50 shown)');
});

test('"replaces": a kernel function the sources may replace; otherwise "already defined by the kernel"', async () => {
  const src = '#include <sys/types.h>\n#include <sys/cmn_err.h>\nvoid delay(long t) { cmn_err(CE_NOTE, "my delay %ld", t); }\nvoid entry(void *a) { delay(4); }\n';
  const e = await loadFails(folder({ 'drv.c': src }));
  assert.match(e.message, /drv\.c:3:1: 'delay' is already defined by the kernel \(genunix\); a module cannot redefine it \(list it in "replaces" to test your own version\)$/);
  const m = await createKernel(scenario(folder({ 'drv.c': src }), { replaces: ['delay'] }), { loadDriver });
  const out: string[] = [];
  m.onConsole = (l) => out.push(l);
  m.run(1_000_000);
  assert.deepEqual(out, ['NOTICE: my delay 4']);
  const bad = await loadFails(folder({ 'drv.c': 'void entry(void *a) { }\n' }), { replaces: ['not_a_kernel_fn'] });
  assert.match(bad.message, /"replaces": 'not_a_kernel_fn' is not a function of the illumos-13917 kernel$/);
});

const ASM_DRV = `#include <sys/types.h>
#include <sys/thread.h>
#include <sys/cmn_err.h>
#include <asm/cpufunc.h>
int use_tsc;
void
entry(void *arg)
{
	cmn_err(CE_NOTE, "curthread %d", curthread != NULL);
	if (use_tsc)
		(void) fixture_rdtsc();
}
`;

test('a tree header: its threadp() is the kernel\'s (curthread works); an unknown inline-asm helper loads and panics naming itself only when called', async () => {
  const d = folder({ 'drv.c': ASM_DRV });
  const m = await createKernel(scenario(d, { gate: GATE }), { loadDriver });
  const out: string[] = [];
  m.onConsole = (l) => out.push(l);
  assert.equal(m.run(1_000_000).kind, 'end');
  assert.deepEqual(out, ['NOTICE: curthread 1']);
  const d2 = folder({ 'drv.c': ASM_DRV.replace('int use_tsc;', 'int use_tsc = 1;') });
  const m2 = await createKernel(scenario(d2, { gate: GATE }), { loadDriver });
  m2.onConsole = () => {};
  const r = m2.run(1_000_000);
  assert.equal(r.kind, 'panic');
  assert.match(m2.panicInfo!.message, /^fixture_rdtsc\(\) at \S+intel\/asm\/cpufunc\.h:\d+ cannot run in kctx: /);
});

test('tree headers: float and double members are storage of their size (gcc\'s layout); __asm __volatile spellings parse', async () => {
  const src = ASM_DRV.replace('int use_tsc;', 'int use_tsc;\nstruct fixture_stat st;').replace('cmn_err(CE_NOTE, "curthread %d", curthread != NULL);', 'cmn_err(CE_NOTE, "size %d value at %d f at %d", (int)sizeof (st), (int)((char *)&st.fs_value - (char *)&st), (int)((char *)&st.fs_f - (char *)&st));');
  const m = await createKernel(scenario(folder({ 'drv.c': src }), { gate: GATE }), { loadDriver });
  const out: string[] = [];
  m.onConsole = (l) => out.push(l);
  m.run(1_000_000);
  // gcc -m64: char at 0, the union (8-aligned for its double) at 8, the float at 16, size 24.
  assert.deepEqual(out, ['NOTICE: size 24 value at 8 f at 16']);
});

test('a tree header declaration kctx cannot take stops the load only when the driver uses it, and the error says why', async () => {
  // A typedef of a header whose base type is unknown (a member kctx cannot lay out would be the same).
  const d = folder({ 'drv.c': ASM_DRV.replace('int use_tsc;', 'int use_tsc;\nfixture_bad_t fb;') });
  const e = await loadFails(d, { gate: GATE });
  assert.match(e.message, /drv\.c:6:1: unknown type name 'fixture_bad_t' \(its declaration at \S+intel\/asm\/cpufunc\.h:\d+:\d+ was not understood: unknown type name 'fixture_undeclared_t'\)$/);
});

test('membar_* (assembly in illumos) link without stubs: no-ops on sequentially consistent CPUs', async () => {
  const src = '#include <sys/types.h>\n#include <sys/atomic.h>\n#include <sys/cmn_err.h>\nint x;\nvoid\nentry(void *arg)\n{\n\tx = 1;\n\tmembar_producer();\n\tmembar_consumer();\n\tcmn_err(CE_NOTE, "x %d", x);\n}\n';
  const m = await createKernel(scenario(folder({ 'drv.c': src }), { gate: GATE }), { loadDriver });
  const out: string[] = [];
  m.onConsole = (l) => out.push(l);
  assert.equal(m.run(1_000_000).kind, 'end');
  assert.deepEqual(out, ['NOTICE: x 1']);
  assert.equal(m.sym.lookup('membar_producer')?.kind, 'native');
  assert.equal(m.sym.lookup('membar_exit'), undefined);
});

test('the memory and string functions a tree header declares link against the kernel\'s, never an auto stub (test/fixtures/gatedrv/strings.c)', async () => {
  const m = await createKernel(loadScenarioFile(join(REPO, 'test/fixtures/gatedrv/strings.ksim.json')), { loadDriver });
  const out: string[] = [];
  m.onConsole = (l) => out.push(l);
  assert.equal(m.run(1_000_000).kind, 'end');
  // strlcpy truncates to 7 characters, bzero cleared the 0x5a memset wrote, the rest as gcc computes.
  assert.deepEqual(out, ['NOTICE: vcpu0-l! 8 0 0 5 0']);
  assert.deepEqual(stubsOf(m)?.functions, []);
  for (const f of ['bzero', 'memset', 'bcopy', 'strlcpy', 'strlcat', 'strlen', 'strcmp', 'strchr', 'memcmp']) assert.equal(m.sym.lookup(f)?.kind, 'native', f);
});

test('driver files: a C file the harness includes is the driver\'s own code, its errors are the load\'s errors (all at once); a header\'s function kctx cannot compile stays deferred; an empty-template asm barrier compiles', async () => {
  const d = folder({
    'drv.c': '#include <sys/types.h>\n#include "vcpu.c"\nvoid\nentry(void *arg)\n{\n\tvcpu_ok();\n}\n',
    'vcpu.c': '#include "vcpu.h"\nstatic int\nvcpu_ok(void)\n{\n\t__asm__ __volatile__("" ::: "memory");\n\treturn (0);\n}\nstatic int\nvcpu_bad(void)\n{\n\t__asm__ __volatile__("lfence");\n\treturn (0);\n}\nstatic hma_reg_t *vcpu_reg;\n',
    'vcpu.h': 'static inline int\nvcpu_hdr(void)\n{\n\t__asm__ __volatile__("mfence");\n\treturn (1);\n}\n',
  });
  const e = await loadFails(d, { gate: GATE });
  const f = join(d, 'vcpu.c');
  assert.equal(e.message, [
    `${f}:14:8: error: unknown type name 'hma_reg_t'`,
    `${f}:11:2: error: inline assembly (asm/__asm__) is not supported: the simulated kernel runs C only`,
    '2 errors',
  ].join('\n'));
  // Without the bad lines the driver loads; the header's function is deferred (never called).
  writeFileSync(f, '#include "vcpu.h"\nstatic int\nvcpu_ok(void)\n{\n\t__asm__ __volatile__("" ::: "memory");\n\treturn (0);\n}\n');
  const m = await createKernel(scenario(d, { gate: GATE }), { loadDriver });
  assert.equal(m.run(1_000_000).kind, 'end');
});
