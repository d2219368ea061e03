/**
 * The machine: CPUs stepping kernel threads in a deterministic interleaving.
 *
 * Time is counted in cycles. Each round every CPU (in an order the seeded PRNG draws) runs
 * its current thread for `slice` cycles; a clock tick fires every `tickCycles` cycles. A
 * thread's work is a stack of frames; the top frame's kind executes it (native kernel code
 * such as swtch, interpreted C, built-in workloads). A frame that calls something that may
 * block pushes a frame instead of waiting, so any thread can leave the CPU at any point and
 * the whole state stays plain data: snapshots and replay (reverse stepping) need nothing else.
 */
import { Memory, MemoryFault, OutOfMemory, formatAddr } from './memory';
import { Symbols, PUSHED, type KResult, type NativeImpl, type TextSymbol } from './symbols';
import { Kmem, KmemError, KM_NOSLEEP } from './kmem';
import { Prng } from './prng';
import { KThread, Cpu, type Frame, type BlockReason } from './thread';
import { THREAD_NAME_LEN, MAXCOMLEN, PSARGSZ, SSYS, PROC_USER_FLAGS, TS_ONPROC, TS_RUN, TS_SLEEP, TS_ZOMB, TS_FREE, T_KFPU, shippedLayouts, scalarOf, memberOf, type Layouts, type StructLayout } from './layout';
import { ERAS, type Era, type EraId } from '../abi/eras';
import type { EventSink, ProbeName, ProbeData } from '../trace/events';
import { copyState, putState } from './state';
import { NO_STEP, type Schedule } from './schedule';

export { PUSHED };
export type { KResult, Frame };

export class KernelPanic extends Error {
  constructor(message: string, readonly fn?: string) {
    super(message);
  }
}

export interface MachineConfig {
  era: EraId;
  cpus: number;
  seed: number;
  /** Cycles per clock tick. */
  tickCycles: number;
  /** Ticks a thread runs before its quantum expires. */
  quantum: number;
  /** Cycles each CPU runs per round before the next CPU gets its turn. */
  slice: number;
  /** Every `every`th KM_SLEEP allocation sleeps `ticks` ticks (memory pressure). */
  memoryPressure?: { every: number; ticks: number };
  /** Physical memory in bytes (default DEFAULT_PHYSMEM): allocations past it fail or wait. */
  physmem?: number;
  /** DEBUG kernel: ASSERTs are live. */
  debug: boolean;
}

export const DEFAULT_CONFIG: MachineConfig = {
  era: 'illumos-13917', cpus: 1, seed: 1, tickCycles: 100, quantum: 2, slice: 10, debug: true,
};

export interface StopPoint {
  /**
   * 'kline': a line of a kernel function the dispatcher runs in phases (resume, savectx,
   * restorectx, _resume_from_idle: `name`), checked before that phase does anything. Only a
   * debugger's Step Into stops there (machine/dispatcher.ts `klineStop`).
   */
  kind: 'swtch' | 'hook' | 'function' | 'hazard' | 'statement' | 'step' | 'pause' | 'data' | 'stub' | 'kline';
  thread: KThread;
  cpu: number;
  /** For 'swtch' (and a 'kline' at the switch): the outgoing and incoming threads. */
  from?: KThread;
  to?: KThread;
  /** For 'hook': which op and handler. */
  op?: string;
  handler?: string;
  ctx?: number;
  /** For 'function': the function entered. For 'hazard': the filter id. */
  name?: string;
  message?: string;
  /** Anything the stopping code wants the debugger to see (statement position, ...). */
  detail?: unknown;
}

/** Decides whether execution stops at a point; installed by the debug adapter. */
export interface StopPolicy {
  shouldStop(m: Machine, p: StopPoint): boolean;
}

export type RunOutcome =
  | { kind: 'end' }
  | { kind: 'stopped'; point: StopPoint }
  | { kind: 'panic'; info: PanicInfo }
  | { kind: 'step-limit' }
  | { kind: 'deadlock'; message: string };

export interface PanicInfo {
  cpu: number;
  thread: number;
  message: string;
  tick: number;
  /** Stack at the panic, innermost first, mdb `$c` form. */
  stack: string[];
  /** For a page fault (BAD TRAP): the address and whether it was a write. */
  fault?: { addr: number; write: boolean };
}

export interface StackEntry {
  name: string;
  offset: number;
  args: number[];
  kind: 'kernel' | 'c' | 'builtin';
  /** Source position for C frames. */
  file?: string;
  line?: number;
  column?: number;
  /** Index of the frame in the thread's stack (kernel sub-frames share one). */
  frameIndex: number;
}

export interface FrameKind {
  /** Runs the frame for at most `budget` cycles; returns cycles used (0 only when stopping). */
  step(m: Machine, t: KThread, f: Frame, budget: number): number;
  /** Stack entries for this frame, innermost first. */
  describe(m: Machine, t: KThread, f: Frame, index: number): StackEntry[];
  /** Whether an involuntary preemption may happen while this frame is on top. */
  preemptible: boolean;
  /** Pointers held only in the frame (leak detection roots). */
  roots?(f: Frame): number[];
  /** Deep copy for snapshots (default: shallow copy). */
  clone?(f: Frame): Frame;
}

export interface Stats {
  switches: number;
  hooks: number;
  steps: number;
  ticks: number;
  allocs: number;
  frees: number;
}

export interface CreateThreadOptions {
  name: string;
  role: KThread['role'];
  pri: number;
  lwp: boolean;
  /** The entry frame, or a function that builds it for the new thread (C frames need its stack). */
  entry: Frame | ((t: KThread) => Frame);
  stackSize?: number;
  startpc?: number;
  /** With lwp: attach the FPU ctxop too (false when fp_new_lwp will give it, at lwp_create/fork). */
  lwpFpu?: boolean;
  /**
   * With lwp: the process it joins (lwp_create: its creator's), or the parent of the new process
   * it starts (`{ parent }`, forklwp). Without: a process of its own (a scenario thread). A
   * thread without an LWP belongs to p0.
   */
  proc?: number | { parent: number };
}

const FRAME_KINDS = new Map<string, FrameKind>();
/**
 * The same registry as a plain object with named properties: the run loop's per-step lookup
 * (`KINDS[f.kind]`) is a keyed property load instead of a Map hash lookup.
 */
const KINDS: Record<string, FrameKind> = {};

/**
 * The kinds on top of a stack at almost every step (a context switch, a preemption, a built-in
 * workload, a C function), which the run loop picks by comparing names rather than through a
 * keyed (megamorphic) lookup: a few percent of the switch rate.
 */
let SWTCH_KIND: FrameKind | undefined;
let PREEMPT_KIND: FrameKind | undefined;
let BUILTIN_KIND: FrameKind | undefined;
let C_KIND: FrameKind | undefined;

/** The kind that runs a frame: the hot ones by name, the rest by keyed lookup. */
function kindOf(kind: string): FrameKind {
  if (kind === 'swtch') return SWTCH_KIND!;
  if (kind === 'c') return C_KIND!;
  if (kind === 'builtin') return BUILTIN_KIND!;
  if (kind === 'preempt') return PREEMPT_KIND!;
  return KINDS[kind]!;
}

/** Registers a frame kind (native kernel code, the interpreter, built-in workloads). */
export function registerFrameKind(name: string, kind: FrameKind): void {
  FRAME_KINDS.set(name, kind);
  KINDS[name] = kind;
  if (name === 'swtch') SWTCH_KIND = kind;
  else if (name === 'preempt') PREEMPT_KIND = kind;
  else if (name === 'builtin') BUILTIN_KIND = kind;
  else if (name === 'c') C_KIND = kind;
}
/** The names of every registered frame kind. */
export function frameKindNames(): string[] {
  return [...FRAME_KINDS.keys()];
}

