/**
 * One layout, the tree's: with a gate, kctx's kernel lays kthread_t, cpu_t, klwp_t, struct ctxop,
 * sc_shared_t and struct ctxop_template out as the tree's headers do (test/fixtures/gate: members
 * in another order than kctx's, other widths, members kctx does not model, t_wchan through a
 * macro, t_name a pointer). The offsets below are gcc's for the fixture headers (x86_64).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenarioFile, scenarioFromObject, ScenarioError } from '../../../kernel-sim/scenario';
import { createKernel } from '../../../kernel-sim/kernel';
import { loadDriver } from '../../../kernel-sim/cinterp/index';
import { createMdb } from '../../../kernel-sim/mdb/index';
import { KTHREAD, CPU, KLWP, CTXOP, SC_SHARED } from '../../../kernel-sim/machine/layout';
import { formatAddr } from '../../../kernel-sim/machine/memory';
import { REPO } from '../cinterp/helpers';

const GATE = join(REPO, 'test/fixtures/gate');
const DIR = join(REPO, 'test/fixtures/gatelayout');

test('the tree binds: kctx kernel writes what the driver reads at the tree offsets and widths; unmodelled members are the driver\'s', async () => {
  const s = loadScenarioFile(join(DIR, 'layout.ksim.json'));
  const m = await createKernel(s, { loadDriver });
  assert.equal(m.L.tree, true);
  // gcc: sizeof (kthread_t) 192, t_state 46 (ushort_t), t_ctx 72, t_cpu 88, t_tid 132, t_name 184, t_wchan 64.
  assert.deepEqual([m.T.t_state, m.T.t_ctx, m.T.t_cpu, m.T.t_tid, m.T.t_wchan, m.L.tNamePtr], [46, 72, 88, 132, 64, 184]);
  // The name's bytes and nothing else of kctx's own go after the tree's 192 bytes.
  assert.equal(m.T.t_name, 192);
  // gcc: sizeof (cpu_t) 232, cpu_flags 8 (ushort_t), cpu_runrun 64, cpu_last_swtch 88; klwp_t 568, lwp_thread 552.
  assert.deepEqual([m.C.cpu_flags, m.C.cpu_runrun, m.C.cpu_last_swtch, m.L.cpu.size, m.LW.lwp_thread, m.L.klwp.tree?.size], [8, 64, 88, 232, 552, 568]);
  // kctx's FPU bookkeeping goes after the tree's klwp_t, in kctx's order.
  assert.equal(m.LW.lwp_fpu_flags, 568 + 8 + 8);
  assert.equal(m.L.scShared.tree?.size, 16);
  assert.equal(m.SC.sc_cpu, 4);
  const out: string[] = [];
  m.onConsole = (l) => out.push(l);
  assert.equal(m.run(1_000_000).kind, 'end');
  assert.deepEqual(out, [
    'NOTICE: vcpu0: tid 2 cpu 1 onproc 1 state 4 lwp 1 self 1',
    'NOTICE: vcpu0: pri 60 flags 0x1b kept 0x1234 20 size 192',
    'NOTICE: kthr: tid 3 cpu 0 onproc 1 state 4 lwp 0 self 1',
    'NOTICE: kthr: pri 60 flags 0x1b kept 0x1234 30 size 192',
  ]);
  // mdb shows the tree's types.
  const mdb = createMdb(m);
  const reaper = formatAddr(m.reaper!.addr);
  assert.equal(mdb.execute('::offsetof kthread_t t_state'), 'offsetof (kthread_t, t_state) = 0x2e, sizeof (...->t_state) = 2\n');
  assert.equal(mdb.execute('::sizeof cpu_t'), 'sizeof (cpu_t) = 0xe8\n');
  assert.equal(mdb.execute('::sizeof klwp_t'), 'sizeof (klwp_t) = 0x238\n');
  const p = mdb.execute(`${reaper}::print kthread_t t_state t_name t_tid t_affinitycnt`);
  assert.match(p, /^t_state = 0x1\nt_name = 0x[0-9a-f]+ "thread_reaper"\nt_tid = 0x1\nt_affinitycnt = 0\n$/);
});

test('without a gate the shipped layouts stay: the constants of machine/layout.ts', async () => {
  const s = scenarioFromObject({ kernel: 'illumos-13917', threads: [{ name: 'w', entry: 'builtin:bhyve-vcpu' }] }, join(DIR, 'x.ksim.json'), DIR);
  const m = await createKernel(s);
  assert.equal(m.L.tree, false);
  assert.equal(m.L.kthread, KTHREAD);
  assert.equal(m.L.cpu, CPU);
  assert.equal(m.L.klwp, KLWP);
  assert.equal(m.L.ctxop, CTXOP);
  assert.equal(m.L.scShared, SC_SHARED);
  assert.equal(m.T, KTHREAD.offsets);
});

function treeCopy(edit: (dir: string) => void): string {
  const d = mkdtempSync(join(tmpdir(), 'kctx-layouts-'));
  cpSync(GATE, join(d, 'gate'), { recursive: true });
  cpSync(join(DIR, 'layout.c'), join(d, 'layout.c'));
  edit(join(d, 'gate/usr/src/uts/common/sys'));
  return d;
}

async function loadError(d: string): Promise<ScenarioError> {
  const s = scenarioFromObject({ kernel: 'illumos-13917', gate: join(d, 'gate'), sources: ['layout.c'], threads: [{ name: 't', entry: 'entry' }] }, join(d, 's.ksim.json'), d);
  try {
    await createKernel(s, { loadDriver });
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  assert.fail('the load should fail');
}

test('a modelled member the tree lacks is a load error at the tree\'s struct, naming member and struct', async () => {
  const d = treeCopy((sys) => {
    const h = join(sys, 'thread.h');
    writeFileSync(h, readFileSync(h, 'utf8').replace('\tctxop_t\t*t_ctx;\n', '').replace('\tuint64_t t_did;\n', ''));
  });
  try {
    const e = await loadError(d);
    const h = join(d, 'gate/usr/src/uts/common/sys/thread.h');
    const line = readFileSync(h, 'utf8').split('\n').findIndex((l) => l.startsWith('typedef struct _kthread {')) + 1;
    assert.equal(e.message, [
      `${h}:${line}:16: error: 'kthread_t' (struct _kthread) has no member 't_ctx', which kctx's kernel keeps in it: a kernel tree must declare it`,
      `${h}:${line}:16: error: 'kthread_t' (struct _kthread) has no member 't_did', which kctx's kernel keeps in it: a kernel tree must declare it`,
      '2 errors',
    ].join('\n'));
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('a modelled struct the tree does not declare is an error naming it and the header kctx looked in', async () => {
  const d = treeCopy((sys) => unlinkSync(join(sys, 'klwp.h')));
  try {
    const e = await loadError(d);
    assert.equal(e.reason, `the kernel tree ${join(d, 'gate')} declares no 'klwp_t' (kctx looked in <sys/klwp.h>): with "gate", kctx's kernel lays 'klwp_t' out as the tree does`);
    assert.equal(`${e.file}:${e.line}:${e.column}`, `${join(d, 's.ksim.json')}:1:1`);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('a modelled member of another kind in the tree (a struct where kctx keeps a pointer) is an error', async () => {
  const d = treeCopy((sys) => {
    const h = join(sys, 'cpuvar.h');
    writeFileSync(h, readFileSync(h, 'utf8').replace('\tkthread_t\t*cpu_thread;', '\tlwpchan_t\tcpu_thread;'));
  });
  try {
    const e = await loadError(d);
    assert.match(e.reason, /^member 'cpu_thread' of 'cpu_t' \(struct cpu\) is 'struct lwpchan'; kctx's kernel reads it as an integer or a pointer$/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
