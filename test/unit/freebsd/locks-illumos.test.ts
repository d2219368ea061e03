/** The lock checks live in the shared mutex code: they apply to illumos drivers too. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runC, HEADERS } from '../cinterp/helpers';

const SRC = HEADERS + `
kmutex_t a_lock, b_lock;
void first(void *arg) { mutex_enter(&a_lock); mutex_enter(&b_lock); mutex_exit(&b_lock); mutex_exit(&a_lock); }
void second(void *arg) { delay(5); mutex_enter(&b_lock); mutex_enter(&a_lock); mutex_exit(&a_lock); mutex_exit(&b_lock); }
void unheld(void *arg) { delay(10); mutex_exit(&a_lock); }
`;

test('illumos: opposite lock orders at different times are reported once, before anything hangs', async () => {
  const r = await runC(SRC, { threads: [{ name: 'first', entry: 'first' }, { name: 'second', entry: 'second' }] });
  assert.equal(r.outcome.kind, 'end');
  assert.deepEqual(r.m.hazards.map((h) => `${h.id}: ${h.message}`), [
    'lock-order: lock order reversal: second takes a_lock while holding b_lock, but first took b_lock while holding a_lock: potential deadlock',
  ]);
});

test('illumos: mutex_exit of an unheld mutex is reported, then panics as before', async () => {
  const r = await runC(SRC, { threads: [{ name: 'u', entry: 'unheld' }] });
  assert.equal(r.outcome.kind, 'panic');
  assert.deepEqual(r.m.hazards.map((h) => `${h.id}: ${h.message}`), ['unlock-unheld: unlock of unheld mutex a_lock by u']);
  assert.match(r.m.panicInfo!.message, /^mutex_exit: not owner, lp=fffffe\w+ owner=0 thread=fffffe\w+$/);
});

test('illumos: a consistent lock order reports nothing', async () => {
  const r = await runC(SRC, { threads: [{ name: 'first', entry: 'first' }, { name: 'again', entry: 'first' }] });
  assert.equal(r.outcome.kind, 'end');
  assert.deepEqual(r.m.hazards, []);
});
