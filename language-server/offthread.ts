/**
 * Lints big documents on a worker thread for the language server, so a file of a megabyte or more
 * (seconds of analysis) never holds up hover, code actions or other documents. One worker, one lint
 * at a time in order; cancelling a lint ends the worker (the next lint starts a fresh one). The
 * result is the same as lintText()'s in the server's thread: same engine, same work budget.
 */
import { Worker } from 'node:worker_threads';
import type { KctxDiagnostic, LintOptions } from './engine';
import { LintCancelled } from './engine';
import { workerEntry } from './files';
import { compiledParser } from '../core/cparser';

/** Documents larger than this (UTF-16 units) are linted off the server's thread. */
export const OFF_THREAD_SIZE = 256 * 1024;

interface Job { id: number; resolve: (d: KctxDiagnostic[]) => void; reject: (e: unknown) => void }

export class OffThreadLinter {
  private worker: Worker | null = null;
  private ready: Promise<void> | null = null;
  private seq = 0;
  private jobs = new Map<number, Job>();
  private chain: Promise<unknown> = Promise.resolve();

  private start(): Promise<void> {
    if (this.ready) return this.ready;
    const entry = workerEntry();
    // the parser's modules as this thread compiled them (its own parser loads from them too): the worker shares their code (cparser.ts)
    const w = new Worker(entry.file, { workerData: { kctxLintWorker: true, opts: {}, wasm: compiledParser() }, argv: entry.argv });
    this.worker = w;
    this.ready = new Promise<void>((resolve, reject) => {
      w.once('error', reject);
      w.on('message', (m: { ready?: boolean; id?: number; diagnostics?: KctxDiagnostic[]; error?: string }) => {
        if (m.ready) { resolve(); return; }
        const j = this.jobs.get(m.id!);
        if (!j) return;
        this.jobs.delete(m.id!);
        if (m.error) j.reject(new Error(m.error)); else j.resolve(m.diagnostics ?? []);
      });
    });
    w.on('error', (e) => this.fail(w, e));
    w.on('exit', () => this.fail(w, new LintCancelled('cancelled')));
    return this.ready;
  }

  private fail(w: Worker, e: unknown): void {
    if (this.worker !== w) return;
    this.worker = null;
    this.ready = null;
    for (const j of this.jobs.values()) j.reject(e);
    this.jobs.clear();
  }

  /** Lints a text on the worker; rejects with LintCancelled when isCancelled() turns true first. */
  lint(text: string, file: string, opts: LintOptions, isCancelled?: () => boolean): Promise<KctxDiagnostic[]> {
    const run = async (): Promise<KctxDiagnostic[]> => {
      if (isCancelled?.()) throw new LintCancelled('cancelled');
      await this.start();
      const id = ++this.seq;
      const w = this.worker!;
      const { isCancelled: _, ...plain } = opts;
      const done = new Promise<KctxDiagnostic[]>((resolve, reject) => this.jobs.set(id, { id, resolve, reject }));
      w.postMessage({ id, text, file, opts: plain });
      const poll = setInterval(() => { if (isCancelled?.() && this.worker === w) void w.terminate(); }, 20);
      try { return await done; } finally { clearInterval(poll); }
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  dispose(): void {
    const w = this.worker;
    this.worker = null;
    this.ready = null;
    void w?.terminate();
  }
}