export function frameKind(name: string): FrameKind {
  const k = FRAME_KINDS.get(name);
  if (!k) throw new Error(`no frame kind '${name}'`);
  return k;
}

/** Per-machine hooks filled in by the ABI layer (kernel ctxops for new LWPs, ...). */
export interface KernelHooks {
  /** Attaches the kernel's own ctxops to a new LWP thread (segregs, then FPU). */
  attachLwpCtxops(m: Machine, t: KThread, fpu: boolean): void;
  /** Builds the frame that calls a C function (installed by the interpreter). */
  callC?(m: Machine, t: KThread, sym: import('./symbols').TextSymbol, args: number[]): Frame;
  /** The console lines of a panic (another kernel's format); default: illumos's. */
  panicLines?(m: Machine): string[];
}

export class Machine {
  readonly cfg: MachineConfig;
  readonly era: Era;
  mem = new Memory();
  sym: Symbols;
  kmem: Kmem;
  rng: Prng;
  cpus: Cpu[] = [];
  /** Every thread not yet freed, in creation order (allthreads). */
  threads: KThread[] = [];
  byAddr = new Map<number, KThread>();
  /** Every thread name by kthread_t address, kept after the thread is freed (traces name the dead). */
  names = new Map<number, string>();
  nextTid = 1;
  now = 0;
  lbolt = 0;
  nextTickAt: number;
  stats: Stats = { switches: 0, hooks: 0, steps: 0, ticks: 0, allocs: 0, frees: 0 };
  /** Preemption counters, after illumos's kpreempt_cnts. */
  kpc = { blocked: 0, sync: 0, async: 0 };
  /** Round state: which CPUs still run in this round, and the current CPU's budget. */
  roundOrder: number[] = [];
  roundPos = 0;
  budget = 0;
  /** Timed sleepers (delay, memory pressure). */
  sleepers: KThread[] = [];
  /** Threads waiting on mutexes and condition variables, by object address. */
  waiters = new Map<number, KThread[]>();
  deathrow: KThread[] = [];
  reaper: KThread | null = null;
  kmSleepCount = 0;
  sink: EventSink | null = null;
  policy: StopPolicy | null = null;
  skipStopOnce = false;
  /**
   * A stop was granted inside a C instruction (a watchpoint hit, a lock hazard in a kernel call):
   * the interpreter's step stops right after that instruction and clears it.
   */
  dataStop = false;
  /** The thread whose C step is running (set by the step; read by watchpoint hits and va_arg checks). */
  cThread: KThread | null = null;
  stopPoint: StopPoint | null = null;
  panicInfo: PanicInfo | null = null;
  deadlock: string | null = null;
  /** Console messages (cmn_err), for ::msgbuf. */
  msgbuf: Array<{ tick: number; text: string }> = [];
  /** Listeners for console output (the CLI prints, the adapter sends output events). */
  onConsole: ((text: string) => void) | null = null;
  hooks: KernelHooks;
  /** Scenario threads still alive: the run ends when none is left and the reaper is done. */
  liveScenarioThreads = 0;
  /** Root ranges for leak detection (C globals): [addr, size]. */
  dataRoots: Array<[number, number]> = [];
  /** Kernel global `allthreads` head address (a kernel variable holding a pointer). */
  allthreadsVar: number;
  /** `p0`, the kernel's process (sched): mapped by the C loader or at boot, 0 before. */
  p0Addr = 0;
  /** The loaded driver's debug view (set by the C interpreter; see machine/debug-api.ts). */
  program: import('./debug-api').CDebug | null = null;
  /** The recent-events ring kept by `kctx mdb` and the debugger (for ::ctxtrace); null when none. */
  eventRing: import('../trace/events').EventRing | null = null;
  /**
   * Data breakpoints (set them with setWatchpoints): a store that overlaps one of these, made
   * in a C step, by the driver's code or by a kernel function it called, asks
   * checkStop({ kind: 'data', detail: { id, addr } }) (watchStore; the stop comes after the write).
   */
  watchpoints: Array<{ id: number; addr: number; size: number }> = [];

  /**
   * Arms the data breakpoints: the C interpreter checks its own stores, and the memory reports
   * every other store (a kernel function's writes: kmem_zalloc's zeroing, snprintf, a mutex's
   * owner, bzero...) to watchStore. With none, the memory's store methods are the plain ones.
   */
  setWatchpoints(list: Array<{ id: number; addr: number; size: number }>): void {
    this.watchpoints = list;
    this.mem.watch(list.length !== 0 ? this.storeWatch : null);
  }
  private readonly storeWatch = (a: number, n: number): void => this.watchStore(a, n);

  /**
   * A store of [a, a+n): when it overlaps a watchpoint and a C step is running (cThread: the
   * driver's store, or a kernel function's it called; the machine's own bookkeeping between
   * steps is not a store anyone made), asks the debugger, which stops after the instruction.
   */
  watchStore(a: number, n: number): void {
    if (this.dataStop) return;
    for (const w of this.watchpoints) {
      if (a < w.addr + w.size && w.addr < a + n) {
        const t = this.cThread;
        if (!t) return;
        if (this.checkStop({ kind: 'data', thread: t, cpu: t.cpu, detail: { id: w.id, addr: w.addr } })) this.dataStop = true;
        return;
      }
    }
  }
  /**
   * Called after every step of a CPU with the thread that ran (the debugger's stepping and
   * pause). Returning true ends the run with a 'step' stop; the step itself is complete.
   */
  afterStep: ((t: KThread, cpu: number) => boolean) | null = null;
  /** The schedule being replayed (schedule.ts), or null; its cursor below is state. */
  schedule: Schedule | null = null;
  /** Replay cursor: the next step decision and its step (NO_STEP when none is left). */
  schedPos = 0;
  schedAt = NO_STEP;
  /** Rounds started, dispatches and KM_SLEEP allocations made: what round/disp/alloc decisions count. */
  rounds = 0;
  dispSeq = 0;
  allocSeq = 0;

  /**
   * The layouts of the structures the native kernel code reads and writes (kthread_t, cpu_t,
   * klwp_t, struct ctxop, ...): kctx's own, or a kernel tree's (bindLayouts). The offsets of
   * their modelled members, for the native code: T (kthread_t), C (cpu_t), O (struct ctxop),
   * TPL (struct ctxop_template), LW (klwp_t), SC (sc_shared_t).
   */
  L!: Layouts;
  T!: Record<string, number>;
  C!: Record<string, number>;
  O!: Record<string, number>;
  TPL!: Record<string, number>;
  LW!: Record<string, number>;
  SC!: Record<string, number>;
  /** Widths of the kthread_t/cpu_t members read on the dispatcher's path (a tree may declare other widths). */
  private wState = 4;
  private wPri = 2;
  private wFlag = 4;
  private wPreempt = 1;
  private wRunrun = 1;

  constructor(cfg: Partial<MachineConfig>, hooks: KernelHooks) {
    this.cfg = { ...DEFAULT_CONFIG, ...cfg };
    if (this.cfg.physmem) this.mem.limit = this.cfg.physmem;
    this.era = ERAS[this.cfg.era];
    this.hooks = hooks;
    this.setLayouts(shippedLayouts(this.era.ring));
    this.sym = new Symbols(this.mem);
    this.kmem = new Kmem(this.mem);
    this.kmem.createCache('thread_cache', this.L.kthread.size);
    this.kmem.createCache('lwp_cache', this.L.klwp.size);
    this.rng = new Prng(this.cfg.seed);
    this.nextTickAt = this.cfg.tickCycles;
    this.allthreadsVar = this.mem.map(8, 8);
    this.sym.defineData('allthreads', this.allthreadsVar, 8, 'genunix');
    this.mapCpus();
  }

