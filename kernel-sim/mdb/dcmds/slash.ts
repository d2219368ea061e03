/**
 * `[addr][,count]/fmt-list`: read target memory at dot and print it in the given formats
 * (`vmm_vcpus_done/D`, `addr,4/X`, `str/s`, `ptr/K`, `addr/DX`, `addr/4X`). See fmt.ts.
 */
import type { Dcmd } from '../types';
import { hdrspec } from '../types';
import { parseFormatList, printArglist } from '../fmt';

export const slashDcmd: Dcmd = {
  name: '/',
  usage: '?fmt-list',
  description: 'format data from virtual as',
  format: true,
  help:
    'Read memory at the address (dot) and print it in each format of the list: format\n' +
    'characters (::formats lists them), decimal repeat counts before a character (4X),\n' +
    '$[expr] counts, and "strings".  With addr,count the list is applied count times,\n' +
    'each time where the previous one stopped.  A write character first (v w W Z) is\n' +
    'refused; l, L or M first searches for a value.',
  run(c) {
    const args = parseFormatList(c.raw, (e) => c.mdb.evaluateValue(e));
    const st = { dot: c.mdb.dot, incr: c.mdb.incr };
    try {
      const r = printArglist(c.m, c.iob, st, args, hdrspec(c) && !c.flags.pipeOut, (e) => c.mdb.evaluateValue(e));
      if (r.abort && !c.flags.pipeIn) c.stop();
    } finally {
      c.mdb.incr = st.incr;
      c.mdb.dot = st.dot;
    }
  },
};
