/**
 * The engine's contract with the simulator: stopping and resuming changes nothing. A run that
 * stops at every switch, hook, function call and C statement ends in the same state as a run
 * that never stops, and positions reached forward are reached again by replay.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createKernel } from '../../kernel-sim/kernel';
import { loadScenarioFile } from '../../kernel-sim/scenario';
import { loadDriver } from '../../kernel-sim/cinterp/index';
import type { Machine } from '../../kernel-sim/machine/machine';
import type { EventSink } from '../../kernel-sim/trace/events';
import { Engine } from '../../debug-adapter/engine';
import { Breakpoints } from '../../debug-adapter/breakpoints';
import { fixture } from './helpers';
import { posText } from '../../debug-adapter/position';

function digest(m: Machine): string {
  const h = createHash('sha1');
  h.update(m.mem.u8.subarray(0, m.mem.top));
  h.update(JSON.stringify(m.stats));
  return h.digest('hex');
}

async function engine(file: string): Promise<Engine> {
  const m = await createKernel(loadScenarioFile(fixture(file)), { loadDriver });
  return new Engine(m, { console: () => {} });
}

describe('engine determinism', () => {
  for (const file of ['drv.ksim.json', 'bhyve.ksim.json']) {
    it(`${file}: stopping everywhere ends in the same state as never stopping`, async () => {
      const a = await engine(file);
      assert.equal(a.continueSync().kind, 'end');
      const b = await engine(file);
      b.bps.setFilters([{ id: 'swtch' }, { id: 'ctxop' }]);
      // Natives called from the built-in workloads, and from C: calls that begin their statement
      // (kmem_zalloc, kmem_free), calls later in one (ctxop_attach), the C ctxop handlers the
      // kernel calls (drv_save, drv_restore: the function point inside callHook), and C to C.
      const fns = b.m.program
        ? ['kmem_zalloc', 'kmem_free', 'ctxop_allocate', 'ctxop_attach', 'ctxop_detach', 'kpreempt_enable', 'drv_save', 'drv_restore', 'drv_work']
        : ['kmem_zalloc', 'kmem_free', 'ctxop_attach', 'ctxop_detach', 'kpreempt_enable'];
      b.bps.setFunctions(b.m, fns.map((name) => ({ name })));
      if (b.m.program) {
        const src = Breakpoints.normPath(fixture('drv.c'));
        b.bps.lines.set(src, b.m.program.statementLines(src).map((l) => ({ id: b.bps.id(), file: src, line: l, requested: l, verified: true, hits: 0 })));
      }
      let stops = 0;
      for (;;) {
        const o = b.continueSync();
        if (o.kind !== 'stopped') break;
        stops++;
      }
      assert.ok(stops > 30, `${stops} stops`);
      assert.equal(digest(b.m), digest(a.m));
    });
  }

  it('reverse continue over stops at calls that begin a C statement and at C ctxop handlers reaches every forward stop', async () => {
    const e = await engine('drv.ksim.json');
    e.bps.setFunctions(e.m, ['kmem_zalloc', 'drv_save', 'drv_restore', 'ctxop_detach', 'kmem_free'].map((name) => ({ name })));
    const seen: string[] = [];
    const at = () => `${posText(e.cur.pos)} ${e.cur.point?.name ?? ''} ${digest(e.m)}`;
    for (;;) {
      const o = e.continueSync();
      if (o.kind !== 'stopped') {
        assert.equal(o.kind, 'end');
        break;
      }
      seen.push(at());
    }
    assert.ok(seen.filter((s) => s.includes(' kmem_zalloc ')).length === 2, seen.join('\n'));
    // drv_save / drv_restore stop at their first statement (through their 'function' point).
    assert.ok(seen.length > 12, seen.join('\n'));
    // The state at the end is that of a run that never stopped.
    const plain = await engine('drv.ksim.json');
    assert.equal(plain.continueSync().kind, 'end');
    assert.equal(digest(e.m), digest(plain.m));
    for (let i = seen.length - 1; i >= 0; i--) {
      const o = e.reverseSync('continue', e.cur.thread);
      assert.equal(o.kind, 'stopped');
      assert.equal(at(), seen[i], `back to #${i}`);
    }
    // And forward again from the first stop, through the others, to the same end.
    for (let i = 1; i < seen.length; i++) {
      assert.equal(e.continueSync().kind, 'stopped');
      assert.equal(at(), seen[i], `forward again to #${i}`);
    }
    assert.equal(e.continueSync().kind, 'end');
    assert.equal(digest(e.m), digest(plain.m));
  });

  it('stepping back from a later stop over a stop at kmem_zalloc (a call that begins its statement)', async () => {
    const e = await engine('drv.ksim.json');
    const t = e.m.threadByName('w0')!;
    e.bps.setFunctions(e.m, [{ name: 'kmem_zalloc' }]);
    assert.equal(e.continueSync().kind, 'stopped');
    assert.equal(e.cur.point?.name, 'kmem_zalloc');
    const stop = `${posText(e.cur.pos)} ${digest(e.m)}`;
    const nexts: string[] = [stop];
    for (let i = 0; i < 6; i++) {
      assert.equal(e.stepSync('next', t.addr).kind, 'stopped');
      nexts.push(`${posText(e.cur.pos)} ${digest(e.m)}`);
    }
    for (let i = nexts.length - 2; i >= 0; i--) {
      assert.equal(e.reverseSync('step', t.addr).kind, 'stopped');
      assert.equal(`${posText(e.cur.pos)} ${digest(e.m)}`, nexts[i], `back to #${i}`);
    }
    e.bps.setFunctions(e.m, []);
    assert.equal(e.continueSync().kind, 'end');
    const plain = await engine('drv.ksim.json');
    assert.equal(plain.continueSync().kind, 'end');
    assert.equal(digest(e.m), digest(plain.m));
  });

  /**
   * Runs drv.ksim.json to the end under the debugger, stopping at every switch (and at the lines
   * in `lines`), and from each stop Steps Into until the first C line outside savectx/restorectx;
   * the events it sent (the flow trace's), the kinds of kernel-line stops, and the end state.
   */
  async function stepIntoEverything(lines: number[]): Promise<{ events: string[]; kinds: Map<string, number>; digest: string }> {
    const events: string[] = [];
    const m = await createKernel(loadScenarioFile(fixture('drv.ksim.json')), { loadDriver });
    const e = new Engine(m, { console: () => {}, flow: { event: (ev) => void events.push(JSON.stringify(ev)) } });
    e.bps.setFilters([{ id: 'swtch' }]);
    const src = Breakpoints.normPath(fixture('drv.c'));
    e.bps.lines.set(src, lines.map((l) => ({ id: e.bps.id(), file: src, line: l, requested: l, verified: true, hits: 0 })));
    const kinds = new Map<string, number>();
    let o = e.continueSync();
    while (o.kind === 'stopped') {
      for (let i = 0; i < 40; i++) {
        o = e.stepSync('in', e.cur.thread);
        if (o.kind !== 'stopped') break;
        const p = e.cur.point!;
        const k = p.kind === 'kline' ? `kline ${p.name} ${p.op}` : p.kind;
        kinds.set(k, (kinds.get(k) ?? 0) + 1);
        if (p.kind === 'statement' && !m.stackOf(p.thread).some((f) => f.name === 'savectx' || f.name === 'restorectx')) break;
      }
      if (o.kind !== 'stopped') break;
      o = e.continueSync();
    }
    assert.equal(o.kind, 'end');
    return { events, kinds, digest: digest(m) };
  }

  async function withoutDebugger(): Promise<{ events: string[]; digest: string }> {
    const events: string[] = [];
    const m = await createKernel(loadScenarioFile(fixture('drv.ksim.json')), { loadDriver });
    m.sink = { event: (ev) => void events.push(JSON.stringify(ev)) };
    assert.equal(m.run().kind, 'end');
    return { events, digest: digest(m) };
  }

  const atLeast3 = (kinds: Map<string, number>, names: string[]) => {
    for (const k of names) assert.ok((kinds.get(k) ?? 0) >= 3, `${k}: ${kinds.get(k) ?? 0} stops (${[...kinds].join(', ')})`);
  };

  it('Step Into through every switch (kernel lines, both threads): every event, its tick and its cycle, and the end state equal a run without a debugger', async () => {
    const plain = await withoutDebugger();
    const d = await stepIntoEverything([]);
    atLeast3(d.kinds, ['kline savectx end', 'kline resume switch', 'kline _resume_from_idle enter', 'kline restorectx end', 'kline _resume_from_idle return']);
    assert.equal(d.events.length, plain.events.length);
    assert.deepEqual(d.events, plain.events);
    assert.equal(d.digest, plain.digest);
  });

  it('Step Into through every ctxop_attach()/ctxop_detach() call, line by line: every event, its tick and the end state equal a run without a debugger', async () => {
    const plain = await withoutDebugger();
    const d = await stepIntoEverything([67, 71]);
    atLeast3(d.kinds, ['kline ctxop_attach kpreempt_disable();', 'kline ctxop_attach t->t_ctx = ctx;', 'kline ctxop_attach kpreempt_enable();',
      'kline ctxop_detach kpreempt_disable();', 'kline ctxop_detach ASSERT(t->t_ctx != NULL);', 'kline ctxop_detach kpreempt_enable();']);
    // With the cycle (`at`): a C step's calls record the step's start and the cycles of the
    // statements before theirs (Machine.phaseUsed), so a stop at a C line moves no event.
    assert.equal(d.events.length, plain.events.length);
    assert.deepEqual(d.events, plain.events);
    assert.equal(d.digest, plain.digest);
  });

  it('a line breakpoint stopping at every hit of C lines after kernel calls (kmem_zalloc, kpreempt_disable, ctxop_free): every event with its cycle and the end state equal a run without a debugger', async () => {
    const plain = await withoutDebugger();
    const events: string[] = [];
    const m = await createKernel(loadScenarioFile(fixture('drv.ksim.json')), { loadDriver });
    const e = new Engine(m, { console: () => {}, flow: { event: (ev) => void events.push(JSON.stringify(ev)) } });
    const src = Breakpoints.normPath(fixture('drv.c'));
    // Each line follows a kernel call of the same batch of statements (drv_thread's 61, 70, 75).
    e.bps.lines.set(src, [64, 71, 76].map((l) => ({ id: e.bps.id(), file: src, line: l, requested: l, verified: true, hits: 0 })));
    const hits = new Map<number, number>();
    let o = e.continueSync();
    while (o.kind === 'stopped') {
      const p = e.cur.point!;
      assert.equal(p.kind, 'statement');
      const line = (p.detail as { line: number }).line;
      hits.set(line, (hits.get(line) ?? 0) + 1);
      o = e.continueSync();
    }
    assert.equal(o.kind, 'end');
    // Both workers, every round (drv_rounds) at line 71.
    assert.deepEqual([...hits.keys()].sort(), [64, 71, 76]);
    assert.equal(hits.get(64), 2);
    assert.ok(hits.get(71)! >= 4, `line 71: ${hits.get(71)} stops`);
    assert.equal(events.length, plain.events.length);
    assert.deepEqual(events, plain.events);
    assert.equal(digest(m), plain.digest);
  });

  it('every position a forward step reached is reached again by stepping back', async () => {
    const e = await engine('drv.ksim.json');
    const t = e.m.threadByName('w1')!;
    const seen: string[] = [];
    const at = () => `${posText(e.cur.pos)} ${digest(e.m)}`;
    seen.push(at());
    for (let i = 0; i < 30; i++) {
      const o = e.stepSync(i % 3 === 0 ? 'in' : 'next', t.addr);
      if (o.kind !== 'stopped') break;
      seen.push(at());
    }
    // stepBack follows `next` semantics, so compare against a run of nexts only.
    const f = await engine('drv.ksim.json');
    const tf = f.m.threadByName('w1')!;
    const nexts: string[] = [`${posText(f.cur.pos)} ${digest(f.m)}`];
    // A check is named by its number alone: the step count at a check depends on where the
    // run stopped before (a stop splits the interpreter's batch of statements).
    // (Up to the thread's exit: a step back from the exit stop is known to stay there once.)
    for (let i = 0; i < 20; i++) {
      if (f.stepSync('next', tf.addr).kind !== 'stopped') break;
      nexts.push(`${posText(f.cur.pos)} ${digest(f.m)}`);
    }
    for (let i = nexts.length - 2; i >= 0; i--) {
      f.reverseSync('step', tf.addr);
      assert.equal(`${posText(f.cur.pos)} ${digest(f.m)}`, nexts[i], `back to #${i}`);
    }
    assert.ok(seen.length > 10);
  });
});
