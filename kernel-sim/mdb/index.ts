/** The mdb engine's entry point: being built (issue 4). */
import type { Machine } from '../machine/machine';

export function createMdb(_m: Machine): { execute(line: string): string } {
  return { execute: (line: string) => `mdb: '${line}': the mdb engine is not built yet\n` };
}

export function DCMD_NAMES(): string[] {
  return [];
}
