/**
 * The kernel text: every function the simulated kernel knows, native (implemented in
 * TypeScript: savectx, fpsave_ctxt, kmem_alloc, ...) or interpreted (the driver's C functions).
 * Each function gets an address in simulated memory, so a function pointer stored in a
 * `struct ctxop` is a real kernel address that mdb prints as `vmm_savectx` or `vmm_savectx+0x10`.
 */
import { formatAddr, type Memory } from './memory';
import type { Machine } from './machine';
import type { KThread } from './thread';

/** Returned by a function that pushed a frame instead of finishing: its value arrives later. */
export const PUSHED: unique symbol = Symbol('PUSHED');
export type KResult = number | typeof PUSHED;

/** A native kernel function: gets the calling thread and the argument words. */
export type NativeImpl = (m: Machine, t: KThread, args: number[]) => KResult;

export interface TextSymbol {
  name: string;
  addr: number;
  size: number;
  /** 'native': kernel code in TypeScript; 'c': a function of the driver's C source. */
  kind: 'native' | 'c';
  impl?: NativeImpl;
  /** For 'c' symbols: the interpreter's compiled function (opaque to the machine). */
  cfunc?: unknown;
  /** Module name for mdb's `module`function` form ('genunix', 'unix', or the driver's). */
  module: string;
}

const FUNC_SIZE = 0x100;
const SLOTS = 256;

export class Symbols {
  private byName = new Map<string, TextSymbol>();
  private byAddr = new Map<number, TextSymbol>();
  /**
   * A direct-mapped cache in front of byAddr for atAddr (every ctxop handler call on the
   * context-switch path looks its function pointer up): slot = function number mod SLOTS.
   */
  private recent: Array<TextSymbol | null> = new Array<TextSymbol | null>(SLOTS).fill(null);
  private sorted: TextSymbol[] = [];
  /** Data symbols (C globals and kernel variables): name -> address and size. */
  readonly data = new Map<string, { addr: number; size: number; module: string }>();

  constructor(private mem: Memory) {}

  define(name: string, kind: 'native' | 'c', module: string, impl?: NativeImpl): TextSymbol {
    const existing = this.byName.get(name);
    if (existing) {
      if (impl) existing.impl = impl;
      return existing;
    }
    const addr = this.mem.map(FUNC_SIZE, FUNC_SIZE);
    const s: TextSymbol = { name, addr, size: FUNC_SIZE, kind, impl, module };
    this.byName.set(name, s);
    this.byAddr.set(addr, s);
    this.sorted.push(s);
    return s;
  }

  /** A function at a known address (a post-mortem machine's text, read from a dump): no code. */
  defineAt(name: string, addr: number, size: number, kind: 'native' | 'c', module: string): TextSymbol {
    const s: TextSymbol = { name, addr, size, kind, module };
    this.byName.set(name, s);
    this.byAddr.set(addr, s);
    this.sorted.push(s);
    return s;
  }

  defineData(name: string, addr: number, size: number, module: string): void {
    this.data.set(name, { addr, size, module });
  }

  /** How many text symbols exist (a mark to roll back to with `truncate`). */
  get count(): number {
    return this.sorted.length;
  }

  /** Removes every text symbol defined after the mark `count` (a module that failed to load). */
  truncate(count: number): void {
    for (const s of this.sorted.splice(count)) {
      this.byName.delete(s.name);
      this.byAddr.delete(s.addr);
      const slot = (s.addr >>> 8) & (SLOTS - 1);
      if (this.recent[slot] === s) this.recent[slot] = null;
    }
  }

  lookup(name: string): TextSymbol | undefined {
    return this.byName.get(name);
  }

  /** The function whose first byte is at `addr` (a callable function pointer). */
  atAddr(addr: number): TextSymbol | undefined {
    const slot = (addr >>> 8) & (SLOTS - 1);
    const c = this.recent[slot]!;
    if (c !== null && c.addr === addr) return c;
    const s = this.byAddr.get(addr);
    if (s !== undefined) this.recent[slot] = s;
    return s;
  }

  /** The function containing `addr` (for `func+0xoff`). */
  containing(addr: number): TextSymbol | undefined {
    const base = Math.floor(addr / FUNC_SIZE) * FUNC_SIZE;
    return this.byAddr.get(base);
  }

  /** mdb's `%a`: `name`, `name+0xoff`, or the hex address. */
  format(addr: number): string {
    const s = this.containing(addr);
    if (s) return addr === s.addr ? s.name : `${s.name}+0x${(addr - s.addr).toString(16)}`;
    for (const [name, d] of this.data) if (addr >= d.addr && addr < d.addr + d.size) return addr === d.addr ? name : `${name}+0x${(addr - d.addr).toString(16)}`;
    return formatAddr(addr);
  }

  all(): readonly TextSymbol[] {
    return this.sorted;
  }
}
