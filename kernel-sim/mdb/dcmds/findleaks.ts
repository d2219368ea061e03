/**
 * `::findleaks [-dfv]`: kmem buffers no root reaches (leaky.ts), coalesced by allocation stack,
 * in leaky_subr.c's table: `CACHE LEAKED BUFCTL CALLER`, 72 dashes, the Total line. -d details
 * each representative leak with its bufctl, -v reports statistics of the run, -f recomputes
 * (the result is cached between calls as in mdb, but recomputed when the machine moved on).
 * With an address (a function), only leaks whose stack contains it.
 */
import { getopts, DcmdUsage, type Dcmd } from '../types';
import { findLeaks, type LeakReport } from '../leaky';
import { p0, rpad, lpad, sym } from '../format';
import { bufctlLines } from './bufctl';

export const findleaksDcmd: Dcmd = {
  name: 'findleaks',
  usage: '?[-dfv]',
  description: 'search for potential kernel memory leaks',
  help:
    'Find kmem buffers that nothing points to any more.  The scan starts from the\n' +
    'roots (the driver\'s globals, kernel data, cpu_t, every live thread\'s kthread_t\n' +
    'and stack, and the pointers the threads\' frames hold) and follows every word\n' +
    'that points into an allocated buffer.  Unreached buffers are grouped by cache\n' +
    'and allocation stack; the oldest of a group is shown with the group\'s size.\n' +
    'The result is kept until the simulated kernel runs again.\n\n' +
    'With an address (a function), only leaks allocated through it are shown.\n' +
    'The leak walker visits the bufctls of the leaks.\n\n' +
    '  -d    print each group\'s representative bufctl with its stack\n' +
    '  -f    recompute even if nothing changed\n' +
    '  -v    print statistics of the scan',
  run(c) {
    const o = getopts(c.args, 'dfv');
    if (o.rest.length) throw new DcmdUsage();
    const m = c.m;
    const stamp = `${m.stats.steps}/${m.stats.allocs}/${m.stats.frees}/${m.lbolt}`;
    let r = c.mdb.cache.get('findleaks') as LeakReport | undefined;
    const cached = r && c.mdb.cache.get('findleaks.stamp') === stamp && !o.set.has('f');
    if (!cached) {
      r = findLeaks(m);
      c.mdb.cache.set('findleaks', r);
      c.mdb.cache.set('findleaks.stamp', stamp);
      if (o.set.has('v')) {
        const s = r.stats;
        const v = (label: string, n: number) => c.out(`findleaks: ${lpad(label, 30)} => ${n}`);
        const perc = (label: string, n: number) => {
          const tot = Math.max(1, s.potentialPointers);
          const pc = Math.floor((n * 100) / tot);
          const tenths = Math.floor((n * 1000) / tot) % 10;
          c.out(`findleaks: ${lpad(label, 30)} => ${rpad(n, 13)} (${lpad(pc, 2)}.${tenths}%)`);
        };
        v('maximum buffers', s.buffers);
        v('actual buffers', s.buffers);
        c.out('findleaks: ');
        v('potential pointers', s.potentialPointers);
        perc('dismissals', s.dismissals);
        perc('misses', s.misses);
        perc('dups', s.dups);
        perc('follows', s.follows);
        c.out('findleaks: ');
        c.out(`findleaks: ${lpad('peak memory usage', 30)} => ${Math.ceil((s.buffers * 24 + 1023) / 1024)} kB`);
        c.out('findleaks: ');
      }
    } else if (o.set.has('v')) c.out("findleaks: using cached results (use '-f' to force a full run)");
    const report = r!;
    let leaks = report.leaks;
    if (c.flags.addrspec) {
      const name = sym(m, c.addr);
      const fn = name.replace(/\+.*$/, '');
      leaks = leaks.filter((l) => l.stack.some((s) => s === name || s.replace(/\+.*$/, '') === fn));
    }
    if (!leaks.length) {
      c.out(c.flags.addrspec ? `findleaks: no memory leaks matching ${sym(m, c.addr)} found` : 'findleaks: no memory leaks detected');
      return;
    }
    c.out(`${rpad('CACHE', 16)} ${lpad('LEAKED', 7)} ${lpad('BUFCTL', 16)} CALLER`);
    let n = 0;
    let bytes = 0;
    for (const l of leaks) {
      c.out(`${p0(l.cacheAddr)} ${lpad(l.count, 7)} ${p0(l.bufctl)} ${l.caller}`);
      n += l.count;
      bytes += l.bytes;
    }
    c.out('-'.repeat(72));
    c.out(`${lpad('Total', 16)} ${lpad(n, 7)} buffer${n === 1 ? '' : 's'}, ${bytes} byte${bytes === 1 ? '' : 's'}`);
    if (!o.set.has('d')) return;
    c.out('');
    for (const l of leaks) {
      c.out(l.count === 1 ? `${l.cache} leak: 1 buffer, ${l.bytes} bytes` : `${l.cache} leak: ${l.count} buffers, ${l.bufsize} bytes each, ${l.bytes} bytes total`);
      for (const line of bufctlLines(m, l.buf, true)) c.out(line);
    }
  },
};
