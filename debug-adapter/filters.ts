/**
 * The debugger's exception filters (DAP `exceptionBreakpointFilters`, the Breakpoints view's
 * checkboxes): the stops that are not a line, function or data breakpoint. One table, in the order
 * the Breakpoints view lists them: the kernel's own events first, then one filter per hazard of the
 * probe catalogue (core/probes.ts: a new hazard gets its filter here without an edit), then what is
 * found when a run ends and the stubs of `"stubs": "auto"`.
 */
import { HAZARDS, type HazardFilter } from '../core/probes';

export interface ExceptionFilter<Id extends string = string> {
  id: Id;
  /** What it stops on (the checkbox's tooltip). */
  description: string;
  /** Ticked when a session starts. */
  default: boolean;
  /** The names its condition may use (debug-adapter/cond.ts). */
  names: readonly string[];
  /** An example condition, shown as the condition's placeholder. */
  example: string;
}

const KERNEL_EVENTS = [
  { id: 'swtch', description: 'Every context switch (before resume() runs)', default: false, names: ['from', 'to', 'cpu', 'why', 'thread'], example: 'to == "vcpu1"' },
  {
    id: 'ctxop', description: 'Every ctxop hook the kernel calls (save, restore, fork, lwp_create, exit, free)', default: false,
    names: ['op', 'handler', 'thread', 'cpu', 'ctx', 'arg'], example: 'op == "save" && handler =~ "^vmm_"',
  },
  { id: 'panic', description: 'A kernel panic (BAD TRAP, VERIFY, a fault in the driver)', default: true, names: ['thread', 'cpu', 'message'], example: 'message =~ "BAD TRAP"' },
  { id: 'assert', description: 'A failed ASSERT/VERIFY', default: false, names: ['thread', 'cpu', 'message'], example: 'message =~ "vmm.c"' },
] as const satisfies readonly ExceptionFilter[];

const AT_THE_END = [
  { id: 'leak', description: 'Leaked kmem buffers when the scenario ends (::findleaks)', default: false, names: ['count', 'bytes'], example: 'count > 1' },
  {
    id: 'stub', description: 'A call to a stub made for an undefined function ("stubs": "auto")', default: false,
    names: ['name', 'thread', 'cpu'], example: 'name == "kvm_arch_vcpu_load"',
  },
] as const satisfies readonly ExceptionFilter[];

export type FilterId = (typeof KERNEL_EVENTS)[number]['id'] | HazardFilter | (typeof AT_THE_END)[number]['id'];

const HAZARD_EXAMPLE: Partial<Record<HazardFilter, string>> = { 'lock-order': 'message =~ "lock_a"' };

export const EXCEPTION_FILTERS: readonly ExceptionFilter<FilterId>[] = [
  ...KERNEL_EVENTS,
  ...HAZARDS.map((h) => ({ id: h.filter, description: h.description, default: h.default, names: h.names, example: HAZARD_EXAMPLE[h.filter] ?? 'thread == "vcpu0"' })),
  ...AT_THE_END,
];

export const FILTER_IDS: readonly FilterId[] = EXCEPTION_FILTERS.map((f) => f.id);

/** The filter `id` (undefined for an unknown id). */
export function exceptionFilter(id: string): ExceptionFilter<FilterId> | undefined {
  return EXCEPTION_FILTERS.find((f) => f.id === id);
}

/** The text of a condition's placeholder: the example and the names. */
export function conditionDescription(f: ExceptionFilter): string {
  return `e.g. ${f.example} (names: ${f.names.join(', ')})`;
}
