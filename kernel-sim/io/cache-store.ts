/**
 * The kctx cache folder and its files (a leaf: node only): where it is and whether it is on,
 * files framed with a magic line, an id and their body's CRC-32 (a truncated or damaged file is no
 * file; core/fingerprint.ts: no crypto module on a warm load), written under a temporary name and renamed into place, bounded (least recently used
 * out), JSON records under a key; and the stats that say a file or folder has not changed (as
 * ccache's direct mode and git's index do: device, inode, size, modification and change times in
 * nanoseconds, trusted only when taken RACY_NS after the last change). cinterp/disk-cache.ts keeps
 * preprocessed units here; gate/build.ts the flags read from a tree's makefiles.
 *
 * Where: `$KCTX_CACHE_DIR`, else `$XDG_CACHE_HOME/kctx`, else `~/.cache/kctx` (not under node's
 * test runner: tests name a scratch folder). Off with `KCTX_CACHE=0` or `kctx run --no-cache`
 * (`setDiskCache(false)`).
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { checksum, fingerprint } from '../../core/fingerprint';

/** The first line of every cache file (format 2: an id and a CRC-32 follow on the second line). */
const MAGIC = 'kctx-unit 2\n';
/**
 * The second line: the id (16 hex digits), a space, the CRC-32 of the id and the body (8 hex
 * digits), two spaces, a newline; the body then starts 40 bytes in, at a multiple of 8.
 */
const LINE2 = 16 + 1 + 8 + 2 + 1;
/** Where a body starts in its file. */
const BODY_AT = MAGIC.length + LINE2;
/** packSections places each section at a multiple of this from the file's start (a typed array's view needs its element's alignment). */
const ALIGN = 8;
const aligned = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;
/** The id of a file that has none (records other than units). */
const NO_ID = '0'.repeat(16);

/** Most bytes the cache folder holds; the least recently used units are removed past it. */
export const MAX_BYTES = 256 * 1024 * 1024;
/** A cache file larger than this is not read (it is not one of ours). */
const MAX_FILE = 128 * 1024 * 1024;

let enabled = true;

/** Turns the disk cache off (or on again) for this process (`--no-cache`). */
export function setDiskCache(on: boolean): void {
  enabled = on;
}

/** Is the cache on (not `--no-cache`, not `KCTX_CACHE=0`)? Off, every load also declares its whole unit (needed.ts). */
export function diskCacheOn(): boolean {
  return enabled && process.env.KCTX_CACHE !== '0';
}

/** The cache folder, or null when the cache is off. */
export function diskCacheDir(): string | null {
  if (!diskCacheOn()) return null;
  if (process.env.KCTX_CACHE_DIR) return process.env.KCTX_CACHE_DIR;
  // Under node's test runner (and in what its tests start) only a folder named by KCTX_CACHE_DIR
  // is used: a test never writes the user's cache.
  if (process.env.NODE_TEST_CONTEXT) return null;
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg && xdg.startsWith('/') ? xdg : join(homedir(), '.cache'), 'kctx');
}

/**
 * A stat taken less than this after a file's or folder's last change (modification or change
 * time) is not trusted: a later change within the same tick of a coarse clock would not show.
 */
let RACY_NS = 2_000_000_000n;

/** Sets the racy window (tests: files they have just written settle sooner); returns the one before. */
export function setRacyWindow(ns: bigint): bigint {
  const was = RACY_NS;
  RACY_NS = ns;
  return was;
}

/** A file's or folder's stat as compared: device, inode, size, modification and change times (ns); null when there is none. */
export function statSig(p: string): string | null {
  try {
    const st = statSync(p, { bigint: true, throwIfNoEntry: false });
    return st ? `${st.dev} ${st.ino} ${st.size} ${st.mtimeNs} ${st.ctimeNs}` : null;
  } catch {
    return null;
  }
}

/** Was the last change of what has the stat `sig` at least RACY_NS before `now` (ns since the epoch)? */
export function settledSig(sig: string, now: bigint): boolean {
  const [, , , m, c] = sig.split(' ');
  return BigInt(m!) + RACY_NS <= now && BigInt(c!) + RACY_NS <= now;
}

/** `sig` unless its last change is within RACY_NS of `now`. */
export function settled(sig: string | null, now: bigint): string | null {
  return sig !== null && settledSig(sig, now) ? sig : null;
}

export function fileFor(dir: string, key: string): string {
  return join(dir, 'units', `${fingerprint(key)}.unit`);
}

/** The CRC-32 that guards a file with this id and body. */
const guard = (id: string, body: Uint8Array): string => checksum(Buffer.from(id, 'latin1'), body);

/** A cache file's body and its id (writeFramed's `id`), if the file is whole and one of ours. */
export function readFramed(file: string): { body: Buffer; sum: string } | null {
  let raw: Buffer;
  try {
    if (statSync(file).size > MAX_FILE) return null;
    raw = readFileSync(file);
  } catch {
    return null;
  }
  // MAGIC, the id, a space, the CRC-32, a newline, the body.
  const head = MAGIC.length;
  if (raw.length < head + LINE2 || raw.toString('latin1', 0, head) !== MAGIC || raw.toString('latin1', head + 16, head + 17) !== ' ' || raw.toString('latin1', head + 25, head + LINE2) !== '  \n') return null;
  const id = raw.toString('latin1', head, head + 16);
  const body = raw.subarray(head + LINE2);
  if (guard(id, body) !== raw.toString('latin1', head + 17, head + 25)) return null;
  return { body, sum: id };
}

