/**
 * The simulated kernel address space.
 *
 * One flat, growable arena of bytes. Internal addresses are plain JS numbers: offsets into the
 * arena. The kernel sees them as 64-bit kernel virtual addresses: `KBASE + internal`, printed
 * as `fffffe00xxxxxxxx`. Offset 0 is NULL and the first page range below `NULL_GUARD` is never
 * mapped, so a NULL (or small-offset) dereference faults, as on a real kernel.
 *
 * Everything the kernel and the driver share lives here: kthread_t, cpu_t, struct ctxop,
 * kmem buffers, C globals, C stack frames. A snapshot is a copy of the used bytes.
 *
 * Pointers are stored little-endian as 8 bytes holding the kernel form (`KBASE + addr`).
 * A stored value that is not a kernel address reads back as a "wild" pointer: a number at or
 * above `WILD_BASE`, which faults on any access and prints as the original bits where possible.
 */

/** High 24 bits of every kernel address: 0xfffffe. Internal addresses stay below 2^40. */
export const KBASE_HI = 0xfffffe00;
/** Added to internal addresses when they are shown or stored, so they look like kernel heap (fffffe00f...). */
export const DISPLAY_OFFSET = 0xf0000000;
export const ADDR_LIMIT = 2 ** 40 - 2 ** 32;
export const NULL_GUARD = 0x10000;
/** Wild (non-kernel) pointer values read from memory are mapped at or above this. */
export const WILD_BASE = 2 ** 48;

export class MemoryFault extends Error {
  constructor(readonly addr: number, readonly size: number, readonly write: boolean) {
    super(`${write ? 'write' : 'read'} of ${size} bytes at ${formatAddr(addr)}`);
  }
}

/** Formats an internal address as a kernel virtual address (16 hex digits, no 0x); a value below NULL_GUARD as itself. */
export function formatAddr(addr: number): string {
  // A small integer used as a pointer (a thread's arg of 1, (void *)7) is that number.
  if (addr < NULL_GUARD) return addr.toString(16);
  if (addr >= WILD_BASE) return wildBits(addr);
  return 'fffffe' + (addr + DISPLAY_OFFSET).toString(16).padStart(10, '0');
}

/** Like formatAddr but with a zero-padded 16-digit NULL, as mdb's %0?p prints. */
export function formatAddrPadded(addr: number): string {
  return addr === 0 ? '0000000000000000' : formatAddr(addr);
}

/** Parses a kernel address as typed by a user (`fffffe00...`, `0x...`); returns the internal address. */
export function parseAddr(text: string): number | undefined {
  const t = text.trim().toLowerCase().replace(/^0x/, '');
  if (!/^[0-9a-f]+$/.test(t)) return undefined;
  if (t.length === 16 && t.startsWith('fffffe')) {
    const v = parseInt(t.slice(6), 16) - DISPLAY_OFFSET;
    return v >= 0 ? v : undefined;
  }
  const n = parseInt(t, 16);
  return Number.isSafeInteger(n) ? n : undefined;
}

const wildTable = new Map<number, string>();
function wildBits(addr: number): string {
  return wildTable.get(addr) ?? (addr - WILD_BASE).toString(16);
}

/** Makes a wild pointer value from raw 64-bit halves (used when garbage is read as a pointer). */
export function wildPointer(hi: number, lo: number): number {
  // Keep the low 32 bits plus 4 bits of the high word: enough to stay unique in practice.
  const v = WILD_BASE + (hi >>> 0) * 0x10000 + (lo >>> 16) + (lo & 0xffff) / 0x10000;
  const key = Math.floor(v);
  if (!wildTable.has(key)) wildTable.set(key, (hi >>> 0).toString(16) + (lo >>> 0).toString(16).padStart(8, '0'));
  return key;
}

/** Word views (u32) are host-endian: the simulated machine is little-endian like the host must be. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
if (!LITTLE_ENDIAN) throw new Error('kctx needs a little-endian host (x86-64 or arm64): the simulated kernel is amd64');

/*
 * The accessors on the context-switch path (readPtr, writePtr, readU64n, writeU64n, the
 * aligned readU32/writeU32) spell NULL_GUARD (0x10000), KBASE_HI (0xfffffe00) and
 * DISPLAY_OFFSET (0xf0000000) as literals. A bundler may wrap this module in a lazy
 * initialiser (esbuild does when anything require()s it), which turns module constants into
 * mutable closure variables the JIT cannot fold: about a tenth of the switch rate. A unit test
 * keeps the literals and the constants equal.
 */

export interface MemorySnapshot {
  bytes: Uint8Array;
  top: number;
}

