/** `addr::walk freemem`: the free buffers of one cache (addr = the kmem_cache_t). */
import type { Walker } from '../types';
import { MdbError } from '../types';
import { p } from '../format';

export const freememWalker: Walker = {
  name: 'freemem',
  description: 'walk a cache\'s free memory',
  walk({ m, addr }) {
    if (addr === undefined) throw new MdbError('freemem walk doesn\'t support global walks');
    const c = [...m.kmem.caches.values()].find((x) => x.addr === addr);
    if (!c) throw new MdbError(`couldn't read kmem_cache at ${p(addr)}`);
    return c.bufs.filter((b) => !m.kmem.bufctls.get(b)?.allocated);
  },
};
