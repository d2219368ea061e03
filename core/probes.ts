/**
 * The probe catalogue: every probe the simulator fires, with its category. The views switch on
 * categories, never on probe names, so a new probe shows everywhere its category does:
 *
 * | category          | flow trace (`kctx run`)  | Timeline (debugger)         | Chrome export        |
 * |-------------------|--------------------------|-----------------------------|----------------------|
 * | `switch`          | line                     | the slices                  | the slices           |
 * | `hook`            | hidden (entry/return)    | mark (the op)               | instant (op handler) |
 * | `ctxop`           | line                     | mark                        | instant              |
 * | `preempt`         | line                     | mark                        | instant              |
 * | `preempt-request` | line                     | -                           | instant              |
 * | `preempt-control` | line                     | mark, preemption-off spans  | -                    |
 * | `hazard`          | line                     | mark                        | global instant       |
 * | `panic`           | line                     | mark                        | global instant       |
 * | `kmem`            | with `kmem` only         | -                           | -                    |
 * | others            | line                     | -                           | -                    |
 *
 * A hazard also names the debugger's exception filter that stops on it (DAP
 * `exceptionBreakpointFilters`) and the text of that stop.
 */

export type ProbeCategory =
  | 'switch'
  | 'preempt'
  | 'preempt-request'
  | 'preempt-control'
  | 'sleep'
  | 'hook'
  | 'ctxop'
  | 'kmem'
  | 'proc'
  | 'hazard'
  | 'lock'
  | 'vnet'
  | 'panic'
  | 'log'
  | 'stub';

interface ProbeInfo {
  category: ProbeCategory;
  /**
   * For hazards: the exception filter id, the text of a stop on it, what the filter stops on (the
   * Breakpoints view's tooltip), whether it is ticked by default, and the names its condition may
   * use besides `thread`, `cpu` and `message`.
   */
  filter?: string;
  pause?: string;
  description?: string;
  default?: boolean;
  names?: readonly string[];
}

/** Every probe, in the order the flow trace documentation lists them. */
export const PROBES = {
  'sched:off-cpu': { category: 'switch' },
  'sched:on-cpu': { category: 'switch' },
  'sched:preempt': { category: 'preempt' },
  'sched:preempt-deferred': { category: 'preempt-request' },
  'sched:kpreempt-disable': { category: 'preempt-control' },
  'sched:kpreempt-enable': { category: 'preempt-control' },
  'sched:sleep': { category: 'sleep' },
  'sched:wakeup': { category: 'sleep' },
  'ctxop:hook': { category: 'hook' },
  'ctxop:attach': { category: 'ctxop' },
  'ctxop:detach': { category: 'ctxop' },
  'ctxop:alloc': { category: 'ctxop' },
  'ctxop:free': { category: 'ctxop' },
  'kmem:alloc': { category: 'kmem' },
  'kmem:free': { category: 'kmem' },
  'proc:create': { category: 'proc' },
  'proc:exit': { category: 'proc' },
  'hazard:sleep-preempt-disabled': {
    category: 'hazard', filter: 'sleep-preempt-disabled', pause: 'Paused: sleeping with preemption disabled',
    description: 'A sleeping operation with preemption disabled (the illumos#13915 hazard)', default: true, names: ['preempt'],
  },
  'hazard:deadlock': { category: 'hazard', filter: 'deadlock', pause: 'Paused on deadlock', description: 'A lock cycle, or every thread blocked', default: true },
  'hazard:lock-order': {
    category: 'hazard', filter: 'lock-order', pause: 'Paused: two locks taken in opposite orders (a potential deadlock)',
    description: 'Two locks taken in opposite orders by different threads: a deadlock waiting to happen',
  },
  'hazard:unlock-unheld': {
    category: 'hazard', filter: 'unlock-unheld', pause: 'Paused: unlock of a lock this thread does not hold',
    description: 'A mutex released by a thread that does not hold it',
  },
  'lock:acquire': { category: 'lock' },
  'lock:try': { category: 'lock' },
  'lock:release': { category: 'lock' },
  'vnet:curvnet-set': { category: 'vnet' },
  'vnet:curvnet-restore': { category: 'vnet' },
  'vnet:access': { category: 'vnet' },
  'kernel:panic': { category: 'panic' },
  'kernel:cmn_err': { category: 'log' },
  /** A call to a generated stub for a symbol the kernel does not have (`stubs: "auto"`). */
  'stub:call': { category: 'stub' },
} as const satisfies Record<string, ProbeInfo>;