  private setLayouts(L: Layouts): void {
    this.L = L;
    this.T = L.kthread.offsets;
    this.C = L.cpu.offsets;
    this.O = L.ctxop.offsets;
    this.TPL = L.ctxopTemplate.offsets;
    this.LW = L.klwp.offsets;
    this.SC = L.scShared.offsets;
    const w = (l: StructLayout, n: string) => scalarOf(l.fields.find((f) => f.name === n)!.kind).size;
    this.wState = w(L.kthread, 't_state');
    this.wPri = w(L.kthread, 't_pri');
    this.wFlag = w(L.kthread, 't_flag');
    this.wPreempt = w(L.kthread, 't_preempt');
    this.wRunrun = w(L.cpu, 'cpu_runrun');
  }

  private mapCpus(): void {
    const n = this.cfg.cpus;
    this.cpus.length = 0;
    for (let i = 0; i < n; i++) {
      const addr = this.mem.map(this.L.cpu.size, 64);
      const cpu = new Cpu(i, addr);
      this.setField(this.L.cpu, addr, 'cpu_id', i);
      this.setField(this.L.cpu, addr, 'cpu_seqid', i);
      this.setField(this.L.cpu, addr, 'cpu_flags', 0x1b);
      this.cpus.push(cpu);
    }
    for (let i = 0; i < this.cpus.length; i++) {
      this.mem.writePtr(this.cpus[i]!.addr + this.C.cpu_next, this.cpus[(i + 1) % this.cpus.length]!.addr);
    }
    this.sym.defineData('cpu', this.cpus[0]!.addr, this.L.cpu.size, 'unix');
  }

  /**
   * Binds a kernel tree's layouts (the driver was built against its headers): before boot, with
   * no thread yet. The CPUs are laid out again at the tree's size.
   */
  bindLayouts(L: Layouts): void {
    if (this.threads.length) throw new Error('kctx: layouts bound after threads exist');
    this.setLayouts(L);
    for (const [name, size] of [['thread_cache', L.kthread.size], ['lwp_cache', L.klwp.size]] as const) {
      const c = this.kmem.caches.get(name)!;
      if (c.bufs.length || c.free.length) throw new Error(`kctx: ${name} in use before its layout was bound`);
      c.bufsize = size;
    }
    this.mapCpus();
    if (this.p0Addr) {
      this.p0Addr = 0;
      this.ensureP0();
    }
  }

  // ---------------------------------------------------------------- processes

  /**
   * `p0`, the kernel's process (sched, PID 0, SSYS), mapped once: at the place the C loader asks
   * for it (the kernel variables a driver may reference), else at the end of boot.
   */
  ensureP0(): number {
    if (this.p0Addr) return this.p0Addr;
    const P = this.L.proc;
    const pidAt = Math.ceil(P.size / 8) * 8;
    this.p0Addr = this.mem.map(Math.max(256, pidAt + this.L.pid.size), 64);
    this.initProc(this.p0Addr, pidAt, 0, 0, 'sched', SSYS);
    this.sym.defineData('p0', this.p0Addr, P.size, 'genunix');
    return this.p0Addr;
  }

  /** A new user process (with its struct pid right after it) for the thread t, the parent's child. */
  private newProc(t: KThread, parent: number): number {
    const P = this.L.proc;
    const pidAt = Math.ceil(P.size / 8) * 8;
    const a = this.mem.map(pidAt + this.L.pid.size, 16);
    this.initProc(a, pidAt, t.tid, parent, t.name, PROC_USER_FLAGS);
    return a;
  }

  private initProc(a: number, pidAt: number, pid: number, parent: number, comm: string, flags: number): void {
    const P = this.L.proc;
    const m = this.mem;
    m.writePtr(a + P.offsets.p_pidp!, a + pidAt);
    this.setField(this.L.pid, a + pidAt, 'pid_id', pid);
    this.setField(P, a, 'p_ppid', parent ? this.procPid(parent) : 0);
    m.writePtr(a + P.offsets.p_parent!, parent);
    this.setField(P, a, 'p_flag', flags);
    const u = a + P.offsets.p_user!;
    const U = this.L.user.offsets;
    const put = (at: number, text: string, n: number) => {
      const b = text.slice(0, n - 1);
      for (let i = 0; i < b.length; i++) m.u8[at + i] = b.charCodeAt(i) & 0x7f;
    };
    put(u + U.u_comm!, comm, MAXCOMLEN + 1);
    put(u + U.u_psargs!, comm, PSARGSZ);
  }

  /** A process's ID (`p_pidp->pid_id`). */
  procPid(p: number): number {
    const pidp = this.mem.readPtr(p + this.L.proc.offsets.p_pidp!);
    return pidp ? this.getField(this.L.pid, pidp, 'pid_id') : 0;
  }

  /** Puts t in process p: t_procp, p_tlist (the first thread), and for an LWP lwp_procp and p_lwpcnt. */
  private joinProc(t: KThread, p: number): void {
    const P = this.L.proc;
    const m = this.mem;
    m.writePtr(t.addr + this.T.t_procp, p);
    if (!m.readPtr(p + P.offsets.p_tlist!)) m.writePtr(p + P.offsets.p_tlist!, t.addr);
    if (!t.lwp) return;
    m.writePtr(t.lwp + this.LW.lwp_procp, p);
    this.setField(P, p, 'p_lwpcnt', this.getField(P, p, 'p_lwpcnt') + 1);
  }

  /** thread_exit()/lwp_exit(): t leaves its process (p_lwpcnt for an LWP; p_tlist moves on to a live thread). */
  leaveProc(t: KThread): void {
    const p = this.mem.readPtr(t.addr + this.T.t_procp);
    if (!p) return;
    const P = this.L.proc;
    if (t.lwp) this.setField(P, p, 'p_lwpcnt', this.getField(P, p, 'p_lwpcnt') - 1);
    if (this.mem.readPtr(p + P.offsets.p_tlist!) === t.addr) {
      const next = this.threads.find((x) => x !== t && !x.freed && this.tState(x) !== TS_ZOMB && this.mem.readPtr(x.addr + this.T.t_procp) === p);
      this.mem.writePtr(p + P.offsets.p_tlist!, next?.addr ?? 0);
    }
  }

  /** A scalar member of a modelled struct at `base`, at the layout's width. */
  getField(l: StructLayout, base: number, name: string): number {
    const f = memberOf(l, name);
    return this.mem.readInt(base + f.off, f.size, f.signed);
  }
  setField(l: StructLayout, base: number, name: string, v: number): void {
    const f = memberOf(l, name);
    this.mem.writeInt(base + f.off, f.size, v);
  }

  // ---------------------------------------------------------------- memory-backed fields

