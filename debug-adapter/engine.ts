/**
 * The debugger's engine over one simulated kernel: runs it forward in short slices (so the
 * adapter stays responsive and a pause gets through), stops where the breakpoints or a step
 * say, takes checkpoints as it goes, and runs backwards by deterministic replay from them.
 *
 * Transport-free (no DAP types): the session (session.ts) turns outcomes into events, the
 * benchmarks drive it directly.
 *
 * Reverse execution. A position (position.ts) names any point of the run. To step back from
 * position X, the engine restores the latest checkpoint before X, replays to X with stops
 * disabled while remembering the last position that qualifies (a breakpoint, or the location
 * a forward step would have stopped at), then restores the checkpoint again and replays to
 * that position. With a checkpoint every CHECKPOINT_EVERY steps, a step back costs at most
 * two replays of that length, however deep into the run.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldTurn } from 'node:timers/promises';
import { TS_ZOMB, type Machine, type MachineSnapshot, type RunOutcome, type StopPoint, type StopPolicy, type PanicInfo, type KThread, type EventSink, type KEvent } from '../kernel-sim/index';
import { Breakpoints, type Decision } from './breakpoints';
import { findLeaks, type LeakSummary } from './leaks';
import { type Pos, CHECK, AFTER_STEP, LOOP_TOP, cmpPos, posText } from './position';
import { type Recheck, recheckAfterStop, rewound, skipRecheck } from './resume';

export type { Recheck } from './resume';

export const CHECKPOINT_EVERY = 8192;
const MAX_CHECKPOINTS = 128;
const DENSE_TAIL = 48;
const SLICE_MS = 12;
const CHUNK = 50_000;

export type StepKind = 'next' | 'in' | 'out';

/** What a forward step or a step back stops at, besides breakpoints. */
export interface StepSpec {
  kind: StepKind;
  /** kthread_t address of the stepping thread; `also`: a second one (the incoming thread of a switch). */
  thread: number;
  also: number;
  /** Stack depth (frames) of the thread when the step began. */
  depth: number;
  /** Started at a kernel point (switch, hook, function): kernel points count as places to stop. */
  kernel: boolean;
  /** Last seen top of stack per thread: depth and builtin pc (-1 when the top is not a builtin op). */
  last: Map<number, { depth: number; pc: number }>;
  /** The thread already exited (a step stops once when it does). */
  exited: boolean;
}

interface ScanState {
  step: StepSpec | null;
  last: { pos: Pos; decision: Decision | null } | null;
}

interface Spec {
  /** Stop on breakpoints and filters. */
  user: boolean;
  /** Forward execution: count hits, print log points. */
  forward: boolean;
  step?: StepSpec;
  /** Stop exactly here (replay). */
  target?: Pos;
  scan?: ScanState;
  pause?: boolean;
  /** Travel: stop after the first step of `cpu` that ends at or past machine time `at` (cycles). */
  until?: { at: number; cpu: number };
}

export interface Checkpoint {
  pos: Pos;
  snap: MachineSnapshot;
  /** Checks counted at the checkpoint, and re-checks pending there (a checkpoint at a stop). */
  e: number;
  re: Recheck | null;
  /** The machine's round start (`now`, cycles) at the checkpoint. */
  now?: number;
  /** For a checkpoint at a stop (the user changed the state there): the stop point. */
  point?: StopPoint | null;
  decision?: Decision | null;
}

/**
 * How a run (or a step) ended. The outcomes that end the run carry `stop`: the engine stopped
 * there for an exception filter (a panic, a hang, leaks, the step limit; `cur` is that stop),
 * set by `settle` from the breakpoints' end-of-run decisions. `code` is the exit code.
 */
export type Outcome =
  | { kind: 'stopped'; pos: Pos; point: StopPoint | null; decision: Decision | null; stepped?: KThread }
  | { kind: 'end'; stop?: boolean; leaks?: LeakSummary }
  | { kind: 'panic'; info: PanicInfo; stop?: boolean }
  | { kind: 'deadlock'; message: string; stop?: boolean }
  | { kind: 'limit'; stop?: boolean }
  | { kind: 'cancelled' };

/** The exit code of a run that ended this way. */
export function exitCode(o: Outcome): number {
  return o.kind === 'panic' ? 3 : o.kind === 'deadlock' || o.kind === 'limit' ? 4 : 0;
}

