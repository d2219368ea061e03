/**
 * Breakpoints: exception filters (with conditions), function breakpoints (kernel functions,
 * native and C ctxop handlers), line breakpoints (verify/move, condition, hit count, log
 * points), data breakpoints, and exceptionInfo.
 */
import { describe, it, afterEach } from 'node:test';
import * as assert from 'node:assert/strict';
import { inProc, fixture, Client, strip } from './helpers';

let dc: Client | null = null;
afterEach(async () => {
  await dc?.close();
  dc = null;
});

const DRV = fixture('drv.c');

describe('exception filters', () => {
  it('swtch with a condition over from/to stops only on switches to vcpu1, with both threads named', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('bhyve.ksim.json') }, (c) => c.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'swtch', condition: 'to == "vcpu1"' }] }));
    const st = await dc.stopAfter(m);
    // A switch is a breakpoint-like stop (no exception widget); the text says which thread is which.
    assert.equal(st.body.reason, 'breakpoint');
    assert.equal(st.body.allThreadsStopped, true);
    assert.equal(st.body.description, 'Paused on context switch on cpu0: vcpu0 (going off, shown) -> vcpu1 (coming in)');
    assert.equal(st.body.text, 'context switch vcpu0 -> vcpu1 (cpu0, preempt): vcpu0 saves and goes off the CPU; vcpu1 comes in and its restore ops run next');
    const threads = await dc.threadsByName();
    assert.equal(st.body.threadId, threads.get('vcpu0'));
    const info = await dc.exceptionInfoRequest({ threadId: st.body.threadId! });
    assert.equal(info.body.exceptionId, 'swtch');
    assert.match(info.body.details!.message!, /vcpu0 \(fffffe[0-9a-f]+\) gives the CPU to vcpu1/);
    const again = await dc.cont();
    assert.match(again.body.description!, /on cpu0: \S+ \(going off, shown\) -> vcpu1 \(coming in\)/);
  });

  it('a filter condition that does not parse is refused with the reason', async () => {
    dc = inProc();
    await dc.init();
    const r = await dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'swtch', condition: 'too == "x"' }, { filterId: 'ctxop', condition: 'op == ' }, { filterId: 'nosuch' }] });
    const bps = r.body!.breakpoints!;
    assert.equal(bps[0]!.verified, false);
    assert.match(bps[0]!.message!, /unknown name 'too'/);
    assert.equal(bps[1]!.verified, false);
    assert.match(bps[1]!.message!, /ends too early/);
    assert.match(bps[2]!.message!, /unknown exception filter 'nosuch'/);
  });

  it('ctxop with a condition over op and handler: restore hooks of vmm only, the handler shown as the top frame', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('bhyve.ksim.json') }, (c) => c.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'ctxop', condition: 'op == "restore" && handler =~ "^vmm_"' }] }));
    const st = await dc.stopAfter(m);
    assert.equal(st.body.reason, 'breakpoint');
    assert.match(st.body.description!, /Paused on ctxop restore hook vmm_restorectx/);
    const names = await dc.frameNames(st.body.threadId!);
    assert.deepEqual(names.slice(0, 3), ['vmm_restorectx', 'restorectx', '_resume_from_idle']);
    const info = await dc.exceptionInfoRequest({ threadId: st.body.threadId! });
    assert.equal(info.body.exceptionId, 'ctxop');
    assert.match(info.body.details!.message!, /ctxop ring of vcpu\d \(save order\): \S+ vmm_savectx\/vmm_restorectx, \S+ fpsave_ctxt\/fprestore_ctxt, \S+ lwp_segregs_save\/lwp_segregs_restore/);
  });

  it('sleep-preempt-disabled (on by default) stops at KM_SLEEP under kpreempt_disable, in the C source', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('hazards.ksim.json') }, (c) => c.setExceptionBreakpointsRequest({ filters: ['sleep-preempt-disabled'] }));
    const st = await dc.stopAfter(m);
    assert.equal(st.body.reason, 'exception');
    assert.match(st.body.text!, /kmem_alloc: KM_SLEEP allocation with preemption disabled \(t_preempt=1\) on thread \S+ \(hz\)/);
    const f = (await dc.frames(st.body.threadId!))[0]!;
    assert.equal(f.source?.path, fixture('hazards.c'));
    assert.equal(f.line, 22);
    const info = await dc.exceptionInfoRequest({ threadId: st.body.threadId! });
    assert.equal(info.body.exceptionId, 'sleep-preempt-disabled');
  });

  it('continuing from a sleep-preempt-disabled stop inside kmem_alloc runs on: no second stop at the same call', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('hazards.ksim.json') }, (c) => c.setExceptionBreakpointsRequest({ filters: ['sleep-preempt-disabled'] }));
    const st = await dc.stopAfter(m);
    assert.equal(st.body.reason, 'exception');
    const m2 = dc.mark();
    await dc.continueRequest({ threadId: st.body.threadId! });
    await dc.waitFor('terminated', m2);
    assert.deepEqual(dc.names(m2).filter((n) => n === 'stopped'), [], 'the one hazard in the fixture is reported once');
    // The allocation really happened once: the run ends with the same single leak as an undebugged run.
    assert.equal(dc.names(m2).includes('exited'), true);
  });

  it('a function breakpoint on kmem_alloc and the hazard inside it: each stops once, in that order', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('hazards.ksim.json') }, async (c) => {
      await c.setExceptionBreakpointsRequest({ filters: ['sleep-preempt-disabled'] });
      await c.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'kmem_alloc' }] });
    });
    const first = await dc.stopAfter(m);
    assert.equal(first.body.reason, 'function breakpoint');
    const m2 = dc.mark();
    await dc.continueRequest({ threadId: first.body.threadId! });
    const second = await dc.stopAfter(m2);
    assert.equal(second.body.reason, 'exception');
    const cLine = async (id: number) => (await dc!.frames(id)).find((f) => f.source?.path)?.line;
    assert.equal(await cLine(second.body.threadId!), 22);
    const m3 = dc.mark();
    await dc.continueRequest({ threadId: second.body.threadId! });
    const third = await dc.stopAfter(m3);
    // The next stop is the next kmem_alloc call (line 25), not kmem_alloc on line 22 again.
    assert.equal(third.body.reason, 'function breakpoint');
    assert.equal(await cLine(third.body.threadId!), 25);
  });

  it('leak stops at the end of the run with the leaked buffers; continuing ends the session', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('hazards.ksim.json') }, (c) => c.setExceptionBreakpointsRequest({ filters: ['leak'] }));
    const st = await dc.stopAfter(m);
    assert.equal(st.body.reason, 'exception');
    assert.match(st.body.description!, /1 leaked buffer\(s\) at the end of the run/);
    const info = await dc.exceptionInfoRequest({ threadId: st.body.threadId! });
    assert.equal(info.body.exceptionId, 'leak');
    assert.match(info.body.details!.message!, /1 buffer\(s\) of 128 bytes \(kmem_alloc_128\) leaked, allocated by hz_thread/);
    const out = await dc.repl('::findleaks');
    assert.match(out, /hz_thread/);
    const m2 = dc.mark();
    await dc.continueRequest({ threadId: st.body.threadId! });
    const ex = await dc.waitFor('exited', m2);
    assert.equal(ex.body.exitCode, 0);
    await dc.waitFor('terminated', m2);
  });

  it('assert and panic: a failed VERIFY stops as assert with the panic stack; exceptionInfo explains', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('panic.ksim.json') }, (c) => c.setExceptionBreakpointsRequest({ filters: ['assert', 'panic'] }));
    const st = await dc.stopAfter(m);
    assert.equal(st.body.reason, 'exception');
    assert.equal(st.body.description, 'Paused on a failed assertion: assertion failed: (uintptr_t)arg == 7 (0x3 == 0x7), file: hazards.c, line: 30');
    const info = await dc.exceptionInfoRequest({ threadId: st.body.threadId! });
    assert.equal(info.body.exceptionId, 'assert');
    // The exception widget's first line is the panic message itself.
    assert.equal(info.body.description, 'assertion failed: (uintptr_t)arg == 7 (0x3 == 0x7), file: hazards.c, line: 30');
    assert.match(info.body.details!.message!, /assertion failed: \(uintptr_t\)arg == 7/);
    assert.match(info.body.details!.stackTrace!, /hz_thread\+0x[0-9a-f]+\(/);
    const out = dc.events.slice(m).filter((e) => e.event === 'output').map((e) => e.body.output).join('');
    assert.match(out, /panic\[cpu0\]\/thread=fffffe[0-9a-f]+: assertion failed/);
    const m2 = dc.mark();
    await dc.continueRequest({ threadId: st.body.threadId! });
    assert.equal((await dc.waitFor('exited', m2)).body.exitCode, 3);
  });

  it('panic filter off: the panic is printed and the session ends with exit code 3', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('panic.ksim.json') }, (c) => c.setExceptionBreakpointsRequest({ filters: [] }));
    assert.equal((await dc.waitFor('exited', m)).body.exitCode, 3);
    assert.ok(!dc.names(m).includes('stopped'));
  });

  it('deadlock (on by default): the lock cycle stops with both threads named', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('deadlock.ksim.json') }, (c) => c.setExceptionBreakpointsRequest({ filters: ['deadlock'] }));
    const st = await dc.stopAfter(m);
    assert.equal(st.body.reason, 'exception');
    assert.match(`${st.body.description} ${st.body.text}`, /deadlock|blocked/);
    assert.match(st.body.text!, /ab|ba/);
    const info = await dc.exceptionInfoRequest({ threadId: st.body.threadId! });
    assert.equal(info.body.exceptionId, 'deadlock');
  });

  it('lock-order: the first opposite-order acquisition stops before anything hangs', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('deadlock.ksim.json') }, (c) => c.setExceptionBreakpointsRequest({ filters: ['lock-order'] }));
    const st = await dc.stopAfter(m);
    assert.equal(st.body.reason, 'exception');
    assert.match(st.body.description!, /opposite orders/);
    assert.match(st.body.text!, /lock_a/);
    assert.match(st.body.text!, /lock_b/);
    const info = await dc.exceptionInfoRequest({ threadId: st.body.threadId! });
    assert.equal(info.body.exceptionId, 'lock-order');
  });
  it('stub: a call to a stub made for an undefined function stops after the call, in the C caller; a condition picks the stub', async () => {
    dc = inProc();
    let m = dc.mark();
    await dc.launchWith({ scenario: fixture('stubs.ksim.json') }, (c) => c.setExceptionBreakpointsRequest({ filters: ['stub'] }));
    let st = await dc.stopAfter(m);
    assert.equal(st.body.reason, 'breakpoint');
    assert.equal(st.body.allThreadsStopped, true);
    assert.equal(st.body.description, 'Paused after a call to the stub hw_probe()');
    assert.equal(st.body.text, 't0 called hw_probe(), which the kernel does not have: the stub returned 0');
    const top = (await dc.stackTraceRequest({ threadId: st.body.threadId! })).body.stackFrames[0]!;
    assert.equal(top.name, 'entry');
    assert.equal(top.line, 11);
    st = await dc.cont(st.body.threadId!);
    assert.equal(st.body.description, 'Paused after a call to the stub hw_reset()');
    // Only hw_probe from here: the second call, then the end of the run.
    await dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'stub', condition: 'name == "hw_probe"' }] });
    st = await dc.cont(st.body.threadId!);
    assert.equal(st.body.description, 'Paused after a call to the stub hw_probe()');
    assert.equal((await dc.stackTraceRequest({ threadId: st.body.threadId! })).body.stackFrames[0]!.line, 14);
    m = dc.mark();
    await dc.continueRequest({ threadId: st.body.threadId! });
    await dc.waitFor('terminated', m, () => true);
  });
});

