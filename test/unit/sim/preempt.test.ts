/**
 * Kernel preemption: quantum expiry sets cpu_kprunrun; a thread with t_preempt > 0 is not
 * preempted (the request is deferred) until kpreempt_enable() brings t_preempt to 0. Blocking
 * is a voluntary swtch() that runs the save ops even with preemption disabled: the
 * illumos#13915 hazard, reported as sleep-preempt-disabled.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { machine, scriptThread, kcall, capture, switches } from './helpers';
import { registerFrameKind, PUSHED, type Machine, type KResult } from '../../../kernel-sim/machine/machine';
import type { KThread } from '../../../kernel-sim/machine/thread';

/** Spins `n` cycles in kernel context (preemptible frame). */
registerFrameKind('test-busy', {
  preemptible: true,
  step(m, t, f, budget) {
    const used = Math.min(budget, f.left as number);
    f.left = (f.left as number) - used;
    if (f.left === 0) m.ret(t, 0);
    return Math.max(used, 1);
  },
  describe: () => [],
});
const busy = (n: number) => (_m: Machine, t: KThread): KResult => {
  t.stack.push({ kind: 'test-busy', pc: 0, left: n });
  return PUSHED;
};

test('a preemption request while t_preempt > 0 is deferred until kpreempt_enable()', async () => {
  const m = await machine({ quantum: 1, threads: [{ name: 'other', entry: 'builtin:spin', arg: 20 }] });
  const events = capture(m);
  let preemptAt = -1;
  let enabledAt = -1;
  scriptThread(m, 'drv', [
    kcall('kpreempt_disable'),
    busy(500),
    (mm) => { enabledAt = mm.lbolt; return 0; },
    kcall('kpreempt_enable'),
    (mm) => { preemptAt = mm.lbolt; return 0; },
  ], { pri: 60 });
  assert.equal(m.run(2_000_000).kind, 'end');
  const ev = events();
  const drv = [...m.names].find(([, n]) => n === 'drv')![0];
  const deferred = ev.filter((e) => e.type === 'probe' && e.probe === 'sched:preempt-deferred' && e.thread === drv);
  assert.equal(deferred.length, 1, 'the deferred request is reported once');
  const preempts = ev.filter((e) => e.type === 'probe' && e.probe === 'sched:preempt' && e.thread === drv);
  assert.ok(preempts.length >= 1);
  assert.equal((preempts[0] as { detail: string }).detail, 'deferred, at kpreempt_enable', 'first preemption happens at kpreempt_enable');
  assert.ok(enabledAt >= 4, `the busy stretch spans several quanta (enabled at tick ${enabledAt})`);
  assert.ok(m.kpc.blocked > 0 && m.kpc.sync >= 1);
  void preemptAt;
});

test('without kpreempt_disable the same thread is preempted at quantum expiry (async)', async () => {
  const m = await machine({ quantum: 1, threads: [{ name: 'other', entry: 'builtin:spin', arg: 20 }] });
  const events = capture(m);
  scriptThread(m, 'drv', [busy(500)]);
  m.run(2_000_000);
  const drv = [...m.names].find(([, n]) => n === 'drv')![0];
  const preempts = events().filter((e) => e.type === 'probe' && e.probe === 'sched:preempt' && e.thread === drv);
  assert.ok(preempts.length >= 2);
  assert.equal((preempts[0] as { detail: string }).detail, 'quantum expired');
});

test('kpreempt_enable without kpreempt_disable: ASSERT(curthread->t_preempt >= 1) on DEBUG', async () => {
  const m = await machine({ threads: [{ name: 'x', entry: 'builtin:spin', arg: 0 }] });
  scriptThread(m, 'drv', [kcall('kpreempt_enable')]);
  assert.equal(m.run(100_000).kind, 'panic');
  assert.equal(m.panicInfo!.message, 'assertion failed: curthread->t_preempt >= 1, file: ../../common/sys/disp.h, line: 182');
});

test('illumos-kvm on 12477: installctx allocates inside kpreempt_disable(); under memory pressure it blocks and the save ops run with t_preempt > 0', async () => {
  const m = await machine({
    kernel: 'illumos-12477', memoryPressure: { every: 1, ticks: 2 },
    threads: [{ name: 'vcpu0', entry: 'builtin:kvm-vcpu', arg: 2, lwp: true }, { name: 'vcpu1', entry: 'builtin:kvm-vcpu', arg: 2, lwp: true }],
  });
  const events = capture(m);
  const preemptAtSwitch: number[] = [];
  const vcpu0 = m.threadByName('vcpu0')!;
  m.policy = { shouldStop: (mm, p) => { if (p.kind === 'swtch' && p.from === vcpu0) preemptAtSwitch.push(mm.tPreempt(vcpu0)); return false; } };
  assert.equal(m.run(2_000_000).kind, 'end');
  const hz = m.hazards.filter((h) => h.id === 'sleep-preempt-disabled');
  assert.ok(hz.length >= 1, 'the hazard is reported');
  assert.match(hz[0]!.message, /^installctx: KM_SLEEP allocation with preemption disabled \(t_preempt=1\) on thread fffffe\w+ \(vcpu\d\): it blocks, so a voluntary swtch\(\) runs the save ops anyway$/);
  assert.ok(preemptAtSwitch.some((p) => p > 0), 'vcpu0 switched out with t_preempt > 0');
  assert.ok(events().some((e) => e.type === 'probe' && e.probe === 'hazard:sleep-preempt-disabled'));
});

test('illumos-kvm on 13915 (preallocated) and 13917 (template): no hazard', async () => {
  for (const kernel of ['illumos-13915', 'illumos-13917']) {
    const m = await machine({
      kernel, memoryPressure: { every: 1, ticks: 2 },
      threads: [{ name: 'vcpu0', entry: 'builtin:kvm-vcpu', arg: 2, lwp: true }, { name: 'vcpu1', entry: 'builtin:kvm-vcpu', arg: 2, lwp: true }],
    });
    assert.equal(m.run(2_000_000).kind, 'end', kernel);
    assert.deepEqual(m.hazards, [], kernel);
  }
});

test('kfpu: the kernel FPU ctxop clears T_KFPU on save, so a preempted FPU section is legal', async () => {
  const m = await machine({ quantum: 1, threads: [{ name: 'zfs', entry: 'builtin:kfpu', arg: 3 }, { name: 'other', entry: 'builtin:spin', arg: 10 }] });
  const events = capture(m);
  assert.equal(m.run(2_000_000).kind, 'end');
  const sw = switches(events(), m).filter((s) => s.from === 'zfs' && s.saves.length);
  assert.ok(sw.some((s) => s.saves[0] === 'kernel_fpu_ctx_save'));
});

test('a thread switched out with T_KFPU set and no kfpu ctxop panics in resume()', async () => {
  const m = await machine({ threads: [{ name: 'x', entry: 'builtin:spin', arg: 0 }] });
  scriptThread(m, 'drv', [(mm, t) => { mm.setFlag(t, mm.tFlag(t) | 0x10000); return 0; }, kcall('delay', () => [1])]);
  assert.equal(m.run(100_000).kind, 'panic');
  assert.equal(m.panicInfo!.message, 'curthread swtch-ing while the kernel is using the FPU');
});
