/** `::msgbuf [-tTv]`: the console messages (the driver's cmn_err output), oldest first. */
import { getopts, DcmdUsage, type Dcmd } from '../types';
import { lpad, rpad } from '../format';

export const msgbufDcmd: Dcmd = {
  name: 'msgbuf',
  usage: '?[-tTv]',
  description: 'print most recent console messages',
  help: 'Print the console messages, oldest first.\n\n' +
    '  -t    print the tick (lbolt) of each message\n' +
    '  -T    print the ticks since the previous message\n' +
    '  -v    print both',
  run(c) {
    const o = getopts(c.args, 'tTv');
    if (o.rest.length) throw new DcmdUsage();
    const ts = o.set.has('t') || o.set.has('v');
    const delta = o.set.has('T') || o.set.has('v');
    let h = '';
    if (ts) h += `${rpad('TIMESTAMP', 16)} `;
    if (delta) h += `${rpad('DELTA', 8)} `;
    c.out(h + 'MESSAGE');
    let prev: number | undefined;
    for (const msg of c.m.msgbuf) {
      let l = '';
      if (ts) l += `${rpad(msg.tick, 16)} `;
      if (delta) l += `${rpad(prev === undefined ? 0 : msg.tick - prev, 8)} `;
      prev = msg.tick;
      for (const part of msg.text.replace(/^\r/, '').replace(/\n$/, '').split('\n')) {
        c.out(l + part);
        l = l ? ' '.repeat(l.length) : '';
      }
    }
    void lpad;
  },
};
