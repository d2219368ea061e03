import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { EXT_ID, getApi, DapRecorder, sleep } from './helpers';

interface ExploreResult { schedules: number; failures: Array<{ kind: string; message: string; signature: string; schedule: string; dump: string | null; preemptions: number }> }
interface Thread { id: number; name: string }
interface Frame { id: number; name: string }

async function stopAll(): Promise<void> {
  for (let i = 0; i < 20 && vscode.debug.activeDebugSession; i++) {
    await vscode.debug.stopDebugging();
    await sleep(200);
  }
}

describe('kctx: Explore schedules and crash dumps', function () {
  let rec: DapRecorder;
  let result: ExploreResult;

  before(async () => {
    await getApi();
    rec = new DapRecorder();
  });

  after(async () => {
    await stopAll();
    rec?.dispose();
  });

  it('explores the attach-race example and opens the failure in the debugger, stopped at the panic', async function () {
    this.timeout(120000);
    const ext = vscode.extensions.getExtension(EXT_ID)!;
    const scenario = vscode.Uri.file(path.join(ext.extensionPath, 'examples', 'explore', 'attach-race.ksim.json'));
    const n = rec.stops().length;
    const started = new Promise<vscode.DebugSession>((r) => {
      const d = vscode.debug.onDidStartDebugSession((s) => { d.dispose(); r(s); });
    });
    result = (await vscode.commands.executeCommand('kctx.explore', scenario, { budget: 300, noPrompt: true, open: 0 })) as ExploreResult;
    assert.ok(result, 'the command returned a result');
    assert.equal(result.schedules, 300);
    assert.equal(result.failures.length, 1);
    assert.equal(result.failures[0]!.kind, 'panic');
    assert.match(result.failures[0]!.signature, /^panic: vcpu_save < savectx/);
    const session = await started;
    assert.equal(session.configuration.schedule, result.failures[0]!.schedule);
    const stop = await rec.nextStop(n, (m) => m.body?.reason === 'exception', 60000);
    assert.match(JSON.stringify(stop.body), /BAD TRAP/);
    const frames = ((await session.customRequest('stackTrace', { threadId: stop.body!.threadId, startFrame: 0, levels: 5 })) as { stackFrames: Frame[] }).stackFrames;
    assert.equal(frames[0]!.name.replace(/\(.*$/, ''), 'vcpu_save');
    await stopAll();
  });

  it('opens the failure\'s crash dump as a post-mortem session: threads, stacks and mdb, no stepping', async function () {
    this.timeout(60000);
    const dump = result.failures[0]!.dump!;
    assert.ok(dump && dump.endsWith('.dump'), `a dump: ${dump}`);
    const n = rec.stops().length;
    const started = new Promise<vscode.DebugSession>((r) => {
      const d = vscode.debug.onDidStartDebugSession((s) => { d.dispose(); r(s); });
    });
    assert.equal(await vscode.commands.executeCommand('kctx.openDump', vscode.Uri.file(dump)), true);
    const session = await started;
    assert.equal(session.configuration.dump, dump);
    const stop = await rec.nextStop(n, () => true, 30000);
    assert.equal(stop.body?.reason, 'exception');
    const threads = ((await session.customRequest('threads')) as { threads: Thread[] }).threads;
    assert.ok(threads.some((t) => t.name.includes('vcpu0')) && threads.some((t) => t.name.includes('vcpu1')), threads.map((t) => t.name).join(', '));
    const frames = ((await session.customRequest('stackTrace', { threadId: stop.body!.threadId, startFrame: 0, levels: 5 })) as { stackFrames: Frame[] }).stackFrames;
    assert.deepEqual(frames.slice(0, 2).map((f) => f.name.replace(/\(.*$/, '')), ['vcpu_save', 'savectx']);
    const pi = (await session.customRequest('evaluate', { expression: '::panicinfo', context: 'repl', frameId: frames[0]!.id })) as { result: string };
    assert.match(pi.result, /message BAD TRAP: type=e \(#pf Page fault\)/);
    await assert.rejects(Promise.resolve(session.customRequest('next', { threadId: stop.body!.threadId })), /crash dump/);
    await stopAll();
  });
});
