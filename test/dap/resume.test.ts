/**
 * The resume protocol (debug-adapter/resume.ts): a stop and the resume after it leave the run
 * exactly as a run that never stopped. Each layer is checked on its own: the interpreter's
 * owed cycle and the machine's frame marks with `skipStopOnce` (the checks a resumed run makes,
 * repeats left out, are the checks of a run that never stops, and it ends in the same state), and the
 * debugger's re-check list (a position reached by stopping everywhere is reached again by a
 * replay that never stopped).
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { createKernel } from '../../kernel-sim/kernel';
import { loadScenarioFile } from '../../kernel-sim/scenario';
import { loadDriver } from '../../kernel-sim/cinterp/index';
import type { Machine, StopPoint } from '../../kernel-sim/machine/machine';
import { Engine } from '../../debug-adapter/engine';
import { Breakpoints } from '../../debug-adapter/breakpoints';
import { pointKey, posText, type Pos } from '../../debug-adapter/position';
import { recheckAfterStop, skipRecheck } from '../../debug-adapter/resume';
import { fixture } from './helpers';

const machine = () => createKernel(loadScenarioFile(fixture('drv.ksim.json')), { loadDriver });

/** Every check the machine asks (its key), running to the end and stopping where `stopAt` says. */
async function checks(stopAt: (p: StopPoint, n: number) => boolean): Promise<{ seen: string[]; stops: number; end: string }> {
  const m: Machine = await machine();
  const seen: string[] = [];
  m.policy = {
    shouldStop(mm, p) {
      void mm;
      seen.push(pointKey(p));
      return stopAt(p, seen.length);
    },
  };
  let stops = 0;
  for (;;) {
    const r = m.run(10_000_000);
    if (r.kind !== 'stopped') break;
    stops++;
    // The first check after resuming is the one that stopped: skipStopOnce skips it unasked.
    m.skipStopOnce = true;
  }
  return { seen, stops, end: JSON.stringify({ stats: m.stats, lbolt: m.lbolt, now: m.now }) };
}

describe('resume protocol', () => {
  for (const kind of ['statement', 'function', 'hook', 'swtch', 'kline'] as const) {
    it(`stopping at every ${kind} check and resuming makes the same checks in the same order and ends in the same state as never stopping`, async () => {
      const plain = await checks(() => false);
      const stopped = await checks((p) => p.kind === kind);
      assert.ok(stopped.stops > 3, `${stopped.stops} ${kind} stops`);
      assert.equal(stopped.seen.length, plain.seen.length);
      assert.deepEqual(stopped.seen, plain.seen);
      assert.equal(stopped.end, plain.end);
    });
  }

  it('a C ctxop handler stopped at its function point: the hook is checked once, not again on resume (hookStop)', async () => {
    const plain = await checks(() => false);
    const stopped = await checks((p) => p.kind === 'function' && p.name === 'drv_save');
    const hooks = (l: string[]) => l.filter((k) => k.startsWith('hook|') && k.includes('|drv_save|')).length;
    assert.ok(stopped.stops >= 2, `${stopped.stops} stops`);
    assert.equal(hooks(stopped.seen), hooks(plain.seen));
    assert.equal(stopped.end, plain.end);
  });

  it('the re-check list: every position reached by stopping everywhere is reached again by a replay that never stopped', async () => {
    const e = new Engine(await machine(), { console: () => {} });
    e.bps.setFilters([{ id: 'swtch' }, { id: 'ctxop' }]);
    e.bps.setFunctions(e.m, ['kmem_zalloc', 'ctxop_attach', 'drv_save', 'drv_restore'].map((name) => ({ name })));
    const src = Breakpoints.normPath(fixture('drv.c'));
    e.bps.lines.set(src, e.m.program!.statementLines(src).map((l) => ({ id: e.bps.id(), file: src, line: l, requested: l, verified: true, hits: 0 })));
    const stops: Array<{ pos: Pos; key: string }> = [];
    for (let o = e.continueSync(); o.kind === 'stopped'; o = e.continueSync()) stops.push({ pos: e.cur.pos, key: pointKey(e.cur.point!) });
    assert.ok(stops.length > 30, `${stops.length} stops`);
    // Positions count every check once: strictly increasing although each stop's step ran twice.
    for (let i = 1; i < stops.length; i++) assert.ok(stops[i]!.pos.e > stops[i - 1]!.pos.e, `${posText(stops[i - 1]!.pos)} then ${posText(stops[i]!.pos)}`);
    for (const st of stops.filter((_, i) => i % 7 === 0)) {
      const r = new Engine(await machine(), { console: () => {} });
      const o = r.seekSync(st.pos);
      assert.equal(o.kind, 'stopped');
      assert.equal(pointKey(r.cur.point!), st.key, `at ${posText(st.pos)}`);
    }
  });

  it('skipRecheck consumes the repeats in order, then the stop point itself', async () => {
    const m = await machine();
    const t = m.threads[0]!;
    const a: StopPoint = { kind: 'statement', thread: t, cpu: 0, detail: { file: 'x.c', line: 3, column: 1, frameIndex: 0 } };
    const b: StopPoint = { kind: 'function', thread: t, cpu: 0, name: 'kmem_zalloc' };
    const c: StopPoint = { kind: 'hook', thread: t, cpu: 0, op: 'save', handler: 'drv_save' };
    // A step that used no cycles runs again from its start: a and b repeat before c.
    const re = recheckAfterStop({ e: 9, s: 100, k: 0 }, c, [a, b, c], 100)!;
    assert.deepEqual(re.prefix, [pointKey(a), pointKey(b)]);
    assert.equal(skipRecheck(re, a), 'skip');
    assert.equal(skipRecheck(re, b), 'skip');
    assert.equal(skipRecheck(re, c), 'last');
    // A step that used cycles resumes at the interrupted operation: only the statement repeats.
    const re2 = recheckAfterStop({ e: 9, s: 100, k: 0 }, c, [a, b, c], 101)!;
    assert.deepEqual(re2.prefix, [pointKey(a)]);
    assert.equal(skipRecheck(re2, b), 'done');
  });
});
