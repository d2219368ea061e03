import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { getApi, wsFile, waitFor, diagCode, EXT_ID } from './helpers';

describe('lint (language server)', function () {
  it('publishes legacy-ctxop-api on a 13917 kernel and the migration quick fix edits the file', async () => {
    await getApi();
    const uri = wsFile('legacy.c');
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const diags = await waitFor('legacy-ctxop-api diagnostic', () => {
      const ds = vscode.languages.getDiagnostics(uri).filter((d) => diagCode(d) === 'legacy-ctxop-api');
      return ds.length ? ds : undefined;
    }, 30000, 200);
    const d = diags[0];
    assert.equal(doc.getText(d.range).startsWith('installctx'), true, `range covers the call: ${doc.getText(d.range)}`);
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, d.range, vscode.CodeActionKind.QuickFix.value, 10);
    const describe = actions.map((a) => `${a.title} [edit=${!!a.edit} command=${a.command?.command ?? '-'} diags=${(a.diagnostics ?? []).map(diagCode).join(',')}]`).join(' | ');
    const fix = actions.find((a) => a.edit && /migrat/i.test(a.title) && (!a.diagnostics?.length || a.diagnostics.some((x) => diagCode(x) === 'legacy-ctxop-api')));
    assert.ok(fix, `the migration quick fix; got: ${describe}`);
    assert.ok(await vscode.workspace.applyEdit(fix.edit!), 'edit applied');
    const text = doc.getText();
    assert.doesNotMatch(text, /^\s+installctx\s*\(/m, 'the call is gone');
    assert.match(text, /ctxop_(allocate|install|attach)\s*\(/);
    await waitFor('the diagnostic to go away', () => !vscode.languages.getDiagnostics(uri).some((x) => diagCode(x) === 'legacy-ctxop-api'), 30000, 200);
  });

  it('the walkthrough opens a copy of its driver in the workspace, and both legacy calls are flagged where they are', async () => {
    await getApi();
    assert.equal(await vscode.commands.executeCommand('kctx.openExample'), true);
    const ws = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    const ed = await waitFor('the example in the editor', () => {
      const e = vscode.window.activeTextEditor;
      return e && e.document.uri.fsPath.endsWith('/vcpu.c') ? e : undefined;
    });
    // A copy in the workspace folder, not the file inside the extension.
    assert.equal(ed.document.uri.fsPath, `${ws}/kctx-example/vcpu.c`);
    const ext = vscode.extensions.getExtension(EXT_ID)?.extensionPath;
    assert.ok(ext, 'the kctx extension');
    assert.notEqual(ed.document.uri.fsPath, `${ext}/examples/walkthrough/vcpu.c`, 'not the extension\'s own example');
    const uri = ed.document.uri;
    const lines = await waitFor('legacy-ctxop-api on both calls', () => {
      const ds = vscode.languages.getDiagnostics(uri).filter((d) => diagCode(d) === 'legacy-ctxop-api');
      return ds.length === 2 ? ds.map((d) => `${d.range.start.line + 1}:${ed.document.getText(d.range).split('(')[0]}`) : undefined;
    }, 30000, 200);
    assert.deepEqual(lines.sort(), ['76:installctx', '85:removectx']);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });
});
