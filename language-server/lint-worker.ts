/** Worker thread of `kctx lint` (files the main thread sends) and of the language server (big documents' texts), one at a time. */
import { parentPort, workerData } from 'node:worker_threads';
import { lintFile } from './files';
import { lintText } from './engine';

let started = false;

export function startLintWorker(): void {
  const port = parentPort;
  if (!port || started) return;
  started = true;
  const opts = (workerData as { opts?: Parameters<typeof lintFile>[1] })?.opts ?? {};
  port.on('message', async (msg: { id: number; file: string; text?: string; opts?: Parameters<typeof lintFile>[1]; fileOpts?: Parameters<typeof lintFile>[1] } | null) => {
    if (msg === null) { port.close(); return; }
    try {
      // a text (the language server's big documents) or a file from disk (kctx lint)
      const r = msg.text !== undefined ? { diagnostics: await lintText(msg.text, msg.file, msg.opts ?? {}) } : await lintFile(msg.file, msg.fileOpts ?? opts);
      port.postMessage({ id: msg.id, ...r });
    } catch (e) {
      port.postMessage({ id: msg.id, error: e instanceof Error ? e.message : String(e), diagnostics: [] });
    }
  });
  port.postMessage({ ready: true });
}

if (parentPort && (workerData as { kctxLintWorker?: boolean })?.kctxLintWorker) startLintWorker();
