// The wire types' derived tables agree with the kernel facts they are derived from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CTXOP_STATE_HOOKS } from '../../../core/protocol';
import { HOOK_OPS } from '../../../core/eras';
import { CTXOP } from '../../../kernel-sim/index';

test('kctx/state hook keys: one per hook op, in struct ctxop order, each naming a real struct ctxop member', () => {
  assert.deepEqual(CTXOP_STATE_HOOKS.map((h) => h.op), [...HOOK_OPS]);
  assert.deepEqual(CTXOP_STATE_HOOKS.map((h) => h.key), ['save', 'restore', 'fork', 'lwpCreate', 'exit', 'free']);
  const offsets = CTXOP_STATE_HOOKS.map((h) => CTXOP.offsets[h.member]);
  for (const [i, off] of offsets.entries()) assert.equal(typeof off, 'number', `struct ctxop has no ${CTXOP_STATE_HOOKS[i]!.member}`);
  assert.deepEqual([...offsets].sort((a, b) => a! - b!), offsets, 'the hooks are listed in the order struct ctxop lays them out');
});