describe('function breakpoints', () => {
  it('vmm_savectx (a native ctxop handler) stops when the kernel calls it: vmm_savectx < savectx < resume < swtch', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('bhyve.ksim.json') }, async (c) => {
      const r = await c.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'vmm_savectx' }] });
      assert.equal(r.body.breakpoints[0]!.verified, true);
      await c.setExceptionBreakpointsRequest({ filters: [] });
    });
    let st = await dc.stopAfter(m);
    assert.equal(st.body.reason, 'function breakpoint');
    assert.equal(st.body.allThreadsStopped, true);
    assert.ok(st.body.hitBreakpointIds?.length === 1);
    // The first call is vm_run's own, after ctxop_detach; then the kernel calls it as a hook.
    let names = await dc.frameNames(st.body.threadId!);
    assert.deepEqual(names.slice(0, 2), ['vmm_savectx', 'vm_run']);
    for (let i = 0; i < 10 && names[1] !== 'savectx'; i++) {
      st = await dc.cont();
      assert.equal(st.body.reason, 'function breakpoint');
      names = await dc.frameNames(st.body.threadId!);
    }
    assert.deepEqual(names.slice(0, 4), ['vmm_savectx', 'savectx', 'resume', 'swtch']);
  });

  it('swtch, resume, savectx and restorectx are kernel function breakpoints; unknown names are unverified', async () => {
    dc = inProc();
    const m = dc.mark();
    let verified: boolean[] = [];
    await dc.launchWith({ scenario: fixture('bhyve.ksim.json') }, async (c) => {
      const r = await c.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'restorectx' }, { name: 'no_such_fn' }] });
      verified = r.body.breakpoints.map((b) => b.verified);
      await c.setExceptionBreakpointsRequest({ filters: [] });
    });
    assert.deepEqual(verified, [true, false]);
    let st = await dc.stopAfter(m);
    assert.equal(st.body.reason, 'function breakpoint');
    let names = await dc.frameNames(st.body.threadId!);
    assert.equal(names[0], 'lwp_segregs_restore');
    assert.equal(names[1], 'restorectx');
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'resume', condition: 'to == "vcpu1"' }] });
    st = await dc.cont();
    names = await dc.frameNames(st.body.threadId!);
    assert.deepEqual(names.slice(0, 2), ['resume', 'swtch']);
    assert.match(st.body.text!, /-> vcpu1/);
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'savectx' }] });
    st = await dc.cont();
    names = await dc.frameNames(st.body.threadId!);
    assert.deepEqual(names.slice(1, 4), ['savectx', 'resume', 'swtch']);
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'swtch', hitCondition: '3' }] });
    st = await dc.cont();
    assert.equal((await dc.frameNames(st.body.threadId!))[0], 'swtch');
  });

  it('a C ctxop handler (drv_save) stops at its first statement, in the driver source', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('drv.ksim.json') }, (c) => c.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'drv_save' }] }));
    const st = await dc.stopAfter(m);
    assert.equal(st.body.reason, 'function breakpoint');
    const fs = await dc.frames(st.body.threadId!);
    assert.equal(strip(fs[0]!.name), 'drv_save');
    assert.equal(fs[0]!.source?.path, DRV);
    assert.equal(fs[0]!.line, 27);
    assert.deepEqual(fs.slice(1, 4).map((f) => strip(f.name)), ['savectx', 'resume', 'swtch']);
  });
});

