/**
 * io/cache-store.ts's framing: a file is its magic line, its id and a CRC-32 of id and body, then
 * the body; packSections puts every section at a multiple of 8 bytes from the file's start, so
 * that tableView reads a table in place; any damaged byte or a cut file is no file.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packSections, readFramed, tableView, unpackSections, writeFramed } from '../../../kernel-sim/io/cache-store';
import { scratchDir } from '../../scratch';

test('a framed file of packed sections comes back whole, each section 8-aligned in the bytes read and its tables views of them', () => {
  const dir = scratchDir('kctx-cachestore-');
  const file = join(dir, 'units', 'x.unit');
  const big = new Int32Array(5000).map((_, i) => i * 7 - 3);
  const sections = [Buffer.from('abc'), new Uint16Array([1, 2, 3]), big, Buffer.from('é, a text of 13'), new Uint8Array(0)];
  assert.ok(writeFramed(dir, file, packSections({ key: 'k', note: 'x' }, sections), '0123456789abcdef'));
  const raw = readFileSync(file);
  assert.equal(raw.toString('latin1', 0, 40), `kctx-unit 2\n0123456789abcdef ${raw.toString('latin1', 29, 37)}  \n`);
  const f = readFramed(file);
  assert.ok(f);
  assert.equal(f.sum, '0123456789abcdef');
  const u = unpackSections(f.body);
  assert.ok(u);
  assert.deepEqual(u.head, { key: 'k', note: 'x', sections: [3, 6, 20000, 16, 0] });
  assert.equal(u.sections.length, 5);
  for (const s of u.sections) assert.equal(s.byteOffset % 8, 0, 'each section starts at a multiple of 8 of the buffer read');
  assert.equal(u.sections[0]!.toString(), 'abc');
  assert.equal(u.sections[3]!.toString(), 'é, a text of 13');
  const t = tableView(Int32Array, u.sections[2]!);
  assert.ok(t);
  assert.equal(t.buffer, u.sections[2]!.buffer, 'an aligned table is a view of the bytes read');
  assert.deepEqual([...t], [...big]);
  assert.deepEqual([...tableView(Uint16Array, u.sections[1]!)!], [1, 2, 3]);
});

test('tableView: a copy when the bytes are not aligned, null when the length is not whole elements', () => {
  const b = Buffer.alloc(17);
  new Int32Array(b.buffer, b.byteOffset, 4).set([5, -6, 7, 8]);
  const odd = Buffer.concat([Buffer.from([9]), b.subarray(0, 16)]).subarray(1);
  assert.notEqual(odd.byteOffset % 4, 0);
  const t = tableView(Int32Array, odd)!;
  assert.notEqual(t.buffer, odd.buffer);
  assert.deepEqual([...t], [5, -6, 7, 8]);
  assert.equal(tableView(Int32Array, b), null);
});

test('a changed byte anywhere after the magic line, or a cut file, is no file', () => {
  const dir = scratchDir('kctx-cachestore-');
  const file = join(dir, 'units', 'y.unit');
  assert.ok(writeFramed(dir, file, packSections({ key: 'k' }, [Buffer.from('some bytes to guard')])));
  const good = readFileSync(file);
  assert.equal(readFramed(file)!.sum, '0'.repeat(16), 'a record without an id');
  for (const at of [12, 20, 28, 30, 38, 39, 45, good.length - 1]) {
    const bad = Buffer.from(good);
    bad[at] ^= 0x20;
    writeFileSync(file, bad);
    assert.equal(readFramed(file), null, `byte ${at} changed`);
  }
  writeFileSync(file, good.subarray(0, good.length - 1));
  assert.equal(readFramed(file), null, 'cut');
  writeFileSync(file, good);
  assert.ok(readFramed(file));
});
