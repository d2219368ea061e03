/**
 * `addr::whatis [-v]`: what an address is: inside a kmem buffer (allocated or freed, with its
 * bufctl), a thread's stack, a kernel or driver symbol, a cpu_t.
 */
import { getopts, DcmdUsage, type Dcmd } from '../types';
import { p, sym } from '../format';
import { bufctlLines } from './bufctl';
import { freebsdWhatis } from '../../freebsd/whatis';

export const whatisDcmd: Dcmd = {
  name: 'whatis',
  usage: ':[-aikqv]',
  description: 'given an address, return information',
  help: 'Report what the address is: a kmem buffer (allocated or freed, and from which\n' +
    'cache), a thread\'s stack, a kernel or driver symbol, or a cpu_t.\n\n' +
    '  -v    also print the buffer\'s bufctl',
  run(c) {
    if (!c.flags.addrspec) throw new DcmdUsage();
    const o = getopts(c.args, 'aikqv');
    if (o.rest.length) throw new DcmdUsage();
    const m = c.m;
    const a = c.addr;
    let found = false;
    // FreeBSD VIMAGE: a vnet's instance of a virtualized variable, its master copy, or an ordinary global.
    const fb = freebsdWhatis(m, a);
    if (fb) {
      c.out(fb);
      return;
    }
    const b = m.kmem.findBuffer(a);
    if (b) {
      found = true;
      const bc = b.bufctl;
      const where = a === b.buf ? `${p(a)} is ` : `${p(a)} is ${p(b.buf)}+${(a - b.buf).toString(16)}, `;
      const state = bc && bc.allocated ? 'allocated' : 'freed';
      c.out(`${where}${bc ? `bufctl ${p(bc.addr)} ` : ''}${state} from ${b.cache.name}`);
      if (o.set.has('v') && bc) for (const l of bufctlLines(m, b.buf, true)) c.out(l);
    }
    for (const t of m.threads) {
      if (a >= t.stackBase && a < t.stackBase + t.stackSize) {
        found = true;
        c.out(`${p(a)} is in thread ${p(t.addr)}'s stack`);
      }
    }
    for (const cpu of m.cpus) {
      if (a >= cpu.addr && a < cpu.addr + m.L.cpu.size) {
        found = true;
        c.out(a === cpu.addr ? `${p(a)} is cpu_t of CPU ${cpu.id}` : `${p(a)} is in cpu_t of CPU ${cpu.id} (+${(a - cpu.addr).toString(16)})`);
      }
    }
    if (!found) {
      const s = m.sym.containing(a);
      if (s) {
        found = true;
        c.out(`${p(a)} is ${sym(m, a)}, in ${s.module}'s text segment`);
      } else {
        for (const [name, d] of m.sym.data) {
          if (a >= d.addr && a < d.addr + Math.max(1, d.size)) {
            found = true;
            c.out(`${p(a)} is ${a === d.addr ? name : `${name}+${(a - d.addr).toString(16)}`}, in ${d.module}'s data segment`);
            break;
          }
        }
        if (!found) {
          for (const [ra, size] of m.dataRoots) {
            if (a >= ra && a < ra + size) {
              found = true;
              c.out(`${p(a)} is in the driver's data segment`);
              break;
            }
          }
        }
      }
    }
    if (!found) c.out(`${p(a)} is unknown`);
  },
};
