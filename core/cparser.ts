/**
 * The C parser set-up: web-tree-sitter with the tree-sitter-c grammar. Shared by the interpreter
 * (kernel-sim/cinterp), the lint engine (language-server) and the extension's scan (extension/cscan.ts).
 *
 * Loading is asynchronous (WebAssembly); call `loadCParser()` once and reuse the result.
 * The wasm files are looked up beside the running bundle first (dist/), then in node_modules.
 */
import type * as WebTreeSitter from 'web-tree-sitter';
import type { Tree, Node as SyntaxNode, Edit, Language } from 'web-tree-sitter';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fingerprint } from './fingerprint';
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
 * syntax tree kept on disk was parsed with (kernel-sim/cinterp/disk-cache.ts). Taken from each
 * file's path and stat (device, inode, size, modification time in ns), as the code cache names
 * the bundle: a warm load reads neither file (a build copies them anew: a new print, a new parse).
 */
export function parserPrint(): string {
  if (grammar === undefined) {
    grammar = fingerprint(
      ...[['web-tree-sitter.wasm', 'web-tree-sitter/web-tree-sitter.wasm'], ['tree-sitter-c.wasm', 'tree-sitter-c/tree-sitter-c.wasm']].map(([f, p]) => {
        const file = locate(f!, p!);
        const st = statSync(file, { bigint: true });
        return `${file} ${st.dev} ${st.ino} ${st.size} ${st.mtimeNs}`;
      }),
    );
  }
  return grammar;
}

/**
 * The parser's two WebAssembly modules compiled, to hand to worker threads (a WebAssembly.Module
 * crosses to a worker without being compiled again). Threads that load the parser from the same
 * compiled modules share V8's code for them, so the machine code V8 optimises the parser's hot
 * functions into while one thread parses serves the others too: a worker that compiled its own
 * copy would pay that warm-up again (#14: about a third of a cold worker's parse time).
 */
export interface CompiledParser { runtime: WasmModule; grammar: WasmModule }

/** What this file uses of the WebAssembly API (the project's type library has no WebAssembly). */
interface WasmModule { readonly __wasmModule?: never }
type WasmImports = Record<string, unknown>;
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (m: WasmModule, imports?: WasmImports) => unknown;
  instantiate(b: unknown, imports?: WasmImports): Promise<unknown>;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let compiled: CompiledParser | undefined;

/** This process's compiled parser modules (compiled on the first call; the same ones loadCLanguage then uses). */
export function compiledParser(): CompiledParser {
  compiled ??= {
    runtime: new wasm.Module(readFileSync(locate('web-tree-sitter.wasm', 'web-tree-sitter/web-tree-sitter.wasm'))),
    grammar: new wasm.Module(readFileSync(locate('tree-sitter-c.wasm', 'tree-sitter-c/tree-sitter-c.wasm'))),
  };
  return compiled;
}

/** The compiled parser modules if this process has compiled them (compiledParser), else undefined. */
export function compiledParserIfAny(): CompiledParser | undefined {
  return compiled;
}

/**
 * Loads the parser from these compiled modules (compiledParser() of another thread) instead of
 * compiling its files; before the first loadCLanguage only (later, the loaded parser stays).
 */
export function useCompiledParser(c: CompiledParser): void {
  if (!loading) compiled = c;
}

/** Loads tree-sitter and the C language once per process. */
export function loadCLanguage(): Promise<Language> {
  if (!loading) {
    loading = (async () => {
      const runtime = locate('web-tree-sitter.wasm', 'web-tree-sitter/web-tree-sitter.wasm');
      const mods = compiled;
      const options: Record<string, unknown> = { locateFile: () => runtime };
      // Emscripten's hook: the runtime instantiated from the compiled module, not from the file
      if (mods) options.instantiateWasm = (imports: WasmImports, done: (i: unknown, m: WasmModule) => void) => { done(new wasm.Instance(mods.runtime, imports), mods.runtime); return {}; };
      await wts.Parser.init(options);
      // Emscripten fills the options object in as the module: its wasm exports and memory.
      if (typeof options._ts_init === 'function') wasmModule = options as unknown as TreeSitterWasm;
      // The bytes, not the path: from a path web-tree-sitter reads with a dynamic import(), which
      // a bundle run from V8's code cache cannot make on node 20 (core/code-cache.ts).
      const bytes = readFileSync(locate('tree-sitter-c.wasm', 'tree-sitter-c/tree-sitter-c.wasm'));
      if (!mods) return wts.Language.load(bytes);
      // Language.load takes bytes only: while it instantiates these bytes, the compiled grammar stands in.
      const instantiate = wasm.instantiate;
      const shared = async (b: unknown, imports?: WasmImports) => {
        if (b === bytes) return { module: mods.grammar, instance: new wasm.Instance(mods.grammar, imports) };
        return instantiate.call(wasm, b, imports);
      };
      wasm.instantiate = shared;
      try {
        return await wts.Language.load(bytes);
      } finally {
        if (wasm.instantiate === shared) wasm.instantiate = instantiate;
      }
    })();
  }
  return loading;
}

/** The C language once a createCParser call has loaded it. */
let language: Language | undefined;

/** A new parser set to C now, if a createCParser call has loaded the language (else undefined). */
export function cParserNow(): Parser | undefined {
  if (!language) return undefined;
  const p = new Parser();
  p.setLanguage(language);
  return p;
}

/** A new parser set to C. Parsers are cheap; keep one per document for incremental parsing. */
export async function createCParser(): Promise<Parser> {
  const lang = (language = await loadCLanguage());
  const p = new Parser();
  p.setLanguage(lang);
  return p;
}
