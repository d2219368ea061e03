import * as vscode from 'vscode';
import type { KctxCommand } from './types';

/** kctx: Show Timeline (reveals the Timeline view in Run and Debug). */
const command: KctxCommand = {
  id: 'kctx.timeline.show',
  async run(ctx) {
    await vscode.commands.executeCommand('setContext', 'kctx.hasState', true);
    await vscode.commands.executeCommand('kctx.timeline.focus');
    await ctx.model.refresh();
    return ctx.timeline.lastRender;
  },
};
export default command;
