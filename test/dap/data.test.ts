/**
 * Data: threads and thread events, stacks (delayed loading, kernel frames), scopes (Locals,
 * Globals, Thread with the ctxop ring in save order, CPU), setVariable, evaluate (hover, watch,
 * repl C and mdb), completions, readMemory, the kctx/* custom requests, progress events.
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

async function atLine(c: Client, line: number, args: Record<string, unknown> = {}): Promise<{ tid: number; frameId: number }> {
  const m = c.mark();
  await c.launchWith({ scenario: fixture('drv.ksim.json'), ...args }, (x) => x.setBreakpointsRequest({ source: { path: DRV }, breakpoints: [{ line }] }));
  const st = await c.stopAfter(m);
  const f = (await c.frames(st.body.threadId!))[0]!;
  return { tid: st.body.threadId!, frameId: f.id };
}

describe('threads and stacks', () => {
  it('threads are the kthreads (idle hidden unless showIdleThreads), with state in the name', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('bhyve.ksim.json'), stopOnEntry: true });
    await dc.stopAfter(m);
    const names = (await dc.threadsRequest()).body.threads.map((t) => t.name);
    assert.deepEqual(names, ['vcpu0 [run]', 'vcpu1 [run]', 'thread_reaper [run]']);
    const dc2 = inProc();
    const m2 = dc2.mark();
    await dc2.launchWith({ scenario: fixture('bhyve.ksim.json'), stopOnEntry: true, showIdleThreads: true });
    await dc2.stopAfter(m2);
    const all = (await dc2.threadsRequest()).body.threads;
    assert.ok(all.some((t) => t.name.startsWith('idle/0')), all.map((t) => t.name).join(', '));
    await dc2.close();
  });

  it('thread events: started for each thread, exited when a thread is gone', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('drv.ksim.json') }, (c) => c.setExceptionBreakpointsRequest({ filters: ['swtch'] }));
    await dc.stopAfter(m);
    const tev = () => dc!.events.slice(m).filter((e) => e.event === 'thread').map((e) => `${e.body.reason}:${e.body.threadId}`);
    assert.deepEqual(tev(), ['started:2', 'started:3', 'started:1']);
    for (let i = 0; i < 60 && !tev().some((x) => x.startsWith('exited')); i++) await dc.cont();
    const exited = tev().filter((x) => x.startsWith('exited'));
    assert.ok(exited.length >= 1, tev().join(', '));
    const ids = (await dc.threadsRequest()).body.threads.map((t) => t.id);
    for (const x of exited) assert.ok(!ids.includes(Number(x.split(':')[1])));
  });

  it('stack: C frames with source, kernel frames with a kernel listing (not subtle on the stopped thread), delayed loading by pages', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('drv.ksim.json') }, (c) => c.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'drv_save' }] }));
    const st = await dc.stopAfter(m);
    const full = await dc.stackTraceRequest({ threadId: st.body.threadId! });
    const frames = full.body.stackFrames;
    assert.equal(full.body.totalFrames, frames.length);
    assert.equal(frames[0]!.source?.path, DRV);
    const k = frames.find((f) => strip(f.name) === 'resume')!;
    assert.equal(k.presentationHint, undefined);
    assert.equal(k.source?.path, undefined);
    assert.ok((k.source?.sourceReference ?? 0) > 0);
    assert.equal(k.source?.name, 'resume.c');
    assert.equal(k.source?.origin, 'kctx simulated kernel (read-only pseudo-C)');
    assert.match(k.name, /^resume\(fffffe[0-9a-f]+\)$/);
    const page1 = await dc.stackTraceRequest({ threadId: st.body.threadId!, startFrame: 0, levels: 2 });
    assert.equal(page1.body.stackFrames.length, 2);
    assert.equal(page1.body.totalFrames, frames.length);
    const page2 = await dc.stackTraceRequest({ threadId: st.body.threadId!, startFrame: 2, levels: 100 });
    assert.deepEqual(page2.body.stackFrames.map((f) => f.name), frames.slice(2).map((f) => f.name));
  });
});

describe('scopes and variables', () => {
  it('Locals, Globals, Thread (kthread_t) and CPU scopes of a C frame', async () => {
    dc = inProc();
    const { frameId } = await atLine(dc, 54);
    const scopes = (await dc.scopesRequest({ frameId })).body.scopes.map((s) => s.name);
    assert.equal(scopes[0], 'Locals');
    assert.equal(scopes[1], 'Globals');
    assert.match(scopes[2]!, /^Thread w0 \(kthread_t\)$/);
    assert.match(scopes[3]!, /^CPU 0 \(cpu_t\)$/);
    const locals = await dc.scopeVars(frameId, /^Locals$/);
    const byName = new Map(locals.map((v) => [v.name, v.value]));
    assert.equal(byName.get('n'), '4');
    assert.equal(byName.get('sum'), '6');
    assert.equal(byName.get('i'), '4');
    const w = locals.find((v) => v.name === 'w')!;
    assert.ok(w.variablesReference > 0);
    const members = (await dc.variablesRequest({ variablesReference: w.variablesReference })).body.variables.map((v) => v.name);
    assert.deepEqual(members, ['w_id', 'w_saves', 'w_restores', 'w_ctx']);
    const globals = await dc.scopeVars(frameId, /^Globals$/);
    assert.ok(globals.some((v) => v.name === 'drv_rounds' && v.value === '2'));
    const thread = await dc.scopeVars(frameId, /^Thread/);
    const tv = new Map(thread.map((v) => [v.name, v.value]));
    assert.equal(tv.get('state'), 'onproc');
    assert.equal(tv.get('t_preempt'), '0');
    assert.equal(tv.get('t_pri'), '60');
    assert.match(tv.get('t_state')!, /TS_ONPROC/);
    const cpu = await dc.scopeVars(frameId, /^CPU/);
    assert.ok(cpu.some((v) => v.name === 'cpu_thread' && /\(w0\)/.test(v.value)));
    assert.ok(cpu.some((v) => v.name === 'cpu_runrun'));
  });

  it('the ctxop ring expands in save order (newest first): vmm, then FPU, then segment registers', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('bhyve.ksim.json') }, (c) => c.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'savectx' }] }));
    const st = await dc.stopAfter(m);
    const f = (await dc.frames(st.body.threadId!))[0]!;
    const thread = await dc.scopeVars(f.id, /^Thread/);
    const ring = thread.find((v) => v.name === 'ctxops (save order)')!;
    assert.match(ring.value, /^3 ctxop\(s\): vmm_savectx, fpsave_ctxt, lwp_segregs_save$/);
    const entries = (await dc.variablesRequest({ variablesReference: ring.variablesReference })).body.variables;
    assert.equal(entries.length, 3);
    assert.match(entries[0]!.value, /vmm_savectx \/ vmm_restorectx/);
    const fields = (await dc.variablesRequest({ variablesReference: entries[0]!.variablesReference })).body.variables;
    assert.deepEqual(fields.slice(0, 2).map((v) => `${v.name}=${v.value}`), ['save_op=vmm_savectx', 'restore_op=vmm_restorectx']);
    const trace = (await dc.customRequest('kctx/mdb', { command: '::ctxtrace -n 4' })).body as { output: string };
    assert.match(trace.output, /CPU FUNCTION[\s\S]*-> restorectx[\s\S]*-> (fprestore_ctxt|lwp_segregs_restore)/);
    const state = (await dc.customRequest('kctx/state')).body as { threads: Array<{ name: string; ctxops: Array<{ save?: string }> }> };
    const me = state.threads.find((t) => t.ctxops.length === 3)!;
    assert.deepEqual(me.ctxops.map((c) => c.save), ['vmm_savectx', 'fpsave_ctxt', 'lwp_segregs_save']);
  });

  it('setVariable changes a driver variable, and the run goes on from the new value', async () => {
    dc = inProc();
    const { frameId, tid } = await atLine(dc, 54);
    const locals = (await dc.scopesRequest({ frameId })).body.scopes.find((s) => s.name === 'Locals')!;
    const r = await dc.setVariableRequest({ variablesReference: locals.variablesReference, name: 'sum', value: '100' });
    assert.equal(r.body.value, '100');
    await dc.setBreakpointsRequest({ source: { path: DRV }, breakpoints: [] });
    await dc.next(tid);
    const f = (await dc.frames(tid))[0]!;
    assert.equal((await dc.evaluateRequest({ expression: 'drv_total', frameId: f.id, context: 'watch' })).body.result, '100');
    // The changed history is the one stepBack replays.
    await dc.back(tid);
    const f2 = (await dc.frames(tid))[0]!;
    assert.equal((await dc.evaluateRequest({ expression: 'sum', frameId: f2.id, context: 'watch' })).body.result, '100');
    await assert.rejects(dc.setVariableRequest({ variablesReference: locals.variablesReference, name: 'nonesuch', value: '1' }));
  });

  it('setVariable sends invalidated(variables) to clients that support it', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('drv.ksim.json') }, (c) => c.setBreakpointsRequest({ source: { path: DRV }, breakpoints: [{ line: 54 }] }), { supportsInvalidatedEvent: true });
    const st = await dc.stopAfter(m);
    const f = (await dc.frames(st.body.threadId!))[0]!;
    const locals = (await dc.scopesRequest({ frameId: f.id })).body.scopes.find((s) => s.name === 'Locals')!;
    const mk = dc.mark();
    await dc.setVariableRequest({ variablesReference: locals.variablesReference, name: 'n', value: '7' });
    const inv = await dc.waitFor('invalidated', mk);
    assert.deepEqual(inv.body.areas, ['variables']);
  });
});

describe('evaluate and the debug console', () => {
  it('hover and watch evaluate C in the frame; side effects only in the console', async () => {
    dc = inProc();
    const { frameId } = await atLine(dc, 54);
    assert.equal((await dc.evaluateRequest({ expression: 'sum + n * 2', frameId, context: 'hover' })).body.result, '14');
    const wv = await dc.evaluateRequest({ expression: 'w->w_id', frameId, context: 'watch' });
    assert.equal(wv.body.result, '0');
    await assert.rejects(dc.evaluateRequest({ expression: 'sum = 5', frameId, context: 'watch' }), /side effects/);
    assert.equal((await dc.evaluateRequest({ expression: 'sum = 5', frameId, context: 'repl' })).body.result, '5');
    await assert.rejects(dc.evaluateRequest({ expression: 'nosuch_name', frameId, context: 'watch' }));
  });

  it('the console takes mdb syntax: ::threadlist, addr::dcmd, $c, pipelines', async () => {
    dc = inProc();
    const { frameId } = await atLine(dc, 54);
    const tl = await dc.repl('::threadlist', frameId);
    assert.match(tl, /ADDR\s+PROC\s+LWP\s+CMD/);
    assert.match(tl, /w0/);
    const c = await dc.repl('$c', frameId);
    assert.match(c, /drv_work\+0x[0-9a-f]+\(/);
    const state = (await dc.customRequest('kctx/state')).body as { threads: Array<{ name: string; addr: string }> };
    const w1 = state.threads.find((t) => t.name === 'w1')!;
    assert.match(await dc.repl(`${w1.addr}::findstack`, frameId), /stack pointer for thread/);
    const pipe = await dc.repl('::walk thread | ::thread', frameId);
    assert.ok(pipe.split('\n').length >= 3, pipe);
    const mdb = (await dc.customRequest('kctx/mdb', { command: '::ctxtrace' })).body as { output: string };
    assert.equal(mdb.output, 'no ctxop hook calls recorded\n');
  });

  it('the console reads memory with mdb formats (symbol/FMT, symbol,count/FMT); a / b with spaces is C', async () => {
    dc = inProc();
    const { frameId } = await atLine(dc, 54);
    const c = await dc.evaluateRequest({ expression: 'drv_rounds', frameId, context: 'repl' });
    assert.equal(c.body.result, '2');
    assert.match(await dc.repl('drv_rounds/D', frameId), /^drv_rounds:\ndrv_rounds:\s+2\s*$/);
    assert.match(await dc.repl('drv_tpl/X', frameId), /^drv_tpl:\ndrv_tpl:\s+1\s*$/, 'ct_rev is 1');
    assert.match(await dc.repl('drv_tpl+8/p', frameId), /drv_save/);
    assert.equal((await dc.evaluateRequest({ expression: 'sum / 2', frameId, context: 'repl' })).body.result,
      (await dc.evaluateRequest({ expression: '(sum)/2', frameId, context: 'repl' })).body.result);
    assert.ok(!/^drv_rounds:/.test((await dc.evaluateRequest({ expression: 'drv_rounds / 2', frameId, context: 'repl' })).body.result), 'C division');
  });

  it('completions: dcmd names after ::, driver symbols otherwise', async () => {
    dc = inProc();
    const { frameId } = await atLine(dc, 54);
    const a = await dc.completionsRequest({ text: '::thread', column: 9, frameId });
    assert.ok(a.body.targets.some((t) => t.label === 'threadlist'));
    const b = await dc.completionsRequest({ text: 'drv_t', column: 6, frameId });
    const labels = b.body.targets.map((t) => t.label);
    assert.ok(labels.includes('drv_total') && labels.includes('drv_thread'), labels.join(','));
  });

  it('readMemory reads a kmem buffer (the worker state) by its address', async () => {
    dc = inProc();
    const { frameId } = await atLine(dc, 54);
    const w = (await dc.scopeVars(frameId, /^Locals$/)).find((v) => v.name === 'w')!;
    const addr = w.value.match(/[0-9a-f]{16}/)![0];
    const r = (await dc.customRequest('readMemory', { memoryReference: addr, count: 16 })) as { body: { data: string; address: string; unreadableBytes?: number } };
    const bytes = Buffer.from(r.body.data, 'base64');
    assert.equal(bytes.length, 16);
    assert.equal(bytes.readInt32LE(0), 0);
    assert.equal(r.body.address, addr);
    const bad = await dc.raw('readMemory', { memoryReference: 'not-an-address', count: 4 });
    assert.equal(bad.success, false);
  });
});

describe('custom requests and output', () => {
  it('kctx/state and kctx/timeline describe CPUs, threads, slices and marks', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('bhyve.ksim.json') }, (c) => c.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'swtch', condition: 'from == "vcpu1"' }] }));
    await dc.stopAfter(m);
    const st = (await dc.customRequest('kctx/state')).body as { era: string; cpus: Array<{ id: number; thread: number | null; runrun: number }>; threads: Array<{ id: number; name: string; state: string; cpu: number | null; preempt: number; pri: number }> };
    assert.equal(st.era, 'illumos-13917');
    assert.equal(st.cpus.length, 1);
    const names = (await dc.threadsRequest()).body.threads;
    const vcpu1 = st.threads.find((t) => t.name === 'vcpu1')!;
    assert.equal(vcpu1.id, names.find((t) => t.name.startsWith('vcpu1'))!.id);
    assert.equal(vcpu1.state, 'run');
    assert.equal(st.cpus[0]!.thread, vcpu1.id);
    const tl = (await dc.customRequest('kctx/timeline')).body as { endTick: number; slices: Array<{ cpu: number; thread: number; name: string; start: number; end: number }>; marks: Array<{ kind: string; label: string }> };
    assert.ok(tl.endTick > 0);
    assert.ok(tl.slices.some((s) => s.name === 'vcpu0' && s.end > s.start));
    assert.ok(tl.marks.some((k) => k.kind === 'save' && /vmm_savectx/.test(k.label)));
    assert.ok(tl.marks.some((k) => k.kind === 'attach'));
    assert.ok(tl.marks.some((k) => k.kind === 'preempt-disable'));
    // After a reverse step the timeline ends where the run now is.
    const before = tl.slices.length;
    await dc.back((await dc.threadsByName()).get('vcpu1')!);
    const tl2 = (await dc.customRequest('kctx/timeline')).body as { slices: unknown[]; endTick: number };
    assert.ok(tl2.slices.length <= before && tl2.endTick <= tl.endTick);
  });

  it('unknown custom requests are errors; kctx/mdb needs a command', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('bhyve.ksim.json'), stopOnEntry: true });
    await dc.stopAfter(m);
    const r = await dc.raw('kctx/nonesuch', {});
    assert.equal(r.success, false);
    const r2 = await dc.raw('kctx/mdb', {});
    assert.equal(r2.success, false);
    assert.match(r2.message ?? '', /command/);
  });

  it('progress events wrap a long run when the client supports them', async () => {
    dc = inProc();
    const m = dc.mark();
    const long = { kernel: 'illumos-13917', cpus: 2, tickCycles: 20, threads: Array.from({ length: 16 }, (_, i) => ({ name: `v${i}`, entry: 'builtin:bhyve-vcpu', arg: 2000 })) };
    await dc.launchWith({ ...long, noDebug: true }, undefined, { supportsProgressReporting: true });
    await dc.waitFor('terminated', m, () => true, 60000);
    const names = dc.names(m);
    const ps = names.indexOf('progressStart');
    const pe = names.indexOf('progressEnd');
    assert.ok(ps >= 0 && pe > ps, names.filter((n) => n.startsWith('progress')).join(','));
  });
});