  tPreempt(t: KThread): number {
    return this.wPreempt === 1 ? this.mem.i8[t.addr + this.T.t_preempt]! : this.mem.readInt(t.addr + this.T.t_preempt, this.wPreempt, true);
  }
  setPreempt(t: KThread, v: number): void {
    if (this.wPreempt === 1) this.mem.i8[t.addr + this.T.t_preempt] = v;
    else this.mem.writeInt(t.addr + this.T.t_preempt, this.wPreempt, v);
  }
  tState(t: KThread): number {
    const a = t.addr + this.T.t_state;
    if (this.wState !== 4) return this.mem.readInt(a, this.wState, false);
    return (a & 3) === 0 ? this.mem.u32[a >>> 2]! : this.mem.dv.getUint32(a, true);
  }
  setState(t: KThread, s: number): void {
    const a = t.addr + this.T.t_state;
    if (this.wState !== 4) this.mem.writeInt(a, this.wState, s);
    else if ((a & 3) === 0) this.mem.u32[a >>> 2] = s;
    else this.mem.dv.setUint32(a, s, true);
  }
  tCtx(t: KThread): number { return this.mem.readPtr(t.addr + this.T.t_ctx); }
  tPri(t: KThread): number {
    const a = t.addr + this.T.t_pri;
    if (this.wPri !== 2) return this.mem.readInt(a, this.wPri, true);
    return (a & 1) === 0 ? this.mem.i16[a >>> 1]! : this.mem.dv.getInt16(a, true);
  }
  tFlag(t: KThread): number {
    const a = t.addr + this.T.t_flag;
    if (this.wFlag !== 4) return this.mem.readInt(a, this.wFlag, false);
    return (a & 3) === 0 ? this.mem.u32[a >>> 2]! : this.mem.dv.getUint32(a, true);
  }
  setFlag(t: KThread, v: number): void {
    if (this.wFlag !== 4) this.mem.writeInt(t.addr + this.T.t_flag, this.wFlag, v);
    else this.mem.dv.setUint32(t.addr + this.T.t_flag, v >>> 0, true);
  }
  runrun(cpu: Cpu): number { return this.wRunrun === 1 ? this.mem.u8[cpu.addr + this.C.cpu_runrun]! : this.mem.readInt(cpu.addr + this.C.cpu_runrun, this.wRunrun, false); }
  kprunrun(cpu: Cpu): number { return this.wRunrun === 1 ? this.mem.u8[cpu.addr + this.C.cpu_kprunrun]! : this.mem.readInt(cpu.addr + this.C.cpu_kprunrun, this.wRunrun, false); }
  setRunrun(cpu: Cpu, rr: number, krr: number): void {
    if (this.wRunrun === 1) {
      this.mem.u8[cpu.addr + this.C.cpu_runrun] = rr;
      this.mem.u8[cpu.addr + this.C.cpu_kprunrun] = krr;
    } else {
      this.mem.writeInt(cpu.addr + this.C.cpu_runrun, this.wRunrun, rr);
      this.mem.writeInt(cpu.addr + this.C.cpu_kprunrun, this.wRunrun, krr);
    }
  }

  // ---------------------------------------------------------------- events

  /**
   * Cycles the running step used before the part of it now running, for a step that runs
   * several one-cycle parts back to back (the swtch frame's phases and ctxop walk): each part's
   * events carry the cycle it would have as a step of its own, so they do not depend on where
   * a stop split the batch; likewise a C step's calls (codegen.ts buildStep). 0 between steps.
   */
  phaseUsed = 0;

  /** The current cycle of the CPU that is running (finer than `now`, which moves per round). */
  at(): number {
    return this.now + (this.cfg.slice - this.budget) + this.phaseUsed;
  }
  entry(t: KThread, fn: string, detail?: string): void {
    this.sink?.event({ type: 'entry', cpu: t.cpu, thread: t.addr, fn, detail, tick: this.lbolt, at: this.at() });
  }
  exit(t: KThread, fn: string, detail?: string): void {
    this.sink?.event({ type: 'return', cpu: t.cpu, thread: t.addr, fn, detail, tick: this.lbolt, at: this.at() });
  }
  probe(t: KThread, probe: ProbeName, detail: string, data?: ProbeData): void {
    this.sink?.event({ type: 'probe', cpu: t.cpu, thread: t.addr, probe, detail, tick: this.lbolt, at: this.at(), data });
  }

  /** True when execution must stop at this point (the caller returns without doing it). */
  checkStop(p: StopPoint): boolean {
    if (!this.policy) return false;
    if (this.skipStopOnce) {
      this.skipStopOnce = false;
      return false;
    }
    if (this.policy.shouldStop(this, p)) {
      this.stopPoint = p;
      return true;
    }
    return false;
  }

  console(text: string): void {
    this.msgbuf.push({ tick: this.lbolt, text });
    if (this.msgbuf.length > 4096) this.msgbuf.shift();
    this.onConsole?.(text);
  }

  // ---------------------------------------------------------------- threads

  createThread(o: CreateThreadOptions): KThread {
    const creator = this.threads.find((x) => x.cpu >= 0) ?? null;
    const K = this.L.kthread;
    const addr = this.kmem.cacheAlloc(this.kmem.caches.get('thread_cache')!, K.size, true, creator?.addr ?? 0, this.lbolt, ['thread_create']);
    this.stats.allocs++;
    const t = new KThread(addr, o.role === 'idle' ? 0 : this.nextTid++, o.name, o.role);
    const m = this.mem;
    this.setField(K, addr, 't_tid', t.tid);
    this.setField(K, addr, 't_did', t.tid);
    this.setField(K, addr, 't_pri', o.pri);
    this.setField(K, addr, 't_epri', 0);
    m.writePtr(addr + this.T.t_startpc, o.startpc ?? 0);
    const name = o.name.slice(0, THREAD_NAME_LEN - 1);
    for (let i = 0; i < name.length; i++) m.u8[addr + this.T.t_name + i] = name.charCodeAt(i) & 0x7f;
    // A tree's kthread_t has `char *t_name`: it points at the name's bytes.
    if (this.L.tNamePtr >= 0) m.writePtr(addr + this.L.tNamePtr, addr + this.T.t_name);
    this.setState(t, TS_RUN);
    t.stackSize = o.stackSize ?? 0x4000;
    t.stackBase = this.mem.map(t.stackSize, 64);
    t.sp = t.stackBase + t.stackSize;
    m.writePtr(addr + this.T.t_stk, t.sp);
    // allthreads: a ring through t_next/t_prev.
    const head = this.mem.readPtr(this.allthreadsVar);
    if (head === 0) {
      m.writePtr(addr + this.T.t_next, addr);
      m.writePtr(addr + this.T.t_prev, addr);
      m.writePtr(this.allthreadsVar, addr);
    } else {
      const tail = m.readPtr(head + this.T.t_prev);
      m.writePtr(addr + this.T.t_next, head);
      m.writePtr(addr + this.T.t_prev, tail);
      m.writePtr(tail + this.T.t_next, addr);
      m.writePtr(head + this.T.t_prev, addr);
    }
    this.threads.push(t);
    this.byAddr.set(addr, t);
    this.names.set(addr, o.name);
    if (o.lwp) {
      t.lwp = this.kmem.cacheAlloc(this.kmem.caches.get('lwp_cache')!, this.L.klwp.size, true, creator?.addr ?? 0, this.lbolt, ['lwp_create']);
      this.stats.allocs++;
      m.writePtr(t.lwp + this.LW.lwp_thread, addr);
      m.writePtr(addr + this.T.t_lwp, t.lwp);
      this.hooks.attachLwpCtxops(this, t, o.lwpFpu !== false);
      const pr = o.proc;
      this.joinProc(t, typeof pr === 'number' ? pr : this.newProc(t, pr?.parent ?? 0));
    } else {
      // thread_create()'s pp (a driver passes &p0), else p0.
      const pp = typeof o.proc === 'number' && o.proc ? o.proc : this.p0Addr;
      if (pp) this.joinProc(t, pp);
    }
    if (o.role !== 'idle') t.stack.push({ kind: 'thread_start', pc: 0 });
    t.stack.push(typeof o.entry === 'function' ? o.entry(t) : o.entry);
    if (o.role !== 'idle') {
      // A new thread first runs from _resume_from_idle: its restore ops run before its entry.
      t.stack.push({ kind: 'swtch', pc: SW_RESUMED, why: 'new', nosave: false, head: 0, cur: 0, next: 0 });
      if (o.role === 'scenario' || o.role === 'created') this.liveScenarioThreads++;
      this.probe(creator ?? t, 'proc:create', `${o.name} ${formatAddr(addr)}`);
    }
    return t;
  }

