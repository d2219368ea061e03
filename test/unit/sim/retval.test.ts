/** An async preemption between a callee's return and the caller reading its value keeps the value. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { machine } from './helpers';
import { registerFrameKind, PUSHED } from '../../../kernel-sim/machine/machine';

registerFrameKind('test-returns-42', {
  preemptible: false,
  step(m, t) {
    // Return and ask for preemption at once: the caller's next step comes after a preemption.
    m.setRunrun(m.cpus[t.cpu]!, 1, 1);
    m.ret(t, 42);
    return 1;
  },
  describe: () => [],
});

registerFrameKind('test-caller', {
  preemptible: true,
  step(m, t, f) {
    if (f.pc === 0) {
      f.pc = 1;
      t.stack.push({ kind: 'test-returns-42', pc: 0 });
      void PUSHED;
      return 1;
    }
    (f.out as number[]).push(t.retval);
    m.ret(t, 0);
    return 1;
  },
  describe: () => [],
});

test('the value survives a preemption that lands before the caller reads it', async () => {
  const m = await machine({ threads: [{ name: 'other', entry: 'builtin:spin', arg: 1 }] });
  const out: number[] = [];
  const t = m.createThread({ name: 'caller', role: 'scenario', pri: 60, lwp: false, entry: { kind: 'test-caller', pc: 0, out } });
  m.setrun(t);
  assert.equal(m.run(1_000_000).kind, 'end');
  assert.ok(m.kpc.async >= 1, 'a preemption did happen');
  assert.deepEqual(out, [42]);
});
