// Runs every compiled test under out/test with node's own test runner.
// Usage: node test/run.mjs [unit|dap|lsp|e2e ...]   (no argument: all layers)
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const layers = process.argv.slice(2);
const wanted = layers.length ? layers : ['unit', 'dap', 'lsp'];
const files = [];
function walk(d) {
  let entries;
  try { entries = readdirSync(d); } catch { return; }
  for (const e of entries.sort()) {
    const p = join(d, e);
    if (statSync(p).isDirectory()) walk(p);
    else if (e.endsWith('.test.js')) files.push(p);
  }
}
for (const l of wanted) walk(join('out', 'test', l));
if (!files.length) { console.error('no test files found'); process.exit(1); }
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
