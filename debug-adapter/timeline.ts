/**
 * What the Timeline view draws, recorded from the simulator's event stream: who was on each
 * CPU when (slices), and marks for the probe categories core/probes.ts lists for it (ctxop hook
 * calls, attach/detach, preemption disabled and enabled, hazards, panics). Memory is bounded
 * (the oldest entries go first).
 *
 * Every entry remembers the step count at which it was recorded, so after a reverse step the
 * recorder forgets what lies in the future (`truncate`) and records it again when the run
 * goes forward.
 */
import type { EventSink, KEvent, Machine } from '../kernel-sim/index';
import { probeCategory, TIMELINE_MARKS } from '../core/probes';
import type { TimelineBody } from '../core/protocol';

interface RSlice { cpu: number; thread: number; name: string; start: number; end: number; s0: number; s1: number }
interface RMark { cpu: number; tick: number; kind: string; label: string; s: number }
interface RSpan { cpu: number; thread: number; name: string; start: number; end: number; s0: number; s1: number }

const OPEN = -1;

export class TimelineRecorder implements EventSink {
  private slices: RSlice[] = [];
  private marks: RMark[] = [];
  private spans: RSpan[] = [];
  /** Open slice per CPU, open preemption-disabled span per thread. */
  private onCpu = new Map<number, RSlice>();
  private noPreempt = new Map<number, RSpan>();

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
    const at = this.tick(e);
    const cat = probeCategory(e.probe)!;
    if (cat === 'switch') {
      this.close(e.cpu, at, s);
      if (e.probe === 'sched:off-cpu') return;
      const t = this.m.byAddr.get(e.thread);
      if (t?.isIdle) return;
      const sl: RSlice = { cpu: e.cpu, thread: this.threadId(e.thread), name: this.name(e.thread), start: at, end: OPEN, s0: s, s1: OPEN };
      this.slices.push(sl);
      this.onCpu.set(e.cpu, sl);
      if (this.slices.length > this.maxSlices * 1.25) this.slices.splice(0, this.slices.length - this.maxSlices);
      return;
    }
    if (!TIMELINE_MARKS.has(cat)) return;
    switch (cat) {
      case 'hook':
        this.mark(e.cpu, at, e.data?.op ?? 'hook', `${e.data?.handler ?? ''} (${this.name(e.thread)})`, s);
        return;
      case 'ctxop':
        // 'ctxop-free' (the ctxop itself freed) is not the 'free' hook call.
        this.mark(e.cpu, at, e.probe === 'ctxop:free' ? 'ctxop-free' : e.probe.slice(6), `${e.detail} (${this.name(e.thread)})`, s);
        return;
      case 'preempt-control':
        if (e.probe === 'sched:kpreempt-disable') this.preemptDisabled(e, at, s);
        else this.preemptEnabled(e, at, s);
        return;
      case 'preempt':
        this.mark(e.cpu, at, 'preempt', `${this.name(e.thread)}: ${e.detail}`, s);
        return;
      default:
        // Hazards and panics: the probe name is the kind, the message the label.
        this.mark(e.cpu, at, e.probe, e.detail, s);
        return;
    }
  }

  private preemptDisabled(e: KEvent, at: number, s: number): void {
    this.mark(e.cpu, at, 'preempt-disable', this.name(e.thread), s);
    if (!this.noPreempt.has(e.thread)) {
      const sp: RSpan = { cpu: e.cpu, thread: this.threadId(e.thread), name: this.name(e.thread), start: at, end: OPEN, s0: s, s1: OPEN };
      this.spans.push(sp);
      this.noPreempt.set(e.thread, sp);
      if (this.spans.length > this.maxMarks * 1.25) this.spans.splice(0, this.spans.length - this.maxMarks);
    }
  }

  private preemptEnabled(e: KEvent, at: number, s: number): void {
    this.mark(e.cpu, at, 'preempt-enable', this.name(e.thread), s);
    const t = this.m.byAddr.get(e.thread);
    if (t && this.m.tPreempt(t) <= 0) {
      const sp = this.noPreempt.get(e.thread);
      if (sp) {
        sp.end = at;
        sp.s1 = s;
        this.noPreempt.delete(e.thread);
      }
    }
  }

  /** A mark the debugger adds itself (a leak found at the end of the run). */
  addMark(cpu: number, kind: string, label: string): void {
    this.mark(cpu, this.m.lbolt, kind, label, this.m.stats.steps);
  }

  private mark(cpu: number, tick: number, kind: string, label: string, s: number): void {
    this.marks.push({ cpu, tick, kind, label, s });
    if (this.marks.length > this.maxMarks * 1.25) this.marks.splice(0, this.marks.length - this.maxMarks);
  }

  private close(cpu: number, at: number, s: number): void {
    const sl = this.onCpu.get(cpu);
    if (sl) {
      sl.end = at;
      sl.s1 = s;
      this.onCpu.delete(cpu);
    }
  }

  /** Forgets everything recorded after step count `steps` (a reverse step went there). */
  truncate(steps: number): void {
    const keep = <T extends { s0?: number; s?: number }>(a: T[]) => {
      let n = a.length;
      while (n > 0 && ((a[n - 1]!.s0 ?? a[n - 1]!.s!) > steps)) n--;
      a.length = n;
    };
    keep(this.slices);
    keep(this.marks);
    keep(this.spans);
    this.onCpu.clear();
    this.noPreempt.clear();
    // Only the newest entries can straddle the cut: walk back until one ended before it.
    for (let i = this.slices.length - 1; i >= 0; i--) {
      const sl = this.slices[i]!;
      if (sl.s1 > steps) {
        sl.s1 = OPEN;
        sl.end = OPEN;
      }
      if (sl.end === OPEN) {
        if (!this.onCpu.has(sl.cpu)) this.onCpu.set(sl.cpu, sl);
      } else if (sl.s1 <= steps && this.onCpu.size >= this.m.cpus.length) break;
    }
    const openById = new Map<number, RSpan>();
    for (let i = this.spans.length - 1; i >= 0; i--) {
      const sp = this.spans[i]!;
      if (sp.s1 > steps) {
        sp.s1 = OPEN;
        sp.end = OPEN;
      }
      if (sp.end === OPEN && !openById.has(sp.thread)) openById.set(sp.thread, sp);
      if (sp.end !== OPEN && sp.s1 <= steps && i < this.spans.length - 4096) break;
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
    const now = Math.round((this.m.at() / this.m.cfg.tickCycles) * 1000) / 1000;
    const endTick = Math.max(this.m.lbolt, now);
    return {
      endTick,
      slices: this.slices.slice(-this.maxSlices).map((x) => ({ cpu: x.cpu, thread: x.thread, name: x.name, start: x.start, end: x.end === OPEN ? endTick : x.end })),
      marks: this.marks.slice(-this.maxMarks).map((x) => ({ cpu: x.cpu, tick: x.tick, kind: x.kind, label: x.label })),
      spans: this.spans.slice(-this.maxMarks).map((x) => ({ cpu: x.cpu, thread: x.thread, name: x.name, kind: 'preempt-disabled' as const, start: x.start, end: x.end === OPEN ? endTick : x.end })),
    };
  }
}
