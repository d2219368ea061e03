/**
 * The C preprocessor of the interpreter: a token-level pass over the driver's sources.
 *
 * Object-like and function-like macros (with `#` and `##`), `#undef`, conditionals with
 * `defined()` and integer expressions, `#include "..."` of the driver's own headers (never
 * outside the scenario's folder), `<sys/...>` kernel headers from kctx's generated header,
 * `#error`, `#pragma` (ignored). The output is C text for tree-sitter plus a position map:
 * every output token remembers where it came from (its own file, line and column; a token
 * produced by a macro expansion remembers the invocation), so positions of statements and
 * errors are the user's, exactly.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve, relative, isAbsolute } from 'node:path';
import { ScenarioError, CONFINEMENT_RULE } from '../scenario';
import { FileRefused, readTextBounded, realOrResolved, insideRoots, outsideWords } from '../io/files';
import { rewriteGnu, GNU_WORDS, mayHaveOldStyle, rewriteOldStyle } from './gnu-tokens';
import { GCC_PREDEFINED } from '../gate/build';
import { generateHeader, type GeneratedRule } from '../gate/generated';
import { lexC, lexTable, widened, KIND_NAMES, K_PUNCT, F_BOL, F_WS, type CTok, type CTokKind, type CTokTable } from '../../core/clex';

/**
 * gcc builtins with a type operand, which the C parser cannot take as calls, spelled as the
 * standard C they mean; gcc's alternate keywords spelled as the parser knows them.
 */
const GCC_BUILTIN_MACROS = [
  '#define __builtin_offsetof(type, member) ((unsigned long)&(((type *)0)->member))',
  // gcc's alternate keywords, in the spelling the parser knows.
  '#define __asm __asm__',
  '#define __volatile __volatile__',
  '#define __inline inline',
  '#define __const const',
  '#define __signed signed',
  '#define __restrict restrict',
  '#define __restrict__ restrict',
];

/** What a missing header's message adds with a gate and no `"module"`. */
const MODULE_HINT = '; a module\'s own include folders and flags come from its makefile: name it with "module" (e.g. "intel/zfs")';

/** Where `#include` looks besides the including file's folder (a gate, `includePaths`). */
export interface IncludeOptions {
  /** Folders searched in order for `<...>` (and for `"..."` after the including file's folder). */
  includeDirs: string[];
  /** Folders a file may be read from (the scenario's, the include folders, the gate). */
  roots: string[];
  /** Building against a real tree: gcc's predefined macros and these (the tree's makefiles). */
  gate?: { defines: Array<[string, string]>; undefs: string[]; module?: string; generated?: GeneratedRule[] };
}

/** Largest driver source file accepted: a real driver file is far smaller, except generated tables (illumos bnxe 57711_init_values.c, firmware init data, is 2.1 MB). */
export const MAX_SOURCE_BYTES = 4 * 1024 * 1024;
/** Largest preprocessed translation unit. */
const MAX_OUTPUT_TOKENS = 2_000_000;
/**
 * Most tokens macro expansion may handle for one translation unit (rescans included): a
 * macro that doubles its argument ten times, used three deep, would otherwise run for ever.
 */
const MAX_EXPANSION_TOKENS = 8_000_000;

export interface SrcFile {
  /** Absolute path, or `<kctx>/...` for generated headers. */
  path: string;
  /** Name used in __FILE__ and messages (relative to the scenario folder). */
  display: string;
  text: string;
  /**
   * A file of a unit kept on disk whose stat was the one recorded (disk-cache.ts statSig): its
   * text is read when first asked for, and the same stat again means the same text.
   */
  stamp?: string;
}

export interface Origin {
  file: number;
  line: number;
  col: number;
}

type Kind = CTokKind;

/**
 * Where the output's tokens came from. The output starts a row whenever the origin's file or
 * line changes, so a row has one file and line and its tokens differ only in column: per row
 * its file, its line and where its tokens start in the token arrays; per token its output
 * column and its source column. Flat integer arrays: small, quick to build, serialisable.
 */
export class PosMap {
  constructor(
    readonly rowFile: Int32Array,
    readonly rowLine: Int32Array,
    /** Row r's tokens are [rowStart[r], rowStart[r + 1]). */
    readonly rowStart: Int32Array,
    readonly tokOut: Int32Array,
    readonly tokCol: Int32Array,
  ) {}

