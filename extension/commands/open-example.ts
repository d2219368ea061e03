import * as vscode from 'vscode';
import type { KctxCommand } from './types';

/** kctx: Open the example driver (the walkthrough's first step). */
const command: KctxCommand = {
  id: 'kctx.openExample',
  async run(ctx) {
    // The walkthrough's driver: legacy installctx() calls to port to a 13917 kernel, and a leak.
    const inWs = await vscode.workspace.findFiles('**/examples/walkthrough/vcpu.c', '**/node_modules/**', 1);
    const any = inWs.length ? inWs : await vscode.workspace.findFiles('**/examples/**/*.c', '**/node_modules/**', 1);
    const uri = any[0] ?? vscode.Uri.joinPath(ctx.extension.extensionUri, 'examples', 'walkthrough', 'vcpu.c');
    try {
      await vscode.window.showTextDocument(uri);
      return true;
    } catch {
      void vscode.window.showWarningMessage('kctx: no example driver found (examples/*.c).');
      return false;
    }
  },
};
export default command;
