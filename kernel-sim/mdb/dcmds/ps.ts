/**
 * `::ps [-fltzTP]`: processes (genunix.c ps()). The simulator has no proc_t: the kernel's
 * threads belong to p0 (`sched`, PID 0) and each thread with an LWP stands for a process of
 * its own (PID = its lwpid, command = its name); the ADDR column is 0 for want of a proc_t.
 * -t lists each process's threads with their state, -l their LWPs.
 */
import { getopts, DcmdUsage, hdrspec, type Dcmd } from '../types';
import { readKthread, allThreadAddrs, ucomm, type KthreadView } from '../kthread';
import { TS_FREE, TS_SLEEP, TS_RUN, TS_ONPROC, TS_ZOMB, TS_STOPPED, TS_WAIT } from '../../machine/layout';
import { p0, rpad, lpad } from '../format';

const TS_BITS: Array<[number, string]> = [
  [TS_FREE, 'TS_FREE'], [TS_SLEEP, 'TS_SLEEP'], [TS_RUN, 'TS_RUN'], [TS_ONPROC, 'TS_ONPROC'],
  [TS_ZOMB, 'TS_ZOMB'], [TS_STOPPED, 'TS_STOPPED'], [TS_WAIT, 'TS_WAIT'],
];

function stateLetter(ts: KthreadView[]): string {
  const s = ts.map((t) => t.t_state);
  if (s.includes(TS_ONPROC)) return 'O';
  if (s.includes(TS_RUN)) return 'R';
  if (s.includes(TS_SLEEP)) return 'S';
  if (s.includes(TS_STOPPED)) return 'T';
  if (s.includes(TS_WAIT)) return 'W';
  if (s.length && s.every((x) => x === TS_ZOMB)) return 'Z';
  return 'I';
}

export const psDcmd: Dcmd = {
  name: 'ps',
  usage: '[-fltzTP]',
  description: 'list processes (and associated thr,lwp)',
  help:
    '  -f    display command arguments\n' +
    '  -l    display LWPs\n' +
    '  -t    display threads\n' +
    '  -T    display tasks (simulated: all 0)\n' +
    '  -P    display projects (simulated: all 0)\n' +
    '  -z    display zones (simulated: all global)\n\n' +
    'The simulator has no proc_t: kernel threads belong to sched (PID 0), and each\n' +
    'thread with an LWP is a process of its own, PID = lwpid.',
  run(c) {
    const o = getopts(c.args, 'fltzTP');
    if (o.rest.length) throw new DcmdUsage();
    const m = c.m;
    const threads = allThreadAddrs(m).map((a) => readKthread(m, a));
    const procs: Array<{ pid: number; comm: string; flags: number; threads: KthreadView[] }> = [
      { pid: 0, comm: 'sched', flags: 0x1, threads: threads.filter((t) => !t.t_lwp) },
    ];
    for (const t of threads) if (t.t_lwp) procs.push({ pid: t.t_tid, comm: ucomm(t), flags: 0x42004000, threads: [t] });
    if (hdrspec(c)) {
      let h = `${rpad('S', 1)} ${rpad('PID', 6)} ${rpad('PPID', 6)} ${rpad('PGID', 6)} ${rpad('SID', 6)} `;
      if (o.set.has('z')) h += `${rpad('ZONE', 5)} `;
      if (o.set.has('T')) h += `${rpad('TASK', 5)} `;
      if (o.set.has('P')) h += `${rpad('PROJ', 5)} `;
      h += `${rpad('UID', 6)} ${rpad('FLAGS', 10)} ${rpad('ADDR', 16)} NAME`;
      c.out(h);
    }
    for (const pr of procs) {
      let l = `${stateLetter(pr.threads)} ${rpad(pr.pid, 6)} ${rpad(0, 6)} ${rpad(pr.pid, 6)} ${rpad(pr.pid, 6)} `;
      if (o.set.has('z')) l += `${rpad(0, 5)} `;
      if (o.set.has('T')) l += `${rpad(0, 5)} `;
      if (o.set.has('P')) l += `${rpad(0, 5)} `;
      l += `${rpad(0, 6)} 0x${pr.flags.toString(16).padStart(8, '0')} ${p0(0)} ${pr.comm}`;
      c.out(l);
      for (const t of pr.threads) {
        if (o.set.has('l') && t.t_lwp) c.out(`\tL  ${lpad('0x' + p0(t.t_lwp).replace(/^0+/, ''), 16)} ID: ${t.t_tid}`);
        if (o.set.has('t')) {
          const bit = TS_BITS.find(([v]) => v === t.t_state)?.[1] ?? `0x${t.t_state.toString(16)}`;
          c.out(`\tT  ${lpad('0x' + p0(t.addr).replace(/^0+/, ''), 16)} <${bit}>`);
        }
      }
    }
  },
};
