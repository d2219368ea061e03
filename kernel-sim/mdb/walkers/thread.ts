/**
 * `::walk thread`: every kthread_t on allthreads, following t_next (mdb's thread walker); from a
 * proc_t's address, that process's threads (those whose t_procp is it, in allthreads order).
 */
import type { Walker } from '../types';
import { MdbError } from '../types';
import { allThreadAddrs, procComm } from '../kthread';
import { p } from '../format';

export const threadWalker: Walker = {
  name: 'thread',
  description: 'global or per-process kthread_t structures',
  walk({ m, addr }) {
    if (addr === undefined) return allThreadAddrs(m);
    if (procComm(m, addr) === undefined) throw new MdbError(`failed to read proc at ${p(addr)}: no mapping for address`);
    return allThreadAddrs(m).filter((a) => m.mem.readPtr(a + m.T.t_procp) === addr);
  },
};
