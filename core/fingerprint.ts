/**
 * Fingerprints of code and of cache keys and records (a leaf: node only). 64 bits: the CRC-32 of
 * the bytes and the CRC-32 of the same bytes backwards, as 16 hex digits. A CRC is linear, so two
 * with other seeds or prefixes would collide together; the reversed bytes give a second, unrelated
 * linear map. zlib's CRC-32 runs at gigabytes a second and its module loads in about a millisecond,
 * where node's crypto module takes 10-30 ms to load: a warm `kctx run` checks megabytes of cache
 * records and computes a dozen prints of kctx's own code, and loads no crypto at all.
 *
 * Not a defence against someone who makes collisions on purpose (the cache folder is the user's
 * own): a guard against damage, and a name that changes when what it names changes.
 */
import { crc32 } from 'node:zlib';

/** The bytes of `parts` joined by newlines (strings as UTF-8). */
function bytesOf(parts: ReadonlyArray<string | Uint8Array>): Buffer {
  if (parts.length === 1 && typeof parts[0] !== 'string') return Buffer.from(parts[0]!.buffer, parts[0]!.byteOffset, parts[0]!.byteLength);
  const bufs: Buffer[] = [];
  for (let i = 0; i < parts.length; i++) {
    if (i) bufs.push(Buffer.from('\n'));
    const p = parts[i]!;
    bufs.push(typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p.buffer, p.byteOffset, p.byteLength));
  }
  return Buffer.concat(bufs);
}

const hex8 = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');

/** The fingerprint of `parts` joined by newlines: 16 hex digits. */
export function fingerprint(...parts: Array<string | Uint8Array>): string {
  const b = bytesOf(parts);
  const back = Buffer.allocUnsafe(b.length);
  b.copy(back);
  back.reverse();
  return hex8(crc32(b)) + hex8(crc32(back));
}

/** The CRC-32 of the bytes of `parts` one after the other, as 8 hex digits (a cache file's check against damage). */
export function checksum(...parts: Uint8Array[]): string {
  let c = 0;
  for (const p of parts) c = crc32(p, c);
  return hex8(c);
}
