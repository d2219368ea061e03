/**
 * The t_ctx list: a doubly linked ring from illumos#12477 on (head = newest, head->prev =
 * oldest), a NULL-terminated singly linked list before. Insertion and unlinking follow
 * thread.c of each era.
 */
import type { Machine } from '../machine/machine';
import type { KThread } from '../machine/thread';
import { walkOrder, type HookOp } from '../../core/eras';

/** A ring longer than this is corrupt (a cycle that misses the head). */
const MAX_RING = 4096;

/** The thread's ctxops, newest first (the save order). */
export function ringNewestFirst(m: Machine, t: KThread): number[] {
  return ctxList(m, m.tCtx(t), m.era.ring);
}

/**
 * The first ctxop the walk for `op` visits on the list headed by `head` (core/eras.ts walkOrder):
 * the newest (head), or for an oldest-first walk the ring's tail, head->prev.
 */
export function walkFirst(m: Machine, head: number, op: HookOp): number {
  return walkOrder(m.era, op) === 'oldest-first' ? m.mem.readPtr(head + m.O.prev) : head;
}

/** The thread's ctxops in the order the walk for `op` visits them. */
export function walkList(m: Machine, t: KThread, op: HookOp): number[] {
  const list = ringNewestFirst(m, t);
  return walkOrder(m.era, op) === 'oldest-first' ? list.reverse() : list;
}

export function ctxList(m: Machine, head: number, ring: boolean): number[] {
  const out: number[] = [];
  let c = head;
  while (c && out.length < MAX_RING) {
    out.push(c);
    c = m.mem.readPtr(c + m.O.next);
    if (ring && c === head) break;
  }
  return out;
}

/** Inserts `ctx` as the newest entry (installctx / ctxop_attach). */
export function ringInsert(m: Machine, t: KThread, ctx: number): void {
  const mem = m.mem;
  const head = m.tCtx(t);
  if (!m.era.ring) {
    mem.writePtr(ctx + m.O.next, head);
  } else if (head === 0) {
    mem.writePtr(ctx + m.O.next, ctx);
    mem.writePtr(ctx + m.O.prev, ctx);
  } else {
    const tail = mem.readPtr(head + m.O.prev);
    mem.writePtr(ctx + m.O.next, head);
    mem.writePtr(ctx + m.O.prev, tail);
    mem.writePtr(head + m.O.prev, ctx);
    mem.writePtr(tail + m.O.next, ctx);
  }
  mem.writePtr(t.addr + m.T.t_ctx, ctx);
}

/** Unlinks `ctx` from the thread's list (ctxop_detach_chain); `ctx` must be on it. */
export function ringUnlink(m: Machine, t: KThread, ctx: number): void {
  const mem = m.mem;
  if (!m.era.ring) {
    const head = m.tCtx(t);
    if (head === ctx) mem.writePtr(t.addr + m.T.t_ctx, mem.readPtr(ctx + m.O.next));
    else {
      let p = head;
      while (p && mem.readPtr(p + m.O.next) !== ctx) p = mem.readPtr(p + m.O.next);
      if (p) mem.writePtr(p + m.O.next, mem.readPtr(ctx + m.O.next));
    }
    mem.writePtr(ctx + m.O.next, 0);
    return;
  }
  const next = mem.readPtr(ctx + m.O.next);
  const prev = mem.readPtr(ctx + m.O.prev);
  mem.writePtr(prev + m.O.next, next);
  mem.writePtr(next + m.O.prev, prev);
  if (next === ctx) mem.writePtr(t.addr + m.T.t_ctx, 0);
  else if (ctx === m.tCtx(t)) mem.writePtr(t.addr + m.T.t_ctx, next);
  mem.writePtr(ctx + m.O.next, 0);
  mem.writePtr(ctx + m.O.prev, 0);
}

export interface CtxHandlers {
  save: number;
  restore: number;
  fork: number;
  lwpCreate: number;
  exit: number;
  free: number;
}

export function readHandlers(m: Machine, ctx: number): CtxHandlers {
  const r = (o: number) => m.mem.readPtr(ctx + o);
  return { save: r(m.O.save_op), restore: r(m.O.restore_op), fork: r(m.O.fork_op), lwpCreate: r(m.O.lwp_create_op), exit: r(m.O.exit_op), free: r(m.O.free_op) };
}

export function writeCtxop(m: Machine, ctx: number, h: CtxHandlers, arg: number): void {
  const w = (o: number, v: number) => m.mem.writePtr(ctx + o, v);
  w(m.O.save_op, h.save);
  w(m.O.restore_op, h.restore);
  w(m.O.fork_op, h.fork);
  w(m.O.lwp_create_op, h.lwpCreate);
  w(m.O.exit_op, h.exit);
  w(m.O.free_op, h.free);
  w(m.O.arg, arg);
  w(m.O.next, 0);
  if (m.era.ring) {
    w(m.O.prev, 0);
    m.mem.writeU64n(ctx + m.O.save_ts, 0);
    m.mem.writeU64n(ctx + m.O.restore_ts, 0);
  }
}

/** Finds the newest ctxop with exactly these handlers and arg (removectx / ctxop_find_by_tmpl). */
export function findByHandlers(m: Machine, t: KThread, h: CtxHandlers, arg: number): number {
  for (const c of ringNewestFirst(m, t)) {
    const x = readHandlers(m, c);
    if (x.save === h.save && x.restore === h.restore && x.fork === h.fork && x.lwpCreate === h.lwpCreate &&
      x.exit === h.exit && x.free === h.free && m.mem.readPtr(c + m.O.arg) === arg) return c;
  }
  return 0;
}
