import * as vscode from 'vscode';
import type { KctxCommand } from './types';

/**
 * kctx: Open the example driver (the walkthrough's first step). An example in the workspace is
 * opened as it is; else the extension's example is copied into the workspace folder
 * (`kctx-example/vcpu.c`, kept if it is already there) or, without a folder, opened as an
 * untitled C document: the walkthrough's quick fix then edits the user's copy, never the file
 * inside the installed extension.
 */
const command: KctxCommand = {
  id: 'kctx.openExample',
  async run(ctx) {
    // The walkthrough's driver: legacy installctx() calls to port to a 13917 kernel, and a leak.
    const inWs = await vscode.workspace.findFiles('**/examples/walkthrough/vcpu.c', '**/node_modules/**', 1);
    const any = inWs.length ? inWs : await vscode.workspace.findFiles('**/examples/**/*.c', '**/node_modules/**', 1);
    try {
      if (any[0]) {
        await vscode.window.showTextDocument(any[0]);
        return true;
      }
      const original = vscode.Uri.joinPath(ctx.extension.extensionUri, 'examples', 'walkthrough', 'vcpu.c');
      const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(original));
      const folder = vscode.workspace.workspaceFolders?.[0];
      if (!folder) {
        const doc = await vscode.workspace.openTextDocument({ language: 'c', content: text });
        await vscode.window.showTextDocument(doc);
        return true;
      }
      const copy = vscode.Uri.joinPath(folder.uri, 'kctx-example', 'vcpu.c');
      let exists = true;
      try {
        await vscode.workspace.fs.stat(copy);
      } catch {
        exists = false;
      }
      if (!exists) await vscode.workspace.fs.writeFile(copy, new TextEncoder().encode(text));
      await vscode.window.showTextDocument(copy);
      return true;
    } catch (e) {
      void vscode.window.showWarningMessage(`kctx: could not open the example driver: ${e instanceof Error ? e.message : String(e)}`);
      return false;
    }
  },
};
export default command;
