// The same in-editor suite as Mode A of run.mjs (out/test/e2e/suite, the `run()` contract), in a
// desktop VS Code through @vscode/test-electron, for people who have one: `npm run test:vscode`.
//
// @vscode/test-electron downloads VS Code (unless VSCODE_EXECUTABLE names an installed `code`
// binary), so it is not a dependency of the project and CI keeps code-server (run.mjs). Install it
// once, without touching package.json: `npm install --no-save @vscode/test-electron`.
//
// Env: VSCODE_EXECUTABLE (a VS Code binary to use instead of a download), VSCODE_VERSION (the
// version to download, default "stable"), KCTX_E2E_KEEP=1 (keep the work folder).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepare } from './run.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const log = (...a) => console.log('[test:vscode]', ...a);

async function main() {
  let te;
  try {
    te = await import('@vscode/test-electron');
  } catch {
    console.error('[test:vscode] @vscode/test-electron is not installed. Install it once with\n' +
      '    npm install --no-save @vscode/test-electron\n' +
      'then run `npm run test:vscode` again (it downloads VS Code unless VSCODE_EXECUTABLE names one).');
    process.exit(2);
  }
  if (!existsSync(join(ROOT, 'out/test/e2e/suite/index.js')) || !existsSync(join(ROOT, 'dist/extension.js'))) {
    log('building (npm run build)');
    const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) process.exit(1);
  }
  // The same workspace and user settings as the code-server run.
  const p = prepare('electron');
  const vscodeExecutablePath = process.env.VSCODE_EXECUTABLE || undefined;
  let code = 0;
  try {
    await te.runTests({
      ...(vscodeExecutablePath ? { vscodeExecutablePath } : { version: process.env.VSCODE_VERSION || 'stable' }),
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: join(ROOT, 'out/test/e2e/suite/index.js'),
      launchArgs: [p.ws, '--user-data-dir', p.ud, '--extensions-dir', p.exts, '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
    });
  } catch (e) {
    code = 1;
    console.error(`[test:vscode] ${e instanceof Error ? e.message : String(e)}`);
  }
  // The suite writes its results to the workspace (suite/index.ts).
  const results = join(p.ws, '.kctx-e2e-results.json');
  if (existsSync(results)) {
    const r = JSON.parse(readFileSync(results, 'utf8'));
    for (const l of r.lines) console.log(l);
    console.log(`${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''}`);
    if (r.failed) code = 1;
  } else if (!code) {
    console.log('0 passed, 1 failed (no results from the suite)');
    code = 1;
  }
  if (!process.env.KCTX_E2E_KEEP) rmSync(p.dir, { recursive: true, force: true });
  process.exit(code);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
