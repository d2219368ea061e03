/**
 * The ctxop interfaces of each era: arguments, matching, return values, assertions and VERIFY
 * panics (reference §3.1-§3.7), driven from scripted kernel threads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { machine, scriptThread, kcall, capture, hooks } from './helpers';
import { CTXOP, CTXOP_TEMPLATE } from '../../../kernel-sim/machine/layout';
import { ringNewestFirst } from '../../../kernel-sim/abi/ring';
import type { Machine } from '../../../kernel-sim/machine/machine';

const TPL = CTXOP_TEMPLATE.offsets;
const O = CTXOP.offsets;

/** A template in kernel memory with test handlers that record their arguments. */
function template(m: Machine, rev = 1, withFree = true): { tpl: number; calls: string[] } {
  const calls: string[] = [];
  const h = (name: string) => m.native(name, (_m, _t, a) => { calls.push(`${name}(${a.join(',')})`); return 0; }, 'testdrv');
  const tpl = m.mem.map(CTXOP_TEMPLATE.size, 8);
  m.mem.writeU32(tpl + TPL.ct_rev, rev);
  m.mem.writePtr(tpl + TPL.ct_save, h('t_save'));
  m.mem.writePtr(tpl + TPL.ct_restore, h('t_restore'));
  m.mem.writePtr(tpl + TPL.ct_exit, h('t_exit'));
  if (withFree) m.mem.writePtr(tpl + TPL.ct_free, h('t_free'));
  return { tpl, calls };
}

test('13917: ctxop_allocate + attach puts the ctxop at the head; remove frees it and returns 1', async () => {
  const m = await machine({ threads: [{ name: 'idle-ish', entry: 'builtin:spin', arg: 0 }] });
  const { tpl, calls } = template(m);
  const { t, results } = scriptThread(m, 'drv', [
    kcall('ctxop_allocate', () => [tpl, 0x1234]),
    kcall('ctxop_attach', (_m, th, r) => [th.addr, r[0]!]),
    (mm, th) => ringNewestFirst(mm, th).length,
    kcall('ctxop_remove', (_m, th) => [th.addr, tpl, 0x1234]),
    kcall('ctxop_remove', (_m, th) => [th.addr, tpl, 0x1234]),
    (mm, th) => mm.tCtx(th),
  ], { lwp: true });
  assert.equal(m.run(2_000_000).kind, 'end');
  assert.equal(results[2], 3, 'segregs + FPU + ours');
  assert.equal(results[3], 1, 'found and removed');
  assert.equal(results[4], 0, 'second remove finds nothing');
  assert.notEqual(results[5], 0, 'kernel ctxops remain');
  assert.deepEqual(calls.filter((c) => c.startsWith('t_free')), ['t_free(4660,0)']);
  void t;
});

test('13917: ctxop_remove with a different arg returns 0 and leaves the ctxop running', async () => {
  const m = await machine({ threads: [{ name: 'x', entry: 'builtin:spin', arg: 0 }] });
  const { tpl, calls } = template(m);
  const { results } = scriptThread(m, 'drv', [
    kcall('ctxop_install', (_m, th) => [th.addr, tpl, 7]),
    kcall('ctxop_remove', (_m, th) => [th.addr, tpl, 8]),
    kcall('delay', () => [3]),
  ]);
  m.run(2_000_000);
  assert.equal(results[1], 0);
  assert.ok(calls.some((c) => c === 't_save(7)'), 'still saved at the switch caused by delay()');
});

test('13917: ctxop_allocate VERIFY-panics on ct_rev != CTXOP_TPL_REV', async () => {
  const m = await machine({ threads: [{ name: 'x', entry: 'builtin:spin', arg: 0 }] });
  const { tpl } = template(m, 2);
  scriptThread(m, 'drv', [kcall('ctxop_allocate', () => [tpl, 0])]);
  const r = m.run(2_000_000);
  assert.equal(r.kind, 'panic');
  assert.equal(m.panicInfo!.message, 'assertion failed: ct->ct_rev == CTXOP_TPL_REV (0x2 == 0x1), file: ../../common/disp/thread.c, line: 1079');
});

test('13917: ctxop_detach on a thread with no ctxops VERIFY-panics', async () => {
  const m = await machine({ threads: [{ name: 'x', entry: 'builtin:spin', arg: 0 }] });
  const { tpl } = template(m);
  scriptThread(m, 'drv', [kcall('ctxop_allocate', () => [tpl, 0]), kcall('ctxop_detach', (_m, th, r) => [th.addr, r[0]!])]);
  assert.equal(m.run(2_000_000).kind, 'panic');
  assert.match(m.panicInfo!.message, /^assertion failed: t->t_ctx != NULL, file: \.\.\/\.\.\/common\/disp\/thread\.c/);
});

