/** `::status`: what is being debugged (the simulated kernel, its era, and how it ended). */
import type { Dcmd } from '../types';
import { p } from '../format';

export const statusDcmd: Dcmd = {
  name: 'status',
  usage: '',
  description: 'print summary of current target',
  run(c) {
    const m = c.m;
    c.out(`debugging simulated kernel (kctx, ${m.era.id})`);
    c.out(`operating system: illumos ${m.era.label} (${m.cfg.debug ? 'DEBUG' : 'non-DEBUG'})`);
    c.out(`CPUs: ${m.cpus.length}, threads: ${m.threads.length}, lbolt: ${m.lbolt}`);
    if (m.panicInfo) c.out(`panic message: ${m.panicInfo.message} (thread ${p(m.panicInfo.thread)}, cpu ${m.panicInfo.cpu})`);
    else if (m.deadlock) c.out(`hung: ${m.deadlock}`);
    else if (m.stopPoint) c.out(`stopped: ${m.stopPoint.kind}${m.stopPoint.name ? ' ' + m.stopPoint.name : ''} on thread ${p(m.stopPoint.thread.addr)}`);
  },
};
