/**
 * The shapes every dcmd and walker shares: how a dcmd is called (dot, flags, arguments), how it
 * prints, and the errors that become mdb's messages.
 */
import type { Machine } from '../machine/machine';
import type { Iob } from './iob';

/** An error mdb prints as `mdb: MESSAGE` (the dcmd failed). */
export class MdbError extends Error {}

/** A dcmd asks for its usage line to be printed (mdb's DCMD_USAGE). */
export class DcmdUsage extends Error {
  constructor(readonly warning?: string) {
    super(warning ?? 'usage');
  }
}

export interface DcmdFlags {
  /** An address was given (DCMD_ADDRSPEC). */
  addrspec: boolean;
  /** Called once per value of a pipe or a count (DCMD_LOOP). */
  loop: boolean;
  /** First call of such a loop (DCMD_LOOPFIRST). */
  loopFirst: boolean;
  /** The output goes into a pipe (DCMD_PIPE_OUT): print addresses only. */
  pipeOut: boolean;
  /** The dot came from a pipe (DCMD_PIPE). */
  pipeIn: boolean;
}

export interface MdbHost {
  readonly m: Machine;
  /** Dot. */
  dot: number;
  /** The increment: bytes the last formatting dcmd read (`+` in an expression adds it to dot). */
  incr: number;
  /** Evaluates an mdb expression (symbols, `.`, arithmetic). */
  evaluate(expr: string): number;
  /** Evaluates an mdb expression to its unsigned 64-bit value. */
  evaluateValue(expr: string): bigint;
  /** Runs a command line and returns its output (nested calls such as ::findstack from ::threadlist). */
  run(line: string): string;
  /** State kept between calls (cached ::findleaks results, ...). */
  readonly cache: Map<string, unknown>;
}

export interface DcmdCall {
  readonly m: Machine;
  readonly mdb: MdbHost;
  /** Dot: the address, or 0 when none was given. */
  readonly addr: number;
  readonly flags: DcmdFlags;
  /** Argument words after the dcmd name. */
  readonly args: string[];
  /** The argument text as typed (the format list of `/` and `=`). */
  readonly raw: string;
  /**
   * mdb's output buffer for this pipeline stage (auto-wrap at 80 columns, the margin): output
   * that continues a line across calls of a loop, as `addr,4/X` does. Ended after the stage.
   */
  readonly iob: Iob;
  /** Ends the loop of calls after this one (DCMD_ABORT). */
  stop(): void;
  /** Every dot of this pipeline stage (for dcmds that look at the whole pipe, as ::stacks). */
  readonly pipe: number[];
  /** Appends one output line. */
  out(line: string): void;
  /** Prints `mdb: MESSAGE` and goes on. */
  warn(message: string): void;
}

/** Header line wanted on this call (DCMD_HDRSPEC). */
export function hdrspec(c: DcmdCall): boolean {
  return !c.flags.loop || c.flags.loopFirst;
}

export interface Dcmd {
  name: string;
  /** mdb usage string: leading `?` = address optional, `:` = address required. */
  usage: string;
  description: string;
  /** Text of the DESCRIPTION section of ::help (without it, the description line is used). */
  help?: string;
  module?: string;
  stability?: 'Evolving' | 'Unstable';
  /** A formatting dcmd (`/`, `=`): with a count, each call starts at dot plus the increment. */
  format?: boolean;
  run(c: DcmdCall): void;
}

export interface WalkCall {
  readonly m: Machine;
  readonly mdb: MdbHost;
  /** The walk's starting address (mdb_pwalk), or undefined for a global walk. */
  readonly addr: number | undefined;
}

export interface Walker {
  name: string;
  description: string;
  module?: string;
  /** The addresses the walk visits, in order. Throws MdbError on a bad start. */
  walk(w: WalkCall): number[];
}

/**
 * mdb_getopts: boolean letters, and letters that take a value. Returns the options and the
 * words left over. An unknown option throws DcmdUsage with mdb's warning.
 */
export function getopts(args: string[], bools: string, valued = ''): { set: Set<string>; values: Map<string, string>; rest: string[] } {
  const set = new Set<string>();
  const values = new Map<string, string>();
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a.length < 2 || /^-\d/.test(a)) break;
    for (let k = 1; k < a.length; k++) {
      const ch = a[k]!;
      if (bools.includes(ch)) set.add(ch);
      else if (valued.includes(ch)) {
        const v = a.slice(k + 1) || args[++i];
        if (v === undefined) throw new DcmdUsage(`option requires an argument -- ${ch}`);
        values.set(ch, v);
        break;
      } else throw new DcmdUsage(`illegal option -- ${ch}`);
    }
  }
  return { set, values, rest: args.slice(i) };
}