describe('line breakpoints', () => {
  it('are verified against statements and moved to the next statement line', async () => {
    dc = inProc();
    let lines: Array<number | undefined> = [];
    let verified: boolean[] = [];
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('drv.ksim.json') }, async (c) => {
      const r = await c.setBreakpointsRequest({ source: { path: DRV }, breakpoints: [{ line: 51 }, { line: 50 }] });
      lines = r.body.breakpoints.map((b) => b.line);
      verified = r.body.breakpoints.map((b) => b.verified);
    });
    assert.deepEqual(verified, [true, true]);
    assert.deepEqual(lines, [52, 52]);
    const st = await dc.stopAfter(m);
    assert.equal(st.body.reason, 'breakpoint');
    const f = (await dc.frames(st.body.threadId!))[0]!;
    assert.equal(f.line, 52);
    assert.equal(strip(f.name), 'drv_work');
    const locs = await dc.customRequest('breakpointLocations', { source: { path: DRV }, line: 47, endLine: 56 });
    assert.deepEqual((locs.body as { breakpoints: Array<{ line: number }> }).breakpoints.map((b) => b.line), [49, 52, 53, 54, 55, 56]);
  });

  it('breakpoints set before launch are pending, then verified by a breakpoint changed event', async () => {
    dc = inProc();
    await dc.init();
    const r = await dc.setBreakpointsRequest({ source: { path: DRV }, breakpoints: [{ line: 51 }] });
    assert.equal(r.body.breakpoints[0]!.verified, false);
    assert.match(r.body.breakpoints[0]!.message!, /pending/);
    const id = r.body.breakpoints[0]!.id;
    const m = dc.mark();
    const launched = dc.launchRequest({ scenario: fixture('drv.ksim.json') } as never);
    const changed = await dc.waitFor('breakpoint', m);
    assert.equal(changed.body.reason, 'changed');
    assert.equal(changed.body.breakpoint.id, id);
    assert.equal(changed.body.breakpoint.verified, true);
    assert.equal(changed.body.breakpoint.line, 52);
    await dc.waitFor('initialized', m);
    await dc.configurationDoneRequest();
    await launched;
    const st = await dc.stopAfter(m);
    assert.equal(st.body.reason, 'breakpoint');
    assert.deepEqual(st.body.hitBreakpointIds, [id]);
  });

  it('a breakpoint in a file that is not a source of the scenario is unverified with a reason', async () => {
    dc = inProc();
    await dc.launchWith({ scenario: fixture('drv.ksim.json'), stopOnEntry: true }, async (c) => {
      const r = await c.setBreakpointsRequest({ source: { path: fixture('hazards.c') }, breakpoints: [{ line: 20 }] });
      assert.equal(r.body.breakpoints[0]!.verified, false);
      assert.match(r.body.breakpoints[0]!.message!, /not one of the scenario's sources/);
    });
  });

  it('condition (C) and log point', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('drv.ksim.json') }, (c) => c.setBreakpointsRequest({
      source: { path: DRV },
      breakpoints: [{ line: 53, condition: 'i == 2 && w->w_id == 1' }, { line: 54, logMessage: 'worker {w->w_id}: sum={sum}' }],
    }));
    const st = await dc.stopAfter(m);
    assert.equal(st.body.reason, 'breakpoint');
    const f = (await dc.frames(st.body.threadId!))[0]!;
    assert.equal(f.line, 53);
    assert.equal((await dc.evaluateRequest({ expression: 'i', frameId: f.id, context: 'watch' })).body.result, '2');
    assert.equal((await dc.evaluateRequest({ expression: 'w->w_id', frameId: f.id, context: 'hover' })).body.result, '1');
    const logs = dc.events.slice(m).filter((e) => e.event === 'output' && /^worker \d: sum=/.test(e.body.output)).map((e) => e.body.output);
    assert.ok(logs.length >= 1, 'a log point printed before the stop');
    assert.ok(logs.every((l) => l === 'worker 0: sum=6\n'), logs.join(''));
    assert.ok(!dc.events.slice(m).some((e) => e.event === 'stopped' && e !== st), 'log points do not stop');
  });

  it('hit count: == 3 stops on the third execution only', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('drv.ksim.json') }, (c) => c.setBreakpointsRequest({ source: { path: DRV }, breakpoints: [{ line: 53, hitCondition: '== 3' }] }));
    const st = await dc.stopAfter(m);
    const f = (await dc.frames(st.body.threadId!))[0]!;
    assert.equal(f.line, 53);
    assert.equal((await dc.evaluateRequest({ expression: 'i', frameId: f.id, context: 'watch' })).body.result, '2');
    assert.equal((await dc.evaluateRequest({ expression: 'w->w_id', frameId: f.id, context: 'watch' })).body.result, '0');
    const m2 = dc.mark();
    await dc.continueRequest({ threadId: st.body.threadId! });
    await dc.waitFor('terminated', m2);
    assert.ok(!dc.names(m2).includes('stopped'));
  });
});

