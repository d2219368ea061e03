/**
 * The extension's view of the running kctx debug sessions: which one is active, when it stops, and
 * the simulated kernel's state and schedule fetched at each stop through the adapter's custom
 * requests (`kctx/state`, `kctx/timeline`). The Kernel threads tree and the Timeline read it.
 */
import * as vscode from 'vscode';
import type { CpuState, CtxopState, KctxRequest, KctxRequests, StateBody, StopInfo, ThreadState, TimelineBody } from '../core/protocol';

export type { StopInfo };
/** `kctx/state` (core/protocol.ts): the simulated kernel at a stop. */
export type KCtxop = CtxopState;
export type KThread = ThreadState;
export type KCpu = CpuState;
export type KState = StateBody;
/** `kctx/timeline` (core/protocol.ts): slices per CPU, marks, preemption-disabled spans. */
export type KTimeline = TimelineBody;

export class KctxModel implements vscode.Disposable {
  readonly sessions = new Set<vscode.DebugSession>();
  session: vscode.DebugSession | undefined;
  state: KState | undefined;
  timeline: KTimeline | undefined;
  lastStop: StopInfo | undefined;
  stops = 0;
  /** The last kctx session ended: the views say so (their content is its last stop's). */
  ended: string | undefined;
  /** Custom requests the adapter answered with an error (not implemented yet, or failed). */
  readonly unsupported = new Set<string>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly stopped = new vscode.EventEmitter<{ session: vscode.DebugSession; stop: StopInfo }>();
  readonly onDidStop = this.stopped.event;
  private readonly subs: vscode.Disposable[] = [this.changed, this.stopped];
  private refreshing: Promise<void> | undefined;

  constructor() {
    this.subs.push(
      vscode.debug.onDidStartDebugSession((s) => {
        if (s.type !== 'kctx') return;
        this.sessions.add(s);
        this.session = s;
        this.ended = undefined;
        this.changed.fire();
      }),
      vscode.debug.onDidTerminateDebugSession((s) => {
        if (!this.sessions.delete(s)) return;
        if (this.session === s) this.session = [...this.sessions].pop();
        if (!this.sessions.size) {
          this.ended = `The session "${s.name}" ended${this.lastStop ? `; shown: its last stop (${this.lastStop.description ?? this.lastStop.reason})` : ''}.`;
          this.lastStop = undefined;
        }
        this.changed.fire();
      }),
      vscode.debug.onDidChangeActiveDebugSession((s) => {
        if (s?.type === 'kctx' && s !== this.session) {
          this.session = s;
          void this.refresh(s);
        }
      }),
    );
  }

  /** The kctx session commands should talk to: the active one if it is kctx, else the newest. */
  activeSession(): vscode.DebugSession | undefined {
    const a = vscode.debug.activeDebugSession;
    if (a?.type === 'kctx') return a;
    return this.session;
  }

  /** Called by the debug adapter tracker for every `stopped` event. */
  noteStopped(session: vscode.DebugSession, stop: StopInfo): void {
    this.session = session;
    this.ended = undefined;
    this.lastStop = stop;
    this.stops++;
    void this.refresh(session).then(() => this.stopped.fire({ session, stop }));
  }

  /** Next stop of any kctx session (for commands that started a session and wait for it). */
  nextStop(timeoutMs = 30000): Promise<vscode.DebugSession | undefined> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { d.dispose(); resolve(undefined); }, timeoutMs);
      const d = this.onDidStop(({ session }) => { clearTimeout(t); d.dispose(); resolve(session); });
    });
  }

  async request<R extends KctxRequest>(session: vscode.DebugSession, command: R, args?: KctxRequests[R]['args']): Promise<KctxRequests[R]['body'] | undefined> {
    try {
      const r = (await session.customRequest(command, args)) as KctxRequests[R]['body'];
      this.unsupported.delete(command);
      return r;
    } catch (e) {
      // "The kernel is running" and the like are transient; only an unknown request is remembered.
      if (/unrecognized request|not supported|unknown request/i.test(e instanceof Error ? e.message : String(e))) this.unsupported.add(command);
      return undefined;
    }
  }

  refresh(session = this.activeSession()): Promise<void> {
    if (!session) return Promise.resolve();
    const run = async () => {
      const [state, timeline] = await Promise.all([
        this.request(session, 'kctx/state'),
        this.request(session, 'kctx/timeline'),
      ]);
      if (state && Array.isArray(state.threads)) this.state = state;
      if (timeline && Array.isArray(timeline.slices)) this.timeline = timeline;
      void vscode.commands.executeCommand('setContext', 'kctx.hasState', !!(this.state || this.timeline));
      this.changed.fire();
    };
    // Serialize refreshes: a stop during a refresh queues one more.
    this.refreshing = (this.refreshing ?? Promise.resolve()).then(run, run);
    return this.refreshing;
  }

  dispose(): void {
    for (const d of this.subs) d.dispose();
  }
}
