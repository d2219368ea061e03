/**
 * Leak detection by reachability, after mdb's leaky.c / leaky_subr.c: every allocated kmem
 * buffer is a node; the roots are the kernel's data (C globals of the driver, kernel data
 * symbols, cpu_t), every live thread's kthread_t and stack region, and the pointers the
 * simulator's frames hold (a builtin's variables, a kcall's arguments, an interpreted C frame's
 * values). Reached buffers are scanned conservatively, one aligned 8-byte word at a time; a
 * word that points into an allocated buffer reaches it. What is left unreached leaked.
 *
 * Leaks are coalesced by cache and allocation stack, the oldest buffer standing for its group,
 * and sorted by caller as ::findleaks prints them. The debug adapter's `leak` stop uses
 * findLeaks() too.
 */
import { frameKind, type Machine } from '../machine/machine';
import type { Bufctl, KmemCache } from '../machine/kmem';
import { TS_FREE } from '../machine/layout';
import { frameName } from './format';

export interface Leak {
  cache: string;
  /** The kmem_cache_t address (the CACHE column). */
  cacheAddr: number;
  bufsize: number;
  /** The representative (oldest) buffer and its bufctl. */
  buf: number;
  bufctl: number;
  /** Buffers in the group (the LEAKED column). */
  count: number;
  /** Every leaked buffer of the group and their bufctls, representative first. */
  buffers: number[];
  bufctls: number[];
  /** mdb's CALLER: the first frame of the allocation stack outside kmem_/vmem_. */
  caller: string;
  /** The allocation stack, innermost first (`func+0xoff`). */
  stack: string[];
  /** Allocating thread and tick of the representative. */
  thread: number;
  tick: number;
  /** Total bytes (count * bufsize). */
  bytes: number;
}

export interface LeakStats {
  /** Buffers considered (allocated). */
  buffers: number;
  potentialPointers: number;
  dismissals: number;
  misses: number;
  dups: number;
  follows: number;
}

export interface LeakReport {
  leaks: Leak[];
  totalBuffers: number;
  totalBytes: number;
  stats: LeakStats;
}

interface Node {
  bc: Bufctl;
  base: number;
  limit: number;
  marked: boolean;
}

/** Parses an audit stack entry `name+0xoff` back into mdb's `%a` form. */
function auditFrame(s: string): { name: string; text: string } {
  const mt = /^(.*)\+0x([0-9a-f]+)$/.exec(s);
  if (!mt) return { name: s, text: s };
  return { name: mt[1]!, text: frameName(mt[1]!, parseInt(mt[2]!, 16)) };
}

function callerOf(stack: string[]): { name: string; text: string; off: number } {
  let last = { name: '?', text: '?', off: 0 };
  for (const s of stack) {
    const f = auditFrame(s);
    const mt = /\+0x([0-9a-f]+)$/.exec(s);
    last = { ...f, off: mt ? parseInt(mt[1]!, 16) : 0 };
    if (f.name.startsWith('kmem_') || f.name.startsWith('vmem_')) continue;
    return last;
  }
  return last;
}

