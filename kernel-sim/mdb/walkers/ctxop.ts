/**
 * `::walk ctxop`: a thread's context ops, newest to oldest (the save order), as mdb's walker in
 * genunix/ctxop.c: starts at t_ctx, follows `next`, stops at NULL or back at the head.
 */
import type { Walker } from '../types';
import { MdbError } from '../types';
import { p } from '../format';

export const ctxopWalker: Walker = {
  name: 'ctxop',
  description: 'walk list of context ops on a thread',
  walk({ m, addr }) {
    if (addr === undefined) throw new MdbError('must specify thread for ctxop walk');
    if (!m.mem.isMapped(addr, m.L.kthread.size)) throw new MdbError(`failed to read thread at ${p(addr)}: no mapping for address`);
    const layout = m.L.ctxop;
    const head = m.mem.readPtr(addr + m.T.t_ctx);
    const out: number[] = [];
    let c = head;
    while (c && out.length < 4096) {
      if (!m.mem.isMapped(c, layout.size)) throw new MdbError(`failed to read ctxop at ${p(c)}: no mapping for address`);
      out.push(c);
      c = m.mem.readPtr(c + layout.offsets.next!);
      if (c === head) break;
    }
    return out;
  },
};
