/**
 * How stops look: a switch and a hook are breakpoint-like stops (not exceptions), a C ctxop
 * handler's hook stop lands on the handler's first line in the driver source, a panic stop
 * carries its message (stopped event, exceptionInfo, ::msgbuf), and after Reverse or Step Back
 * the views built from recorded history (::ctxtrace, the timeline) show exactly what a forward
 * run to the same place shows.
 */
import { describe, it, afterEach } from 'node:test';
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { inProc, fixture, Client, type Stopped } from './helpers';

let dc: Client | null = null;
afterEach(async () => {
  await dc?.close();
  dc = null;
});

interface TimelineBody { endTick: number; slices: Array<{ cpu: number; thread: number; name: string; start: number; end: number }>; marks: Array<{ cpu: number; tick: number; kind: string; label: string }> }
const timeline = async (c: Client) => (await c.customRequest('kctx/timeline')).body as TimelineBody;

describe('stop reasons and texts', () => {
  it('ctxop filter at a C handler: a breakpoint-like stop on the handler\'s first line, in the driver source', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('drv.ksim.json') }, (c) => c.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'ctxop', condition: 'handler == "drv_save"' }] }));
    const st = await dc.stopAfter(m);
    assert.equal(st.body.reason, 'breakpoint');
    assert.equal(st.body.description, 'Paused on ctxop save hook drv_save');
    assert.match(st.body.text!, /^ctxop save hook drv_save \(thread w\d, cpu0\), at drv\.c:27$/);
    const fs = await dc.frames(st.body.threadId!);
    assert.equal(fs[0]!.name, 'drv_save');
    assert.equal(fs[0]!.source?.path, fixture('drv.c'));
    assert.equal(fs[0]!.line, 27);
    assert.ok(fs.slice(1).some((f) => /savectx/.test(f.name)), fs.map((f) => f.name).join(' < '));
    // The filter's explanation is still there for a client that asks.
    const info = await dc.exceptionInfoRequest({ threadId: st.body.threadId! });
    assert.equal(info.body.exceptionId, 'ctxop');
  });

  it('a panic stop carries its message: stopped event, exceptionInfo, and ::msgbuf', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('panic.ksim.json') }, (c) => c.setExceptionBreakpointsRequest({ filters: ['panic'] }));
    const st = await dc.stopAfter(m);
    assert.equal(st.body.reason, 'exception');
    assert.match(st.body.description!, /^Paused on a kernel panic: assertion failed: \(uintptr_t\)arg == 7/);
    const info = await dc.exceptionInfoRequest({ threadId: st.body.threadId! });
    assert.match(info.body.description!, /^assertion failed: \(uintptr_t\)arg == 7/);
    const msgbuf = await dc.repl('::msgbuf');
    const lines = msgbuf.split('\n');
    assert.equal(lines[0], 'MESSAGE');
    const at = lines.findIndex((l) => /^panic\[cpu0\]\/thread=fffffe[0-9a-f]+: assertion failed: \(uintptr_t\)arg == 7/.test(l));
    assert.ok(at > 0, msgbuf);
    assert.equal(lines[at + 1], '', msgbuf);
    // Then the panic stack, as the console showed it.
    assert.match(lines.slice(at + 2).join('\n'), /^fffffe[0-9a-f]+ assfail3\+0x[0-9a-f]+\([^]*\nfffffe[0-9a-f]+ hz_thread\+0x[0-9a-f]+\(/, msgbuf);
  });
});