test('13917: ctxop_detach of a ctxop that is not on the list fails the DEBUG search', async () => {
  const m = await machine({ threads: [{ name: 'x', entry: 'builtin:spin', arg: 0 }] });
  const { tpl } = template(m);
  scriptThread(m, 'drv', [kcall('ctxop_allocate', () => [tpl, 0]), kcall('ctxop_detach', (_m, th, r) => [th.addr, r[0]!])], { lwp: true });
  assert.equal(m.run(2_000_000).kind, 'panic');
  assert.match(m.panicInfo!.message, /^assertion failed: cur != head/);
});

test('13917: attaching an attached ctxop trips ASSERT(ctx->next == NULL && ctx->prev == NULL)', async () => {
  const m = await machine({ threads: [{ name: 'x', entry: 'builtin:spin', arg: 0 }] });
  const { tpl } = template(m);
  scriptThread(m, 'drv', [
    kcall('ctxop_allocate', () => [tpl, 0]),
    kcall('ctxop_attach', (_m, th, r) => [th.addr, r[0]!]),
    kcall('ctxop_attach', (_m, th, r) => [th.addr, r[0]!]),
  ]);
  assert.equal(m.run(2_000_000).kind, 'panic');
  assert.match(m.panicInfo!.message, /^assertion failed: ctx->next == NULL && ctx->prev == NULL/);
});

test('13917: ctxop_detach does not free and does not call the free op; ctxop_free does both', async () => {
  const m = await machine({ threads: [{ name: 'x', entry: 'builtin:spin', arg: 0 }] });
  const { tpl, calls } = template(m);
  let ctx = 0;
  scriptThread(m, 'drv', [
    kcall('ctxop_allocate', () => [tpl, 5]),
    kcall('ctxop_attach', (_m, th, r) => [th.addr, (ctx = r[0]!)]),
    kcall('ctxop_detach', (_m, th) => [th.addr, ctx]),
    (mm) => (mm.kmem.bufctls.get(ctx)!.allocated ? 1 : 0),
    kcall('ctxop_free', () => [ctx]),
    (mm) => (mm.kmem.bufctls.get(ctx)!.allocated ? 1 : 0),
  ]);
  m.run(2_000_000);
  assert.deepEqual(calls.filter((c) => c.startsWith('t_free')), ['t_free(5,0)']);
  const b = m.kmem.bufctls.get(ctx)!;
  assert.equal(b.allocated, false);
  assert.equal(b.cache, 'kmem_alloc_96', 'a struct ctxop is 88 bytes: kmem_alloc_96');
});

test('detaching from another running thread trips the thread assertion', async () => {
  const m = await machine({ cpus: 2, threads: [{ name: 'victim', entry: 'builtin:spin', arg: 50, lwp: true }] });
  const victim = m.threadByName('victim')!;
  scriptThread(m, 'drv', [kcall('delay', () => [2]), kcall('ctxop_detach', () => [victim.addr, m.tCtx(victim)])]);
  assert.equal(m.run(2_000_000).kind, 'panic');
  assert.match(m.panicInfo!.message, /^assertion failed: t == curthread \|\| ttoproc\(t\)->p_stat == SIDL/);
});

test('13917 has no installctx: the symbol is absent; 13915 has installctx_preallocate', async () => {
  const d = await machine({ kernel: 'illumos-13917', threads: [{ name: 'x', entry: 'builtin:spin', arg: 0 }] });
  assert.equal(d.sym.lookup('installctx'), undefined);
  assert.equal(d.sym.lookup('removectx'), undefined);
  assert.ok(d.sym.lookup('ctxop_allocate'));
  const c = await machine({ kernel: 'illumos-13915', threads: [{ name: 'x', entry: 'builtin:spin', arg: 0 }] });
  assert.ok(c.sym.lookup('installctx_preallocate'));
  assert.equal(c.sym.lookup('ctxop_allocate'), undefined);
  const b = await machine({ kernel: 'illumos-12477', threads: [{ name: 'x', entry: 'builtin:spin', arg: 0 }] });
  assert.equal(b.sym.lookup('installctx_preallocate'), undefined);
});

const ARGS8 = (m: Machine, th: { addr: number }) => [th.addr, 0x77, m.sym.lookup('t_save')!.addr, 0, 0, 0, 0, 0];