  /** The origin of the token starting at output (row, col); undefined when none starts there. */
  at(row: number, col: number): Origin | undefined {
    if (row < 0 || row >= this.rowFile.length) return undefined;
    let lo = this.rowStart[row]!;
    let hi = this.rowStart[row + 1]! - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const c = this.tokOut[mid]!;
      if (c === col) return { file: this.rowFile[row]!, line: this.rowLine[row]!, col: this.tokCol[mid]! };
      if (c < col) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /** The origin of row `row`'s first token. */
  rowOrigin(row: number): Origin | undefined {
    if (row < 0 || row >= this.rowFile.length) return undefined;
    return { file: this.rowFile[row]!, line: this.rowLine[row]!, col: this.tokCol[this.rowStart[row]!]! };
  }

  static readonly EMPTY = new PosMap(new Int32Array(0), new Int32Array(0), new Int32Array(1), new Int32Array(0), new Int32Array(0));
}

class PosMapBuilder {
  private rowFile: Int32Array;
  private rowLine: Int32Array;
  private rowStart: Int32Array;
  private tokOut: Int32Array;
  private tokCol: Int32Array;
  private rows = 0;
  private toks = 0;
  constructor(maxTokens: number) {
    this.rowFile = new Int32Array(maxTokens);
    this.rowLine = new Int32Array(maxTokens);
    this.rowStart = new Int32Array(maxTokens + 1);
    this.tokOut = new Int32Array(maxTokens);
    this.tokCol = new Int32Array(maxTokens);
  }
  row(file: number, line: number): void {
    this.rowFile[this.rows] = file;
    this.rowLine[this.rows] = line;
    this.rowStart[this.rows] = this.toks;
    this.rows++;
  }
  tok(outCol: number, col: number): void {
    this.tokOut[this.toks] = outCol;
    this.tokCol[this.toks] = col;
    this.toks++;
  }
  done(): PosMap {
    this.rowStart[this.rows] = this.toks;
    return new PosMap(this.rowFile.slice(0, this.rows), this.rowLine.slice(0, this.rows), this.rowStart.slice(0, this.rows + 1), this.tokOut.slice(0, this.toks), this.tokCol.slice(0, this.toks));
  }
}

/** A token of the shared lexer (core/clex.ts), and what macro expansion adds to it. */
export interface Tok extends CTok {
  /** Macro names this token may not expand (the hide set). */
  hs?: Set<string>;
}

export interface Macro {
  name: string;
  fn: boolean;
  params: string[];
  variadic: boolean;
  body: Tok[];
  builtin?: boolean;
  /** A token of the body C does not allow: an error where the macro is expanded, as in gcc. */
  bad?: { at: Tok; msg: string };
}

export interface PreprocessResult {
  text: string;
  files: SrcFile[];
  /** Where each output token came from. */
  pos: PosMap;
  macros: Map<string, Macro>;
}

export class Preprocessor {
  files: SrcFile[] = [];
  macros = new Map<string, Macro>();
  /** Each path whose existence as a file decided an #include, and the answer (disk-cache.ts). */
  readonly probes = new Map<string, boolean>();
  /**
   * The output tokens as parallel arrays (kind code, text, file, line, column): a token object
   * lives only while its statement is expanded, not until result().
   */
  private outN = 0;
  private outK = new Uint8Array(1024);
  private outV: string[] = [];
  private outFile = new Int32Array(1024);
  private outLine = new Int32Array(1024);
  private outCol = new Int32Array(1024);
  /** Some output token is a word rewriteGnu may rewrite. */
  private outGnu = false;
  private onceGuard = new Set<string>();
  private includeDepth = 0;
  private baseReal: string;
  private rootsReal: string[];
  private includeDirs: string[];
  /** The index in includeDirs where each file was found (for #include_next), by file index. */
  private foundIn = new Map<number, number>();

  constructor(
    private baseDir: string,
    private scenarioFile: string,
    private systemHeader: (name: string) => { path: string; text: string } | string,
    defines: Record<string, string | number | boolean>,
    private inc: IncludeOptions = { includeDirs: [], roots: [] },
  ) {
    this.baseReal = realOrResolved(baseDir);
    this.rootsReal = [this.baseReal, ...inc.roots.map(realOrResolved)];
    this.includeDirs = inc.includeDirs;
    for (const b of ['__FILE__', '__LINE__']) this.macros.set(b, { name: b, fn: false, params: [], variadic: false, body: [], builtin: true });
    let pre = ['#define _KERNEL 1', '#define __illumos__ 1', '#define __sun 1', '#define _LP64 1', '#define __amd64 1', '#define __x86_64__ 1', '#define __STDC__ 1', '#define __kctx__ 1'];
    if (inc.gate) {
      // A real module build: gcc's own macros, then the makefiles' -D and -U, as cc1 sees them.
      pre = [...GCC_PREDEFINED.map(([k, v]) => `#define ${k} ${v}`), '#define __kctx__ 1', ...GCC_BUILTIN_MACROS];
      for (const [k, v] of inc.gate.defines) pre.push(`#define ${k} ${v}`);
      for (const k of inc.gate.undefs) pre.push(`#undef ${k}`);
    }
    for (const [k, v] of Object.entries(defines)) {
      if (v === false) continue;
      pre.push(`#define ${k} ${v === true ? 1 : String(v)}`);
    }
    const f = this.addFile({ path: '<command line>', display: '<command line>', text: pre.join('\n') + '\n' });
    this.run(this.table(f), f);
  }

  private fail(t: { file: number; line: number; col: number } | undefined, msg: string): never {
    if (!t) throw new ScenarioError(this.scenarioFile, 1, 1, msg);
    const f = this.files[t.file]!;
    throw new ScenarioError(f.path.startsWith('<') ? f.display : f.path, t.line, t.col, msg);
  }

  private addFile(f: SrcFile): number {
    this.files.push(f);
    return this.files.length - 1;
  }

  /** Reads a driver source with the size and content checks; returns its file index. */
  addSource(path: string, display: string, from?: Tok): number {
    const refuse = (msg: string): never => {
      if (from) this.fail(from, msg);
      throw new ScenarioError(this.scenarioFile, 1, 1, msg);
    };
    // Confined (symlinks resolved) to the scenario's folder, its include paths and its gate.
    if (!this.inRoots(realOrResolved(path))) refuse(`'${display}' is ${this.outsideWords()}`);
    let text: string;
    try {
      // Checked before it is read: a FIFO, a device or a folder is refused at once.
      text = readTextBounded(path, MAX_SOURCE_BYTES, 'latin1');
    } catch (e) {
      if (!(e instanceof FileRefused)) throw e;
      if (e.code === 'EFBIG') {
        const msg = `'${display}' is ${e.size ?? 'over ' + MAX_SOURCE_BYTES} bytes: too large for a driver source (limit ${MAX_SOURCE_BYTES} bytes)`;
        if (from) this.fail(from, msg);
        throw new ScenarioError(path, 1, 1, msg);
      }
      return refuse(`cannot read ${from ? '' : 'the source '}'${display}': ${e.reason}`);
    }
    const nul = text.indexOf('\0');
    if (nul >= 0) {
      const before = text.slice(0, nul);
      const line = before.split('\n').length;
      throw new ScenarioError(path, line, nul - before.lastIndexOf('\n'), `'${display}' is a binary file (NUL byte), not C source`);
    }
    return this.addFile({ path, display, text });
  }

  /** A source kctx writes itself (no file): returns its file index. */
  addText(display: string, text: string): number {
    return this.addFile({ path: display, display, text });
  }

  /** Preprocesses one translation unit (a source file). */
  processFile(idx: number): void {
    this.run(this.table(idx), idx);
  }

  // ------------------------------------------------------------------ lexer

