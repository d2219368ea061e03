/**
 * core/fingerprint.ts: the CRC-32 is the standard one (zlib's), the 64-bit fingerprint is the
 * CRC-32 of the bytes and of the bytes backwards, and any one-byte change, reordering or split
 * between parts gives another fingerprint.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { checksum, fingerprint } from '../../../core/fingerprint';

test('checksum is the CRC-32 of the bytes one part after the other', () => {
  // The CRC-32 check value of "123456789" (ISO-HDLC, as zlib and gzip compute it).
  assert.equal(checksum(Buffer.from('123456789')), 'cbf43926');
  assert.equal(checksum(Buffer.from('1234'), Buffer.from('56789')), 'cbf43926');
  assert.equal(checksum(), '00000000');
});

test('fingerprint: the CRC-32 forwards and backwards; parts joined by newlines; a string is its UTF-8 bytes', () => {
  assert.equal(fingerprint(Buffer.from('123456789')), 'cbf43926' + checksum(Buffer.from('987654321')));
  assert.equal(fingerprint('ab', 'c'), fingerprint('ab\nc'));
  assert.equal(fingerprint('é'), fingerprint(Buffer.from('é', 'utf8')));
  assert.notEqual(fingerprint('ab', 'c'), fingerprint('a', 'bc'));
  // A palindrome's two halves are equal; the fingerprint is still 16 hex digits.
  assert.match(fingerprint('abcba'), /^([0-9a-f]{8})\1$/);
});

test('fingerprint: every one-byte change of a 4 KB text gives another print, and none repeats', () => {
  const base = Buffer.alloc(4096);
  for (let i = 0; i < base.length; i++) base[i] = (i * 31 + 7) & 0xff;
  const seen = new Set([fingerprint(base)]);
  for (let i = 0; i < base.length; i += 37) {
    const b = Buffer.from(base);
    b[i] ^= 1 << (i % 8);
    seen.add(fingerprint(b));
  }
  assert.equal(seen.size, 1 + Math.ceil(4096 / 37));
  // The input is not changed (the backwards copy is a copy).
  const b = Buffer.from('hello');
  fingerprint(b);
  assert.equal(b.toString(), 'hello');
});
