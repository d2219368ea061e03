/**
 * `::sizeof type` (cmd_sizeof): `sizeof (type) = 0x58`, of a kernel structure, a C type or
 * typedef, or a type of the loaded driver. Into a pipe, only the value.
 */
import { DcmdUsage, MdbError, type Dcmd } from '../types';
import { Types, sizeOf } from '../ctf';
import { showBase } from '../fmt';
import { typeArg, NOTYPE } from './print';

export const sizeofDcmd: Dcmd = {
  name: 'sizeof',
  usage: 'type',
  description: 'print the size of a type',
  help: 'Print the size in bytes of the type: a kernel structure (kthread_t, struct ctxop),\n' +
    'a C type or typedef (uint_t, struct cpu *), or a type of the loaded driver.',
  run(c) {
    if (c.flags.addrspec) throw new DcmdUsage();
    const ta = typeArg(c.args);
    if (!ta || c.args.length !== ta.used) throw new DcmdUsage();
    const t = Types.of(c.m).lookup(ta.name);
    if (!t || t.k === 'fwd') throw new MdbError(`failed to look up type ${ta.name}: ${NOTYPE}`);
    const size = showBase(BigInt(sizeOf(t)));
    c.out(c.flags.pipeOut ? size : `sizeof (${ta.name}) = ${size}`);
  },
};
