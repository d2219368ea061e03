/** `addr::walk kmem`: the allocated buffers of one cache (addr = the kmem_cache_t). */
import type { Walker } from '../types';
import { MdbError } from '../types';
import { p } from '../format';

export const kmemWalker: Walker = {
  name: 'kmem',
  description: 'walk a cache (allocated buffers)',
  walk({ m, addr }) {
    if (addr === undefined) throw new MdbError('kmem walk doesn\'t support global walks');
    const c = [...m.kmem.caches.values()].find((x) => x.addr === addr);
    if (!c) throw new MdbError(`couldn't read kmem_cache at ${p(addr)}`);
    return c.bufs.filter((b) => m.kmem.bufctls.get(b)?.allocated);
  },
};
