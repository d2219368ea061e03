/** lwp_create, fork, exit and exec run the ctxops' lifecycle hooks (reference §3.6, §4.3). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { machine, scriptThread, kcall, capture, hooks } from './helpers';
import { ringNewestFirst } from '../../../kernel-sim/abi/ring';
import { CTXOP } from '../../../kernel-sim/machine/layout';

test('lwp_create: the parent\'s lwp_create ops run (parent, child); fp_new_lwp gives the child its FPU ctxop', async () => {
  const m = await machine({ threads: [{ name: 'x', entry: 'builtin:spin', arg: 0 }] });
  const events = capture(m);
  const child = m.native('child_main', () => 0, 'drv');
  let childAddr = 0;
  const { t } = scriptThread(m, 'parent', [
    kcall('kctx_lwp_create', () => [child, 0]),
    (mm, th, r) => { childAddr = r[0]!; return ringNewestFirst(mm, mm.byAddr.get(r[0]!)!).length; },
  ], { lwp: true });
  assert.equal(m.run(1_000_000).kind, 'end');
  const h = hooks(events(), 'parent', m);
  assert.ok(h.includes('lwp_create fp_new_lwp'), h.join(' '));
  assert.notEqual(childAddr, 0);
  const e = events().find((x) => x.type === 'entry' && x.fn === 'fp_new_lwp')!;
  assert.equal(e.thread, t.addr, 'runs in the parent');
});

test('fork: fork ops run newest-first with (parent, child)', async () => {
  const m = await machine({ threads: [{ name: 'x', entry: 'builtin:spin', arg: 0 }] });
  const events = capture(m);
  const seen: string[] = [];
  m.native('mine_fork', (mm, _t, a) => { seen.push(`${mm.names.get(a[0]!)}->${mm.names.get(a[1]!)}`); return 0; }, 'drv');
  const child = m.native('child_main', () => 0, 'drv');
  scriptThread(m, 'parent', [
    (mm, th) => {
      const ctx = mm.kmemAlloc(th, CTXOP.size, 0, false, 'test');
      for (let i = 0; i < 88; i += 8) mm.mem.writePtr(ctx + i, 0);
      mm.mem.writePtr(ctx + CTXOP.offsets.fork_op, mm.sym.lookup('mine_fork')!.addr);
      return mm.callFunction(th, mm.sym.lookup('ctxop_attach')!.addr, [th.addr, ctx]);
    },
    kcall('kctx_forklwp', () => [child, 0]),
  ], { lwp: true });
  assert.equal(m.run(1_000_000).kind, 'end');
  assert.deepEqual(hooks(events(), 'parent', m).filter((x) => x.startsWith('fork')), ['fork mine_fork', 'fork fp_new_lwp'], 'newest first');
  assert.deepEqual(seen, ['parent->child_main/fork']);
});

test('exec: freectx(curthread, 1) frees every ctxop with isexec=1, then the LWP ctxops come back', async () => {
  const m = await machine({ threads: [{ name: 'x', entry: 'builtin:spin', arg: 0 }] });
  const events = capture(m);
  const { results } = scriptThread(m, 'proc', [
    (mm, th) => ringNewestFirst(mm, th).length,
    kcall('kctx_exec'),
    (mm, th) => ringNewestFirst(mm, th).length,
  ], { lwp: true });
  assert.equal(m.run(1_000_000).kind, 'end');
  assert.deepEqual([results[0], results[2]], [2, 2]);
  const e = events().find((x) => x.type === 'entry' && x.fn === 'freectx')!;
  assert.equal(e.detail, 'isexec=1');
  const frees = events().filter((x) => x.type === 'probe' && x.probe === 'ctxop:hook' && x.data!.op === 'free' && m.names.get(x.thread) === 'proc');
  assert.equal(frees.length, 1, 'only the FPU ctxop has a free op');
});

test('exit: exit ops run in the dying thread; the reaper frees the ctxops and the thread', async () => {
  const m = await machine({ threads: [{ name: 'w', entry: 'builtin:spin', arg: 1, lwp: true }] });
  const events = capture(m);
  const w = m.threadByName('w')!;
  assert.equal(m.run(1_000_000).kind, 'end');
  const ev = events();
  const exitIdx = ev.findIndex((e) => e.type === 'entry' && e.fn === 'thread_exit' && e.thread === w.addr);
  const freectx = ev.findIndex((e) => e.type === 'entry' && e.fn === 'freectx' && e.detail === 'w isexec=0');
  assert.ok(exitIdx >= 0 && freectx > exitIdx);
  assert.equal(m.names.get(ev[freectx]!.thread), 'thread_reaper');
  assert.equal(m.threadByName('w'), undefined, 'freed');
  assert.equal(m.kmem.bufctls.get(w.addr)!.allocated, false, 'kthread_t back in thread_cache');
});