/** The current stop. */
export interface Current {
  pos: Pos;
  point: StopPoint | null;
  decision: Decision | null;
  /** Reason shown for this stop ('entry', 'step', 'pause', 'breakpoint', ...). */
  reason: string;
  /** What resuming from here will check again. */
  re: Recheck | null;
  /** kthread_t address of the thread the stop is reported on. */
  thread: number;
  /** A stop on a panic: the panic (its stack for exceptionInfo). */
  panic?: PanicInfo;
  /** A stop on leaks: what ::findleaks found (the first leak's allocation stack is the stack shown). */
  leaks?: LeakSummary;
  /**
   * Reached by Step Into (or by a step back from such a stop): a step back then goes where a
   * Step Into would have stopped before (kernel lines included), so it retraces Step Into's stops.
   */
  stepIn?: boolean;
}

/** The stop policy installed in the machine: counts checks and applies the current spec. */
class DebugPolicy implements StopPolicy {
  spec: Spec | null = null;
  /** Checks counted so far. */
  e = 0;
  /** Re-checks expected after resuming from a stop. */
  re: Recheck | null = null;
  /** Checks made in the step now running (for the re-check list of a stop). */
  batch: StopPoint[] = [];
  batchS = -1;
  hit: { pos: Pos; point: StopPoint; decision: Decision | null; scanEval?: boolean; stepToo?: boolean } | null = null;
  /** Counts idle after-steps during a pause. */
  idleSteps = 0;

  constructor(private readonly e_: Engine) {}

  shouldStop(m: Machine, p: StopPoint): boolean {
    const s = m.stats.steps;
    if (s !== this.batchS) {
      this.batchS = s;
      this.batch.length = 0;
    }
    this.batch.push(p);
    // A repeat of a check made before the last stop (resume.ts): neither counted nor stopped at.
    if (this.re !== null) {
      const r = skipRecheck(this.re, p);
      if (r === 'skip') return false;
      this.re = null;
      if (r === 'last') return false;
    }
    const e = ++this.e;
    const spec = this.spec;
    if (!spec) return false;
    // Panics end the run; the engine reports them from the run's outcome.
    if (p.kind === 'hazard' && p.name === 'panic') return false;
    if (spec.target) {
      const tg = spec.target;
      if (tg.k === CHECK && e === tg.e) {
        this.hit = { pos: { e, s, k: CHECK }, point: p, decision: null };
        return true;
      }
      if (spec.scan && (e < tg.e || (e === tg.e && tg.k !== CHECK))) {
        const d = this.e_.scanPoint(spec.scan, p, { e, s, k: CHECK });
        if (d) {
          // A condition to evaluate: stop here for a moment (the slice loop goes on).
          this.hit = { pos: { e, s, k: CHECK }, point: p, decision: d, scanEval: true };
          return true;
        }
      }
      return false;
    }
    if (spec.user) {
      const d = this.e_.bps.decide(m, p, spec.forward);
      if (d) {
        this.hit = { pos: { e, s, k: CHECK }, point: p, decision: d, stepToo: !!spec.step && this.e_.stepAtPoint(spec.step, p) };
        return true;
      }
    }
    if (spec.step && this.e_.stepAtPoint(spec.step, p)) {
      this.hit = { pos: { e, s, k: CHECK }, point: p, decision: null };
      return true;
    }
    return false;
  }

  afterStep = (t: KThread, cpu: number): boolean => {
    const spec = this.spec;
    if (!spec) return false;
    const s = this.e_.m.stats.steps;
    const pos: Pos = { e: this.e, s, k: AFTER_STEP };
    if (spec.until && cpu === spec.until.cpu && this.e_.m.at() >= spec.until.at) return this.stopAfter(t, cpu, pos);
    if (spec.target) {
      if (spec.target.k === AFTER_STEP && cmpPos(pos, spec.target) === 0) return this.stopAfter(t, cpu, pos);
      if (spec.scan?.step && cmpPos(pos, spec.target) < 0 && this.e_.stepAfter(spec.scan.step, t)) {
        spec.scan.last = { pos, decision: null };
      }
      return false;
    }
    if (spec.step && this.e_.stepAfter(spec.step, t)) return this.stopAfter(t, cpu, pos);
    if (spec.pause) {
      if (!t.isIdle || ++this.idleSteps > 20000) return this.stopAfter(t, cpu, pos);
    }
    return false;
  };

  private stopAfter(t: KThread, cpu: number, pos: Pos): boolean {
    this.hit = { pos, point: { kind: 'step', thread: t, cpu }, decision: null };
    return true;
  }
}

/** Output the engine produces while running forward (console, flow trace). */
export interface EngineOutput {
  console(text: string): void;
  /** Flow-trace events (only when the trace is on). */
  flow?: EventSink;
  /** Timeline recorder. */
  timeline?: EventSink & { truncate(p: Pos): void };
  /** Called after a reverse step to `p` (recorded history at and after it is void). */
  reversed?: (p: Pos) => void;
  /** More recorders (mdb's event ring for ::ctxtrace), fed like the timeline. */
  extra?: () => EventSink | null;
}

