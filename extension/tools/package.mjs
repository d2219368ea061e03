// npm run package: builds the bundles and packs the .vsix with @vscode/vsce (no dependencies: the
// bundles in dist/ are self-contained). Prints the path of the .vsix.
import { spawnSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
if (!process.argv.includes('--no-build')) run(process.execPath, ['esbuild.mjs']);
for (const f of ['dist/extension.js', 'dist/extension-sim.js', 'dist/extension-lsp.js', 'dist/kctx.js', 'dist/lint-worker.js', 'dist/parse-worker.js', 'dist/webview-timeline.js', 'dist/web-tree-sitter.wasm', 'dist/tree-sitter-c.wasm']) {
  if (!existsSync(f)) { console.error(`package: ${f} is missing`); process.exit(1); }
}
const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
const out = process.env.KCTX_VSIX || `kctx-${version}.vsix`;
const vsce = require.resolve('@vscode/vsce/vsce');
run(process.execPath, [vsce, 'package', '--no-dependencies', '--no-rewrite-relative-links', '-o', out]);
console.log(out);
