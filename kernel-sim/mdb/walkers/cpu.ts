/** `::walk cpu`: every cpu_t, in CPU id order. */
import type { Walker } from '../types';

export const cpuWalker: Walker = {
  name: 'cpu',
  description: 'walk cpu structures',
  walk({ m }) {
    return m.cpus.map((c) => c.addr);
  },
};