export class Engine {
  readonly bps: Breakpoints;
  readonly policy: DebugPolicy;
  checkpoints: Checkpoint[] = [];
  cur: Current;
  /** Highest step count whose output (console, flow) was already sent. */
  private outMark = 0;
  /** Steps from which the timeline records again (after a reverse step). */
  private tlMark = 0;
  maxSteps: number;
  /** Run without debugging: the end of the run never stops (no filters, no step-limit stop). */
  noDebug = false;
  /** Set by pause(): the running slice loop stops at the next step. */
  private pauseRequested = false;
  private cancelled = false;
  running = false;
  private forwardSink: EventSink;

  constructor(
    readonly m: Machine,
    private readonly out: EngineOutput,
    opts: { maxSteps?: number; bps?: Breakpoints } = {},
  ) {
    this.bps = opts.bps ?? new Breakpoints();
    this.maxSteps = opts.maxSteps ?? 50_000_000;
    this.policy = new DebugPolicy(this);
    m.policy = this.policy;
    const self = this;
    this.forwardSink = {
      event(e: KEvent) {
        const s = self.m.stats.steps;
        if (s >= self.tlMark) {
          self.out.timeline?.event(e);
          self.out.extra?.()?.event(e);
        }
        if (self.out.flow && s >= self.outMark) self.out.flow.event(e);
      },
    };
    m.onConsole = (text) => {
      if (this.m.stats.steps >= this.outMark) this.out.console(text.endsWith('\n') ? text : text + '\n');
    };
    this.checkpoints.push(this.makeCheckpoint({ e: 0, s: 0, k: LOOP_TOP }, null));
    this.cur = { pos: { e: 0, s: 0, k: LOOP_TOP }, point: null, decision: null, reason: 'entry', thread: this.firstThread()?.addr ?? 0, re: null };
  }

  firstThread(): KThread | undefined {
    return this.m.threads.find((t) => t.role === 'scenario') ?? this.m.threads.find((t) => !t.isIdle) ?? this.m.threads[0];
  }

  // ------------------------------------------------------------------ checkpoints

  private makeCheckpoint(pos: Pos, re: Recheck | null): Checkpoint {
    return { pos, snap: this.m.snapshot(), e: pos.e, re: rewound(re), now: this.m.now };
  }

  private restoreCheckpoint(cp: Checkpoint): void {
    this.m.restore(cp.snap);
    this.policy.e = cp.e;
    this.policy.re = rewound(cp.re);
    this.policy.batchS = -1;
    this.policy.batch.length = 0;
  }

  /** Index of the latest checkpoint strictly before `p` (-1 if none). */
  private cpBefore(p: Pos): number {
    let lo = 0;
    let hi = this.checkpoints.length - 1;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (cmpPos(this.checkpoints[mid]!.pos, p) < 0) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans;
  }

  /** The latest checkpoint at or before the machine's present state. */
  private lastCheckpointSteps(): number {
    const i = this.cpBefore({ e: this.policy.e, s: this.m.stats.steps + 1, k: AFTER_STEP });
    return i >= 0 ? this.checkpoints[i]!.pos.s : 0;
  }

  private nextCheckpointAt(): number {
    return this.lastCheckpointSteps() + CHECKPOINT_EVERY;
  }

  private addCheckpoint(cp: Checkpoint): void {
    const i = this.cpBefore(cp.pos) + 1;
    const at = this.checkpoints[i];
    if (at && cmpPos(at.pos, cp.pos) === 0) return;
    this.checkpoints.splice(i, 0, cp);
    if (this.checkpoints.length > MAX_CHECKPOINTS) this.thin();
  }

  /** Keeps the newest checkpoints dense and older ones spaced further apart the older they are. */
  private thin(): void {
    const cps = this.checkpoints;
    const lastOld = cps.length - DENSE_TAIL;
    let best = -1;
    let bestGap = Infinity;
    for (let i = 1; i < lastOld; i++) {
      const gap = cps[i + 1]!.pos.s - cps[i - 1]!.pos.s;
      // Older checkpoints tolerate larger gaps: weigh the gap by the distance to the newest.
      const age = cps[cps.length - 1]!.pos.s - cps[i]!.pos.s + 1;
      const score = gap / Math.sqrt(age);
      if (score < bestGap) {
        bestGap = score;
        best = i;
      }
    }
    if (best > 0) cps.splice(best, 1);
  }

  /** The user changed the state at the current stop: the recorded future is void. */
  historyChanged(): void {
    const p = this.cur.pos;
    this.checkpoints = this.checkpoints.filter((c) => cmpPos(c.pos, p) < 0);
    const cp = this.makeCheckpoint(p, this.cur.re);
    cp.point = this.cur.point;
    cp.decision = this.cur.decision;
    this.checkpoints.push(cp);
    this.out.timeline?.truncate(p);
    this.out.reversed?.(p);
    this.tlMark = p.s;
    this.outMark = this.m.stats.steps;
  }

