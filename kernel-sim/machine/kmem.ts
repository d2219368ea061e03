/**
 * kmem: the kernel memory allocator, in the shape ::findleaks and ::kmem_verify expect.
 *
 * Caches of fixed-size buffers (`kmem_alloc_96` holds a `struct ctxop`), slabs mapped in
 * simulated memory, one audit bufctl per buffer (caller, thread, time, stack), and the
 * debugging patterns of a DEBUG kernel with kmem_flags=0xf:
 *  - a freed buffer is filled with 0xdeadbeef; reallocating one whose pattern changed is a
 *    "modified after free" panic;
 *  - kmem_alloc'd memory starts as 0xbaddcafe (kmem_zalloc: zeros);
 *  - bytes between the requested size and the cache size are 0xbb, and an 8-byte redzone word
 *    0xfeedfacefeedface follows every buffer; kmem_free checks both (a "redzone violation").
 */
import { Memory, OutOfMemory, formatAddr } from './memory';

export const KMEM_FREE_PATTERN = 0xdeadbeef;
export const KMEM_UNINITIALIZED_PATTERN = 0xbaddcafe;
export const KMEM_REDZONE_PATTERN = 0xfeedface;
export const KMEM_REDZONE_BYTE = 0xbb;
export const KM_SLEEP = 0x0;
export const KM_NOSLEEP = 0x1;

const REDZONE = 8;
const ALLOC_SIZES = [8, 16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896,
  1152, 1344, 1600, 2048, 2688, 4096, 5440, 6144, 8192, 9216, 10240, 12288, 16384, 32768, 65536, 131072];

export interface Bufctl {
  /** Address of the bufctl itself (for mdb). */
  addr: number;
  buf: number;
  cache: string;
  /** Requested size (kmem_alloc), or the cache size. */
  size: number;
  allocated: boolean;
  thread: number;
  tick: number;
  /** Stack of the allocating (or freeing) call, innermost first: `func+0xoff` strings. */
  stack: string[];
  /** For a kmem_alloc: where each `stack` entry is in the driver's C source (undefined: kernel). */
  sites?: Array<{ file: string; line: number } | undefined>;
}

export interface KmemCache {
  name: string;
  /** Address of the kmem_cache_t (for ::kmem_cache and ::kmem_verify). */
  addr: number;
  bufsize: number;
  /** Buffers ever carved, in address order. */
  bufs: number[];
  free: number[];
  allocCount: number;
  freeCount: number;
}

export class KmemError extends Error {}

export interface KmemCorruption {
  cache: string;
  buf: number;
  at: number;
  free: boolean;
  what: string;
}

export class Kmem {
  caches = new Map<string, KmemCache>();
  /** Buffer address -> bufctl (allocated and free). */
  bufctls = new Map<number, Bufctl>();
  /** Sorted slab ranges for address -> buffer lookup. */
  slabs: Array<{ base: number; end: number; cache: KmemCache }> = [];
  private bufctlArena = 0;
  private bufctlLeft = 0;

  constructor(private mem: Memory) {
    for (const s of ALLOC_SIZES) this.createCache(`kmem_alloc_${s}`, s);
  }

  createCache(name: string, bufsize: number): KmemCache {
    const existing = this.caches.get(name);
    if (existing) return existing;
    const c: KmemCache = { name, addr: this.mem.map(0x100, 0x40), bufsize, bufs: [], free: [], allocCount: 0, freeCount: 0 };
    this.caches.set(name, c);
    return c;
  }

  cacheForSize(size: number): KmemCache {
    const s = ALLOC_SIZES.find((x) => x >= size);
    if (s !== undefined) return this.caches.get(`kmem_alloc_${s}`)!;
    // Past the largest cache illumos goes to the oversize arena: whole pages, one buffer a slab.
    // A size no memory can hold (1 TB) fails at once: NULL for KM_NOSLEEP, a wait for KM_SLEEP.
    if (!Number.isFinite(size) || size > this.mem.limit) throw new OutOfMemory(size, this.mem.limit);
    const pages = Math.ceil(size / 4096) * 4096;
    return this.caches.get(`kmem_oversize_${pages}`) ?? this.createCache(`kmem_oversize_${pages}`, pages);
  }

