/**
 * Kernel functions that may block or call out part-way (installctx allocating with KM_SLEEP,
 * ctxop_free calling a C free op, kpreempt_enable preempting...). Each is written as a small
 * program over a frame `f` with `f.pc`: it runs inline while it can, and when a sub-call
 * pushes a frame it parks itself (the 'kcall' frame) just below that frame and continues from
 * `f.pc` when the sub-call returns (its value in `t.retval`).
 */
import { registerFrameKind, PUSHED, type Machine, type KResult, type Frame, type StackEntry } from '../machine/machine';
import type { KThread } from '../machine/thread';

export type KcallBody = (m: Machine, t: KThread, f: Frame) => KResult;

const BODIES = new Map<string, KcallBody>();

export function defineKcall(name: string, body: KcallBody): void {
  BODIES.set(name, body);
}

/** Starts a multi-phase kernel function: runs it inline until it finishes or parks. */
/** The names of every kernel function written as a kcall (a kcall frame names one of them). */
export function kcallNames(): string[] {
  return [...BODIES.keys()];
}

export function startKcall(m: Machine, t: KThread, name: string, args: number[], extra?: Record<string, unknown>): KResult {
  const f: Frame = { kind: 'kcall', pc: 0, fn: name, args, onStack: false, ...extra };
  return BODIES.get(name)!(m, t, f);
}

/**
 * Parks `f` below the frame a sub-call just pushed; returns PUSHED. Call as
 * `if (r === PUSHED) return park(t, f, NEXT_PC)`.
 */
export function park(t: KThread, f: Frame, nextPc: number): typeof PUSHED {
  f.pc = nextPc;
  if (!f.onStack) {
    f.onStack = true;
    t.stack.splice(t.stack.length - 1, 0, f);
  }
  return PUSHED;
}

registerFrameKind('kcall', {
  preemptible: false,
  step(m, t, f) {
    const r = BODIES.get(f.fn as string)!(m, t, f);
    if (r !== PUSHED) m.ret(t, r);
    return 1;
  },
  describe(m, t, f, i): StackEntry[] {
    return [{ name: f.fn as string, offset: 0x40 + (f.pc as number) * 0x10, args: (f.args as number[]).slice(0, 6), kind: 'kernel', frameIndex: i }];
  },
  roots: (f) => (f.args as number[]).concat(typeof f.ctx === 'number' ? [f.ctx] : []),
  clone: (f) => ({ ...f, args: (f.args as number[]).slice(), list: Array.isArray(f.list) ? (f.list as number[]).slice() : f.list }),
});
