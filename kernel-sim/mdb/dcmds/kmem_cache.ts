/** `[addr]::kmem_cache [-n name]`: the kmem caches (kmem.c kmem_cache()). */
import { getopts, DcmdUsage, MdbError, hdrspec, type Dcmd } from '../types';
import { p, p0, rpad, lpad } from '../format';

/** KMF_AUDIT | KMF_DEADBEEF | KMF_REDZONE: the DEBUG kernel's kmem_flags=0xf. */
const FLAGS = 0x020f;

export const kmemCacheDcmd: Dcmd = {
  name: 'kmem_cache',
  usage: '?[-n name]',
  description: 'print kernel memory caches',
  help: 'List the kmem caches: address, name, flags, buffer size and buffers carved.\n\n' +
    '  -n name   only caches whose name contains name',
  run(c) {
    const o = getopts(c.args, '', 'n');
    if (o.rest.length) throw new DcmdUsage();
    const m = c.m;
    let caches = [...m.kmem.caches.values()];
    if (c.flags.addrspec) {
      caches = caches.filter((k) => k.addr === c.addr);
      if (!caches.length) throw new MdbError(`couldn't read kmem_cache at ${p(c.addr)}`);
    }
    const filter = o.values.get('n');
    if (!c.flags.addrspec || hdrspec(c)) {
      c.out(`${rpad('ADDR', 16)} ${rpad('NAME', 25)} ${lpad('FLAG', 4)} ${lpad('CFLAG', 6)} ${lpad('BUFSIZE', 8)} ${lpad('BUFTOTL', 8)}`);
    }
    for (const k of caches) {
      if (filter && !k.name.includes(filter)) continue;
      c.out(`${p0(k.addr)} ${rpad(k.name, 25)} ${FLAGS.toString(16).padStart(4, '0')} ${'0'.padStart(6, '0')} ${lpad(k.bufsize, 8)} ${lpad(k.bufs.length, 8)}`);
    }
  },
};
