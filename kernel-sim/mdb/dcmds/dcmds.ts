/** `::dcmds [[-n] pattern]`: the dcmds, `%-24s - %s`. */
import { getopts, type Dcmd } from '../types';
import { DCMDS } from '../table';
import { rpad } from '../format';

export const dcmdsDcmd: Dcmd = {
  name: 'dcmds',
  usage: '[[-n] pattern]',
  description: 'list available debugger commands',
  run(c) {
    const o = getopts(c.args, 'n');
    const pat = o.rest[0];
    const list = DCMDS.slice().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const d of list) {
      if (pat && !(o.set.has('n') ? d.name.includes(pat) : d.name.includes(pat) || d.description.includes(pat))) continue;
      c.out(`${rpad(d.name, 24)} - ${d.description}`);
    }
  },
};
