/**
 * A code lens above each function that installs or attaches ctxops: "Simulate" (a session with
 * this file and, when the function can be a thread entry, this function) and the era's verdict.
 */
import * as vscode from 'vscode';
import { scanC, eraVerdict } from './cscan';

export class CtxopCodeLens implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly sub = vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration('kctx')) this.changed.fire();
  });

  async provideCodeLenses(doc: vscode.TextDocument, token: vscode.CancellationToken): Promise<vscode.CodeLens[]> {
    const cfg = vscode.workspace.getConfiguration('kctx', doc.uri);
    if (!cfg.get<boolean>('codeLens.enable', true)) return [];
    const text = doc.getText();
    // Cheap pre-check: most C files never mention the API.
    if (!/\b(installctx|installctx_preallocate|ctxop_install|ctxop_attach)\s*\(/.test(text)) return [];
    const fns = await scanC(text);
    if (token.isCancellationRequested) return [];
    const era = cfg.get<string>('kernelEra', 'auto');
    const lenses: vscode.CodeLens[] = [];
    for (const f of fns.filter((fn) => fn.ctxopCalls.length)) {
      const range = new vscode.Range(f.line, 0, f.line, 0);
      const opts = f.threadEntry ? { entry: f.name } : {};
      lenses.push(new vscode.CodeLens(range, { title: '$(debug-alt) Simulate', command: 'kctx.simulate', arguments: [doc.uri, opts], tooltip: 'Run this driver in the kctx kernel simulator' }));
      lenses.push(new vscode.CodeLens(range, { title: eraVerdict(f.ctxopCalls, era), command: '', tooltip: 'Kernel eras in which these ctxop calls exist' }));
    }
    return lenses;
  }

  dispose(): void {
    this.sub.dispose();
    this.changed.dispose();
  }
}