describe('data breakpoints', () => {
  it('break on write to a driver global (drv_total) after the store', async () => {
    dc = inProc();
    let m = dc.mark();
    await dc.launchWith({ scenario: fixture('drv.ksim.json') }, (c) => c.setBreakpointsRequest({ source: { path: DRV }, breakpoints: [{ line: 53 }] }));
    const st = await dc.stopAfter(m);
    const frame = (await dc.frames(st.body.threadId!))[0]!;
    const globals = (await dc.scopesRequest({ frameId: frame.id })).body.scopes.find((s) => s.name === 'Globals')!;
    const info = await dc.dataBreakpointInfoRequest({ variablesReference: globals.variablesReference, name: 'drv_total' });
    assert.ok(info.body.dataId, info.body.description);
    assert.deepEqual(info.body.accessTypes, ['write']);
    const set = await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId!, accessType: 'write' }] });
    assert.equal(set.body.breakpoints[0]!.verified, true);
    await dc.setBreakpointsRequest({ source: { path: DRV }, breakpoints: [] });
    m = dc.mark();
    const hit = await dc.cont();
    assert.equal(hit.body.reason, 'data breakpoint');
    assert.match(hit.body.description!, /drv_total/);
    const f = (await dc.frames(hit.body.threadId!))[0]!;
    assert.equal(strip(f.name), 'drv_work');
    assert.equal((await dc.evaluateRequest({ expression: 'drv_total', frameId: f.id, context: 'watch' })).body.result, '6');
  });
});
