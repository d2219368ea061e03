/**
 * Stopping at a kernel function called from C changes nothing: a run that stops at every
 * 'function' point (resuming each time with skipStopOnce) ends with the same stats, the same
 * event stream (ticks; not the in-slice cycle stamps, which follow where steps end) and the
 * same flow trace as a run that never stops, on
 * the generated code and on the closure loop. Covers calls that begin a statement
 * (kmem_zalloc), calls later in a statement (ctxop_attach), C ctxop handlers called by the
 * kernel (the function point inside callHook), at every slice alignment.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createKernel } from '../../../kernel-sim/kernel';
import { loadScenarioFile } from '../../../kernel-sim/scenario';
import { loadDriver } from '../../../kernel-sim/cinterp/index';
import { FlowFormatter } from '../../../kernel-sim/trace/flow';
import type { Machine, StopPoint, StopPolicy } from '../../../kernel-sim/machine/machine';
import type { KEvent } from '../../../kernel-sim/trace/events';
import { kernelFor, HEADERS, REPO } from './helpers';

const DRV = join(REPO, 'test', 'fixtures', 'dap', 'drv.ksim.json');

interface Run {
  outcome: string;
  stats: string;
  flow: string;
  events: string;
  stops: string[];
}

/** Runs to the end; `policy` (if any) is asked at every point, and the run resumes after each stop. */
async function run(make: () => Promise<Machine>, policy: StopPolicy | null, onStop?: (m: Machine, p: StopPoint) => void): Promise<Run> {
  const m = await make();
  const names = new Map(m.threads.map((t) => [t.addr, t.name]));
  const flow: string[] = [];
  const events: KEvent[] = [];
  const fmt = new FlowFormatter((l) => flow.push(l), { threadName: (a) => names.get(a) ?? m.threads.find((t) => t.addr === a)?.name ?? String(a), kmem: true });
  m.sink = {
    event: (e) => {
      if (!names.has(e.thread)) {
        const t = m.threads.find((x) => x.addr === e.thread);
        if (t) names.set(t.addr, t.name);
      }
      events.push(e);
      fmt.event(e);
    },
  };
  m.policy = policy;
  const stops: string[] = [];
  let outcome = '';
  for (let i = 0; ; i++) {
    assert.ok(i < 20_000, `no progress after ${stops.length} stops: ${stops.slice(-4).join(', ')}`);
    const r = m.run(5_000_000);
    if (r.kind !== 'stopped') {
      outcome = r.kind;
      break;
    }
    stops.push(`${r.point.kind}:${r.point.name ?? r.point.handler ?? ''}@${m.stats.steps}`);
    onStop?.(m, r.point);
    m.skipStopOnce = true;
  }
  return { outcome, stats: JSON.stringify({ stats: m.stats, kpc: m.kpc, now: m.now, lbolt: m.lbolt }), flow: flow.join('\n'), events: events.map((e) => JSON.stringify({ ...e, at: undefined })).join('\n'), stops };
}

const atFunctions: StopPolicy = { shouldStop: (_m, p) => p.kind === 'function' };

function same(a: Run, b: Run): void {
  assert.equal(b.outcome, a.outcome);
  assert.equal(b.stats, a.stats);
  assert.equal(b.flow, a.flow);
  assert.equal(b.events, a.events);
}

async function drv(): Promise<Machine> {
  return createKernel(loadScenarioFile(DRV), { loadDriver });
}

test(`drv.c: stopping at every kernel function called from C changes nothing`, async () => {
  const plain = await run(drv, null);
  assert.equal(plain.outcome, 'end');
  const stopped = await run(drv, atFunctions);
  same(plain, stopped);
  const names = new Set(stopped.stops.map((s) => s.replace(/@.*/, '')));
  // A call that begins its statement, one later in a statement, and a C handler the kernel calls.
  for (const n of ['function:kmem_zalloc', 'function:ctxop_attach', 'function:drv_save', 'function:drv_restore', 'function:kmem_free']) {
    assert.ok(names.has(n), `${n} in ${[...names].join(' ')}`);
  }
});

test(`drv.c: stopping at every statement, hook and function changes nothing`, async () => {
  const plain = await run(drv, null);
  const stopped = await run(drv, { shouldStop: (_m, p) => p.kind === 'function' || p.kind === 'statement' || p.kind === 'hook' || p.kind === 'swtch' });
  same(plain, stopped);
  assert.ok(stopped.stops.length > 100);
});

