/**
 * `value=fmt-list`: print the value of dot in each format of the list (`0t16=X`, `addr=K`,
 * `sym=a`), through the same format table as `/`, reading the value's own bytes.
 */
import type { Dcmd } from '../types';
import { parseFormatList, printValue } from '../fmt';

export const equalsDcmd: Dcmd = {
  name: '=',
  usage: '?fmt-list',
  description: 'format immediate value',
  format: true,
  help:
    'Print the value (dot) in each format of the list: =X hexadecimal, =D signed\n' +
    'decimal, =E unsigned, =K a pointer, =a symbol+offset, =c a character, ...\n' +
    '(::formats lists them).  The output starts on the 16-column margin, as mdb\'s does.',
  run(c) {
    const args = parseFormatList(c.raw, (e) => c.mdb.evaluateValue(e));
    const st = { dot: c.mdb.dot, incr: c.mdb.incr };
    printValue(c.m, c.iob, st, args);
    c.mdb.dot = st.dot;
    c.mdb.incr = st.incr;
  },
};
