/**
 * Execution: next/stepIn/stepOut in C and in built-in workloads, stepIn into a hook the kernel
 * calls at a switch, pause, stepBack and reverseContinue (exact positions), exact event orders.
 */
import { describe, it, afterEach } from 'node:test';
import * as assert from 'node:assert/strict';
import { inProc, fixture, Client, strip, type Stopped } from './helpers';

let dc: Client | null = null;
afterEach(async () => {
  await dc?.close();
  dc = null;
});

const DRV = fixture('drv.c');

/** Where a thread is: top frame name and line. */
async function where(c: Client, threadId: number): Promise<string> {
  const f = (await c.frames(threadId, 1))[0]!;
  return `${strip(f.name)}:${f.line}`;
}

/** Launches drv.ksim.json on `c`, runs to the first thread at drv.c:`line`, clears the breakpoint; that thread. */
async function stopAtLine(c: Client, line: number): Promise<number> {
  const m = c.mark();
  await c.launchWith({ scenario: fixture('drv.ksim.json') }, (x) => x.setBreakpointsRequest({ source: { path: DRV }, breakpoints: [{ line }] }));
  const st = await c.stopAfter(m);
  await c.setBreakpointsRequest({ source: { path: DRV }, breakpoints: [] });
  return st.body.threadId!;
}

