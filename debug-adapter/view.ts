/**
 * How the simulated kernel looks in the debugger: thread ids and names, stack frames (C frames
 * with source, kernel frames without, built-in workloads with a generated listing), the
 * kthread_t / cpu_t / ctxop views, and the bodies of the `kctx/state` custom request.
 */
import { stateName, formatAddr, ringNewestFirst, builtinLine, type Machine, type StackEntry, type StopPoint, type Frame, type KThread, type StructLayout } from '../kernel-sim/index';
import type { Decision } from './breakpoints';
import { CTXOP_STATE_HOOKS, type CtxopState, type StateBody } from '../core/protocol';

export const IDLE_ID_BASE = 100000;

export function threadId(t: KThread): number {
  return t.isIdle ? IDLE_ID_BASE + Math.max(0, t.cpu) : t.tid;
}

/** Thread id for a kthread_t address (also of a freed thread, from the cache). */
export class ThreadIds {
  private byAddr = new Map<number, number>();
  constructor(private readonly m: () => Machine) {}
  of(addr: number): number {
    const t = this.m().byAddr.get(addr);
    if (t) {
      const id = threadId(t);
      this.byAddr.set(addr, id);
      return id;
    }
    return this.byAddr.get(addr) ?? 0;
  }
}

/**
 * Handles (frame ids) that are dropped at each stop but never given out again in a session.
 * VS Code loads a stack in two pages (the top frame, then 19 more) and redraws the Call Stack after
 * the second page only if some frame below the top differs from the previous stop's, ids included:
 * with ids that restart at every stop, a stop whose lower frames equal the last one's kept the
 * "Load More Stack Frames" row it drew after the first page, and that row had nothing to load.
 */
export class StopHandles<V> {
  private next = 1000;
  private map = new Map<number, V>();
  create(v: V): number {
    const h = this.next++;
    this.map.set(h, v);
    return h;
  }
  get(h: number): V | undefined {
    return this.map.get(h);
  }
  /** Forget the handles given out so far; the counter goes on. */
  reset(): void {
    this.map = new Map();
  }
}

export function findThread(m: Machine, id: number): KThread | undefined {
  for (const t of m.threads) if (threadId(t) === id) return t;
  return undefined;
}

export function visibleThreads(m: Machine, showIdle: boolean): KThread[] {
  const out = m.threads.filter((t) => !t.isIdle && t.role !== 'reaper');
  const reaper = m.threads.find((t) => t.role === 'reaper');
  if (reaper) out.push(reaper);
  if (showIdle) out.push(...m.threads.filter((t) => t.isIdle));
  return out;
}

export function threadLabel(m: Machine, t: KThread): string {
  const st = stateName(m.tState(t));
  const on = st === 'onproc' ? ` cpu${t.cpu}` : '';
  return `${t.name} [${st}${on}]`;
}

/** A frame as shown: a machine stack entry, or the function a stop is about to enter. */
export interface ViewFrame {
  name: string;
  args: number[];
  kind: 'kernel' | 'c' | 'builtin' | 'entering';
  file?: string;
  line?: number;
  column?: number;
  /** Index into t.stack (-1 for the entering pseudo-frame). */
  frameIndex: number;
  /** Built-in workload program name, line = op index + 1. */
  program?: string;
  /** A kernel listing's line, by its text (a stop at a line inside a kernel function). */
  mark?: string;
}

/** The function a stop point is about to call (hook handler, called function, resume). */
export function enteringAt(m: Machine, p: StopPoint | null, d: Decision | null, t: KThread): ViewFrame | null {
  if (!p || p.thread?.addr !== t.addr) return null;
  if (d?.entering) return { name: d.entering.name, args: d.entering.args, kind: 'entering', frameIndex: -1 };
  if (p.kind === 'hook' && p.handler) {
    const arg = p.ctx ? readPtrSafe(m, p.ctx + m.O.arg) : 0;
    return { name: p.handler, args: p.op === 'exit' ? [t.addr] : [arg], kind: 'entering', frameIndex: -1 };
  }
  if (p.kind === 'function' && p.name && m.sym.lookup(p.name)?.kind !== 'c') return { name: p.name, args: [], kind: 'entering', frameIndex: -1 };
  // A line inside a kernel function the driver called (ctxop_attach): that function, at that line.
  if (p.kind === 'kline' && p.name && m.sym.lookup(p.name)?.kind === 'native') return { name: p.name, args: [], kind: 'entering', frameIndex: -1, mark: p.op };
  return null;
}

export function viewFrames(m: Machine, t: KThread, entering: ViewFrame | null): ViewFrame[] {
  const out: ViewFrame[] = [];
  if (entering) out.push(entering);
  const entries: StackEntry[] = m.stackOf(t);
  let first = true;
  for (const e of entries) {
    const f = t.stack[e.frameIndex];
    if (e.kind === 'builtin' && f) {
      const top = first && !entering;
      // The top frame shows the op about to run; a caller shows the op that made the call.
      const pc = Math.max(0, (f.pc as number) - (top ? 0 : 1));
      out.push({ name: e.name, args: e.args, kind: 'builtin', frameIndex: e.frameIndex, program: f.prog as string, line: pc + 1, column: 1 });
    } else if (e.kind === 'c') {
      out.push({ name: e.name, args: e.args, kind: 'c', file: e.file, line: e.line, column: e.column, frameIndex: e.frameIndex });
    } else {
      out.push({ name: e.name, args: e.args, kind: 'kernel', frameIndex: e.frameIndex });
    }
    first = false;
  }
  return out;
}

