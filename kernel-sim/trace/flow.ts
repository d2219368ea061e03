/**
 * `dtrace -F` style flow output (reference §9): a `CPU FUNCTION` header, `->` on entry and
 * `<-` on return with the indentation growing by two after an entry and shrinking before a
 * return, and `| provider:probe` lines for the other probes. Indentation is kept per CPU so
 * two CPUs' flows stay readable when interleaved.
 */
import type { EventSink, KEvent } from './events';
import { probeCategory } from '../../core/probes';

export interface FlowOptions {
  /** Thread names by address, for the detail column. */
  threadName: (addr: number) => string;
  /** Include kmem:alloc/kmem:free probes (noisy). */
  kmem?: boolean;
}

export class FlowFormatter implements EventSink {
  /** Call depth per thread: a switch leaves the old thread inside swtch, as on a real kernel. */
  private indent = new Map<number, number>();
  private headerDone = false;
  constructor(
    private write: (line: string) => void,
    private opts: FlowOptions,
  ) {}

  header(): void {
    if (this.headerDone) return;
    this.headerDone = true;
    this.write(`${'CPU'.padStart(3)} ${'FUNCTION'.padEnd(41)}`.trimEnd());
  }

  event(e: KEvent): void {
    this.header();
    const line = this.format(e);
    if (line !== null) this.write(line);
  }

  format(e: KEvent): string | null {
    let ind = this.indent.get(e.thread) ?? 0;
    let name: string;
    let detail: string;
    if (e.type === 'entry') {
      name = ' '.repeat(ind) + ' -> ' + e.fn;
      this.indent.set(e.thread, ind + 2);
      detail = e.detail ?? '';
    } else if (e.type === 'return') {
      ind = Math.max(0, ind - 2);
      this.indent.set(e.thread, ind);
      name = ' '.repeat(ind) + ' <- ' + e.fn;
      detail = '';
    } else {
      const p = e as Extract<KEvent, { type: 'probe' }>;
      // Hook calls show as the handler's entry and return; kmem probes only when asked for.
      const cat = probeCategory(p.probe);
      if (cat === 'hook') return null;
      if (!this.opts.kmem && cat === 'kmem') return null;
      name = ' '.repeat(ind) + ' | ' + p.probe;
      detail = p.detail;
    }
    const who = this.opts.threadName(e.thread);
    return `${String(e.cpu).padStart(3)} ${name.padEnd(41)} ${who}${detail ? ' ' + detail : ''}`.trimEnd();
  }
}
