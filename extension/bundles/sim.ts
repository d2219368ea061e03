/**
 * The lazily loaded part of the extension that carries the simulator: the inline debug adapter
 * (debug-adapter/session.ts over kernel-sim) and the shared tree-sitter C parser. Bundled on its
 * own (dist/extension-sim.js) so that activation does not parse it; extension/lazy.ts loads it.
 */
export { KctxDebugSession } from '../../debug-adapter/session';
export { createCParser } from '../../core/cparser';