  private grow(c: KmemCache): void {
    const chunk = c.bufsize + REDZONE;
    const n = c.name.startsWith('kmem_oversize_') ? 1 : Math.max(4, Math.min(64, Math.floor(8192 / chunk)));
    const base = this.mem.map(chunk * n, 64);
    this.slabs.push({ base, end: base + chunk * n, cache: c });
    for (let i = n - 1; i >= 0; i--) {
      const buf = base + i * chunk;
      this.mem.fillPattern32(buf, c.bufsize, KMEM_FREE_PATTERN);
      this.writeRedzone(buf + c.bufsize);
      c.free.push(buf);
    }
    for (let i = 0; i < n; i++) c.bufs.push(base + i * chunk);
  }

  private writeRedzone(a: number): void {
    this.mem.dv.setUint32(a, KMEM_REDZONE_PATTERN, true);
    this.mem.dv.setUint32(a + 4, KMEM_REDZONE_PATTERN, true);
  }

  private newBufctlAddr(): number {
    if (this.bufctlLeft === 0) {
      this.bufctlArena = this.mem.map(64 * 64, 64);
      this.bufctlLeft = 64;
    }
    const a = this.bufctlArena;
    this.bufctlArena += 64;
    this.bufctlLeft--;
    return a;
  }

  /** Allocates from a cache; `size` is the requested size (<= bufsize). */
  cacheAlloc(c: KmemCache, size: number, zero: boolean, thread: number, tick: number, stack: string[]): number {
    if (c.free.length === 0) this.grow(c);
    const buf = c.free.pop()!;
    const bc = this.bufctls.get(buf);
    if (bc) {
      // KMF_DEADBEEF: a freed buffer must still hold the free pattern.
      for (let i = 0; i + 4 <= c.bufsize; i += 4) {
        if (this.mem.dv.getUint32(buf + i, true) !== KMEM_FREE_PATTERN) {
          throw new KmemError(
            `kernel heap corruption detected: buffer modified after being freed: buf=${formatAddr(buf)} ` +
              `offset 0x${i.toString(16)} (cache ${c.name}, freed by ${bc.stack[0] ?? '?'})`,
          );
        }
      }
    }
    if (zero) this.mem.fill(buf, c.bufsize, 0);
    else this.mem.fillPattern32(buf, c.bufsize, KMEM_UNINITIALIZED_PATTERN);
    if (size < c.bufsize) this.mem.fill(buf + size, c.bufsize - size, KMEM_REDZONE_BYTE);
    this.writeRedzone(buf + c.bufsize);
    const b: Bufctl = { addr: bc?.addr ?? this.newBufctlAddr(), buf, cache: c.name, size, allocated: true, thread, tick, stack };
    this.bufctls.set(buf, b);
    c.allocCount++;
    return buf;
  }

  alloc(size: number, zero: boolean, thread: number, tick: number, stack: string[]): number {
    if (size <= 0) return 0;
    return this.cacheAlloc(this.cacheForSize(size), size, zero, thread, tick, stack);
  }

  /** Frees a buffer; checks for duplicate frees, wrong sizes and redzone damage. */
  free(buf: number, size: number | undefined, thread: number, tick: number, stack: string[]): void {
    const bc = this.bufctls.get(buf);
    if (!bc) {
      const owner = this.findBuffer(buf);
      if (owner) throw new KmemError(`kernel heap corruption detected: free of address ${formatAddr(buf)} which is not the start of a buffer (inside ${formatAddr(owner.buf)}, cache ${owner.cache.name})`);
      throw new KmemError(`kernel heap corruption detected: free of address ${formatAddr(buf)} which kmem did not allocate`);
    }
    if (!bc.allocated) throw new KmemError(`kernel heap corruption detected: duplicate free: buf=${formatAddr(buf)} (cache ${bc.cache}, first freed by ${bc.stack[0] ?? '?'})`);
    const c = this.caches.get(bc.cache)!;
    if (size !== undefined && c.name.startsWith('kmem_alloc_') && size !== bc.size) {
      throw new KmemError(`kernel heap corruption detected: bad free size: buf=${formatAddr(buf)} allocated with size ${bc.size}, freed with size ${size}`);
    }
    const damage = this.redzoneDamage(c, bc);
    if (damage !== undefined) {
      throw new KmemError(`kernel heap corruption detected: redzone violation: write past end of buffer: buf=${formatAddr(buf)} at ${formatAddr(damage)} (cache ${c.name}, size ${bc.size})`);
    }
    this.mem.fillPattern32(buf, c.bufsize, KMEM_FREE_PATTERN);
    bc.allocated = false;
    bc.thread = thread;
    bc.tick = tick;
    bc.stack = stack;
    c.free.push(buf);
    c.freeCount++;
  }

