/**
 * `::help [command]`: NAME, SYNOPSIS, DESCRIPTION and ATTRIBUTES, laid out as mdb_help.c does.
 * Without an argument, a short guide to the simulator's mdb.
 */
import { MdbError, type Dcmd } from '../types';
import { findDcmd } from '../table';

export function synopsisOf(d: Dcmd): string {
  const u = d.usage;
  const sep = /^\w/.test(d.name) ? '::' : '';
  // `/` and `=` take their format list glued on.
  const gap = /^[\w$]/.test(d.name) ? ' ' : '';
  if (u.startsWith(':')) return `addr ${sep}${d.name}${u.length > 1 ? gap + u.slice(1) : ''}`;
  if (u.startsWith('?')) return `[ addr ] ${sep}${d.name}${u.length > 1 ? gap + u.slice(1) : ''}`;
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
        'A command is:  [address][,count] verb [arguments ...]',
        '',
        '  address   an expression: hex numbers (0t for decimal), symbols, curthread,',
        '            . (dot), + - * % (divide) # (modulo) & | ^ << >>, *addr reads a pointer',
        '  count     repeats the command',
        '  verb      ::dcmd, $c / $C (stack), /FMT to read memory (addr/X, sym/D, str/s),',
        '            or =FMT to print a value (::formats lists the format characters)',
        '',
        'Commands can be piped: A | B runs B once per address A prints.',
        '',
        '  ::help NAME   details of a dcmd',
        '  ::dcmds       every dcmd',
        '  ::walkers     every walker',
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