/**
 * A record's body as kept: the length of its JSON head (4 bytes, little-endian), the head (with
 * `sections`, the byte length of each section; spaces after it up to a multiple of 8 bytes from
 * the file's start), then the sections' bytes, each followed by zeros up to a multiple of 8. Big
 * texts and number tables go in sections: no JSON escaping, base64 or UTF-8 decoding of megabytes
 * on a load, and a table is read in place (tableView), not copied.
 */
export function packSections(head: object, sections: ArrayBufferView[]): Buffer {
  const json = JSON.stringify({ ...head, sections: sections.map((s) => s.byteLength) });
  const bytes = Buffer.byteLength(json, 'utf8');
  const h = Buffer.from(json + ' '.repeat(aligned(BODY_AT + 4 + bytes) - (BODY_AT + 4 + bytes)), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(h.length);
  const parts: Buffer[] = [len, h];
  for (const s of sections) {
    parts.push(Buffer.from(s.buffer, s.byteOffset, s.byteLength));
    if (s.byteLength % ALIGN) parts.push(Buffer.alloc(ALIGN - (s.byteLength % ALIGN)));
  }
  return Buffer.concat(parts);
}

type TableKind = Int32ArrayConstructor | Uint16ArrayConstructor | Uint8ArrayConstructor;

/**
 * A section's bytes as a table of `K`'s elements: a view of the bytes read when they sit at a
 * multiple of the element's size (packSections puts them there), else a copy; null when the
 * length is not a multiple of it. The view keeps the file's bytes alive as long as the table.
 */
export function tableView<K extends TableKind>(K: K, b: Buffer): InstanceType<K> | null {
  const size = K.BYTES_PER_ELEMENT;
  if (b.length % size) return null;
  if (b.byteOffset % size === 0) return new K(b.buffer as ArrayBuffer, b.byteOffset, b.length / size) as InstanceType<K>;
  const out = new K(b.length / size);
  new Uint8Array(out.buffer).set(b);
  return out as InstanceType<K>;
}

/** A body packSections made: its head and its sections (views of `b`); null when it does not hold together. */
export function unpackSections(b: Buffer): { head: { [k: string]: unknown }; sections: Buffer[] } | null {
  if (b.length < 4) return null;
  const len = b.readUInt32LE(0);
  if (4 + len > b.length) return null;
  let head: unknown;
  try {
    head = JSON.parse(b.toString('utf8', 4, 4 + len));
  } catch {
    return null;
  }
  if (!head || typeof head !== 'object' || !Array.isArray((head as { sections?: unknown }).sections)) return null;
  let at = 4 + len;
  const sections: Buffer[] = [];
  for (const n of (head as { sections: unknown[] }).sections) {
    if (!Number.isInteger(n) || (n as number) < 0 || at + (n as number) > b.length) return null;
    sections.push(b.subarray(at, at + (n as number)));
    at = aligned(BODY_AT + at + (n as number)) - BODY_AT;
  }
  return at === b.length ? { head: head as { [k: string]: unknown }, sections } : null;
}

/**
 * Writes a cache file under a temporary name and renames it into place; true when stored. `id`
 * (16 hex digits, what readFramed gives back as `sum`): a unit's fingerprint, by which the records
 * made from it are keyed.
 */
export function writeFramed(dir: string, file: string, body: Buffer, id = NO_ID): boolean {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(join(dir, 'units'), { recursive: true, mode: 0o700 });
    writeFileSync(tmp, Buffer.concat([Buffer.from(`${MAGIC}${id} ${guard(id, body)}  \n`, 'latin1'), body]), { mode: 0o600 });
    renameSync(tmp, file);
    evict(join(dir, 'units'), MAX_BYTES);
    return true;
  } catch {
    try {
      unlinkSync(tmp);
    } catch {
      /* never written */
    }
    return false;
  }
}

/** A JSON value kept under `key` (best effort, as the units: framed, checksummed); null when none or damaged. */
export function loadRecord(key: string): unknown {
  const dir = diskCacheDir();
  if (!dir) return null;
  const framed = readFramed(fileFor(dir, key));
  if (!framed) return null;
  try {
    const r = JSON.parse(framed.body.toString('utf8')) as { key?: string; value?: unknown };
    return r.key === key ? (r.value ?? null) : null;
  } catch {
    return null;
  }
}

/** Keeps a JSON value under `key` (best effort). */
export function storeRecord(key: string, value: unknown): void {
  const dir = diskCacheDir();
  if (!dir) return;
  writeFramed(dir, fileFor(dir, key), Buffer.from(JSON.stringify({ key, value }), 'utf8'));
}

/** Removes the least recently used units until the folder holds at most `max` bytes. */
export function evict(units: string, max: number): void {
  const all: Array<{ p: string; size: number; t: number }> = [];
  for (const n of readdirSync(units)) {
    if (!n.endsWith('.unit')) continue;
    try {
      const st = statSync(join(units, n));
      all.push({ p: join(units, n), size: st.size, t: st.mtimeMs });
    } catch {
      /* removed meanwhile */
    }
  }
  let total = all.reduce((k, f) => k + f.size, 0);
  all.sort((a, b) => a.t - b.t || (a.p < b.p ? -1 : 1));
  for (const f of all) {
    if (total <= max) break;
    try {
      unlinkSync(f.p);
    } catch {
      /* another process removed it */
    }
    total -= f.size;
  }
}
