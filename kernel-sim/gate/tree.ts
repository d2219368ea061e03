/**
 * A kernel tree given by a scenario's `"gate"` (or `kctx run --gate`): where it is, the folders
 * searched for `#include`, the folders sources may read from, and the era its headers declare.
 *
 * `searchRoots` is the one place that resolves `gate` and `includePaths` into folders; the
 * confinement of sources, includes and stubs uses the same answer.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EraId } from '../abi/eras';
import { gateBuild } from './build';
import type { GeneratedRule } from './generated';
import { eraOfKernelHeaders } from '../../core/infer-era';

/** Why `dir` is not an illumos-gate checkout, or null when it is one. */
export function notAGate(dir: string): string | null {
  let st;
  try {
    st = statSync(dir);
  } catch {
    return 'no such folder';
  }
  if (!st.isDirectory()) return 'not a folder';
  if (!existsSync(join(dir, 'usr/src/uts/common/sys/thread.h'))) return 'not an illumos-gate checkout (no usr/src/uts/common/sys/thread.h)';
  return null;
}

/** The checkout's root for a path given as the root, `usr/src` or `usr/src/uts`. */
export function gateRoot(dir: string): string {
  const d = resolve(dir);
  for (const tail of ['/usr/src/uts', '/usr/src']) if (d.endsWith(tail) && !notAGate(d.slice(0, -tail.length))) return d.slice(0, -tail.length);
  return d;
}

export interface SearchRoots {
  /** `#include` folders in search order: the scenario's includePaths, then the gate's build path. */
  includeDirs: string[];
  /** Folders whose files a load may read: the scenario's folder, the include folders, the gate. */
  roots: string[];
  /** The gate's predefined macros (makefiles), when there is a gate. */
  defines: Array<[string, string]>;
  undefs: string[];
  /** The headers the gate's build generates (made on first #include). */
  generated: GeneratedRule[];
}

/** Resolves a scenario's `gate` and `includePaths` (already absolute) into search folders. */
export function searchRoots(s: { baseDir: string; gate?: string; module?: string; includePaths: string[]; defines: Record<string, unknown> }): SearchRoots {
  const includeDirs = [...(s.includePaths ?? [])];
  const roots = [s.baseDir, ...(s.includePaths ?? [])];
  let defines: Array<[string, string]> = [];
  let undefs: string[] = [];
  let generated: GeneratedRule[] = [];
  if (s.gate) {
    const b = gateBuild(s.gate, 'DEBUG' in s.defines && s.defines.DEBUG !== false, s.module);
    for (const d of b.includeDirs) if (!includeDirs.includes(d)) includeDirs.push(d);
    roots.push(s.gate);
    defines = b.defines;
    undefs = b.undefs;
    generated = b.generated ?? [];
  }
  return { includeDirs, roots, defines, undefs, generated };
}

export interface GateEra {
  era: EraId;
  /** What in which header says so. */
  evidence: string;
}

function readHeader(path: string): string {
  try {
    if (statSync(path).size > 4 * 1024 * 1024) return '';
    return readFileSync(path, 'latin1');
  } catch {
    return '';
  }
}

/** The ctxop interface era the tree's headers declare (core's `eraOfKernelHeaders`); 13917 when none. */
export function gateEra(gate: string): GateEra {
  const proc = join(gate, 'usr/src/uts/common/sys/proc.h');
  const thread = join(gate, 'usr/src/uts/common/sys/thread.h');
  const h = eraOfKernelHeaders(readHeader(proc), readHeader(thread));
  if (!h) return { era: 'illumos-13917', evidence: `${proc} declares neither installctx() nor struct ctxop_template` };
  return { era: h.era, evidence: `${proc} ${h.why.replace('thread.h', thread)}` };
}
