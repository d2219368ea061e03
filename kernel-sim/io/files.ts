/**
 * Reading input files without letting them cost the host: the type and the size are checked
 * on the open descriptor before anything is read (so /dev/zero, a FIFO, a folder or a symlink
 * to one is refused at once, and a FIFO never blocks the open), and at most `max` bytes are
 * read even if the file grows meanwhile. Also the confinement check shared by scenario
 * sources, includes and stubs. A leaf module: it imports nothing from the project.
 */
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, type Stats } from 'node:fs';
import { resolve, sep } from 'node:path';

/** A file the reader refuses, with the reason in words (`a character device, not a file`). */
export class FileRefused extends Error {
  constructor(readonly path: string, readonly reason: string, readonly code: string, readonly size?: number) {
    super(`${path}: ${reason}`);
  }
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a folder, not a file';
  if (st.isCharacterDevice()) return 'a character device, not a file';
  if (st.isBlockDevice()) return 'a block device, not a file';
  if (st.isFIFO()) return 'a FIFO (named pipe), not a file';
  if (st.isSocket()) return 'a socket, not a file';
  return 'not a regular file';
}

function errnoWords(code: string | undefined): string {
  switch (code) {
    case 'ENOENT': return 'no such file';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EISDIR': return 'a folder, not a file';
    case 'ELOOP': return 'too many levels of symbolic links';
    case 'ENOTDIR': return 'a path through something that is not a folder';
    case 'ENAMETOOLONG': return 'file name too long';
    default: return code ?? 'cannot be read';
  }
}

/** Human size: 2097152 → "2 MB". */
export function sizeWords(n: number): string {
  if (n >= 1 << 30 && n % (1 << 30) === 0) return `${n / (1 << 30)} GB`;
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)} MB`;
  if (n >= 1 << 10 && n % (1 << 10) === 0) return `${n / (1 << 10)} KB`;
  return `${n} bytes`;
}

/**
 * Reads a regular file of at most `max` bytes. Throws FileRefused for anything else: a missing
 * file, a folder, a device, a FIFO, a socket, or a file over the limit.
 */
export function readFileBounded(path: string, max: number, reuse?: { buf: Buffer }): Buffer {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting for one.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FileRefused(path, errnoWords(code), code ?? 'EIO');
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new FileRefused(path, kindOf(st), 'ENOTFILE');
    if (st.size > max) throw new FileRefused(path, `${st.size} bytes: larger than the ${sizeWords(max)} limit`, 'EFBIG', st.size);
    // Read what is there, and one byte more to see a file that grew past the limit meanwhile.
    const cap = Math.min(max, st.size) + 1;
    // (`reuse`: read into the caller's buffer, grown when too small: the result lives until its next read)
    let buf: Buffer;
    if (reuse && reuse.buf.length >= cap) buf = reuse.buf;
    else {
      buf = Buffer.allocUnsafe(reuse ? Math.max(cap, 1 << 20) : cap);
      if (reuse) reuse.buf = buf;
    }
    let n = 0;
    for (;;) {
      let got: number;
      try {
        got = readSync(fd, buf, n, cap - n, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') break;
        throw new FileRefused(path, errnoWords(code), code ?? 'EIO');
      }
      if (got === 0) break;
      n += got;
      if (n === cap) {
        if (n > max) throw new FileRefused(path, `larger than the ${sizeWords(max)} limit`, 'EFBIG');
        break;
      }
    }
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** readFileBounded as text. */
export function readTextBounded(path: string, max: number, encoding: BufferEncoding = 'utf8'): string {
  return readFileBounded(path, max).toString(encoding);
}

/** The real path (symlinks resolved), or the resolved path when it does not exist. */
export function realOrResolved(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

/**
 * Confinement: `path` (after its symlinks are resolved) must lie inside one of `roots` (each
 * resolved the same way). Returns null when it does, else the words of the refusal naming the
 * rule and the allowed folders: `outside the scenario's folder and its declared gate and
 * includePaths (...)`.
 */
export function outsideRoots(path: string, roots: readonly string[], rule: string): string | null {
  return insideRoots(realOrResolved(path), roots.map(realOrResolved)) ? null : outsideWords(rule, roots);
}

/**
 * The one confinement check (the scenario's file keys and the preprocessor's #include both use
 * it): `real`, a real path, is one of `rootsReal` (real paths) or inside one of them.
 */
export function insideRoots(real: string, rootsReal: readonly string[]): boolean {
  return rootsReal.some((r) => real === r || real.startsWith(r.endsWith(sep) ? r : r + sep));
}

/** `outside RULE (root, ...)`, each root once. */
export function outsideWords(rule: string, roots: readonly string[]): string {
  return `outside ${rule} (${roots.filter((r, i) => roots.indexOf(r) === i).join(', ')})`;
}