  // ------------------------------------------------------------------ running

  private prepare(spec: Spec, forward: boolean): void {
    this.policy.e = this.cur.pos.e;
    this.policy.re = rewound(this.cur.re);
    this.policy.spec = spec;
    this.policy.idleSteps = 0;
    this.bps.pendingEntry = null;
    this.applySpec(spec, forward);
  }

  private applySpec(spec: Spec, forward: boolean): void {
    const needAfter = !!(spec.step || spec.pause || spec.until || (spec.target && (spec.target.k === AFTER_STEP || spec.scan?.step)));
    this.m.afterStep = needAfter ? this.policy.afterStep : null;
    this.m.sink = forward ? this.forwardSink : null;
  }

  pause(): void {
    this.pauseRequested = true;
  }

  cancel(): void {
    this.cancelled = true;
  }

  /** Runs one slice (about SLICE_MS); 'yield' when the slice ended without an outcome. */
  private slice(spec: Spec, takeCheckpoints: boolean): Outcome | 'yield' {
    const m = this.m;
    const deadline = performance.now() + SLICE_MS;
    const tgt = spec.target;
    for (;;) {
      const s = m.stats.steps;
      const e = this.policy.e;
      if (tgt) {
        if (tgt.k === LOOP_TOP && s === tgt.s && e === tgt.e) return { kind: 'stopped', pos: tgt, point: null, decision: null };
        if (e > tgt.e || (e === tgt.e && s > tgt.s)) throw new Error(`replay missed position ${posText(tgt)} (at ${e}/${s}): the run is not deterministic`);
      }
      // Checkpoints only at clean loop tops (not while a stopped step is being run again).
      if (takeCheckpoints && this.policy.re === null && this.checkpointDue()) {
        this.addCheckpoint({ pos: { e, s, k: LOOP_TOP }, snap: m.snapshot(), e, re: null, now: m.now });
      }
      let limit = s + CHUNK;
      if (tgt && tgt.k === LOOP_TOP) limit = Math.min(limit, tgt.s);
      if (takeCheckpoints) limit = Math.min(limit, this.nextCheckpointAt());
      limit = Math.min(limit, this.maxSteps);
      if (s >= this.maxSteps) return { kind: 'limit' };
      if (limit <= s) limit = s + 1;
      this.policy.hit = null;
      const r: RunOutcome = m.run(limit);
      if (r.kind === 'step-limit') {
        if (performance.now() > deadline) return 'yield';
        continue;
      }
      if (r.kind === 'stopped') {
        const hit = this.policy.hit as DebugPolicy['hit'];
        if (!hit) throw new Error(`stopped at a ${r.point.kind} point the debugger did not choose`);
        this.lastRe = this.recheckFor(hit.pos, hit.point);
        if (hit.decision?.deferred) {
          // Conditions and log messages are evaluated now that the frame is up to date.
          const d = this.bps.resolve(m, hit.point, hit.decision, spec.forward && !hit.scanEval);
          if (hit.scanEval) {
            if (d && spec.scan) spec.scan.last = { pos: hit.pos, decision: d };
            this.policy.re = rewound(this.lastRe);
            continue;
          }
          if (!d && !hit.stepToo) {
            this.policy.re = rewound(this.lastRe);
            continue;
          }
          hit.decision = d;
        }
        return { kind: 'stopped', pos: hit.pos, point: hit.point, decision: hit.decision, stepped: r.point.thread };
      }
      // A replay to the end of the run (the position of an end, panic or hang) arrives there.
      if (tgt && tgt.k === LOOP_TOP && this.policy.e === tgt.e && m.stats.steps === tgt.s) return { kind: 'stopped', pos: tgt, point: null, decision: null };
      if (r.kind === 'end') return { kind: 'end' };
      if (r.kind === 'panic') return { kind: 'panic', info: r.info };
      return { kind: 'deadlock', message: r.message };
    }
  }

  private checkpointDue(): boolean {
    return this.m.stats.steps - this.lastCheckpointSteps() >= CHECKPOINT_EVERY;
  }

  /** Re-checks of the last stop, computed when the run returned to us. */
  private lastRe: Recheck | null = null;

  /** What resuming from a stop at `pos` will check again before going on (resume.ts). */
  private recheckFor(pos: Pos, p: StopPoint): Recheck | null {
    return recheckAfterStop(pos, p, this.policy.batch, this.m.stats.steps);
  }

