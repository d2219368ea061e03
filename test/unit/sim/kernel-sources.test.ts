/**
 * Every kernel frame the simulator can put on a stack has a source in the debugger: a listing
 * of the simulated kernel's logic (debug-adapter/kernel-source.ts) with a line inside it. The
 * test goes through every registered frame kind (a new kind without samples here fails), every
 * kcall, every native kernel function (a panic inside one leaves a `cnative` frame naming it) and
 * every kernel ctxop handler a hook stop can enter; then the threads of real runs, sampled.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createKernel } from '../../../kernel-sim/kernel';
import '../../../kernel-sim/dump/dump';
import { scenarioFromObject, loadScenarioFile } from '../../../kernel-sim/scenario';
import { loadDriver } from '../../../kernel-sim/cinterp/index';
import { frameKindNames, frameKind, type Machine, type Frame, type StackEntry } from '../../../kernel-sim/machine/machine';
import { kcallNames } from '../../../kernel-sim/abi/kcall';
import { hasKernelSource, kernelListing, kernelLine } from '../../../debug-adapter/kernel-source';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../../..');

/** Each kernel entry has a listing, and its line is one of the listing's. */
function checkEntries(m: Machine, entries: StackEntry[], f: Frame | undefined, where: string, missing: string[]): void {
  for (const e of entries) {
    if (e.kind === 'c') {
      if (!e.file || !e.line) missing.push(`${where}: C frame ${e.name} without file and line`);
      continue;
    }
    if (e.kind !== 'kernel') continue;
    if (!hasKernelSource(e.name, m)) {
      missing.push(`${where}: ${e.name}`);
      continue;
    }
    const lines = kernelListing(m, e.name);
    const line = kernelLine(m, e.name, f);
    assert.ok(line >= 1 && line <= lines.length, `${where}: ${e.name} at line ${line} of ${lines.length}`);
  }
}

async function bootedMachine(kernel: string): Promise<Machine> {
  const s = scenarioFromObject({ kernel, cpus: 1, threads: [{ name: 'x', entry: 'builtin:spin', arg: 0, lwp: true }] }, '<test>', process.cwd());
  return createKernel(s);
}

test('every frame kind, kcall, native kernel function and kernel ctxop handler has a kernel source', async () => {
  const missing: string[] = [];
  for (const era of ['illumos-pre12477', 'illumos-12477', 'illumos-13915', 'illumos-13917']) {
    const m = await bootedMachine(era);
    const t = m.threadByName('x')!;
    const swtches: Frame[] = [];
    for (const why of ['new', 'preempt', 'zombie']) for (let pc = 0; pc <= 5; pc++) swtches.push({ kind: 'swtch', pc, why, next: t.addr, nosave: false, head: 0, cur: 1 });
    // Frames of each registered kind, in each phase its describe() distinguishes.
    const samples: Record<string, Frame[]> = {
      callret: [{ kind: 'callret', pc: 0 }],
      cret: [{ kind: 'cret', pc: 0 }],
      swtch: swtches,
      preempt: [{ kind: 'preempt', pc: 0, sync: true }, { kind: 'preempt', pc: 0, sync: false }],
      idle: [{ kind: 'idle', pc: 0 }],
      kmem_sleep: [{ kind: 'kmem_sleep', pc: 0, size: 64, flags: 0 }],
      kmem_wait: [{ kind: 'kmem_wait', pc: 0, size: 64, flags: 0 }],
      thread_exit: [0, 1, 2, 3].map((pc) => ({ kind: 'thread_exit', pc })),
      reaper: [{ kind: 'reaper', pc: 0 }, { kind: 'reaper', pc: 1, zombie: t.addr }],
      thread_start: [{ kind: 'thread_start', pc: 0 }],
      kcall: kcallNames().flatMap((fn) => [0, 1, 2, 3].map((pc) => ({ kind: 'kcall', pc, fn, args: [0, 0, 0] }))),
      cnative: [...m.sym.all()].filter((s) => s.kind === 'native').map((s) => ({ kind: 'cnative', pc: 0, name: s.name, args: [] })),
      mutex_wait: [{ kind: 'mutex_wait', pc: 0, mp: 0 }],
      cv_wait: [0, 1, 2].map((pc) => ({ kind: 'cv_wait', pc, cv: 0, mp: 0 })),
      busywait: [{ kind: 'busywait', pc: 0, left: 1 }],
      trap: [{ kind: 'trap', pc: 0, fn: 'entry', message: 'x', file: 'drv.c', line: 3 }],
      dumped: [{ kind: 'dumped', pc: 0, entries: [{ name: 'swtch', offset: 0x133, args: [], kind: 'kernel', frameIndex: 0 }] }],
      // Not kernel code: the driver's C (file and line) and the built-in workloads (their own listing).
      c: [],
      builtin: [],
    };
    for (const kind of frameKindNames()) {
      const list = samples[kind];
      assert.ok(list, `frame kind '${kind}' has no samples in this test: add its phases (and a kernel source for each kernel frame it shows)`);
      for (const f of list) checkEntries(m, frameKind(kind).describe(m, t, f, 0), f, `${era} ${kind} pc ${f.pc}`, missing);
    }
    // A hook stop on a kernel ctxop handler shows it as the frame being entered.
    for (const s of m.sym.all()) if (s.kind === 'native' && !hasKernelSource(s.name, m)) missing.push(`${era} native ${s.name}`);
  }
  assert.deepEqual(missing, [], 'kernel frames without a source');
});

test('the threads of real runs, sampled every 50 steps: no kernel frame without a source', async () => {
  const missing: string[] = [];
  const files = ['test/fixtures/mdb/bhyve-13917.ksim.json', 'test/fixtures/mdb/kvm-12477-pressure.ksim.json', 'test/fixtures/mdb/kfpu-pre12477.ksim.json', 'examples/vmm/vmm.ksim.json'];
  const kinds = new Set<string>();
  for (const file of files) {
    const m = await createKernel(loadScenarioFile(resolve(ROOT, file)), { loadDriver });
    for (let n = 0; n < 200; n++) {
      const r = m.run(50 * (n + 1));
      for (const t of m.threads) {
        const entries = m.stackOf(t);
        for (const e of entries) kinds.add(t.stack[e.frameIndex]?.kind ?? '?');
        for (const e of entries) checkEntries(m, [e], t.stack[e.frameIndex], `${file} ${t.name}`, missing);
      }
      if (r.kind !== 'step-limit') break;
    }
  }
  assert.deepEqual([...new Set(missing)], []);
  // The runs went through the dispatcher's frames, not only the driver's.
  for (const k of ['swtch', 'thread_start']) assert.ok(kinds.has(k), `${k} seen`);
});
