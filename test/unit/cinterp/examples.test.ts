import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runExample, hooks } from './helpers';
import { createKernel } from '../../../kernel-sim/kernel';
import { loadScenarioFile } from '../../../kernel-sim/scenario';
import { loadDriver } from '../../../kernel-sim/cinterp/index';
import { join } from 'node:path';
import { EXAMPLES } from './helpers';

test('examples/vmm: the C handlers run in stack order around the kernel\'s own ctxops', async () => {
  const r = await runExample('vmm/vmm.ksim.json');
  assert.equal(r.outcome.kind, 'end');
  assert.deepEqual(r.console, [
    'NOTICE: vmm: vcpu1: 3 runs, 3 saves, 0 restores, 3 guest FPU saves',
    'NOTICE: vmm: vcpu0: 3 runs, 4 saves, 1 restores, 4 guest FPU saves',
    'NOTICE: vmm: vcpu2: 3 runs, 4 saves, 1 restores, 4 guest FPU saves',
  ]);
  const h = hooks(r).filter((x) => x.startsWith('vcpu0 save') || x.startsWith('vcpu0 restore'));
  // Preempted inside VM_RUN: vmm first on the way out (newest first), last on the way in (oldest first).
  const i = h.indexOf('vcpu0 save vmm_savectx');
  assert.ok(i >= 0);
  assert.deepEqual(h.slice(i, i + 6), [
    'vcpu0 save vmm_savectx', 'vcpu0 save fpsave_ctxt', 'vcpu0 save lwp_segregs_save',
    'vcpu0 restore lwp_segregs_restore', 'vcpu0 restore fprestore_ctxt', 'vcpu0 restore vmm_restorectx',
  ]);
  // Every ctxop the driver allocated was freed: no kmem_alloc_96 left but the threads'.
  assert.equal(r.m.kmem.allocated().filter((b) => b.stack[0] === 'ctxop_allocate').length, 0);
});

test('examples/vmm: a template with ct_rev 2 panics in ctxop_allocate', async () => {
  const r = await runExample('vmm/vmm-badrev.ksim.json');
  assert.equal(r.outcome.kind, 'panic');
  const info = (r.outcome as { info: { message: string; stack: string[] } }).info;
  assert.equal(info.message, 'assertion failed: ct->ct_rev == CTXOP_TPL_REV (0x2 == 0x1), file: ../../common/disp/thread.c, line: 1079');
  assert.deepEqual(info.stack.map((s) => s.replace(/\+0x[0-9a-f]+/, '').replace(/\(.*$/, '')), ['ctxop_allocate', 'vcpu_init', 'vcpu_thread', 'thread_start']);
});

test('examples/kvm: the pre-13915 module shows the sleeping allocation with preemption disabled', async () => {
  const r = await runExample('kvm/kvm-pre13915.ksim.json');
  assert.equal(r.outcome.kind, 'end');
  const hz = r.m.hazards.filter((x) => x.id === 'sleep-preempt-disabled');
  assert.ok(hz.length >= 3);
  assert.match(hz[0]!.message, /^installctx: KM_SLEEP allocation with preemption disabled \(t_preempt=1\)/);
  const fixed = await runExample('kvm/kvm-13915.ksim.json');
  assert.equal(fixed.outcome.kind, 'end');
  assert.equal(fixed.m.hazards.length, 0);
  assert.deepEqual(fixed.console.sort(), ['NOTICE: kvm: vcpu0: 3 runs, 5 loads, 5 puts', 'NOTICE: kvm: vcpu1: 3 runs, 3 loads, 3 puts', 'NOTICE: kvm: vcpu2: 3 runs, 3 loads, 3 puts']);
});

test('examples/kvm: the 8-argument installctx on a 13915 kernel passes garbage as the ctxop: BAD TRAP', async () => {
  const r = await runExample('kvm/kvm-pre13915-on-13915.ksim.json');
  assert.equal(r.outcome.kind, 'panic');
  const info = (r.outcome as { info: { message: string; stack: string[] } }).info;
  assert.match(info.message, /^BAD TRAP: type=e \(#pf Page fault\) rp=[0-9a-f]+ addr=baddcafebaddcafe$/);
  assert.match(info.stack[0]!, /^installctx\+0x4a\([0-9a-f]+, [0-9a-f]+, [0-9a-f]+, [0-9a-f]+, 0, 0\)$/);
  assert.match(info.stack[1]!, /^vcpu_load\+0x[0-9a-f]+\([0-9a-f]+\)$/);
  assert.match(info.stack[2]!, /^kvm_vcpu_thread\+0x[0-9a-f]+\(0\)$/);
});

test('examples/kvm: a module calling installctx does not load on a 13917 kernel', async () => {
  const s = loadScenarioFile(join(EXAMPLES, 'kvm/kvm-pre13915-on-13917.ksim.json'));
  await assert.rejects(createKernel(s, { loadDriver }), (e: Error & { kctxLoadError?: boolean }) => {
    assert.equal(e.kctxLoadError, true);
    assert.equal(e.message, "/kernel/drv/amd64/kvm: undefined symbol 'installctx'\n/kernel/drv/amd64/kvm: undefined symbol 'removectx'\nWARNING: mod_load: cannot load module 'kvm'\n(kctx: \"stubs\": \"auto\" or --stubs auto makes stubs of them)");
    return true;
  });
  const ok = await runExample('kvm/kvm-13917.ksim.json');
  assert.equal(ok.outcome.kind, 'end');
  assert.deepEqual(hooks(ok).filter((x) => / (save|restore) kvm_/.test(x)).slice(0, 2), ['vcpu0 save kvm_ctx_save', 'vcpu0 restore kvm_ctx_restore']);
});

test('examples/leaky: detached but never freed ctxops stay allocated (what ::findleaks reports)', async () => {
  const r = await runExample('leaky/leaky.ksim.json');
  assert.equal(r.outcome.kind, 'end');
  const left = r.m.kmem.allocated();
  const ctxops = left.filter((b) => b.stack[0] === 'ctxop_allocate');
  assert.equal(ctxops.length, 4);
  assert.ok(ctxops.every((b) => b.cache === 'kmem_alloc_96' && b.size === 88));
  const sessions = left.filter((b) => b.stack[0] === 'kmem_zalloc');
  assert.equal(sessions.length, 4);
  assert.ok(sessions.every((b) => b.size === 24));
  // No free op ever ran.
  assert.equal(hooks(r).filter((x) => x.includes('free leaky_free')).length, 0);
});
