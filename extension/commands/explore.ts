import * as vscode from 'vscode';
import * as path from 'node:path';
import type { KctxCommand } from './types';
import { runExplore, failureConfig, type ExploreOptions, type ExploreResult } from '../explore';

/** The scenario to explore: the argument, the open .ksim.json, or one picked from the workspace. */
async function pickScenario(arg: unknown, noPrompt: boolean): Promise<vscode.Uri | undefined> {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string') return vscode.Uri.file(arg);
  const open = vscode.window.activeTextEditor?.document.uri;
  if (open && open.fsPath.endsWith('.ksim.json')) return open;
  if (noPrompt) return undefined;
  const files = await vscode.workspace.findFiles('**/*.ksim.json', '**/node_modules/**', 200);
  const pick = await vscode.window.showQuickPick(files.map((u) => ({ label: vscode.workspace.asRelativePath(u), uri: u })), { placeHolder: 'Scenario to explore' });
  return pick?.uri;
}

/**
 * kctx: Explore schedules. Arguments (optional): the scenario (URI or path), then options
 * ({budget, strategy, noPrompt, open}). Shows progress, then a list of the failures; picking one
 * opens it in the debugger. Resolves to the result (null when cancelled or nothing to explore).
 */
const command: KctxCommand = {
  id: 'kctx.explore',
  async run(ctx, arg, opts0) {
    const opts = (opts0 ?? {}) as ExploreOptions;
    const scenario = await pickScenario(arg, opts.noPrompt === true);
    if (!scenario) {
      if (!opts.noPrompt) void vscode.window.showInformationMessage('kctx: open or pick a .ksim.json scenario to explore.');
      return null;
    }
    const cli = ctx.extension.asAbsolutePath('dist/kctx.js');
    const out = path.join(ctx.extension.globalStorageUri.fsPath, 'explore', `${path.basename(scenario.fsPath, '.ksim.json')}-${Date.now().toString(36)}`);
    let result: ExploreResult;
    try {
      result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `kctx: exploring ${path.basename(scenario.fsPath)}`, cancellable: true },
        async (progress, token) => {
          let last = 0;
          return runExplore(cli, scenario.fsPath, out, opts, (done, total, failures) => {
            progress.report({ increment: ((done - last) * 100) / Math.max(1, total), message: `${done}/${total} schedules, ${failures} distinct failure${failures === 1 ? '' : 's'}` });
            last = done;
          }, token);
        },
      );
    } catch (e) {
      void vscode.window.showErrorMessage(`kctx: ${(e as Error).message}`);
      return null;
    }
    const folder = vscode.workspace.getWorkspaceFolder(scenario);
    if (typeof opts.open === 'number') {
      const f = result.failures[opts.open];
      if (f) await vscode.debug.startDebugging(folder, failureConfig(scenario.fsPath, f));
      return result;
    }
    if (opts.noPrompt) return result;
    if (!result.failures.length) {
      void vscode.window.showInformationMessage(`kctx: ${result.schedules} schedules of ${path.basename(scenario.fsPath)}: no failure found.`);
      return result;
    }
    const pick = await vscode.window.showQuickPick(
      result.failures.map((f, i) => ({
        label: `${f.kind}: ${f.message}`,
        description: `${f.preemptions} preemption${f.preemptions === 1 ? '' : 's'}`,
        detail: f.signature,
        index: i,
      })),
      { placeHolder: `${result.schedules} schedules, ${result.failures.length} distinct failure${result.failures.length === 1 ? '' : 's'}: pick one to open it in the debugger`, matchOnDetail: true },
    );
    if (pick) await vscode.debug.startDebugging(folder, failureConfig(scenario.fsPath, result.failures[pick.index]!));
    return result;
  },
};
export default command;