  private lex(fileIdx: number): Tok[] {
    return lexC(this.files[fileIdx]!.text, fileIdx, (line, col, msg) => this.fail({ file: fileIdx, line, col }, msg));
  }

  /** A file's tokens as a table: run() makes a token object only for what it keeps. */
  private table(fileIdx: number): CTokTable {
    return lexTable(this.files[fileIdx]!.text, (line, col, msg) => this.fail({ file: fileIdx, line, col }, msg));
  }

  // ------------------------------------------------------------------ directives

  private run(lx: CTokTable, fileIdx: number): void {
    // Tokens i.. are of file `file`, their lines moved by `delta` (#line changes both).
    let file = fileIdx;
    let delta = 0;
    const tokAt = (x: number): Tok => {
      const f = lx.flags[x]!;
      return { k: KIND_NAMES[lx.k[x]!]!, v: lx.v[x]!, file, line: lx.line[x]! + delta, col: lx.col[x]!, bol: (f & F_BOL) !== 0, ws: (f & F_WS) !== 0, hs: undefined };
    };
    const first = lx.n ? { file, line: lx.line[0]!, col: lx.col[0]! } : undefined;
    // A token C does not allow (an unterminated literal, a stray byte) is an error only where the
    // group is kept, as in gcc; reported at its line as #line renames it.
    const bad = lx.bad;
    const firstBad = (from: number, to: number): { at: Tok; msg: string } | undefined => {
      if (bad) for (let x = from; x < to; x++) { const msg = bad.get(x); if (msg !== undefined) return { at: tokAt(x), msg }; }
      return undefined;
    };
    const checkBad = (from: number, to: number) => {
      const b = firstBad(from, to);
      if (b) this.fail(b.at, b.msg);
    };
    if (++this.includeDepth > 64) this.fail(first, '#include nested too deeply (64 levels)');
    // cond stack: active = this group is being emitted; taken = some branch was taken; parentActive
    const conds: Array<{ active: boolean; taken: boolean; parent: boolean; sawElse: boolean; tok: Tok }> = [];
    const active = () => (conds.length ? conds[conds.length - 1]!.active : true);
    let i = 0;
    const n = lx.n;
    let pending: Tok[] = [];
    /** Parenthesis depth of `pending` (open: it ends inside a function-like macro's arguments). */
    let open = 0;
    const flushText = () => {
      if (pending.length) {
        const p = pending;
        pending = [];
        open = 0;
        this.emit(p);
        if (this.outN > MAX_OUTPUT_TOKENS) this.fail(first, `translation unit too large after preprocessing (over ${MAX_OUTPUT_TOKENS} tokens)`);
      }
    };
    while (i < n) {
      if (lx.flags[i]! & F_BOL && lx.k[i] === K_PUNCT && lx.v[i] === '#') {
        let j = i + 1;
        const line: Tok[] = [];
        while (j < n && !(lx.flags[j]! & F_BOL)) line.push(tokAt(j++));
        const lineFrom = i;
        i = j;
        const d = line[0];
        if (!d) continue; // null directive
        const name = d.v;
        const rest = line.slice(1);
        if (name === 'if' || name === 'ifdef' || name === 'ifndef') {
          const parent = active();
          let v = false;
          if (parent) {
            checkBad(lineFrom, j);
            if (name === 'if') v = this.evalIf(rest, d);
            else {
              if (!rest[0] || rest[0].k !== 'id') this.fail(d, `#${name} needs a macro name`);
              v = this.macros.has(rest[0].v) === (name === 'ifdef');
            }
          }
          conds.push({ active: parent && v, taken: v, parent, sawElse: false, tok: d });
          continue;
        }
        if (name === 'elif' || name === 'else' || name === 'endif') {
          const c = conds[conds.length - 1];
          if (!c) this.fail(d, `#${name} without #if`);
          if (name === 'endif') {
            conds.pop();
            continue;
          }
          if (c.sawElse) this.fail(d, `#${name} after #else`);
          if (name === 'else') {
            c.sawElse = true;
            c.active = c.parent && !c.taken;
            c.taken = true;
          } else {
            if (c.parent && !c.taken) {
              checkBad(lineFrom, j);
              const v = this.evalIf(rest, d);
              c.active = v;
              c.taken = v;
            } else c.active = false;
          }
          continue;
        }
        if (!active()) continue;
        // gcc keeps a #define's body as it is (the token is an error where it is expanded) and
        // prints the text of #error, #warning, #pragma and #ident
        if (name !== 'define' && name !== 'error' && name !== 'warning' && name !== 'pragma' && name !== 'ident') checkBad(lineFrom, j);
        flushText();
        switch (name) {
          case 'define':
            this.define(rest, d, firstBad(lineFrom, j));
            break;
          case 'undef':
            if (!rest[0] || rest[0].k !== 'id') this.fail(d, '#undef needs a macro name');
            this.macros.delete(rest[0].v);
            break;
          case 'include':
            this.include(rest, d, fileIdx);
            break;
          case 'include_next':
            this.include(rest, d, fileIdx, true);
            break;
          case 'error':
            this.fail(d, `#error ${rest.map((x) => x.v).join(' ')}`);
            break;
          case 'line': {
            // `#line N ["file"]`: the next line is line N, of the file named (positions and
            // __FILE__ say that name from here on, as gcc's do).
            const [ln, name] = this.expandList(rest);
            if (!ln || ln.k !== 'num' || !/^[0-9]+$/.test(ln.v)) this.fail(d, '#line needs a line number');
            if (name && name.k !== 'str') this.fail(name, `#line: expected a file name in quotes, found '${name.v}'`);
            const lineDelta = Number(ln.v) - (d.line + 1);
            const from = d.file;
            let to = from;
            if (name) {
              const shown = name.v.slice(1, -1);
              const cur = this.files[from]!;
              to = this.addFile({ path: cur.path.startsWith('<') || isAbsolute(shown) ? shown : resolve(dirname(cur.path), shown), display: shown, text: '' });
            }
            // Every token after the directive is of file `from` (the directive's own).
            file = to;
            delta += lineDelta;
            break;
          }
          case 'warning':
          case 'pragma':
          case 'ident':
            break;
          default:
            if (d.k === 'num') break; // # 12 "file" line markers
            this.fail(d, `invalid preprocessing directive #${name}`);
        }
        continue;
      }
      if (!active()) {
        i++;
        continue;
      }
      if (bad !== undefined) checkBad(i, i + 1);
      if (pending.length === 0 && (lx.k[i] !== K_ID || !this.macros.has(lx.v[i]!))) {
        // Nothing before it waits for expansion and it expands to itself: straight to the
        // output, with no token object.
        if (++this.expansionWork > MAX_EXPANSION_TOKENS) this.tooLarge(tokAt(i), this.outN);
        const at = this.reserve(1);
        const k = lx.k[i]!;
        const v = lx.v[i]!;
        this.outK[at] = k;
        this.outV.push(v);
        this.outFile[at] = file;
        this.outLine[at] = lx.line[i]! + delta;
        this.outCol[at] = lx.col[i]!;
        this.outN = at + 1;
        if (k === K_ID && GNU_WORDS.has(v)) this.outGnu = true;
        if (this.outN > MAX_OUTPUT_TOKENS) this.fail(first, `translation unit too large after preprocessing (over ${MAX_OUTPUT_TOKENS} tokens)`);
        i++;
        continue;
      }
      const t = tokAt(i++);
      pending.push(t);
      if (t.k === 'punct') {
        const v = t.v;
        if (v === '(') open++;
        else if (v === ')') open--;
        // Flush at statement-ish boundaries so function-like macro calls spanning lines still work.
        else if ((v === ';' || v === '}') && open <= 0) flushText();
      }
    }
    flushText();
    if (conds.length) this.fail(conds[conds.length - 1]!.tok, 'unterminated #if (missing #endif)');
    this.includeDepth--;
  }


