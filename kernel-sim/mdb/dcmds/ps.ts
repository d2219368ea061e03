/**
 * `::ps [-fltzTP]`: processes (genunix.c ps()), read from the proc_t of each thread
 * (`t_procp`): p0 (`sched`, PID 0) first, then the others in the order their first thread is on
 * allthreads (kctx keeps no practive list, so a process whose threads are all gone is not shown).
 * -t lists each process's threads with their state, -l their LWPs.
 */
import { getopts, DcmdUsage, hdrspec, type Dcmd } from '../types';
import { readKthread, allThreadAddrs, procAddrs, procComm, type KthreadView } from '../kthread';
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
    'Kernel threads belong to p0, sched (PID 0); each scenario thread with an LWP is\n' +
    'a process of its own (PID = its lwpid); lwp_create() adds an LWP to its creator\'s\n' +
    'process, forklwp() starts a child process.',
  run(c) {
    const o = getopts(c.args, 'fltzTP');
    if (o.rest.length) throw new DcmdUsage();
    const m = c.m;
    const threads = allThreadAddrs(m).map((a) => readKthread(m, a));
    const procs = procAddrs(m).map((a) => ({ addr: a, pid: m.procPid(a), ppid: m.getField(m.L.proc, a, 'p_ppid'), comm: procComm(m, a)!, flags: m.getField(m.L.proc, a, 'p_flag'), threads: [] as KthreadView[] }));
    const byAddr = new Map(procs.map((pr) => [pr.addr, pr]));
    // A machine without proc_t (a FreeBSD one's): an LWP is a process of its own, other threads are sched's.
    const sched = procs.length ? undefined : { addr: 0, pid: 0, ppid: 0, comm: 'sched', flags: 0x1, threads: [] as KthreadView[] };
    if (sched) procs.push(sched);
    for (const t of threads) {
      let pr = byAddr.get(t.t_procp) ?? sched;
      if (sched && t.t_lwp) procs.push((pr = { addr: 0, pid: t.t_tid, ppid: 0, comm: t.t_name || '?', flags: 0x42004000, threads: [] }));
      pr?.threads.push(t);
    }
    if (hdrspec(c)) {
      let h = `${rpad('S', 1)} ${rpad('PID', 6)} ${rpad('PPID', 6)} ${rpad('PGID', 6)} ${rpad('SID', 6)} `;
      if (o.set.has('z')) h += `${rpad('ZONE', 5)} `;
      if (o.set.has('T')) h += `${rpad('TASK', 5)} `;
      if (o.set.has('P')) h += `${rpad('PROJ', 5)} `;
      h += `${rpad('UID', 6)} ${rpad('FLAGS', 10)} ${rpad('ADDR', 16)} NAME`;
      c.out(h);
    }
    for (const pr of procs) {
      let l = `${stateLetter(pr.threads)} ${rpad(pr.pid, 6)} ${rpad(pr.ppid, 6)} ${rpad(pr.pid, 6)} ${rpad(pr.pid, 6)} `;
      if (o.set.has('z')) l += `${rpad(0, 5)} `;
      if (o.set.has('T')) l += `${rpad(0, 5)} `;
      if (o.set.has('P')) l += `${rpad(0, 5)} `;
      l += `${rpad(0, 6)} 0x${(pr.flags >>> 0).toString(16).padStart(8, '0')} ${p0(pr.addr)} ${pr.comm}`;
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
