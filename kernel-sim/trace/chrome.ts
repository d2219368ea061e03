/**
 * Chrome trace-event export (`kctx run --export-trace FILE.json`): one track per CPU, a slice
 * per thread on-CPU interval, instants for the probe categories core/probes.ts lists (hook calls,
 * attach/detach, preemption, hazards, panics). Opens
 * in Perfetto (ui.perfetto.dev) or chrome://tracing. Written as a stream: memory stays flat.
 */
import { openSync, writeSync, closeSync } from 'node:fs';
import type { EventSink, KEvent } from './events';
import { ALARM, CHROME_INSTANTS, probeCategory } from '../../core/probes';

export class ChromeTraceWriter implements EventSink {
  private fd: number;
  private first = true;
  private buf: string[] = [];
  private open = new Map<number, string>();
  private lastTs = 0;
  constructor(
    path: string,
    private threadName: (addr: number) => string,
    private usPerCycle: number,
    cpus: number,
  ) {
    this.fd = openSync(path, 'w');
    writeSync(this.fd, '{"displayTimeUnit":"ms","traceEvents":[\n');
    this.push({ name: 'process_name', ph: 'M', pid: 1, tid: 0, args: { name: 'kctx simulated kernel' } });
    for (let c = 0; c < cpus; c++) this.push({ name: 'thread_name', ph: 'M', pid: 1, tid: c, args: { name: `CPU ${c}` } });
  }

  private push(o: object): void {
    this.buf.push((this.first ? '' : ',\n') + JSON.stringify(o));
    this.first = false;
    if (this.buf.length >= 512) this.flush();
  }

  private flush(): void {
    if (this.buf.length) writeSync(this.fd, this.buf.join(''));
    this.buf = [];
  }

  event(e: KEvent): void {
    const ts = e.at * this.usPerCycle;
    this.lastTs = Math.max(this.lastTs, ts);
    if (e.type !== 'probe') return;
    const who = this.threadName(e.thread);
    const cat = probeCategory(e.probe)!;
    if (cat === 'switch') {
      if (e.probe === 'sched:on-cpu') {
        this.open.set(e.cpu, who);
        this.push({ name: who, cat: 'thread', ph: 'B', pid: 1, tid: e.cpu, ts });
      } else if (this.open.get(e.cpu) === who) {
        this.push({ name: who, cat: 'thread', ph: 'E', pid: 1, tid: e.cpu, ts });
        this.open.delete(e.cpu);
      }
    } else if (cat === 'hook') {
      this.push({ name: `${e.data?.op} ${e.data?.handler}`, cat: 'ctxop', ph: 'i', s: 't', pid: 1, tid: e.cpu, ts, args: { thread: who, detail: e.detail } });
    } else if (CHROME_INSTANTS.has(cat)) {
      this.push({ name: e.probe, cat: e.probe.split(':')[0], ph: 'i', s: ALARM.has(cat) ? 'g' : 't', pid: 1, tid: e.cpu, ts, args: { thread: who, detail: e.detail } });
    }
  }

  close(): void {
    for (const [cpu, who] of this.open) this.push({ name: who, cat: 'thread', ph: 'E', pid: 1, tid: cpu, ts: this.lastTs });
    this.open.clear();
    this.flush();
    writeSync(this.fd, '\n]}\n');
    closeSync(this.fd);
  }
}
