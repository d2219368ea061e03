/**
 * Every hazard shows in every view, because the views switch on the probe catalogue's categories
 * (core/probes.ts): a lock-order reversal and an unlock of an unheld lock appear in the debugger's
 * Timeline recorder, the Chrome trace export and the flow trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kernelFor, HEADERS } from '../cinterp/helpers';
import { TeeSink } from '../../../kernel-sim/trace/events';
import { ChromeTraceWriter } from '../../../kernel-sim/trace/chrome';
import { FlowFormatter } from '../../../kernel-sim/trace/flow';
import { TimelineRecorder } from '../../../debug-adapter/timeline';
import { HAZARDS, PROBE_NAMES, probeCategory } from '../../../core/probes';
import { scratchDir } from '../../scratch';

const SRC = HEADERS + `
kmutex_t a_lock, b_lock;
void first(void *arg) { mutex_enter(&a_lock); mutex_enter(&b_lock); mutex_exit(&b_lock); mutex_exit(&a_lock); }
void second(void *arg) { delay(5); mutex_enter(&b_lock); mutex_enter(&a_lock); mutex_exit(&a_lock); mutex_exit(&b_lock); }
void unheld(void *arg) { delay(10); mutex_exit(&a_lock); }
`;

const ORDER = 'lock order reversal: second takes a_lock while holding b_lock, but first took b_lock while holding a_lock: potential deadlock';

test('a lock-order hazard and an unlock of an unheld lock show in the Timeline, the Chrome export and the flow trace', async () => {
  const k = await kernelFor({ 'drv.c': SRC }, { threads: [{ name: 'first', entry: 'first' }, { name: 'second', entry: 'second' }, { name: 'unheld', entry: 'unheld' }] });
  const names = new Map(k.m.threads.map((t) => [t.addr, t.name]));
  const name = (a: number) => names.get(a) ?? k.m.byAddr.get(a)?.name ?? a.toString(16);
  const timeline = new TimelineRecorder(k.m, (a) => k.m.byAddr.get(a)?.tid ?? 0);
  const out = join(scratchDir('kctx-hazard-'), 'trace.json');
  const chrome = new ChromeTraceWriter(out, name, 0.001, k.m.cpus.length);
  const flow: string[] = [];
  k.m.sink = new TeeSink([timeline, chrome, new FlowFormatter((l) => flow.push(l), { threadName: name })]);
  const outcome = k.m.run(5_000_000);
  chrome.close();
  assert.equal(outcome.kind, 'panic', 'mutex_exit of an unheld lock panics after the hazard is reported');
  assert.deepEqual(k.m.hazards.map((h) => h.id), ['lock-order', 'unlock-unheld']);

  const marks = timeline.body().marks.filter((mk) => mk.kind.startsWith('hazard:'));
  assert.deepEqual(marks.map((mk) => mk.kind), ['hazard:lock-order', 'hazard:unlock-unheld']);
  assert.equal(marks[0]!.label, ORDER);

  const ev = (JSON.parse(readFileSync(out, 'utf8')) as { traceEvents: Array<{ name: string; ph: string; s?: string; cat?: string; args?: { detail?: string } }> }).traceEvents;
  const instants = ev.filter((e) => e.cat === 'hazard');
  assert.deepEqual(instants.map((e) => [e.name, e.ph, e.s]), [['hazard:lock-order', 'i', 'g'], ['hazard:unlock-unheld', 'i', 'g']]);
  assert.equal(instants[0]!.args?.detail, ORDER);

  assert.equal(flow.filter((l) => l.includes('| hazard:lock-order') && l.endsWith(`second ${ORDER}`)).length, 1);
  assert.equal(flow.filter((l) => l.includes('| hazard:unlock-unheld')).length, 1);
});

test('the probe catalogue: every hazard has its own exception filter, named after the probe', () => {
  const hazards = PROBE_NAMES.filter((p) => probeCategory(p) === 'hazard');
  assert.deepEqual(HAZARDS.map((h) => h.probe), hazards);
  for (const h of HAZARDS) assert.equal(`hazard:${h.filter}`, h.probe);
  assert.ok(hazards.includes('hazard:lock-order') && hazards.includes('hazard:unlock-unheld'));
});