describe('history after reverse', () => {
  /** Launches drv with the swtch filter and continues to the n-th switch stop. */
  async function toSwitch(n: number): Promise<Client> {
    const c = inProc();
    const m = c.mark();
    await c.launchWith({ scenario: fixture('drv.ksim.json') }, (x) => x.setExceptionBreakpointsRequest({ filters: ['swtch'] }));
    let st = await c.stopAfter(m);
    for (let i = 1; i < n; i++) st = await c.cont(st.body.threadId!);
    return c;
  }

  it('::ctxtrace and the timeline after Reverse equal those of a forward run to the same stop', async () => {
    const fwd = await toSwitch(4);
    const wantTrace = await fwd.repl('::ctxtrace');
    const wantTl = await timeline(fwd);
    await fwd.close();
    assert.match(wantTrace, /drv_save|drv_restore/, 'hook calls ran before the 4th switch');
    dc = await toSwitch(7);
    for (let i = 0; i < 3; i++) {
      const m = dc.mark();
      await dc.reverseContinueRequest({ threadId: 1 });
      await dc.stopAfter(m);
    }
    assert.equal(await dc.repl('::ctxtrace'), wantTrace);
    const tl = await timeline(dc);
    assert.deepEqual(tl, wantTl);
    // No bar past "now"; every thread on a CPU has its bar in that CPU's lane.
    for (const s of tl.slices) assert.ok(s.end <= tl.endTick && s.start <= s.end, JSON.stringify(s));
    const state = (await dc.customRequest('kctx/state')).body as { cpus: Array<{ id: number; thread?: { name: string } | null }> };
    for (const cpu of state.cpus) {
      const on = cpu.thread?.name;
      if (!on || /idle/.test(on)) continue;
      const open = tl.slices.filter((s) => s.cpu === cpu.id && s.end === tl.endTick);
      assert.ok(open.some((s) => s.name === on), `cpu${cpu.id} runs ${on}: ${JSON.stringify(open)}`);
    }
  });

  it('::ctxtrace after Step Back keeps the hook calls before that point', async () => {
    dc = await toSwitch(6);
    const before = await dc.repl('::ctxtrace');
    const st = await dc.back(1);
    const after = await dc.repl('::ctxtrace');
    assert.doesNotMatch(after, /no ctxop hook calls recorded/, `after a step back at ${st.body.description}`);
    // What is left is the history up to an earlier point: a prefix of what the trace had.
    const rows = (t: string) => t.split('\n').filter((l) => /drv_save|drv_restore/.test(l));
    assert.ok(rows(after).length > 0 && rows(after).length <= rows(before).length, `${after}\n---\n${before}`);
    assert.deepEqual(rows(after), rows(before).slice(0, rows(after).length));
  });
});

describe('kernel frames', () => {
  it('have a read-only source (sourceReference): the simulated kernel as pseudo-C, at the line of the frame\'s phase', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('bhyve.ksim.json') }, async (c) => {
      await c.setExceptionBreakpointsRequest({ filters: [] });
      await c.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'restorectx' }] });
    });
    const st = await dc.stopAfter(m);
    const fs = await dc.frames(st.body.threadId!);
    const rc = fs.find((f) => f.name.startsWith('restorectx'))!;
    assert.ok(rc, fs.map((f) => f.name).join(' < '));
    const ref = rc.source?.sourceReference ?? 0;
    assert.ok(ref > 0, JSON.stringify(rc.source));
    assert.equal(rc.source?.path, undefined);
    const text = (await dc.sourceRequest({ source: rc.source!, sourceReference: ref })).body.content;
    const lines = text.split('\n');
    assert.match(lines[rc.line - 1]!, /ctx->restore_op\(ctx->arg\);/, text);
    // illumos-13917: restore ops run oldest first, as the simulator walks them.
    assert.match(text, /ctx = head->prev;/);
    // The caller, _resume_from_idle, is at its call of restorectx.
    const ri = fs.find((f) => f.name.startsWith('_resume_from_idle'))!;
    const riText = (await dc.sourceRequest({ source: ri.source!, sourceReference: ri.source!.sourceReference! })).body.content;
    assert.match(riText.split('\n')[ri.line - 1]!, /restorectx\(curthread\);/);
    // The stopped thread's own kernel frames are never subtle.
    assert.deepEqual(fs.filter((f) => f.presentationHint === 'subtle').map((f) => f.name), []);
  });

  it('at a switch the top frame is swtch at its disp() call; rarely needed frames of other threads are subtle', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('bhyve.ksim.json') }, (c) => c.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'swtch', condition: 'from == "vcpu0"' }] }));
    const st = await dc.stopAfter(m);
    const top = (await dc.frames(st.body.threadId!))[0]!;
    assert.equal(top.name, 'swtch');
    const text = (await dc.sourceRequest({ source: top.source!, sourceReference: top.source!.sourceReference! })).body.content;
    assert.match(text.split('\n')[top.line - 1]!, /next = disp\(\);/);
    // Other threads: the kernel frames a user rarely needs are subtle there.
    const threads = await dc.threadsRequest();
    let subtle = 0;
    for (const t of threads.body.threads) if (t.id !== st.body.threadId) subtle += (await dc.frames(t.id)).filter((f) => f.presentationHint === 'subtle' && /thread_start|sys_rtt_common|kpreempt/.test(f.name)).length;
    assert.ok(subtle > 0);
  });
});

