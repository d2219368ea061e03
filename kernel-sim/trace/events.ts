/**
 * The simulator's event stream. Emission sites check `m.sink` first, so a run with nobody
 * listening allocates nothing per event.
 *
 * `entry`/`return` pairs are what `dtrace -F` would show for fbt probes (swtch, resume,
 * savectx, restorectx, every ctxop handler, the ctxop_* interface); `probe` events are the
 * other probes (sched:::off-cpu, sched:::on-cpu, sched:::preempt, kmem, ...), listed with their
 * categories in core/probes.ts.
 */
import type { ProbeName } from '../../core/probes';
import type { HookOp } from '../../core/eras';

export type { ProbeName };

export type KEvent =
  | { type: 'entry' | 'return'; cpu: number; thread: number; fn: string; detail?: string; tick: number; at: number }
  | { type: 'probe'; cpu: number; thread: number; probe: ProbeName; detail: string; tick: number; at: number; data?: ProbeData };

export interface ProbeData {
  /** For ctxop:hook: which op and where in the ring. */
  op?: HookOp;
  ctx?: number;
  handler?: string;
  arg?: number;
  /** For sched events: the other thread. */
  other?: number;
  addr?: number;
  size?: number;
}

export interface EventSink {
  event(e: KEvent): void;
}

/** Keeps the last `capacity` events (memory stays flat however long the run). */
export class EventRing implements EventSink {
  private buf: KEvent[] = [];
  /** Where in the run each event was recorded (`stampE`, `stampS`), parallel to buf. */
  private es: number[] = [];
  private ss: number[] = [];
  private next = 0;
  total = 0;
  /**
   * `stampE`/`stampS`: where in the run an event happens (a debugger's check and step counts),
   * so that `truncate` can forget the future after a reverse step.
   */
  constructor(readonly capacity = 65536, readonly stampE?: () => number, readonly stampS?: () => number) {}
  event(e: KEvent): void {
    const i = this.buf.length < this.capacity ? this.buf.length : this.next;
    this.buf[i] = e;
    if (this.stampE) {
      this.es[i] = this.stampE();
      this.ss[i] = this.stampS!();
    }
    this.next = (this.next + 1) % this.capacity;
    this.total++;
  }
  /** Events oldest first. */
  events(): KEvent[] {
    if (this.buf.length < this.capacity) return this.buf.slice();
    return this.buf.slice(this.next).concat(this.buf.slice(0, this.next));
  }
  private ordered(a: number[]): number[] {
    return this.buf.length < this.capacity ? a.slice() : a.slice(this.next).concat(a.slice(0, this.next));
  }
  /** Forgets the newest events whose stamp `future` says lie at or after the present. */
  truncate(future: (e: number, s: number) => boolean): void {
    if (!this.stampE) return;
    const es = this.ordered(this.es);
    const ss = this.ordered(this.ss);
    let n = es.length;
    while (n > 0 && future(es[n - 1]!, ss[n - 1]!)) n--;
    if (n === es.length) return;
    this.buf = this.events().slice(0, n);
    this.es = es.slice(0, n);
    this.ss = ss.slice(0, n);
    this.total -= es.length - n;
    this.next = n % this.capacity;
  }
  clone(): EventRing {
    const r = new EventRing(this.capacity, this.stampE, this.stampS);
    r.buf = this.buf.slice();
    r.es = this.es.slice();
    r.ss = this.ss.slice();
    r.next = this.next;
    r.total = this.total;
    return r;
  }
}

/** Fans one stream out to several sinks. */
export class TeeSink implements EventSink {
  constructor(readonly sinks: EventSink[]) {}
  event(e: KEvent): void {
    for (const s of this.sinks) s.event(e);
  }
}
