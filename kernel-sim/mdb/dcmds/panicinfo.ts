/** `::panicinfo`: the panicking CPU, thread and message (postmortem only). */
import { DcmdUsage, MdbError, type Dcmd } from '../types';
import { p, lpad } from '../format';

export const panicinfoDcmd: Dcmd = {
  name: 'panicinfo',
  usage: '',
  description: 'print panic information',
  run(c) {
    if (c.args.length) throw new DcmdUsage();
    const pi = c.m.panicInfo;
    if (!pi) throw new MdbError('panicinfo can only be run on a system dump; see dumpadm(1M)');
    c.out(`${lpad('cpu', 16)} ${lpad(pi.cpu, 16)}`);
    c.out(`${lpad('thread', 16)} ${lpad(p(pi.thread), 16)}`);
    c.out(`${lpad('message', 16)} ${pi.message}`);
    c.out(`${lpad('lbolt', 16)} ${lpad(pi.tick.toString(16), 16)}`);
  },
};