export function findLeaks(m: Machine): LeakReport {
  const caches = new Map<string, KmemCache>(m.kmem.caches);
  const nodes: Node[] = m.kmem.allocated().map((bc) => ({ bc, base: bc.buf, limit: bc.buf + caches.get(bc.cache)!.bufsize, marked: false }));
  nodes.sort((a, b) => a.base - b.base);
  const stats: LeakStats = { buffers: nodes.length, potentialPointers: 0, dismissals: 0, misses: 0, dups: 0, follows: 0 };
  const min = nodes.length ? nodes[0]!.base : 0;
  const max = nodes.length ? nodes[nodes.length - 1]!.limit : 0;
  const search = (a: number): Node | undefined => {
    let lo = 0;
    let hi = nodes.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const n = nodes[mid]!;
      if (a < n.base) hi = mid - 1;
      else if (a >= n.limit) lo = mid + 1;
      else return n;
    }
    return undefined;
  };
  const work: Node[] = [];
  /** A pointer value found somewhere: marks the buffer it points into. */
  const ptr = (v: number) => {
    stats.potentialPointers++;
    if (v < min || v > max) {
      stats.dismissals++;
      return;
    }
    const n = search(v);
    if (!n) {
      stats.misses++;
      return;
    }
    if (n.marked) {
      stats.dups++;
      return;
    }
    n.marked = true;
    stats.follows++;
    work.push(n);
  };
  const mem = m.mem;
  const grep = (addr: number, size: number) => {
    let a = Math.ceil(addr / 8) * 8;
    const end = addr + size;
    for (; a + 8 <= end; a += 8) {
      if (!mem.isMapped(a, 8)) return;
      ptr(mem.readPtr(a));
    }
  };
  const drain = () => {
    while (work.length) {
      const n = work.pop()!;
      grep(n.base, n.limit - n.base);
    }
  };
  const scanRoot = (addr: number, size: number) => {
    grep(addr, size);
    drain();
  };

  // Kernel and driver data.
  for (const [a, size] of m.dataRoots) scanRoot(a, size);
  for (const d of m.sym.data.values()) scanRoot(d.addr, d.size);
  for (const c of m.cpus) scanRoot(c.addr, m.L.cpu.size);
  // Threads: the kthread_t (reached through allthreads as well), the stack, the frames' pointers.
  for (const t of m.threads) {
    if (t.freed) continue;
    ptr(t.addr);
    drain();
    scanRoot(t.addr, m.L.kthread.size);
    if (m.tState(t) !== TS_FREE && t.stackSize) scanRoot(t.stackBase, t.stackSize);
    for (const f of t.stack) {
      let roots: number[] = [];
      try {
        roots = frameKind(f.kind).roots?.(f) ?? [];
      } catch {
        roots = [];
      }
      for (const r of roots) if (typeof r === 'number') ptr(r);
      drain();
    }
    if (typeof t.retval === 'number') {
      ptr(t.retval);
      drain();
    }
  }

  // Unreached buffers, coalesced by cache and stack; the oldest represents its group.
  const groups = new Map<string, Node[]>();
  for (const n of nodes) {
    if (n.marked) continue;
    const key = `${n.bc.cache}\u0000${n.bc.stack.join('\u0000')}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(n);
  }
  const leaks: Leak[] = [];
  for (const g of groups.values()) {
    g.sort((a, b) => a.bc.tick - b.bc.tick || a.base - b.base);
    const rep = g[0]!;
    const cache = caches.get(rep.bc.cache)!;
    leaks.push({
      cache: cache.name, cacheAddr: cache.addr, bufsize: cache.bufsize,
      buf: rep.base, bufctl: rep.bc.addr, count: g.length,
      buffers: g.map((n) => n.base), bufctls: g.map((n) => n.bc.addr),
      caller: callerOf(rep.bc.stack).text, stack: rep.bc.stack.map((s) => auditFrame(s).text),
      thread: rep.bc.thread, tick: rep.bc.tick, bytes: g.length * cache.bufsize,
    });
  }
  // leaky_subr_bufctl_cmp: caller name, then caller offset, then cache.
  leaks.sort((a, b) => {
    const ca = callerOf(caches.get(a.cache)! && m.kmem.bufctls.get(a.buf)!.stack);
    const cb = callerOf(caches.get(b.cache)! && m.kmem.bufctls.get(b.buf)!.stack);
    if (ca.name !== cb.name) return ca.name < cb.name ? -1 : 1;
    return ca.off - cb.off || a.cacheAddr - b.cacheAddr || a.buf - b.buf;
  });
  const totalBuffers = leaks.reduce((s, l) => s + l.count, 0);
  const totalBytes = leaks.reduce((s, l) => s + l.bytes, 0);
  return { leaks, totalBuffers, totalBytes, stats };
}