  private redzoneDamage(c: KmemCache, bc: Bufctl): number | undefined {
    const u8 = this.mem.u8;
    for (let a = bc.buf + bc.size; a < bc.buf + c.bufsize; a++) if (u8[a] !== KMEM_REDZONE_BYTE) return a;
    const rz = bc.buf + c.bufsize;
    if (this.mem.dv.getUint32(rz, true) !== KMEM_REDZONE_PATTERN || this.mem.dv.getUint32(rz + 4, true) !== KMEM_REDZONE_PATTERN) return rz;
    return undefined;
  }

  /** The buffer containing `addr`, allocated or not. */
  findBuffer(addr: number): { buf: number; cache: KmemCache; bufctl?: Bufctl } | undefined {
    let lo = 0;
    let hi = this.slabs.length - 1;
    const slabs = this.slabs;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = slabs[mid]!;
      if (addr < s.base) hi = mid - 1;
      else if (addr >= s.end) lo = mid + 1;
      else {
        const chunk = s.cache.bufsize + REDZONE;
        const buf = s.base + Math.floor((addr - s.base) / chunk) * chunk;
        if (addr >= buf + s.cache.bufsize) return undefined;
        return { buf, cache: s.cache, bufctl: this.bufctls.get(buf) };
      }
    }
    return undefined;
  }

  /** Every corrupted buffer (::kmem_verify), without panicking. */
  verify(cacheName?: string): KmemCorruption[] {
    const out: KmemCorruption[] = [];
    for (const c of this.caches.values()) {
      if (cacheName && c.name !== cacheName) continue;
      for (const buf of c.bufs) {
        const bc = this.bufctls.get(buf);
        if (bc && bc.allocated) {
          const d = this.redzoneDamage(c, bc);
          if (d !== undefined) out.push({ cache: c.name, buf, at: d, free: false, what: 'redzone' });
        } else {
          for (let i = 0; i + 4 <= c.bufsize; i += 4) {
            if (this.mem.dv.getUint32(buf + i, true) !== KMEM_FREE_PATTERN) {
              out.push({ cache: c.name, buf, at: buf + i, free: true, what: 'modified after free' });
              break;
            }
          }
        }
      }
    }
    return out;
  }

  allocated(): Bufctl[] {
    const out: Bufctl[] = [];
    for (const b of this.bufctls.values()) if (b.allocated) out.push(b);
    return out.sort((a, b) => a.buf - b.buf);
  }

  snapshot(): unknown {
    return {
      caches: [...this.caches.values()].map((c) => ({ ...c, bufs: c.bufs.slice(), free: c.free.slice() })),
      bufctls: [...this.bufctls.values()].map((b) => ({ ...b })),
      slabs: this.slabs.map((s) => ({ base: s.base, end: s.end, cache: s.cache.name })),
      bufctlArena: this.bufctlArena,
      bufctlLeft: this.bufctlLeft,
    };
  }

  restore(snap: unknown): void {
    const s = snap as {
      caches: KmemCache[]; bufctls: Bufctl[]; slabs: Array<{ base: number; end: number; cache: string }>;
      bufctlArena: number; bufctlLeft: number;
    };
    this.caches = new Map(s.caches.map((c) => [c.name, { ...c, bufs: c.bufs.slice(), free: c.free.slice() }]));
    this.bufctls = new Map(s.bufctls.map((b) => [b.buf, { ...b }]));
    this.slabs = s.slabs.map((x) => ({ base: x.base, end: x.end, cache: this.caches.get(x.cache)! }));
    this.bufctlArena = s.bufctlArena;
    this.bufctlLeft = s.bufctlLeft;
  }
}
