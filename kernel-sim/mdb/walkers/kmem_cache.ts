/** `::walk kmem_cache`: every kmem cache (its kmem_cache_t address). */
import type { Walker } from '../types';

export const kmemCacheWalker: Walker = {
  name: 'kmem_cache',
  description: 'walk list of kmem caches',
  walk({ m }) {
    return [...m.kmem.caches.values()].map((c) => c.addr);
  },
};
