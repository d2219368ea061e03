/**
 * "kctx: Explore schedules": runs `kctx explore` on a scenario (the CLI, as a child process of the
 * extension host's runtime), shows its progress, then lists the failures; picking one opens it in
 * the debugger: its schedule replayed, stopped at the failure, with reverse stepping to its cause.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { spawn } from 'node:child_process';

export interface ExploreFailure {
  kind: string;
  message: string;
  signature: string;
  schedule: string;
  dump: string | null;
  preemptions: number;
}

export interface ExploreResult {
  version: number;
  schedules: number;
  failures: ExploreFailure[];
}

export interface ExploreOptions {
  budget?: number;
  strategy?: 'pct' | 'random' | 'preempt-bound';
  /** Never ask: no scenario picker, no result list (tests). */
  noPrompt?: boolean;
  /** Open this failure (its index) instead of showing the list. */
  open?: number;
}

/** Runs `kctx explore SCENARIO --out DIR --format json --progress json`; progress goes to `report`. */
export function runExplore(cli: string, scenario: string, out: string, opts: ExploreOptions, report: (done: number, total: number, failures: number) => void, token?: vscode.CancellationToken): Promise<ExploreResult> {
  const args = [cli, 'explore', scenario, '--out', out, '--format', 'json', '--progress', 'json', '--budget', String(opts.budget ?? 1000)];
  if (opts.strategy) args.push('--strategy', opts.strategy);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, cwd: path.dirname(scenario) });
    token?.onCancellationRequested(() => child.kill());
    let stdout = '';
    let errBuf = '';
    let errText = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => {
      errBuf += d.toString();
      let nl: number;
      while ((nl = errBuf.indexOf('\n')) >= 0) {
        const line = errBuf.slice(0, nl);
        errBuf = errBuf.slice(nl + 1);
        try {
          const p = JSON.parse(line) as { done: number; total: number; failures: number };
          report(p.done, p.total, p.failures);
        } catch {
          errText += line + '\n';
        }
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0 || code === 1) {
        try {
          resolve(JSON.parse(stdout) as ExploreResult);
        } catch (e) {
          reject(new Error(`kctx explore: unreadable output (${(e as Error).message})`));
        }
      } else reject(new Error((errText + errBuf).trim() || `kctx explore exited with ${code}`));
    });
  });
}

/** The debug configuration that opens a failure: its schedule replayed on its scenario. */
export function failureConfig(scenario: string, f: ExploreFailure): vscode.DebugConfiguration {
  return { type: 'kctx', request: 'launch', name: `kctx: ${f.kind} (${path.basename(f.schedule)})`, scenario, schedule: f.schedule, stopOnEntry: false };
}

/** The debug configuration of a post-mortem session on a crash dump. */
export function dumpConfig(dump: string): vscode.DebugConfiguration {
  return { type: 'kctx', request: 'launch', name: `kctx: dump ${path.basename(dump)}`, dump };
}
