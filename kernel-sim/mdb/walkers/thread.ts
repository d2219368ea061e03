/** `::walk thread`: every kthread_t on allthreads, following t_next (mdb's thread walker). */
import type { Walker } from '../types';
import { MdbError } from '../types';
import { allThreadAddrs } from '../kthread';
import { p } from '../format';

export const threadWalker: Walker = {
  name: 'thread',
  description: 'global or per-process kthread_t structures',
  walk({ m, addr }) {
    if (addr === undefined) return allThreadAddrs(m);
    // The simulator has no proc_t: a thread with an LWP is its own process, so a per-process
    // walk from a thread address visits that thread.
    if (!m.mem.isMapped(addr, m.L.kthread.size)) throw new MdbError(`failed to read proc at ${p(addr)}: no mapping for address`);
    return [addr];
  },
};
