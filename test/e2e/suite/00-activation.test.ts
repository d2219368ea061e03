import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { getApi, EXT_ID } from './helpers';

describe('activation', () => {
  it('activates and registers its commands', async function () {
    const ext = vscode.extensions.getExtension(EXT_ID);
    assert.ok(ext, `extension ${EXT_ID} is loaded`);
    const t0 = performance.now();
    const api = await getApi();
    const total = performance.now() - t0;
    console.log(`[kctx-e2e] activation: ${total.toFixed(1)} ms (ext.activate(), wall), activate() body ${api.activation.activateMs.toFixed(1)} ms`);
    const cmds = await vscode.commands.getCommands(true);
    for (const id of ['kctx.mdb.threadlist', 'kctx.mdb.findleaks', 'kctx.mdb.kmemVerify', 'kctx.mdb.ctxops', 'kctx.mdb.cpuinfo', 'kctx.mdb.stacks', 'kctx.mdb.run', 'kctx.simulate']) {
      assert.ok(cmds.includes(id), `command ${id} registered`);
    }
    assert.ok(api.activation.activateMs < 50, `activate() took ${api.activation.activateMs} ms`);
  });
});
