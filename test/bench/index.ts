/**
 * `npm run bench`: every benchmark, printed as one table. Figures, not pass/fail: targets are
 * shown beside them (../shared/README.md §5). The simulator, interpreter and adapter benches
 * run from bundles (esbuild), as the shipped code does; the lint bench runs from out/.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from '../scratch';

interface Row { name: string; value: string; target?: string }
type Bench = () => Promise<Row[]>;

const SUITES: Array<{ title: string; file: string; fn: string }> = [
  { title: 'simulator', file: 'sim.bundle.js', fn: 'benchSim' },
  { title: 'interpreter', file: 'interp.bundle.js', fn: 'benchInterp' },
  { title: 'debug adapter', file: 'dap.bundle.js', fn: 'benchDap' },
  { title: 'explore', file: 'explore.js', fn: 'benchExplore' },
  { title: 'lint', file: 'lint.js', fn: 'benchLint' },
  { title: 'gate', file: 'gate.js', fn: 'benchGate' },
];

async function main(): Promise<void> {
  // Loads keep their preprocessed units in a scratch folder, never the user's cache (cinterp/disk-cache.ts).
  process.env.KCTX_CACHE_DIR ??= scratchDir('kctx-bench-cache-');
  const only = process.argv.slice(2);
  const rows: Array<Row & { suite: string }> = [];
  for (const s of SUITES) {
    if (only.length && !only.includes(s.title.split(' ')[0]!)) continue;
    const path = join(__dirname, s.file);
    if (!existsSync(path)) {
      rows.push({ suite: s.title, name: '(not built)', value: '-' });
      continue;
    }
    process.stderr.write(`bench: ${s.title}...\n`);
    try {
      const mod = require(path) as Record<string, Bench>;
      for (const r of await mod[s.fn]!()) rows.push({ suite: s.title, ...r });
    } catch (e) {
      rows.push({ suite: s.title, name: 'FAILED', value: (e as Error).message.split('\n')[0]! });
    }
  }
  const w = Math.max(...rows.map((r) => r.name.length), 20);
  const v = Math.max(...rows.map((r) => r.value.length), 10);
  console.log(`${'suite'.padEnd(14)} ${'benchmark'.padEnd(w)} ${'value'.padStart(v)}  target`);
  console.log(`${'-'.repeat(14)} ${'-'.repeat(w)} ${'-'.repeat(v)}  ------`);
  for (const r of rows) console.log(`${r.suite.padEnd(14)} ${r.name.padEnd(w)} ${r.value.padStart(v)}  ${r.target ?? ''}`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
