import * as vscode from 'vscode';
import * as path from 'node:path';
import type { KctxApi } from '../../../extension/main';

export const EXT_ID = 'kctx.kctx';

export async function getApi(): Promise<KctxApi> {
  const ext = vscode.extensions.getExtension<KctxApi>(EXT_ID);
  if (!ext) throw new Error(`extension ${EXT_ID} not found`);
  return ext.isActive ? ext.exports : ext.activate();
}

export function wsFile(rel: string): vscode.Uri {
  const root = vscode.workspace.workspaceFolders?.[0]?.uri;
  if (!root) throw new Error('no workspace folder');
  return vscode.Uri.file(path.join(root.fsPath, rel));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `fn` until it returns a truthy value or the time is up. */
export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 20000, everyMs = 100): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${last instanceof Error ? last.message : String(last)}` : ''}`);
    await sleep(everyMs);
  }
}

/** Starts `kctx dap --server=0` with this extension host's runtime; resolves with its port and token. */
export async function startDapServer(): Promise<{ port: number; token: string; stop(): void }> {
  const { spawn } = await import('node:child_process');
  const ext = vscode.extensions.getExtension(EXT_ID)!;
  const cli = path.join(ext.extensionPath, 'dist', 'kctx.js');
  const p = spawn(process.execPath, [cli, 'dap', '--server=0'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
  let err = '';
  let token = '';
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => { p.kill(); reject(new Error(`kctx dap --server=0 did not listen: ${err}`)); }, 15000);
    p.stderr!.on('data', (d) => {
      err += d;
      const m = /listening on 127\.0\.0\.1:(\d+) token=([0-9a-f]+)\n/.exec(err);
      if (m) { clearTimeout(t); token = m[2]!; resolve(Number(m[1])); }
    });
    p.on('exit', (c) => { clearTimeout(t); reject(new Error(`kctx dap exited (${c}): ${err}`)); });
  });
  return { port, token, stop: () => { p.kill(); } };
}

export function diagCode(d: vscode.Diagnostic): string | undefined {
  const c = d.code;
  if (c === undefined) return undefined;
  return typeof c === 'object' ? String(c.value) : String(c);
}

export interface DapMessage { type: string; event?: string; command?: string; body?: Record<string, unknown> & { reason?: string; threadId?: number; description?: string } }

/** Records what every kctx session's adapter sends (a second tracker beside the extension's). */
export class DapRecorder implements vscode.Disposable {
  readonly messages: DapMessage[] = [];
  private readonly reg: vscode.Disposable;
  constructor() {
    this.reg = vscode.debug.registerDebugAdapterTrackerFactory('kctx', {
      createDebugAdapterTracker: () => ({ onDidSendMessage: (m: DapMessage) => { this.messages.push(m); } }),
    });
  }
  stops(): DapMessage[] { return this.messages.filter((m) => m.type === 'event' && m.event === 'stopped'); }
  /** Waits for a stop after the `after`-th one that satisfies `pred`. */
  async nextStop(after: number, pred: (m: DapMessage) => boolean = () => true, timeoutMs = 30000): Promise<DapMessage> {
    return waitFor('a stopped event', () => this.stops().slice(after).find(pred), timeoutMs, 50);
  }
  dispose(): void { this.reg.dispose(); }
}
