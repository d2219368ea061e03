import * as vscode from 'vscode';
import type { KctxCommand } from './types';
import { inlineAdapters } from '../adapter';

/**
 * Selects a simulated thread in the CALL STACK (clicking a thread in Kernel threads). With the
 * inline adapter the stop is re-announced on that thread, which moves VS Code's focus; otherwise
 * its top frame's source is shown.
 */
const command: KctxCommand = {
  id: 'kctx.threads.select',
  async run(ctx, threadId) {
    const session = ctx.model.activeSession();
    if (!session || typeof threadId !== 'number') return false;
    if (inlineAdapters.get(session)?.focusThread(threadId)) return true;
    try {
      const st = (await session.customRequest('stackTrace', { threadId, startFrame: 0, levels: 1 })) as { stackFrames?: { line: number; source?: { path?: string } }[] };
      const f = st.stackFrames?.[0];
      if (f?.source?.path) {
        const pos = new vscode.Position(Math.max(0, f.line - 1), 0);
        await vscode.window.showTextDocument(vscode.Uri.file(f.source.path), { selection: new vscode.Range(pos, pos), preview: true });
        return true;
      }
    } catch { /* thread not stopped or no source */ }
    return false;
  },
};
export default command;
