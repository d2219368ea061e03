/**
 * `addr::findstack [-v]`: the thread's saved stack pointer and stack (genunix/findstack.c
 * print_stack): `stack pointer for thread ADDR (desc): SP`, `[ SP _resume_from_idle+0x12b() ]`
 * when the thread is switched out, then the frames as `$C 0` (with -v: `$C`, with arguments).
 */
import { getopts, DcmdUsage, MdbError, type Dcmd, type DcmdCall } from '../types';
import { readKthread, threadDesc, threadFrames, threadSp, savedPc, TS_FREE } from '../kthread';
import { p, p0, frameName } from '../format';
import { frameLine, withPanicFrame } from '../stackfmt';

/** The lines ::findstack prints; `cmd` is the `$c`/`$C` form for the frames (threadlist -v passes `$c0`). */
export function findstackLines(c: Pick<DcmdCall, 'm'>, addr: number, verbose: boolean, cmd?: { verbose: boolean; maxArgs: number }): string[] {
  const m = c.m;
  const tv = readKthread(m, addr);
  const t = tv.kt;
  if (!t) throw new MdbError(`couldn't read thread at ${p(addr)}: not a kernel thread`);
  let frames = withPanicFrame(m, addr, threadFrames(m, t));
  const sp = threadSp(frames, t);
  const out = [`stack pointer for thread ${p(addr)}${tv.t_state === TS_FREE ? ' (TS_FREE)' : ''} (${threadDesc(m, tv)}): ${p(sp)}`];
  const pc = savedPc(frames);
  if (pc) {
    out.push(`[ ${p0(sp)} ${frameName(pc.name, pc.offset)}() ]`);
    frames = frames.slice(1);
  }
  const how = cmd ?? { verbose: true, maxArgs: verbose ? Infinity : 0 };
  for (const f of frames) out.push('  ' + frameLine(m, f, how.verbose, how.maxArgs));
  return out;
}

export const findstackDcmd: Dcmd = {
  name: 'findstack',
  usage: ':[-v]',
  description: 'find kernel thread stack',
  help: 'Print the stack of a kernel thread: its saved stack pointer and PC, then the\nframes, as $C would (-v: with the arguments of each frame).',
  run(c) {
    if (!c.flags.addrspec) throw new DcmdUsage();
    const o = getopts(c.args, 'vnst');
    let cmd: { verbose: boolean; maxArgs: number } | undefined;
    if (o.rest.length > 1) throw new DcmdUsage();
    if (o.rest.length === 1) {
      // An mdb command for the frames, as ::threadlist -v passes "<.$c0".
      const mt = /^<?\.?\$([cC])\s*(\d*)$/.exec(o.rest[0]!);
      if (!mt) throw new DcmdUsage();
      cmd = { verbose: mt[1] === 'C', maxArgs: mt[2] ? parseInt(mt[2], 16) : Infinity };
    }
    for (const l of findstackLines(c, c.addr, o.set.has('v'), cmd)) c.out(l);
  },
};
