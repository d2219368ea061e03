/**
 * The folder walk of `kctx lint PATH...` and of the language server's workspace diagnostics.
 * Each real path is visited once (a file reached through two links is linted once, a folder
 * reached twice is read once); a symbolic link to a folder is not followed unless asked
 * (`--follow-symlinks`), and when it is, a folder already on the way down is a cycle and is
 * skipped; the walk is bounded in entries and depth. It is a generator that also yields `null`
 * at every folder entry, so an asynchronous caller can pause, answer other requests and stop.
 */
import { lstatSync, readdirSync, realpathSync, statSync, type Dirent, type Stats } from 'node:fs';
import { join } from 'node:path';

export interface WalkOptions {
  /** Follow symbolic links to folders (with cycle detection). Default false. */
  followSymlinks?: boolean;
  /** The most folder entries looked at, in all (default 2,000,000). */
  maxEntries?: number;
  /** The deepest folder nesting (default 128). */
  maxDepth?: number;
}

export class WalkError extends Error {}

const SKIP_DIRS = new Set(['node_modules', '.git', '.hg', '.svn']);
const isSource = (name: string) => name.endsWith('.c') || name.endsWith('.h');

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/**
 * The `.c`/`.h` files under the given paths (a file named on its own is taken whatever its
 * name), sorted per folder; `null` between entries for a caller that wants to pause.
 */
export function* walkSources(paths: readonly string[], opts: WalkOptions = {}): Generator<string | null> {
  const maxEntries = opts.maxEntries ?? 2_000_000;
  const maxDepth = opts.maxDepth ?? 128;
  const seenFiles = new Set<string>();
  const seenDirs = new Set<string>();
  let entries = 0;

  function* dir(d: string, realD: string, depth: number, onPath: Set<string>): Generator<string | null> {
    if (seenDirs.has(realD)) return;
    seenDirs.add(realD);
    if (depth > maxDepth) throw new WalkError(`'${d}' is nested more than ${maxDepth} folders deep`);
    let ents: Dirent[];
    try {
      ents = readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch (e) {
      throw new WalkError(`cannot read directory '${d}': ${(e as NodeJS.ErrnoException).code ?? e}`);
    }
    for (const ent of ents) {
      const name = ent.name;
      if (++entries > maxEntries) throw new WalkError(`more than ${maxEntries} entries under the given paths: name fewer or smaller folders`);
      yield null;
      if (SKIP_DIRS.has(name) || name.startsWith('.')) continue;
      const p = join(d, name);
      // the entry's type from the folder read (no stat); a plain folder or file under a real path is real
      if (ent.isDirectory()) {
        const r = join(realD, name);
        onPath.add(r);
        yield* dir(p, r, depth + 1, onPath);
        onPath.delete(r);
        continue;
      }
      if (ent.isFile()) {
        if (!isSource(name)) continue;
        const r = join(realD, name);
        if (seenFiles.has(r)) continue;
        seenFiles.add(r);
        yield p;
        continue;
      }
      let st: Stats;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      if (st.isSymbolicLink()) {
        try {
          st = statSync(p);
        } catch {
          continue; // dangling
        }
        if (st.isDirectory()) {
          if (!opts.followSymlinks) continue;
          const r = real(p);
          if (onPath.has(r)) continue; // a cycle: a link to a folder we are inside
          onPath.add(r);
          yield* dir(p, r, depth + 1, onPath);
          onPath.delete(r);
          continue;
        }
      }
      if (st.isDirectory()) {
        const r = real(p);
        onPath.add(r);
        yield* dir(p, r, depth + 1, onPath);
        onPath.delete(r);
      } else if (st.isFile() && isSource(name)) {
        const r = real(p);
        if (seenFiles.has(r)) continue;
        seenFiles.add(r);
        yield p;
      }
    }
  }

  for (const p of paths) {
    let st: Stats;
    try {
      st = statSync(p);
    } catch (e) {
      throw new WalkError(`cannot read '${p}': ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
    }
    const r = real(p);
    if (st.isDirectory()) yield* dir(p, r, 0, new Set([r]));
    else if (!seenFiles.has(r)) {
      seenFiles.add(r);
      yield p;
    }
  }
}
