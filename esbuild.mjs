// Build script: transpiles every TypeScript file to out/ (for tests) and bundles the
// entry points into dist/ (the CLI, the extension, the debug adapter, the language server).
import * as esbuild from 'esbuild';
import { readdirSync, statSync, mkdirSync, copyFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const roots = ['kctx.ts', 'core', 'kernel-sim', 'debug-adapter', 'language-server', 'extension', 'test'];
const skip = new Set(['node_modules', 'fixtures', 'screenshots']);

function walk(p, out) {
  const st = statSync(p);
  if (st.isDirectory()) {
    for (const e of readdirSync(p)) if (!skip.has(e)) walk(join(p, e), out);
  } else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  return out;
}

const files = roots.filter((r) => { try { statSync(r); return true; } catch { return false; } }).flatMap((r) => walk(r, []));
const watch = process.argv.includes('--watch');
const common = { platform: 'node', target: 'node20', format: 'cjs', sourcemap: 'linked', logLevel: 'warning' };

// 1. Transpile-only tree for unit/protocol tests and benchmarks.
await esbuild.build({ ...common, entryPoints: files, outdir: 'out', outbase: '.', bundle: false });

// 2. Bundles.
const bundles = [
  // The command: a small loader (core/code-cache.ts) that runs the CLI's bundle with V8's code cache.
  { entryPoints: { kctx: 'core/code-cache.ts' }, banner: { js: '#!/usr/bin/env node' } },
  // Without keepNames: its __name() call for every function made (at start and in the compiler's
  // closures) cost a warm `kctx run` about 30 ms of CPU; nothing in the CLI reads a function's name.
  { entryPoints: { 'kctx-cli': 'kctx.ts' }, keepNames: false },
  // The worker threads of `kctx lint` and of the language server (language-server/files.ts
  // workerEntry): the lint engine alone starts faster than the whole CLI.
  { entryPoints: { 'lint-worker': 'language-server/lint-worker.ts' } },
  // The thread that parses the second part of a big unit (kernel-sim/cinterp/split-parse.ts).
  { entryPoints: { 'parse-worker': 'kernel-sim/cinterp/parse-worker.ts' } },
  { entryPoints: { extension: 'extension/main.ts' }, external: ['vscode'] },
  // Loaded by the extension on first use (extension/lazy.ts), so that activation stays small.
  { entryPoints: { 'extension-sim': 'extension/bundles/sim.ts' }, external: ['vscode'] },
  { entryPoints: { 'extension-lsp': 'extension/bundles/lsp.ts' }, external: ['vscode'] },
];
mkdirSync('dist', { recursive: true });
for (const b of bundles) {
  try { statSync(Object.values(b.entryPoints)[0]); } catch { continue; }
  await esbuild.build({ ...common, bundle: true, outdir: 'dist', mainFields: ['module', 'main'], minifyWhitespace: true, minifySyntax: true, keepNames: true, ...b });
}
// The Timeline webview's script, for the browser (extension/views/timeline.ts loads it).
await esbuild.build({ ...common, bundle: true, platform: 'browser', format: 'iife', target: 'es2022', entryPoints: { 'webview-timeline': 'extension/webview/timeline.ts' }, outdir: 'dist', minifyWhitespace: true, minifySyntax: true });
// 3. Benchmarks of hot paths run from bundles (cross-module calls as in dist/).
for (const b of ['sim', 'interp', 'dap']) {
  const src = `test/bench/${b}.ts`;
  try { statSync(src); } catch { continue; }
  await esbuild.build({ ...common, bundle: true, entryPoints: [src], outfile: `out/test/bench/${b}.bundle.js`, mainFields: ['module', 'main'], external: ['vscode'] });
}
// The benchmarks' bundles start split-parse.ts's worker from beside them.
await esbuild.build({ ...common, bundle: true, entryPoints: ['kernel-sim/cinterp/parse-worker.ts'], outfile: 'out/test/bench/parse-worker.js', mainFields: ['module', 'main'] });
// tree-sitter runtime and the C grammar are loaded at run time from beside the bundle.
copyFileSync(require.resolve('web-tree-sitter/web-tree-sitter.wasm'), 'dist/web-tree-sitter.wasm');
copyFileSync(require.resolve('tree-sitter-c/tree-sitter-c.wasm'), 'dist/tree-sitter-c.wasm');
try { (await import('node:fs')).chmodSync('dist/kctx.js', 0o755); } catch {}
if (watch) console.log('watch mode is not implemented; run npm run build again');
