/**
 * `[addr]::kmem_verify`: checks every cache's buffers: free buffers must still hold the
 * 0xdeadbeef pattern, allocated ones their redzone. Without an address, one line per cache
 * (`clean` or `N corrupt buffers`); with a cache address, the summary and each bad buffer.
 */
import { DcmdUsage, MdbError, type Dcmd } from '../types';
import { p, pR, rpad } from '../format';

const NAMELEN = 31;

export const kmemVerifyDcmd: Dcmd = {
  name: 'kmem_verify',
  usage: '?',
  description: 'check integrity of kmem-managed memory',
  help: 'Without an address, check every kmem cache and print one line per cache.\n' +
    'With the address of a kmem cache (see ::kmem_cache), print each corrupt buffer.',
  run(c) {
    if (c.args.length) throw new DcmdUsage();
    const m = c.m;
    const caches = [...m.kmem.caches.values()];
    if (!c.flags.addrspec) {
      c.out(`${rpad('Cache Name', NAMELEN)} ${rpad('Addr', 16)} ${rpad('Cache Integrity', 20)}`.trimEnd());
      for (const k of caches) {
        const bad = new Set(m.kmem.verify(k.name).map((x) => x.buf)).size;
        c.out(bad === 0 ? `${rpad(k.name, NAMELEN)} ${pR(k.addr)} clean` : `${rpad(k.name, NAMELEN)} ${pR(k.addr)} ${bad} corrupt buffer${bad > 1 ? 's' : ''}`);
      }
      return;
    }
    const k = caches.find((x) => x.addr === c.addr);
    if (!k) throw new MdbError(`couldn't read kmem_cache at ${p(c.addr)}`);
    const bad = m.kmem.verify(k.name);
    if (c.flags.loop) {
      const n = new Set(bad.map((x) => x.buf)).size;
      c.out(n === 0 ? `${rpad(k.name, NAMELEN)} ${pR(k.addr)} clean` : `${rpad(k.name, NAMELEN)} ${pR(k.addr)} ${n} corrupt buffer${n > 1 ? 's' : ''}`);
      return;
    }
    c.out(`Summary for cache '${k.name}'`);
    for (const b of bad) {
      if (b.free) c.out(`  buffer ${p(b.buf)} (free) seems corrupted, at ${p(b.at)}`);
      else c.out(`  buffer ${p(b.buf)} (allocated) has a corrupt redzone at ${p(b.at)} (${b.what})`);
    }
    if (!bad.length) c.out('  clean');
  },
};
