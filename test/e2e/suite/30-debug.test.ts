import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { KctxApi } from '../../../extension/main';
import { getApi, wsFile, waitFor, DapRecorder, sleep, startDapServer } from './helpers';

interface Thread { id: number; name: string }
interface Frame { id: number; name: string; line: number; source?: { path?: string } }

const threadsOf = async (s: vscode.DebugSession): Promise<Thread[]> => ((await s.customRequest('threads')) as { threads: Thread[] }).threads;
const framesOf = async (s: vscode.DebugSession, threadId: number): Promise<Frame[]> =>
  ((await s.customRequest('stackTrace', { threadId, startFrame: 0, levels: 20 })) as { stackFrames: Frame[] }).stackFrames;

/** Starts a kctx session on the fixture scenario; resolves once it has started. */
async function launch(name: string, extra: Record<string, unknown> = {}): Promise<vscode.DebugSession> {
  const started = new Promise<vscode.DebugSession>((r) => {
    const d = vscode.debug.onDidStartDebugSession((s) => { if (s.name === name) { d.dispose(); r(s); } });
  });
  const ok = await vscode.debug.startDebugging(vscode.workspace.workspaceFolders![0], {
    type: 'kctx', request: 'launch', name, scenario: wsFile('vmm_demo.ksim.json').fsPath, stopOnEntry: true, ...extra,
  });
  assert.ok(ok, 'startDebugging');
  return started;
}

async function stop(session: vscode.DebugSession | undefined): Promise<void> {
  if (!session) return;
  const ended = new Promise<void>((r) => {
    const d = vscode.debug.onDidTerminateDebugSession((s) => { if (s.id === session.id) { d.dispose(); r(); } });
  });
  await vscode.debug.stopDebugging(session);
  await Promise.race([ended, sleep(5000)]);
}