  /** Idle threads and the reaper: made by boot(); with p0, the kernel's process they belong to. */
  boot(withP0 = true): void {
    for (const cpu of this.cpus) {
      const idle = this.createThread({ name: `idle/${cpu.id}`, role: 'idle', pri: -1, lwp: false, entry: { kind: 'idle', pc: 0 } });
      cpu.idle = idle;
      cpu.thread = idle;
      idle.cpu = cpu.id;
      this.setState(idle, TS_ONPROC);
      this.mem.writePtr(idle.addr + this.T.t_cpu, cpu.addr);
      this.mem.writePtr(cpu.addr + this.C.cpu_idle_thread, idle.addr);
      this.mem.writePtr(cpu.addr + this.C.cpu_thread, idle.addr);
      this.mem.writePtr(cpu.addr + this.C.cpu_dispthread, idle.addr);
      this.setField(this.L.cpu, cpu.addr, 'cpu_base_spl', 0);
    }
    const reaper = this.createThread({ name: 'thread_reaper', role: 'reaper', pri: 60, lwp: false, entry: { kind: 'reaper', pc: 0 } });
    this.reaper = reaper;
    this.setrun(reaper);
    if (withP0) for (const t of this.threads) this.joinProc(t, this.ensureP0());
  }

  // ---------------------------------------------------------------- dispatcher

  /** Makes a thread runnable and queues it (setbackdq); pokes a CPU that should switch to it. */
  setrun(t: KThread): void {
    this.setState(t, TS_RUN);
    t.blockedOn = null;
    this.mem.writePtr(t.addr + this.T.t_wchan, 0);
    let target: Cpu | undefined;
    // Prefer an idle CPU (the last one first), else the thread's last CPU, else the emptiest queue.
    const last = t.cpu >= 0 ? this.cpus[t.cpu] : undefined;
    if (last && last.thread.isIdle && last.runq.length === 0) target = last;
    if (!target) {
      for (const c of this.cpus) {
        if (c.thread.isIdle && c.runq.length === 0) {
          target = c;
          break;
        }
      }
    }
    if (!target) target = last;
    if (!target) {
      target = this.cpus[0]!;
      for (const c of this.cpus) if (c.runq.length < target.runq.length) target = c;
    }
    this.enqueue(target.runq, t);
    const cur = target.thread;
    if (cur.isIdle || this.tPri(t) > this.tPri(cur)) this.setRunrun(target, 1, cur.isIdle ? 0 : 1);
  }

  /** Picks the next thread for a CPU (disp): highest priority, FIFO; steals when empty. */
  disp(cpu: Cpu): KThread {
    this.setRunrun(cpu, 0, 0);
    cpu.thread.deferredNoted = false;
    this.dispSeq++;
    // Run queues are kept in dispatch order (priority, then FIFO): take the first eligible.
    let t = this.schedule !== null && this.schedule.disps.size ? this.pickScheduled(cpu) : this.pickFrom(cpu, cpu.runq);
    if (!t) {
      let victim: Cpu | undefined;
      for (const c of this.cpus) if (c !== cpu && c.runq.length > 0 && (!victim || c.runq.length > victim.runq.length)) victim = c;
      if (victim) t = this.pickFrom(cpu, victim.runq);
    }
    return t ?? cpu.idle;
  }

  /** disp() under a schedule: the eligible thread its decision picks (the first when none). */
  private pickScheduled(cpu: Cpu): KThread | undefined {
    const pick = this.schedule!.disps.get(this.dispSeq);
    if (pick === undefined) return this.pickFrom(cpu, cpu.runq);
    const q = cpu.runq;
    const eligible: number[] = [];
    for (let i = 0; i < q.length; i++) {
      const x = q[i]!;
      if (!(x.cpu >= 0 && x.cpu !== cpu.id && this.cpus[x.cpu]!.thread === x)) eligible.push(i);
    }
    if (!eligible.length) return undefined;
    const i = eligible[pick % eligible.length]!;
    return q.splice(i, 1)[0];
  }

  private pickFrom(cpu: Cpu, q: KThread[]): KThread | undefined {
    for (let i = 0; i < q.length; i++) {
      const x = q[i]!;
      // A thread still on its CPU (woken or requeued before it finished switching away)
      // cannot be taken by another CPU until resume() has left it (its t_lock).
      if (x.cpu >= 0 && x.cpu !== cpu.id && this.cpus[x.cpu]!.thread === x) continue;
      if (i === 0) q.shift();
      else q.splice(i, 1);
      return x;
    }
    return undefined;
  }

  /** Inserts in dispatch order: after every thread of higher or equal priority. */
  private enqueue(q: KThread[], t: KThread): void {
    const p = this.tPri(t);
    let i = q.length;
    while (i > 0 && this.tPri(q[i - 1]!) < p) i--;
    if (i === q.length) q.push(t);
    else q.splice(i, 0, t);
  }

  hasRunnable(cpu: Cpu): boolean {
    if (cpu.runq.length > 0) return true;
    for (const c of this.cpus) if (c.runq.length > 0) return true;
    return false;
  }

  /** Pushes a swtch frame: the thread gives up the CPU (its state was set by the caller). */
  pushSwtch(t: KThread, why: string, nosave = false): typeof PUSHED {
    t.stack.push({ kind: 'swtch', pc: SW_START, why, nosave, head: 0, cur: 0, next: 0 });
    return PUSHED;
  }

  /**
   * Blocks the current thread (a voluntary swtch). Reports the illumos#13915 hazard when
   * preemption is disabled: the save ops run anyway and the thread may resume elsewhere.
   */
  block(t: KThread, reason: BlockReason, wchan: number, what: string): typeof PUSHED {
    if (t.pil > 0) {
      throw new KernelPanic(`${what}: blocking in a ctxop handler: resume() holds the thread lock at high PIL (thread ${formatAddr(t.addr)})`);
    }
    this.mightSleep(t, what, true);
    this.setState(t, TS_SLEEP);
    t.blockedOn = reason;
    this.mem.writePtr(t.addr + this.T.t_wchan, wchan);
    if (reason.kind === 'delay' || reason.kind === 'kmem') {
      this.sleepers.push(t);
    }
    this.probe(t, 'sched:sleep', what);
    return this.pushSwtch(t, what);
  }

  /**
   * A sleeping operation entered with preemption disabled: what illumos#13915 was about.
   * Reported whether or not it actually blocks this time (like CONFIG_DEBUG_ATOMIC_SLEEP).
   */
  mightSleep(t: KThread, what: string, blocked: boolean): void {
    const p = this.tPreempt(t);
    if (p <= 0) return;
    if (blocked && this.lastMightSleep === t.addr) {
      this.lastMightSleep = 0;
      return;
    }
    const msg = `${what} with preemption disabled (t_preempt=${p}) on thread ${formatAddr(t.addr)} (${t.name})` +
      (blocked ? ': it blocks, so a voluntary swtch() runs the save ops anyway' : ': it may block (a voluntary swtch() would run the save ops anyway)');
    // The stop comes before anything is recorded, so resuming reports the hazard once.
    if (this.checkStop({ kind: 'hazard', name: 'sleep-preempt-disabled', thread: t, cpu: t.cpu, message: msg })) {
      throw new StopSignal();
    }
    this.lastMightSleep = blocked ? 0 : t.addr;
    this.probe(t, 'hazard:sleep-preempt-disabled', msg);
    this.hazards.push({ id: 'sleep-preempt-disabled', thread: t.addr, tick: this.lbolt, message: msg });
  }
  private lastMightSleep = 0;
  hazards: Array<{ id: string; thread: number; tick: number; message: string }> = [];

