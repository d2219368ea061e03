/** The commands that load a driver once and exit. */
export const ONE_SHOT_COMMANDS: ReadonlySet<string> = new Set(['run', 'mdb', 'explore', 'diff']);

let set = false;

/**
 * A process that loads a driver once and exits (`kctx run`, `mdb`, `explore`, `diff`): the C
 * parser's WebAssembly runs as V8's baseline code only. Optimising tree-sitter's lexer and
 * parser in the background costs more CPU than one parse of a real driver's headers gains (the
 * first parse of kvm.c's unit: about 0.7 s of CPU with the optimising tier, 0.25 s without);
 * the servers (dap, lsp) and lint, which parse again and again, keep it. Call before the parser
 * is loaded (core/cparser.ts).
 */
export function oneShotProcess(): void {
  if (set) return;
  set = true;
  (require('node:v8') as typeof import('node:v8')).setFlagsFromString('--liftoff-only');
}