describe('debugging in the simulator (inline adapter)', function () {
  let api: KctxApi;
  let rec: DapRecorder;
  let session: vscode.DebugSession | undefined;

  before(async () => {
    api = await getApi();
    rec = new DapRecorder();
  });

  after(async () => {
    await stop(session);
    vscode.debug.removeBreakpoints(vscode.debug.breakpoints);
    rec?.dispose();
  });

  it('launches the scenario and stops on entry with the simulated threads in the call stack', async () => {
    const n = rec.stops().length;
    session = await launch('e2e vmm_demo');
    assert.equal(api.adapterModes.get(session.id), 'inline');
    const stop = await rec.nextStop(n);
    assert.equal(stop.body?.reason, 'entry');
    assert.equal((stop.body as { allThreadsStopped?: boolean }).allThreadsStopped, true);
    const ts = await threadsOf(session);
    for (const t of ['vcpu0', 'vcpu1', 'vcpu2']) assert.ok(ts.some((x) => x.name.includes(t)), `thread ${t} in ${ts.map((x) => x.name).join(', ')}`);
    // The CALL STACK view focuses a simulated thread of this session.
    const item = await waitFor('the active stack item', () => vscode.debug.activeStackItem, 10000);
    assert.equal(item.session.id, session.id);
    assert.ok(ts.some((t) => t.id === item.threadId), `focused thread ${item.threadId} is one of ${ts.map((t) => `${t.id}:${t.name}`).join(', ')}`);
  });

  it('stops on a context switch (swtch filter, a breakpoint-like stop) with every thread in the call stack', async () => {
    await session!.customRequest('setExceptionBreakpoints', { filters: ['swtch'] });
    const n = rec.stops().length;
    await vscode.commands.executeCommand('workbench.action.debug.continue');
    const stop = await rec.nextStop(n);
    // Not an exception: VS Code shows no "Exception has occurred" peek at a switch.
    assert.equal(stop.body?.reason, 'breakpoint', JSON.stringify(stop.body));
    assert.match(String(stop.body?.description), /^Paused on context switch on cpu\d: \S+ \(going off, shown\) -> \S+ \(coming in\)$/);
    assert.equal((stop.body as { allThreadsStopped?: boolean }).allThreadsStopped, true);
    const ts = await threadsOf(session!);
    assert.ok(ts.length >= 3, `threads: ${ts.map((t) => t.name).join(', ')}`);
    const fs = await framesOf(session!, stop.body!.threadId!);
    assert.ok(fs.length > 0, 'the stopped thread has frames');
    assert.ok(fs.some((f) => /swtch|resume/.test(f.name)), `a switch frame: ${fs.map((f) => f.name).join(' < ')}`);
    const info = (await session!.customRequest('exceptionInfo', { threadId: stop.body!.threadId })) as { exceptionId: string };
    assert.equal(info.exceptionId, 'swtch');
  });

  it('stops at a ctxop handler function breakpoint (vmm_savectx) in the driver source', async () => {
    await session!.customRequest('setExceptionBreakpoints', { filters: [] });
    vscode.debug.addBreakpoints([new vscode.FunctionBreakpoint('vmm_savectx')]);
    await sleep(300);
    const n = rec.stops().length;
    await vscode.commands.executeCommand('workbench.action.debug.continue');
    const stop = await rec.nextStop(n, () => true, 30000);
    assert.match(String(stop.body?.reason), /function breakpoint|breakpoint/, JSON.stringify(stop.body));
    const fs = await framesOf(session!, stop.body!.threadId!);
    assert.equal(fs[0].name.replace(/\(.*$/, ''), 'vmm_savectx', fs.map((f) => f.name).join(' < '));
    assert.ok(fs[0].source?.path?.endsWith('vmm_demo.c'), `source ${fs[0].source?.path}`);
    assert.ok(fs.some((f) => /savectx|swtch/.test(f.name) && f !== fs[0]), `called from the switch: ${fs.map((f) => f.name).join(' < ')}`);
    // VS Code shows the driver's source at the handler.
    await waitFor('the editor on vmm_demo.c', () => vscode.window.activeTextEditor?.document.uri.fsPath.endsWith('vmm_demo.c'), 10000);
  });

  it('answers ::threadlist in the debug console (a repl evaluate)', async () => {
    const item = vscode.debug.activeStackItem;
    const frameId = item && 'frameId' in item ? item.frameId : undefined;
    const r = (await session!.customRequest('evaluate', { expression: '::threadlist', context: 'repl', frameId })) as { result: string };
    assert.match(r.result, /vcpu0/);
    assert.match(r.result, /ADDR\s+PROC\s+LWP\s+CMD/);
    // C expressions in the stopped handler's frame (at its entry: the parameter is in scope).
    const c = (await session!.customRequest('evaluate', { expression: '((vcpu_t *)arg)->vc_id', context: 'repl', frameId })) as { result: string };
    assert.match(c.result, /^[0-2]$/, `((vcpu_t *)arg)->vc_id = ${c.result}`);
  });

  it('each palette mdb command writes its output to the kctx mdb channel', async () => {
    const ids = ['kctx.mdb.threadlist', 'kctx.mdb.findleaks', 'kctx.mdb.kmemVerify', 'kctx.mdb.ctxops', 'kctx.mdb.cpuinfo', 'kctx.mdb.stacks'];
    const before = api.mdb.log.length;
    for (const id of ids) {
      const r = await vscode.commands.executeCommand<{ command: string; output: string; ok: boolean }>(id);
      assert.ok(r, `${id} ran`);
      assert.ok(r.ok, `${id}: ${r.output}`);
      assert.ok(r.output.trim().length > 0, `${id} printed something`);
      assert.doesNotMatch(r.output, /^mdb: .*(unknown|not found)/im, `${id}: ${r.output}`);
    }
    const r = await vscode.commands.executeCommand<{ output: string }>('kctx.mdb.run', '::walk thread');
    assert.match(r.output, /^[0-9a-f]{8,}$/m);
    assert.equal(api.mdb.log.length - before, ids.length + 1);
    const byCmd = (c: string) => api.mdb.log.find((l) => l.command === c)!.output;
    assert.match(byCmd('::threadlist'), /vcpu0/);
    assert.match(byCmd('::ctxops'), /vmm_savectx/);
    assert.match(byCmd('::cpuinfo'), /ID\s+ADDR/);
    assert.ok(api.mdb.history[0] === '::walk thread', `history ${api.mdb.history.slice(0, 3).join(', ')}`);
  });

  it('populates the Kernel threads tree and the Timeline', async () => {
    await api.model.refresh();
    const rows = api.threads.summary();
    assert.ok(rows.some((r) => /^cpu0\b/.test(r)), rows.join(' | '));
    assert.ok(rows.some((r) => /^cpu1\b/.test(r)), rows.join(' | '));
    assert.ok(api.model.state!.threads.some((t) => t.ctxops.some((c) => c.save === 'vmm_savectx')), 'a thread carries the vmm ctxop');
    // CPU -> thread -> ctxop ring, in save order.
    const cpus = api.threads.getChildren();
    const threads = cpus.flatMap((c) => api.threads.getChildren(c));
    assert.ok(threads.length >= 3, `threads under the CPUs: ${threads.length}`);
    const vmm = threads.find((n) => n.kind === 'thread' && n.thread.ctxops.some((c) => c.save === 'vmm_savectx'))!;
    const ring = api.threads.getChildren(vmm).map((n) => api.threads.getTreeItem(n).label);
    assert.ok(ring.length >= 3, `ring ${ring.join(', ')}`);
    assert.match(String(ring[0]), /vmm_savectx/, `newest first: ${ring.join(', ')}`);
    await vscode.commands.executeCommand('kctx.timeline.show');
    const drawn = await waitFor('the timeline to draw', () => (api.timeline.lastRender && api.timeline.lastRender.slices > 0 ? api.timeline.lastRender : undefined), 15000);
    assert.ok(drawn.lanes >= 2, `lanes ${drawn.lanes}`);
    assert.ok(drawn.marks > 0, `marks ${drawn.marks}`);
    assert.ok(drawn.spans > 0, `preemption-disabled spans ${drawn.spans}`);
    assertDrawnTrue(drawn);
    const tl = api.model.timeline!;
    assert.ok(tl.marks.some((m) => m.kind === 'save' && /vmm_savectx/.test(m.label)), 'a hook mark for vmm_savectx');
    assert.ok(tl.marks.some((m) => m.kind === 'attach'), 'an attach mark');
  });

  it('updates the views at each stop', async () => {
    const stops = api.model.stops;
    const before = api.model.timeline!.endTick;
    const n = rec.stops().length;
    await vscode.commands.executeCommand('workbench.action.debug.continue');
    await rec.nextStop(n);
    await waitFor('the model to refresh', () => api.model.stops > stops && api.model.timeline!.endTick >= before, 10000);
    await waitFor('the timeline to redraw', () => (api.timeline.lastRender?.endTick ?? -1) === api.model.timeline!.endTick, 10000);
  });

  it('opens the Schedule as an editor tab; a click on a slice travels back there and selects that thread', async () => {
    assert.equal(await vscode.commands.executeCommand('kctx.schedule.open'), true);
    const drawn = await waitFor('the Schedule editor to draw', () => (api.timeline.lastPanelRender?.slices ? api.timeline.lastPanelRender : undefined), 15000);
    assert.ok(drawn.lanes >= 2, `lanes ${drawn.lanes}`);
    const before = api.model.timeline!;
    const sl = before.slices.filter((s) => s.end - s.start > 0.002 && s.end < before.endTick)[1]!;
    assert.ok(sl, JSON.stringify(before.slices.slice(0, 5)));
    const tick = Math.round(((sl.start + sl.end) / 2) * 1000) / 1000;
    const n = rec.stops().length;
    // What the webview sends for a click on that slice (the DOM side is in the UI suite).
    assert.equal(await api.timeline.travel(tick, sl.cpu, sl.thread), true);
    const stop = await rec.nextStop(n);
    assert.equal(stop.body?.reason, 'goto', JSON.stringify(stop.body));
    assert.equal(stop.body?.threadId, sl.thread);
    await waitFor('the call stack on that thread', () => vscode.debug.activeStackItem?.threadId === sl.thread, 10000);
    const back = await waitFor('the Schedule to go back in time', () => (api.timeline.lastPanelRender && api.timeline.lastPanelRender.endTick < before.endTick && api.timeline.lastPanelRender.endTick >= tick ? api.timeline.lastPanelRender : undefined), 15000);
    // What it drew after going back (issue 16, bug 4): no bar past the "now" line, every thread of
    // the legend on a lane and the other way round, each axis label once.
    assertDrawnTrue(back);
    api.timeline.panel?.dispose();
  });

  it('selecting a thread in Kernel threads focuses it in the call stack and leaves the stop where it is', async () => {
    const ts = await threadsOf(session!);
    const stopped = rec.stops().filter((m) => !(m.body as { kctxSelect?: boolean }).kctxSelect).pop()!;
    const stopsBefore = api.model.stops;
    const lastStop = api.model.lastStop;
    const target = ts.find((t) => t.id !== stopped.body!.threadId && t.id !== vscode.debug.activeStackItem?.threadId) ?? ts[ts.length - 1];
    const n = rec.stops().length;
    assert.ok(await vscode.commands.executeCommand('kctx.threads.select', target.id));
    await waitFor('focus on the thread', () => vscode.debug.activeStackItem?.threadId === target.id, 10000);
    // Only that thread is announced (allThreadsStopped false): VS Code keeps the stopped thread's
    // own reason and description; the views do not count it as a stop.
    const sel = rec.stops()[n]!.body as { threadId: number; allThreadsStopped: boolean; description: string };
    assert.equal(sel.threadId, target.id);
    assert.equal(sel.allThreadsStopped, false);
    assert.equal(sel.description, `Selected in Kernel threads (the stop is on thread ${stopped.body!.threadId})`);
    await sleep(300);
    assert.equal(api.model.stops, stopsBefore);
    assert.deepEqual(api.model.lastStop, lastStop);
  });

  it('runs to the end: the session terminates cleanly and ::findleaks found nothing', async () => {
    vscode.debug.removeBreakpoints(vscode.debug.breakpoints);
    await sleep(300);
    const out = (await session!.customRequest('kctx/mdb', { command: '::findleaks' })) as { output: string };
    assert.match(out.output, /no memory leaks|leaked/);
    const ended = new Promise<void>((r) => {
      const d = vscode.debug.onDidTerminateDebugSession((s) => { if (s.id === session!.id) { d.dispose(); r(); } });
    });
    await vscode.commands.executeCommand('workbench.action.debug.continue');
    await Promise.race([ended, sleep(20000).then(() => { throw new Error('the session did not end'); })]);
    session = undefined;
    // The views say the session ended (not "Paused on ...").
    await waitFor('Kernel threads to say the session ended', () => api.threads.summary().find((r) => /^The session "e2e vmm_demo" ended/.test(r)), 10000);
    assert.equal(api.model.lastStop, undefined);
  });
});

describe('launch.json', function () {
  it('starts the workspace\'s "Simulate vmm_demo" configuration (${workspaceFolder} paths) and stops on entry', async () => {
    const rec = new DapRecorder();
    let s: vscode.DebugSession | undefined;
    try {
      const started = new Promise<vscode.DebugSession>((r) => {
        const d = vscode.debug.onDidStartDebugSession((x) => { if (x.name === 'Simulate vmm_demo') { d.dispose(); r(x); } });
      });
      assert.ok(await vscode.debug.startDebugging(vscode.workspace.workspaceFolders![0], 'Simulate vmm_demo'), 'startDebugging by name');
      s = await started;
      assert.equal(s.configuration.scenario, wsFile('vmm_demo.ksim.json').fsPath);
      const st = await rec.nextStop(0);
      assert.equal(st.body?.reason, 'entry');
    } finally {
      await stop(s);
      rec.dispose();
    }
  });
});

describe('debug adapter hosting modes', function () {
  let rec: DapRecorder;
  before(() => { rec = new DapRecorder(); });
  after(() => rec.dispose());

  const exercise = async (name: string, extra: Record<string, unknown>, mode: string) => {
    const n = rec.stops().length;
    const s = await launch(name, extra);
    try {
      assert.equal((await getApi()).adapterModes.get(s.id), mode);
      const st = await rec.nextStop(n);
      assert.equal(st.body?.reason, 'entry');
      const ts = await threadsOf(s);
      assert.ok(ts.some((t) => t.name.includes('vcpu1')), ts.map((t) => t.name).join(', '));
      const r = (await s.customRequest('kctx/mdb', { command: '::threadlist' })) as { output: string };
      assert.match(r.output, /vcpu1/);
      const state = (await s.customRequest('kctx/state')) as { cpus: unknown[] };
      assert.equal(state.cpus.length, 2);
    } finally {
      await stop(s);
    }
  };

  it('process mode runs `kctx dap` as a separate process (setting kctx.debugAdapter.mode)', async () => {
    const cfg = vscode.workspace.getConfiguration('kctx.debugAdapter');
    await cfg.update('mode', 'process', vscode.ConfigurationTarget.Workspace);
    try {
      assert.equal(vscode.workspace.getConfiguration('kctx.debugAdapter').get('mode'), 'process');
      await exercise('e2e process mode', {}, 'process');
    } finally {
      await cfg.update('mode', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('server mode connects to `kctx dap --server=PORT` (launch attribute adapterMode)', async () => {
    const srv = await startDapServer();
    try {
      await exercise('e2e server mode', { adapterMode: 'server', adapterPort: srv.port, serverToken: srv.token }, 'server');
    } finally {
      srv.stop();
    }
  });
});

/** The Schedule's drawing agrees with itself: nothing past "now", legend = lanes, no repeated axis label. */
function assertDrawnTrue(r: { pastNow: number; laneNames: string[]; legendNames: string[]; axisLabels: string[]; endTick: number }): void {
  assert.equal(r.pastNow, 0, `bars past the now line at tick ${r.endTick}`);
  assert.deepEqual([...r.legendNames].sort(), [...r.laneNames].sort(), 'legend and lanes name the same threads');
  assert.ok(r.laneNames.length >= 2 && !r.laneNames.includes(''), `lane names ${r.laneNames.join(', ')}`);
  assert.equal(new Set(r.axisLabels).size, r.axisLabels.length, `axis labels ${r.axisLabels.join(' | ')}`);
  assert.ok(r.axisLabels.length >= 2, `axis labels ${r.axisLabels.join(' | ')}`);
}
