/**
 * What several dcmds need to know about a thread: its fields read from simulated memory (as mdb
 * reads a kthread_t), its description (`vcpu0/3`, `thread_reaper`), its stack with frame
 * pointers, the synchronization object it sleeps on, and which thread `curthread` is.
 */
import type { Machine, StackEntry } from '../machine/machine';
import type { KThread } from '../machine/thread';
import { THREAD_NAME_LEN, MAXCOMLEN, TS_FREE, stateName } from '../machine/layout';
import { MdbError } from './types';
import { p } from './format';


/** A kthread_t as read from memory (mdb_vread of the whole structure). */
export interface KthreadView {
  addr: number;
  t_stk: number;
  t_startpc: number;
  t_bound_cpu: number;
  t_flag: number;
  t_proc_flag: number;
  t_schedflag: number;
  t_preempt: number;
  t_pri: number;
  t_epri: number;
  t_pil: number;
  t_state: number;
  t_ctx: number;
  t_cpu: number;
  t_next: number;
  t_lwp: number;
  t_procp: number;
  t_wchan: number;
  t_tid: number;
  t_disp_time: number;
  t_name: string;
  /** The simulator's thread object, when the address is a live thread. */
  kt?: KThread;
}

export function readKthread(m: Machine, addr: number, what = 'kthread_t', verb = 'failed to read'): KthreadView {
  if (!m.mem.isMapped(addr, m.L.kthread.size)) throw new MdbError(`${verb} ${what} at ${p(addr)}: no mapping for address`);
  const mem = m.mem;
  const T = m.T;
  const K = m.L.kthread;
  const get = (n: string) => m.getField(K, addr, n);
  let name = '';
  for (let i = 0; i < THREAD_NAME_LEN; i++) {
    const c = mem.u8[addr + T.t_name + i]!;
    if (c === 0) break;
    name += String.fromCharCode(c);
  }
  return {
    addr,
    t_stk: mem.readPtr(addr + T.t_stk),
    t_startpc: mem.readPtr(addr + T.t_startpc),
    t_bound_cpu: mem.readPtr(addr + T.t_bound_cpu),
    t_flag: get('t_flag'),
    t_proc_flag: get('t_proc_flag'),
    t_schedflag: get('t_schedflag'),
    t_preempt: get('t_preempt'),
    t_pri: get('t_pri'),
    t_epri: get('t_epri'),
    t_pil: get('t_pil'),
    t_state: get('t_state'),
    t_ctx: mem.readPtr(addr + T.t_ctx),
    t_cpu: mem.readPtr(addr + T.t_cpu),
    t_next: mem.readPtr(addr + T.t_next),
    t_lwp: mem.readPtr(addr + T.t_lwp),
    t_procp: mem.readPtr(addr + T.t_procp),
    t_wchan: mem.readPtr(addr + T.t_wchan),
    t_tid: get('t_tid'),
    t_disp_time: get('t_disp_time'),
    t_name: name,
    kt: m.byAddr.get(addr),
  };
}

export { stateName, TS_FREE };

