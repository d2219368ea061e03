/**
 * `--era auto` from the kernel tree a file belongs to: walk up from the file to an illumos `uts`
 * folder (or take the `gate` of its .kctx.json) and read which ctxop interface the tree's own
 * `common/sys/proc.h` declares (core's `eraOfKernelHeaders`, which the simulator's `gate` reads
 * trees with too). A file outside any tree gets null: the engine then infers the era from the file.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Era } from './ctxapi';
import { ERA_FACTS } from '../core/eras';
import { eraOfKernelHeaders } from '../core/infer-era';

export interface KernelTree { uts: string; era: Era }

const PROC_H = join('common', 'sys', 'proc.h');

function isFile(p: string): boolean {
  try { return statSync(p).isFile(); } catch { return false; }
}

const byUts = new Map<string, KernelTree | null>();
const byDir = new Map<string, string | null>();

function treeAt(uts: string): KernelTree | null {
  let t = byUts.get(uts);
  if (t !== undefined) return t;
  t = null;
  const p = join(uts, PROC_H);
  try {
    if (statSync(p).size <= 4 * 1024 * 1024) {
      const h = eraOfKernelHeaders(readFileSync(p, 'utf8'));
      if (h) t = { uts, era: ERA_FACTS[h.era].api };
    }
  } catch { /* no header: no tree */ }
  byUts.set(uts, t);
  return t;
}

/** The `uts` folder of a gate checkout (the root, usr/src or uts itself), or null. */
function utsOfGate(gate: string): string | null {
  for (const u of [join(gate, 'usr', 'src', 'uts'), join(gate, 'uts'), gate]) if (isFile(join(u, PROC_H))) return u;
  return null;
}

/** The kernel tree of a file: its .kctx.json gate if given, else the nearest `uts` folder above it. */
export function kernelTreeOf(file: string, gate?: string): KernelTree | null {
  if (gate) { const u = utsOfGate(resolve(gate)); return u ? treeAt(u) : null; }
  const start = dirname(resolve(file));
  const seen: string[] = [];
  let d = start;
  let uts: string | null = null;
  for (;;) {
    const c = byDir.get(d);
    if (c !== undefined) { uts = c; break; }
    seen.push(d);
    if (basename(d) === 'uts' && isFile(join(d, PROC_H))) { uts = d; break; }
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const s of seen) byDir.set(s, uts);
  return uts ? treeAt(uts) : null;
}
