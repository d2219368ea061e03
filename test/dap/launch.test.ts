/**
 * Launch, transports, errors, noDebug, restart, terminate.
 */
import { describe, it, afterEach } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { inProc, stdio, server, fixture, Client } from './helpers';
import { HAZARDS } from '../../core/probes';

let dc: Client | null = null;
afterEach(async () => {
  await dc?.close();
  dc = null;
});

describe('initialize and launch', () => {
  it('initialize: capabilities and the exception filters with fixed ids, one per hazard of the probe catalogue', async () => {
    dc = inProc();
    const r = await dc.init();
    const b = r.body!;
    assert.deepEqual(b.exceptionBreakpointFilters!.map((f) => f.filter), ['swtch', 'ctxop', 'panic', 'assert', 'sleep-preempt-disabled', 'deadlock', 'lock-order', 'unlock-unheld', 'leak', 'stub']);
    const defaults = b.exceptionBreakpointFilters!.filter((f) => f.default).map((f) => f.filter);
    assert.deepEqual(defaults, ['panic', 'sleep-preempt-disabled', 'deadlock']);
    assert.ok(b.exceptionBreakpointFilters!.every((f) => f.supportsCondition));
    // Every hazard probe has its filter, and says what it stops on.
    for (const h of HAZARDS) {
      const f = b.exceptionBreakpointFilters!.find((x) => x.filter === h.filter);
      assert.ok(f, h.probe);
      assert.equal(f!.description, h.description);
    }
    // docs/extension.md lists them as the Breakpoints view does.
    const doc = /\| Exception filters (.*?) \|/.exec(readFileSync(fixture('../../../docs/extension.md'), 'utf8'))![1]!;
    assert.deepEqual([...doc.matchAll(/`([^`]+)`/g)].map((m) => m[1]), b.exceptionBreakpointFilters!.map((f) => f.filter));
    assert.equal(b.exceptionBreakpointFilters!.find((f) => f.filter === 'sleep-preempt-disabled')!.conditionDescription, 'e.g. thread == "vcpu0" (names: thread, cpu, message, preempt)');
    for (const cap of ['supportsConfigurationDoneRequest', 'supportsFunctionBreakpoints', 'supportsConditionalBreakpoints', 'supportsHitConditionalBreakpoints',
      'supportsLogPoints', 'supportsStepBack', 'supportsRestartRequest', 'supportsTerminateRequest', 'supportsDelayedStackTraceLoading', 'supportsEvaluateForHovers',
      'supportsSetVariable', 'supportsCompletionsRequest', 'supportsReadMemoryRequest', 'supportsExceptionInfoRequest', 'supportsExceptionFilterOptions', 'supportsDataBreakpoints',
      'supportsBreakpointLocationsRequest'] as const) {
      assert.equal(b[cap], true, cap);
    }
  });

  it('launch with a scenario path and stopOnEntry: initialized, then stopped(entry) on the first scenario thread, allThreadsStopped', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('bhyve.ksim.json'), stopOnEntry: true });
    const st = await dc.stopAfter(m);
    assert.equal(st.body.reason, 'entry');
    assert.equal(st.body.allThreadsStopped, true);
    const names = dc.names(m);
    assert.equal(names[0], 'initialized');
    assert.deepEqual(names.slice(1), ['thread', 'thread', 'thread', 'stopped']);
    const threads = await dc.threadsByName();
    assert.equal(st.body.threadId, threads.get('vcpu0'));
  });

  it('launch with the scenario keys inline (relative sources from cwd)', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ kernel: 'illumos-13917', cpus: 1, cwd: fixture(''), sources: ['drv.c'], threads: [{ name: 'w0', entry: 'drv_thread', arg: 5 }], stopOnEntry: true });
    const st = await dc.stopAfter(m);
    assert.equal(st.body.reason, 'entry');
    assert.ok((await dc.threadsByName()).has('w0'));
  });

  it('a bad scenario is an error response with file:line:column: reason, shown to the user', async () => {
    dc = inProc();
    await dc.init();
    await assert.rejects(dc.launchRequest({ scenario: fixture('bad.ksim.json') } as never), (e: Error) => {
      assert.match(e.message, /bad\.ksim\.json:3:11: "cpus": expected an integer from 1 to 64, got "two"/);
      return true;
    });
    const dc2 = inProc();
    await dc2.init();
    const resp = (await dc2.raw('launch', { scenario: fixture('missing.ksim.json') })) as DebugProtocol.ErrorResponse;
    assert.equal(resp.success, false);
    assert.equal(resp.body?.error?.showUser, true);
    assert.match(resp.message ?? '', /missing\.ksim\.json:1:1: cannot read the scenario: no such file/);
    await dc2.close();
  });

  it('a bad inline scenario and unsupported C name the key and the C file', async () => {
    dc = inProc();
    await dc.init();
    await assert.rejects(dc.launchRequest({ kernel: 'illumos-99999', threads: [] } as never), /launch configuration:\d+:\d+: "kernel": unknown kernel "illumos-99999"/);
    await assert.rejects(dc.launchRequest({ kernel: 'illumos-13917', cwd: fixture(''), sources: ['nonesuch.c'], threads: [{ name: 'a', entry: 'f' }] } as never), /nonesuch\.c/);
  });

  it('noDebug runs to the end, streaming cmn_err output, then exited(0) and terminated', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('drv.ksim.json'), noDebug: true });
    await dc.waitFor('terminated', m);
    const out = dc.events.slice(m).filter((e) => e.event === 'output').map((e) => e.body.output).join('');
    assert.match(out, /NOTICE: drv: worker 0: \d+ saves, \d+ restores/);
    assert.match(out, /the scenario ended at tick \d+/);
    const ex = await dc.waitFor('exited', m);
    assert.equal(ex.body.exitCode, 0);
    assert.ok(!dc.names(m).includes('stopped'));
  });

  it('noDebug with trace: the flow trace goes to the console in a collapsed group', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('bhyve.ksim.json'), noDebug: true, trace: true });
    await dc.waitFor('terminated', m);
    const outs = dc.events.slice(m).filter((e) => e.event === 'output');
    const gi = outs.findIndex((e) => e.body.group === 'startCollapsed');
    assert.ok(gi >= 0, 'a collapsed group');
    assert.match(outs[gi]!.body.output, /flow trace \(\d+ lines\)/);
    assert.match(outs[gi + 1]!.body.output, /CPU FUNCTION[\s\S]*-> swtch[\s\S]*-> savectx[\s\S]*vmm_savectx/);
    assert.equal(outs[gi + 2]!.body.group, 'end');
  });

  it('terminate sends terminated; restart begins the run again (stopOnEntry)', async () => {
    dc = inProc();
    let m = dc.mark();
    await dc.launchWith({ scenario: fixture('bhyve.ksim.json'), stopOnEntry: true });
    await dc.stopAfter(m);
    await dc.setExceptionBreakpointsRequest({ filters: ['swtch'] });
    await dc.cont();
    await dc.cont();
    m = dc.mark();
    await dc.customRequest('restart', { arguments: { scenario: fixture('bhyve.ksim.json'), stopOnEntry: true } });
    const st = await dc.stopAfter(m);
    assert.equal(st.body.reason, 'entry');
    const state = (await dc.customRequest('kctx/state')).body as { threads: Array<{ state: string; name: string }> };
    assert.ok(state.threads.filter((t) => t.name.startsWith('vcpu')).every((t) => t.state === 'run'), JSON.stringify(state.threads));
    m = dc.mark();
    await dc.terminateRequest({});
    await dc.waitFor('terminated', m);
  });
});

describe('transports', () => {
  it('stdio of the bundled `kctx dap`: launch, stop on a context switch, stack, disconnect', async () => {
    dc = stdio();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('bhyve.ksim.json') }, (c) => c.setExceptionBreakpointsRequest({ filters: ['swtch'] }));
    const seen: string[] = [(await dc.stopAfter(m)).body.description!];
    let st = await dc.cont();
    while (!/vcpu0 \(going off, shown\) -> vcpu1/.test(st.body.description!) && seen.length < 20) {
      seen.push(st.body.description!);
      st = await dc.cont();
    }
    assert.equal(st.body.reason, 'breakpoint');
    assert.deepEqual(seen.slice(0, 3), ['Paused on context switch on cpu0: idle/0 (going off, shown) -> thread_reaper (coming in)', 'Paused on context switch on cpu0: thread_reaper (going off, shown) -> vcpu0 (coming in)'].slice(0, seen.length));
    const names = await dc.frameNames(st.body.threadId!);
    assert.deepEqual(names.slice(0, 4), ['swtch', 'preempt', 'kpreempt', 'sys_rtt_common']);
    assert.ok(names.includes('vm_run') && names[names.length - 1] === 'thread_start', names.join(' < '));
  });

  it('`kctx dap --server=PORT` listens on 127.0.0.1 and serves a session per connection', async () => {
    const { port, token, proc } = await server();
    try {
      const c = new DebugClient('node', 'unused', 'kctx');
      await c.start(port);
      await c.initializeRequest({ adapterID: 'kctx', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
      const stopped = c.waitForEvent('stopped', 10000);
      const launched = c.launchRequest({ scenario: fixture('bhyve.ksim.json'), stopOnEntry: true, serverToken: token } as never);
      await c.waitForEvent('initialized', 10000);
      await c.configurationDoneRequest();
      await launched;
      const st = await stopped;
      assert.equal(st.body.reason, 'entry');
      await c.disconnectRequest({});
      (c as unknown as { stopAdapter(): void }).stopAdapter();
    } finally {
      proc.kill();
    }
  });

  it('the adapter source binds the server to 127.0.0.1 only', () => {
    const src = readFileSync(fixture('../../../debug-adapter/main.ts'), 'utf8');
    assert.match(src, /listen\(port, '127\.0\.0\.1'/);
  });
});
