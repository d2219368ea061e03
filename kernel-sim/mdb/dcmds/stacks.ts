/**
 * `::stacks [-afiv] [-c func] [-C func] [-m module] [-M module] [-s sobj | -S sobj]
 * [-t tstate | -T tstate]`: threads grouped by identical stacks with counts (findstack.c).
 * In a pipeline the right side gets the threads of every shown group.
 */
import { getopts, MdbError, DcmdUsage, type Dcmd } from '../types';
import { readKthread, stateName, threadFrames, sobjName, allThreadAddrs } from '../kthread';
import { p, pL, rpad, lpad, frameName } from '../format';
import type { Machine } from '../../machine/machine';

interface Entry {
  thread: number;
  state: string;
  sobj: string;
  frames: string[];
  fnames: string[];
  modules: string[];
  panic: boolean;
  tstate: number;
}

function entryOf(m: Machine, a: number): Entry | undefined {
  const tv = readKthread(m, a);
  const t = tv.kt;
  if (!t) return undefined;
  let fr = threadFrames(m, t);
  if (fr[0]?.name === '_resume_from_idle') fr = fr.slice(1);
  const panic = m.panicInfo?.thread === a;
  return {
    thread: a,
    state: panic ? 'PANIC' : stateName(tv.t_state).toUpperCase(),
    sobj: sobjName(t).toUpperCase(),
    frames: fr.map((f) => frameName(f.name, f.offset)),
    fnames: fr.map((f) => f.name),
    modules: fr.map((f) => m.sym.lookup(f.name)?.module ?? (f.kind === 'c' ? 'driver' : 'genunix')),
    panic,
    tstate: tv.t_state,
  };
}

export const stacksDcmd: Dcmd = {
  name: 'stacks',
  usage: '?[-afiv] [-c func] [-C func] [-m module] [-M module] [-s sobj | -S sobj] [-t tstate | -T tstate]',
  description: 'print unique kernel thread stacks',
  help:
    'Group the threads whose state, synchronization object and stack frames are the\n' +
    'same, and print each group once with its thread count.  Filters:\n\n' +
    '  -a            list every thread of a group, not only the first\n' +
    '  -i            only threads doing something: no CV sleepers, no free threads\n' +
    '  -c fn[+off]   only stacks through fn (or that exact return address)\n' +
    '  -C fn[+off]   only stacks not through fn\n' +
    '  -m module     only stacks with a function of module\n' +
    '  -M module     only stacks without a function of module\n' +
    '  -s sobj|ALL   only threads blocked on that kind of object (CV, MUTEX)\n' +
    '  -S sobj|NONE  leave out threads blocked on that kind of object\n' +
    '  -t state      only threads in that state (SLEEP, RUN, ONPROC, PANIC, ...)\n' +
    '  -T state      leave out threads in that state\n' +
    '  -f, -v        accepted; the simulator recomputes every time\n\n' +
    'Piped thread addresses restrict the groups to those threads.',
  run(c) {
    const o = getopts(c.args, 'afiv', 'cCmMsStT');
    if (o.rest.length) throw new DcmdUsage();
    if (o.set.has('i') && ['s', 'S', 't', 'T'].some((k) => o.values.has(k))) throw new DcmdUsage('stacks: -i is incompatible with -[sStT]');
    if (o.values.has('s') && o.values.has('S')) throw new DcmdUsage('stacks: only one of -s and -S can be specified');
    if (o.values.has('t') && o.values.has('T')) throw new DcmdUsage('stacks: only one of -t and -T can be specified');
    const states = ['FREE', 'SLEEP', 'RUN', 'ONPROC', 'ZOMB', 'STOPPED', 'WAIT', 'PANIC'];
    for (const k of ['t', 'T']) {
      const v = o.values.get(k);
      if (v && !states.includes(v.toUpperCase())) throw new MdbError(`tstate "${v}" not recognized`);
    }
    // With a pipe, the first call does the work for every dot; later calls print nothing.
    if (c.flags.loop && !c.flags.loopFirst) return;
    const m = c.m;
    const only = c.flags.addrspec ? new Set(c.pipe.length ? c.pipe : [c.addr]) : undefined;
    const entries: Entry[] = [];
    for (const a of allThreadAddrs(m)) {
      const e = entryOf(m, a);
      if (e) entries.push(e);
    }
    if (only) {
      const known = new Set(entries.map((e) => e.thread));
      for (const a of only) if (!known.has(a)) c.warn(`stacks: ${a.toString(16)} not in thread list`);
    }
    const groups = new Map<string, Entry[]>();
    for (const e of entries) {
      const key = `${e.panic}|${e.state}|${e.sobj}|${e.frames.join(',')}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = []));
      g.push(e);
    }
    let list = [...groups.values()];
    if (only) {
      list = list.map((g) => (c.flags.pipeIn ? g.filter((e) => only.has(e.thread)) : g.some((e) => only.has(e.thread)) ? g : [])).filter((g) => g.length);
    }
    list.sort((a, b) => {
      const x = a[0]!;
      const y = b[0]!;
      if (x.panic !== y.panic) return x.panic ? 1 : -1;
      if (a.length !== b.length) return b.length - a.length;
      if (x.tstate !== y.tstate) return x.tstate - y.tstate;
      const n = Math.min(x.frames.length, y.frames.length);
      for (let i = 0; i < n; i++) if (x.frames[i] !== y.frames[i]) return x.frames[i]! < y.frames[i]! ? -1 : 1;
      return x.frames.length - y.frames.length || x.thread - y.thread;
    });
    const hasFn = (e: Entry, spec: string) => {
      const [fn, off] = spec.split('+');
      return e.frames.some((f, i) => (off ? f === `${fn}+${off}` : e.fnames[i] === fn));
    };
    const sVal = o.values.get('s')?.toUpperCase();
    const SVal = (o.set.has('i') ? 'CV' : o.values.get('S'))?.toUpperCase();
    const tVal = o.values.get('t')?.toUpperCase();
    const TVal = (o.set.has('i') ? 'FREE' : o.values.get('T'))?.toUpperCase();
    let printed = false;
    for (const g of list) {
      const e = g[0]!;
      if (o.values.has('c') && !hasFn(e, o.values.get('c')!)) continue;
      if (o.values.has('C') && hasFn(e, o.values.get('C')!)) continue;
      if (o.values.has('m') && !e.modules.includes(o.values.get('m')!)) continue;
      if (o.values.has('M') && e.modules.includes(o.values.get('M')!)) continue;
      if (tVal && e.state !== tVal) continue;
      if (TVal && e.state === TVal) continue;
      if (sVal && !(sVal === 'ALL' ? e.sobj !== '<NONE>' : e.sobj === sVal)) continue;
      if (SVal && !(e.panic && o.set.has('i')) && (SVal === 'NONE' ? e.sobj === '<NONE>' : e.sobj === SVal)) continue;
      if (c.flags.pipeOut) {
        for (const x of g) c.out(p(x.thread));
        continue;
      }
      if (o.set.has('a') || !printed) {
        c.out(`${rpad('THREAD', 16)} ${rpad('STATE', 8)} ${rpad('SOBJ', 16)} ${lpad('COUNT', 8)}`);
        printed = true;
      }
      const rows = o.set.has('a') ? g : [e];
      rows.forEach((x, i) => c.out(`${pL(x.thread)} ${rpad(x.state, 8)} ${rpad(x.sobj, 16)} ${lpad(i === 0 ? String(g.length) : '-', 8)}`));
      for (const f of e.frames) c.out(`${' '.repeat(16)} ${f}`);
      c.out('');
    }
  },
};
