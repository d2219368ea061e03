/**
 * The kctx extension: debugger for the kernel simulator, language client for the ctxop linter,
 * mdb commands, and the Kernel threads / Timeline views. Activation only registers things;
 * the language client, the C parser and the adapter are loaded when first needed.
 */
import * as vscode from 'vscode';
import { KctxModel } from './model';
import { KctxAdapterFactory, KctxTrackerFactory } from './adapter';
import { KctxConfigurationProvider, KctxDynamicProvider } from './configProvider';
import { MdbRunner } from './mdb';
import { ThreadsTree } from './views/threads';
import { TimelineView } from './views/timeline';
import { CtxopCodeLens } from './codelens';
import { LintClient } from './lsp';
import { registerCommands } from './commands/index';
import { simulateConfig } from './simulate';
import { scanC } from './cscan';

const moduleLoaded = performance.now();

/** What activate() returns: used by the integration tests and by other extensions. */
export interface KctxApi {
  activation: { activateMs: number };
  model: KctxModel;
  mdb: MdbRunner;
  threads: ThreadsTree;
  timeline: TimelineView;
  lint: LintClient;
  /** How each debug session's adapter runs (session id → inline | process | server). */
  adapterModes: ReadonlyMap<string, string>;
  simulateConfig: typeof simulateConfig;
  scanC: typeof scanC;
}

let lint: LintClient | undefined;

export function activate(context: vscode.ExtensionContext): KctxApi {
  const t0 = performance.now();
  const log = vscode.window.createOutputChannel('kctx');
  const model = new KctxModel();
  const mdb = new MdbRunner(model, context.workspaceState);
  const threads = new ThreadsTree(model);
  const timeline = new TimelineView(context.extensionUri, model);
  const lens = new CtxopCodeLens();
  lint = new LintClient(context, log);
  const C = [{ language: 'c', scheme: 'file' }];
  const adapters = new KctxAdapterFactory(context, log);

  context.subscriptions.push(
    log, model, mdb, threads, timeline, lens,
    vscode.debug.registerDebugConfigurationProvider('kctx', new KctxConfigurationProvider()),
    vscode.debug.registerDebugConfigurationProvider('kctx', new KctxDynamicProvider(), vscode.DebugConfigurationProviderTriggerKind.Dynamic),
    vscode.debug.registerDebugAdapterDescriptorFactory('kctx', adapters),
    vscode.debug.registerDebugAdapterTrackerFactory('kctx', new KctxTrackerFactory(model)),
    vscode.window.registerTreeDataProvider('kctx.threads', threads),
    vscode.window.registerWebviewViewProvider(TimelineView.id, timeline),
    vscode.languages.registerCodeLensProvider(C, lens),
    ...registerCommands({ extension: context, model, mdb, threads, timeline }),
  );

  // The language server starts with the first C document (now, if one is open).
  const startLint = (d: vscode.TextDocument) => { if (d.languageId === 'c') void lint?.start(); };
  if (vscode.workspace.textDocuments.some((d) => d.languageId === 'c')) setTimeout(() => void lint?.start(), 0);
  else context.subscriptions.push(vscode.workspace.onDidOpenTextDocument(startLint));

  const activateMs = performance.now() - t0;
  log.appendLine(`activated in ${activateMs.toFixed(1)} ms (bundle evaluated ${(t0 - moduleLoaded).toFixed(1)} ms before activate)`);
  return { activation: { activateMs }, model, mdb, threads, timeline, lint, adapterModes: adapters.modes, simulateConfig, scanC };
}

export async function deactivate(): Promise<void> {
  await lint?.dispose();
  lint = undefined;
}
