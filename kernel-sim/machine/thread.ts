/**
 * Kernel threads and CPUs. The C-visible state (t_preempt, t_ctx, t_state, cpu_runrun, ...)
 * lives in simulated memory at `addr`; the rest (the frame stack, scheduling bookkeeping) is
 * kept here. Everything here is plain data so a machine snapshot can copy it.
 */
/** One activation on a thread's stack. `kind` names the frame kind that executes it. */
export interface Frame {
  kind: string;
  pc: number;
  [field: string]: unknown;
}

export type BlockReason =
  | { kind: 'mutex'; addr: number }
  | { kind: 'cv'; addr: number }
  | { kind: 'delay'; until: number }
  | { kind: 'kmem'; until: number }
  /** A KM_SLEEP allocation waiting for free memory (woken by kmem_free, retried). */
  | { kind: 'memwait'; size: number }
  | { kind: 'reaper' }
  | { kind: 'join'; addr: number };

export class KThread {
  /** Frames, innermost last. */
  stack: Frame[] = [];
  /** Value delivered by the last frame that returned. */
  retval = 0;
  /** CPU the thread runs on (onproc) or last ran on; -1 before its first run. */
  cpu = -1;
  quantumLeft = 0;
  blockedOn: BlockReason | null = null;
  /** Depth of kernel context at high PIL (inside swtch/resume): not preemptible there. */
  pil = 0;
  /** Set once the thread's exit has been reaped and its kthread_t freed. */
  freed = false;
  /** The scenario thread this came from, or a kernel role ('idle', 'reaper', 'created'). */
  readonly role: 'scenario' | 'idle' | 'reaper' | 'created';
  /** A CPU's idle thread (role 'idle'): a plain field, read on every dispatcher decision. */
  readonly isIdle: boolean;
  /** klwp_t address for threads with an LWP (0 for pure kernel threads). */
  lwp = 0;
  /** Simulated stack region for C frames: [stackBase, stackBase + stackSize). */
  stackBase = 0;
  stackSize = 0;
  sp = 0;
  /** Whether a pending preemption request was already reported as deferred. */
  deferredNoted = false;
  /** Tick of the last time the thread went on or off a CPU (for ::thread -d). */
  dispTick = 0;

  constructor(
    readonly addr: number,
    readonly tid: number,
    readonly name: string,
    role: KThread['role'],
  ) {
    this.role = role;
    this.isIdle = role === 'idle';
  }

  top(): Frame | undefined {
    return this.stack[this.stack.length - 1];
  }
}

export class Cpu {
  /** Run queue: threads by priority, FIFO within a priority. */
  runq: KThread[] = [];
  thread!: KThread;
  idle!: KThread;
  constructor(
    readonly id: number,
    readonly addr: number,
  ) {}
}

