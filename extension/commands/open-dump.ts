import * as vscode from 'vscode';
import type { KctxCommand } from './types';
import { dumpConfig } from '../explore';

/** kctx: Open crash dump. Argument (optional): the dump's URI or path; else a file picker. A post-mortem debug session. */
const command: KctxCommand = {
  id: 'kctx.openDump',
  async run(_ctx, arg) {
    let uri: vscode.Uri | undefined = arg instanceof vscode.Uri ? arg : typeof arg === 'string' ? vscode.Uri.file(arg) : undefined;
    if (!uri) {
      const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'kctx crash dumps': ['dump'], 'All files': ['*'] }, openLabel: 'Open crash dump' });
      uri = picked?.[0];
    }
    if (!uri) return false;
    return vscode.debug.startDebugging(vscode.workspace.getWorkspaceFolder(uri) ?? vscode.workspace.workspaceFolders?.[0], dumpConfig(uri.fsPath));
  },
};
export default command;
