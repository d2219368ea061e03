/**
 * Save/restore order at a context switch, era by era (reference §3.1, §3.4):
 * before illumos#12477 both walk newest-first; from 12477 on save is newest-first and restore
 * oldest-first. The bhyve vCPU thread has, oldest to newest: segregs, FPU, vmm.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { machine, capture, switches, hooks } from './helpers';

const vcpus = (kernel: string) => ({
  kernel,
  threads: [
    { name: 'vcpu0', entry: 'builtin:bhyve-vcpu', arg: 3, lwp: true },
    { name: 'vcpu1', entry: 'builtin:bhyve-vcpu', arg: 3, lwp: true },
  ],
});

for (const kernel of ['illumos-12477', 'illumos-13915', 'illumos-13917']) {
  test(`${kernel}: save newest-first, restore oldest-first at a vCPU switch`, async () => {
    const m = await machine(vcpus(kernel));
    const events = capture(m);
    assert.equal(m.run(2_000_000).kind, 'end');
    const sw = switches(events(), m).filter((s) => s.from.startsWith('vcpu') && s.to.startsWith('vcpu'));
    assert.ok(sw.length >= 2, `expected vCPU-to-vCPU switches, got ${JSON.stringify(sw)}`);
    // The first preemption happens while the vmm ctxop is attached (mid VM_RUN).
    assert.deepEqual(sw[0]!.saves, ['vmm_savectx', 'fpsave_ctxt', 'lwp_segregs_save']);
    assert.deepEqual(sw[1]!.restores, ['lwp_segregs_restore', 'fprestore_ctxt', 'vmm_restorectx']);
  });
}

test('illumos-pre12477: restore walks newest-first too', async () => {
  const m = await machine(vcpus('illumos-pre12477'));
  const events = capture(m);
  assert.equal(m.run(2_000_000).kind, 'end');
  const sw = switches(events(), m).filter((s) => s.from.startsWith('vcpu') && s.to.startsWith('vcpu'));
  assert.deepEqual(sw[0]!.saves, ['vmm_savectx', 'fpsave_ctxt', 'lwp_segregs_save']);
  assert.deepEqual(sw[1]!.restores, ['vmm_restorectx', 'fprestore_ctxt', 'lwp_segregs_restore']);
});

test('a new LWP runs its restore ops (segregs then FPU) before its entry', async () => {
  const m = await machine({ threads: [{ name: 'w', entry: 'builtin:spin', arg: 1, lwp: true }] });
  const events = capture(m);
  m.run(2_000_000);
  assert.deepEqual(hooks(events(), 'w', m).slice(0, 2), ['restore lwp_segregs_restore', 'restore fprestore_ctxt']);
});

test('13917 bhyve: explicit vmm_savectx after ctxop_detach, under kpreempt_disable', async () => {
  const m = await machine(vcpus('illumos-13917'));
  const events = capture(m);
  m.run(2_000_000);
  const seq = events()
    .filter((e) => e.thread === m.threadByName('vcpu0')?.addr || m.names.get(e.thread) === 'vcpu0')
    .map((e) => (e.type === 'probe' ? e.probe : `${e.type} ${e.fn}`));
  const i = seq.indexOf('entry ctxop_detach');
  assert.ok(i > 0);
  assert.deepEqual(seq.slice(i - 1, i + 6), [
    'sched:kpreempt-disable', 'entry ctxop_detach', 'ctxop:detach', 'return ctxop_detach', 'entry vmm_savectx', 'return vmm_savectx', 'sched:kpreempt-enable',
  ]);
});

test('12477 bhyve: removectx runs the free op (vmm_freectx -> vmm_savectx) per VM_RUN', async () => {
  const m = await machine(vcpus('illumos-12477'));
  const events = capture(m);
  assert.equal(m.run(2_000_000).kind, 'end');
  const frees = hooks(events(), 'vcpu0', m).filter((h) => h.startsWith('free vmm'));
  assert.deepEqual(frees, ['free vmm_freectx', 'free vmm_freectx', 'free vmm_freectx']);
});
