/**
 * The preprocessed and parsed translation units of this process, kept for the next load of the
 * same source (the debugger and the code lens relaunch a scenario in the same process). A unit is
 * reused only when every file it read still has the same contents and the load's inputs are the
 * same (source, scenario folder, defines, include folders, the gate's macros, the shipped
 * headers' era); its output is then the same bytes the preprocessor and parser would give, so a
 * load from the cache runs exactly as a fresh one. At most ENTRIES units are kept (least
 * recently used first out). Across processes, disk-cache.ts keeps the preprocessed output.
 */
import type { Tree } from 'web-tree-sitter';
import type { CNode } from './ctree';
import { isFile, type Preprocessor, type PreprocessResult } from './preprocess';
import { readTextBounded } from '../io/files';
import type { Needs } from './needed';
import { statSig } from './disk-cache';

export interface CachedUnit {
  pre: Preprocessor;
  pp: PreprocessResult;
  /**
   * The parsed text: the whole unit, or only what a load needs of it (`needs`); null when the
   * tree was revived from disk (needed.ts neededTree: only ever a tree without syntax errors).
   */
  tree: Tree | null;
  /** The tree's plain copy (ctree.ts), what the compiler reads. */
  root: CNode;
  main: number;
  /** The disk cache's id of the preprocessed unit (disk-cache.ts), when stored. */
  id?: string;
  /** What a load needs of the unit (needed.ts), once known; the tree holds only that when `partial`. */
  needs?: Needs;
  /** What the needs were found for (the compiler's code, the kernel, the module). */
  needsFor?: string;
  partial?: boolean;
}

const ENTRIES = 8;
/** A file larger than this was not read by the preprocessor either: the unit is not reused. */
const MAX_FILE = 64 * 1024 * 1024;
const units = new Map<string, CachedUnit>();
const stats = { hits: 0, misses: 0 };

/** Hits and misses so far (tests, benches). */
export function unitCacheStats(): { hits: number; misses: number } {
  return { ...stats };
}

/** Forgets every unit (tests: the next load is as in a new process). */
export function clearUnitCache(): void {
  units.clear();
}

/** Every file the unit read, as read then, and every include-path probe answered as then? */
function unchanged(u: CachedUnit): boolean {
  for (const [p, was] of u.pre.probes) if (isFile(p) !== was) return false;
  const seen = new Set<string>();
  for (const f of u.pp.files) {
    if (f.path.startsWith('<') || seen.has(f.path)) continue;
    seen.add(f.path);
    // A file of a stored unit whose stat was the one recorded: the same stat is the same text.
    if (f.stamp !== undefined) {
      if (statSig(f.path) !== f.stamp) return false;
      continue;
    }
    try {
      // Read as the preprocessor reads (bytes as latin1 characters).
      if (readTextBounded(f.path, MAX_FILE, 'latin1') !== f.text) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** The unit for `key`, made by `make` unless a cached one is still true to its files. */
export function cachedUnit(key: string, make: () => CachedUnit): CachedUnit {
  const hit = units.get(key);
  if (hit && unchanged(hit)) {
    stats.hits++;
    units.delete(key);
    units.set(key, hit);
    return hit;
  }
  stats.misses++;
  const u = make();
  units.delete(key);
  units.set(key, u);
  while (units.size > ENTRIES) units.delete(units.keys().next().value!);
  return u;
}
