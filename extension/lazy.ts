/**
 * Loads the extension's large parts on first use, from bundles beside dist/extension.js:
 * dist/extension-sim.js (debug adapter, simulator, C parser) and dist/extension-lsp.js (the
 * language client). The require() paths are computed, so esbuild leaves them out of the
 * activation bundle.
 */
import * as path from 'node:path';

export type SimBundle = typeof import('./bundles/sim');
export type LspBundle = typeof import('./bundles/lsp');

const cache = new Map<string, unknown>();

function load<T>(name: string): T {
  let mod = cache.get(name) as T | undefined;
  if (!mod) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const req = require;
    mod = req(path.join(__dirname, `${name}.js`)) as T;
    cache.set(name, mod);
  }
  return mod;
}

/** The debug adapter session class and the C parser. Throws when the bundle is missing. */
export function loadSim(): SimBundle {
  return load<SimBundle>('extension-sim');
}

/** vscode-languageclient/node. */
export function loadLsp(): LspBundle {
  return load<LspBundle>('extension-lsp');
}
