/** Schedules: each kind of decision does what it says, replays exactly, and survives snapshots. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flowText, machine } from './helpers';
import { Schedule, parseSchedule, formatSchedule, ScheduleError } from '../../../kernel-sim/machine/schedule';
import { FlowFormatter } from '../../../kernel-sim/trace/flow';
import { threadNamer } from '../../../kernel-sim/cli/run';
import type { Machine } from '../../../kernel-sim/machine/machine';
import { scenarioFromObject } from '../../../kernel-sim/scenario';
import { createKernel } from '../../../kernel-sim/kernel';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from '../../scratch';

const two = {
  kernel: 'illumos-13917', cpus: 1,
  threads: [
    { name: 'vcpu0', entry: 'builtin:bhyve-vcpu', arg: 2, lwp: true },
    { name: 'vcpu1', entry: 'builtin:bhyve-vcpu', arg: 2, lwp: true },
  ],
};

function flow(m: Machine): string[] {
  const lines: string[] = [];
  m.sink = new FlowFormatter((l) => lines.push(l), { threadName: threadNamer(m) });
  return lines;
}

test('an empty schedule is the ordinary run, byte for byte', async () => {
  const plain = await flowText(two, 1);
  const m = await machine(two, 1);
  m.setSchedule(new Schedule([]));
  const lines = flow(m);
  assert.equal(m.run(5_000_000).kind, 'end');
  assert.equal(lines.join('\n'), plain.text);
});

test('a preemption decision preempts the thread on the CPU at that step, and only there', async () => {
  const base = await machine(two, 1);
  base.run(5_000_000);
  const m = await machine(two, 1);
  // Step 50: vcpu0 runs its loop (at step 5 the reaper is inside swtch, where the request waits
  // and the switch itself satisfies it).
  m.setSchedule(new Schedule([{ step: 50, preempt: true }]));
  const lines = flow(m);
  assert.equal(m.run(5_000_000).kind, 'end');
  assert.equal(m.kpc.async, base.kpc.async + 1, 'one more asynchronous preemption');
  const first = lines.findIndex((l) => /-> kpreempt/.test(l));
  assert.ok(first > 0);
  assert.match(lines[first]!, /vcpu0/, 'vcpu0 (running at step 50) is preempted');
  assert.ok(lines.slice(first).some((l) => /-> preempt/.test(l)));
});

test('a clock decision is an extra tick; a round decision orders the CPUs; a disp decision picks the second thread', async () => {
  const base = await machine(two, 1);
  base.run(5_000_000);
  const c = await machine(two, 1);
  c.setSchedule(new Schedule([{ step: 3, clock: true }]));
  c.run(5_000_000);
  assert.equal(c.stats.ticks >= base.stats.ticks, true);
  assert.equal(c.lbolt > 0, true);

  const two2 = { ...two, cpus: 2 };
  const a = await machine(two2, 7);
  a.setSchedule(new Schedule([{ round: 1, cpus: [1, 0] }]));
  a.run(1);
  assert.deepEqual(a.roundOrder, [1, 0]);
  const b = await machine(two2, 7);
  b.setSchedule(new Schedule([{ round: 1, cpus: [0, 1] }]));
  b.run(1);
  assert.deepEqual(b.roundOrder, [0, 1]);

  const onCpu = async (sched: Schedule | null) => {
    const mm = await machine(two, 1);
    const l = flow(mm);
    mm.setSchedule(sched);
    mm.run(5_000_000);
    return l.find((x) => /sched:on-cpu/.test(x))!;
  };
  assert.match(await onCpu(null), /thread_reaper <- idle\/0/, 'ordinarily the first dispatch takes the head of the queue');
  assert.match(await onCpu(new Schedule([{ disp: 1, pick: 1 }])), /vcpu0 <- idle\/0/, 'pick 1: the second thread of the queue');
});

test('an alloc decision makes that KM_SLEEP allocation sleep', async () => {
  const src = `#include <sys/kmem.h>\nvoid t(void *a) { void *p = kmem_alloc(64, KM_SLEEP); kmem_free(p, 64); p = kmem_alloc(32, KM_SLEEP); kmem_free(p, 32); }\n`;
  const dir = scratchDir('kctx-sched-');
  writeFileSync(join(dir, 't.c'), src);
  const s = scenarioFromObject({ kernel: 'illumos-13917', cpus: 1, sources: ['t.c'], threads: [{ name: 't', entry: 't', arg: 0 }] }, join(dir, 't.ksim.json'), dir);
  const plain = await createKernel(s);
  plain.run(1_000_000);
  const m = await createKernel(s);
  m.setSchedule(new Schedule([{ alloc: 2, sleep: 3 }]));
  const lines = flow(m);
  assert.equal(m.run(1_000_000).kind, 'end');
  assert.equal(m.allocSeq, 2);
  const sleeps = lines.filter((l) => /sched:sleep/.test(l) || /-> kmem_cache_alloc|KM_SLEEP allocation/.test(l));
  assert.ok(sleeps.length >= 1, lines.join('\n'));
  assert.ok(m.lbolt >= plain.lbolt + 3, `slept 3 ticks (lbolt ${m.lbolt} vs ${plain.lbolt})`);
});

test('replaying a schedule after restoring a snapshot mid-run gives the same rest of the run', async () => {
  const m = await machine(two, 1);
  m.setSchedule(new Schedule([{ step: 40, preempt: true }, { step: 300, preempt: true }, { step: 301, clock: true }]));
  m.run(100);
  const snap = m.snapshot();
  const l1 = flow(m);
  m.run(5_000_000);
  const first = l1.join('\n');
  m.restore(snap);
  const l2 = flow(m);
  m.run(5_000_000);
  assert.equal(l2.join('\n'), first);
  assert.equal(m.schedPos, 3);
});

test('schedule files: bad input is an error naming the decision; the text format round-trips', () => {
  assert.throws(() => parseSchedule('{"version":1,"decisions":[{"step":3}]}', 's.json'), (e: unknown) => e instanceof ScheduleError && /s\.json: decisions\[0\]: a step decision has "preempt": true or "clock": true/.test((e as Error).message));
  assert.throws(() => parseSchedule('{"version":2,"decisions":[]}', 's.json'), /version: expected 1, got 2/);
  assert.throws(() => parseSchedule('[', 's.json'), /s\.json: not JSON/);
  assert.throws(() => parseSchedule('{"version":1,"decisions":[{"round":1,"cpus":[-1]}]}', 's.json'), /decisions\[0\]\.cpus/);
  const f = { version: 1 as const, scenario: 'x.ksim.json', seed: 3, decisions: [{ step: 4, preempt: true as const }, { alloc: 2, sleep: 1 }] };
  const text = formatSchedule(f);
  assert.equal(text, '{"version":1,"scenario":"x.ksim.json","seed":3,"decisions":[\n  {"step":4,"preempt":true},\n  {"alloc":2,"sleep":1}\n]}\n');
  assert.deepEqual(parseSchedule(text, 's.json'), f);
});
