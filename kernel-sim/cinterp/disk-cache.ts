/**
 * Preprocessed translation units kept on disk, for the next process that loads the same source
 * (`kctx run` again, a new debug session, an `explore` worker). A unit is the preprocessor's
 * output (the C text, its position map, the files it read, the macro table the debugger expands
 * with); parsing and compiling run as usual on it.
 *
 * A unit is reused only when it is exactly what preprocessing would give now: the load's inputs
 * are the same (the key: source, folders, defines, include folders, the gate's macros, the era,
 * kctx's version and this format), every file it read has the same content (its fingerprint, core/fingerprint.ts) and real
 * path, every include-path probe ("is there a dir/x.h?") has the same answer, and every text kctx
 * generated (the command line's macros, the shipped headers) is the same. As ccache's direct
 * mode and git's index do, a file whose stat (device, inode, size, modification and change times
 * in nanoseconds) is the one recorded is not read again, nor are the probes of a folder whose
 * stat is the one recorded (its entries are the same); only a stat taken well after the last
 * change counts (RACY_NS: a file changed within the clock's or the file system's granularity of
 * the record is always read and hashed), and anything else is checked by content as before. Anything else is a
 * miss; so is a cache file that is truncated, corrupt (its CRC-32) or of another format: never
 * an error. Writes go to a temporary name and are renamed into place, so a reader never sees half
 * a file. The folder is bounded: past MAX_BYTES the least recently used units go first.
 *
 * Where: `$KCTX_CACHE_DIR`, else `$XDG_CACHE_HOME/kctx`, else `~/.cache/kctx` (not under node's
 * test runner: tests name a scratch folder). Off with `KCTX_CACHE=0` or `kctx run --no-cache`
 * (`setDiskCache(false)`).
 */
