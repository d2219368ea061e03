/** `::formats`: the format characters of `/` and `=` with their sizes (cmd_formats). */
import { DcmdUsage, type Dcmd } from '../types';
import { formatsTable } from '../fmt';

export const formatsDcmd: Dcmd = {
  name: 'formats',
  usage: '',
  description: 'list format specifiers',
  run(c) {
    if (c.flags.addrspec || c.args.length) throw new DcmdUsage();
    for (const l of formatsTable()) c.out(l);
  },
};