  wakeup(t: KThread): void {
    if (this.tState(t) !== TS_SLEEP) return;
    const i = this.sleepers.indexOf(t);
    if (i >= 0) this.sleepers.splice(i, 1);
    this.probe(t, 'sched:wakeup', t.name);
    this.setrun(t);
  }

  /** kpreempt(): an involuntary switch of the current thread, unless preemption is disabled. */
  kpreempt(t: KThread, sync: boolean): KResult {
    const cpu = this.cpus[t.cpu]!;
    if (!this.kprunrun(cpu)) return 0;
    if (this.tPreempt(t) > 0) {
      this.kpc.blocked++;
      if (!t.deferredNoted) {
        t.deferredNoted = true;
        this.probe(t, 'sched:preempt-deferred', `t_preempt=${this.tPreempt(t)}`);
      }
      return 0;
    }
    if (sync) this.kpc.sync++;
    else this.kpc.async++;
    // An async preemption can land between a callee's return and its caller reading
    // t.retval: the preempt frame gives the value back when it returns.
    t.stack.push({ kind: 'preempt', pc: 0, sync, retval: t.retval });
    return PUSHED;
  }

  // ---------------------------------------------------------------- calls

  /**
   * Calls the function at `addr` (a function pointer) on thread t. Native functions run now;
   * C functions get a frame. A pointer to no function is a BAD TRAP.
   */
  callFunction(t: KThread, addr: number, args: number[]): KResult {
    const s = this.sym.atAddr(addr);
    if (!s) {
      throw new KernelPanic(`BAD TRAP: type=e (#pf Page fault) rp=${formatAddr(t.sp)} addr=${formatAddr(addr)}: call through a pointer to no function`);
    }
    if (this.policy) return this.callFunctionChecked(t, s, args);
    if (s.kind === 'native') return s.impl!(this, t, args);
    if (!this.hooks.callC) throw new Error('no C interpreter loaded');
    t.stack.push(this.hooks.callC(this, t, s, args));
    return PUSHED;
  }

  /**
   * callFunction under a debugger: the function's stop point first. A stop raised inside a
   * native function after that check (the sleep-preempt-disabled hazard in kmem_alloc) leaves
   * a mark on the caller's frame, which calls the function again when it runs on: that call
   * does not check the function point again, so the first check after resuming is the one that
   * stopped, and the run stops once per event. The mark is frame data (snapshots keep it), as
   * callHook's is.
   */
  private callFunctionChecked(t: KThread, s: TextSymbol, args: number[]): KResult {
    const caller = t.stack[t.stack.length - 1]!;
    let resumed = false;
    if (caller.fnStop !== undefined) {
      resumed = caller.fnStop === s.addr;
      delete caller.fnStop;
    }
    if (!resumed && this.checkStop({ kind: 'function', name: s.name, thread: t, cpu: t.cpu })) throw new StopSignal();
    if (s.kind === 'native') {
      try {
        return s.impl!(this, t, args);
      } catch (e) {
        if (e instanceof StopSignal) caller.fnStop = s.addr;
        throw e;
      }
    }
    if (!this.hooks.callC) throw new Error('no C interpreter loaded');
    t.stack.push(this.hooks.callC(this, t, s, args));
    return PUSHED;
  }

  /** Pops the top frame and delivers its value to the frame below. */
  ret(t: KThread, value: number): void {
    t.stack.pop();
    t.retval = value;
    if (t.stack.length === 0) throw new Error(`thread ${t.name} returned off its stack`);
  }

  /** Registers a native kernel function (also callable from C by name). */
  native(name: string, impl: NativeImpl, module = 'genunix'): number {
    return this.sym.define(name, 'native', module, impl).addr;
  }

  /** The caller of the current kernel call, for bufctl audit stacks: `func+0xoff` strings. */
  auditStack(t: KThread, top: string): string[] {
    const st = this.stackOf(t).map((e) => (e.offset ? `${e.name}+0x${e.offset.toString(16)}` : e.name));
    return [top, ...st].slice(0, 16);
  }

  kmemAlloc(t: KThread, size: number, flags: number, zero: boolean, caller: string): number {
    let a: number;
    try {
      a = this.kmem.alloc(size, zero, t.addr, this.lbolt, this.auditStack(t, caller));
    } catch (e) {
      // Out of physical memory (or a size no memory can hold): KM_NOSLEEP gets NULL, as illumos.
      if (e instanceof OutOfMemory && flags & KM_NOSLEEP) return 0;
      throw e;
    }
    this.stats.allocs++;
    // The source line of each C frame of the allocation stack (the leak stop shows them).
    const bc = a ? this.kmem.bufctls.get(a) : undefined;
    if (bc) bc.sites = [undefined, ...this.stackOf(t).map((e) => (e.kind === 'c' && e.file ? { file: e.file, line: e.line ?? 0 } : undefined))].slice(0, 16);
    this.probe(t, 'kmem:alloc', `${caller} ${size} ${formatAddr(a)}`, { addr: a, size });
    void flags;
    return a;
  }

  /**
   * kmem_alloc that honours memory pressure: a KM_SLEEP allocation may block (returns PUSHED;
   * the buffer arrives as t.retval). Under kpreempt_disable() that is the 13915 hazard.
   */
  kmemAllocMaySleep(t: KThread, size: number, flags: number, zero: boolean, caller: string): KResult {
    if ((flags & KM_NOSLEEP) === 0) {
      const mp = this.cfg.memoryPressure;
      this.allocSeq++;
      if (mp && mp.every > 0 && ++this.kmSleepCount % mp.every === 0) {
        t.stack.push({ kind: 'kmem_sleep', pc: 0, size, flags, zero, caller, ticks: mp.ticks });
        return PUSHED;
      }
      const sleep = this.schedule?.allocs.get(this.allocSeq);
      if (sleep !== undefined) {
        t.stack.push({ kind: 'kmem_sleep', pc: 0, size, flags, zero, caller, ticks: sleep });
        return PUSHED;
      }
      this.mightSleep(t, `${caller}: KM_SLEEP allocation`, false);
      // Out of memory: KM_SLEEP waits until a free lets it through (for ever is a hang).
      const a = this.kmemAlloc(t, size, flags | KM_NOSLEEP, zero, caller);
      if (a !== 0 || size <= 0) return a;
      t.stack.push({ kind: 'kmem_wait', pc: 0, size, flags, zero, caller });
      return PUSHED;
    }
    return this.kmemAlloc(t, size, flags, zero, caller);
  }

  kmemFree(t: KThread, buf: number, size: number | undefined, caller: string): void {
    if (buf === 0) return;
    this.stats.frees++;
    this.kmem.free(buf, size, t.addr, this.lbolt, this.auditStack(t, caller));
    this.probe(t, 'kmem:free', `${caller} ${formatAddr(buf)}`, { addr: buf, size });
    // Threads waiting for memory try again (in thread order: deterministic).
    for (const w of this.threads) if (w.blockedOn?.kind === 'memwait' && this.tState(w) === TS_SLEEP) this.wakeup(w);
  }

