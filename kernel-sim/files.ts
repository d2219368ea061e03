/**
 * Reading a file a user named (a schedule, a dump): a regular file of bounded size, or an error in
 * words. The checks are those of io/files.ts (type and size on the open descriptor, so /dev/zero
 * or a FIFO is refused at once); this keeps the wording of these commands' usage errors.
 */
import { FileRefused, readFileBounded } from './io/files';

export class FileError extends Error {}

/** The bytes of `path`; refuses folders, devices, FIFOs and files over `limit` bytes (no /dev/zero). */
export function readBoundedBytes(path: string, limit: number): Buffer {
  try {
    return readFileBounded(path, limit);
  } catch (e) {
    if (!(e instanceof FileRefused)) throw e;
    if (e.code === 'EFBIG') throw new FileError(`${path}: too large (${e.size ?? 'over ' + limit} bytes; the limit is ${limit})`);
    throw new FileError(`${path}: cannot read: ${e.reason}`);
  }
}

export function readBoundedFile(path: string, limit: number): string {
  return readBoundedBytes(path, limit).toString('utf8');
}
