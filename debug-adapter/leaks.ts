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
