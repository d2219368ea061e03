/**
 * The resume protocol: how a stop and the resume after it leave the schedule exactly as a run
 * that never stopped (same cycles, same switches, same ticks, same check count), so positions,
 * checkpoints and reverse execution by replay stay exact. Tested by test/dap/resume.test.ts.
 *
 * A stop point is checked BEFORE the thing it names happens (a switch, a hook call, a function
 * call, a C statement, a hazard; data and deadlock stops come after their effect: see
 * `stopsAfterEffect`). The machine's policy answers "stop"; the code that asked throws
 * `StopSignal` (or returns), leaving the step with nothing done at that point. Resuming runs
 * the interrupted step again, so the same check comes up a second time and must be neither
 * stopped at nor counted. Four mechanisms, from the bottom layer up:
 *
 * 1. The cycle (interpreter, `fr.owed`: kernel-sim/cinterp/codegen.ts,
 *    `stoppedInStatement` in compile.ts). A stop inside a C statement that began in this step
 *    gives the statement's cycle back (the slice's budget stays what an unstopped run had at
 *    that point) and marks the frame as owing it. The resumed step counts the cycle without
 *    making the statement's budget and stop checks again, so the first check it makes is the
 *    one that stopped.
 *
 * 2. The call (machine, frame marks: `hookStop` in machine/dispatcher.ts `callHook`, `fnStop`
 *    in machine.ts `callFunctionChecked`). A hook calls a C handler: the 'hook' point and then
 *    the 'function' point are checked before any effect. A stop at the function point marks the
 *    caller's frame; when the step runs again the hook check, made before the stop, is skipped,
 *    so again the first check after resuming is the one that stopped. Marks are frame data:
 *    snapshots keep them, a replay from an earlier checkpoint never sees them.
 *
 *    The swtch frame runs its phases (and its ctxop walk, one op each) back to back, one cycle
 *    each: a stop point in a later phase (a hook, a 'kline' line of resume/savectx/restorectx/
 *    _resume_from_idle) ends the step with the cycles of the phases before it, and the step taken
 *    again starts at that phase, whose check comes first.
 *
 * 3. The one check (machine, `Machine.skipStopOnce`). For a plain driver of the machine (the
 *    CLI, unit tests): after a stop, set it and run; the first check is not asked at all.
 *
 * 4. The re-check list (debugger, `Recheck` below, used by engine.ts's policy). The debugger
 *    counts every check (a position's `e`), so it must know exactly which checks of the resumed
 *    step are repeats. When the step that stopped used cycles, it resumes at the interrupted
 *    operation (1 and 2 above): the only repeat is the stop point itself, or the statement check
 *    of the statement it stopped in. When it used none, the whole step runs again from its
 *    start: every check it made before the stop repeats, in order, then the stop point. The
 *    policy skips exactly that list (`skipRecheck`) and counts everything after it. A checkpoint
 *    taken at a stop (after the user changed the state there) stores the list, so a replay from
 *    it skips the same checks.
 *
 * Because every layer resumes at the check that stopped and the debugger skips exactly the
 * repeated checks, "the e-th check" names the same point in every run of a scenario and seed,
 * whether or not it stopped on the way: that is what `Pos` (position.ts) relies on.
 */
import type { StopPoint } from '../kernel-sim/index';
import { pointKey, stopsAfterEffect, CHECK, type Pos } from './position';

/** Checks a resumed step will make again (they are neither counted nor stopped at). */
export interface Recheck {
  /** The stop point itself. */
  stop: string;
  /** Checks of the same step before it, in order (when the step is run from its start again). */
  prefix: string[];
  cursor: number;
}

/**
 * What resuming from a stop at `pos` (point `p`) will check again. `batch`: the checks made in
 * the step that stopped, in order; `stepsNow`: the machine's step count now (it differs from
 * `pos.s` when the step used cycles before stopping).
 */
export function recheckAfterStop(pos: Pos, p: StopPoint, batch: readonly StopPoint[], stepsNow: number): Recheck | null {
  if (pos.k !== CHECK || stopsAfterEffect(p)) return null;
  const before = batch.slice(0, Math.max(0, batch.lastIndexOf(p)));
  let prefix: StopPoint[];
  if (stepsNow === pos.s) prefix = before;
  else {
    // Resumed at the interrupted operation: when that is the start of a C statement, the
    // statement's check repeats first.
    let last: StopPoint | undefined;
    for (let i = before.length - 1; i >= 0; i--) {
      if (before[i]!.kind === 'statement' && before[i]!.thread === p.thread) {
        last = before[i];
        break;
      }
    }
    prefix = last ? [last] : [];
  }
  return { stop: pointKey(p), prefix: prefix.map(pointKey), cursor: 0 };
}

/** A fresh copy of a re-check list, to be consumed from its start. */
export function rewound(re: Recheck | null): Recheck | null {
  return re ? { ...re, cursor: 0 } : null;
}

/**
 * Whether check `p` is a repeat the resumed step makes (skip it: do not count it, do not stop).
 * Consumes the list; returns 'done' when the list is finished (this and later checks are new).
 */
export function skipRecheck(re: Recheck, p: StopPoint): 'skip' | 'last' | 'done' {
  const key = pointKey(p);
  if (key === re.stop) return 'last';
  if (re.cursor < re.prefix.length && key === re.prefix[re.cursor]) {
    re.cursor++;
    return 'skip';
  }
  return 'done';
}