/** The default physical memory of a simulated machine (the scenario's `memory`). */
export const DEFAULT_PHYSMEM = 256 * 1024 * 1024;

/** A mapping past the machine's physical memory (`memory`): the host never pays for more. */
export class OutOfMemory extends Error {
  constructor(readonly size: number, readonly limit: number) {
    super(`out of memory: ${size} more bytes do not fit in the machine's ${limit / 1048576} MB of physical memory`);
  }
}

/** The store methods a watch reports (Memory.watch): name, and the bytes a store writes (0: its second argument; -1: its third, copy's). */
const WATCHED: Array<[string, number]> = [
  ['writeU8', 1], ['writeU16', 2], ['writeU32', 4], ['writeI32', 4], ['writeF32', 4],
  ['writeU64', 8], ['writeU64n', 8], ['writeF64', 8], ['writePtr', 8],
  ['fill', 0], ['fillPattern32', 0], ['copy', -1], ['stored', 0],
];

export class Memory {
  /** Physical memory: the arena never grows past it (OutOfMemory instead). */
  limit = DEFAULT_PHYSMEM;
  u8: Uint8Array;
  i8: Int8Array;
  dv: DataView;
  /** The same bytes as 32-bit words (aligned pointer and word accesses: a plain element load). */
  u32: Uint32Array;
  i32: Int32Array;
  i16: Int16Array;
  /** First unallocated address: everything at or above is unmapped. */
  top = NULL_GUARD;

  constructor(initial = 1 << 20) {
    this.u8 = new Uint8Array(initial);
    this.i8 = new Int8Array(this.u8.buffer);
    this.dv = new DataView(this.u8.buffer);
    this.u32 = new Uint32Array(this.u8.buffer);
    this.i32 = new Int32Array(this.u8.buffer);
    this.i16 = new Int16Array(this.u8.buffer);
  }

  /** Maps `size` fresh zeroed bytes aligned to `align`; returns the internal address. */
  map(size: number, align = 16): number {
    const base = Math.ceil(this.top / align) * align;
    const end = base + size;
    if (end > this.limit) throw new OutOfMemory(size, this.limit);
    if (end >= ADDR_LIMIT) throw new Error('simulated address space exhausted');
    if (end > this.u8.length) {
      let n = this.u8.length;
      while (n < end) n *= 2;
      n = Math.max(end, Math.min(n, this.limit));
      const next = new Uint8Array(n);
      next.set(this.u8);
      this.u8 = next;
      this.i8 = new Int8Array(next.buffer);
      this.dv = new DataView(next.buffer);
      this.u32 = new Uint32Array(next.buffer);
      this.i32 = new Int32Array(next.buffer);
      this.i16 = new Int16Array(next.buffer);
    }
    this.top = end;
    return base;
  }

  /** Throws MemoryFault unless [addr, addr+size) is mapped. */
  check(addr: number, size: number, write: boolean): void {
    if (!(addr >= NULL_GUARD && addr + size <= this.top)) throw new MemoryFault(addr, size, write);
  }

  isMapped(addr: number, size = 1): boolean {
    return addr >= NULL_GUARD && addr + size <= this.top;
  }

  readU8(a: number): number { this.check(a, 1, false); return this.u8[a]!; }
  readI8(a: number): number { this.check(a, 1, false); return this.i8[a]!; }
  readU16(a: number): number { this.check(a, 2, false); return this.dv.getUint16(a, true); }
  readI16(a: number): number { this.check(a, 2, false); return this.dv.getInt16(a, true); }
  readU32(a: number): number {
    if (!(a >= 0x10000 && a + 4 <= this.top)) throw new MemoryFault(a, 4, false);
    return (a & 3) === 0 ? this.u32[a >>> 2]! : this.dv.getUint32(a, true);
  }
  readI32(a: number): number { this.check(a, 4, false); return this.dv.getInt32(a, true); }
  readU64(a: number): bigint { this.check(a, 8, false); return this.dv.getBigUint64(a, true); }
  readI64(a: number): bigint { this.check(a, 8, false); return this.dv.getBigInt64(a, true); }
  /** A 64-bit integer as a JS number (exact below 2^53: timestamps, counters). */
  readU64n(a: number): number {
    if (!(a >= 0x10000 && a + 8 <= this.top)) throw new MemoryFault(a, 8, false);
    if ((a & 3) === 0) {
      const w = a >>> 2;
      return this.u32[w + 1]! * 0x100000000 + this.u32[w]!;
    }
    const dv = this.dv;
    return dv.getUint32(a + 4, true) * 0x100000000 + dv.getUint32(a, true);
  }
  /** An integer member of `size` bytes (1, 2, 4, 8) as a JS number (the layouts of a kernel tree vary in width). */
  readInt(a: number, size: number, signed: boolean): number {
    switch (size) {
      case 1: return signed ? this.readI8(a) : this.readU8(a);
      case 2: return signed ? this.readI16(a) : this.readU16(a);
      case 4: return signed ? this.readI32(a) : this.readU32(a);
      default: return signed ? Number(this.readI64(a)) : this.readU64n(a);
    }
  }
  writeInt(a: number, size: number, v: number): void {
    switch (size) {
      case 1: this.writeU8(a, v & 0xff); return;
      case 2: this.writeU16(a, v & 0xffff); return;
      case 4: this.writeU32(a, v >>> 0); return;
      default:
        if (v >= 0) this.writeU64n(a, v);
        else this.writeU64(a, BigInt(v));
    }
  }
  readF32(a: number): number { this.check(a, 4, false); return this.dv.getFloat32(a, true); }
  readF64(a: number): number { this.check(a, 8, false); return this.dv.getFloat64(a, true); }