describe('every kernel frame has a source', () => {
  it('at a switch, on every thread: each frame has a path or a listing; drv_usecwait and thread_reaper at their line', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('drv.ksim.json') }, (c) => c.setExceptionBreakpointsRequest({ filters: ['swtch'] }));
    let st = await dc.stopAfter(m);
    const seen = new Map<string, string>();
    // A few switches in: threads sit in drv_usecwait, the reaper in its loop, others in swtch.
    for (let n = 0; n < 6; n++) {
      const threads = await dc.threadsRequest();
      for (const t of threads.body.threads) {
        for (const f of await dc.frames(t.id)) {
          const ref = f.source?.sourceReference ?? 0;
          assert.ok(f.source && (f.source.path || ref > 0), `${t.name}: ${f.name} has no source`);
          assert.ok(f.line > 0, `${t.name}: ${f.name} at line 0`);
          const name = f.name.replace(/\(.*$/, '');
          if (ref > 0 && !seen.has(name)) seen.set(name, (await dc.sourceRequest({ source: f.source!, sourceReference: ref })).body.content.split('\n')[f.line - 1]!);
        }
      }
      const next = dc.mark();
      await dc.continueRequest({ threadId: st.body.threadId! });
      st = await dc.stopAfter(next);
    }
    assert.match(seen.get('drv_usecwait') ?? '', /^\t\t;/, [...seen].join('\n'));
    assert.match(seen.get('thread_reaper') ?? '', /thread_free\(t\);/, [...seen].join('\n'));
  });
});

describe('travel (a click on the Schedule)', () => {
  it('kctx/travel goes back to a tick inside an earlier slice, with that thread on that CPU, then forward past the old stop', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('drv.ksim.json') }, (x) => x.setExceptionBreakpointsRequest({ filters: ['swtch'] }));
    let st = await dc.stopAfter(m);
    for (let i = 1; i < 8; i++) st = await dc.cont(st.body.threadId!);
    const before = await timeline(dc);
    // A slice in the middle of the run, long enough to land inside.
    const sl = before.slices.filter((s) => s.end - s.start > 0.002)[2]!;
    assert.ok(sl, JSON.stringify(before.slices));
    const tick = Math.round(((sl.start + sl.end) / 2) * 1000) / 1000;
    let mk = dc.mark();
    await dc.customRequest('kctx/travel', { tick, cpu: sl.cpu, threadId: sl.thread });
    const back = await dc.stopAfter(mk);
    assert.equal(back.body.reason, 'goto');
    assert.equal(back.body.threadId, sl.thread);
    assert.equal(back.body.description, `Travelled to tick ${tick} on cpu${sl.cpu}`);
    const state = (await dc.customRequest('kctx/state')).body as { cpus: Array<{ id: number; thread: number | null }> };
    assert.equal(state.cpus.find((c) => c.id === sl.cpu)!.thread, sl.thread, 'the clicked thread runs on that CPU there');
    const tl = await timeline(dc);
    assert.ok(tl.endTick >= tick && tl.endTick < before.endTick, `${tl.endTick} in [${tick}, ${before.endTick})`);
    // The history after that point is gone: the timeline is a prefix of the one before.
    assert.ok(tl.slices.length <= before.slices.length);
    // Forward again, past where the run was: the schedule is recorded on the way.
    const later = Math.round((before.endTick + 1) * 1000) / 1000;
    mk = dc.mark();
    await dc.customRequest('kctx/travel', { tick: later, cpu: 0 });
    const fwd = await dc.stopAfter(mk);
    assert.equal(fwd.body.reason, 'goto');
    const tl2 = await timeline(dc);
    assert.ok(tl2.endTick >= later, `${tl2.endTick} >= ${later}`);
    assert.deepEqual(tl2.slices.slice(0, before.slices.length - 1).map((s) => [s.cpu, s.name, s.start]), before.slices.slice(0, -1).map((s) => [s.cpu, s.name, s.start]));
  });

  it('kctx/travel refuses bad arguments', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('drv.ksim.json'), stopOnEntry: true });
    await dc.stopAfter(m);
    const r = await dc.raw('kctx/travel', { tick: 'x', cpu: 0 });
    assert.equal(r.success, false);
    assert.match(r.message ?? '', /kctx\/travel: give/);
    const r2 = await dc.raw('kctx/travel', { tick: 1, cpu: 9 });
    assert.equal(r2.success, false);
  });
});

describe('the leak stop', () => {
  it('shows the leaked buffer\'s allocation stack (its bufctl) as the stack trace, with the C line', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('hazards.ksim.json') }, (c) => c.setExceptionBreakpointsRequest({ filters: ['leak'] }));
    const st = await dc.stopAfter(m);
    assert.match(st.body.description!, /leaked buffer/);
    const fs = await dc.frames(st.body.threadId!);
    assert.equal(fs[0]!.name, 'kmem_alloc');
    const site = fs.find((f) => f.source?.path)!;
    assert.ok(site, fs.map((f) => f.name).join(' < '));
    assert.match(site.name, /^hz_thread\+0x[0-9a-f]+$/);
    assert.equal(site.source!.path, fixture('hazards.c'));
    assert.equal(site.line, 25, 'the kmem_alloc(128) that leaks');
    // The same caller ::findleaks names.
    assert.match(await dc.repl('::findleaks'), new RegExp(site.name.replace('+', '\\+')));
  });
});

