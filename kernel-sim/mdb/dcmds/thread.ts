/** `::thread [-bdfimps]`: a summarized kthread_t, in the column sets of genunix/thread.c. */
import { getopts, hdrspec, DcmdUsage, type Dcmd } from '../types';
import { readKthread, stateName, TS_FREE, sobjName } from '../kthread';
import { allThreadAddrs } from '../kthread';
import { pR, p0, lpad, rpad } from '../format';

export const threadDcmd: Dcmd = {
  name: 'thread',
  usage: '?[-bdfimps]',
  description: 'display a summarized kthread_t',
  help:
    'Summarize kthread_t structures.  Each option selects a group of columns;\n' +
    'several groups go on separate lines under one ADDR column, or on one line\n' +
    'with -m.  Without an option the -i group is shown.\n\n' +
    '  -i    state, flags, priorities, PIL, interrupted thread\n' +
    '  -p    process, LWP and credentials pointers\n' +
    '  -b    wait channel, turnstile and synchronization object\n' +
    '  -s    signal queue, pending and held signals\n' +
    '  -d    dispatch time, bound CPU, PR (t_preempt: kpreempt_disable() depth)\n' +
    '        and SWITCH (ticks since the thread last went on or off a CPU)\n' +
    '  -f    leave out threads in the free state\n' +
    '  -m    all groups on one line',
  run(c) {
    const o = getopts(c.args, 'bdfimps');
    if (o.rest.length) throw new DcmdUsage();
    const addrs = c.flags.addrspec ? [c.addr] : allThreadAddrs(c.m);
    let sets = [...o.set].filter((x) => 'pibsd'.includes(x));
    if (!sets.length) sets = ['i'];
    const order = ['p', 'i', 'b', 's', 'd'].filter((x) => sets.includes(x));
    const merge = o.set.has('m');
    const spacer = '\n' + ' '.repeat(16);
    const join = (parts: string[]) => parts.map((x, i) => (i === 0 || merge ? x : spacer + x)).join('');
    const header = !c.flags.addrspec || hdrspec(c);
    const m = c.m;
    addrs.forEach((a, idx) => {
      if (header && idx === 0) {
        const h: string[] = [];
        for (const s of order) {
          if (s === 'p') h.push(` ${lpad('PROC', 16)} ${lpad('LWP', 16)} ${lpad('CRED', 16)}`);
          if (s === 'i') h.push(` ${lpad('STATE', 8)} ${lpad('FLG', 4)} ${lpad('PFLG', 4)} ${lpad('SFLG', 4)} ${lpad('PRI', 5)} ${lpad('EPRI', 5)} ${lpad('PIL', 3)} ${lpad('INTR', 16)}`);
          if (s === 'b') h.push(` ${lpad('WCHAN', 16)} ${lpad('TS', 16)} ${lpad('PITS', 16)} ${lpad('SOBJ OPS', 11)}`);
          if (s === 's') h.push(` ${lpad('SIGQUEUE', 16)} ${lpad('SIG PEND', 16)} ${lpad('SIG HELD', 16)}`);
          if (s === 'd') h.push(` ${lpad('DISPTIME', 16)} ${lpad('BOUND', 5)} ${lpad('PR', 2)} ${rpad('SWITCH', 6)}`);
        }
        c.out((lpad('ADDR', 16) + join(h)).trimEnd());
      }
      let t;
      try {
        t = readKthread(m, a, 'kthread_t', "can't read");
      } catch (e) {
        c.warn((e as Error).message);
        return;
      }
      if (o.set.has('f') && t.t_state === TS_FREE) return;
      const row: string[] = [];
      for (const s of order) {
        if (s === 'p') row.push(` ${pR(t.t_procp)} ${pR(t.t_lwp)} ${pR(0)}`);
        if (s === 'i') {
          const hx = (n: number) => (n >>> 0).toString(16);
          row.push(` ${rpad(stateName(t.t_state), 8)} ${lpad(hx(t.t_flag), 4)} ${lpad(hx(t.t_proc_flag), 4)} ${lpad(hx(t.t_schedflag), 4)} ${lpad(t.t_pri, 5)} ${lpad(t.t_epri, 5)} ${lpad(t.t_pil, 3)} ${lpad('n/a', 16)}`);
        }
        if (s === 'b') {
          const so = sobjName(t.kt);
          const ops = so === '<none>' ? '0' : `${so}_sobj_ops`.slice(0, 11);
          row.push(` ${pR(t.t_wchan)} ${pR(0)} ${pR(0)} ${lpad(ops, 11)}`);
        }
        if (s === 's') row.push(` ${pR(0)} ${'0'.repeat(16)} ${'0'.repeat(16)}`);
        if (s === 'd') {
          const disp = t.kt ? t.kt.dispTick : t.t_disp_time;
          row.push(` ${lpad(disp.toString(16), 16)} ${lpad(-1, 5)} ${lpad(t.t_preempt, 2)} ${rpad(`t-${m.lbolt - disp}`, 6)}`);
        }
      }
      c.out((p0(a) + join(row)).trimEnd());
    });
  },
};