  /** Runs slices until an outcome, yielding to the event loop between them. */
  private async drive(spec: Spec, takeCheckpoints: boolean, onSlow?: (elapsedMs: number) => void): Promise<Outcome> {
    const t0 = performance.now();
    this.running = true;
    try {
      for (;;) {
        const r = this.slice(spec, takeCheckpoints);
        if (r !== 'yield') return r;
        onSlow?.(performance.now() - t0);
        await yieldTurn();
        if (this.cancelled) return { kind: 'cancelled' };
        if (this.pauseRequested && spec.forward && !spec.pause) {
          spec.pause = true;
          this.applySpec(spec, true);
        }
      }
    } finally {
      this.running = false;
      this.pauseRequested = false;
    }
  }

  /** Runs one slice synchronously to completion (benchmarks, tests of the engine alone). */
  private driveSync(spec: Spec, takeCheckpoints: boolean): Outcome {
    for (;;) {
      const r = this.slice(spec, takeCheckpoints);
      if (r !== 'yield') return r;
    }
  }

  private settle(o: Outcome, reasonIfStep: string): Outcome {
    if (o.kind === 'stopped') {
      const d = o.decision;
      let reason = d?.reason ?? reasonIfStep;
      if (!d && o.point?.kind === 'step' && this.policy.spec?.pause) reason = 'pause';
      let thread = o.point?.thread?.addr ?? this.cur.thread;
      if (o.point?.kind === 'swtch' && o.point.from?.isIdle && o.point.to) thread = o.point.to.addr;
      this.cur = { pos: o.pos, point: o.point, decision: d, reason, thread, re: o.pos.k === CHECK ? this.lastRe : null };
      this.outMark = Math.max(this.outMark, this.m.stats.steps);
    } else if (o.kind !== 'cancelled') {
      this.cur = { pos: { e: this.policy.e, s: this.m.stats.steps, k: LOOP_TOP }, point: null, decision: null, reason: o.kind, thread: this.cur.thread, re: null };
      this.outMark = Math.max(this.outMark, this.m.stats.steps);
      o = this.atEnd(o);
    }
    this.policy.spec = null;
    this.m.afterStep = null;
    this.m.sink = null;
    return o;
  }

  /**
   * The run ended: whether an exception filter stops there (the stop policy for outcomes that
   * have no stop point). A stop makes `cur` an exception stop on the thread it concerns.
   */
  private atEnd(o: Exclude<Outcome, { kind: 'stopped' | 'cancelled' }>): Outcome {
    const m = this.m;
    let d: Decision | null = null;
    let thread = this.cur.thread;
    switch (o.kind) {
      case 'end':
        o.leaks = findLeaks(m);
        d = this.noDebug ? null : this.bps.atLeaks(o.leaks);
        if (d) {
          thread = (m.threads.find((t) => t.role === 'reaper') ?? m.threads[0])!.addr;
          this.cur.leaks = o.leaks;
        }
        break;
      case 'panic':
        d = this.noDebug ? null : this.bps.atPanic(m, o.info);
        if (d) {
          thread = o.info.thread;
          this.cur.panic = o.info;
        }
        break;
      case 'deadlock':
        d = this.noDebug ? null : this.bps.atHang(o.message);
        if (d) thread = m.threads.find((t) => t.blockedOn && t.role !== 'reaper')?.addr ?? thread;
        break;
      case 'limit':
        d = this.noDebug ? null : this.bps.atLimit(this.maxSteps);
        break;
    }
    if (!d) return o;
    this.cur.reason = 'exception';
    this.cur.decision = d;
    this.cur.thread = thread;
    return { ...o, stop: true };
  }

  /** Continue: run until a breakpoint, a filter, the end, or a pause. */
  async continue(onSlow?: (ms: number) => void): Promise<Outcome> {
    const spec: Spec = { user: true, forward: true };
    this.prepare(spec, true);
    return this.settle(await this.drive(spec, true, onSlow), 'pause');
  }

  continueSync(): Outcome {
    const spec: Spec = { user: true, forward: true };
    this.prepare(spec, true);
    return this.settle(this.driveSync(spec, true), 'pause');
  }

  /** A forward step of `kind` on thread `t` (kthread_t address). */
  async step(kind: StepKind, thread: number, onSlow?: (ms: number) => void): Promise<Outcome> {
    const spec: Spec = { user: true, forward: true, step: this.stepSpec(kind, thread) };
    this.prepare(spec, true);
    return this.stepped(kind, this.settle(await this.drive(spec, true, onSlow), 'step'));
  }

  stepSync(kind: StepKind, thread: number): Outcome {
    const spec: Spec = { user: true, forward: true, step: this.stepSpec(kind, thread) };
    this.prepare(spec, true);
    return this.stepped(kind, this.settle(this.driveSync(spec, true), 'step'));
  }

