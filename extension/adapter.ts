/**
 * How VS Code reaches the kctx debug adapter: inline in the extension host (default), as a
 * separate `kctx dap` process, or over a socket to `kctx dap --server=PORT` (adapter development).
 * Also the tracker that tells the model about every stop.
 */
import * as vscode from 'vscode';
import type { KctxModel } from './model';
import { loadSim } from './lazy';

type SessionClass = new () => vscode.DebugAdapter;

/** The debug adapter's session class (debug-adapter/session.ts), from dist/extension-sim.js. */
export function loadSessionClass(): SessionClass {
  return loadSim().KctxDebugSession as unknown as SessionClass;
}

/**
 * Wraps the inline session so that the extension can add events of its own to the stream VS Code
 * sees: selecting a thread from the Kernel threads view re-announces the stop on that thread,
 * which is how VS Code moves the call stack's focus.
 */
export class InlineAdapter implements vscode.DebugAdapter {
  private readonly emitter = new vscode.EventEmitter<vscode.DebugProtocolMessage>();
  readonly onDidSendMessage = this.emitter.event;
  private readonly sub: vscode.Disposable;
  private lastStopped: Record<string, unknown> | undefined;

  constructor(private readonly inner: vscode.DebugAdapter) {
    this.sub = inner.onDidSendMessage((m) => {
      const msg = m as { type?: string; event?: string; body?: Record<string, unknown> };
      if (msg.type === 'event' && msg.event === 'stopped') this.lastStopped = msg.body;
      if (msg.type === 'event' && msg.event === 'continued') this.lastStopped = undefined;
      this.emitter.fire(m);
    });
  }

  handleMessage(message: vscode.DebugProtocolMessage): void {
    this.inner.handleMessage(message);
  }

  /**
   * Focus a thread in the CALL STACK view (only while the program is stopped) without moving
   * the stop: a stopped event for that thread alone (`allThreadsStopped: false`), so VS Code
   * keeps the stopped thread's own reason and description and only focuses the other one.
   */
  focusThread(threadId: number): boolean {
    const stop = this.lastStopped;
    if (!stop) return false;
    if (stop.threadId === threadId) return true;
    const real = typeof stop.threadId === 'number' ? ` (the stop is on thread ${stop.threadId})` : '';
    this.emitter.fire({
      type: 'event', seq: 0, event: 'stopped',
      body: { reason: 'pause', description: `Selected in Kernel threads${real}`, threadId, allThreadsStopped: false, preserveFocusHint: false, kctxSelect: true },
    } as vscode.DebugProtocolMessage);
    return true;
  }

  dispose(): void {
    this.sub.dispose();
    this.emitter.dispose();
    (this.inner as Partial<vscode.Disposable>).dispose?.();
  }
}

export const inlineAdapters = new WeakMap<vscode.DebugSession, InlineAdapter>();

export class KctxAdapterFactory implements vscode.DebugAdapterDescriptorFactory {
  /** How each session's adapter runs (session id → inline | process | server). */
  readonly modes = new Map<string, string>();

  constructor(private readonly context: vscode.ExtensionContext, private readonly log: vscode.OutputChannel) {}

  createDebugAdapterDescriptor(session: vscode.DebugSession): vscode.ProviderResult<vscode.DebugAdapterDescriptor> {
    const cfg = vscode.workspace.getConfiguration('kctx.debugAdapter');
    // A launch configuration may pick the mode for itself ("adapterMode"); else the setting.
    const own = (session.configuration as { adapterMode?: unknown }).adapterMode;
    const mode = typeof own === 'string' ? own : cfg.get<string>('mode', 'inline');
    if (mode === 'server') {
      const where = (session.configuration as { adapterPort?: unknown }).adapterPort ?? cfg.get<number | string>('port', 4711);
      this.modes.set(session.id, 'server');
      // A path: `kctx dap --server=unix:PATH` (a 0600 socket, no token); a port: the launch carries "serverToken".
      if (typeof where === 'string' && !/^\d+$/.test(where)) {
        this.log.appendLine(`debug adapter: connecting to kctx dap --server=unix:${where}`);
        return new vscode.DebugAdapterNamedPipeServer(where.replace(/^unix:/, ''));
      }
      const port = Number(where);
      this.log.appendLine(`debug adapter: connecting to kctx dap --server=${port} on 127.0.0.1`);
      return new vscode.DebugAdapterServer(port, '127.0.0.1');
    }
    if (mode !== 'process') {
      try {
        const Session = loadSessionClass();
        const adapter = new InlineAdapter(new Session());
        inlineAdapters.set(session, adapter);
        this.log.appendLine('debug adapter: inline (in the extension host)');
        this.modes.set(session.id, 'inline');
        return new vscode.DebugAdapterInlineImplementation(adapter);
      } catch (e) {
        this.log.appendLine(`debug adapter: the inline adapter did not load (${e instanceof Error ? e.message : String(e)}); running \`kctx dap\` as a process`);
      }
    }
    const cli = this.context.asAbsolutePath('dist/kctx.js');
    this.log.appendLine(`debug adapter: ${process.execPath} ${cli} dap`);
    this.modes.set(session.id, 'process');
    // The extension host's own runtime runs the CLI; in desktop VS Code that is Electron as node.
    return new vscode.DebugAdapterExecutable(process.execPath, [cli, 'dap'], { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } as Record<string, string> });
  }
}

/** Reports `stopped` events to the model (the views refresh at each stop). */
export class KctxTrackerFactory implements vscode.DebugAdapterTrackerFactory {
  constructor(private readonly model: KctxModel) {}

  createDebugAdapterTracker(session: vscode.DebugSession): vscode.DebugAdapterTracker {
    return {
      onDidSendMessage: (m: { type?: string; event?: string; body?: { reason?: string; threadId?: number; description?: string; text?: string; kctxSelect?: boolean } }) => {
        // A thread selected in Kernel threads is not a stop (see InlineAdapter.focusThread).
        if (m.type === 'event' && m.event === 'stopped' && m.body && !m.body.kctxSelect) {
          this.model.noteStopped(session, { reason: m.body.reason ?? '', threadId: m.body.threadId, description: m.body.description, text: m.body.text });
        }
      },
    };
  }
}
