/**
 * `$c`, `$C` and `::stack`: the stack backtrace of a thread (the panicking thread after a panic,
 * the stopped thread at a stop, else the thread on CPU 0), or of the thread whose frame pointer
 * or kthread_t address is given. Kernel frames and the interpreted driver's C frames alike:
 * `func+0xOFF(args)`; `$C` adds the frame pointer. An optional count limits the arguments shown.
 */
import { DcmdUsage, MdbError, type Dcmd, type DcmdCall } from '../types';
import { curthread, threadFrames, threadOfFrame, savedPc } from '../kthread';
import { frameLine, withPanicFrame } from '../stackfmt';
import { p } from '../format';

function backtrace(c: DcmdCall, verbose: boolean): void {
  const m = c.m;
  if (c.args.length > 1) throw new DcmdUsage();
  const maxArgs = c.args.length ? c.mdb.evaluate(c.args[0]!) : Infinity;
  let t = curthread(m);
  let start = 0;
  if (c.flags.addrspec) {
    const byThread = m.byAddr.get(c.addr);
    if (byThread) t = byThread;
    else {
      const fr = threadOfFrame(m, c.addr);
      if (fr) {
        t = fr.t;
        start = fr.index;
      } else if (!m.mem.isMapped(c.addr, m.L.kthread.size)) {
        throw new MdbError(`failed to read frame at ${p(c.addr)}: no mapping for address`);
      } else throw new MdbError(`${p(c.addr)} is neither a thread nor a frame pointer`);
    }
  }
  let frames = withPanicFrame(m, t.addr, threadFrames(m, t)).slice(start);
  // A switched-out thread's innermost "frame" is its saved PC, which $c shows like any other.
  void savedPc;
  if (!frames.length) frames = [];
  for (const f of frames) c.out(frameLine(m, f, verbose, maxArgs));
}

export const stackCDcmd: Dcmd = {
  name: '$c',
  usage: '?[cnt]',
  description: 'print stack backtrace',
  run: (c) => backtrace(c, false),
};

export const stackVDcmd: Dcmd = {
  name: '$C',
  usage: '?[cnt]',
  description: 'print stack backtrace with frame pointers',
  run: (c) => backtrace(c, true),
};

export const stackDcmd: Dcmd = {
  name: 'stack',
  usage: '?[cnt]',
  description: 'print stack backtrace',
  run: (c) => backtrace(c, false),
};
