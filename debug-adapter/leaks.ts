/**
 * Leaks at the end of a run, for the `leak` exception filter: mdb's ::findleaks (kernel-sim/mdb)
 * summarised as a count, a byte total and one line per leak group.
 */
import { formatAddr, findLeaks as mdbFindLeaks, type Machine } from '../kernel-sim/index';

export interface LeakSummary {
  count: number;
  bytes: number;
  lines: string[];
  /** The first leak's allocation stack (its bufctl's), innermost first, with C source lines. */
  stack?: Array<{ name: string; file?: string; line?: number }>;
}

export function findLeaks(m: Machine): LeakSummary {
  let r;
  try {
    r = mdbFindLeaks(m);
  } catch (e) {
    return { count: 0, bytes: 0, lines: [`::findleaks failed: ${(e as Error).message}`] };
  }
  const lines = r.leaks.map((l) => `${l.count} buffer(s) of ${l.bufsize} bytes (${l.cache}) leaked, allocated by ${l.caller}, first at ${formatAddr(l.buf)}`);
  const first = r.leaks[0];
  const bc = first ? m.kmem.bufctls.get(first.buf) : undefined;
  const stack = bc?.stack.map((name, i) => ({ name, ...(bc.sites?.[i] ?? {}) }));
  return { count: r.totalBuffers, bytes: r.totalBytes, lines, stack };
}

/**
 * Where each leak group's caller (the CALLER column of ::findleaks) is in the driver's C source:
 * its frame in the first leaked buffer's bufctl stack, with the site kmem_alloc remembered.
 */
export function leakCallerSites(m: Machine): Array<{ caller: string; file: string; line: number }> {
  let r;
  try {
    r = mdbFindLeaks(m);
  } catch {
    return [];
  }
  const out: Array<{ caller: string; file: string; line: number }> = [];
  for (const l of r.leaks) {
    const bc = m.kmem.bufctls.get(l.buf);
    if (!bc) continue;
    const name = l.caller.replace(/\+.*$/, '');
    const i = bc.stack.findIndex((s, j) => s.replace(/\+.*$/, '') === name && bc.sites?.[j]?.file);
    const site = i >= 0 ? bc.sites?.[i] : undefined;
    if (site?.file && site.line) out.push({ caller: l.caller, file: site.file, line: site.line });
  }
  return out;
}
