/**
 * What the Timeline view draws, recorded from the simulator's event stream: who was on each
 * CPU when (slices), and marks for the probe categories core/probes.ts lists for it (ctxop hook
 * calls, attach/detach, preemption disabled and enabled, hazards, panics). Memory is bounded
 * (the oldest entries go first).
 *
 * Every entry remembers where in the run it was recorded (the check count and the step count:
 * a position, position.ts), so after a reverse step the recorder forgets exactly what lies in
 * the future (`truncate`) and records it again when the run goes forward. A stop inside a step
 * keeps what that step did before the stop (the switch that put a thread on its CPU).
 */
import type { EventSink, KEvent, Machine } from '../kernel-sim/index';
import { probeCategory, TIMELINE_MARKS } from '../core/probes';
import type { TimelineBody } from '../core/protocol';
import { type Pos, CHECK } from './position';

/**
 * Whether something recorded at check count `e` and step count `s` lies at or after position
 * `p` (in the future of a run brought back to `p`). An event between checks e-1 and e carries
 * e-1; a stop at check e comes after it. At a step position, events of earlier steps are before.
 */
export function atOrAfter(e: number, s: number, p: Pos): boolean {
  if (e !== p.e) return e > p.e;
  return p.k === CHECK || s >= p.s;
}

interface RSlice { cpu: number; thread: number; name: string; start: number; end: number; e0: number; s0: number; e1: number; s1: number }
interface RMark { cpu: number; tick: number; kind: string; label: string; e0: number; s0: number }
interface RSpan { cpu: number; thread: number; name: string; start: number; end: number; e0: number; s0: number; e1: number; s1: number }

const OPEN = -1;

export class TimelineRecorder implements EventSink {
  private slices: RSlice[] = [];
  private marks: RMark[] = [];
  private spans: RSpan[] = [];
  /** Open slice per CPU, open preemption-disabled span per thread. */
  private onCpu = new Map<number, RSlice>();
  private noPreempt = new Map<number, RSpan>();
  /** The debugger's check count (positions); set by the session once the engine exists. */
  checks: () => number = () => 0;

  constructor(
    private readonly m: Machine,
    /** Maps a kthread_t address to the thread id the debugger shows. */
    private readonly threadId: (addr: number) => number,
    readonly maxSlices = 20000,
    readonly maxMarks = 20000,
  ) {}

  private tick(e: KEvent): number {
    return Math.round((e.at / this.m.cfg.tickCycles) * 1000) / 1000;
  }

  private names = new Map<number, string>();
  private name(addr: number): string {
    const t = this.m.byAddr.get(addr);
    if (t) {
      this.names.set(addr, t.name);
      return t.name;
    }
    return this.names.get(addr) ?? addr.toString(16);
  }

  event(e: KEvent): void {
    if (e.type !== 'probe') return;
    const s = this.m.stats.steps;
    const ec = this.checks();
    const at = this.tick(e);
    const cat = probeCategory(e.probe)!;
    if (cat === 'switch') {
      this.close(e.cpu, at, ec, s);
      if (e.probe === 'sched:off-cpu') return;
      const t = this.m.byAddr.get(e.thread);
      if (t?.isIdle) return;
      const sl: RSlice = { cpu: e.cpu, thread: this.threadId(e.thread), name: this.name(e.thread), start: at, end: OPEN, e0: ec, s0: s, e1: OPEN, s1: OPEN };
      this.slices.push(sl);
      this.onCpu.set(e.cpu, sl);
      if (this.slices.length > this.maxSlices * 1.25) this.slices.splice(0, this.slices.length - this.maxSlices);
      return;
    }
    if (!TIMELINE_MARKS.has(cat)) return;
    switch (cat) {
      case 'hook':
        this.mark(e.cpu, at, e.data?.op ?? 'hook', `${e.data?.handler ?? ''} (${this.name(e.thread)})`, ec, s);
        return;
      case 'ctxop':
        // 'ctxop-free' (the ctxop itself freed) is not the 'free' hook call.
        this.mark(e.cpu, at, e.probe === 'ctxop:free' ? 'ctxop-free' : e.probe.slice(6), `${e.detail} (${this.name(e.thread)})`, ec, s);
        return;
      case 'preempt-control':
        if (e.probe === 'sched:kpreempt-disable') this.preemptDisabled(e, at, ec, s);
        else this.preemptEnabled(e, at, ec, s);
        return;
      case 'preempt':
        this.mark(e.cpu, at, 'preempt', `${this.name(e.thread)}: ${e.detail}`, ec, s);
        return;
      default:
        // Hazards and panics: the probe name is the kind, the message the label.
        this.mark(e.cpu, at, e.probe, e.detail, ec, s);
        return;
    }
  }

