/**
 * Kernel functions that may block or call out part-way (installctx allocating with KM_SLEEP,
 * ctxop_free calling a C free op, kpreempt_enable preempting...). Each is written as a small
 * program over a frame `f` with `f.pc`: it runs inline while it can, and when a sub-call
 * pushes a frame it parks itself (the 'kcall' frame) just below that frame and continues from
 * `f.pc` when the sub-call returns (its value in `t.retval`).
 */
import { registerFrameKind, PUSHED, StopSignal, type Machine, type KResult, type Frame, type StackEntry } from '../machine/machine';
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
  inline++;
  try {
    return BODIES.get(name)!(m, t, f);
  } finally {
    inline--;
  }
}

/** Kcalls running inline now (one: called by the caller's code itself, not by another kcall). */
let inline = 0;

/**
 * Lines inside a kernel function that a driver's C calls directly (ctxop_attach, ctxop_detach):
 * where a debugger's Step Into walks it. Only with a debugger, only for the outermost kcall of
 * a C frame's call. `kline(m, t, fn, k, text)` checks a 'kline' point before line k does
 * anything; a stop leaves the mark `fn k` on the C frame and throws StopSignal (the call's
 * 'function' point gets its own mark, fnStop, in callFunctionChecked). The C instruction runs
 * the call again when the thread goes on: `klineFrom` then answers k (and clears the mark), the
 * function skips its lines before k, whose effects are done, and checks line k first (the check
 * the resume protocol skips). Frame data, so snapshots keep it; 0 without a mark.
 */
export function klineFrom(t: KThread, fn: string): number {
  const top = t.stack[t.stack.length - 1];
  if (top === undefined || top.klineFrom === undefined) return 0;
  const mark = top.klineFrom as string;
  delete top.klineFrom;
  return mark.startsWith(fn + ' ') ? Number(mark.slice(fn.length + 1)) : 0;
}

export function kline(m: Machine, t: KThread, fn: string, k: number, text: string): void {
  if (m.policy === null || inline !== 1) return;
  const top = t.stack[t.stack.length - 1];
  if (top === undefined || top.kind !== 'c') return;
  if (m.checkStop({ kind: 'kline', name: fn, op: text, ctx: k, thread: t, cpu: t.cpu })) {
    top.klineFrom = `${fn} ${k}`;
    throw new StopSignal();
  }
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
