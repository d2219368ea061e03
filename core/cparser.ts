/**
 * The C parser set-up: web-tree-sitter with the tree-sitter-c grammar. Shared by the interpreter
 * (kernel-sim/cinterp), the lint engine (language-server) and the extension's scan (extension/cscan.ts).
 *
 * Loading is asynchronous (WebAssembly); call `loadCParser()` once and reuse the result.
 * The wasm files are looked up beside the running bundle first (dist/), then in node_modules.
 */
import type * as WebTreeSitter from 'web-tree-sitter';
import type { Tree, Node as SyntaxNode, Edit, Language } from 'web-tree-sitter';
import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

// Loaded through `require` so that bundles (CJS) get web-tree-sitter's CommonJS build: its ES-module
// build calls createRequire(import.meta.url), and import.meta is empty once bundled as CJS.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const wts = require('web-tree-sitter') as typeof WebTreeSitter;

export type { Tree, SyntaxNode, Edit };
export const Parser = wts.Parser;
export type Parser = WebTreeSitter.Parser;
export const Query = wts.Query;

let loading: Promise<Language> | undefined;

/**
 * The part of web-tree-sitter's WebAssembly module that a fast tree walk uses (kernel-sim's
 * cinterp/ctree.ts): its tree cursor functions, which read and write the cursor in the binding's
 * transfer buffer (`_ts_init()` answers its address), and the memory. Undefined when the module
 * was initialised before loadCLanguage.
 */
export interface TreeSitterWasm {
  HEAP32: Int32Array;
  _ts_init(): number;
  _ts_tree_cursor_goto_first_child_wasm(tree: number): number;
  _ts_tree_cursor_goto_next_sibling_wasm(tree: number): number;
  _ts_tree_cursor_goto_parent_wasm(tree: number): number;
  _ts_tree_cursor_current_node_type_id_wasm(tree: number): number;
  _ts_tree_cursor_current_node_is_missing_wasm(tree: number): number;
  _ts_tree_cursor_current_field_id_wasm(tree: number): number;
  _ts_tree_cursor_start_index_wasm(tree: number): number;
  _ts_tree_cursor_end_index_wasm(tree: number): number;
}
let wasmModule: TreeSitterWasm | undefined;

/** web-tree-sitter's module once loadCLanguage has loaded it (see TreeSitterWasm). */
export function treeSitterWasm(): TreeSitterWasm | undefined {
  return wasmModule;
}

function locate(file: string, pkgPath: string): string {
  const beside = join(__dirname, file);
  if (existsSync(beside)) return beside;
  return require.resolve(pkgPath);
}

let grammar: string | undefined;
/**
 * A fingerprint of the parser's two WebAssembly files (the runtime and the C grammar): what a
 * syntax tree kept on disk was parsed with (kernel-sim/cinterp/disk-cache.ts).
 */
export function parserPrint(): string {
  if (grammar === undefined) {
    const h = createHash('sha256');
    for (const [f, p] of [['web-tree-sitter.wasm', 'web-tree-sitter/web-tree-sitter.wasm'], ['tree-sitter-c.wasm', 'tree-sitter-c/tree-sitter-c.wasm']] as const) h.update(readFileSync(locate(f, p)));
    grammar = h.digest('hex').slice(0, 32);
  }
  return grammar;
}

/** Loads tree-sitter and the C language once per process. */
export function loadCLanguage(): Promise<Language> {
  if (!loading) {
    loading = (async () => {
      const runtime = locate('web-tree-sitter.wasm', 'web-tree-sitter/web-tree-sitter.wasm');
      const options = { locateFile: () => runtime };
      await wts.Parser.init(options);
      // Emscripten fills the options object in as the module: its wasm exports and memory.
      if (typeof (options as Record<string, unknown>)._ts_init === 'function') wasmModule = options as unknown as TreeSitterWasm;
      // The bytes, not the path: from a path web-tree-sitter reads with a dynamic import(), which
      // a bundle run from V8's code cache cannot make on node 20 (core/code-cache.ts).
      return wts.Language.load(readFileSync(locate('tree-sitter-c.wasm', 'tree-sitter-c/tree-sitter-c.wasm')));
    })();
  }
  return loading;
}

/** A new parser set to C. Parsers are cheap; keep one per document for incremental parsing. */
export async function createCParser(): Promise<Parser> {
  const lang = await loadCLanguage();
  const p = new Parser();
  p.setLanguage(lang);
  return p;
}
