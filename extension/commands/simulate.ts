import * as vscode from 'vscode';
import type { KctxCommand } from './types';
import { simulateConfig, targetFile, type SimulateOptions } from '../simulate';

/**
 * kctx: Simulate this driver. Arguments (all optional): the C file's URI, then options
 * ({entry, stopOnEntry, noPrompt}). Resolves to true when a session started.
 */
const command: KctxCommand = {
  id: 'kctx.simulate',
  async run(_ctx, uri, opts) {
    const file = targetFile(uri);
    if (!file) {
      void vscode.window.showInformationMessage('kctx: open a driver C file to simulate it.');
      return false;
    }
    const config = await simulateConfig(file, (opts ?? {}) as SimulateOptions);
    if (!config) return false;
    return vscode.debug.startDebugging(vscode.workspace.getWorkspaceFolder(file), config);
  },
};
export default command;
