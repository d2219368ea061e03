import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { KctxApi } from '../../../extension/main';
import { getApi, wsFile, waitFor, inlineAdapterBuilt, DapRecorder, sleep } from './helpers';

interface Thread { id: number; name: string }
interface Frame { id: number; name: string; line: number; source?: { path?: string } }

describe('debugging in the simulator', function () {
  let api: KctxApi;
  let rec: DapRecorder;
  let session: vscode.DebugSession | undefined;

  before(async function () {
    if (!inlineAdapterBuilt()) {
      console.log('[kctx-e2e] skip: debug-adapter/session.ts (KctxDebugSession) is not built yet');
      this.skip();
    }
    api = await getApi();
    rec = new DapRecorder();
  });

  after(async () => {
    if (session) await vscode.debug.stopDebugging(session);
    vscode.debug.removeBreakpoints(vscode.debug.breakpoints);
    rec?.dispose();
  });

  const threads = async (): Promise<Thread[]> => ((await session!.customRequest('threads')) as { threads: Thread[] }).threads;
  const frames = async (threadId: number): Promise<Frame[]> => ((await session!.customRequest('stackTrace', { threadId, startFrame: 0, levels: 20 })) as { stackFrames: Frame[] }).stackFrames;

  it('launches the scenario and stops on entry with the simulated threads', async () => {
    const started = new Promise<vscode.DebugSession>((r) => { const d = vscode.debug.onDidStartDebugSession((s) => { d.dispose(); r(s); }); });
    const ok = await vscode.debug.startDebugging(vscode.workspace.workspaceFolders![0], {
      type: 'kctx', request: 'launch', name: 'e2e vmm_demo', scenario: wsFile('vmm_demo.ksim.json').fsPath, stopOnEntry: true,
    });
    assert.ok(ok, 'startDebugging');
    session = await started;
    const stop = await rec.nextStop(0);
    assert.equal(stop.body?.reason, 'entry');
    const ts = await threads();
    for (const n of ['vcpu0', 'vcpu1', 'vcpu2']) assert.ok(ts.some((t) => t.name.includes(n)), `thread ${n} in ${ts.map((t) => t.name).join(', ')}`);
    await waitFor('the active stack item', () => vscode.debug.activeStackItem, 10000);
  });

  it('stops on a context switch (swtch exception filter) with every thread in the call stack', async () => {
    await session!.customRequest('setExceptionBreakpoints', { filters: ['swtch'] });
    const n = rec.stops().length;
    await vscode.commands.executeCommand('workbench.action.debug.continue');
    const stop = await rec.nextStop(n);
    assert.equal(stop.body?.reason, 'exception', JSON.stringify(stop.body));
    assert.match(JSON.stringify(stop.body), /swtch|context switch/i);
    assert.equal((stop.body as { allThreadsStopped?: boolean }).allThreadsStopped, true);
    const ts = await threads();
    assert.ok(ts.length >= 3, `threads: ${ts.map((t) => t.name).join(', ')}`);
    const fs = await frames(stop.body!.threadId!);
    assert.ok(fs.length > 0, 'the stopped thread has frames');
  });

  it('stops at a ctxop handler function breakpoint (vmm_savectx) in the driver source', async () => {
    await session!.customRequest('setExceptionBreakpoints', { filters: [] });
    vscode.debug.addBreakpoints([new vscode.FunctionBreakpoint('vmm_savectx')]);
    await sleep(300);
    const n = rec.stops().length;
    await vscode.commands.executeCommand('workbench.action.debug.continue');
    const stop = await rec.nextStop(n, () => true, 30000);
    assert.match(String(stop.body?.reason), /function breakpoint|breakpoint/);
    const fs = await frames(stop.body!.threadId!);
    assert.equal(fs[0].name.replace(/\(.*$/, ''), 'vmm_savectx', fs.map((f) => f.name).join(' < '));
    assert.ok(fs[0].source?.path?.endsWith('vmm_demo.c'), `source ${fs[0].source?.path}`);
  });

  it('answers ::threadlist in the debug console', async () => {
    const item = vscode.debug.activeStackItem;
    const frameId = item && 'frameId' in item ? item.frameId : undefined;
    const r = (await session!.customRequest('evaluate', { expression: '::threadlist', context: 'repl', frameId })) as { result: string };
    assert.match(r.result, /vcpu0/);
    assert.match(r.result, /ADDR|PROC|LWP|CMD/i);
  });

  it('each palette mdb command writes its output to the kctx mdb channel', async () => {
    const ids = ['kctx.mdb.threadlist', 'kctx.mdb.findleaks', 'kctx.mdb.kmemVerify', 'kctx.mdb.ctxops', 'kctx.mdb.cpuinfo', 'kctx.mdb.stacks'];
    const before = api.mdb.log.length;
    for (const id of ids) {
      const r = await vscode.commands.executeCommand<{ command: string; output: string; ok: boolean }>(id);
      assert.ok(r, `${id} ran`);
      assert.ok(r.ok, `${id}: ${r.output}`);
      assert.ok(r.output.trim().length > 0, `${id} printed something`);
    }
    const r = await vscode.commands.executeCommand<{ output: string }>('kctx.mdb.run', '::walk thread');
    assert.ok(r.output.trim().length > 0);
    assert.equal(api.mdb.log.length - before, ids.length + 1);
    assert.match(api.mdb.log.find((l) => l.command === '::threadlist')!.output, /vcpu0/);
  });

  it('populates the Kernel threads tree and the Timeline', async () => {
    await api.model.refresh();
    const rows = api.threads.summary();
    assert.ok(rows.some((r) => /^cpu0\b/.test(r)), rows.join(' | '));
    assert.ok(api.model.state!.threads.some((t) => t.ctxops.some((c) => c.save === 'vmm_savectx')), 'a thread carries the vmm ctxop');
    const render = await vscode.commands.executeCommand('kctx.timeline.show');
    void render;
    const drawn = await waitFor('the timeline to draw', () => (api.timeline.lastRender && api.timeline.lastRender.slices > 0 ? api.timeline.lastRender : undefined), 15000);
    assert.ok(drawn.lanes >= 2, `lanes ${drawn.lanes}`);
  });

  it('selecting a thread in Kernel threads focuses it in the call stack', async () => {
    const ts = await threads();
    const target = ts[ts.length - 1];
    assert.ok(await vscode.commands.executeCommand('kctx.threads.select', target.id));
    await waitFor('focus on the thread', () => vscode.debug.activeStackItem?.threadId === target.id, 10000);
  });
});