  /** Expands `text` onto the end of the output. */
  private emit(text: Tok[]): void {
    const out: Tok[] = [];
    this.expandInto(text, out, this.outN);
    let at = this.reserve(out.length);
    const K = this.outK;
    const V = this.outV;
    const F = this.outFile;
    const L = this.outLine;
    const C = this.outCol;
    for (let i = 0; i < out.length; i++, at++) {
      const t = out[i]!;
      const k = kindCode(t.k);
      K[at] = k;
      V.push(t.v);
      F[at] = t.file;
      L[at] = t.line;
      C[at] = t.col;
      if (k === K_ID && GNU_WORDS.has(t.v)) this.outGnu = true;
    }
    this.outN = at;
  }

  /** Room for `count` more output tokens; returns the index of the first. */
  private reserve(count: number): number {
    const n = this.outN + count;
    if (n > this.outK.length) {
      let cap = Math.max(1024, this.outK.length);
      while (cap < n) cap *= 2;
      this.outK = widened(this.outK, cap);
      this.outFile = widened(this.outFile, cap);
      this.outLine = widened(this.outLine, cap);
      this.outCol = widened(this.outCol, cap);
    }
    return this.outN;
  }

  private define(rest: Tok[], d: Tok, bad?: { at: Tok; msg: string }): void {
    const nameTok = rest[0];
    if (!nameTok || nameTok.k !== 'id') this.fail(d, 'macro names must be identifiers');
    const name = nameTok.v;
    if (name === 'defined') this.fail(nameTok, '"defined" cannot be used as a macro name');
    const m: Macro = { name, fn: false, params: [], variadic: false, body: [] };
    let i = 1;
    const lp = rest[1];
    if (lp && lp.v === '(' && !lp.ws) {
      m.fn = true;
      i = 2;
      for (;;) {
        const p = rest[i];
        if (!p) this.fail(lp, `missing ')' in the parameter list of macro '${name}'`);
        if (p.v === ')') {
          i++;
          break;
        }
        if (p.v === '...') {
          m.variadic = true;
          m.params.push('__VA_ARGS__');
          i++;
          if (rest[i]?.v !== ')') this.fail(p, `'...' must be the last parameter of macro '${name}'`);
          i++;
          break;
        }
        if (p.k !== 'id') this.fail(p, `expected a parameter name in macro '${name}', found '${p.v}'`);
        m.params.push(p.v);
        i++;
        if (rest[i]?.v === ',') i++;
        else if (rest[i]?.v === '...') {
          // GNU C's named variadic parameter, `args...`: `args` stands for what __VA_ARGS__ would.
          m.variadic = true;
          if (rest[i + 1]?.v !== ')') this.fail(rest[i]!, `'${p.v}...' must be the last parameter of macro '${name}'`);
          i += 2;
          break;
        }
      }
    }
    m.body = rest.slice(i).map((t) => ({ ...t, bol: false }));
    if (bad) m.bad = bad;
    this.macros.set(name, m);
  }

  /** `outside the scenario's folder and its declared gate and includePaths (...)`. */
  private outsideWords(): string {
    return outsideWords(CONFINEMENT_RULE, this.rootsReal);
  }

  /** True when `real` (a real path) is inside one of the folders a load may read. */
  private inRoots(real: string): boolean {
    return insideRoots(real, this.rootsReal);
  }

  /** Is `p` a file? Every answer is recorded (`probes`): a cached unit is reused only while each is the same. */
  private isFile(p: string): boolean {
    let r = this.probes.get(p);
    if (r === undefined) {
      r = isFile(p);
      this.probes.set(p, r);
    }
    return r;
  }

  /** The first include folder (from index `from`) that has `name`, as [path, index]. */
  private searchDirs(name: string, from: number): [string, number] | null {
    for (let i = from; i < this.includeDirs.length; i++) {
      const p = resolve(this.includeDirs[i]!, name);
      if (this.isFile(p)) return [p, i];
    }
    return null;
  }

