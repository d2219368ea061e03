/** Same scenario and seed: the same trace, byte for byte; snapshots replay identically. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { flowText, machine } from './helpers';
import { FlowFormatter } from '../../../kernel-sim/trace/flow';
import { threadNamer } from '../../../kernel-sim/cli/run';

const busy = {
  kernel: 'illumos-13917', cpus: 2,
  threads: [
    { name: 'vcpu0', entry: 'builtin:bhyve-vcpu', arg: 4, lwp: true },
    { name: 'vcpu1', entry: 'builtin:bhyve-vcpu', arg: 4, lwp: true },
    { name: 'zfs', entry: 'builtin:kfpu', arg: 3 },
    { name: 'spin', entry: 'builtin:spin', arg: 5, lwp: true, schedctl: true },
  ],
};
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

test('the same scenario and seed give the same flow trace, byte for byte', async () => {
  const a = await flowText(busy, 3);
  const b = await flowText(busy, 3);
  assert.equal(a.outcome.kind, 'end');
  assert.ok(a.text.length > 10_000);
  assert.equal(sha(a.text), sha(b.text));
});

test('another seed changes the interleaving on 2 CPUs', async () => {
  const a = await flowText(busy, 3);
  const c = await flowText(busy, 4);
  assert.notEqual(sha(a.text), sha(c.text));
});

test('restoring a snapshot replays the rest of the run identically', async () => {
  const m = await machine(busy, 5);
  const lines: string[] = [];
  const fmt = () => new FlowFormatter((l) => lines.push(l), { threadName: threadNamer(m) });
  m.run(700);
  const snap = m.snapshot();
  m.sink = fmt();
  assert.equal(m.run(5_000_000).kind, 'end');
  const first = lines.splice(0).join('\n');
  const stats1 = { ...m.stats };
  m.restore(snap);
  m.sink = fmt();
  assert.equal(m.run(5_000_000).kind, 'end');
  assert.equal(sha(lines.join('\n')), sha(first));
  assert.deepEqual(m.stats, stats1);
});

test('thread addresses are stable for a scenario and seed', async () => {
  const a = await machine(busy, 9);
  const b = await machine(busy, 9);
  assert.deepEqual(a.threads.map((t) => t.addr), b.threads.map((t) => t.addr));
  a.run(5_000_000);
  b.run(5_000_000);
  assert.deepEqual([...a.kmem.bufctls.keys()], [...b.kmem.bufctls.keys()], 'every kmem buffer at the same address too');
});
