/**
 * The wire between the debug adapter and the extension: the custom DAP requests (`kctx/mdb`,
 * `kctx/state`, `kctx/timeline`) with their arguments and response bodies, and the messages
 * between the extension and the Timeline webview. The adapter (debug-adapter/view.ts,
 * timeline.ts, session.ts) produces these shapes; the extension (extension/model.ts, mdb.ts,
 * views/timeline.ts) and the webview (extension/webview/timeline.ts) consume them. Other DAP
 * clients may send the requests too, so fields are only ever added.
 */

/** `kctx/mdb` arguments: an mdb command line. */
export interface MdbArgs { command: string }
/** `kctx/mdb` response body: what mdb printed. */
export interface MdbBody { output: string }

import { HOOK_OPS, type HookOp } from './eras';

/** A ctxop on a thread, as `kctx/state` reports it (handlers by name, absent when NULL). */
export interface CtxopState { addr: string; save?: string; restore?: string; fork?: string; lwpCreate?: string; exit?: string; free?: string; arg?: string }
/** The key of a hook op's handler in a CtxopState. */
export type CtxopStateHook = 'save' | 'restore' | 'fork' | 'lwpCreate' | 'exit' | 'free';
/** Each hook op with its key in a CtxopState and the `struct ctxop` member that holds it, in the era table's order. */
export const CTXOP_STATE_HOOKS: readonly { op: HookOp; key: CtxopStateHook; member: `${HookOp}_op` }[] = HOOK_OPS.map((op) => ({
  op,
  key: op.replace(/_(\w)/g, (_m, c: string) => c.toUpperCase()) as CtxopStateHook,
  member: `${op}_op` as const,
}));
/** A thread in `kctx/state`; `ctxops` newest first (save order). */
export interface ThreadState { id: number; addr: string; name: string; state: string; cpu: number | null; lastCpu?: number | null; preempt: number; pri: number; ctxops: CtxopState[] }
export interface CpuState { id: number; addr: string; thread: number | null; threadName?: string | null; runrun?: boolean | number; kprunrun?: boolean | number; runq?: number[] }
/** `kctx/state` response body: the simulated kernel at a stop. */
export interface StateBody { cpus: CpuState[]; threads: ThreadState[]; era: string; tick?: number }

/** Who was on a CPU from `start` to `end` (ticks). */
export interface TimelineSlice { cpu: number; thread: number; name: string; start: number; end: number }
/** A point event: `kind` is a hook op, a ctxop life event, a preemption event, a probe name (hazards, panics) or `leak`. */
export interface TimelineMark { cpu: number; tick: number; kind: string; label: string }
/** A span where a thread ran with preemption disabled. */
export interface TimelineSpan { cpu: number; thread: number; name: string; kind: 'preempt-disabled'; start: number; end: number }
/** `kctx/timeline` response body. */
export interface TimelineBody {
  endTick: number;
  slices: TimelineSlice[];
  marks: TimelineMark[];
  /** Preemption-disabled spans (an addition to the contract: clients may ignore it). */
  spans: TimelineSpan[];
  /** Milliseconds per tick (hz = 100: 10), for the axis. */
  msPerTick?: number;
}
/** `kctx/travel` arguments: go to `tick` on `cpu` (backwards or forwards), stop on `threadId`. */
export interface TravelArgs { tick: number; cpu: number; threadId?: number }

/** Each custom request: its arguments and its response body. */
export interface KctxRequests {
  'kctx/mdb': { args: MdbArgs; body: MdbBody };
  'kctx/state': { args: undefined; body: StateBody };
  'kctx/timeline': { args: undefined; body: TimelineBody };
  'kctx/travel': { args: TravelArgs; body: undefined };
}
export type KctxRequest = keyof KctxRequests;
export const KCTX_REQUESTS: readonly KctxRequest[] = ['kctx/mdb', 'kctx/state', 'kctx/timeline', 'kctx/travel'];

/** What the extension keeps of a `stopped` event. */
export interface StopInfo { reason: string; threadId?: number; description?: string; text?: string }

/** Extension -> Timeline webview: draw this (or say why there is nothing to draw). */
export interface TimelineMessage {
  type: 'timeline';
  timeline: TimelineBody | null;
  cpus: number[] | null;
  stop: StopInfo | null;
  unsupported: boolean;
  running: boolean;
  /** The session ended: what to say instead of the stop. */
  ended?: string | null;
}
/**
 * What the webview drew (tests read it through `kctx.timeline.show`), read back from its SVG:
 * `pastNow` counts slice bars whose right edge lies past the "now" line; `laneNames` are the
 * thread names on the bars, `legendNames` the thread names in the legend; `axisLabels` the tick
 * axis's labels in order.
 */
export interface RenderReport {
  lanes: number;
  slices: number;
  marks: number;
  spans: number;
  endTick: number;
  pastNow: number;
  laneNames: string[];
  legendNames: string[];
  axisLabels: string[];
}
/** Timeline webview -> extension. */
export type WebviewMessage = { type: 'ready' } | ({ type: 'rendered' } & RenderReport) | { type: 'travel'; tick: number; cpu: number; thread?: number };