  writeU8(a: number, v: number): void { this.check(a, 1, true); this.u8[a] = v; }
  writeU16(a: number, v: number): void { this.check(a, 2, true); this.dv.setUint16(a, v, true); }
  writeU32(a: number, v: number): void {
    if (!(a >= 0x10000 && a + 4 <= this.top)) throw new MemoryFault(a, 4, true);
    if ((a & 3) === 0) this.u32[a >>> 2] = v;
    else this.dv.setUint32(a, v >>> 0, true);
  }
  writeI32(a: number, v: number): void { this.check(a, 4, true); this.dv.setInt32(a, v | 0, true); }
  writeU64(a: number, v: bigint): void { this.check(a, 8, true); this.dv.setBigUint64(a, BigInt.asUintN(64, v), true); }
  writeU64n(a: number, v: number): void {
    if (!(a >= 0x10000 && a + 8 <= this.top)) throw new MemoryFault(a, 8, true);
    if (v >= 0 && v < 0x100000000) {
      if ((a & 3) === 0) {
        const w = a >>> 2;
        this.u32[w] = v;
        this.u32[w + 1] = 0;
        return;
      }
      this.dv.setUint32(a, v, true);
      this.dv.setUint32(a + 4, 0, true);
      return;
    }
    const dv = this.dv;
    dv.setUint32(a, v % 0x100000000 >>> 0, true);
    dv.setUint32(a + 4, Math.floor(v / 0x100000000) >>> 0, true);
  }
  writeF32(a: number, v: number): void { this.check(a, 4, true); this.dv.setFloat32(a, v, true); }
  writeF64(a: number, v: number): void { this.check(a, 8, true); this.dv.setFloat64(a, v, true); }

  /** Reads a pointer: NULL or a small integer as itself, an internal address for a kernel address, else a wild value. */
  readPtr(a: number): number {
    if (!(a >= 0x10000 && a + 8 <= this.top)) throw new MemoryFault(a, 8, false);
    let hi: number, lo: number;
    if ((a & 3) === 0) {
      const w = a >>> 2;
      hi = this.u32[w + 1]!;
      lo = this.u32[w]!;
    } else {
      hi = this.dv.getUint32(a + 4, true);
      lo = this.dv.getUint32(a, true);
    }
    // Kernel addresses below 4 GB of the arena (every one in practice): integer arithmetic only.
    if (hi === 0xfffffe00 && lo >= 0xf0000000) return lo - 0xf0000000;
    if ((hi >>> 8) === 0xfffffe) {
      // Other kernel addresses: no wild-pointer table.
      const v = (hi & 0xff) * 0x100000000 + lo - DISPLAY_OFFSET;
      if (v >= 0) return v;
    } else if (hi === 0 && lo < 0x10000) return lo; // NULL, or a small integer used as a pointer
    return wildPointer(hi, lo);
  }

  writePtr(a: number, p: number): void {
    if (!(a >= 0x10000 && a + 8 <= this.top)) throw new MemoryFault(a, 8, true);
    if (p < 0x10000000 && (a & 3) === 0) {
      // NULL or a small integer (below NULL_GUARD: stored as itself), or an arena address below
      // 256 MB (KBASE_HI:DISPLAY_OFFSET+p): two word stores.
      const w = a >>> 2;
      if (p < 0x10000) {
        this.u32[w] = p;
        this.u32[w + 1] = 0;
      } else {
        this.u32[w] = p + 0xf0000000;
        this.u32[w + 1] = 0xfffffe00;
      }
      return;
    }
    const dv = this.dv;
    if (p < NULL_GUARD) {
      dv.setUint32(a, p, true);
      dv.setUint32(a + 4, 0, true);
    } else if (p < ADDR_LIMIT) {
      const v = p + DISPLAY_OFFSET;
      const hi = Math.floor(v / 0x100000000);
      dv.setUint32(a, v - hi * 0x100000000, true);
      dv.setUint32(a + 4, (KBASE_HI | hi) >>> 0, true);
    } else {
      const bits = BigInt('0x' + formatAddr(p));
      this.dv.setBigUint64(a, BigInt.asUintN(64, bits), true);
    }
  }

