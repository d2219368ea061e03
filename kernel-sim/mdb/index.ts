/**
 * The mdb engine for the simulated kernel: `createMdb(m).execute(line)` runs one command line
 * (mdb syntax: `[addr][,count]::dcmd [args]`, `$c`, `::walk`, pipelines) and returns what mdb
 * would print. Used by `kctx run --mdb`, `kctx mdb`, the debug console and the command palette.
 */
import type { Machine } from '../machine/machine';
import { MdbEngine, type DcmdInfo } from './engine';
import { DCMDS, WALKERS } from './registry';

export interface Mdb {
  /** Runs one line; returns the output (each line ending in a newline), '' when nothing printed. */
  execute(line: string): string;
  /** The engine (dot, cached ::findleaks results). */
  readonly engine: MdbEngine;
}

export function createMdb(m: Machine): Mdb {
  const engine = new MdbEngine(m);
  return { engine, execute: (line: string) => engine.run(line) };
}

/** Every dcmd name (`threadlist`, `$c`, ...), sorted: for completion. */
export function DCMD_NAMES(): string[] {
  // `/` and `=` are typed as `addr/FMT`, never after `::`.
  return DCMDS.map((d) => d.name).filter((n) => /^[\w$]/.test(n)).sort();
}

/** Every walker name, sorted. */
export function WALKER_NAMES(): string[] {
  return WALKERS.map((w) => w.name).sort();
}

/** Name, usage, SYNOPSIS line and description of every dcmd (debug console, palette). */
export function dcmdInfo(): DcmdInfo[] {
  return MdbEngine.dcmdInfo().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Completions for a partial command line: dcmd names after `::`, walker names after `::walk `. */
export function complete(line: string): string[] {
  const w = /::walk\s+(\w*)$/.exec(line);
  if (w) return WALKER_NAMES().filter((n) => n.startsWith(w[1]!)).map((n) => line.slice(0, w.index) + '::walk ' + n);
  const d = /::(\w*)$/.exec(line);
  if (d) return DCMD_NAMES().filter((n) => !n.startsWith('$') && n.startsWith(d[1]!)).map((n) => line.slice(0, d.index) + '::' + n);
  const b = /\$(\w?)$/.exec(line);
  if (b) return DCMD_NAMES().filter((n) => n.startsWith('$' + b[1]!)).map((n) => line.slice(0, b.index) + n);
  return [];
}

export { findLeaks, type LeakReport, type Leak } from './leaky';
export { MdbEngine, type DcmdInfo };
