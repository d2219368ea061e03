// Runs every compiled test under out/test with node's own test runner.
// Usage: node test/run.mjs [unit|dap|lsp|e2e ...]   (no argument: all layers)
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
// The simulator's disk cache of preprocessed units (cinterp/disk-cache.ts): one scratch folder
// for the run, shared by its test processes and the kctx processes they start, removed at the
// end; never the user's ~/.cache/kctx.
const cache = process.env.KCTX_CACHE_DIR ? null : mkdtempSync(join(tmpdir(), 'kctx-test-cache-'));
const env = cache ? { ...process.env, KCTX_CACHE_DIR: cache } : process.env;
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit', env });
if (cache) rmSync(cache, { recursive: true, force: true });
process.exit(r.status ?? 1);
