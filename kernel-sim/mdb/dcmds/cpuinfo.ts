/**
 * `::cpuinfo [-v]`: one line per CPU (genunix.c cpuinfo_walk_cpu). RNRN and KRNRN are
 * cpu_runrun and cpu_kprunrun; SWITCH is the ticks since cpu_last_swtch. -v adds the CPU flags
 * and the run queue.
 */
import { getopts, DcmdUsage, MdbError, hdrspec, type Dcmd } from '../types';
import { readKthread, ucomm } from '../kthread';
import { p, p0, lpad, rpad } from '../format';

const FLAGS = ['RUNNING', 'READY', 'QUIESCED', 'EXISTS', 'ENABLE', 'OFFLINE', 'POWEROFF', 'FROZEN', 'SPARE', 'FAULTED'];
const IDW = 3;
const CPUW = 16;
const TW = 16;
const FLAGW = 9;
const THRDELT = IDW + CPUW + 9;
const FLAGDELT = IDW + CPUW + 4;

export const cpuinfoDcmd: Dcmd = {
  name: 'cpuinfo',
  usage: '?[-v]',
  description: 'print CPUs and runnable threads',
  help: 'Print one line per CPU: the thread on it, its priority, and the dispatcher\n' +
    'flags cpu_runrun (RNRN) and cpu_kprunrun (KRNRN).  -v adds the CPU flags and\n' +
    'the threads on the CPU\'s run queue.',
  run(c) {
    const o = getopts(c.args, 'v');
    if (o.rest.length) throw new DcmdUsage();
    const verbose = o.set.has('v');
    const m = c.m;
    let cpus = m.cpus;
    if (c.flags.addrspec) {
      cpus = m.cpus.filter((x) => x.addr === c.addr || x.id === c.addr);
      if (!cpus.length) throw new MdbError(`${p(c.addr)} is neither a valid CPU ID nor a valid cpu_t address`);
    }
    let printHead = hdrspec(c) || verbose;
    for (const cpu of cpus) {
      const a = cpu.addr;
      if (printHead) {
        c.out(`${lpad('ID', 3)} ${rpad('ADDR', CPUW)} ${lpad('FLG', 3)} ${lpad('NRUN', 4)} ${lpad('BSPL', 4)} ${lpad('PRI', 3)} ${lpad('RNRN', 4)} ${lpad('KRNRN', 5)} ${rpad('SWITCH', 6)} ${rpad('THREAD', TW)} PROC`);
        printHead = false;
      }
      const mem = m.mem;
      const C = m.C;
      const id = m.getField(m.L.cpu, a, 'cpu_id');
      const flags = m.getField(m.L.cpu, a, 'cpu_flags');
      const bspl = m.getField(m.L.cpu, a, 'cpu_base_spl');
      const thr = mem.readPtr(a + C.cpu_thread);
      const idle = mem.readPtr(a + C.cpu_idle_thread);
      const last = mem.readU64n(a + C.cpu_last_swtch);
      const rr = m.getField(m.L.cpu, a, 'cpu_runrun');
      const krr = m.getField(m.L.cpu, a, 'cpu_kprunrun');
      const tv = thr && mem.isMapped(thr, m.L.kthread.size) ? readKthread(m, thr) : undefined;
      let line = `${lpad(id, 3)} ${p0(a)} ${lpad(flags.toString(16), 3)} ${lpad(cpu.runq.length, 4)} ${lpad(bspl, 4)} `;
      line += tv ? `${lpad(tv.t_pri, 3)} ` : `${lpad('-', 3)} `;
      line += `${lpad(rr ? 'yes' : 'no', 4)} ${lpad(krr ? 'yes' : 'no', 5)} `;
      line += last ? `${rpad(`t-${m.lbolt - last}`, 6)} ` : `${rpad('-', 6)} `;
      line += p0(thr);
      line += thr === idle ? ' (idle)' : thr === 0 ? ' -' : tv ? ` ${ucomm(m, tv)}` : ' ?';
      c.out(line);
      if (!verbose) continue;
      const flagbuf: string[] = [];
      let first = true;
      FLAGS.forEach((f, j) => {
        if (!(flags & (1 << j))) return;
        if (first) flagbuf.push(`${' '.repeat(FLAGDELT)}|${' '.repeat(THRDELT - 1 - FLAGDELT)}`);
        flagbuf.push(`${' '.repeat(IDW + CPUW - FLAGW)}${lpad(f, FLAGW)} ${first ? '<--+' : ''}`.padEnd(THRDELT));
        first = false;
      });
      let fl = 0;
      const indent = () => (fl < flagbuf.length ? flagbuf[fl++]! : '').padStart(THRDELT);
      if (cpu.runq.length) {
        c.out(indent() + '|');
        c.out(indent() + `+-->  ${lpad('PRI', 3)} ${rpad('THREAD', TW)} PROC`);
        // The run queue is kept in dispatch order (priority, then FIFO).
        for (const t of cpu.runq) {
          const rv = readKthread(m, t.addr);
          c.out(indent() + `      ${lpad(rv.t_pri, 3)} ${p0(t.addr)} ${ucomm(m, rv)}`);
        }
      }
      while (fl < flagbuf.length) c.out(flagbuf[fl++]!);
      c.out('');
    }
  },
};