  // ---------------------------------------------------------------- the run loop

  /** Runs until the scenario ends, a stop, a panic, or `maxSteps` total cycles. */
  /** The step limit of the run() in progress (mayRunInline). */
  private runLimit = 0;

  /**
   * Whether the step of thread t in progress, having used `spent` cycles, may end here and the
   * thread's next step run inline (a C callee the step just pushed, then the caller again once
   * the callee returned): true when run() would make that very step next with nothing in
   * between, i.e. no debugger (policy, afterStep), no replayed schedule, the run's step limit not
   * reached and no preemption due. The caller then charges the step (chargeStep), as run() does.
   */
  mayRunInline(t: KThread, spent: number): boolean {
    return this.policy === null && this.afterStep === null && this.schedAt === NO_STEP && this.stats.steps + spent < this.runLimit
      && !t.isIdle && (t.pil !== 0 || this.mem.u8[this.cpus[t.cpu]!.addr + this.C.cpu_kprunrun] === 0);
  }

  /** Charges a step that ended inline (mayRunInline) as run() charges every step; returns the CPU's budget left. */
  chargeStep(used: number): number {
    this.budget -= used;
    this.stats.steps += used;
    return this.budget;
  }

  run(maxSteps = Infinity): RunOutcome {
    if (this.panicInfo) return { kind: 'panic', info: this.panicInfo };
    this.stopPoint = null;
    this.runLimit = maxSteps;
    const ncpu = this.cpus.length;
    for (;;) {
      if (this.roundPos >= this.roundOrder.length) {
        // Start a round: advance time for the last one, fire ticks, draw the CPU order.
        if (this.roundOrder.length) {
          this.now += this.cfg.slice;
          while (this.now >= this.nextTickAt) {
            this.nextTickAt += this.cfg.tickCycles;
            this.clock();
          }
          const end = this.checkEnd();
          if (end) return end;
        }
        // The CPU order of this round: a Fisher-Yates shuffle drawn from the seeded PRNG.
        const order = this.roundOrder;
        if (order.length !== ncpu) {
          order.length = 0;
          for (let i = 0; i < ncpu; i++) order.push(i);
        } else for (let i = 0; i < ncpu; i++) order[i] = i;
        for (let i = ncpu - 1; i > 0; i--) {
          const j = this.rng.below(i + 1);
          const x = order[i]!;
          order[i] = order[j]!;
          order[j] = x;
        }
        this.rounds++;
        if (this.schedule !== null && this.schedule.rounds.size) this.scheduledOrder(order);
        this.roundPos = 0;
        this.budget = this.cfg.slice;
      }
      const cpu = this.cpus[this.roundOrder[this.roundPos]!]!;
      while (this.budget > 0) {
        if (this.stats.steps >= maxSteps) return { kind: 'step-limit' };
        // A schedule's next step decision: made at its step, and no step runs past it.
        let budget = this.budget;
        if (this.schedAt !== NO_STEP) budget = this.scheduledStep(cpu, budget);
        const stepped = cpu.thread;
        let used: number;
        try {
          used = this.stepCpu(cpu, budget);
        } catch (e) {
          if (e instanceof StopSignal) used = 0;
          else {
            this.recordPanic(cpu, e);
            return { kind: 'panic', info: this.panicInfo! };
          }
        }
        this.budget -= used;
        this.stats.steps += used;
        this.cThread = null;
        this.phaseUsed = 0;
        if (this.stopPoint) return { kind: 'stopped', point: this.stopPoint };
        if (this.afterStep !== null && this.afterStep(stepped, cpu.id)) {
          return { kind: 'stopped', point: { kind: 'step', thread: stepped, cpu: cpu.id } };
        }
      }
      this.roundPos++;
      this.budget = this.cfg.slice;
    }
  }

  /** Replays a schedule from the start (null: the ordinary choices again). */
  setSchedule(s: Schedule | null): void {
    this.schedule = s;
    this.schedPos = 0;
    this.schedAt = s ? s.stepAt(0) : NO_STEP;
  }

  /** Makes the step decisions due at this step; returns the budget that stops at the next one. */
  private scheduledStep(cpu: Cpu, budget: number): number {
    const sc = this.schedule!;
    while (this.schedAt <= this.stats.steps) {
      const d = sc.steps[this.schedPos]!;
      if (d[1] === 0) {
        if (!cpu.thread.isIdle) this.setRunrun(cpu, 1, 1);
      } else this.clock();
      this.schedAt = sc.stepAt(++this.schedPos);
    }
    const left = this.schedAt - this.stats.steps;
    return left < budget ? left : budget;
  }

  /** A round's CPU order from the schedule: the listed CPUs first, the rest in the drawn order. */
  private scheduledOrder(order: number[]): void {
    const want = this.schedule!.rounds.get(this.rounds);
    if (!want) return;
    const rest = order.filter((c) => !want.includes(c));
    const first = want.filter((c, i) => c < order.length && want.indexOf(c) === i);
    const next = [...first, ...rest];
    for (let i = 0; i < order.length; i++) order[i] = next[i]!;
  }

  private recordPanic(cpu: Cpu, e: unknown): void {
    const t = cpu.thread;
    let message: string;
    if (e instanceof KernelPanic) message = e.message;
    else if (e instanceof KmemError) message = e.message;
    else if (e instanceof OutOfMemory) message = `kernel memory exhausted: ${e.message}`;
    else if (e instanceof MemoryFault) {
      message = `BAD TRAP: type=e (#pf Page fault) rp=${formatAddr(t.sp)} addr=${formatAddr(e.addr)}`;
    } else throw e;
    const stack = this.stackOf(t).map((s) => `${s.offset ? `${s.name}+0x${s.offset.toString(16)}` : s.name}(${s.args.map((a) => formatAddr(a)).join(', ')})`);
    const fault = e instanceof MemoryFault ? { addr: e.addr, write: e.write } : undefined;
    this.panicInfo = { cpu: cpu.id, thread: t.addr, message, tick: this.lbolt, stack, fault };
    this.probe(t, 'kernel:panic', message);
    // The panic goes to the console, so the message buffer holds it (::msgbuf after a panic).
    this.msgbuf.push({ tick: this.lbolt, text: '\n' + this.panicLines().join('\n') + '\n' });
    if (this.policy) this.policy.shouldStop(this, { kind: 'hazard', name: 'panic', thread: t, cpu: cpu.id, message });
  }

  /** The console lines of the recorded panic: illumos's `panic[cpuN]/thread=ADDR: MSG`, a blank line, the stack. */
  panicLines(): string[] {
    if (this.hooks.panicLines) return this.hooks.panicLines(this);
    const p = this.panicInfo!;
    const lines = [`panic[cpu${p.cpu}]/thread=${formatAddr(p.thread)}: ${p.message}`, ''];
    for (const f of p.stack) lines.push(`${formatAddr(p.thread)} ${f}`);
    return lines;
  }

  /** One step of a CPU: the interrupt-return preemption check, then the top frame. */
  private stepCpu(cpu: Cpu, budget: number): number {
    const t = cpu.thread;
    if (t.isIdle) {
      if (this.hasRunnable(cpu)) {
        if (t.stack.length === 1) return this.runFrame(t, this.pushIdleSwitch(t), budget);
      } else if (t.stack.length === 1) {
        return budget;
      }
    } else if (this.mem.u8[cpu.addr + this.C.cpu_kprunrun] && t.pil === 0) {
      const top = t.stack[t.stack.length - 1]!;
      if (kindOf(top.kind).preemptible) {
        if (this.kpreempt(t, false) === PUSHED) {
          this.entry(t, 'kpreempt', 'async');
        }
      }
    }
    return this.runFrame(t, t.stack[t.stack.length - 1]!, budget);
  }

