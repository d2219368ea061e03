/** Worker thread of `kctx lint` (files the main thread sends) and of the language server (big documents' texts), one at a time. */
import { parentPort, workerData } from 'node:worker_threads';
import { lintFile } from './files';
import { lintText } from './engine';
import { useCompiledParser, type CompiledParser } from '../core/cparser';
import { runDefinitionsOfFile } from './lockpass';
import type { RunSummaries } from './locks';

let started = false;

export function startLintWorker(): void {
  const port = parentPort;
  if (!port || started) return;
  started = true;
  // the parser as the thread that started this one compiled it (shared code, see cparser.ts)
  const wasm = (workerData as { wasm?: CompiledParser })?.wasm;
  if (wasm) useCompiledParser(wasm);
  const opts = (workerData as { opts?: Parameters<typeof lintFile>[1] })?.opts ?? {};
  type Opts = Parameters<typeof lintFile>[1];
  type One = { id: number; file: string; text?: string; opts?: Opts; fileOpts?: Opts; defs?: boolean };
  // kctx lint with a lock rule on: the run's lock summaries (lockpass.ts), sent once the first pass is over
  let lockSummaries = (workerData as { lockSummaries?: RunSummaries })?.lockSummaries;
  const lintOne = async (msg: One) => {
    try {
      if (msg.defs) return { id: msg.id, defs: await runDefinitionsOfFile(msg.file, msg.fileOpts ?? opts) };
      const fileOpts = lockSummaries ? { ...(msg.fileOpts ?? opts), lockSummaries } : msg.fileOpts ?? opts;
      // a text (the language server's big documents) or a file from disk (kctx lint)
      const r = msg.text !== undefined ? { diagnostics: await lintText(msg.text, msg.file, msg.opts ?? {}) } : await lintFile(msg.file, fileOpts);
      return { id: msg.id, ...r };
    } catch (e) {
      if (msg.defs) return { id: msg.id, defs: [] }; // the file's lint says what is wrong with it
      return { id: msg.id, error: e instanceof Error ? e.message : String(e), diagnostics: [] };
    }
  };
  port.on('message', async (msg: One | { batch: One[] } | { lockSummaries: RunSummaries } | null) => {
    if (msg === null) { port.close(); return; }
    if ('lockSummaries' in msg) { lockSummaries = msg.lockSummaries; return; }
    // kctx lint sends files in batches (one message each way per batch, not per file)
    if ('batch' in msg) {
      const out = [];
      for (const m of msg.batch) out.push(await lintOne(m));
      port.postMessage({ batch: out });
    } else port.postMessage(await lintOne(msg));
  });
  port.postMessage({ ready: true });
}

if (parentPort && (workerData as { kctxLintWorker?: boolean })?.kctxLintWorker) startLintWorker();
