/**
 * A panic as the kernel prints it: illumos's `panic[cpuN]/thread=ADDR: message` and the stack,
 * or FreeBSD's form for the freebsd-14 personality. Shared by `kctx run` and the debug adapter.
 */
import type { Machine } from './machine/machine';
import { formatAddr } from './machine/memory';
import { isFreebsd, formatFreebsdPanic } from './freebsd/panic';

export function formatPanic(m: Machine): string[] {
  if (isFreebsd(m)) return formatFreebsdPanic(m);
  const p = m.panicInfo!;
  const lines = [`panic[cpu${p.cpu}]/thread=${formatAddr(p.thread)}: ${p.message}`, ''];
  for (const f of p.stack) lines.push(`${formatAddr(p.thread)} ${f}`);
  return lines;
}
