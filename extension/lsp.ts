/**
 * The language client: starts the bundled CLI's language server (`kctx lsp --stdio`) with the
 * extension host's own runtime, for C files. Works in restricted (untrusted) workspaces: the
 * server only reads and parses the files.
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { loadLsp } from './lazy';

export class LintClient implements vscode.Disposable {
  client: LanguageClient | undefined;
  private starting: Promise<LanguageClient | undefined> | undefined;

  constructor(private readonly context: vscode.ExtensionContext, private readonly log: vscode.OutputChannel) {}

  /** Starts the client once (called when a C file is open; not awaited by activation). */
  start(): Promise<LanguageClient | undefined> {
    this.starting ??= this.doStart();
    return this.starting;
  }

  private async doStart(): Promise<LanguageClient | undefined> {
    // Loaded here, not at activation: the client library is a bundle of its own (dist/extension-lsp.js).
    let lib: ReturnType<typeof loadLsp>;
    try {
      lib = loadLsp();
    } catch (e) {
      this.log.appendLine(`language server: the client bundle did not load: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
    const { LanguageClient, RevealOutputChannelOn } = lib;
    const cli = this.context.asAbsolutePath('dist/kctx.js');
    // Exactly `kctx lsp --stdio`, run by the extension host's own runtime (Electron as node in
    // desktop VS Code). The Executable form passes the arguments as given (the NodeModule form would
    // add --clientProcessId).
    const server = { command: process.execPath, args: [cli, 'lsp', '--stdio'], options: { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } } };
    const settings = () => {
      const c = vscode.workspace.getConfiguration('kctx', null);
      return { kernelEra: c.get('kernelEra'), lint: { rules: c.get('lint.rules'), exclude: c.get('lint.exclude') } };
    };
    const client = new LanguageClient('kctx', 'kctx lint', { run: server, debug: server }, {
      documentSelector: [{ scheme: 'file', language: 'c' }, { scheme: 'untitled', language: 'c' }],
      synchronize: { configurationSection: 'kctx' },
      initializationOptions: settings(),
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      connectionOptions: { maxRestartCount: 2 },
    });
    this.client = client;
    try {
      await client.start();
      this.log.appendLine('language server: started');
      return client;
    } catch (e) {
      this.log.appendLine(`language server: failed to start: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  }

  async dispose(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c) await c.stop().catch(() => undefined);
  }
}
