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