import { realpathSync, utimesSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { readFileBounded } from '../io/files';
import { fingerprint } from '../../core/fingerprint';
import { diskCacheDir, fileFor, readFramed, writeFramed, loadRecord, storeRecord, statSig, settled, packSections, unpackSections, tableView } from '../io/cache-store';
import { Preprocessor, PosMap, MAX_SOURCE_BYTES, isFile, type Macro, type PreprocessResult, type SrcFile, type Tok } from './preprocess';
import { rewriteGnu, rewriteOldStyle } from './gnu-tokens';
import { lexC, lexTable } from '../../core/clex';
import { shippedHeaderText } from '../abi/headers';
import type { EraId } from '../../core/eras';
import type { Needs } from './needed';
import type { StoredTree } from './ctree';

export { setDiskCache, diskCacheOn, diskCacheDir, evict, MAX_BYTES, statSig, settledSig, setRacyWindow, loadRecord, storeRecord } from '../io/cache-store';

/** Bumped whenever what is stored, or what the preprocessor makes of the same input, changes. */
const FORMAT = 3;
const stats = { hits: 0, misses: 0, stores: 0, stamped: 0, hashed: 0 };

/**
 * Hits, misses and stores so far in this process; files of stored units taken by their stat,
 * and files read and hashed to check one (tests, benches).
 */
export function diskCacheStats(): { hits: number; misses: number; stores: number; stamped: number; hashed: number } {
  return { ...stats };
}

/** A preprocessed unit as the loader uses it. */
export interface StoredUnit {
  pp: PreprocessResult;
  main: number;
  /** The macro table (made on first call from a stored unit). */
  macros: () => Map<string, Macro>;
  /** The stored unit's checksum (what else is kept for it is keyed by it); none when not stored. */
  id?: string;
}

interface FileRec {
  path: string;
  display: string;
  /** Real files: the real path and the fingerprint of the bytes. */
  real?: string;
  hash?: string;
  /** Its stat when stored (statSig), when not changed within RACY_NS of then. */
  st?: string;
  /** Texts kctx made (`<command line>`, `<kctx>/...`): the text itself. */
  text?: string;
}

type TokRec = [string, string, number, number, number, 0 | 1, 0 | 1, string[]?];
type MacroRec = [string, 0 | 1, string[], 0 | 1, 0 | 1, TokRec[]];

/** A stored unit's head; its sections: the text (latin1 when `latin1`, else UTF-8), the position map's five tables, the macro table's JSON. */
interface Record {
  key: string;
  main: number;
  latin1: boolean;
  files: FileRec[];
  probes: Array<[string, boolean]>;
  /** The folders of the probes: their stat when stored (null: none), when not changed within RACY_NS of then. */
  dirs?: Array<[string, string | null]>;
}

/** The real path (symlinks resolved, one system call), or the resolved path when there is none. */
function realPath(p: string): string {
  try {
    return realpathSync.native(p);
  } catch {
    return resolve(p);
  }
}

/** A file read for a stored unit: its text (as the preprocessor reads, latin1) made when first asked for. */
function fileOf(path: string, display: string, bytes: Buffer): SrcFile {
  let text: string | undefined;
  return {
    path,
    display,
    get text() {
      return (text ??= bytes.toString('latin1'));
    },
  };
}

/**
 * A file read for a stored unit whose stat is the one recorded (`stamp`): its text is read when
 * first asked for (unit-cache.ts compares its stamp, not its text).
 */
function stampedFile(path: string, display: string, stamp: string): SrcFile {
  let text: string | undefined;
  return {
    path,
    display,
    stamp,
    get text() {
      return (text ??= readFileBounded(path, MAX_SOURCE_BYTES).toString('latin1'));
    },
  };
}

/**
 * The code that makes a unit, as text: a kctx whose preprocessor, lexer or GNU rewrites differ
 * (another version, a development build) has other keys, so it never reads this one's units.
 */
let codePrint: string | undefined;
function fullKey(key: string): string {
  codePrint ??= fingerprint(`${FORMAT}\n${String(Preprocessor)}\n${String(lexC)}\n${String(lexTable)}\n${String(rewriteGnu)}\n${String(rewriteOldStyle)}`);
  return `${codePrint} ${key}`;
}


function tokRec(t: Tok): TokRec {
  const r: TokRec = [t.k, t.v, t.file, t.line, t.col, t.bol ? 1 : 0, t.ws ? 1 : 0];
  if (t.hs) r.push([...t.hs]);
  return r;
}

function tokOf(r: TokRec): Tok {
  const t: Tok = { k: r[0] as Tok['k'], v: r[1], file: r[2], line: r[3], col: r[4], bol: r[5] === 1, ws: r[6] === 1 };
  if (r[7]) t.hs = new Set(r[7]);
  return t;
}

/**
 * The unit stored under `key`, if it is still exactly what preprocessing would give. `generated`
 * gives the text kctx would make now for a `<...>` file (undefined: unknown, a miss).
 */
export function loadStoredUnit(key: string, generated: (path: string) => string | undefined): StoredUnit | null {
  const dir = diskCacheDir();
  if (!dir) return null;
  key = fullKey(key);
  const file = fileFor(dir, key);
  const u = read(file, key, generated);
  if (!u) {
    stats.misses++;
    return null;
  }
  stats.hits++;
  try {
    const now = new Date();
    utimesSync(file, now, now); // least recently used goes first
  } catch {
    /* read-only cache: still a hit */
  }
  return u;
}

function read(file: string, key: string, generated: (path: string) => string | undefined): StoredUnit | null {
  const framed = readFramed(file);
  if (!framed) return null;
  const { body, sum } = framed;
  const u = unpackSections(body);
  if (!u || u.sections.length !== 7) return null;
  const r = u.head as unknown as Record;
  if (r.key !== key || !Array.isArray(r.files) || !Array.isArray(r.probes)) return null;
  const [textBytes, macroText, ...posBytes] = [u.sections[0]!, u.sections[6]!, ...u.sections.slice(1, 6)];
  const pos = posBytes.map((b) => tableView(Int32Array, b));
  if (pos.some((a) => a === null)) return null;
  // The probes of a folder whose stat is the one recorded are answered as then (its entries are
  // the same); a probe that found a file the unit read is checked with that file below.
  const dirsSame = new Set<string>();
  for (const [d, sig] of r.dirs ?? []) if (statSig(d) === sig) dirsSame.add(d);
  const read = new Set<string>();
  for (const f of r.files) if (f.text === undefined) read.add(f.path);
  for (const [p, was] of r.probes) {
    if (dirsSame.has(dirname(p)) && (!was || read.has(p))) continue;
    if (isFile(p) !== was) return null;
  }
  const files: SrcFile[] = [];
  const checked = new Map<string, Buffer | string>();
  for (const f of r.files) {
    if (f.text !== undefined) {
      if (generated(f.path) !== f.text) return null;
      files.push({ path: f.path, display: f.display, text: f.text });
      continue;
    }
    let bytes = checked.get(f.path);
    if (bytes === undefined) {
      if (f.st && statSig(f.path) === f.st) {
        bytes = f.st;
        stats.stamped++;
      } else {
        stats.hashed++;
        try {
          if (realPath(f.path) !== f.real) return null;
          bytes = readFileBounded(f.path, MAX_SOURCE_BYTES);
        } catch {
          return null;
        }
        if (fingerprint(bytes) !== f.hash) return null;
      }
      checked.set(f.path, bytes);
    }
    files.push(typeof bytes === 'string' ? stampedFile(f.path, f.display, bytes) : fileOf(f.path, f.display, bytes));
  }
  let macros: Map<string, Macro> | undefined;
  const macroTable = (): Map<string, Macro> => {
    if (macros) return macros;
    macros = new Map();
    // The body's checksum held: this is the JSON written.
    for (const [name, fn, params, variadic, builtin, body] of JSON.parse(macroText.toString('utf8')) as MacroRec[]) {
      const m: Macro = { name, fn: fn === 1, params, variadic: variadic === 1, body: body.map(tokOf) };
      if (builtin) m.builtin = true;
      macros.set(name, m);
    }
    return macros;
  };
  const [rowFile, rowLine, rowStart, tokOut, tokCol] = pos as [Int32Array, Int32Array, Int32Array, Int32Array, Int32Array];
  const pp = {
    text: textBytes.toString(r.latin1 ? 'latin1' : 'utf8'),
    files,
    pos: new PosMap(rowFile, rowLine, rowStart, tokOut, tokCol),
    get macros() {
      return macroTable();
    },
  };
  return { pp, main: r.main, macros: macroTable, id: sum };
}

/**
 * The texts kctx makes for a unit, by file path, as they would be now (for a stored unit's
 * check): the command line's macros, the shipped headers, the layouts' include lines.
 */
export function generatedText(pre: Preprocessor, builtFor: EraId): (path: string) => string | undefined {
  const commandLine = pre.files[0]!.text;
  return (p) => {
    if (p === '<command line>') return commandLine;
    const h = /^<kctx: layouts from (.*)>$/.exec(p);
    if (h) return `#include <${h[1]}>\n`;
    return shippedHeaderText(p, builtFor);
  };
}

/**
 * Preprocesses with `pre` (`run` does it and returns the main file's index), or takes the unit
 * stored under `key` by an earlier process. A null key: not cached.
 */
export function preprocessOnce(key: string | null, pre: Preprocessor, generated: (path: string) => string | undefined, run: () => number): StoredUnit {
  const hit = key === null ? null : loadStoredUnit(key, generated);
  if (hit) {
    pre.adopt(hit.pp.files, hit.macros);
    return hit;
  }
  const main = run();
  const pp = pre.result();
  const u: StoredUnit = { pp, main, macros: () => pp.macros };
  if (key !== null) storeUnit(key, u, pre.probes);
  return u;
}

/** Stores a unit just preprocessed (best effort: a cache that cannot be written is no cache). */
export function storeUnit(key: string, u: StoredUnit, probes: Map<string, boolean>): void {
  const dir = diskCacheDir();
  if (!dir) return;
  key = fullKey(key);
  const now = BigInt(Date.now()) * 1_000_000n;
  const files: FileRec[] = [];
  // A file read several times (a header without a guard) is one real path, checksum and stat.
  const seen = new Map<string, FileRec>();
  for (const f of u.pp.files) {
    if (f.path.startsWith('<')) files.push({ path: f.path, display: f.display, text: f.text });
    else {
      let r = seen.get(f.path);
      if (!r) {
        r = { path: f.path, display: f.display, real: realPath(f.path), hash: fingerprint(Buffer.from(f.text, 'latin1')) };
        const st = settled(statSig(f.path), now);
        if (st) r.st = st;
        seen.set(f.path, r);
      }
      files.push({ ...r, display: f.display });
    }
  }
  const dirs: Array<[string, string | null]> = [];
  for (const d of new Set([...probes.keys()].map((p) => dirname(p)))) {
    const sig = statSig(d);
    if (sig === null || settled(sig, now)) dirs.push([d, sig]);
  }
  const pos = u.pp.pos;
  // The preprocessor reads files as latin1: the text is one byte a character unless kctx's own texts (a path in __FILE__) are not.
  const latin1 = !/[^\x00-\xff]/.test(u.pp.text);
  const rec: Record = { key, main: u.main, latin1, files, probes: [...probes], dirs };
  const macros: MacroRec[] = [...u.pp.macros.values()].map((m) => [m.name, m.fn ? 1 : 0, m.params, m.variadic ? 1 : 0, m.builtin ? 1 : 0, m.body.map(tokRec)]);
  const body = packSections(rec, [
    Buffer.from(u.pp.text, latin1 ? 'latin1' : 'utf8'),
    ...[pos.rowFile, pos.rowLine, pos.rowStart, pos.tokOut, pos.tokCol],
    Buffer.from(JSON.stringify(macros), 'utf8'),
  ]);
  const id = fingerprint(body);
  if (writeFramed(dir, fileFor(dir, key), body, id)) {
    stats.stores++;
    u.id = id;
  }
}

/**
 * What a load needs of the stored unit `id` (needed.ts), as the compiler `code` (a fingerprint of
 * its code) found it; null when not stored.
 */
export function loadNeeds(id: string, code: string): Needs | null {
  const r = loadRecord(`needs ${id} ${code}`) as { total?: unknown; skip?: unknown } | null;
  if (!r || !Number.isInteger(r.total) || !Array.isArray(r.skip) || r.skip.length % 2 || !r.skip.every((x) => Number.isInteger(x))) return null;
  return { total: r.total as number, skip: r.skip as number[] };
}

/** Keeps what a load needs of the stored unit `id` (best effort). */
export function storeNeeds(id: string, code: string, needs: Needs): void {
  storeRecord(`needs ${id} ${code}`, needs);
}

const ARRAY_KINDS = { Uint8Array, Uint16Array, Int32Array } as const;
type ArrayKind = keyof typeof ARRAY_KINDS;

/**
 * The syntax tree of what a load needs of the stored unit `id` (ctree.ts StoredTree), as the
 * code `code` (the needs' code, the tree copy's, the parser's grammar) made it; null when not
 * stored, or damaged.
 */
export function loadTree(id: string, code: string): StoredTree | null {
  const dir = diskCacheDir();
  if (!dir) return null;
  const key = `tree ${id} ${code}`;
  const framed = readFramed(fileFor(dir, key));
  if (!framed) return null;
  // The head lists each array's kind; its section holds the array's bytes.
  const u = unpackSections(framed.body);
  if (!u) return null;
  const r = u.head as { key?: unknown; typeNames?: unknown; fieldNames?: unknown; kinds?: unknown };
  if (r.key !== key || !Array.isArray(r.typeNames) || !Array.isArray(r.fieldNames) || !Array.isArray(r.kinds) || r.kinds.length !== u.sections.length) return null;
  const arrays: ArrayBufferView[] = [];
  for (let i = 0; i < u.sections.length; i++) {
    const K = Object.hasOwn(ARRAY_KINDS, r.kinds[i] as string) ? ARRAY_KINDS[r.kinds[i] as ArrayKind] : undefined;
    const sec = u.sections[i]!;
    const a = K ? tableView(K, sec) : null;
    if (!a) return null;
    arrays.push(a);
  }
  return { typeNames: r.typeNames as string[], fieldNames: r.fieldNames as (string | null)[], arrays };
}

/** Keeps the syntax tree of what a load needs of the stored unit `id` (best effort). */
export function storeTree(id: string, code: string, tree: StoredTree): void {
  const dir = diskCacheDir();
  if (!dir) return;
  const key = `tree ${id} ${code}`;
  const head = { key, typeNames: tree.typeNames, fieldNames: tree.fieldNames, kinds: tree.arrays.map((a) => a.constructor.name) };
  writeFramed(dir, fileFor(dir, key), packSections(head, tree.arrays));
}
