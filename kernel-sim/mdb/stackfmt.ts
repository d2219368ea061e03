/**
 * `$c` and `$C` lines for a list of frames (mdb_amd64_kvm_frame / _framev): `%a(` args `)`, and
 * with `$C` the frame pointer first. `maxArgs` is the optional count (`$c 0` prints no args).
 */
import type { Machine } from '../machine/machine';
import { frameName, p0, word } from './format';
import type { MdbFrame } from './kthread';

export function frameLine(m: Machine, f: MdbFrame, verbose: boolean, maxArgs = Infinity): string {
  const args = f.args.slice(0, Math.max(0, maxArgs)).map((a) => word(m, a)).join(', ');
  const call = `${frameName(f.name, f.offset)}(${args})`;
  return verbose ? `${p0(f.fp)} ${call}` : call;
}

/** The frames of `$c` for a thread: the panicking thread shows vpanic() on top, as in a dump. */
export function withPanicFrame(m: Machine, threadAddr: number, frames: MdbFrame[]): MdbFrame[] {
  if (!m.panicInfo || m.panicInfo.thread !== threadAddr) return frames;
  const fp = frames.length ? frames[0]!.fp - 0x30 : 0;
  return [{ fp, name: 'vpanic', offset: 0, args: [], kind: 'kernel' }, ...frames];
}