  private pushIdleSwitch(t: KThread): Frame {
    const f = { kind: 'swtch', pc: SW_START, why: 'idle', nosave: false, head: 0, cur: 0, next: 0 };
    t.stack.push(f);
    return f;
  }

  private runFrame(t: KThread, f: Frame, budget: number): number {
    return kindOf(f.kind).step(this, t, f, budget);
  }

  /** The clock interrupt: wake timed sleepers, expire quanta, request preemption. */
  clock(): void {
    this.lbolt++;
    this.stats.ticks++;
    if (this.sleepers.length) {
      const due = this.sleepers.filter((s) => {
        const b = s.blockedOn;
        return b && (b.kind === 'delay' || b.kind === 'kmem') && b.until <= this.lbolt;
      });
      for (const s of due) this.wakeup(s);
    }
    for (const cpu of this.cpus) {
      const t = cpu.thread;
      if (t.isIdle) continue;
      if (--t.quantumLeft <= 0) {
        if (this.hasRunnable(cpu)) this.setRunrun(cpu, 1, 1);
        else t.quantumLeft = this.cfg.quantum;
      }
    }
  }

  /** The end of the scenario, or a hang (nothing can ever run again). */
  private checkEnd(): RunOutcome | null {
    // An idle thread still switching to a thread it took off a run queue is not idle.
    for (const c of this.cpus) if (!c.thread.isIdle || c.runq.length || c.thread.stack.length > 1) return null;
    if (this.liveScenarioThreads === 0 && this.deathrow.length === 0) return { kind: 'end' };
    if (this.sleepers.length) {
      // Fast-forward an idle machine to the next timed wakeup.
      let next = Infinity;
      for (const s of this.sleepers) {
        const b = s.blockedOn;
        if (b && (b.kind === 'delay' || b.kind === 'kmem')) next = Math.min(next, b.until);
      }
      const skip = next - 1 - this.lbolt;
      if (skip > 0) {
        this.lbolt += skip;
        this.stats.ticks += skip;
        this.now += skip * this.cfg.tickCycles;
        this.nextTickAt += skip * this.cfg.tickCycles;
      }
      return null;
    }
    const stuck = this.threads.filter((t) => t.blockedOn && t.role !== 'reaper' && this.tState(t) === TS_SLEEP);
    const msg = `every thread is blocked: ${stuck.map((t) => `${t.name} on ${describeBlock(t.blockedOn!)}`).join(', ')}`;
    this.deadlock = msg;
    return { kind: 'deadlock', message: msg };
  }

  // ---------------------------------------------------------------- introspection

  /** Stack of a thread, innermost first, with kernel frames expanded (swtch, resume, savectx). */
  stackOf(t: KThread): StackEntry[] {
    const out: StackEntry[] = [];
    for (let i = t.stack.length - 1; i >= 0; i--) {
      const f = t.stack[i]!;
      out.push(...FRAME_KINDS.get(f.kind)!.describe(this, t, f, i));
    }
    return out;
  }

  threadByName(name: string): KThread | undefined {
    return this.threads.find((t) => t.name === name);
  }

  /** Marks a thread gone from the kernel (after the reaper freed it). */
  forgetThread(t: KThread): void {
    const m = this.mem;
    const next = m.readPtr(t.addr + this.T.t_next);
    const prev = m.readPtr(t.addr + this.T.t_prev);
    if (next === t.addr) m.writePtr(this.allthreadsVar, 0);
    else {
      m.writePtr(prev + this.T.t_next, next);
      m.writePtr(next + this.T.t_prev, prev);
      if (m.readPtr(this.allthreadsVar) === t.addr) m.writePtr(this.allthreadsVar, next);
    }
    this.setState(t, TS_FREE);
    t.freed = true;
    this.threads.splice(this.threads.indexOf(t), 1);
    this.byAddr.delete(t.addr);
  }

  // ---------------------------------------------------------------- snapshots

  snapshot(): MachineSnapshot {
    return {
      mem: this.mem.snapshot(),
      kmem: this.kmem.snapshot(),
      rng: this.rng.state,
      threads: this.threads.map((t) => cloneThread(t)),
      cpus: this.cpus.map((c) => ({ thread: c.thread.addr, runq: c.runq.map((x) => x.addr) })),
      state: copyState(this),
    };
  }

  restore(s: MachineSnapshot): void {
    this.mem.restore(s.mem);
    // Data symbols defined after the snapshot (built lazily during the run) point at memory
    // the restore just unmapped: forget them so the run defines them again at the same place.
    for (const [name, d] of this.sym.data) if (d.addr >= s.mem.top) this.sym.data.delete(name);
    this.kmem.restore(s.kmem);
    this.rng.state = s.rng;
    const byAddr = new Map<number, KThread>();
    const threads: KThread[] = [];
    for (const snap of s.threads) {
      const t = cloneThread(snap);
      byAddr.set(t.addr, t);
      threads.push(t);
    }
    // Zombies on deathrow that are not in `threads` do not exist: deathrow threads stay in threads until freed.
    this.threads = threads;
    this.byAddr = byAddr;
    const get = (a: number) => byAddr.get(a)!;
    this.cpus.forEach((c, i) => {
      c.thread = get(s.cpus[i]!.thread);
      c.runq = s.cpus[i]!.runq.map(get);
      c.idle = get(this.mem.readPtr(c.addr + this.C.cpu_idle_thread));
    });
    this.reaper = threads.find((t) => t.role === 'reaper') ?? null;
    putState(this, s.state, get);
    this.stopPoint = null;
    this.skipStopOnce = false;
  }
}

/** A copy of the machine's state (see state.ts for what it holds). */
export interface MachineSnapshot {
  mem: ReturnType<Memory['snapshot']>;
  kmem: unknown;
  rng: number;
  threads: KThread[];
  cpus: Array<{ thread: number; runq: number[] }>;
  /** The fields MACHINE_STATE declares. */
  state: Record<string, unknown>;
}

function cloneThread(t: KThread): KThread {
  const c = new KThread(t.addr, t.tid, t.name, t.role);
  Object.assign(c, t);
  c.stack = t.stack.map((f) => {
    const k = FRAME_KINDS.get(f.kind);
    return k?.clone ? k.clone(f) : { ...f };
  });
  c.blockedOn = t.blockedOn ? { ...t.blockedOn } : null;
  return c;
}

/** Thrown to unwind out of native code when a stop point was hit (nothing was done yet). */
export class StopSignal extends Error {}

export function describeBlock(b: BlockReason): string {
  switch (b.kind) {
    case 'mutex': return `mutex ${formatAddr(b.addr)}`;
    case 'cv': return `condition variable ${formatAddr(b.addr)}`;
    case 'delay': return `delay until tick ${b.until}`;
    case 'kmem': return `kmem (memory pressure) until tick ${b.until}`;
    case 'memwait': return `kmem_alloc(${b.size}, KM_SLEEP): waiting for free memory`;
    case 'reaper': return 'the reaper queue';
    case 'join': return `thread ${formatAddr(b.addr)}`;
  }
}

// swtch frame program counters.
export const SW_START = 0;
export const SW_SAVE = 1;
export const SW_SWITCH = 2;
export const SW_RESUMED = 3;
export const SW_RESTORE = 4;
export const SW_DONE = 5;

export { TS_ONPROC, TS_RUN, TS_SLEEP, TS_ZOMB, T_KFPU };
