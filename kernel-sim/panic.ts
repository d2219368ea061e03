/**
 * A panic as the kernel prints it: illumos's `panic[cpuN]/thread=ADDR: message` and the stack,
 * or FreeBSD's form for the freebsd-14 personality (its kernel sets the machine's panicLines hook).
 * Shared by `kctx run` and the debug adapter; the machine itself writes the same lines to ::msgbuf.
 */
import type { Machine } from './machine/machine';

export function formatPanic(m: Machine): string[] {
  return m.panicLines();
}
