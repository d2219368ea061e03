/**
 * Positions in a deterministic run, for stops, checkpoints and reverse execution.
 *
 * `e` counts the stop-point checks the machine made so far (swtch, hook, function, statement,
 * data, hazard), each counted once even when a stop makes its step run again. `s` is the
 * machine's step count (cycles). A position is one of:
 *   k = CHECK       the e-th check itself (s: the step count when it was made)
 *   k = AFTER_STEP  right after a step that ended with the count at s (step, pause stops)
 *   k = LOOP_TOP    at the top of the run loop with the count at s (checkpoints, the entry)
 * The same scenario and seed reach the same positions in the same order, stopped or not:
 * counting checks instead of steps keeps positions exact when a frame kind runs several
 * statements or phases in one step.
 */
import type { StopPoint } from '../kernel-sim/index';

export const CHECK = 0;
export const AFTER_STEP = 1;
export const LOOP_TOP = 2;

export interface Pos {
  e: number;
  s: number;
  k: typeof CHECK | typeof AFTER_STEP | typeof LOOP_TOP;
}

export function cmpPos(a: Pos, b: Pos): number {
  if (a.e !== b.e) return a.e - b.e;
  // With the same number of checks made: the check itself first, then by step count.
  if ((a.k === CHECK) !== (b.k === CHECK)) return a.k === CHECK ? -1 : 1;
  if (a.s !== b.s) return a.s - b.s;
  return a.k - b.k;
}

export function samePos(a: Pos, b: Pos): boolean {
  return cmpPos(a, b) === 0;
}

export function posText(p: Pos): string {
  return p.k === CHECK ? `#${p.e}` : p.k === AFTER_STEP ? `${p.e}/${p.s}` : `${p.e}/${p.s}^`;
}

/** Identity of a stop point, to recognise it when its step runs again after the stop. */
export function pointKey(p: StopPoint): string {
  let d = '';
  const det = p.detail as Record<string, unknown> | undefined;
  if (det && typeof det === 'object') {
    d = ['file', 'line', 'column', 'frameIndex', 'id', 'addr'].map((k) => String(det[k] ?? '')).join(':');
  }
  return `${p.kind}|${p.thread?.addr ?? ''}|${p.cpu}|${p.name ?? ''}|${p.op ?? ''}|${p.handler ?? ''}|${p.ctx ?? ''}|${p.to?.addr ?? ''}|${d}`;
}

/** Points whose stop comes after their effect: the step is not run again on resume. */
export function stopsAfterEffect(p: StopPoint): boolean {
  return p.kind === 'data' || (p.kind === 'hazard' && p.name === 'deadlock');
}
