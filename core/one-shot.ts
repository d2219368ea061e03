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

/**
 * `kctx lint`: V8 optimises a function only after four times its usual interrupt budget (the
 * bytecode a function runs before V8 looks at it again). A lint of a tree is seconds of many
 * functions each run over a few hundred files: at the usual budget V8's optimising compiles of
 * them, on its background threads, were about a quarter of the run's CPU (default rules, whole
 * 13917 uts), for code that then ran briefly. Every rule, uts/common/os: no slower. Call before
 * the CLI's bundle is compiled (core/code-cache.ts: its cached code is made under the same flags).
 */
let lintSet = false;

export function lintProcess(): void {
  if (lintSet) return;
  lintSet = true;
  (require('node:v8') as typeof import('node:v8')).setFlagsFromString(`--interrupt-budget=${LINT_INTERRUPT_BUDGET}`);
}

/** V8's default interrupt budget (66 KB of bytecode, node 20), times four. */
export const LINT_INTERRUPT_BUDGET = 4 * 67584;

/** True in a process that loads a driver once (oneShotProcess was called). */
export function isOneShotProcess(): boolean {
  return set;
}
