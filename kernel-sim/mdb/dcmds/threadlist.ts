/**
 * `::threadlist [-t] [-v [count]]`: threads with their process and command (genunix/thread.c
 * threadlist()); -v adds class, priority, wait channel, the PC and the ::findstack output.
 */
import { getopts, DcmdUsage, hdrspec, type Dcmd } from '../types';
import { readKthread, threadDesc, threadFrames, allThreadAddrs, TS_FREE } from '../kthread';
import { p0, pR, lpad, frameName } from '../format';
import { findstackLines } from './findstack';
import { withPanicFrame } from '../stackfmt';

export const threadlistDcmd: Dcmd = {
  name: 'threadlist',
  usage: '?[-t] [-v [count]]',
  description: 'display threads and associated C stack traces',
  help:
    'List kernel threads with their process, LWP and command.\n\n' +
    '  -v       add scheduling class, priority, wait channel, PC and the stack\n' +
    '           (as ::findstack prints it)\n' +
    '  -t       leave out taskq threads (the simulator has none)\n' +
    '  count    with -v, show up to count arguments per frame (default 0)',
  run(c) {
    const o = getopts(c.args, 'tv');
    let count = 0;
    if (o.rest.length) {
      if (o.rest.length > 1 || !o.set.has('v')) throw new DcmdUsage();
      count = c.mdb.evaluate(o.rest[0]!);
    }
    const verbose = o.set.has('v');
    const m = c.m;
    const addrs = c.flags.addrspec ? [c.addr] : allThreadAddrs(m);
    const header = !c.flags.addrspec || hdrspec(c);
    if (header) {
      c.out(verbose
        ? `${lpad('ADDR', 16)} ${lpad('PROC', 16)} ${lpad('LWP', 16)} CLS PRI ${lpad('WCHAN', 16)}`
        : `${lpad('ADDR', 16)} ${lpad('PROC', 16)} ${lpad('LWP', 16)} CMD/LWPID`);
    }
    for (const a of addrs) {
      let t;
      try {
        t = readKthread(m, a);
      } catch (e) {
        c.warn((e as Error).message);
        continue;
      }
      if (t.t_state === TS_FREE) continue;
      if (!verbose) {
        c.out(`${p0(a)} ${pR(t.t_procp)} ${pR(t.t_lwp)} ${threadDesc(m, t)}`);
        continue;
      }
      const cls = t.t_lwp ? 2 : 0;
      c.out(`${p0(a)} ${pR(t.t_procp)} ${pR(t.t_lwp)} ${lpad(cls, 3)} ${lpad(t.t_pri, 3)} ${pR(t.t_wchan)}`);
      if (t.kt) {
        const fr = withPanicFrame(m, a, threadFrames(m, t.kt));
        const pc = fr[0] ? frameName(fr[0].name, fr[0].offset) : '0';
        c.out(`  PC: ${pc}`);
        for (const l of findstackLines(c, a, false, { verbose: false, maxArgs: count })) c.out('  ' + l);
      } else c.out('  PC: 0');
      c.out('');
    }
  },
};
