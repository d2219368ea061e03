import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { getApi, wsFile, waitFor } from './helpers';

describe('editor features', () => {
  it('gives .mdb files the mdb language', async () => {
    const doc = await vscode.workspace.openTextDocument(wsFile('macros.mdb'));
    assert.equal(doc.languageId, 'kctx-mdb');
  });

  it('shows "Simulate" and the era verdict above functions that attach ctxops', async () => {
    await getApi();
    const uri = wsFile('vmm_demo.c');
    await vscode.window.showTextDocument(uri);
    const lenses = await waitFor('code lenses', async () => {
      const l = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 10);
      return l?.some((x) => x.command?.command === 'kctx.simulate') ? l : undefined;
    }, 20000, 250);
    const sim = lenses.find((x) => x.command?.command === 'kctx.simulate')!;
    assert.equal(sim.range.start.line, 48, 'lens sits on vcpu_thread (0-based line of its definition)');
    assert.deepEqual(sim.command!.arguments?.[1], { entry: 'vcpu_thread' });
    assert.ok(lenses.some((x) => /ctxop_template API.*13917/.test(x.command?.title ?? '')), lenses.map((l) => l.command?.title).join(' | '));
    const legacy = wsFile('legacy.c');
    await vscode.workspace.openTextDocument(legacy);
    const l2 = await waitFor('legacy lenses', async () => {
      const l = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', legacy, 10);
      return l?.length ? l : undefined;
    }, 20000, 250);
    assert.ok(l2.some((x) => /installctx\(\) with 8 arguments.*gone in illumos-13917/.test(x.command?.title ?? '')), l2.map((l) => l.command?.title).join(' | '));
  });

  it('"Simulate this driver" writes a scenario beside a C file that has none', async () => {
    const api = await getApi();
    const file = wsFile('simulate_me.c');
    const scen = wsFile('simulate_me.ksim.json');
    fs.rmSync(scen.fsPath, { force: true });
    const config = await api.simulateConfig(file, { noPrompt: true });
    assert.ok(config, 'a launch configuration');
    assert.equal(config.type, 'kctx');
    assert.equal(config.scenario, scen.fsPath);
    const written = JSON.parse(fs.readFileSync(scen.fsPath, 'utf8'));
    assert.deepEqual(written.sources, ['simulate_me.c']);
    assert.equal(written.kernel, 'illumos-13917');
    // More threads than CPUs: threads are switched, so the driver's hooks run.
    assert.equal(written.cpus, 2);
    assert.equal(written.threads.length, 3, JSON.stringify(written.threads));
    assert.ok(written.threads.every((t: { entry: string }) => t.entry === 'counter_worker'), JSON.stringify(written.threads));
    // The existing scenario is found next time, not rewritten.
    const again = await api.simulateConfig(wsFile('vmm_demo.c'), { noPrompt: true });
    assert.equal(again?.scenario, wsFile('vmm_demo.ksim.json').fsPath);
  });

  it('contributes the kctx debugger with launch.json configurations', async () => {
    const ext = vscode.extensions.getExtension('kctx.kctx')!;
    const dbg = ext.packageJSON.contributes.debuggers[0];
    assert.equal(dbg.type, 'kctx');
    assert.equal(dbg.label, 'Kernel (kctx simulator)');
    const launch = vscode.workspace.getConfiguration('launch', vscode.workspace.workspaceFolders![0].uri).get<{ type: string }[]>('configurations') ?? [];
    assert.ok(launch.some((c) => c.type === 'kctx'));
  });
});
