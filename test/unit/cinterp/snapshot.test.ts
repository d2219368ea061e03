import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createKernel } from '../../../kernel-sim/kernel';
import { loadScenarioFile } from '../../../kernel-sim/scenario';
import { loadDriver } from '../../../kernel-sim/cinterp/index';
import { EXAMPLES } from './helpers';

test('a snapshot taken with C frames on the stacks replays byte for byte', async () => {
  const s = loadScenarioFile(join(EXAMPLES, 'vmm/vmm.ksim.json'));
  const m = await createKernel(s, { loadDriver });
  const lines: string[] = [];
  m.sink = { event: (e) => lines.push(JSON.stringify(e)) };
  // Run until some thread is inside a C function called from C (a nested C frame).
  let snapAt = 0;
  for (let n = 50; n < 5000; n += 7) {
    m.run(n);
    const nested = m.threads.some((t) => t.stack.filter((f) => f.kind === 'c').length >= 2 && t.stack[t.stack.length - 1]!.kind === 'c');
    if (nested) {
      snapAt = n;
      break;
    }
  }
  assert.ok(snapAt > 0, 'found a point with nested C frames');
  const snap = m.snapshot();
  const mark = lines.length;
  const first = m.run(10_000_000);
  const tail1 = lines.slice(mark);
  const mem1 = Buffer.from(m.mem.snapshot().bytes);
  const stats1 = { ...m.stats };
  m.restore(snap);
  lines.length = mark;
  const second = m.run(10_000_000);
  const tail2 = lines.slice(mark);
  assert.equal(first.kind, 'end');
  assert.equal(second.kind, 'end');
  assert.ok(tail1.length > 50);
  assert.deepEqual(tail2, tail1);
  assert.deepEqual(m.stats, stats1);
  assert.ok(Buffer.from(m.mem.snapshot().bytes).equals(mem1));
});