  /** Converts a pointer to its 64-bit integer value (for casts to uintptr_t). */
  static ptrToBig(p: number): bigint {
    if (p < NULL_GUARD) return BigInt(p);
    return BigInt('0x' + formatAddr(p));
  }

  /** Converts a 64-bit integer to a pointer value (for casts from integers). */
  static bigToPtr(v: bigint): number {
    const u = BigInt.asUintN(64, v);
    if (u === 0n) return 0;
    const hi = Number(u >> 32n);
    const lo = Number(u & 0xffffffffn);
    if ((hi >>> 8) === 0xfffffe) {
      const v = (hi & 0xff) * 0x100000000 + lo - DISPLAY_OFFSET;
      if (v >= 0) return v;
    }
    // Small integers used as pointers fall in the unmapped guard page and fault there.
    if (u < BigInt(NULL_GUARD)) return Number(u);
    return wildPointer(hi, lo);
  }

  readCString(a: number, max = 4096): string {
    let s = '';
    for (let i = 0; i < max; i++) {
      const c = this.readU8(a + i);
      if (c === 0) return s;
      s += String.fromCharCode(c);
    }
    return s;
  }

  fill(a: number, size: number, byte: number): void {
    this.check(a, size, true);
    this.u8.fill(byte, a, a + size);
  }

  /** Fills with a repeating 32-bit pattern (kmem's 0xdeadbeef / 0xbaddcafe). */
  fillPattern32(a: number, size: number, pattern: number): void {
    this.check(a, size, true);
    if ((a & 3) === 0 && LITTLE_ENDIAN) {
      // Aligned (every new C frame): word stores.
      const u = this.u32;
      for (let w = a >>> 2, e = w + (size >>> 2); w < e; w++) u[w] = pattern;
      return;
    }
    for (let i = 0; i + 4 <= size; i += 4) this.dv.setUint32(a + i, pattern, true);
  }

  copy(dst: number, src: number, size: number): void {
    this.check(src, size, false);
    this.check(dst, size, true);
    this.u8.copyWithin(dst, src, src + size);
  }

  /**
   * A store of [a, a+n) made straight into the arrays (u8, dv: a kernel function's bulk copy
   * or fill) rather than through the write methods: reported to the watch like theirs. Does
   * nothing while no watch is armed.
   */
  stored(_a: number, _n: number): void {}

  /**
   * Reports every store (the write methods, fill, fillPattern32, copy, stored) to `fn` as
   * [a, a+n) after it is made; null stops it. Armed as methods of this object that shadow the
   * class's, so a memory never watched runs the class's methods untouched: stores cost nothing
   * more when no data breakpoint is set (Machine.setWatchpoints arms it). Disarmed, the own
   * methods become the class's own functions again rather than being deleted: deleting them
   * would turn the object into a dictionary, and every `mem.u8`/`mem.top` read of the generated
   * code after it slower.
   */
  watch(fn: ((a: number, n: number) => void) | null): void {
    const self = this as unknown as Record<string, unknown>;
    for (const [name, size] of WATCHED) {
      const base = (Memory.prototype as unknown as Record<string, (...x: unknown[]) => void>)[name]!;
      if (fn === null) {
        if (Object.prototype.hasOwnProperty.call(self, name)) self[name] = base;
        continue;
      }
      // writeX(a, v): `size` bytes at a; fill/fillPattern32/stored(a, n, ...): n bytes at a; copy(dst, src, n).
      self[name] = size > 0
        ? function (this: Memory, a: number, v: unknown): void { base.call(this, a, v); fn(a, size); }
        : size === 0
          ? function (this: Memory, a: number, n: number, x: unknown): void { base.call(this, a, n, x); fn(a, n); }
          : function (this: Memory, dst: number, src: number, n: number): void { base.call(this, dst, src, n); fn(dst, n); };
    }
  }

  snapshot(): MemorySnapshot {
    return { bytes: this.u8.slice(0, this.top), top: this.top };
  }

  restore(s: MemorySnapshot): void {
    if (this.u8.length < s.top) this.map(s.top - this.top, 1);
    this.u8.set(s.bytes);
    this.u8.fill(0, s.top, this.top);
    this.top = s.top;
  }
}