export type ProbeName = keyof typeof PROBES;
export const PROBE_NAMES = Object.keys(PROBES) as ProbeName[];

/** A probe's category (undefined for a name that is not a probe). */
export function probeCategory(name: string): ProbeCategory | undefined {
  return (PROBES as Record<string, ProbeInfo>)[name]?.category;
}

/** The hazard probes. */
export type HazardProbe = { [K in ProbeName]: (typeof PROBES)[K]['category'] extends 'hazard' ? K : never }[ProbeName];
/** The exception filter of each hazard (`hazard:lock-order` -> `lock-order`). */
export type HazardFilter = (typeof PROBES)[HazardProbe] extends { filter: infer F } ? F : never;

export interface Hazard {
  probe: HazardProbe;
  filter: HazardFilter;
  pause: string;
  description: string;
  default: boolean;
  /** The names a condition on its filter may use. */
  names: readonly string[];
}
export const HAZARDS: readonly Hazard[] = PROBE_NAMES.filter((p) => PROBES[p].category === 'hazard').map((p) => {
  const h = PROBES[p] as ProbeInfo;
  return {
    probe: p as HazardProbe, filter: h.filter as HazardFilter, pause: h.pause!, description: h.description!,
    default: h.default ?? false, names: ['thread', 'cpu', 'message', ...(h.names ?? [])],
  };
});

/** The hazard a filter id stops on. */
export function hazardOfFilter(filter: string): Hazard | undefined {
  return HAZARDS.find((h) => h.filter === filter);
}

/** The probe that reports the hazard `id` (`lock-order` -> `hazard:lock-order`). */
export function hazardProbe<F extends HazardFilter>(id: F): `hazard:${F}` {
  return `hazard:${id}`;
}

/** Categories of probe drawn as a Timeline mark (the view's mark kinds follow them). */
export const TIMELINE_MARKS: ReadonlySet<ProbeCategory> = new Set(['hook', 'ctxop', 'preempt', 'preempt-control', 'hazard', 'panic']);
/** Categories of probe drawn as a Chrome trace instant; `hazard` and `panic` are global. */
export const CHROME_INSTANTS: ReadonlySet<ProbeCategory> = new Set(['hook', 'ctxop', 'preempt', 'preempt-request', 'hazard', 'panic']);
/** Categories that stand out (red) wherever they are drawn. */
export const ALARM: ReadonlySet<ProbeCategory> = new Set(['hazard', 'panic']);

/**
 * How the Timeline draws a mark of this kind: a mark's kind is a hook op, a ctxop life event
 * (`attach`, `detach`, `alloc`, `ctxop-free`), `preempt`, `preempt-disable`/`preempt-enable`, a
 * probe name for hazards and panics, or one the debugger adds (`leak`, `assert`).
 */
export type MarkClass = 'hook' | 'attach' | 'detach' | 'preempt' | 'hazard' | 'other';
const HOOK_KINDS = new Set(['save', 'restore', 'fork', 'lwp_create', 'exit', 'free', 'hook']);
export function markClass(kind: string): MarkClass {
  const k = kind.toLowerCase();
  const cat = probeCategory(k);
  if ((cat && ALARM.has(cat)) || /hazard|panic|assert|leak|deadlock/.test(k)) return 'hazard';
  if (k === 'attach' || k === 'alloc' || k === 'install') return 'attach';
  if (k === 'detach' || k === 'remove' || k === 'ctxop-free') return 'detach';
  if (HOOK_KINDS.has(k)) return 'hook';
  if (/preempt/.test(k)) return 'preempt';
  return 'other';
}
