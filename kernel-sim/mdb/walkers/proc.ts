/** `::walk proc`: every proc_t, p0 first (kthread.ts procAddrs). */
import type { Walker } from '../types';
import { procAddrs } from '../kthread';

export const procWalker: Walker = {
  name: 'proc',
  description: 'list of active proc_t structures',
  walk({ m }) {
    return procAddrs(m);
  },
};
