/** Worker thread of `kctx lint`: lints the files the main thread sends, one at a time. */
import { parentPort, workerData } from 'node:worker_threads';
import { lintFile } from './cli';

let started = false;

export function startLintWorker(): void {
  const port = parentPort;
  if (!port || started) return;
  started = true;
  const opts = (workerData as { opts?: Parameters<typeof lintFile>[1] })?.opts ?? {};
  port.on('message', async (msg: { id: number; file: string } | null) => {
    if (msg === null) { port.close(); return; }
    try {
      const r = await lintFile(msg.file, opts);
      port.postMessage({ id: msg.id, ...r });
    } catch (e) {
      port.postMessage({ id: msg.id, error: e instanceof Error ? e.message : String(e), diagnostics: [] });
    }
  });
  port.postMessage({ ready: true });
}

if (parentPort && (workerData as { kctxLintWorker?: boolean })?.kctxLintWorker) startLintWorker();
