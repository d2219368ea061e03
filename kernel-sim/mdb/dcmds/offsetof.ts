/**
 * `::offsetof type member` (cmd_offsetof): `offsetof (kthread_t, t_ctx) = 0x38, sizeof
 * (...->t_ctx) = 8`. The member may be a path through nested structures (`vtc.vtc_status`).
 * Into a pipe, only the offset.
 */
import { DcmdUsage, MdbError, type Dcmd } from '../types';
import { Types, sizeOf, type MType, type MField } from '../ctf';
import { showBase } from '../fmt';
import { typeArg, NOTYPE } from './print';

export const offsetofDcmd: Dcmd = {
  name: 'offsetof',
  usage: 'type member',
  description: 'print the offset of a given struct or union member',
  help: 'Print the offset of the member in the structure or union, and the member\'s size.\n' +
    'The member may name a member of a nested structure: vtc.vtc_status.',
  run(c) {
    if (c.flags.addrspec) throw new DcmdUsage();
    const ta = typeArg(c.args);
    if (!ta || c.args.length !== ta.used + 1) throw new DcmdUsage();
    const member = c.args[ta.used]!;
    const t = Types.of(c.m).lookup(ta.name);
    if (!t || t.k === 'fwd') throw new MdbError(`failed to look up type ${ta.name}: ${NOTYPE}`);
    let off = 0;
    let cur: MType = t;
    for (const part of member.split('.')) {
      const f: MField | undefined = cur.k === 'sou' ? cur.fields().find((x) => x.name === part) : undefined;
      if (!f) throw new MdbError(`failed to find member ${member} of type ${ta.name}: no such member of structure or union`);
      off += f.offset;
      cur = f.type;
    }
    if (c.flags.pipeOut) {
      c.out(showBase(BigInt(off)));
      return;
    }
    const sz = sizeOf(cur);
    c.out(`offsetof (${ta.name}, ${member}) = ${showBase(BigInt(off))}${sz > 0 ? `, sizeof (...->${member}) = ${showBase(BigInt(sz))}` : ''}`);
  },
};
