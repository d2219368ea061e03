/** The dcmd and walker tables (filled by registry.ts; read by ::dcmds, ::walkers, ::help, ::walk). */
import type { Dcmd, Walker } from './types';

export const DCMDS: Dcmd[] = [];
export const WALKERS: Walker[] = [];

/** A dcmd by name (`thread`, `genunix\`thread`, `$c`). */
export function findDcmd(name: string): Dcmd | undefined {
  const bare = name.includes('`') ? name.slice(name.lastIndexOf('`') + 1) : name;
  return DCMDS.find((d) => d.name === bare);
}

export function findWalker(name: string): Walker | undefined {
  const bare = name.includes('`') ? name.slice(name.lastIndexOf('`') + 1) : name;
  return WALKERS.find((w) => w.name === bare);
}
