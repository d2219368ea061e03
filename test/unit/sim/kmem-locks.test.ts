/** kmem corruption detection, mutex ownership, deadlock detection. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { machine, scriptThread, kcall } from './helpers';
import { Memory } from '../../../kernel-sim/machine/memory';
import { Kmem } from '../../../kernel-sim/machine/kmem';

test('kmem: a write past the end of a buffer is a redzone violation at kmem_free and in verify()', () => {
  const mem = new Memory();
  const k = new Kmem(mem);
  const b = k.alloc(40, false, 0, 0, ['drv_attach+0x20']);
  assert.equal(k.bufctls.get(b)!.cache, 'kmem_alloc_48');
  assert.equal(mem.readU32(b), 0xbaddcafe, 'uninitialized pattern');
  mem.writeU8(b + 40, 1);
  const v = k.verify();
  assert.equal(v.length, 1);
  assert.deepEqual([v[0]!.cache, v[0]!.buf, v[0]!.at, v[0]!.what], ['kmem_alloc_48', b, b + 40, 'redzone']);
  assert.throws(() => k.free(b, 40, 0, 1, ['drv_detach']), /redzone violation: write past end of buffer/);
});

test('kmem: a write after free is found by verify() and when the buffer is reused', () => {
  const mem = new Memory();
  const k = new Kmem(mem);
  const b = k.alloc(96, true, 0, 0, ['x']);
  k.free(b, 96, 0, 1, ['y']);
  assert.equal(mem.readU32(b + 8), 0xdeadbeef);
  mem.writeU32(b + 8, 0);
  assert.deepEqual(k.verify().map((c) => [c.buf, c.what]), [[b, 'modified after free']]);
  assert.throws(() => k.alloc(96, false, 0, 2, ['z']), /buffer modified after being freed/);
});

test('kmem: double free and wrong-size free are caught', () => {
  const mem = new Memory();
  const k = new Kmem(mem);
  const b = k.alloc(64, false, 0, 0, ['x']);
  assert.throws(() => k.free(b, 32, 0, 1, ['y']), /bad free size/);
  k.free(b, 64, 0, 1, ['y']);
  assert.throws(() => k.free(b, 64, 0, 2, ['z']), /duplicate free/);
  assert.throws(() => k.free(b + 8, 64, 0, 2, ['z']), /not the start of a buffer/);
});

test('mutex_exit by a thread that does not own the mutex panics', async () => {
  const m = await machine({ threads: [{ name: 'x', entry: 'builtin:spin', arg: 0 }] });
  const mp = m.mem.map(8, 8);
  scriptThread(m, 'a', [kcall('mutex_exit', () => [mp])]);
  assert.equal(m.run(100_000).kind, 'panic');
  assert.match(m.panicInfo!.message, /^mutex_exit: not owner, lp=fffffe\w+ owner=0 thread=fffffe\w+$/);
});

test('a lock-order inversion is a deadlock: reported with the cycle, and the run ends hung', async () => {
  const m = await machine({ cpus: 2, threads: [{ name: 'x', entry: 'builtin:spin', arg: 0 }] });
  const A = m.mem.map(8, 8);
  const B = m.mem.map(8, 8);
  m.sym.defineData('lock_a', A, 8, 'drv');
  m.sym.defineData('lock_b', B, 8, 'drv');
  scriptThread(m, 't1', [kcall('mutex_enter', () => [A]), kcall('delay', () => [2]), kcall('mutex_enter', () => [B])]);
  scriptThread(m, 't2', [kcall('mutex_enter', () => [B]), kcall('delay', () => [2]), kcall('mutex_enter', () => [A])]);
  const r = m.run(1_000_000);
  assert.equal(r.kind, 'deadlock');
  const d = m.hazards.find((h) => h.id === 'deadlock')!;
  assert.match(d.message, /^deadlock: t[12] waits for lock_[ab]: t[12] holds lock_[ab], t[12] holds lock_[ab]$/);
  assert.match((r as { message: string }).message, /^every thread is blocked: t1 on mutex fffffe\w+, t2 on mutex fffffe\w+$/);
});

test('cv_wait releases the mutex and reacquires it after cv_signal', async () => {
  const m = await machine({ cpus: 1, threads: [{ name: 'x', entry: 'builtin:spin', arg: 0 }] });
  const mp = m.mem.map(8, 8);
  const cv = m.mem.map(8, 8);
  const order: string[] = [];
  scriptThread(m, 'waiter', [kcall('mutex_enter', () => [mp]), kcall('cv_wait', () => [cv, mp]), (mm, t) => { order.push(`woke owner=${mm.mem.readPtr(mp) === t.addr}`); return 0; }, kcall('mutex_exit', () => [mp])]);
  scriptThread(m, 'signaller', [kcall('delay', () => [1]), kcall('mutex_enter', () => [mp]), () => { order.push('signal'); return 0; }, kcall('cv_signal', () => [cv]), kcall('mutex_exit', () => [mp])]);
  assert.equal(m.run(1_000_000).kind, 'end');
  assert.deepEqual(order, ['signal', 'woke owner=true']);
});

test('cv_wait woken while the signaller still holds the mutex waits for it, then owns it', async () => {
  const m = await machine({ cpus: 2, threads: [{ name: 'x', entry: 'builtin:spin', arg: 0 }] });
  const mp = m.mem.map(8, 8);
  const cv = m.mem.map(8, 8);
  const order: string[] = [];
  scriptThread(m, 'waiter', [kcall('mutex_enter', () => [mp]), kcall('cv_wait', () => [cv, mp]), (mm, t) => { order.push(`woke owner=${mm.mem.readPtr(mp) === t.addr}`); return 0; }, kcall('mutex_exit', () => [mp])]);
  scriptThread(m, 'signaller', [
    kcall('delay', () => [1]), kcall('mutex_enter', () => [mp]), kcall('cv_signal', () => [cv]),
    kcall('delay', () => [3]), () => { order.push('signaller releases'); return 0; }, kcall('mutex_exit', () => [mp]),
  ]);
  assert.equal(m.run(1_000_000).kind, 'end', m.panicInfo?.message);
  assert.deepEqual(order, ['signaller releases', 'woke owner=true']);
});