/** A process's command name (`p_user.u_comm`), or undefined when p is not a readable proc_t. */
export function procComm(m: Machine, p: number): string | undefined {
  if (!p || !m.mem.isMapped(p, m.L.proc.size)) return undefined;
  const a = p + m.L.proc.offsets.p_user! + m.L.user.offsets.u_comm!;
  let s = '';
  for (let i = 0; i < MAXCOMLEN + 1; i++) {
    const c = m.mem.u8[a + i]!;
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}

/**
 * The processes, as `::walk proc` visits them: p0 first, then each other proc_t in the order its
 * first thread is on allthreads (kctx keeps no practive list: a process whose threads are all
 * gone is not visited).
 */
export function procAddrs(m: Machine): number[] {
  const out: number[] = [];
  const seen = new Set<number>();
  const p0 = m.sym.data.get('p0')?.addr;
  if (p0) out.push(p0), seen.add(p0);
  for (const t of allThreadAddrs(m)) {
    const p = m.mem.isMapped(t, m.L.kthread.size) ? m.mem.readPtr(t + m.T.t_procp) : 0;
    if (p && !seen.has(p) && procComm(m, p) !== undefined) out.push(p), seen.add(p);
  }
  return out;
}

/**
 * The command of the thread's process (`t_procp->p_user.u_comm`). A thread with no proc_t (a
 * FreeBSD machine's): an LWP stands for a process of its own, other threads for sched.
 */
export function ucomm(m: Machine, t: KthreadView): string {
  return procComm(m, t.t_procp) ?? (t.t_lwp ? t.t_name || '?' : 'sched');
}

/** thread_getdesc(): `cmd/lwpid` for an LWP, else the thread's name or `startpc()`. */
export function threadDesc(m: Machine, t: KthreadView): string {
  if (t.t_lwp) return `${ucomm(m, t)}/${t.t_tid}`;
  if (t.t_name) return t.t_name;
  if (t.t_startpc) return `${m.sym.format(t.t_startpc)}()`;
  return '?';
}

export interface MdbFrame {
  /** Synthetic frame pointer (a stack address of the thread). */
  fp: number;
  name: string;
  offset: number;
  args: number[];
  kind: StackEntry['kind'];
  file?: string;
  line?: number;
}

const FRAME_SIZE = 0x30;

/**
 * The thread's stack, innermost first, with a frame pointer per frame inside the thread's stack
 * region (the outermost frame near the top). C frames that know their own frame address
 * (`fp`/`bp` in the frame) keep it.
 */
export function threadFrames(m: Machine, t: KThread): MdbFrame[] {
  const entries = m.stackOf(t);
  const top = t.stackBase + t.stackSize;
  const n = entries.length;
  const out: MdbFrame[] = [];
  for (let k = 0; k < n; k++) {
    const e = entries[k]!;
    const f = t.stack[e.frameIndex] as Record<string, unknown> | undefined;
    let fp = top - 0x10 - (n - 1 - k) * FRAME_SIZE;
    const own = f && (typeof f.fp === 'number' ? f.fp : typeof f.bp === 'number' ? f.bp : undefined);
    if (e.kind === 'c' && typeof own === 'number' && own > t.stackBase && own < top) fp = own;
    out.push({ fp, name: e.name, offset: e.offset, args: e.args, kind: e.kind, file: e.file, line: e.line });
  }
  return out;
}

/** The stack pointer saved at the last switch: just below the innermost frame. */
export function threadSp(frames: MdbFrame[], t: KThread): number {
  if (!frames.length) return t.sp;
  return frames[0]!.fp - FRAME_SIZE;
}

/** A thread switched off its CPU shows its saved PC at _resume_from_idle. */
export function savedPc(frames: MdbFrame[]): MdbFrame | undefined {
  const f = frames[0];
  return f && f.name === '_resume_from_idle' ? f : undefined;
}

/** The thread `$c` and `curthread` mean: the panicking one, the stopped one, else CPU 0's. */
export function curthread(m: Machine): KThread {
  if (m.panicInfo) {
    const t = m.byAddr.get(m.panicInfo.thread);
    if (t) return t;
  }
  if (m.stopPoint?.thread && !m.stopPoint.thread.freed) return m.stopPoint.thread;
  return m.cpus[0]!.thread;
}

/** Finds the thread whose synthetic frame pointers include `fp` (for `fp$c`). */
export function threadOfFrame(m: Machine, fp: number): { t: KThread; index: number } | undefined {
  for (const t of m.threads) {
    if (fp < t.stackBase || fp >= t.stackBase + t.stackSize) continue;
    const fr = threadFrames(m, t);
    const i = fr.findIndex((f) => f.fp === fp);
    if (i >= 0) return { t, index: i };
    if (fp === threadSp(fr, t)) return { t, index: 0 };
  }
  return undefined;
}

/** The synchronization object type a thread sleeps on (::stacks SOBJ, ::thread -b). */
export function sobjName(t: KThread | undefined): string {
  const b = t?.blockedOn;
  if (!b) return '<none>';
  switch (b.kind) {
    case 'mutex': return 'mutex';
    default: return 'cv';
  }
}

/** Threads in allthreads order, following t_next in memory from the `allthreads` head. */
export function allThreadAddrs(m: Machine): number[] {
  const out: number[] = [];
  const head = m.mem.readPtr(m.allthreadsVar);
  let a = head;
  while (a && out.length < 100000) {
    out.push(a);
    if (!m.mem.isMapped(a, m.L.kthread.size)) break;
    a = m.mem.readPtr(a + m.T.t_next);
    if (a === head) break;
  }
  return out;
}
