/**
 * `::help [command]`: NAME, SYNOPSIS, DESCRIPTION and ATTRIBUTES, laid out as mdb_help.c does.
 * Without an argument, a short guide to the simulator's mdb.
 */
import { MdbError, type Dcmd } from '../types';
import { findDcmd } from '../table';

export function synopsisOf(d: Dcmd): string {
  const u = d.usage;
  const sep = d.name.startsWith('$') ? '' : '::';
  if (u.startsWith(':')) return `addr ${sep}${d.name}${u.length > 1 ? ' ' + u.slice(1) : ''}`;
  if (u.startsWith('?')) return `[ addr ] ${sep}${d.name}${u.length > 1 ? ' ' + u.slice(1) : ''}`;
  return `${sep}${d.name}${u ? ' ' + u : ''}`;
}

export const helpDcmd: Dcmd = {
  name: 'help',
  usage: '[cmd]',
  description: 'list commands/command help',
  run(c) {
    if (!c.args.length) {
      for (const l of [
        '',
        'Each debugger command in mdb is structured as follows:',
        '',
        '      [ address [, count]] verb [ arguments ... ]',
        '             ^       ^      ^      ^',
        ' the start --+       |      |      +-- arguments are strings which can be',
        ' address can be an   |      |          quoted using "" or \'\' or',
        ' expression          |      |          expressions enclosed in $[ ]',
        '                     |      |',
        ' the repeat count ---+      +--------- the verb is a name which begins',
        ' is also an expression                 with either $, :, or ::.  it can also',
        '                                       be a format specifier (/ \\ ? or =)',
        '',
        'For information on debugger commands (dcmds) and walkers, type:',
        '',
        '      ::help cmdname ... for more detailed information on a command',
        '      ::dcmds        ... for a list of dcmds and their descriptions',
        '      ::walkers      ... for a list of walkers and their descriptions',
        '',
        'The target is the kctx simulated kernel; $q leaves kctx mdb.',
      ]) c.out(l);
      return;
    }
    const name = c.args[0]!.replace(/^::/, '');
    const d = findDcmd(name);
    if (!d) throw new MdbError(`unknown command: ${name}`);
    c.out('');
    c.out('NAME');
    c.out(`  ${d.name} - ${d.description}`);
    c.out('');
    c.out('SYNOPSIS');
    c.out(`  ${synopsisOf(d)}`);
    c.out('');
    c.out('DESCRIPTION');
    for (const l of (d.help ?? d.description).split('\n')) c.out(l ? `  ${l}` : '');
    c.out('');
    c.out('ATTRIBUTES');
    c.out('');
    c.out('  Target: kvm');
    c.out(`  Module: ${d.module ?? 'genunix'}`);
    c.out(`  Interface Stability: ${d.stability ?? 'Unstable'}`);
    c.out('');
  },
};