test('13915: installctx called with 8 arguments takes garbage as the 9th: BAD TRAP', async () => {
  const m = await machine({ kernel: 'illumos-13915', threads: [{ name: 'x', entry: 'builtin:spin', arg: 0 }] });
  m.native('t_save', () => 0, 'olddrv');
  scriptThread(m, 'olddrv', [kcall('installctx', (mm, th) => ARGS8(mm, th))]);
  assert.equal(m.run(2_000_000).kind, 'panic');
  assert.match(m.panicInfo!.message, /^BAD TRAP: type=e \(#pf Page fault\) rp=\S+ addr=baddcafebaddcafe$/);
});

test('13915: installctx with a NULL 9th argument allocates itself (the old behaviour)', async () => {
  const m = await machine({ kernel: 'illumos-13915', threads: [{ name: 'x', entry: 'builtin:spin', arg: 0 }] });
  m.native('t_save', () => 0, 'drv');
  const { results } = scriptThread(m, 'drv', [kcall('installctx', (mm, th) => [...ARGS8(mm, th), 0]), (mm, th) => ringNewestFirst(mm, th).length]);
  assert.equal(m.run(2_000_000).kind, 'end');
  assert.equal(results[1], 1);
});

test('12477: removectx matches all six handlers and arg; a mismatch returns 0', async () => {
  const m = await machine({ kernel: 'illumos-12477', threads: [{ name: 'x', entry: 'builtin:spin', arg: 0 }] });
  const calls: string[] = [];
  const save = m.native('t_save', (_m, _t, a) => { calls.push(`save ${a[0]}`); return 0; }, 'drv');
  const free = m.native('t_free', (_m, _t, a) => { calls.push(`free ${a.join(',')}`); return 0; }, 'drv');
  const { results } = scriptThread(m, 'drv', [
    kcall('installctx', (_m, th) => [th.addr, 9, save, 0, 0, 0, 0, free]),
    kcall('removectx', (_m, th) => [th.addr, 9, save, 0, 0, 0, 0, 0]),
    kcall('removectx', (_m, th) => [th.addr, 9, save, 0, 0, 0, 0, free]),
  ]);
  assert.equal(m.run(2_000_000).kind, 'end');
  assert.deepEqual(results, [0, 0, 1]);
  assert.deepEqual(calls, ['free 9,0']);
});

test('pre-12477: t_ctx is a NULL-terminated list (no ring)', async () => {
  const m = await machine({ kernel: 'illumos-pre12477', threads: [{ name: 'w', entry: 'builtin:spin', arg: 0, lwp: true }] });
  const t = m.threadByName('w')!;
  const head = m.tCtx(t);
  const second = m.mem.readPtr(head + O.next);
  assert.notEqual(second, 0);
  assert.equal(m.mem.readPtr(second + O.next), 0, 'the oldest entry ends the list');
  const r = await machine({ kernel: 'illumos-12477', threads: [{ name: 'w', entry: 'builtin:spin', arg: 0, lwp: true }] });
  const rt = r.threadByName('w')!;
  const rh = r.tCtx(rt);
  assert.equal(r.mem.readPtr(r.mem.readPtr(rh + O.next) + O.next), rh, 'a ring back to the head');
  assert.equal(r.mem.readPtr(rh + O.prev), r.mem.readPtr(rh + O.next), 'two entries: prev of head is the oldest');
});

test('save_ts and restore_ts are stamped just before each op (12477 on)', async () => {
  const m = await machine({ threads: [{ name: 'a', entry: 'builtin:spin', arg: 30, lwp: true }, { name: 'b', entry: 'builtin:spin', arg: 30, lwp: true }] });
  const a = m.threadByName('a')!;
  const ctx = m.tCtx(a);
  assert.equal(m.mem.readU64n(ctx + O.save_ts), 0);
  let saveNow = -1;
  m.policy = { shouldStop: (mm, p) => { if (p.kind === 'hook' && p.op === 'save' && p.ctx === ctx && saveNow < 0) saveNow = mm.now; return false; } };
  m.run(2000);
  assert.ok(saveNow >= 0, 'a was saved');
  assert.ok(m.mem.readU64n(ctx + O.save_ts) >= saveNow, 'stamped with the time of a save');
  assert.ok(m.mem.readU64n(ctx + O.restore_ts) > 0, 'restored at least once');
});

test('hooks get ctx->arg; exit ops get the thread pointer', async () => {
  const m = await machine({ threads: [{ name: 'x', entry: 'builtin:spin', arg: 0 }] });
  const { tpl, calls } = template(m);
  const { t } = scriptThread(m, 'drv', [kcall('ctxop_install', (_m, th) => [th.addr, tpl, 0x42]), kcall('delay', () => [1])]);
  const events = capture(m);
  m.run(2_000_000);
  assert.ok(calls.includes('t_save(66)'));
  assert.ok(calls.includes(`t_exit(${t.addr})`), `exit op gets the thread: ${calls.join(' ')}`);
  assert.ok(calls.includes('t_free(66,0)'), 'the reaper frees it: freectx(t, 0)');
  const reaper = hooks(events(), 'thread_reaper', m);
  assert.deepEqual(reaper.filter((h) => h.includes('t_free')), ['free t_free'], 'free ops run in the reaper');
});