  private preemptDisabled(e: KEvent, at: number, ec: number, s: number): void {
    this.mark(e.cpu, at, 'preempt-disable', this.name(e.thread), ec, s);
    if (!this.noPreempt.has(e.thread)) {
      const sp: RSpan = { cpu: e.cpu, thread: this.threadId(e.thread), name: this.name(e.thread), start: at, end: OPEN, e0: ec, s0: s, e1: OPEN, s1: OPEN };
      this.spans.push(sp);
      this.noPreempt.set(e.thread, sp);
      if (this.spans.length > this.maxMarks * 1.25) this.spans.splice(0, this.spans.length - this.maxMarks);
    }
  }

  private preemptEnabled(e: KEvent, at: number, ec: number, s: number): void {
    this.mark(e.cpu, at, 'preempt-enable', this.name(e.thread), ec, s);
    const t = this.m.byAddr.get(e.thread);
    if (t && this.m.tPreempt(t) <= 0) {
      const sp = this.noPreempt.get(e.thread);
      if (sp) {
        sp.end = at;
        sp.e1 = ec;
        sp.s1 = s;
        this.noPreempt.delete(e.thread);
      }
    }
  }

  /** A mark the debugger adds itself (a leak found at the end of the run). */
  addMark(cpu: number, kind: string, label: string): void {
    this.mark(cpu, this.m.lbolt, kind, label, this.checks(), this.m.stats.steps);
  }

  private mark(cpu: number, tick: number, kind: string, label: string, e: number, s: number): void {
    this.marks.push({ cpu, tick, kind, label, e0: e, s0: s });
    if (this.marks.length > this.maxMarks * 1.25) this.marks.splice(0, this.marks.length - this.maxMarks);
  }

  private close(cpu: number, at: number, e: number, s: number): void {
    const sl = this.onCpu.get(cpu);
    if (sl) {
      sl.end = at;
      sl.e1 = e;
      sl.s1 = s;
      this.onCpu.delete(cpu);
    }
  }

  /** Forgets everything recorded at or after position `p` (a reverse step went there). */
  truncate(p: Pos): void {
    const keep = <T extends { e0: number; s0: number }>(a: T[]) => {
      let n = a.length;
      while (n > 0 && atOrAfter(a[n - 1]!.e0, a[n - 1]!.s0, p)) n--;
      a.length = n;
    };
    keep(this.slices);
    keep(this.marks);
    keep(this.spans);
    this.onCpu.clear();
    this.noPreempt.clear();
    const ended = (x: { e1: number; s1: number }) => x.e1 !== OPEN && !atOrAfter(x.e1, x.s1, p);
    // Only the newest entries can straddle the cut: walk back until one ended before it.
    for (let i = this.slices.length - 1; i >= 0; i--) {
      const sl = this.slices[i]!;
      if (sl.e1 !== OPEN && !ended(sl)) {
        sl.e1 = sl.s1 = sl.end = OPEN;
      }
      if (sl.end === OPEN) {
        if (!this.onCpu.has(sl.cpu)) this.onCpu.set(sl.cpu, sl);
      } else if (this.onCpu.size >= this.m.cpus.length) break;
    }
    const openById = new Map<number, RSpan>();
    for (let i = this.spans.length - 1; i >= 0; i--) {
      const sp = this.spans[i]!;
      if (sp.e1 !== OPEN && !ended(sp)) {
        sp.e1 = sp.s1 = sp.end = OPEN;
      }
      if (sp.end === OPEN && !openById.has(sp.thread)) openById.set(sp.thread, sp);
      if (sp.end !== OPEN && i < this.spans.length - 4096) break;
    }
    for (const t of this.m.threads) {
      const sp = openById.get(this.threadId(t.addr));
      if (sp) this.noPreempt.set(t.addr, sp);
    }
  }

  clear(): void {
    this.slices = [];
    this.marks = [];
    this.spans = [];
    this.onCpu.clear();
    this.noPreempt.clear();
  }

  body(): TimelineBody {
    // "Now": the present of the CPU that runs, or later when another CPU already ran further in
    // this round (CPUs run a round one after the other): nothing recorded lies past it.
    let endTick = Math.max(this.m.lbolt, Math.round((this.m.at() / this.m.cfg.tickCycles) * 1000) / 1000);
    for (const x of this.slices) endTick = Math.max(endTick, x.start, x.end);
    for (const x of this.spans) endTick = Math.max(endTick, x.start, x.end);
    for (const x of this.marks) endTick = Math.max(endTick, x.tick);
    return {
      endTick,
      // The simulated clock runs at hz = 100: a tick is 10 ms (kapi's nsPerCycle is 10 ms / tickCycles).
      msPerTick: 10,
      slices: this.slices.slice(-this.maxSlices).map((x) => ({ cpu: x.cpu, thread: x.thread, name: x.name, start: x.start, end: x.end === OPEN ? endTick : x.end })),
      marks: this.marks.slice(-this.maxMarks).map((x) => ({ cpu: x.cpu, tick: x.tick, kind: x.kind, label: x.label })),
      spans: this.spans.slice(-this.maxMarks).map((x) => ({ cpu: x.cpu, thread: x.thread, name: x.name, kind: 'preempt-disabled' as const, start: x.start, end: x.end === OPEN ? endTick : x.end })),
    };
  }
}
