/** `::walk leak`: the bufctls of the leaks found by the last ::findleaks (every duplicate). */
import type { Walker } from '../types';
import { MdbError } from '../types';
import type { LeakReport } from '../leaky';

export const leakWalker: Walker = {
  name: 'leak',
  description: 'given a leaked bufctl or vmem_seg, find leaks w/ same stack',
  walk({ mdb, addr }) {
    const r = mdb.cache.get('findleaks') as LeakReport | undefined;
    if (!r) throw new MdbError('::findleaks must be run before leaks can be walked');
    const leaks = addr === undefined ? r.leaks : r.leaks.filter((l) => l.bufctls.includes(addr));
    if (addr !== undefined && !leaks.length) throw new MdbError(`${addr.toString(16)} is not a leaked ctl address`);
    return leaks.flatMap((l) => l.bufctls);
  },
};
