/**
 * `addr::bufctl [-v]`: a kmem buffer's audit record (its bufctl): buffer, time, thread and the
 * allocating (or freeing) stack. The address may be the bufctl or the buffer itself.
 */
import { getopts, DcmdUsage, MdbError, hdrspec, type Dcmd } from '../types';
import type { Machine } from '../../machine/machine';
import type { Bufctl } from '../../machine/kmem';
import { p, p0, lpad, rpad, frameName } from '../format';

function find(m: Machine, addr: number): Bufctl | undefined {
  const direct = m.kmem.bufctls.get(addr);
  if (direct) return direct;
  for (const b of m.kmem.bufctls.values()) if (b.addr === addr) return b;
  return m.kmem.findBuffer(addr)?.bufctl;
}

function auditText(s: string): string {
  const mt = /^(.*)\+0x([0-9a-f]+)$/.exec(s);
  return mt ? frameName(mt[1]!, parseInt(mt[2]!, 16)) : s;
}

/** The ::bufctl lines for the buffer (verbose: the -v form with the whole stack). */
export function bufctlLines(m: Machine, addr: number, verbose: boolean, header = true): string[] {
  const b = find(m, addr);
  if (!b) throw new MdbError(`couldn't read bufctl at ${p(addr)}: not a kmem buffer or bufctl`);
  const cache = m.kmem.caches.get(b.cache)!;
  const out: string[] = [];
  if (verbose) {
    out.push(`${lpad('ADDR', 16)} ${lpad('BUFADDR', 16)} ${lpad('TIMESTAMP', 16)} ${lpad('THREAD', 16)}`);
    out.push(`${lpad('', 16)} ${lpad('CACHE', 16)} ${lpad('LASTLOG', 16)} ${lpad('CONTENTS', 16)}`);
    out.push(`${lpad(p(b.addr), 16)} ${lpad(p(b.buf), 16)} ${lpad(b.tick.toString(16), 16)} ${lpad(p(b.thread), 16)}`);
    out.push(`${lpad('', 16)} ${lpad(p(cache.addr), 16)} ${lpad('0', 16)} ${lpad('0', 16)}`);
    for (const s of b.stack) out.push(`${lpad('', 16)} ${auditText(s)}`);
    out.push('');
    return out;
  }
  if (header) out.push(`${rpad('ADDR', 16)} ${rpad('BUFADDR', 16)} ${rpad('TIMESTAMP', 12)} ${rpad('THREAD', 16)} CALLER`);
  const caller = b.stack.map(auditText).find((s) => !/^(kmem_|vmem_)/.test(s)) ?? b.stack[0] ?? '?';
  out.push(`${p0(b.addr)} ${p0(b.buf)} ${lpad(b.tick.toString(16), 12)} ${p0(b.thread)} ${caller}`);
  return out;
}

export const bufctlDcmd: Dcmd = {
  name: 'bufctl',
  usage: ':[-v]',
  description: 'print or filter a bufctl',
  help: 'Print the audit record of a kmem buffer: the buffer, the tick and thread of its\n' +
    'last allocation or free, and (with -v) that stack.  The address may be the bufctl\n' +
    'or the buffer.',
  run(c) {
    if (!c.flags.addrspec) throw new DcmdUsage();
    const o = getopts(c.args, 'v');
    if (o.rest.length) throw new DcmdUsage();
    for (const l of bufctlLines(c.m, c.addr, o.set.has('v'), hdrspec(c))) c.out(l);
  },
};
