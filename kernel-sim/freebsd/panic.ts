/**
 * Panics in FreeBSD's console form. A page fault in kernel mode prints the trap frame summary
 * (`Fatal trap 12: page fault while in kernel mode`, `fault virtual address = 0x28`, ...) before
 * `panic: page fault`; any other panic prints `panic: MESSAGE`; both end with a KDB backtrace.
 */
import type { Machine } from '../machine/machine';
import { formatAddr } from '../machine/memory';
import { freebsdOf } from './state';

export function isFreebsd(m: Machine): boolean {
  return freebsdOf(m) !== undefined;
}

/** The console lines of the panic, FreeBSD style. */
export function formatFreebsdPanic(m: Machine): string[] {
  const p = m.panicInfo!;
  const t = m.byAddr.get(p.thread);
  const lines: string[] = [];
  const fault = p.fault;
  let message = p.message;
  if (fault && p.message.startsWith('BAD TRAP')) {
    lines.push(
      'Fatal trap 12: page fault while in kernel mode',
      `cpuid = ${p.cpu}; apic id = ${String(p.cpu).padStart(2, '0')}`,
      `fault virtual address\t= 0x${fault.addr.toString(16)}`,
      `fault code\t\t= supervisor ${fault.write ? 'write' : 'read'} data, page not present`,
      `current thread\t\t= ${t?.name ?? formatAddr(p.thread)} (tid ${100000 + (t?.tid ?? 0)})`,
      'trap number\t\t= 12',
    );
    message = 'page fault';
  }
  lines.push(`panic: ${message}`, `cpuid = ${p.cpu}`, `time = ${p.tick}`, 'KDB: stack backtrace:');
  p.stack.forEach((s, i) => {
    const name = s.replace(/\(.*$/, '');
    const base = m.sym.lookup(name.replace(/\+0x[0-9a-f]+$/, ''));
    const off = /\+0x([0-9a-f]+)$/.exec(name);
    const pc = base ? base.addr + (off ? parseInt(off[1]!, 16) : 0) : 0;
    lines.push(`#${i} ${pc ? `0x${formatAddr(pc)}` : '0'} at ${name}`);
  });
  return lines;
}