/** The listing of a built-in workload: one line per op (what the debugger shows as its source). */
export function builtinListing(m: Machine, prog: string): string[] {
  const lines: string[] = [];
  for (let i = 0; i < 10000; i++) {
    const text = builtinLine(m, { kind: 'builtin', pc: i, prog } as Frame);
    if (i > 0 && text === lines[i - 1]) break;
    lines.push(text);
  }
  return lines;
}

export function readPtrSafe(m: Machine, a: number): number {
  try {
    return m.mem.readPtr(a);
  } catch {
    return 0;
  }
}

export function fnName(m: Machine, p: number): string {
  if (!p) return 'NULL';
  const s = m.sym.containing(p);
  return s ? (s.addr === p ? s.name : m.sym.format(p)) : formatAddr(p);
}

/** A field of a kernel structure, as the Variables view shows it. */
export interface FieldView {
  name: string;
  value: string;
  type: string;
  addr: number;
  size: number;
}

export function structFields(m: Machine, layout: StructLayout, base: number, skip: string[] = []): FieldView[] {
  const out: FieldView[] = [];
  for (const f of layout.fields) {
    if (skip.includes(f.name) || f.name.endsWith('_pad') || f.name === 'ct_pad') continue;
    const a = base + f.offset;
    const type = f.fnArgs !== undefined ? `${f.ctype} (*)(${f.fnArgs})` : `${f.ctype}${f.count ? `[${f.count}]` : ''}`;
    let value: string;
    let size = 8;
    try {
      if (typeof f.kind !== 'string') {
        size = f.kind.size;
        value = `{...} (${size} bytes)`;
      } else if (f.count && f.kind === 'u8') {
        size = f.count;
        value = JSON.stringify(m.mem.readCString(a, f.count));
      } else {
        switch (f.kind) {
          case 'u8': size = 1; value = String(m.mem.readU8(a)); break;
          case 'i8': size = 1; value = String(m.mem.readI8(a)); break;
          case 'u16': size = 2; value = String(m.mem.readU16(a)); break;
          case 'i16': size = 2; value = String(m.mem.readI16(a)); break;
          case 'u32': size = 4; value = f.name.includes('flag') ? '0x' + m.mem.readU32(a).toString(16) : String(m.mem.readU32(a)); break;
          case 'i32': size = 4; value = String(m.mem.readI32(a)); break;
          case 'u64': value = m.mem.readU64(a).toString(); break;
          case 'i64': value = m.mem.readI64(a).toString(); break;
          case 'ptr': {
            const p = m.mem.readPtr(a);
            if (f.fnArgs !== undefined) value = fnName(m, p);
            else {
              const who = p ? m.byAddr.get(p)?.name : undefined;
              value = p === 0 ? 'NULL' : formatAddr(p) + (who ? ` (${who})` : '');
            }
            break;
          }
        }
      }
    } catch {
      value = '<unreadable>';
    }
    out.push({ name: f.name, value: value!, type, addr: a, size });
  }
  return out;
}

export function threadFields(m: Machine, t: KThread): FieldView[] {
  const fields = structFields(m, m.L.kthread, t.addr);
  for (const f of fields) {
    if (f.name === 't_state') f.value = `${m.tState(t)} (TS_${stateName(m.tState(t)).toUpperCase()})`;
  }
  return fields;
}

export function cpuFields(m: Machine, cpuId: number): FieldView[] {
  const cpu = m.cpus[cpuId]!;
  return structFields(m, m.L.cpu, cpu.addr);
}

export function ctxopLayout(m: Machine): StructLayout {
  return m.L.ctxop;
}


/** The thread's ctxops in save order (newest first), as `kctx/state` reports them. */
export function ctxopsOf(m: Machine, t: KThread): CtxopState[] {
  const O = m.O;
  let list: number[] = [];
  try {
    list = ringNewestFirst(m, t);
  } catch {
    list = [];
  }
  return list.map((c) => {
    const fn = (off: number) => {
      const p = readPtrSafe(m, c + off);
      return p ? fnName(m, p) : undefined;
    };
    const arg = readPtrSafe(m, c + O.arg);
    const v: CtxopState = { addr: formatAddr(c) };
    for (const h of CTXOP_STATE_HOOKS) {
      const name = fn(O[h.member]!);
      if (name) v[h.key] = name;
    }
    v.arg = arg ? formatAddr(arg) : '0';
    return v;
  });
}

export function kctxState(m: Machine, showIdle: boolean): StateBody {
  return {
    era: m.era.id,
    tick: m.lbolt,
    cpus: m.cpus.map((c) => ({
      id: c.id,
      addr: formatAddr(c.addr),
      thread: c.thread && (!c.thread.isIdle || showIdle) ? threadId(c.thread) : null,
      threadName: c.thread?.name ?? null,
      runrun: m.runrun(c),
      kprunrun: m.kprunrun(c),
      runq: c.runq.map((x) => threadId(x)),
    })),
    threads: m.threads
      .filter((t) => showIdle || !t.isIdle)
      .map((t) => {
        const st = m.tState(t);
        const onproc = stateName(st) === 'onproc';
        return {
          id: threadId(t),
          addr: formatAddr(t.addr),
          name: t.name,
          state: stateName(st),
          cpu: onproc ? t.cpu : null,
          lastCpu: t.cpu >= 0 ? t.cpu : null,
          preempt: m.tPreempt(t),
          pri: m.tPri(t),
          ctxops: ctxopsOf(m, t),
        };
      }),
  };
}

/** mdb `$c`-style lines for a thread's stack (for exceptionInfo). */
export function stackText(m: Machine, t: KThread): string {
  return m
    .stackOf(t)
    .map((e) => `${e.offset ? `${e.name}+0x${e.offset.toString(16)}` : e.name}(${e.args.map((a) => formatAddr(a)).join(', ')})${e.file ? ` [${e.file}:${e.line}]` : ''}`)
    .join('\n');
}

