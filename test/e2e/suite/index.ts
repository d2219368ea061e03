/**
 * Entry of the in-editor integration suite: the `run()` contract of @vscode/test-electron (VS Code
 * loads this file as `extensionTestsPath` and awaits `run()`; a rejection fails the run). Runs every
 * `*.test.js` beside it with mocha and writes the results to the workspace folder
 * (`.kctx-e2e-results.json`), which the code-server runner (test/e2e/run.mjs) reads back.
 */
import * as path from 'node:path';
import * as fs from 'node:fs';
import Mocha from 'mocha';

interface Results { passed: number; failed: number; skipped: number; lines: string[] }

export async function run(): Promise<void> {
  // `vscode` is only loadable inside the extension host, so require it here.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const vscode = require('vscode') as typeof import('vscode');
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60000, reporter: Mocha.reporters.Base });
  for (const f of fs.readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort()) mocha.addFile(path.join(__dirname, f));
  const res: Results = { passed: 0, failed: 0, skipped: 0, lines: [] };
  const say = (line: string) => { res.lines.push(line); console.log(`[kctx-e2e] ${line}`); };
  await mocha.loadFilesAsync();
  await new Promise<void>((resolve) => {
    const runner = mocha.run(() => resolve());
    runner.on('pass', (t) => { res.passed++; say(`  ok   ${t.fullTitle()} (${t.duration ?? 0} ms)`); });
    runner.on('pending', (t) => { res.skipped++; say(`  skip ${t.fullTitle()}${(t as { skipReason?: string }).skipReason ? ` (${(t as { skipReason?: string }).skipReason})` : ''}`); });
    runner.on('fail', (t, err: Error) => {
      res.failed++;
      say(`  FAIL ${t.fullTitle()}`);
      for (const l of String(err?.stack ?? err).split('\n').slice(0, 8)) say(`         ${l}`);
    });
  });
  const ws = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (ws) fs.writeFileSync(path.join(ws, '.kctx-e2e-results.json'), JSON.stringify(res, null, 2));
  if (res.failed) throw new Error(`${res.failed} integration test(s) failed`);
}