describe('stepping', () => {
  it('next / stepIn / stepOut through the driver C code of one thread', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('drv.ksim.json') }, (c) => c.setBreakpointsRequest({ source: { path: DRV }, breakpoints: [{ line: 68 }] }));
    const st = await dc.stopAfter(m);
    const tid = st.body.threadId!;
    assert.equal(await where(dc, tid), 'drv_thread:68');
    await dc.setBreakpointsRequest({ source: { path: DRV }, breakpoints: [] });
    let s = await dc.stepIn(tid);
    assert.equal(s.body.reason, 'step');
    assert.equal(s.body.threadId, tid);
    assert.equal(s.body.allThreadsStopped, true);
    assert.equal(await where(dc, tid), 'drv_work:49');
    s = await dc.next(tid);
    assert.equal(await where(dc, tid), 'drv_work:52');
    s = await dc.stepOut(tid);
    assert.equal(s.body.reason, 'step');
    assert.equal(await where(dc, tid), 'drv_thread:69');
    // stepIn on a kernel function stops at the call, the function shown as the top frame.
    s = await dc.stepIn(tid);
    assert.deepEqual((await dc.frameNames(tid)).slice(0, 2), ['drv_usecwait', 'drv_thread']);
    s = await dc.next(tid);
    assert.equal(await where(dc, tid), 'drv_thread:70');
  });

  it('next steps over a context switch: the thread comes back at its next line, other threads ran meanwhile', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('drv.ksim.json') }, (c) => c.setBreakpointsRequest({ source: { path: DRV }, breakpoints: [{ line: 69 }] }));
    const st = await dc.stopAfter(m);
    const tid = st.body.threadId!;
    const before = ((await dc.customRequest('kctx/state')).body as { tick: number }).tick;
    await dc.setBreakpointsRequest({ source: { path: DRV }, breakpoints: [] });
    await dc.next(tid);
    assert.equal(await where(dc, tid), 'drv_thread:70');
    const after = ((await dc.customRequest('kctx/state')).body as { tick: number }).tick;
    assert.ok(after > before, `time passed: ${before} -> ${after}`);
  });

  it('built-in workloads step op by op with a generated listing as the source', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('bhyve.ksim.json'), stopOnEntry: true });
    const st = await dc.stopAfter(m);
    const tid = st.body.threadId!;
    await dc.next(tid);
    let f = (await dc.frames(tid, 1))[0]!;
    assert.equal(f.source?.name, 'builtin:bhyve-vcpu');
    assert.equal(f.line, 1);
    const ref = f.source!.sourceReference!;
    const src = await dc.sourceRequest({ sourceReference: ref, source: { sourceReference: ref } });
    const listing = src.body.content.split('\n');
    assert.match(listing[0]!, /^vcpu_init: vcpu = kmem_zalloc/);
    await dc.next(tid);
    f = (await dc.frames(tid, 1))[0]!;
    assert.match(listing[f.line - 1]!, /ctxop_allocate/);
    await dc.next(tid);
    f = (await dc.frames(tid, 1))[0]!;
    assert.match(listing[f.line - 1]!, /store vcpu->ctxop/);
  });

  it('stepIn at a context switch goes into the first ctxop hook the kernel calls', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('bhyve.ksim.json') }, (c) => c.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'swtch', condition: 'from == "vcpu0" && to == "vcpu1"' }] }));
    const st = await dc.stopAfter(m);
    const tid = st.body.threadId!;
    assert.deepEqual((await dc.frameNames(tid)).slice(0, 1), ['swtch']);
    const s = await dc.stepIn(tid);
    assert.equal(s.body.reason, 'step');
    assert.equal(s.body.threadId, tid);
    assert.match(s.body.text!, /at the ctxop save hook vmm_savectx/);
    assert.deepEqual((await dc.frameNames(tid)).slice(0, 4), ['vmm_savectx', 'savectx', 'resume', 'swtch']);
    // next from a hook: the next hook of the same switch, in save order (newest first).
    await dc.next(tid);
    assert.deepEqual((await dc.frameNames(tid)).slice(0, 2), ['fpsave_ctxt', 'savectx']);
    await dc.next(tid);
    assert.deepEqual((await dc.frameNames(tid)).slice(0, 2), ['lwp_segregs_save', 'savectx']);
  });

  it('stepIn from a switch walks the kernel line by line: savectx and its C handler, resume, then the incoming thread\'s restorectx; stepBack retraces it', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('drv.ksim.json') }, (c) => c.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'swtch', condition: 'from == "w1" && to == "w0"' }] }));
    const st = await dc.stopAfter(m);
    await dc.setExceptionBreakpointsRequest({ filters: [] });
    const names = new Map([...(await dc.threadsByName()).entries()].map(([n, id]) => [id, n]));
    const state = async () => JSON.stringify((await dc!.customRequest('kctx/state')).body);
    // (thread, top frame:line, the frames below it with their lines)
    const here = async (tid: number) => `${names.get(tid)} ${(await dc!.frames(tid, 3)).map((f) => `${strip(f.name).replace(/\(.*$/, '')}:${f.line}`).join(' < ')}`;
    // The text of the top frame's line, when it is a kernel listing.
    const text = async (tid: number) => {
      const f = (await dc!.frames(tid, 1))[0]!;
      if (!f.source?.sourceReference) return '';
      const body = (await dc!.sourceRequest({ source: f.source, sourceReference: f.source.sourceReference })).body.content;
      return `${names.get(tid)} ${strip(f.name).replace(/\(.*$/, '')}: ${body.split('\n')[f.line - 1]!.trim().replace(/\s*\/\*.*$/, '')}`;
    };
    let tid = st.body.threadId!;
    const walk = [await here(tid)];
    const states = [await state()];
    const texts = [await text(tid)];
    for (let i = 0; i < 15; i++) {
      const s: Stopped = await dc.stepIn(tid);
      assert.equal(s.body.reason, 'step');
      tid = s.body.threadId!;
      walk.push(await here(tid));
      states.push(await state());
      texts.push(await text(tid));
    }
    assert.deepEqual(walk, [
      'w1 swtch:11 < preempt:13 < kpreempt:10',
      // savectx: the save op's C handler, line by line (swtch.c: resume(next), resume.c: savectx(t))
      'w1 drv_save:27 < savectx:15 < resume:12',
      'w1 drv_save:29 < savectx:15 < resume:12',
      'w1 drv_save:30 < savectx:15 < resume:12',
      'w1 savectx:19 < resume:12 < swtch:16',
      // resume(): the CPU goes to w0
      'w1 resume:14 < swtch:16 < preempt:13',
      // w0 goes on where it switched away, in _resume_from_idle: its restore op, then back to its caller
      'w0 _resume_from_idle:7 < swtch:16 < preempt:13',
      'w0 drv_restore:35 < restorectx:15 < _resume_from_idle:8',
      'w0 drv_restore:37 < restorectx:15 < _resume_from_idle:8',
      'w0 drv_restore:38 < restorectx:15 < _resume_from_idle:8',
      'w0 restorectx:19 < _resume_from_idle:8 < swtch:16',
      'w0 _resume_from_idle:10 < swtch:16 < preempt:13',
      'w0 drv_thread:70 < thread_start:11',
      'w0 kpreempt_disable:8 < drv_thread:70 < thread_start:11',
      'w0 drv_thread:71 < thread_start:11',
      'w0 threadp:8 < drv_thread:71 < thread_start:11',
    ]);
    // What those kernel lines say in their listings.
    assert.deepEqual(texts.slice(0, 12).filter((x) => x), [
      'w1 swtch: next = disp();',
      'w1 savectx: }',
      'w1 resume: cp->cpu_thread = next;',
      'w0 _resume_from_idle: if (curthread->t_ctx != NULL)',
      'w0 restorectx: }',
      'w0 _resume_from_idle: return;',
    ]);
    // Step Back retraces the same stops (the threads and the machine state at each).
    for (let i = walk.length - 2; i >= 0; i--) {
      const b: Stopped = await dc.back(tid);
      tid = b.body.threadId!;
      assert.equal(await here(tid), walk[i], `back to #${i}`);
      assert.equal(await state(), states[i], `state at #${i}`);
    }
  });

  it('stepIn on a call of ctxop_attach() enters its kernel listing; stepOut comes back to the driver', async () => {
    dc = inProc();
    const tid = await stopAtLine(dc, 67);
    // The arguments first: curthread is threadp(), a kernel function too; then ctxop_attach().
    const s = await dc.stepIn(tid);
    assert.equal(s.body.reason, 'step');
    assert.deepEqual((await dc.frameNames(tid)).slice(0, 2), ['threadp', 'drv_thread']);
    await dc.stepIn(tid);
    const fs = await dc.frames(tid, 2);
    assert.equal(fs[0]!.name.replace(/\(.*$/, ''), 'ctxop_attach');
    assert.equal(fs[1]!.name, 'drv_thread');
    assert.equal(fs[1]!.line, 67);
    const ref = fs[0]!.source?.sourceReference ?? 0;
    assert.ok(ref > 0, JSON.stringify(fs[0]!.source));
    const text = (await dc.sourceRequest({ source: fs[0]!.source!, sourceReference: ref })).body.content.split('\n');
    assert.match(text[fs[0]!.line - 1]!, /ASSERT\(ctx->next == NULL && ctx->prev == NULL\);/, text.join('\n'));
    // Step Out finishes ctxop_attach() and stops back in the driver, at the next line.
    const o = dc.mark();
    await dc.stepOutRequest({ threadId: tid });
    const so = await dc.stopAfter(o);
    assert.equal(so.body.reason, 'step');
    const back = (await dc.frames(tid, 1))[0]!;
    assert.equal(back.name, 'drv_thread');
    assert.equal(back.line, 68);
  });

  it('stepIn walks the lines inside ctxop_attach() and ctxop_detach(); stepOver leaves them for the caller\'s next line; stepBack retraces them', async () => {
    dc = inProc();
    const tid = await stopAtLine(dc, 67);
    const who = [...(await dc.threadsByName()).entries()].find(([, id]) => id === tid)![0];
    // Each stop: the top frame, its line's text in its listing, and whether ::ctxops shows the thread's ctxop.
    const here = async () => {
      const f = (await dc!.frames(tid, 2))[0]!;
      const name = strip(f.name).replace(/\(.*$/, '');
      let text = '';
      if (f.source?.sourceReference) text = (await dc!.sourceRequest({ source: f.source, sourceReference: f.source.sourceReference })).body.content.split('\n')[f.line - 1]!.trim().replace(/\s*\/\*.*$/, '');
      const ring = new RegExp(`\\(${who}\\): 1 ctxop`).test(await dc!.repl('::ctxops')) ? 'ctxop' : 'no ctxop';
      return `${name}:${f.line} ${text} ## ${ring}`;
    };
    const seen = [await here()];
    const states = [JSON.stringify((await dc.customRequest('kctx/state')).body)];
    for (let i = 0; i < 6; i++) {
      await dc.stepIn(tid);
      seen.push(await here());
      states.push(JSON.stringify((await dc.customRequest('kctx/state')).body));
    }
    const a = (line: number) => `drv_thread:${line}`;
    assert.deepEqual(seen.map((x) => x.replace(/^(drv_\w+:\d+) .*##/, '$1 ##')), [
      `${a(67)} ## no ctxop`,
      'threadp:8  ## no ctxop',
      'ctxop_attach:8 ASSERT(ctx->next == NULL && ctx->prev == NULL); ## no ctxop',
      'ctxop_attach:9 kpreempt_disable(); ## no ctxop',
      'ctxop_attach:11 t->t_ctx = ctx; ## no ctxop',
      // The insert is done: the ring has the ctxop, preemption is still disabled.
      'ctxop_attach:12 kpreempt_enable(); ## ctxop',
      `${a(68)} ## ctxop`,
    ]);
    // Step Back goes back through the same lines, with the state of each.
    for (let i = seen.length - 2; i >= 1; i--) {
      await dc.back(tid);
      assert.equal(await here(), seen[i], `back to #${i}`);
      assert.equal(JSON.stringify((await dc.customRequest('kctx/state')).body), states[i], `state at #${i}`);
    }
    // Forward again into ctxop_attach's kpreempt_disable line, then Step Over: the caller's next line.
    await dc.stepIn(tid);
    await dc.stepIn(tid);
    assert.equal(await here(), seen[3]);
    await dc.next(tid);
    assert.equal(await here(), seen[6]);
    // ctxop_detach's lines too (drv.c:71), then Step Out from one of them.
    await dc.setBreakpointsRequest({ source: { path: DRV }, breakpoints: [{ line: 71 }] });
    await dc.cont(tid);
    await dc.setBreakpointsRequest({ source: { path: DRV }, breakpoints: [] });
    const d: string[] = [];
    for (let i = 0; i < 4; i++) {
      await dc.stepIn(tid);
      d.push(await here());
    }
    assert.deepEqual(d, [
      'threadp:8  ## ctxop',
      'ctxop_detach:8 ASSERT(t == curthread || ttoproc(t)->p_stat == SIDL || ## ctxop',
      'ctxop_detach:10 kpreempt_disable(); ## ctxop',
      'ctxop_detach:11 ASSERT(t->t_ctx != NULL); ## ctxop',
    ]);
    await dc.stepIn(tid);
    assert.equal(await here(), 'ctxop_detach:14 kpreempt_enable(); ## no ctxop');
    await dc.stepOut(tid);
    assert.match(await here(), /^drv_thread:72 .*## no ctxop$/);
  });

  it('pause stops a running kernel with reason pause', async () => {
    dc = inProc();
    const m = dc.mark();
    const many = { kernel: 'illumos-13917', cpus: 2, tickCycles: 20, threads: Array.from({ length: 8 }, (_, i) => ({ name: `s${i}`, entry: 'builtin:spin', arg: 1000000 })) };
    await dc.launchWith(many, (c) => c.setExceptionBreakpointsRequest({ filters: [] }));
    await new Promise((r) => setTimeout(r, 150));
    assert.ok(!dc.names(m).includes('stopped'));
    await dc.pauseRequest({ threadId: 1 });
    const st = await dc.stopAfter(m);
    assert.equal(st.body.reason, 'pause');
    assert.equal(st.body.allThreadsStopped, true);
    assert.ok(st.body.threadId! > 0);
  });
});

describe('reverse', () => {
  it('stepBack returns to the exact previous position, step after step (C)', async () => {
    dc = inProc();
    const tid = await stopAtLine(dc, 65);
    const seen: string[] = [];
    const state = async () => `${await where(dc!, tid)} ${JSON.stringify((await dc!.customRequest('kctx/state')).body)}`;
    seen.push(await state());
    for (let i = 0; i < 8; i++) {
      await dc.next(tid);
      seen.push(await state());
    }
    for (let i = seen.length - 2; i >= 0; i--) {
      const s: { body: { reason: string } } = await dc.back(tid);
      assert.equal(s.body.reason, 'step');
      assert.equal(await state(), seen[i], `step back to #${i}`);
    }
  });

  it('stepBack over a context switch and back forward again gives the same positions (built-in)', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('bhyve.ksim.json'), stopOnEntry: true });
    const st = await dc.stopAfter(m);
    const tid = st.body.threadId!;
    const fwd: string[] = [];
    for (let i = 0; i < 12; i++) {
      await dc.next(tid);
      fwd.push(`${await where(dc, tid)} ${JSON.stringify((await dc.customRequest('kctx/state')).body)}`);
    }
    for (let i = 0; i < 6; i++) await dc.back(tid);
    assert.equal(`${await where(dc, tid)} ${JSON.stringify((await dc.customRequest('kctx/state')).body)}`, fwd[5]);
    for (let i = 6; i < 12; i++) {
      await dc.next(tid);
      assert.equal(`${await where(dc, tid)} ${JSON.stringify((await dc.customRequest('kctx/state')).body)}`, fwd[i]);
    }
  });

  it('reverseContinue runs back to the previous breakpoint hit (swtch filter), then to the start', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('bhyve.ksim.json') }, (c) => c.setExceptionBreakpointsRequest({ filters: ['swtch'] }));
    const first = await dc.stopAfter(m);
    const second = await dc.cont();
    const third = await dc.cont();
    assert.notEqual(second.body.description, third.body.description);
    let mk = dc.mark();
    await dc.reverseContinueRequest({ threadId: third.body.threadId! });
    const back = await dc.stopAfter(mk);
    assert.equal(back.body.reason, 'breakpoint');
    assert.equal(back.body.description, second.body.description);
    assert.equal(back.body.threadId, second.body.threadId);
    mk = dc.mark();
    await dc.reverseContinueRequest({ threadId: 1 });
    assert.equal((await dc.stopAfter(mk)).body.description, first.body.description);
    mk = dc.mark();
    await dc.reverseContinueRequest({ threadId: 1 });
    assert.equal((await dc.stopAfter(mk)).body.reason, 'entry');
  });

  it('reverse from a panic: stepBack leaves the panic and shows the line before', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('panic.ksim.json') }, (c) => c.setExceptionBreakpointsRequest({ filters: ['panic', 'assert'] }));
    const st = await dc.stopAfter(m);
    assert.equal(st.body.reason, 'exception');
    const s = await dc.back(st.body.threadId!);
    assert.equal(s.body.reason, 'step');
    assert.equal(await where(dc, st.body.threadId!), 'hz_thread:30');
  });
});

describe('event order', () => {
  it('a continue to a function breakpoint: exactly one stopped event, after the continue response', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('bhyve.ksim.json'), stopOnEntry: true }, (c) => c.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'ctxop_attach' }] }));
    await dc.stopAfter(m);
    const mk = dc.mark();
    const r = await dc.continueRequest({ threadId: 1 });
    assert.equal(r.body.allThreadsContinued, true);
    const st = await dc.stopAfter(mk);
    assert.deepEqual(dc.names(mk), ['stopped']);
    assert.equal(st.body.reason, 'function breakpoint');
    assert.deepEqual((await dc.frameNames(st.body.threadId!)).slice(0, 2), ['ctxop_attach', 'vm_run']);
  });
});
