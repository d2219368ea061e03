/** Reading a file a user named (a schedule, a dump): a regular file of bounded size, or an error in words. */
import { openSync, fstatSync, readSync, closeSync } from 'node:fs';

export class FileError extends Error {}

/** The bytes of `path`; refuses folders, devices and files over `limit` bytes (no /dev/zero). */
export function readBoundedBytes(path: string, limit: number): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'a folder, not a file' : code ?? String(e);
    throw new FileError(`${path}: cannot read: ${why}`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new FileError(`${path}: cannot read: a folder, not a file`);
    if (!st.isFile()) throw new FileError(`${path}: cannot read: not a regular file`);
    if (st.size > limit) throw new FileError(`${path}: too large (${st.size} bytes; the limit is ${limit})`);
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}

export function readBoundedFile(path: string, limit: number): string {
  return readBoundedBytes(path, limit).toString('utf8');
}