/** Calls at the start of statements, in conditions, in loops, C to C and back, at many alignments. */
const CALLS = `${HEADERS}
typedef struct blk { int b_n; struct blk *b_next; } blk_t;
static int total;

static int
count(blk_t *b)
{
	int n = 0;

	for (; b != NULL; b = b->b_next)
		n += b->b_n;
	return (n);
}

void
entry(void *arg)
{
	int i;
	blk_t *b, *head = NULL;

	for (i = 0; i < 6; i++) {
		b = kmem_zalloc(sizeof (*b), KM_SLEEP);
		b->b_n = i;
		b->b_next = head;
		head = b;
		kpreempt_disable();
		kpreempt_enable();
		if (count(head) > 3)
			total += count(head);
		delay(1);
	}
	while (head != NULL) {
		b = head;
		head = b->b_next;
		kmem_free(b, sizeof (*b));
	}
	cmn_err(CE_NOTE, "total %d", total);
}
`;

test('a stop at a call that begins its statement: same cycles at every slice alignment', async () => {
  for (const slice of [1, 2, 3, 4, 5, 7]) {
    const make = async () => (await kernelFor({ 'drv.c': CALLS }, {
      threads: [{ name: 'a', entry: 'entry', arg: 0 }, { name: 'b', entry: 'entry', arg: 1 }],
      extra: { cpus: 2, tickCycles: 23, quantum: 1, slice },
    })).m;
    const plain = await run(make, null);
    assert.equal(plain.outcome, 'end');
    const stopped = await run(make, atFunctions);
    assert.ok(stopped.stops.some((s) => s.startsWith('function:kmem_zalloc')));
    assert.ok(stopped.stops.some((s) => s.startsWith('function:count')));
    same(plain, stopped);
  }
});

test('a stop at a call that begins its statement sees the cycle count and frame a stop at the statement sees', async () => {
  const make = async () => (await kernelFor({ 'drv.c': CALLS }, { extra: { slice: 3 } })).m;
  const line = CALLS.split('\n').findIndex((l) => l.includes('b = kmem_zalloc')) + 1;
  const where = (m: Machine, p: StopPoint) => {
    const t = p.thread;
    return `steps=${m.stats.steps} budget=${m.budget} depth=${t.stack.length} pc=${t.stack[t.stack.length - 1]!.pc}`;
  };
  const atStatement: string[] = [];
  await run(make, { shouldStop: (_m, p) => p.kind === 'statement' && (p.detail as { line: number }).line === line }, (m, p) => atStatement.push(where(m, p)));
  const atCall: string[] = [];
  await run(make, { shouldStop: (_m, p) => p.kind === 'function' && p.name === 'kmem_zalloc' }, (m, p) => atCall.push(where(m, p)));
  assert.equal(atStatement.length, 6);
  assert.deepEqual(atCall, atStatement);
});

test('a stop at the function point of a C ctxop handler leaves the stack, hook count and events as they were', async () => {
  let before: { depth: number; top: string; hooks: number } | null = null;
  let checked = 0;
  const policy: StopPolicy = {
    shouldStop: (m, p) => {
      if (p.kind === 'hook' && p.handler === 'drv_save') {
        const t = p.thread;
        before = { depth: t.stack.length, top: t.stack[t.stack.length - 1]!.kind, hooks: m.stats.hooks };
      }
      return p.kind === 'function' && p.name === 'drv_save';
    },
  };
  const plain = await run(drv, null);
  const stopped = await run(drv, policy, (m, p) => {
    if (p.kind !== 'function') return;
    checked++;
    const t = p.thread;
    assert.ok(before);
    assert.equal(t.stack.length, before.depth);
    assert.equal(t.stack[t.stack.length - 1]!.kind, before.top);
    assert.ok(!t.stack.some((f) => f.kind === 'callret'));
    assert.equal(m.stats.hooks, before.hooks);
  });
  assert.ok(checked >= 2, `${checked} stops at drv_save`);
  same(plain, stopped);
});

test('a machine snapshot taken at a stop in a C handler resumes as the stopped run does', async () => {
  const m = await drv();
  m.policy = { shouldStop: (_m, p) => p.kind === 'function' && p.name === 'drv_restore' };
  const r = m.run(5_000_000);
  assert.equal(r.kind, 'stopped');
  const snap = m.snapshot();
  m.skipStopOnce = true;
  m.policy = null;
  assert.equal(m.run(5_000_000).kind, 'end');
  const a = JSON.stringify(m.stats);
  m.restore(snap);
  m.policy = { shouldStop: () => false };
  m.skipStopOnce = true;
  assert.equal(m.run(5_000_000).kind, 'end');
  assert.equal(JSON.stringify(m.stats), a);
});
