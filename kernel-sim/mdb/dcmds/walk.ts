/** `[addr]::walk name [variable]`: the addresses a walker visits, one per line (`%lr`). */
import { DcmdUsage, MdbError, type Dcmd } from '../types';
import { findWalker } from '../table';
import { p } from '../format';

export const walkDcmd: Dcmd = {
  name: 'walk',
  usage: '?name [variable]',
  description: 'walk data structure',
  help: 'Walk a data structure and print each element\'s address.  With an address,\n' +
    'the walk starts there (a thread for the ctxop walk, a cache for kmem).',
  run(c) {
    if (c.args.length < 1 || c.args.length > 2) throw new DcmdUsage();
    const w = findWalker(c.args[0]!);
    if (!w) throw new MdbError('failed to perform walk: unknown walk name');
    const addrs = w.walk({ m: c.m, mdb: c.mdb, addr: c.flags.addrspec ? c.addr : undefined });
    for (const a of addrs) c.out(p(a));
  },
};
