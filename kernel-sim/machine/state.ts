/**
 * The machine's state, declared once.
 *
 * Every field of a `Machine` is listed here with what it is: part of the kernel's state (and how
 * to copy it), the run's outcome, or wiring that a snapshot does not cover (configuration, the
 * program, front-end listeners). `Machine.snapshot()`/`restore()` and the crash dump walk this
 * table, so a new field is one line here; a test fails when a field of `Machine` is in neither
 * table.
 */
import type { KThread } from './thread';

/** How a state field is copied. */
export type StateKind =
  /** A number, string, boolean or null: copied as is. */
  | 'value'
  /** An array of entries that are never changed in place: a shallow copy. */
  | 'list'
  /** A flat object of numbers: a shallow copy. */
  | 'record'
  /** KThread[]: kept as thread addresses. */
  | 'threads'
  /** Map<number, KThread[]>: kept as [key, thread addresses] pairs. */
  | 'threadMap'
  /** The run's end (a panic): written to a dump, cleared by restore (the restored run has not ended). */
  | 'outcome';

/**
 * The scalar and list state, restored in this order after the parts (memory, kmem, the PRNG,
 * threads and CPUs, which `Machine` copies itself because they hold each other).
 */
export const MACHINE_STATE = {
  nextTid: 'value',
  now: 'value',
  lbolt: 'value',
  nextTickAt: 'value',
  stats: 'record',
  kpc: 'record',
  roundOrder: 'list',
  roundPos: 'value',
  budget: 'value',
  kmSleepCount: 'value',
  liveScenarioThreads: 'value',
  lastMightSleep: 'value',
  deadlock: 'value',
  msgbuf: 'list',
  hazards: 'list',
  sleepers: 'threads',
  deathrow: 'threads',
  waiters: 'threadMap',
  schedPos: 'value',
  schedAt: 'value',
  rounds: 'value',
  dispSeq: 'value',
  allocSeq: 'value',
  panicInfo: 'outcome',
} as const satisfies Record<string, StateKind>;

/**
 * The parts with their own copy (in restore order), the fields derived from them, and the fields
 * that are not state: a snapshot leaves them alone.
 */
export const MACHINE_PARTS = ['mem', 'kmem', 'rng', 'threads', 'cpus'] as const;
export const MACHINE_DERIVED = {
  byAddr: 'threads by address, rebuilt from threads',
  reaper: 'the thread with the reaper role',
} as const;
export const MACHINE_WIRING = {
  cfg: 'configuration', era: 'configuration', hooks: 'the ABI layer', sym: 'kernel text and data (fixed at load; late data symbols are dropped by restore)',
  L: 'the layouts, fixed at load', T: 'layout offsets', C: 'layout offsets', O: 'layout offsets', TPL: 'layout offsets', LW: 'layout offsets', SC: 'layout offsets',
  wState: 'layout widths', wPri: 'layout widths', wFlag: 'layout widths', wPreempt: 'layout widths', wRunrun: 'layout widths',
  allthreadsVar: 'an address fixed at boot', p0Addr: 'p0, mapped at load or boot', dataRoots: 'C globals, fixed at load', program: 'the C driver',
  names: 'thread names by address: only grows, so a name outlives a restore as it outlives the thread',
  sink: 'front end', policy: 'front end', onConsole: 'front end', eventRing: 'front end', watchpoints: 'front end',
  afterStep: 'front end', schedule: 'the schedule being replayed (decisions only; its cursor is state)', stopPoint: 'the current stop: cleared by restore', skipStopOnce: 'the resume protocol: cleared by restore', dataStop: 'a stop inside a C instruction: consumed by the step that set it',
  runLimit: 'the step limit of the run() in progress (set by each run)', phaseUsed: 'cycles of the running step before its current phase (0 between steps)', cThread: 'the thread whose C step runs (set by each C step, null after each step)', storeWatch: 'the memory watch of setWatchpoints',
} as const;

export type StateField = keyof typeof MACHINE_STATE;

type Holder = Record<string, unknown>;

/** Copies the declared state of `m` out (the snapshot's `state` part). */
export function copyState(m: object): Record<string, unknown> {
  const src = m as Holder;
  const out: Record<string, unknown> = {};
  for (const k in MACHINE_STATE) {
    const kind = MACHINE_STATE[k as StateField];
    const v = src[k];
    switch (kind) {
      case 'value': out[k] = v; break;
      case 'list': out[k] = (v as unknown[]).slice(); break;
      case 'record': out[k] = { ...(v as object) }; break;
      case 'threads': out[k] = (v as KThread[]).map((t) => t.addr); break;
      case 'threadMap': out[k] = [...(v as Map<number, KThread[]>)].map(([key, ts]) => [key, ts.map((t) => t.addr)]); break;
      case 'outcome': out[k] = v === null || v === undefined ? null : { ...(v as object) }; break;
    }
  }
  return out;
}

/** Puts the declared state back into `m`; `thread` resolves an address (threads are restored first). */
export function putState(m: object, s: Record<string, unknown>, thread: (addr: number) => KThread): void {
  const dst = m as Holder;
  for (const k in MACHINE_STATE) {
    const kind = MACHINE_STATE[k as StateField];
    const v = s[k];
    switch (kind) {
      case 'value': dst[k] = v; break;
      case 'list': dst[k] = (v as unknown[]).slice(); break;
      case 'record': dst[k] = { ...(v as object) }; break;
      case 'threads': dst[k] = (v as number[]).map(thread); break;
      case 'threadMap': dst[k] = new Map((v as Array<[number, number[]]>).map(([key, ts]) => [key, ts.map(thread)])); break;
      case 'outcome': dst[k] = null; break;
    }
  }
}