  private stepped(kind: StepKind, o: Outcome): Outcome {
    if (o.kind === 'stopped' && kind === 'in') this.cur.stepIn = true;
    return o;
  }

  /** Runs to exactly `target` without stops (must lie ahead of the current position). */
  seekSync(target: Pos): Outcome {
    const spec: Spec = { user: false, forward: false, target };
    this.prepare(spec, false);
    return this.settle(this.driveSync(spec, true), 'step');
  }

  stepSpec(kind: StepKind, thread: number): StepSpec {
    const t = this.m.byAddr.get(thread);
    const p = this.cur.point;
    const onT = p && p.thread?.addr === thread;
    const kernel = !!onT && (p.kind === 'swtch' || p.kind === 'hook' || p.kind === 'function' || p.kind === 'hazard' || p.kind === 'kline');
    // Stepping into a switch follows the thread that comes in (its restore ops come next).
    const also = kind === 'in' && onT && (p.kind === 'swtch' || p.kind === 'kline') && p.to ? p.to.addr : 0;
    // Stopped entering a native kernel function (a Step Into onto ctxop_attach()): it is a frame
    // of its own above the caller's, so Step Out and Over finish it and stop back in the caller.
    const entering = !!onT && (p.kind === 'function' || p.kind === 'kline') && !!p.name && this.m.sym.lookup(p.name)?.kind === 'native';
    const spec: StepSpec = { kind, thread, also, depth: t ? t.stack.length + (entering ? 1 : 0) : 0, kernel, last: new Map(), exited: !t || this.m.tState(t) === TS_ZOMB };
    if (t) spec.last.set(thread, topSig(t));
    const u = also ? this.m.byAddr.get(also) : undefined;
    if (u) spec.last.set(also, topSig(u));
    return spec;
  }

  /** Whether a stop-point check is where a step stops. */
  stepAtPoint(st: StepSpec, p: StopPoint): boolean {
    const t = p.thread;
    if (!t || (t.addr !== st.thread && t.addr !== st.also)) return false;
    if (p.kind === 'statement') {
      const fi = (p.detail as { frameIndex?: number } | undefined)?.frameIndex;
      const depth = (fi ?? t.stack.length - 1) + 1;
      return st.kind === 'in' || (st.kind === 'next' ? depth <= st.depth : depth < st.depth);
    }
    // A line of the kernel between the phases of a switch: only Step Into walks them.
    if (p.kind === 'kline') return st.kind === 'in';
    if (p.kind === 'hook' || p.kind === 'function' || p.kind === 'swtch') {
      // Stepping into a C function stops at its first statement, not at the call (a hook's C
      // handler too: it is driver C with a source).
      if (p.kind === 'function' && p.name && this.m.sym.lookup(p.name)?.kind === 'c') return false;
      if (p.kind === 'hook' && st.kind === 'in' && p.handler && this.m.sym.lookup(p.handler)?.kind === 'c') return false;
      if (st.kind === 'in') return t.addr === st.thread || p.kind !== 'swtch';
      if (!st.kernel || t.addr !== st.thread) return false;
      const depth = t.stack.length;
      return st.kind === 'next' ? depth <= st.depth : depth < st.depth;
    }
    return false;
  }

  /** Whether the step just taken by `t` ends a step (a builtin op finished, or the thread exited). */
  stepAfter(st: StepSpec, t: KThread): boolean {
    if (t.addr !== st.thread && t.addr !== st.also) return false;
    const sig = topSig(t);
    const last = st.last.get(t.addr);
    st.last.set(t.addr, sig);
    if (t.addr === st.thread && this.m.tState(t) === TS_ZOMB) {
      if (st.exited) return false;
      st.exited = true;
      return true;
    }
    if (sig.pc < 0) return false;
    if (last && last.depth === sig.depth && last.pc === sig.pc) return false;
    if (st.kind === 'in' || t.addr !== st.thread) return true;
    return st.kind === 'next' ? sig.depth <= st.depth : sig.depth < st.depth;
  }

  // ------------------------------------------------------------------ travel

  /**
   * Travel to machine time `at` (cycles) on `cpu` (a click on the Schedule): to the first step
   * of that CPU ending at or past it, backwards (replay from a checkpoint, as a reverse step) or
   * forwards (a run that records, ignoring breakpoints). The stop is reported on `thread`.
   */
  async travel(at: number, cpu: number, thread: number, onSlow?: (ms: number) => void): Promise<Outcome> {
    const t0 = performance.now();
    this.running = true;
    let back: Outcome | 'forward' = 'forward';
    try {
      const g = this.travelBackGen(at, cpu);
      for (;;) {
        const r = g.next();
        if (r.done) {
          back = r.value;
          break;
        }
        onSlow?.(performance.now() - t0);
        await yieldTurn();
        if (this.cancelled) return this.abortReverse();
      }
    } finally {
      this.running = false;
    }
    return this.arrived(back === 'forward' ? this.settle(await this.drive(this.travelForwardSpec(at, cpu), true, onSlow), 'goto') : back, thread);
  }