describe('stack paging (Load More Stack Frames)', () => {
  it('pages as VS Code asks (the top frame, then 19): totalFrames exact, and no frame id is given out twice in a session', async () => {
    const c = inProc();
    dc = c;
    const m = c.mark();
    await c.launchWith({ scenario: fixture('drv.ksim.json') }, (c) => c.setBreakpointsRequest({ source: { path: fixture('drv.c') }, breakpoints: [{ line: 53 }] }));
    let st: Stopped = await c.stopAfter(m);
    const seen = new Set<number>();
    const below: string[][] = [];
    for (let stop = 0; stop < 3; stop++) {
      const tid: number = st.body.threadId!;
      const top = await c.stackTraceRequest({ threadId: tid, startFrame: 0, levels: 1 });
      const rest = await c.stackTraceRequest({ threadId: tid, startFrame: 1, levels: 19 });
      const all = [...top.body.stackFrames, ...rest.body.stackFrames];
      const whole: string[] = (await c.frames(tid, 1000)).map((f) => f.name);
      // Both pages count the same frames, and the two pages are the whole stack.
      assert.equal(top.body.totalFrames, whole.length);
      assert.equal(rest.body.totalFrames, whole.length);
      assert.deepEqual(all.map((f) => f.name), whole.slice(0, 20));
      // A page past the end is empty (the client's "Load More" would load nothing: it must not show).
      const past = await c.stackTraceRequest({ threadId: tid, startFrame: whole.length, levels: 20 });
      assert.deepEqual(past.body.stackFrames, []);
      assert.equal(past.body.totalFrames, whole.length);
      for (const f of [...all]) {
        assert.ok(!seen.has(f.id), `frame id ${f.id} given out again at stop ${stop}`);
        seen.add(f.id);
      }
      below.push(rest.body.stackFrames.map((f) => `${f.name}:${f.line}`));
      st = await c.cont(tid);
    }
    // The stops hit the same line in the same function: the frames below the top are the same
    // (names and lines), only their ids differ, so the client sees a new stack and redraws it.
    assert.deepEqual(below[1], below[0]);
  });
});

describe('mdb in the Debug Console', () => {
  const ESC = '\x1b';
  const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

  it('mdb output in the console is in colour for a client that renders ANSI, plain for one that does not', async () => {
    const plain = inProc();
    dc = plain;
    let m = plain.mark();
    await plain.launchWith({ scenario: fixture('drv.ksim.json'), stopOnEntry: true });
    await plain.stopAfter(m);
    const cmds = ['::threadlist', '$c', '::nosuch'];
    const want: string[] = [];
    for (const c of cmds) want.push(await plain.repl(c));
    for (const w of want) assert.ok(!w.includes(ESC), w);
    await plain.close();

    const colour = inProc();
    dc = colour;
    m = colour.mark();
    const caps = await colour.launchWith({ scenario: fixture('drv.ksim.json'), stopOnEntry: true }, undefined, { supportsANSIStyling: true } as Record<string, unknown>);
    assert.ok(caps.success);
    await colour.stopAfter(m);
    const got: string[] = [];
    for (const c of cmds) got.push(await colour.repl(c));
    // The same text once the colour is taken out.
    assert.deepEqual(got.map(strip), want);
    const tl = got[0]!.split('\n');
    assert.equal(tl[0], `${ESC}[1m            ADDR             PROC              LWP CMD/LWPID${ESC}[0m`);
    assert.match(tl[1]!, /^\x1b\[36mfffffe[0-9a-f]{10}\x1b\[0m /);
    assert.match(got[1]!, /^\x1b\[33m[a-z_]+\+0x[0-9a-f]+\x1b\[0m\(/);
    assert.equal(got[2], `${ESC}[31mmdb: invalid command '::nosuch': unknown dcmd name${ESC}[0m`);
  });

  it('::findleaks in the console: the C line of each caller on an output event (a link)', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('hazards.ksim.json') }, (c) => c.setExceptionBreakpointsRequest({ filters: ['leak'] }));
    await dc.stopAfter(m);
    const at = dc.mark();
    const out = await dc.repl('::findleaks');
    assert.match(out, /hz_thread\+0x[0-9a-f]+/);
    const ev = await dc.waitFor<DebugProtocol.OutputEvent>('output', at, (e) => /allocated at/.test(e.body.output));
    assert.match(ev.body.output, /^  hz_thread\+0x[0-9a-f]+ allocated at hazards\.c:25\n$/);
    assert.equal(ev.body.source?.path, fixture('hazards.c'));
    assert.equal(ev.body.line, 25);
    assert.equal(ev.body.category, 'console');
  });
});
