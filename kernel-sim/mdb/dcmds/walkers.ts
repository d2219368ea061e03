/** `::walkers [[-n] pattern]`: the walkers, `%-24s - %s`. */
import { getopts, type Dcmd } from '../types';
import { WALKERS } from '../table';
import { rpad } from '../format';

export const walkersDcmd: Dcmd = {
  name: 'walkers',
  usage: '[[-n] pattern]',
  description: 'list available walkers',
  run(c) {
    const o = getopts(c.args, 'n');
    const pat = o.rest[0];
    const list = WALKERS.slice().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const w of list) {
      if (pat && !(o.set.has('n') ? w.name.includes(pat) : w.name.includes(pat) || w.description.includes(pat))) continue;
      c.out(`${rpad(w.name, 24)} - ${w.description}`);
    }
  },
};