  travelSync(at: number, cpu: number, thread: number): Outcome {
    const g = this.travelBackGen(at, cpu);
    let r = g.next();
    while (!r.done) r = g.next();
    return this.arrived(r.value === 'forward' ? this.settle(this.driveSync(this.travelForwardSpec(at, cpu), true), 'goto') : r.value, thread);
  }

  private travelForwardSpec(at: number, cpu: number): Spec {
    const spec: Spec = { user: false, forward: true, until: { at, cpu } };
    this.prepare(spec, true);
    return spec;
  }

  private arrived(o: Outcome, thread: number): Outcome {
    if (o.kind === 'stopped') {
      this.cur.reason = 'goto';
      if (this.m.byAddr.has(thread)) this.cur.thread = thread;
    }
    return o;
  }

  /**
   * The backward half of travel: replays from a checkpoint where `cpu` cannot have reached `at`
   * yet towards the current position; stops where it does ('stopped', history truncated), or
   * arrives at the current position ('forward': the time lies ahead).
   */
  /** Runs a replay from a restored checkpoint to spec.target (yielding between slices); it must stop there. */
  private *replay(spec: Spec): Generator<void, Extract<Outcome, { kind: 'stopped' }>> {
    this.policy.spec = spec;
    this.applySpec(spec, false);
    for (;;) {
      const r = this.slice(spec, true);
      if (r === 'yield') {
        yield;
        continue;
      }
      if (r.kind !== 'stopped') throw new Error(`replay to ${posText(spec.target!)} ended early: ${r.kind}`);
      return r;
    }
  }

  private *travelBackGen(at: number, cpu: number): Generator<void, Outcome | 'forward'> {
    const X = this.cur.pos;
    const slice = this.m.cfg.slice;
    let i = this.cpBefore(X);
    while (i > 0 && !((this.checkpoints[i]!.now ?? Infinity) + slice <= at)) i--;
    if (i < 0) return 'forward';
    const cp = this.checkpoints[i]!;
    const X0 = { ...this.cur };
    this.restoreCheckpoint(cp);
    const r = yield* this.replay({ user: false, forward: false, target: X, until: { at, cpu } });
    if (cmpPos(r.pos, X) < 0) {
      this.afterReverse(r.pos);
      return this.settle(r, 'goto');
    }
    // Back at the current position: the time lies ahead.
    this.settle(r, 'goto');
    this.cur = { ...X0, pos: this.cur.pos, re: this.cur.re };
    return 'forward';
  }

  // ------------------------------------------------------------------ reverse

  /** Called by the policy for every check during a scan. */
  scanPoint(scan: ScanState, p: StopPoint, pos: Pos): Decision | null {
    const d = this.bps.decide(this.m, p, false);
    if (scan.step && this.stepAtPoint(scan.step, p)) scan.last = { pos, decision: null };
    if (d?.deferred) return d;
    if (d) scan.last = { pos, decision: d };
    return null;
  }

  /**
   * Runs backwards: to the latest position before the current one where a breakpoint or filter
   * stops (reverseContinue), or where a forward step of the thread would stop (stepBack). When
   * there is none, goes to the start of the run.
   */
  async reverse(kind: 'continue' | 'step', thread: number, onSlow?: (ms: number) => void): Promise<Outcome> {
    const t0 = performance.now();
    this.running = true;
    try {
      const g = this.reverseGen(kind, thread);
      for (;;) {
        const r = g.next();
        if (r.done) return r.value;
        onSlow?.(performance.now() - t0);
        await yieldTurn();
        if (this.cancelled) return this.abortReverse();
      }
    } finally {
      this.running = false;
    }
  }

  reverseSync(kind: 'continue' | 'step', thread: number): Outcome {
    const g = this.reverseGen(kind, thread);
    for (;;) {
      const r = g.next();
      if (r.done) return r.value;
    }
  }

