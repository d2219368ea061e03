/**
 * The simulated address space's accessors: the word-aligned fast paths (which spell the
 * constants as literals) must agree byte for byte with the DataView paths and the exported
 * constants, and fault at the same bounds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Memory, MemoryFault, NULL_GUARD, KBASE_HI, DISPLAY_OFFSET, formatAddr } from '../../../kernel-sim/machine/memory';

function bytes(mem: Memory, a: number, n: number): number[] {
  return Array.from(mem.u8.subarray(a, a + n));
}

test('memory: aligned and unaligned pointer stores give the same bytes, the kernel form of the constants', () => {
  const mem = new Memory();
  const base = mem.map(64, 16);
  const p = mem.map(32, 16);
  mem.writePtr(base, p); // aligned: the literal fast path
  mem.writePtr(base + 17, p); // unaligned: the DataView path
  assert.deepEqual(bytes(mem, base, 8), bytes(mem, base + 17, 8));
  assert.equal(mem.dv.getUint32(base + 4, true), KBASE_HI);
  assert.equal(mem.dv.getUint32(base, true), p + DISPLAY_OFFSET);
  assert.equal(mem.readPtr(base), p);
  assert.equal(mem.readPtr(base + 17), p);
  assert.equal(formatAddr(mem.readPtr(base)), 'fffffe' + (p + DISPLAY_OFFSET).toString(16).padStart(10, '0'));
  mem.writePtr(base, 0);
  mem.writePtr(base + 17, 0);
  assert.deepEqual(bytes(mem, base, 8), [0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(bytes(mem, base + 17, 8), [0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(mem.readPtr(base), 0);
});

test('memory: a pointer above 256 MB of arena takes the general path and reads back', () => {
  const mem = new Memory();
  const base = mem.map(16, 16);
  const far = 0x3_2000_0010; // above 4 GB of display space: the high word changes
  mem.writePtr(base, far);
  assert.equal(mem.readPtr(base), far);
  assert.equal(mem.dv.getUint32(base + 4, true), (KBASE_HI | Math.floor((far + DISPLAY_OFFSET) / 2 ** 32)) >>> 0);
});

test('memory: 32- and 64-bit accessors agree aligned and unaligned, and fault below NULL_GUARD and past the top', () => {
  const mem = new Memory();
  const base = mem.map(64, 16);
  mem.writeU32(base, 0xdeadbeef);
  mem.writeU32(base + 5, 0xdeadbeef);
  assert.deepEqual(bytes(mem, base, 4), bytes(mem, base + 5, 4));
  assert.equal(mem.readU32(base), 0xdeadbeef);
  assert.equal(mem.readU32(base + 5), 0xdeadbeef);
  mem.writeU64n(base + 8, 2 ** 40 + 7);
  mem.writeU64n(base + 25, 2 ** 40 + 7);
  assert.deepEqual(bytes(mem, base + 8, 8), bytes(mem, base + 25, 8));
  assert.equal(mem.readU64n(base + 8), 2 ** 40 + 7);
  assert.equal(mem.readU64n(base + 25), 2 ** 40 + 7);
  mem.writeU64n(base + 8, 3);
  assert.equal(mem.readU64n(base + 8), 3);
  assert.equal(mem.readU64(base + 8), 3n);
  for (const [what, fn] of [
    ['readPtr', (a: number) => mem.readPtr(a)],
    ['writePtr', (a: number) => mem.writePtr(a, 0)],
    ['readU32', (a: number) => mem.readU32(a)],
    ['writeU32', (a: number) => mem.writeU32(a, 1)],
    ['readU64n', (a: number) => mem.readU64n(a)],
    ['writeU64n', (a: number) => mem.writeU64n(a, 1)],
  ] as const) {
    assert.throws(() => fn(NULL_GUARD - 4), MemoryFault, `${what} below NULL_GUARD`);
    assert.throws(() => fn(mem.top - 2), MemoryFault, `${what} across the top`);
    assert.throws(() => fn(8), MemoryFault, `${what} near NULL`);
  }
});

test('memory: a small integer used as a pointer is stored, read and shown as itself', () => {
  const mem = new Memory();
  const base = mem.map(32, 16);
  mem.writePtr(base, 7); // aligned
  mem.writePtr(base + 9, 0x1234); // unaligned
  assert.deepEqual(bytes(mem, base, 8), [7, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(bytes(mem, base + 9, 8), [0x34, 0x12, 0, 0, 0, 0, 0, 0]);
  assert.equal(mem.readPtr(base), 7);
  assert.equal(mem.readPtr(base + 9), 0x1234);
  assert.equal(formatAddr(7), '7');
  assert.equal(formatAddr(NULL_GUARD - 1), 'ffff');
  assert.equal(formatAddr(NULL_GUARD), 'fffffe00f0010000');
  assert.equal(Memory.ptrToBig(7), 7n);
  assert.equal(Memory.bigToPtr(7n), 7);
  assert.throws(() => mem.readU32(mem.readPtr(base)), MemoryFault, 'and it faults when dereferenced');
});
