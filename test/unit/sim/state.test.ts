/** The machine's state is declared once (state.ts): every field is in a table, and snapshots follow it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { machine } from './helpers';
import { MACHINE_STATE, MACHINE_PARTS, MACHINE_DERIVED, MACHINE_WIRING } from '../../../kernel-sim/machine/state';

const busy = {
  kernel: 'illumos-13917', cpus: 2,
  threads: [
    { name: 'vcpu0', entry: 'builtin:bhyve-vcpu', arg: 3, lwp: true },
    { name: 'zfs', entry: 'builtin:kfpu', arg: 2 },
  ],
};

test('every field of a machine is declared in exactly one table of state.ts', async () => {
  const m = await machine(busy, 1);
  const tables = [Object.keys(MACHINE_STATE), [...MACHINE_PARTS], Object.keys(MACHINE_DERIVED), Object.keys(MACHINE_WIRING)];
  const declared = tables.flat();
  assert.equal(new Set(declared).size, declared.length, 'a field is in two tables');
  const fields = Object.keys(m).sort();
  assert.deepEqual(fields.filter((f) => !declared.includes(f)), [], 'fields of Machine missing from state.ts');
  assert.deepEqual(declared.filter((f) => !fields.includes(f)), [], 'names in state.ts that are not fields of Machine');
});

test('a snapshot holds every declared state field, and restore puts each back', async () => {
  const m = await machine(busy, 1);
  m.run(900);
  const snap = m.snapshot();
  assert.deepEqual(Object.keys(snap.state).sort(), Object.keys(MACHINE_STATE).sort());
  const before = JSON.stringify({ ...snap.state, panicInfo: null });
  m.run(5_000_000);
  m.restore(snap);
  assert.equal(JSON.stringify(m.snapshot().state), before);
});