  /** Reads and preprocesses an included file found at `path` (checked against the roots). */
  private includeFile(path: string, name: string, first: Tok, dirIdx: number, display: string): void {
    const real = realOrResolved(path);
    if (!this.inRoots(real)) {
      this.fail(first, `#include "${name}": ${path} is ${this.outsideWords()}`);
    }
    if (this.onceGuard.has(real)) return;
    const idx = this.addSource(path, display, first);
    if (dirIdx >= 0) this.foundIn.set(idx, dirIdx);
    if (/^\s*#\s*pragma\s+once\b/m.test(this.files[idx]!.text)) this.onceGuard.add(real);
    this.run(this.table(idx), idx);
  }

  private include(rest: Tok[], d: Tok, fromFile: number, next = false): void {
    let toks = rest;
    if (toks[0] && toks[0].k === 'id') toks = this.expandList(toks);
    const first = toks[0];
    if (!first) this.fail(d, `#${d.v} expects "FILENAME" or <FILENAME>`);
    // #include_next: the search goes on after the folder the current file was found in.
    const nextFrom = next ? (this.foundIn.get(fromFile) ?? -1) + 1 : 0;
    if (first.k === 'str') {
      const name = first.v.slice(1, -1);
      const from = this.files[fromFile]!;
      const dir = from.path.startsWith('<') ? this.baseDir : dirname(from.path);
      const target = resolve(dir, name);
      if (!next && !isAbsolute(name) && !this.isFile(target)) {
        const hit = this.includeDirs.length ? this.searchDirs(name, 0) : undefined;
        if (hit) return this.includeFile(hit[0], name, first, hit[1], hit[0]);
        // As gcc looks: beside the including file, then the include path (a module's own header
        // folders, e.g. a NIC's common code, come from its Makefile: add them to "includePaths").
        if (!existsSync(target) && this.inRoots(realOrResolved(target))) this.fail(first, `#include "${name}": no such header beside the file (${dir})${this.includeDirs.length ? ` or in the include path (${this.includeDirs.join(', ')})` : ''}${this.inc.gate && !this.inc.gate.module ? MODULE_HINT : ''}`);
      }
      if (next) {
        const hit = this.searchDirs(name, nextFrom);
        if (!hit) this.fail(first, `#include_next "${name}": no such file in the include folders after this one`);
        return this.includeFile(hit[0], name, first, hit[1], hit[0]);
      }
      const real = realOrResolved(target);
      if (isAbsolute(name) || !this.inRoots(real)) {
        this.fail(first, `#include "${name}": ${this.outsideWords()}; driver code may only include its own headers and kernel headers`);
      }
      if (this.onceGuard.has(real)) return;
      const idx = this.addSource(target, relative(this.baseDir, target) || name, first);
      const fromDir = this.foundIn.get(fromFile);
      if (fromDir !== undefined && dirname(target) === dirname(from.path)) this.foundIn.set(idx, fromDir);
      if (/^\s*#\s*pragma\s+once\b/m.test(this.files[idx]!.text)) this.onceGuard.add(real);
      this.run(this.table(idx), idx);
      return;
    }
    if (first.v === '<') {
      let j = 1;
      let name = '';
      while (toks[j] && toks[j]!.v !== '>') name += toks[j++]!.v;
      if (!toks[j]) this.fail(first, '#include <...> is missing the closing >');
      if (this.includeDirs.length) {
        const hit = this.searchDirs(name, nextFrom);
        if (hit) return this.includeFile(hit[0], name, first, hit[1], hit[0]);
        const rule = this.inc.gate?.generated?.find((r) => r.name === name);
        if (rule) {
          // A header the tree's build generates first (<sys/priv_names.h>): made from its rule.
          const made = generateHeader(rule);
          if ('why' in made) this.fail(first, `#${d.v} <${name}>: the build generates it (${rule.at}) and kctx could not: ${made.why}`);
          const path = join(made.dir, name);
          this.rootsReal.push(realOrResolved(made.dir));
          return this.includeFile(path, name, first, this.includeDirs.length - 1, path);
        }
        if (this.inc.gate) this.fail(first, `#${d.v} <${name}>: no such header in the include path (${this.includeDirs.join(', ')})${this.inc.gate.module ? '' : MODULE_HINT}`);
      }
      const h = this.systemHeader(name);
      if (typeof h === 'string') this.fail(first, h);
      if (this.onceGuard.has(h.path)) return;
      this.onceGuard.add(h.path);
      const idx = this.addFile({ path: h.path, display: h.path, text: h.text });
      this.run(this.table(idx), idx);
      return;
    }
    this.fail(first, `#${d.v} expects "FILENAME" or <FILENAME>`);
  }

  // ------------------------------------------------------------------ #if expressions

  private evalIf(rest: Tok[], d: Tok): boolean {
    if (!rest.length) this.fail(d, `#${d.v} with no expression`);
    const toks: Tok[] = [];
    for (let i = 0; i < rest.length; i++) {
      const t = rest[i]!;
      if (t.k === 'id' && t.v === 'defined') {
        let n = rest[i + 1];
        let paren = false;
        if (n && n.v === '(') {
          paren = true;
          n = rest[i + 2];
        }
        if (!n || n.k !== 'id') this.fail(t, 'operator "defined" requires an identifier');
        if (paren && rest[i + 3]?.v !== ')') this.fail(t, "missing ')' after \"defined\"");
        toks.push({ ...t, k: 'num', v: this.macros.has(n.v) ? '1' : '0' });
        i += paren ? 3 : 1;
      } else toks.push(t);
    }
    const ex = this.expandList(toks);
    let p = 0;
    const peek = () => ex[p];
    const fail = (msg: string): never => this.fail(ex[p] ?? d, msg);
    const num = (t: Tok): bigint => {
      if (t.k === 'chr') return BigInt(charValue(t.v));
      if (t.k === 'id') return 0n; // unknown identifiers are 0
      if (t.k !== 'num') return fail(`token "${t.v}" is not valid in preprocessor expressions`);
      const m = /^(0[xX][0-9a-fA-F]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)([uUlL]*)$/.exec(t.v);
      if (!m) return fail(`invalid integer constant "${t.v}" in #if`);
      const s = m[1]!;
      if (/^0[0-7]+$/.test(s)) return BigInt('0o' + s.slice(1));
      return BigInt(s);
    };
    const prim = (): bigint => {
      const t = peek();
      if (!t) return fail(`#${d.v}: expression ends too early`);
      p++;
      if (t.v === '(') {
        const v = cond();
        if (peek()?.v !== ')') fail("missing ')' in expression");
        p++;
        return v;
      }
      if (t.v === '!') return prim() === 0n ? 1n : 0n;
      if (t.v === '-') return BigInt.asIntN(64, -prim());
      if (t.v === '+') return prim();
      if (t.v === '~') return BigInt.asIntN(64, ~prim());
      return num(t);
    };
    const BIN: Array<[string[], (a: bigint, b: bigint) => bigint]> = [
      [['*', '/', '%'], (a, b) => a],
    ];
    void BIN;
    /** Inside an operand that is not evaluated (no division-by-zero error there). */
    let skip = 0;
    const levels: string[][] = [['*', '/', '%'], ['+', '-'], ['<<', '>>'], ['<', '>', '<=', '>='], ['==', '!='], ['&'], ['^'], ['|'], ['&&'], ['||']];
    const bin = (lvl: number): bigint => {
      if (lvl < 0) return prim();
      let a = bin(lvl - 1);
      for (;;) {
        const t = peek();
        if (!t || t.k !== 'punct' || !levels[lvl]!.includes(t.v)) return a;
        p++;
        // The right operand of && and || that decides nothing is not evaluated (C11 6.5.13-14).
        const unevaluated = (t.v === '&&' && a === 0n) || (t.v === '||' && a !== 0n);
        if (unevaluated) skip++;
        const b = bin(lvl - 1);
        if (unevaluated) skip--;
        switch (t.v) {
          case '*': a = a * b; break;
          case '/': if (b === 0n) { if (!skip) fail('division by zero in #if'); a = 0n; } else a = a / b; break;
          case '%': if (b === 0n) { if (!skip) fail('division by zero in #if'); a = 0n; } else a = a % b; break;
          case '+': a = a + b; break;
          case '-': a = a - b; break;
          case '<<': a = a << b; break;
          case '>>': a = a >> b; break;
          case '<': a = a < b ? 1n : 0n; break;
          case '>': a = a > b ? 1n : 0n; break;
          case '<=': a = a <= b ? 1n : 0n; break;
          case '>=': a = a >= b ? 1n : 0n; break;
          case '==': a = a === b ? 1n : 0n; break;
          case '!=': a = a !== b ? 1n : 0n; break;
          case '&': a = a & b; break;
          case '^': a = a ^ b; break;
          case '|': a = a | b; break;
          case '&&': a = a !== 0n && b !== 0n ? 1n : 0n; break;
          case '||': a = a !== 0n || b !== 0n ? 1n : 0n; break;
        }
        a = BigInt.asIntN(64, a);
      }
    };
    const cond = (): bigint => {
      const c = bin(levels.length - 1);
      if (peek()?.v === '?') {
        p++;
        if (c === 0n) skip++;
        const a = cond();
        if (c === 0n) skip--;
        if (peek()?.v !== ':') fail("expected ':' in conditional expression");
        p++;
        if (c !== 0n) skip++;
        const b = cond();
        if (c !== 0n) skip--;
        return c !== 0n ? a : b;
      }
      return c;
    };
    const v = cond();
    if (p < ex.length) fail(`missing binary operator before token "${ex[p]!.v}"`);
    return v !== 0n;
  }

  // ------------------------------------------------------------------ macro expansion

  /** Tokens handled by macro expansion so far (bounded by MAX_EXPANSION_TOKENS). */
  private expansionWork = 0;

  private expandList(toks: Tok[]): Tok[] {
    const out: Tok[] = [];
    this.expandInto(toks, out);
    return out;
  }

  /** Macro expansion has handled too many tokens (or made `made`, too many): the error at `t`. */
  private tooLarge(t: Tok, made: number): never {
    this.fail(t, `macro expansion too large (over ${(made > MAX_OUTPUT_TOKENS ? MAX_OUTPUT_TOKENS : MAX_EXPANSION_TOKENS).toLocaleString('en-US')} tokens)${t.hs?.size ? `, in the expansion of ${[...t.hs].map((h) => `'${h}'`).join(', ')}` : ''}`);
  }

  /** Expands `input` (consumed front to back) into `out`. */
  private expandInto(input: Tok[], out: Tok[], before = 0): void {
    // Work stack: reversed so pop() gives the next token.
    const stack = input.slice().reverse();
    while (stack.length) {
      const t = stack.pop()!;
      if (++this.expansionWork > MAX_EXPANSION_TOKENS || before + out.length > MAX_OUTPUT_TOKENS) this.tooLarge(t, before + out.length);
      if (t.k !== 'id') {
        out.push(t);
        continue;
      }
      const m = this.macros.get(t.v);
      if (!m || t.hs?.has(t.v)) {
        out.push(t);
        continue;
      }
      if (m.builtin) {
        const f = this.files[t.file]!;
        if (m.name === '__LINE__') out.push({ ...t, k: 'num', v: String(t.line) });
        else out.push({ ...t, k: 'str', v: JSON.stringify(f.display) });
        continue;
      }
      if (!m.fn) {
        if (m.bad) this.fail(m.bad.at, m.bad.msg);
        const hs = withHidden(t.hs, m.name);
        const body = m.body.map((b, i) => tok(b.k, b.v, t.file, t.line, t.col, i === 0 ? t.ws : b.ws, hs));
        const pasted = this.paste(body, t);
        for (let i = pasted.length - 1; i >= 0; i--) stack.push(pasted[i]!);
        continue;
      }
      // Function-like: needs '(' next.
      const next = stack[stack.length - 1];
      if (!next || next.v !== '(') {
        out.push(t);
        continue;
      }
      if (m.bad) this.fail(m.bad.at, m.bad.msg);
      stack.pop();
      const args: Tok[][] = [[]];
      let depth = 0;
      let rparen: Tok | undefined;
      while (stack.length) {
        const a = stack.pop()!;
        if (a.v === '(' && a.k === 'punct') depth++;
        else if (a.v === ')' && a.k === 'punct') {
          if (depth === 0) {
            rparen = a;
            break;
          }
          depth--;
        } else if (a.v === ',' && a.k === 'punct' && depth === 0 && !(m.variadic && args.length === m.params.length)) {
          args.push([]);
          continue;
        }
        args[args.length - 1]!.push(a);
      }
      if (!rparen) this.fail(t, `unterminated argument list invoking macro "${m.name}"`);
      if (m.params.length === 0 && args.length === 1 && args[0]!.length === 0) args.pop();
      if (m.variadic && args.length === m.params.length - 1) args.push([]);
      if (args.length !== m.params.length) {
        this.fail(t, `macro "${m.name}" ${args.length > m.params.length ? 'passed' : 'requires'} ${m.params.length > args.length ? m.params.length : args.length} arguments, but ${args.length > m.params.length ? `takes just ${m.params.length}` : `only ${args.length} given`}`);
      }
      const hs = withHidden(t.hs, m.name);
      const body: Tok[] = [];
      const mb = m.body;
      for (let i = 0; i < mb.length; i++) {
        const b = mb[i]!;
        const stamp = (x: Tok, ws: boolean): Tok => tok(x.k, x.v, t.file, t.line, t.col, ws, hs);
        if (b.v === '#' && b.k === 'punct' && mb[i + 1] && m.params.includes(mb[i + 1]!.v)) {
          const arg = args[m.params.indexOf(mb[i + 1]!.v)]!;
          body.push({ ...stamp(b, b.ws), k: 'str', v: stringify(arg) });
          i++;
          continue;
        }
        const pi = b.k === 'id' ? m.params.indexOf(b.v) : -1;
        if (pi >= 0) {
          const arg = args[pi]!;
          const nextPaste = mb[i + 1]?.v === '##';
          const prevPaste = mb[i - 1]?.v === '##';
          if (prevPaste && m.variadic && pi === m.params.length - 1 && mb[i - 2]?.v === ',' && body[body.length - 2]?.v === ',') {
            // GNU C's `, ## __VA_ARGS__`: no paste; the comma goes when the variable arguments are empty.
            body.pop();
            if (arg.length === 0) body.pop();
            arg.forEach((x, j) => body.push(tok(x.k, x.v, x.file, x.line, x.col, j === 0 ? true : x.ws, union(x.hs, hs))));
            continue;
          }
          const use = nextPaste || prevPaste ? arg : this.expandList(arg);
          // Argument tokens keep their own positions; they get the macro's hide set added.
          if (use.length === 0 && (nextPaste || prevPaste)) body.push({ ...stamp(b, b.ws), k: 'other', v: '' });
          use.forEach((x, j) => body.push(tok(x.k, x.v, x.file, x.line, x.col, j === 0 ? b.ws : x.ws, union(x.hs, hs))));
          continue;
        }
        body.push(stamp(b, b.ws));
      }
      const pasted = this.paste(body, t);
      for (let i = pasted.length - 1; i >= 0; i--) stack.push(pasted[i]!);
    }
  }

  /** Applies `##` in a substituted body. */
  private paste(body: Tok[], at: Tok): Tok[] {
    let special = false;
    for (let i = 0; i < body.length; i++) {
      const b = body[i]!;
      if ((b.v === '##' && b.k === 'punct') || (b.k === 'other' && b.v === '')) {
        special = true;
        break;
      }
    }
    if (!special) return body;
    const out: Tok[] = [];
    for (let i = 0; i < body.length; i++) {
      const b = body[i]!;
      if (b.v === '##' && b.k === 'punct' && out.length && body[i + 1]) {
        const l = out.pop()!;
        const r = body[++i]!;
        const v = l.v + r.v;
        const lexed = this.lexString(v, at);
        if (lexed.length > 1) this.fail(at, `pasting "${l.v}" and "${r.v}" does not give a valid preprocessing token`);
        if (lexed.length === 0) continue;
        out.push({ ...l, k: lexed[0]!.k, v, hs: l.hs });
        continue;
      }
      out.push(b);
    }
    return out.filter((b) => !(b.k === 'other' && b.v === ''));
  }

  private lexString(s: string, at: Tok): Tok[] {
    const idx = this.addFile({ path: '<paste>', display: '<paste>', text: s });
    try {
      return this.lex(idx);
    } catch {
      this.fail(at, `pasting gives an invalid token "${s}"`);
    } finally {
      this.files.pop();
    }
  }

  // ------------------------------------------------------------------ output

  /** The preprocessed text and its position map. */
  result(): PreprocessResult {
    this.made ??= this.make();
    // The output arrays are not needed any more (a cached unit keeps its Preprocessor).
    this.outV = [];
    this.outK = new Uint8Array(0);
    this.outFile = this.outLine = this.outCol = new Int32Array(0);
    return this.made;
  }

  private made: PreprocessResult | undefined;

  private make(): PreprocessResult {
    // With a kernel tree, adjacent string literals are joined here (translation phase 6):
    // inline assembly's "i" "q" constraints are one string to the parser.
    const joinStrings = this.inc.gate !== undefined;
    let n = this.outN;
    let K = this.outK;
    let V = this.outV;
    let F = this.outFile;
    let L = this.outLine;
    let C = this.outCol;
    // GNU C and old-style definitions the parser does not take (gnu-tokens.ts).
    const oldStyle = mayHaveOldStyle(V, n);
    if (this.outGnu || oldStyle) {
      const toks: Tok[] = [];
      for (let i = 0; i < n; i++) toks.push({ k: KIND_NAMES[K[i]!]!, v: V[i]!, file: F[i]!, line: L[i]!, col: C[i]!, bol: false, ws: false });
      let re = this.outGnu ? rewriteGnu(toks) : toks;
      if (oldStyle) re = rewriteOldStyle(re);
      if (re !== toks) {
        n = re.length;
        K = new Uint8Array(n);
        V = new Array<string>(n);
        F = new Int32Array(n);
        L = new Int32Array(n);
        C = new Int32Array(n);
        for (let i = 0; i < n; i++) {
          const t = re[i]!;
          K[i] = kindCode(t.k);
          V[i] = t.v;
          F[i] = t.file;
          L[i] = t.line;
          C[i] = t.col;
        }
      }
    }
    // The text is written as bytes, one string made at the end (a rope of two pieces per token
    // would keep ~180k objects alive until the parser flattens it). A character over 0xff (a
    // file name in __FILE__ or #line) cannot be a byte: then the text is built by concatenation.
    let size = n + 1;
    for (let i = 0; i < n; i++) size += V[i]!.length;
    const bytes = Buffer.allocUnsafe(size);
    for (let rope = false; ; rope = true) {
      const r = this.write(n, K, V, F, L, C, joinStrings, rope ? null : bytes);
      if (r) return { text: r.text, files: this.files, pos: r.pos, macros: this.macros };
    }
  }

  /**
   * The output's text and position map: written into `bytes` (null: by concatenation). Null
   * when a character does not fit in a byte.
   */
  private write(n: number, K: Uint8Array, V: string[], F: Int32Array, L: Int32Array, C: Int32Array, joinStrings: boolean, bytes: Buffer | null): { text: string; pos: PosMap } | null {
    let text = '';
    let at = 0;
    const pos = new PosMapBuilder(n);
    let col = 0;
    let lastFile = -1;
    let lastLine = -1;
    for (let i = 0; i < n; i++) {
      let v = V[i]!;
      if (joinStrings && K[i] === K_STR) {
        while (i + 1 < n && K[i + 1] === K_STR && !/\\(x[0-9a-fA-F]*|[0-7]{1,2})$/.test(v.slice(0, -1))) v = v.slice(0, -1) + V[++i]!.slice(1);
      }
      const file = F[i]!;
      const line = L[i]!;
      if (file !== lastFile || line !== lastLine) {
        if (lastFile !== -1) {
          if (bytes) bytes[at++] = 10;
          else text += '\n';
        }
        col = 0;
        lastFile = file;
        lastLine = line;
        pos.row(file, line);
      } else {
        if (bytes) bytes[at++] = 32;
        else text += ' ';
        col++;
      }
      pos.tok(col, C[i]!);
      if (bytes) {
        for (let c = 0; c < v.length; c++) {
          const ch = v.charCodeAt(c);
          if (ch > 0xff) return null;
          bytes[at++] = ch;
        }
      } else text += v;
      col += v.length;
    }
    if (bytes) {
      bytes[at++] = 10;
      text = bytes.toString('latin1', 0, at);
    } else text += '\n';
    return { text, pos: pos.done() };
  }


  /**
   * Takes the files and macros of a unit preprocessed before (disk-cache.ts), as if it had run;
   * the macro table is made when the debugger first expands an expression.
   */
  adopt(files: SrcFile[], macros: () => Map<string, Macro>): void {
    this.files = files;
    this.storedMacros = macros;
  }

  private storedMacros: (() => Map<string, Macro>) | null = null;

  /** Expands macros in a debugger expression (after loading). */
  expandText(text: string): string {
    if (this.storedMacros) {
      this.macros = this.storedMacros();
      this.storedMacros = null;
    }
    const idx = this.addFile({ path: '<expr>', display: '<expr>', text });
    try {
      const toks = this.expandList(this.lex(idx));
      return toks.map((t) => t.v).join(' ');
    } finally {
      this.files.pop();
    }
  }
}

/** A kind's code in the output arrays (its index in KIND_NAMES). */
function kindCode(k: Kind): number {
  switch (k) {
    case 'id': return 0;
    case 'num': return 1;
    case 'str': return 2;
    case 'chr': return 3;
    case 'punct': return 4;
    default: return 5;
  }
}
const K_ID = 0;
const K_STR = 2;

/** A token made by macro substitution (never first on its line; one object shape for all). */
function tok(k: Kind, v: string, file: number, line: number, col: number, ws: boolean, hs: Set<string> | undefined): Tok {
  return { k, v, file, line, col, bol: false, ws, hs };
}

/** Hide sets are never changed once made: `hs ∪ {name}` is made once per (hs, name) and shared. */
const EMPTY_HIDE = new Set<string>();
const added = new WeakMap<Set<string>, Map<string, Set<string>>>();

function withHidden(hs: Set<string> | undefined, name: string): Set<string> {
  const base = hs ?? EMPTY_HIDE;
  let byName = added.get(base);
  if (!byName) added.set(base, (byName = new Map()));
  let s = byName.get(name);
  if (!s) {
    s = new Set(base);
    s.add(name);
    byName.set(name, s);
  }
  return s;
}

/** Hide-set unions already made: the tokens of one argument share their sets, so they share the union. */
const unions = new WeakMap<Set<string>, WeakMap<Set<string>, Set<string>>>();

function union(a: Set<string> | undefined, b: Set<string>): Set<string> {
  if (!a || a.size === 0 || a === b) return b;
  let byB = unions.get(a);
  if (!byB) unions.set(a, (byB = new WeakMap()));
  let s = byB.get(b);
  if (!s) {
    s = new Set(a);
    for (const x of b) s.add(x);
    byB.set(b, s);
  }
  return s;
}

function stringify(toks: Tok[]): string {
  let s = '';
  toks.forEach((t, i) => {
    if (i > 0 && t.ws) s += ' ';
    s += t.k === 'str' || t.k === 'chr' ? t.v.replace(/\\/g, '\\\\').replace(/"/g, '\\"') : t.v;
  });
  return '"' + s + '"';
}

export function charValue(lit: string): number {
  const body = lit.slice(1, -1);
  if (body[0] !== '\\') return body.charCodeAt(0);
  const e = body[1]!;
  const simple: Record<string, number> = { n: 10, t: 9, r: 13, '0': 0, a: 7, b: 8, f: 12, v: 11, '\\': 92, "'": 39, '"': 34, '?': 63, e: 27 };
  if (e === 'x') return parseInt(body.slice(2), 16) & 0xff;
  if (/[0-7]/.test(e)) return parseInt(body.slice(1), 8) & 0xff;
  return simple[e] ?? e.charCodeAt(0);
}

export function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