  private *reverseGen(kind: 'continue' | 'step', thread: number): Generator<void, Outcome> {
    const X = this.cur.pos;
    const xThread = this.m.byAddr.get(thread);
    // The step-back location rules come from the state at X (depth, granularity). After Step
    // Into, Step Into's: the latest check before X where it stops on this thread, or on the
    // thread that handed this one the CPU when X is where it came in.
    const viaIn = kind === 'step' && !!this.cur.stepIn;
    const stepTemplate = kind === 'step' ? this.stepSpec(viaIn ? 'in' : 'next', thread) : null;
    if (stepTemplate && viaIn) {
      const from = this.cur.point?.thread?.addr === thread ? this.cur.point.from?.addr : undefined;
      stepTemplate.also = from !== undefined && from !== thread ? from : 0;
    }
    if (stepTemplate && !xThread) stepTemplate.depth = Infinity;
    let end: Pos = X;
    for (;;) {
      const i = this.cpBefore(end);
      if (i < 0) break;
      const cp = this.checkpoints[i]!;
      this.restoreCheckpoint(cp);
      let step: StepSpec | null = null;
      if (stepTemplate) {
        step = { ...stepTemplate, last: new Map(), exited: false };
        const t = this.m.byAddr.get(thread);
        if (t) step.last.set(thread, topSig(t));
      }
      const scan: ScanState = { step, last: null };
      // A checkpoint at a stop (where the user changed the state) is itself a place to go back to.
      const atCp = cp.pos.k === CHECK && cp.point ? this.rebind(cp.point) : null;
      if (atCp) {
        const d = this.bps.decide(this.m, atCp, false);
        const dd = d?.deferred ? this.bps.resolve(this.m, atCp, d, false) : d;
        if (dd) scan.last = { pos: cp.pos, decision: dd };
        else if (step && this.stepAtPoint(step, atCp)) scan.last = { pos: cp.pos, decision: null };
        this.policy.batch.length = 0;
      }
      yield* this.replay({ user: false, forward: false, target: end, scan });
      if (scan.last) {
        const found = scan.last;
        this.restoreCheckpoint(cp);
        if (atCp && cmpPos(found.pos, cp.pos) === 0) {
          this.lastRe = rewound(cp.re);
          this.afterReverse(cp.pos);
          return this.stepped(viaIn ? 'in' : 'next', this.settle({ kind: 'stopped', pos: cp.pos, point: this.rebind(cp.point!), decision: found.decision }, 'step'));
        }
        const r = yield* this.replay({ user: false, forward: false, target: found.pos });
        const out: Outcome = { ...r, decision: found.decision };
        this.afterReverse(found.pos);
        return this.stepped(viaIn ? 'in' : 'next', this.settle(out, 'step'));
      }
      end = cp.pos;
    }
    // Nothing before: the start of the run.
    this.restoreCheckpoint(this.checkpoints[0]!);
    this.afterReverse({ e: 0, s: 0, k: LOOP_TOP });
    this.settle({ kind: 'stopped', pos: { e: 0, s: 0, k: LOOP_TOP }, point: null, decision: null }, 'entry');
    this.cur.thread = this.firstThread()?.addr ?? this.cur.thread;
    this.cur.reason = 'entry';
    return { kind: 'stopped', pos: this.cur.pos, point: null, decision: null };
  }

  /** A stop point recorded earlier, with its threads looked up again in the (restored) machine. */
  private rebind(p: StopPoint): StopPoint {
    const get = (t: KThread | undefined) => (t ? this.m.byAddr.get(t.addr) ?? t : undefined);
    return { ...p, thread: get(p.thread)!, from: get(p.from), to: get(p.to) };
  }

  /** The run was brought back to `p`: what was recorded at and after it is void. */
  private afterReverse(p: Pos): void {
    this.out.timeline?.truncate(p);
    this.out.reversed?.(p);
    this.tlMark = this.m.stats.steps;
  }

  /** A cancelled reverse run (the session is going away): leave the machine where it is. */
  private abortReverse(): Outcome {
    this.policy.spec = null;
    this.m.afterStep = null;
    return { kind: 'cancelled' };
  }

  /** Back to the start of the run (restart without reloading). */
  rewind(): void {
    this.restoreCheckpoint(this.checkpoints[0]!);
    this.out.timeline?.truncate({ e: 0, s: 0, k: LOOP_TOP });
    this.out.reversed?.({ e: 0, s: 0, k: LOOP_TOP });
    this.tlMark = 0;
    this.outMark = 0;
    this.cur = { pos: { e: 0, s: 0, k: LOOP_TOP }, point: null, decision: null, reason: 'entry', thread: this.firstThread()?.addr ?? 0, re: null };
  }

  /** Memory held by checkpoints, in bytes (approximate). */
  checkpointBytes(): number {
    let n = 0;
    for (const c of this.checkpoints) n += c.snap.mem.bytes.length + c.snap.threads.length * 512;
    return n;
  }
}

/** Top-of-stack signature of a thread: depth, and the builtin op index when the top is a builtin frame. */
export function topSig(t: KThread): { depth: number; pc: number } {
  const f = t.stack[t.stack.length - 1];
  return { depth: t.stack.length, pc: f && f.kind === 'builtin' ? f.pc : -1 };
}
