/**
 * The kctx debug adapter: a DAP session over the simulated kernel (engine.ts).
 *
 * Transport-agnostic: `kctx dap` runs it over stdio or a loopback socket (main.ts), and the
 * VS Code extension runs it inline (`new DebugAdapterInlineImplementation(new KctxDebugSession())`).
 * Debug type `kctx`; threads are the simulated kthreads; every stop is `allThreadsStopped`.
 */
import { basename, resolve, isAbsolute } from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  DebugSession, InitializedEvent, StoppedEvent, TerminatedEvent, ExitedEvent, OutputEvent, ThreadEvent,
  BreakpointEvent, ProgressStartEvent, ProgressUpdateEvent, ProgressEndEvent, InvalidatedEvent, Thread, StackFrame, Scope, Source,
  Handles,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { createKernel, loadScenarioFile, scenarioFromObject, ScenarioError, SCENARIO_KEYS, loadDriver, createMdb, DCMD_NAMES, FORMATS, formatAddr, parseAddr, stateName, ringNewestFirst, FlowFormatter, EventRing, formatPanic, Schedule, parseSchedule, readBoundedFile, readDump, type Scenario, type Machine, type KThread, type CValueView, type ScheduleFile } from '../kernel-sim/index';
import { Engine, exitCode, type Outcome } from './engine';
import { FrameGuard, MAX_MESSAGE_BYTES } from './framing';
import { Breakpoints, type LineBp } from './breakpoints';
import { EXCEPTION_FILTERS, conditionDescription, type FilterId } from './filters';
import { parseHitCondition } from './cond';
import { TimelineRecorder, atOrAfter } from './timeline';
import { colourMdb } from './mdb-colour';
import { leakCallerSites } from './leaks';
import { hasKernelSource, kernelListing, kernelLine, kernelLineOf, RARE_FRAMES } from './kernel-source';
import {
  threadId, findThread, visibleThreads, threadLabel, viewFrames, enteringAt, builtinListing, threadFields, cpuFields,
  structFields, ctxopLayout, ctxopsOf, kctxState, stackText, ThreadIds, StopHandles, type ViewFrame, type FieldView,
} from './view';

/** Launch configuration: a scenario path or the scenario's keys inline, plus debugger options. */
export interface KctxLaunchArgs extends DebugProtocol.LaunchRequestArguments {
  scenario?: string;
  cwd?: string;
  stopOnEntry?: boolean;
  seed?: number;
  maxSteps?: number;
  trace?: boolean | 'flow' | 'none';
  showIdleThreads?: boolean;
  /** A schedule file (kctx explore) to replay: the run takes its decisions, reverse steps too. */
  schedule?: string;
  /** A crash dump (kctx run --dump, kctx explore --out): a post-mortem session, no stepping. */
  dump?: string;
  [key: string]: unknown;
}


type VarRef =
  | { k: 'cvals'; list: () => CValueView[]; thread?: number; frameIndex?: number }
  | { k: 'thread'; addr: number }
  | { k: 'cpu'; id: number }
  | { k: 'ctxops'; addr: number }
  | { k: 'ctxop'; ctx: number }
  | { k: 'bvars'; addr: number; frameIndex: number }
  | { k: 'runq'; id: number };

interface FrameRef {
  thread: number;
  frame: ViewFrame;
}

/** Requests that run or rewind the kernel: refused on a crash dump. */
const EXECUTION_COMMANDS = new Set(['continue', 'next', 'stepIn', 'stepOut', 'stepBack', 'reverseContinue', 'pause', 'restart', 'goto', 'restartFrame', 'setVariable', 'kctx/travel']);

const ERR = {
  notLaunched: 3001,
  running: 3002,
  launch: 3003,
  bad: 3004,
  noThread: 3005,
  eval: 3006,
  ended: 3007,
  internal: 3099,
};

// DebugSession, not LoggingDebugSession: the latter queues every message it would log in memory
// until logger.setup() is called, so a long session grew by each request and response it saw.
export class KctxDebugSession extends DebugSession {
  private engine: Engine | null = null;
  private scenario: Scenario | null = null;
  /** A crash dump's session: nothing runs (EXECUTION_COMMANDS are refused). */
  private postMortem = false;
  private launchArgs: KctxLaunchArgs | null = null;
  private bps = new Breakpoints();
  private configDone!: Promise<void>;
  private resolveConfigDone!: () => void;
  private vars = new Handles<VarRef>();
  private frames = new StopHandles<FrameRef>();
  private sourceRefs = new Map<string, number>();
  private sourceTexts = new Map<number, string>();
  private reportedThreads = new Set<number>();
  private client: DebugProtocol.InitializeRequestArguments = { adapterID: 'kctx' };
  private showIdle = false;
  private timeline: TimelineRecorder | null = null;
  private flowLines: string[] = [];
  private flowDropped = 0;
  private mdb: { m: Machine; engine: { execute(line: string): string } } | null = null;
  private tids: ThreadIds = new ThreadIds(() => this.engine!.m);
  /** The run ended (end, panic, hang, step limit): continuing ends the session. */
  private terminal: { code: number } | null = null;
  private terminatedSent = false;
  private progressSeq = 0;

  constructor() {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
    this.newConfigDone();
    // A malformed message must not end the session: the base class shuts down on 'error'.
    this.removeAllListeners('error');
    this.on('error', (event: DebugProtocol.Event) => {
      this.sendEvent(new OutputEvent(`kctx: ignored a malformed message: ${String(event?.body ?? '')}\n`, 'stderr'));
    });
    this.bps.onLog = (text) => this.sendEvent(new OutputEvent(text, 'console'));
  }

  /** Reads through a FrameGuard: whole frames to the library, a message over 64 MB refused. */
  override start(inStream: NodeJS.ReadableStream, outStream: NodeJS.WritableStream): void {
    const guard = new FrameGuard((p) => {
      const why = p.kind === 'too-large'
        ? `a message of ${p.length} bytes is over the ${MAX_MESSAGE_BYTES / 1048576} MB limit; skipped`
        : `a header of more than 8 KB without a blank line; skipped`;
      const r = { seq: 0, type: 'response', request_seq: 0, command: '', success: false } as DebugProtocol.Response;
      this.sendErrorResponse(r, ERR.bad, `kctx: ${why}`);
    });
    inStream.on('error', (e) => guard.destroy(e));
    inStream.pipe(guard);
    super.start(guard, outStream);
  }

  private newConfigDone(): void {
    this.configDone = new Promise((r) => (this.resolveConfigDone = r));
  }

  // ------------------------------------------------------------------ plumbing

  /**
   * `kctx dap --server=PORT`: nothing but initialize and disconnect is served until a launch
   * carries `serverToken` equal to `token`; a wrong or missing one is refused and the
   * connection closed (`close`).
   */
  requireToken(token: string, close: () => void): void {
    this.serverToken = { token, close };
  }
  private serverToken: { token: string; close: () => void } | null = null;

  private tokenRefused(request: DebugProtocol.Request): boolean {
    const need = this.serverToken;
    if (!need || request.command === 'initialize' || request.command === 'disconnect') return false;
    const given = (request.arguments as { serverToken?: unknown } | undefined)?.serverToken;
    if (request.command === 'launch' && typeof given === 'string') {
      const a = Buffer.from(given);
      const b = Buffer.from(need.token);
      if (a.length === b.length && timingSafeEqual(a, b)) {
        this.serverToken = null;
        return false;
      }
    }
    const r = { seq: 0, type: 'response', request_seq: request.seq, command: request.command, success: false } as DebugProtocol.Response;
    this.sendErrorResponse(r, ERR.launch, `${request.command}: this adapter runs as kctx dap --server and serves only a launch with the "serverToken" it printed at start`);
    if (request.command === 'launch') setImmediate(need.close);
    return true;
  }

  protected override dispatchRequest(request: DebugProtocol.Request): void {
    if (request && typeof request === 'object' && typeof request.command === 'string' && this.tokenRefused(request)) return;
    if (!request || typeof request !== 'object' || typeof request.command !== 'string') {
      const bad = { seq: 0, type: 'response', request_seq: typeof request?.seq === 'number' ? request.seq : 0, command: String(request?.command ?? ''), success: false } as DebugProtocol.Response;
      this.sendErrorResponse(bad, ERR.bad, 'malformed request');
      return;
    }
    if (request.arguments !== undefined && (request.arguments === null || typeof request.arguments !== 'object')) {
      const r = { seq: 0, type: 'response', request_seq: request.seq, command: request.command, success: false } as DebugProtocol.Response;
      this.sendErrorResponse(r, ERR.bad, `${request.command}: arguments must be an object`);
      return;
    }
    if (request.arguments === undefined && request.command !== 'initialize') request.arguments = {};
    if (this.postMortem && EXECUTION_COMMANDS.has(request.command)) {
      const r = { seq: 0, type: 'response', request_seq: request.seq, command: request.command, success: false } as DebugProtocol.Response;
      this.fail(r, ERR.bad, `${request.command}: this is a crash dump (post-mortem): the kernel does not run; inspect threads, stacks, variables and mdb`);
      return;
    }
    super.dispatchRequest(request);
  }

  /** Runs a handler; an exception becomes an error response (the session keeps serving). */
  private guard(response: DebugProtocol.Response, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.fail(response, ERR.bad, e instanceof Error ? e.message : String(e));
    }
  }

  private fail(response: DebugProtocol.Response, id: number, message: string, showUser = true): void {
    this.sendErrorResponse(response, { id, format: '{_msg}', variables: { _msg: message }, showUser });
  }

  private need(response: DebugProtocol.Response, opts: { stopped?: boolean } = {}): Engine | null {
    if (!this.engine) {
      this.fail(response, ERR.notLaunched, `${response.command}: no program is running (launch first)`, false);
      return null;
    }
    if (opts.stopped && this.engine.running) {
      this.fail(response, ERR.running, `${response.command}: the kernel is running (pause first)`, false);
      return null;
    }
    return this.engine;
  }

  private m(): Machine {
    return this.engine!.m;
  }

  // ------------------------------------------------------------------ initialize / launch

  protected override initializeRequest(response: DebugProtocol.InitializeResponse, args: DebugProtocol.InitializeRequestArguments): void {
    this.client = args ?? { adapterID: 'kctx' };
    response.body = {
      ...response.body,
      supportsConfigurationDoneRequest: true,
      supportsFunctionBreakpoints: true,
      supportsConditionalBreakpoints: true,
      supportsHitConditionalBreakpoints: true,
      supportsLogPoints: true,
      supportsDataBreakpoints: true,
      supportsBreakpointLocationsRequest: true,
      exceptionBreakpointFilters: EXCEPTION_FILTERS.map((f) => ({
        filter: f.id, label: f.id, description: f.description, default: f.default, supportsCondition: true, conditionDescription: conditionDescription(f),
      })),
      supportsExceptionFilterOptions: true,
      supportsExceptionInfoRequest: true,
      supportsStepBack: true,
      supportsRestartRequest: true,
      supportsTerminateRequest: true,
      supportsDelayedStackTraceLoading: true,
      supportsANSIStyling: true,
      supportsEvaluateForHovers: true,
      supportsSetVariable: true,
      supportsCompletionsRequest: true,
      completionTriggerCharacters: [':', '$', '>', '.'],
      supportsReadMemoryRequest: true,
      supportsSteppingGranularity: false,
      supportsSingleThreadExecutionRequests: false,
    };
    this.sendResponse(response);
  }

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.resolveConfigDone();
    this.sendResponse(response);
  }

  private async loadScenario(args: KctxLaunchArgs): Promise<Scenario> {
    const cwd = typeof args.cwd === 'string' ? args.cwd : process.cwd();
    if (typeof args.scenario === 'string' && args.scenario) {
      const p = isAbsolute(args.scenario) ? args.scenario : resolve(cwd, args.scenario);
      // The launch attributes "gate" and "stubs" take the place of the scenario file's own.
      return loadScenarioFile(p, {
        ...(typeof args.gate === 'string' && args.gate ? { gate: resolve(cwd, args.gate) } : {}),
        ...(args.stubs === 'auto' ? { stubs: 'auto' as const } : {}),
        ...(typeof args.defaultGate === 'string' && args.defaultGate ? { defaultGate: resolve(cwd, args.defaultGate) } : {}),
      });
    }
    if (args.scenario !== undefined && typeof args.scenario !== 'string') throw new ScenarioError('launch configuration', 1, 1, '"scenario": expected the path of a .ksim.json file');
    const obj: Record<string, unknown> = {};
    for (const k of SCENARIO_KEYS) if (args[k] !== undefined) obj[k] = args[k];
    if (!Object.keys(obj).length) throw new ScenarioError('launch configuration', 1, 1, 'give "scenario" (a .ksim.json path) or the scenario keys inline ("kernel", "threads", ...)');
    return scenarioFromObject(obj, 'launch configuration', cwd, typeof args.defaultGate === 'string' && args.defaultGate ? { defaultGate: resolve(cwd, args.defaultGate) } : {});
  }

  /** The "schedule" launch attribute: a schedule file kctx explore wrote. */
  private loadSchedule(args: KctxLaunchArgs): ScheduleFile | undefined {
    if (args.schedule === undefined) return undefined;
    if (typeof args.schedule !== 'string' || !args.schedule) throw new Error('"schedule": expected the path of a schedule file (kctx explore --out writes them)');
    const cwd = typeof args.cwd === 'string' ? args.cwd : process.cwd();
    const p = isAbsolute(args.schedule) ? args.schedule : resolve(cwd, args.schedule);
    return parseSchedule(readBoundedFile(p, 64 << 20), p);
  }

  /** The "dump" launch attribute: the post-mortem machine of a crash dump, stopped at its panic. */
  private buildPostMortem(args: KctxLaunchArgs): Engine {
    if (typeof args.dump !== 'string' || !args.dump) throw new Error('"dump": expected the path of a crash dump (kctx run --dump, kctx explore --out)');
    const cwd = typeof args.cwd === 'string' ? args.cwd : process.cwd();
    const { m } = readDump(isAbsolute(args.dump) ? args.dump : resolve(cwd, args.dump));
    this.postMortem = true;
    this.timeline = new TimelineRecorder(m, (a) => this.tids.of(a));
    const engine = new Engine(m, { console: (text) => this.sendEvent(new OutputEvent(text, 'stdout')), timeline: this.timeline }, { bps: this.bps });
    const p = m.panicInfo;
    if (p) {
      const decision = { reason: 'exception', description: 'Paused on panic (crash dump)', text: p.message, filter: (/^assertion failed/.test(p.message) ? 'assert' : 'panic') as FilterId, message: p.message };
      engine.cur = { ...engine.cur, reason: 'exception', thread: p.thread, decision, panic: p };
    }
    return engine;
  }

  private async build(args: KctxLaunchArgs): Promise<Engine> {
    if (args.dump !== undefined) return this.buildPostMortem(args);
    const s = await this.loadScenario(args);
    if (args.seed !== undefined && (!Number.isInteger(args.seed) || (args.seed as number) < 0)) throw new ScenarioError(s.file, 1, 1, `"seed": expected a non-negative integer, got ${JSON.stringify(args.seed)}`);
    if (args.maxSteps !== undefined && (!Number.isInteger(args.maxSteps) || (args.maxSteps as number) < 1)) throw new ScenarioError(s.file, 1, 1, `"maxSteps": expected a positive integer, got ${JSON.stringify(args.maxSteps)}`);
    const sched = this.loadSchedule(args);
    const m = await createKernel(s, { seed: args.seed ?? sched?.seed, loadDriver });
    // Before the engine's first checkpoint: the replay cursor is part of every snapshot.
    if (sched) m.setSchedule(new Schedule(sched.decisions));
    this.scenario = s;
    this.showIdle = args.showIdleThreads === true;
    this.timeline = new TimelineRecorder(m, (a) => this.tids.of(a));
    const traceOn = args.trace === true || args.trace === 'flow';
    const flow = traceOn ? new FlowFormatter((l) => this.flowLine(l), { threadName: (a) => m.byAddr.get(a)?.name ?? formatAddr(a) }) : undefined;
    // mdb's ::ctxtrace reads the machine's event ring; after a reverse step it keeps what
    // happened before the new position (events are stamped with the position they happened at).
    let engine: Engine | null = null;
    m.eventRing = new EventRing(65536, () => engine?.policy.e ?? 0, () => m.stats.steps);
    const timeline = this.timeline;
    engine = new Engine(m, {
      console: (text) => this.sendEvent(new OutputEvent(text, 'stdout')),
      flow,
      timeline,
      extra: () => m.eventRing,
      reversed: (p) => m.eventRing?.truncate((e, s) => atOrAfter(e, s, p)),
    }, { maxSteps: args.maxSteps, bps: this.bps });
    const en = engine;
    timeline.checks = () => en.policy.e;
    return engine;
  }

  protected override async launchRequest(response: DebugProtocol.LaunchResponse, args: KctxLaunchArgs): Promise<void> {
    if (this.engine) return this.fail(response, ERR.launch, 'launch: already launched');
    this.launchArgs = { ...args };
    let engine: Engine;
    try {
      engine = await this.build(args);
    } catch (e) {
      return this.launchError(response, e);
    }
    this.engine = engine;
    this.mdb = null;
    this.reverifyBreakpoints();
    this.sendEvent(new InitializedEvent());
    // Breakpoints and filters arrive now; start once the client says configuration is done.
    await Promise.race([this.configDone, new Promise((r) => setTimeout(r, 5000))]);
    this.sendResponse(response);
    if (this.postMortem) {
      const m = engine.m;
      this.sendEvent(new OutputEvent(`kctx: post-mortem on the crash dump ${args.dump}${m.panicInfo ? `\n${formatPanic(m).join('\n')}` : ''}\n`, 'console'));
      this.announceThreads();
      return this.reportStop(m.panicInfo ? 'exception' : 'entry');
    }
    if (args.noDebug) return void this.runNoDebug();
    this.announceThreads();
    if (args.stopOnEntry) this.reportStop('entry');
    else void this.resume('continue');
  }

  private launchError(response: DebugProtocol.Response, e: unknown): void {
    if (e instanceof ScenarioError) {
      this.sendErrorResponse(response, { id: ERR.launch, format: '{_file}:{_line}:{_column}: {_reason}', variables: { _file: e.file, _line: String(e.line), _column: String(e.column), _reason: e.reason }, showUser: true });
      return;
    }
    const msg = e instanceof Error ? e.message : String(e);
    this.fail(response, ERR.launch, msg);
  }

  protected override attachRequest(response: DebugProtocol.AttachResponse): void {
    this.fail(response, ERR.bad, 'attach: the kctx simulator has nothing to attach to; use "request": "launch"');
  }

  /** Run without debugging: to the end, streaming the console and the trace. */
  private async runNoDebug(): Promise<void> {
    const e = this.engine!;
    e.noDebug = true;
    e.bps.filters.clear();
    e.bps.lines.clear();
    e.bps.fns = [];
    const o = await e.continue((ms) => this.progress('Running the scenario', ms));
    this.progressDone();
    this.flushFlow();
    this.finish(o);
  }

  protected override restartRequest(response: DebugProtocol.RestartResponse, args: DebugProtocol.RestartArguments): void {
    void (async () => {
      const old = this.engine;
      if (!old || !this.launchArgs) return this.fail(response, ERR.notLaunched, 'restart: not launched');
      if (old.running) old.cancel();
      const next = { ...this.launchArgs, ...((args?.arguments as KctxLaunchArgs | undefined) ?? {}) };
      let engine: Engine;
      try {
        engine = await this.build(next);
      } catch (e) {
        return this.launchError(response, e);
      }
      this.launchArgs = next;
      this.engine = engine;
      this.mdb = null;
      this.terminal = null;
      this.reverifyBreakpoints();
      this.sendResponse(response);
      this.sendEvent(new OutputEvent('kctx: restarted the scenario\n', 'console'));
      this.announceThreads();
      if (next.stopOnEntry) this.reportStop('entry');
      else void this.resume('continue');
    })();
  }

  protected override terminateRequest(response: DebugProtocol.TerminateResponse): void {
    this.engine?.cancel();
    this.sendResponse(response);
    this.sendTerminated();
  }

  protected override disconnectRequest(response: DebugProtocol.DisconnectResponse, args: DebugProtocol.DisconnectArguments, request?: DebugProtocol.Request): void {
    this.engine?.cancel();
    super.disconnectRequest(response, args, request);
  }

  private sendTerminated(exitCode?: number): void {
    if (this.terminatedSent) return;
    this.terminatedSent = true;
    if (exitCode !== undefined) this.sendEvent(new ExitedEvent(exitCode));
    this.sendEvent(new TerminatedEvent());
  }

  // ------------------------------------------------------------------ breakpoints

  private static bpOut(bp: LineBp, source: DebugProtocol.Source): DebugProtocol.Breakpoint {
    const b: DebugProtocol.Breakpoint = { id: bp.id, verified: bp.verified, line: bp.line, source };
    if (bp.message) b.message = bp.message;
    if (!bp.verified) (b as { reason?: string }).reason = 'failed';
    return b;
  }

  /** Places a line breakpoint on the first statement at or after the line (or the last before). */
  private placeLine(bp: LineBp): void {
    const m = this.engine?.m;
    if (!m) {
      bp.verified = false;
      bp.message = 'pending: the scenario is not loaded yet';
      return;
    }
    if (!m.program) {
      bp.verified = false;
      bp.message = 'the scenario runs no driver C code (built-in workloads only)';
      return;
    }
    const known = m.program.sources().map((p) => Breakpoints.normPath(p));
    if (!known.includes(bp.file)) {
      bp.verified = false;
      bp.message = `${basename(bp.file)} is not one of the scenario's sources`;
      return;
    }
    const lines = m.program.statementLines(bp.file);
    const at = lines.find((l) => l >= bp.requested) ?? lines[lines.length - 1];
    if (at === undefined) {
      bp.verified = false;
      bp.message = 'no statement in this file';
      return;
    }
    bp.line = at;
    bp.verified = true;
    bp.message = undefined;
  }

  protected override setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): void {
    this.guard(response, () => {
      const path = args.source?.path;
      if (typeof path !== 'string' || !path) {
        // Listings of built-in workloads (sourceReference) and unknown sources: nothing to set.
        response.body = { breakpoints: (args.breakpoints ?? []).map((b) => ({ verified: false, line: b.line, message: 'breakpoints need a C source file of the scenario' })) };
        this.sendResponse(response);
        return;
      }
      const file = Breakpoints.normPath(path);
      const list: LineBp[] = [];
      const given: DebugProtocol.SourceBreakpoint[] = args.breakpoints ?? (args.lines ?? []).map((line) => ({ line }));
      for (const b of given) {
        if (!Number.isInteger(b.line)) throw new Error('setBreakpoints: each breakpoint needs an integer line');
        const bp: LineBp = { id: this.bps.id(), file, line: b.line, requested: b.line, verified: false, hits: 0 };
        if (b.condition && b.condition.trim()) bp.condition = b.condition;
        if (b.logMessage !== undefined) bp.log = b.logMessage;
        if (b.hitCondition && b.hitCondition.trim()) {
          try {
            bp.hit = parseHitCondition(b.hitCondition);
          } catch (e) {
            bp.message = (e as Error).message;
          }
        }
        const badHit = bp.message;
        this.placeLine(bp);
        if (badHit) {
          bp.verified = false;
          bp.message = badHit;
        }
        list.push(bp);
      }
      if (list.length) this.bps.lines.set(file, list);
      else this.bps.lines.delete(file);
      response.body = { breakpoints: list.map((bp) => KctxDebugSession.bpOut(bp, { path, name: basename(path) })) };
      this.sendResponse(response);
    });
  }

  /** After the scenario loads: verify breakpoints set before, and tell the client. */
  private reverifyBreakpoints(): void {
    for (const [file, list] of this.bps.lines) {
      for (const bp of list) {
        const before = `${bp.verified}:${bp.line}`;
        this.placeLine(bp);
        if (`${bp.verified}:${bp.line}` !== before) this.sendEvent(new BreakpointEvent('changed', KctxDebugSession.bpOut(bp, { path: file, name: basename(file) })));
      }
    }
    if (this.bps.fns.length) {
      const m = this.m();
      const again = this.bps.setFunctions(m, this.bps.fns.map((f) => ({ name: f.name, condition: f.cond?.source ?? f.cText })));
      for (const f of again) this.sendEvent(new BreakpointEvent('changed', { id: f.id, verified: f.verified, message: f.message }));
    }
  }

  protected override breakpointLocationsRequest(response: DebugProtocol.BreakpointLocationsResponse, args: DebugProtocol.BreakpointLocationsArguments): void {
    this.guard(response, () => {
      const m = this.engine?.m;
      const path = args.source?.path;
      const end = args.endLine ?? args.line;
      let lines: number[] = [];
      if (m?.program && path) lines = m.program.statementLines(Breakpoints.normPath(path)).filter((l) => l >= args.line && l <= end);
      response.body = { breakpoints: lines.map((line) => ({ line })) };
      this.sendResponse(response);
    });
  }

  protected override setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): void {
    this.guard(response, () => {
      const list = (args.breakpoints ?? []).map((b) => ({ name: String(b?.name ?? ''), condition: b?.condition, hitCondition: b?.hitCondition }));
      const fns = this.bps.setFunctions(this.engine?.m ?? null, list);
      response.body = { breakpoints: fns.map((f) => ({ id: f.id, verified: f.verified, message: f.message, ...(f.verified ? {} : { reason: 'failed' }) }) as DebugProtocol.Breakpoint) };
      this.sendResponse(response);
    });
  }

  protected override setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse, args: DebugProtocol.SetExceptionBreakpointsArguments): void {
    this.guard(response, () => {
      const list: Array<{ id: string; condition?: string }> = [];
      for (const f of args.filters ?? []) if (typeof f === 'string') list.push({ id: f });
      for (const o of args.filterOptions ?? []) if (o && typeof o.filterId === 'string') list.push({ id: o.filterId, condition: o.condition });
      const res = this.bps.setFilters(list);
      response.body = { breakpoints: res.map((r) => ({ verified: r.verified, message: r.message })) };
      this.sendResponse(response);
    });
  }

  protected override dataBreakpointInfoRequest(response: DebugProtocol.DataBreakpointInfoResponse, args: DebugProtocol.DataBreakpointInfoArguments): void {
    this.guard(response, () => {
      const none = (why: string) => {
        response.body = { dataId: null, description: why };
        this.sendResponse(response);
      };
      if (!this.engine) return none('not launched');
      let view: { name: string; addr?: number; size?: number } | undefined;
      if (args.variablesReference) {
        const ref = this.vars.get(args.variablesReference);
        if (ref?.k === 'cvals') view = ref.list().find((v) => v.name === args.name);
      } else if (args.name && this.m().program) {
        try {
          view = this.m().program!.evaluate(this.m(), undefined, undefined, args.name, false);
          view = { ...view, name: args.name };
        } catch {
          view = undefined;
        }
      }
      if (!view || view.addr === undefined || !view.size) return none(`${args.name}: only driver variables (globals, locals, struct members) can be watched`);
      const size = Math.min(view.size, 64);
      response.body = { dataId: `${view.addr}:${size}:${view.name}`, description: `${view.name} (${size} bytes at ${formatAddr(view.addr)})`, accessTypes: ['write'], canPersist: false };
      this.sendResponse(response);
    });
  }

  protected override setDataBreakpointsRequest(response: DebugProtocol.SetDataBreakpointsResponse, args: DebugProtocol.SetDataBreakpointsArguments): void {
    this.guard(response, () => {
      this.bps.data = [];
      const out: DebugProtocol.Breakpoint[] = [];
      for (const b of args.breakpoints ?? []) {
        const mt = /^(\d+):(\d+):(.*)$/.exec(String(b?.dataId ?? ''));
        if (!mt || (b.accessType && b.accessType !== 'write')) {
          out.push({ verified: false, message: mt ? 'only writes can be watched' : `bad dataId '${String(b?.dataId)}'` });
          continue;
        }
        const id = this.bps.id();
        const db = { id, dataId: b.dataId, addr: Number(mt[1]), size: Number(mt[2]), description: mt[3]!, condition: b.condition, hits: 0, hit: b.hitCondition ? parseHitCondition(b.hitCondition) : undefined };
        this.bps.data.push(db);
        out.push({ id, verified: true, message: `${db.description} (break on write)` });
      }
      if (this.engine) this.m().setWatchpoints(this.bps.data.map((d) => ({ id: d.id, addr: d.addr, size: d.size })));
      response.body = { breakpoints: out };
      this.sendResponse(response);
    });
  }

  // ------------------------------------------------------------------ execution

  /** Execution requests need a live session that is stopped. */
  private canRun(response: DebugProtocol.Response): Engine | null {
    const e = this.need(response, { stopped: true });
    if (!e) return null;
    if (this.terminatedSent) {
      this.fail(response, ERR.ended, `${response.command}: the run is over (terminated)`, false);
      return null;
    }
    return e;
  }

  protected override continueRequest(response: DebugProtocol.ContinueResponse): void {
    if (!this.canRun(response)) return;
    response.body = { allThreadsContinued: true };
    this.sendResponse(response);
    void this.resume('continue');
  }

  protected override nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): void {
    this.stepCommon(response, 'next', args.threadId);
  }

  protected override stepInRequest(response: DebugProtocol.StepInResponse, args: DebugProtocol.StepInArguments): void {
    this.stepCommon(response, 'in', args.threadId);
  }

  protected override stepOutRequest(response: DebugProtocol.StepOutResponse, args: DebugProtocol.StepOutArguments): void {
    this.stepCommon(response, 'out', args.threadId);
  }

  protected override stepBackRequest(response: DebugProtocol.StepBackResponse, args: DebugProtocol.StepBackArguments): void {
    this.stepCommon(response, 'back', args.threadId);
  }

  protected override reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse): void {
    if (!this.canRun(response)) return;
    this.sendResponse(response);
    void this.resume('reverse');
  }

  private stepCommon(response: DebugProtocol.Response, kind: 'next' | 'in' | 'out' | 'back', threadIdArg: unknown): void {
    const e = this.canRun(response);
    if (!e) return;
    const m = e.m;
    let addr = e.cur.thread;
    if (threadIdArg !== undefined) {
      if (typeof threadIdArg !== 'number') return this.fail(response, ERR.noThread, `${response.command}: threadId must be a number`, false);
      const t = findThread(m, threadIdArg);
      // A thread that is gone (it exited) steps as the current thread.
      if (t) addr = t.addr;
      else if (!this.reportedThreads.has(threadIdArg)) return this.fail(response, ERR.noThread, `${response.command}: no thread ${threadIdArg}`, false);
    }
    this.sendResponse(response);
    void this.resume(kind, addr);
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    const e = this.need(response);
    if (!e) return;
    this.sendResponse(response);
    if (e.running) e.pause();
    else this.reportStop('pause');
  }

  private running = false;
  /** Where the last travel (a click on the Schedule) went. */
  private travelledTo: { tick: number; cpu: number } | null = null;

  private async resume(kind: 'continue' | 'next' | 'in' | 'out' | 'back' | 'reverse' | 'travel', thread?: number, to?: { tick: number; cpu: number }): Promise<void> {
    const e = this.engine!;
    if (this.running) return;
    this.vars.reset();
    this.frames.reset();
    if (this.terminal && kind !== 'back' && kind !== 'reverse' && kind !== 'travel') {
      // The run is over (end, panic, hang): going on ends the session.
      this.sendTerminated(this.terminal.code);
      return;
    }
    this.running = true;
    let o: Outcome;
    const slow = (ms: number) => this.progress(kind === 'back' || kind === 'reverse' ? 'Replaying the run backwards' : 'Running', ms);
    try {
      switch (kind) {
        case 'continue': o = await e.continue(slow); break;
        case 'next': case 'in': case 'out': o = await e.step(kind, thread ?? e.cur.thread, slow); break;
        case 'back': o = await e.reverse('step', thread ?? e.cur.thread, slow); break;
        case 'reverse': o = await e.reverse('continue', thread ?? e.cur.thread, slow); break;
        case 'travel': o = await e.travel(to!.tick * e.m.cfg.tickCycles, to!.cpu, thread ?? e.cur.thread, slow); break;
      }
    } catch (err) {
      this.running = false;
      this.progressDone();
      this.sendEvent(new OutputEvent(`kctx: internal error: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`, 'stderr'));
      this.reportStop('pause', 'internal error (see the console)');
      return;
    }
    this.running = false;
    this.progressDone();
    this.flushFlow();
    if (this.engine !== e || o.kind === 'cancelled') return;
    if ((kind === 'back' || kind === 'reverse' || kind === 'travel') && o.kind === 'stopped') this.terminal = null;
    if (kind === 'travel' && o.kind === 'stopped') this.travelledTo = to!;
    this.finish(o);
  }

  /**
   * Reports an outcome: a stop, or the end of the run. Where to stop is the engine's and the
   * breakpoints' decision (Engine.atEnd); here it is only said: the console text, then a
   * stopped event (`o.stop`: the run is over, continuing ends the session) or the end.
   */
  private finish(o: Outcome): void {
    const e = this.engine!;
    if (o.kind === 'stopped') return this.reportStop(e.cur.reason);
    if (o.kind === 'cancelled') return;
    const m = e.m;
    switch (o.kind) {
      case 'end': {
        const leaks = o.leaks;
        const summary = `kctx: the scenario ended at tick ${m.lbolt}: ${m.stats.switches} context switches, ${m.stats.hooks} ctxop hook calls, ${m.stats.steps} steps${leaks?.count ? `; ${leaks.count} leaked buffer(s), ${leaks.bytes} bytes` : ''}\n`;
        this.sendEvent(new OutputEvent(summary, 'console'));
        if (o.stop && leaks) this.timeline?.addMark(0, 'leak', `${leaks.count} buffer(s)`);
        break;
      }
      case 'panic':
        this.sendEvent(new OutputEvent(formatPanic(m).join('\n') + '\n', 'stderr'));
        break;
      case 'deadlock':
        this.sendEvent(new OutputEvent(`kctx: the kernel hung: ${o.message}\n`, 'stderr'));
        break;
      case 'limit':
        this.sendEvent(new OutputEvent(`kctx: ${e.cur.decision?.message ?? e.bps.atLimit(e.maxSteps).message}\n`, 'stderr'));
        break;
    }
    if (!o.stop) return this.sendTerminated(exitCode(o));
    this.terminal = { code: exitCode(o) };
    this.reportStop('exception');
  }


  /** Thread started/exited events for changes in the visible thread list. */
  private announceThreads(): void {
    const m = this.m();
    const now = new Set(visibleThreads(m, this.showIdle).map((t) => threadId(t)));
    for (const id of now) if (!this.reportedThreads.has(id)) this.sendEvent(new ThreadEvent('started', id));
    for (const id of this.reportedThreads) if (!now.has(id)) this.sendEvent(new ThreadEvent('exited', id));
    this.reportedThreads = now;
  }

  private reportStop(reason: string, note?: string): void {
    const e = this.engine!;
    this.vars.reset();
    this.frames.reset();
    this.announceThreads();
    const d = e.cur.decision;
    let t = e.m.byAddr.get(e.cur.thread);
    if (!t || (t.isIdle && !this.showIdle)) t = visibleThreads(e.m, this.showIdle).find((x) => x.cpu >= 0 && e.m.cpus[x.cpu]?.thread === x) ?? visibleThreads(e.m, this.showIdle)[0];
    if (reason === 'pause' || reason === 'entry') e.cur.reason = reason;
    const ev = new StoppedEvent(reason, t ? threadId(t) : undefined) as DebugProtocol.StoppedEvent;
    ev.body.allThreadsStopped = true;
    const point = e.cur.point;
    let description = d?.description;
    let text = d?.text;
    if (!description) {
      if (reason === 'entry') description = 'Paused on entry (before the first thread runs)';
      else if (reason === 'pause') description = note ? `Paused: ${note}` : 'Paused';
      else if (reason === 'step') description = 'Paused after a step';
      else if (reason === 'goto' && this.travelledTo) description = `Travelled to tick ${this.travelledTo.tick} on cpu${this.travelledTo.cpu}`;
    }
    if (!text && point && (reason === 'step' || reason === 'pause')) {
      if (point.kind === 'swtch') text = `at swtch: ${point.from?.name} -> ${point.to?.name}`;
      else if (point.kind === 'hook') text = `at the ctxop ${point.op} hook ${point.handler}`;
      else if (point.kind === 'function') text = `calling ${point.name}`;
    }
    if (description) ev.body.description = description;
    if (text) ev.body.text = text;
    if (d?.hitIds?.length) ev.body.hitBreakpointIds = d.hitIds;
    ev.body.preserveFocusHint = false;
    this.sendEvent(ev);
  }

  // ------------------------------------------------------------------ output

  private flowLine(l: string): void {
    if (this.flowLines.length < 5000) this.flowLines.push(l);
    else this.flowDropped++;
  }

  private flushFlow(): void {
    if (!this.flowLines.length) return;
    const n = this.flowLines.length + this.flowDropped;
    const head = new OutputEvent(`flow trace (${n} lines)\n`, 'console') as DebugProtocol.OutputEvent;
    head.body.group = 'startCollapsed';
    this.sendEvent(head);
    let text = this.flowLines.join('\n') + '\n';
    if (this.flowDropped) text += `... ${this.flowDropped} more lines (kctx run SCENARIO --trace flow prints them all)\n`;
    this.sendEvent(new OutputEvent(text, 'console'));
    const end = new OutputEvent('', 'console') as DebugProtocol.OutputEvent;
    end.body.group = 'end';
    this.sendEvent(end);
    this.flowLines = [];
    this.flowDropped = 0;
  }

  private progressId: string | null = null;
  private progressAt = 0;

  private progress(title: string, ms: number): void {
    if (!this.client.supportsProgressReporting || ms < 300) return;
    const m = this.m();
    const msg = `tick ${m.lbolt}, ${m.stats.switches} switches, ${m.stats.steps} steps`;
    if (!this.progressId) {
      this.progressId = `kctx-${++this.progressSeq}`;
      this.progressAt = performance.now();
      this.sendEvent(new ProgressStartEvent(this.progressId, title, msg));
    } else if (performance.now() - this.progressAt > 250) {
      this.progressAt = performance.now();
      this.sendEvent(new ProgressUpdateEvent(this.progressId, msg));
    }
  }

  private progressDone(): void {
    if (!this.progressId) return;
    this.sendEvent(new ProgressEndEvent(this.progressId));
    this.progressId = null;
  }

  // ------------------------------------------------------------------ threads, stacks

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    if (!this.engine) {
      response.body = { threads: [] };
      this.sendResponse(response);
      return;
    }
    const m = this.m();
    response.body = { threads: visibleThreads(m, this.showIdle).map((t) => new Thread(threadId(t), threadLabel(m, t))) };
    this.sendResponse(response);
  }

  /** The sourceReference of a generated listing (made once per name and session). */
  private listingRef(name: string, lines: () => string[]): number {
    let ref = this.sourceRefs.get(name);
    if (!ref) {
      ref = this.sourceRefs.size + 1000;
      this.sourceRefs.set(name, ref);
      this.sourceTexts.set(ref, lines().join('\n') + '\n');
    }
    return ref;
  }

  private sourceFor(f: ViewFrame): DebugProtocol.Source | undefined {
    if ((f.kind === 'c' || f.kind === 'kernel') && f.file) return new Source(basename(f.file), f.file);
    if (f.kind === 'builtin' && f.program) {
      const name = `builtin:${f.program}`;
      const s = new Source(name, undefined, this.listingRef(name, () => builtinListing(this.m(), f.program!)), 'kctx', 'builtin') as DebugProtocol.Source;
      s.presentationHint = 'deemphasize';
      return s;
    }
    if ((f.kind === 'kernel' || f.kind === 'entering') && hasKernelSource(f.name, this.m())) {
      // The simulated kernel's logic as pseudo-C (kernel-source.ts), one listing per function and
      // session; named FUNCTION.c so that the editor colours it as C, the origin says what it is.
      const ref = this.listingRef(`kernel:${f.name}`, () => kernelListing(this.m(), f.name));
      return new Source(`${f.name}.c`, undefined, ref, 'kctx simulated kernel (read-only pseudo-C)', 'kernel') as DebugProtocol.Source;
    }
    return undefined;
  }

  protected override stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): void {
    const e = this.need(response, { stopped: true });
    if (!e) return;
    this.guard(response, () => {
      const m = e.m;
      const t = typeof args.threadId === 'number' ? findThread(m, args.threadId) : undefined;
      if (!t) {
        response.body = { stackFrames: [], totalFrames: 0 };
        this.sendResponse(response);
        return;
      }
      // A leak stop: the stack shown is the first leak's allocation stack (its bufctl's), with
      // the driver's C lines, where ::findleaks says it was allocated.
      const leak = e.cur.decision?.filter === 'leak' && t.addr === e.cur.thread ? e.cur.leaks?.stack : undefined;
      const all: ViewFrame[] = leak
        ? leak.map((x) => ({ name: x.name, args: [], kind: 'kernel' as const, frameIndex: -1, file: x.file, line: x.line, column: x.file ? 1 : undefined }))
        : viewFrames(m, t, enteringAt(m, e.cur.point, e.cur.decision, t));
      const start = Math.max(0, Number(args.startFrame ?? 0) || 0);
      const levels = Number(args.levels ?? 0) || all.length;
      const page = all.slice(start, start + levels);
      response.body = {
        totalFrames: all.length,
        stackFrames: page.map((f) => {
          const id = this.frames.create({ thread: t.addr, frame: f });
          const args2 = f.args.length ? `(${f.args.map((a) => formatAddr(a)).join(', ')})` : '';
          const name = f.kind === 'c' ? f.name : `${f.name}${args2}`;
          let line = f.line ?? 0;
          let column = f.column ?? 0;
          const src = this.sourceFor(f);
          if (src && (f.kind === 'kernel' || f.kind === 'entering') && hasKernelSource(f.name, m)) {
            line = f.mark !== undefined ? kernelLineOf(m, f.name, f.mark) : kernelLine(m, f.name, f.frameIndex >= 0 ? t.stack[f.frameIndex] : undefined, f.frameIndex >= 0 && f.frameIndex < t.stack.length - 1);
            column = 1;
          }
          const sf = new StackFrame(id, name, undefined, line, column) as DebugProtocol.StackFrame;
          if (src) sf.source = src;
          // Frames a user rarely needs are subtle, except on the stopped thread (never folded away).
          if (f.kind === 'kernel' && RARE_FRAMES.has(f.name) && t.addr !== e.cur.thread) sf.presentationHint = 'subtle';
          if (f.kind === 'entering') sf.presentationHint = 'normal';
          return sf;
        }),
      };
      this.sendResponse(response);
    });
  }

  protected override sourceRequest(response: DebugProtocol.SourceResponse, args: DebugProtocol.SourceArguments): void {
    const ref = args.source?.sourceReference ?? args.sourceReference;
    const text = ref ? this.sourceTexts.get(ref) : undefined;
    if (text === undefined) return this.fail(response, ERR.bad, `source: no source with reference ${String(ref)}`, false);
    response.body = { content: text, mimeType: 'text/plain' };
    this.sendResponse(response);
  }

  // ------------------------------------------------------------------ scopes, variables

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    const e = this.need(response, { stopped: true });
    if (!e) return;
    this.guard(response, () => {
      const fr = this.frames.get(args.frameId);
      if (!fr) throw new Error(`scopes: no frame ${args.frameId}`);
      const m = e.m;
      const t = m.byAddr.get(fr.thread);
      if (!t) throw new Error('scopes: the thread is gone');
      const scopes: DebugProtocol.Scope[] = [];
      const f = fr.frame;
      if (f.kind === 'c' && m.program) {
        const cf = t.stack[f.frameIndex]!;
        const info = m.program.frameInfo(m, t, cf);
        const s = new Scope('Locals', this.vars.create({ k: 'cvals', list: () => [...info.params, ...info.locals], thread: t.addr, frameIndex: f.frameIndex }), false) as DebugProtocol.Scope;
        s.presentationHint = 'locals';
        s.namedVariables = info.params.length + info.locals.length;
        scopes.push(s);
      } else if (f.kind === 'builtin') {
        const s = new Scope('Locals', this.vars.create({ k: 'bvars', addr: t.addr, frameIndex: f.frameIndex }), false) as DebugProtocol.Scope;
        s.presentationHint = 'locals';
        scopes.push(s);
      }
      if (m.program) scopes.push(new Scope('Globals', this.vars.create({ k: 'cvals', list: () => m.program!.globals(m) }), true));
      scopes.push(new Scope(`Thread ${t.name} (kthread_t)`, this.vars.create({ k: 'thread', addr: t.addr }), false));
      const cpuId = t.cpu >= 0 ? t.cpu : 0;
      scopes.push(new Scope(`CPU ${cpuId} (cpu_t)`, this.vars.create({ k: 'cpu', id: cpuId }), true));
      response.body = { scopes };
      this.sendResponse(response);
    });
  }

  private cvar(v: CValueView, ref?: VarRef): DebugProtocol.Variable {
    const out: DebugProtocol.Variable = { name: v.name, value: v.value, type: v.type, variablesReference: 0 };
    if (v.children) out.variablesReference = this.vars.create({ k: 'cvals', list: v.children, thread: ref && ref.k === 'cvals' ? ref.thread : undefined, frameIndex: ref && ref.k === 'cvals' ? ref.frameIndex : undefined });
    if (v.addr !== undefined) out.memoryReference = formatAddr(v.addr);
    return out;
  }

  private fieldVar(f: FieldView): DebugProtocol.Variable {
    return { name: f.name, value: f.value, type: f.type, variablesReference: 0, memoryReference: formatAddr(f.addr) };
  }

  protected override variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): void {
    const e = this.need(response, { stopped: true });
    if (!e) return;
    this.guard(response, () => {
      const ref = this.vars.get(args.variablesReference);
      if (!ref) throw new Error(`variables: no variables with reference ${args.variablesReference} (they expire at each step)`);
      const m = e.m;
      let out: DebugProtocol.Variable[] = [];
      switch (ref.k) {
        case 'cvals':
          out = ref.list().map((v) => this.cvar(v, ref));
          break;
        case 'thread': {
          const t = m.byAddr.get(ref.addr);
          if (!t) throw new Error('variables: the thread is gone');
          const fields = threadFields(m, t);
          const ctx = fields.findIndex((f) => f.name === 't_ctx');
          const ring = ringNewestFirst(m, t);
          out = fields.map((f) => this.fieldVar(f));
          out.splice(ctx + 1, 0, {
            name: 'ctxops (save order)', value: ring.length ? `${ring.length} ctxop(s): ${ctxopsOf(m, t).map((c) => c.save ?? c.restore ?? c.free ?? '?').join(', ')}` : 'none',
            variablesReference: ring.length ? this.vars.create({ k: 'ctxops', addr: t.addr }) : 0, indexedVariables: ring.length,
          });
          out.unshift({ name: 'state', value: `${stateName(m.tState(t))}${t.blockedOn ? ` (blocked on ${t.blockedOn.kind})` : ''}`, variablesReference: 0 });
          out.unshift({ name: 'address', value: formatAddr(t.addr), variablesReference: 0, memoryReference: formatAddr(t.addr) });
          break;
        }
        case 'ctxops': {
          const t = m.byAddr.get(ref.addr);
          const ring = t ? ringNewestFirst(m, t) : [];
          const views = t ? ctxopsOf(m, t) : [];
          out = ring.map((c, i) => ({
            name: `[${i}]`, value: `${formatAddr(c)}: ${views[i]?.save ?? '-'} / ${views[i]?.restore ?? '-'} arg=${views[i]?.arg ?? '0'}`,
            variablesReference: this.vars.create({ k: 'ctxop', ctx: c }), memoryReference: formatAddr(c), type: 'struct ctxop *',
          }));
          break;
        }
        case 'ctxop':
          out = structFields(m, ctxopLayout(m), ref.ctx).map((f) => this.fieldVar(f));
          break;
        case 'cpu': {
          const cpu = m.cpus[ref.id];
          if (!cpu) throw new Error(`variables: no cpu ${ref.id}`);
          out = cpuFields(m, ref.id).map((f) => this.fieldVar(f));
          out.push({ name: 'run queue', value: cpu.runq.length ? cpu.runq.map((t) => t.name).join(', ') : 'empty', variablesReference: cpu.runq.length ? this.vars.create({ k: 'runq', id: ref.id }) : 0, indexedVariables: cpu.runq.length });
          break;
        }
        case 'runq': {
          const cpu = m.cpus[ref.id];
          out = (cpu?.runq ?? []).map((t, i) => ({ name: `[${i}]`, value: `${t.name} ${formatAddr(t.addr)} pri ${m.tPri(t)}`, variablesReference: this.vars.create({ k: 'thread', addr: t.addr }) }));
          break;
        }
        case 'bvars': {
          const t = m.byAddr.get(ref.addr);
          const f = t?.stack[ref.frameIndex];
          const vars = (f?.vars ?? {}) as Record<string, number>;
          out = Object.entries(vars).map(([k, v]) => ({ name: k, value: v > 0xffff ? formatAddr(v) : String(v), variablesReference: 0, ...(v > 0xffff && m.mem.isMapped(v) ? { memoryReference: formatAddr(v) } : {}) }));
          if (f) out.push({ name: 'iteration', value: String(f.iter ?? 0), variablesReference: 0 }, { name: 'iterations', value: String(f.arg ?? 0), variablesReference: 0 });
          break;
        }
      }
      const start = Number(args.start ?? 0) || 0;
      if (args.count) out = out.slice(start, start + args.count);
      else if (start) out = out.slice(start);
      response.body = { variables: out };
      this.sendResponse(response);
    });
  }

  protected override setVariableRequest(response: DebugProtocol.SetVariableResponse, args: DebugProtocol.SetVariableArguments): void {
    const e = this.need(response, { stopped: true });
    if (!e) return;
    this.guard(response, () => {
      const ref = this.vars.get(args.variablesReference);
      if (!ref || ref.k !== 'cvals') throw new Error(`setVariable: only driver C variables can be changed (not kernel state)`);
      const v = ref.list().find((x) => x.name === args.name);
      if (!v) throw new Error(`setVariable: no variable '${args.name}'`);
      if (!v.set) throw new Error(`setVariable: '${args.name}' cannot be assigned`);
      const nv = v.set(String(args.value));
      e.historyChanged();
      response.body = { value: nv.value, type: nv.type, variablesReference: 0 };
      if (nv.children) response.body.variablesReference = this.vars.create({ k: 'cvals', list: nv.children });
      if (nv.addr !== undefined) response.body.memoryReference = formatAddr(nv.addr);
      this.sendResponse(response);
      if (this.client.supportsInvalidatedEvent) this.sendEvent(new InvalidatedEvent(['variables']));
    });
  }

  // ------------------------------------------------------------------ evaluate, completions

  /** mdb syntax: `::dcmd`, `addr::dcmd`, `$c`, `addr/fmt`, pipelines. */
  static isMdb(expr: string): boolean {
    const s = expr.trim();
    if (s.startsWith('::') || s.startsWith('$') || s.startsWith('>')) return true;
    if (/::\s*\w/.test(s)) return true;
    if (/^(0x)?[0-9a-fA-F]{6,}\s*(,\s*\w+)?\s*[/=?]\s*[A-Za-z]*$/.test(s)) return true;
    // symbol/FMT, symbol,count/FMT, symbol+off/FMT, dot/FMT: written without spaces around the
    // slash and with only mdb format characters after it (`vmm_vcpus_done/D`, `gs,4/X`).
    // `a / b`, with spaces, stays C division.
    const f = /^[A-Za-z_.][\w.`]*(?:[+-](?:0x)?[0-9a-fA-F]+)?(?:,\w+)?\/((?:\d*[A-Za-z+^-])+)$/.exec(s);
    if (f && [...f[1]!.replace(/\d+/g, '')].every((c) => c in FORMATS)) return true;
    return /^\w+`\w+/.test(s);
  }

  private mdbEngine(): { execute(line: string): string } {
    const m = this.m();
    if (!this.mdb || this.mdb.m !== m) this.mdb = { m, engine: createMdb(m) };
    return this.mdb.engine;
  }

  private runMdb(cmd: string): string {
    const e = this.engine!;
    const before = e.m.mem.u8.slice(0, e.m.mem.top);
    const out = this.mdbEngine().execute(cmd);
    if (changed(before, e.m.mem.u8, e.m.mem.top)) e.historyChanged();
    return out;
  }

  /**
   * After ::findleaks in the Debug Console: one line per leak caller with its C source line on
   * the output event (the console shows it as a link to that line).
   */
  private linkLeakCallers(): void {
    for (const s of leakCallerSites(this.m())) {
      const ev = new OutputEvent(`  ${s.caller} allocated at ${basename(s.file)}:${s.line}\n`, 'console') as DebugProtocol.OutputEvent;
      ev.body.source = new Source(basename(s.file), s.file);
      ev.body.line = s.line;
      this.sendEvent(ev);
    }
  }

  protected override evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): void {
    const e = this.need(response, { stopped: true });
    if (!e) return;
    const expr = String(args.expression ?? '');
    try {
      if (args.context === 'repl' && KctxDebugSession.isMdb(expr)) {
        const out = this.runMdb(expr).replace(/\n$/, '');
        // In colour for a console that renders ANSI (VS Code's Debug Console), plain otherwise.
        response.body = { result: this.client.supportsANSIStyling ? colourMdb(out) : out, variablesReference: 0 };
        this.sendResponse(response);
        if (/::\s*findleaks\b/.test(expr)) this.linkLeakCallers();
        if (this.client.supportsInvalidatedEvent) this.sendEvent(new InvalidatedEvent(['variables']));
        return;
      }
      const m = e.m;
      if (!m.program) {
        const k = this.kernelValue(expr);
        if (k !== undefined) {
          response.body = { result: k, variablesReference: 0 };
          this.sendResponse(response);
          return;
        }
        throw new Error(`no driver C code in this scenario: use mdb (::threadlist, ::ctxops, $c) or curthread, lbolt`);
      }
      let t: KThread | undefined;
      let frameIndex: number | undefined;
      const fr = args.frameId !== undefined ? this.frames.get(args.frameId) : undefined;
      if (fr) {
        t = m.byAddr.get(fr.thread);
        if (fr.frame.kind === 'c') frameIndex = fr.frame.frameIndex;
      } else {
        t = m.byAddr.get(e.cur.thread);
        const top = t ? viewFrames(m, t, null).find((f) => f.kind === 'c') : undefined;
        if (top) frameIndex = top.frameIndex;
      }
      const sideEffects = args.context === 'repl';
      const before = sideEffects ? m.mem.u8.slice(0, m.mem.top) : null;
      let v: CValueView;
      try {
        v = m.program.evaluate(m, t, frameIndex, expr, sideEffects);
      } catch (err) {
        const k = this.kernelValue(expr);
        if (k === undefined) throw err;
        response.body = { result: k, variablesReference: 0 };
        this.sendResponse(response);
        return;
      }
      if (before && changed(before, m.mem.u8, m.mem.top)) {
        e.historyChanged();
        if (this.client.supportsInvalidatedEvent) this.sendEvent(new InvalidatedEvent(['variables']));
      }
      const out = this.cvar(v);
      response.body = { result: v.value, type: v.type, variablesReference: out.variablesReference, memoryReference: out.memoryReference };
      this.sendResponse(response);
    } catch (err) {
      this.fail(response, ERR.eval, (err as Error).message, false);
    }
  }

  /** A few kernel names usable without C: curthread, lbolt, a thread name. */
  private kernelValue(expr: string): string | undefined {
    const e = this.engine!;
    const m = e.m;
    const s = expr.trim();
    const t = m.byAddr.get(e.cur.thread);
    if (s === 'curthread' && t) return `${formatAddr(t.addr)} (${t.name})`;
    if (s === 'lbolt' || s === 'ddi_get_lbolt()') return String(m.lbolt);
    if (s === 'curthread->t_preempt' && t) return String(m.tPreempt(t));
    if (s === 'curthread->t_pri' && t) return String(m.tPri(t));
    const byName = m.threadByName(s);
    if (byName) return `${formatAddr(byName.addr)} (${stateName(m.tState(byName))})`;
    const sym = m.sym.lookup(s);
    if (sym) return `${formatAddr(sym.addr)} <${sym.name}> (${sym.kind === 'c' ? 'driver C function' : `${sym.module} function`})`;
    return undefined;
  }

  protected override completionsRequest(response: DebugProtocol.CompletionsResponse, args: DebugProtocol.CompletionsArguments): void {
    this.guard(response, () => {
      const text = String(args.text ?? '');
      const col = Math.max(0, Math.min(text.length, (args.column ?? text.length + 1) - 1));
      const before = text.slice(0, col);
      const targets: DebugProtocol.CompletionItem[] = [];
      const dm = /::(\w*)$/.exec(before);
      if (dm) {
        for (const n of DCMD_NAMES()) if (n.startsWith(dm[1]!)) targets.push({ label: n, text: n, type: 'function', start: col - dm[1]!.length, length: dm[1]!.length });
      } else {
        const im = /([A-Za-z_]\w*)$/.exec(before);
        const prefix = im ? im[1]! : '';
        const seen = new Set<string>();
        const add = (n: string, type: DebugProtocol.CompletionItemType) => {
          if (seen.has(n) || !n.startsWith(prefix)) return;
          seen.add(n);
          targets.push({ label: n, text: n, type, start: col - prefix.length, length: prefix.length });
        };
        const m = this.engine?.m;
        if (m?.program) for (const n of m.program.symbols()) add(n, 'variable');
        if (m) for (const s of m.sym.all()) if (s.kind === 'c') add(s.name, 'function');
        for (const n of ['curthread', 'lbolt']) add(n, 'keyword');
        if (!before.trim()) for (const n of DCMD_NAMES().slice(0, 200)) add('::' + n, 'function');
      }
      response.body = { targets: targets.slice(0, 500) };
      this.sendResponse(response);
    });
  }

  protected override exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse, args: DebugProtocol.ExceptionInfoArguments): void {
    const e = this.need(response, { stopped: true });
    if (!e) return;
    const d = e.cur.decision;
    // Exceptions (panics, failed assertions, hazards, leaks), and the switch and hook filters'
    // breakpoint-like stops, whose explanation is asked for the same way.
    if (!d || (e.cur.reason !== 'exception' && !d.filter)) return this.fail(response, ERR.bad, 'exceptionInfo: the last stop was not an exception', false);
    const m = e.m;
    const t = findThread(m, args.threadId) ?? m.byAddr.get(e.cur.thread);
    const p = e.cur.point;
    const panic = d.filter === 'panic' || d.filter === 'assert';
    const stack = panic ? (e.cur.panic?.stack ?? []).join('\n') : t ? stackText(m, t) : '';
    let detail = d.message ?? d.text ?? '';
    if (p?.kind === 'hook' && p.ctx) {
      const ring = p.thread ? ctxopsOf(m, p.thread) : [];
      detail += `\nctxop ring of ${p.thread?.name} (save order): ${ring.map((c) => `${c.addr} ${c.save ?? '-'}/${c.restore ?? '-'}`).join(', ')}`;
    }
    response.body = {
      exceptionId: d.filter ?? 'step-limit',
      // A panic's description is its message (what VS Code's exception widget shows first).
      description: panic && d.message ? d.message : d.description.replace(/^Paused on |^Paused: /, ''),
      breakMode: 'always',
      details: { message: detail, typeName: d.filter ?? 'kctx', stackTrace: stack, evaluateName: t?.name },
    };
    this.sendResponse(response);
  }

  // ------------------------------------------------------------------ memory

  protected override readMemoryRequest(response: DebugProtocol.ReadMemoryResponse, args: DebugProtocol.ReadMemoryArguments): void {
    const e = this.need(response, { stopped: true });
    if (!e) return;
    this.guard(response, () => {
      const base = parseAddr(String(args.memoryReference ?? ''));
      if (base === undefined) throw new Error(`readMemory: '${String(args.memoryReference)}' is not an address`);
      const start = base + (Number(args.offset ?? 0) || 0);
      const count = Math.max(0, Math.min(Number(args.count) || 0, 1 << 20));
      const m = e.m;
      let n = 0;
      while (n < count && m.mem.isMapped(start + n)) n++;
      const bytes = n ? m.mem.u8.slice(start, start + n) : new Uint8Array(0);
      response.body = { address: formatAddr(start) || '0', data: Buffer.from(bytes).toString('base64'), unreadableBytes: count - n };
      this.sendResponse(response);
    });
  }

  // ------------------------------------------------------------------ not supported

  private unsupported(response: DebugProtocol.Response): void {
    this.fail(response, 1014, `${response.command}: not supported by the kctx debug adapter`, false);
  }
  protected override restartFrameRequest(r: DebugProtocol.RestartFrameResponse): void { this.unsupported(r); }
  protected override gotoRequest(r: DebugProtocol.GotoResponse): void { this.unsupported(r); }
  protected override gotoTargetsRequest(r: DebugProtocol.GotoTargetsResponse): void { this.unsupported(r); }
  protected override terminateThreadsRequest(r: DebugProtocol.TerminateThreadsResponse): void { this.unsupported(r); }
  protected override setExpressionRequest(r: DebugProtocol.SetExpressionResponse): void { this.unsupported(r); }
  protected override stepInTargetsRequest(r: DebugProtocol.StepInTargetsResponse): void { this.unsupported(r); }
  protected override loadedSourcesRequest(r: DebugProtocol.LoadedSourcesResponse): void { this.unsupported(r); }
  protected override writeMemoryRequest(r: DebugProtocol.WriteMemoryResponse): void { this.unsupported(r); }
  protected override disassembleRequest(r: DebugProtocol.DisassembleResponse): void { this.unsupported(r); }
  protected override cancelRequest(r: DebugProtocol.CancelResponse): void { this.unsupported(r); }
  protected override setInstructionBreakpointsRequest(r: DebugProtocol.SetInstructionBreakpointsResponse): void { this.unsupported(r); }

  // ------------------------------------------------------------------ custom requests

  protected override customRequest(command: string, response: DebugProtocol.Response, args: unknown): void {
    switch (command) {
      case 'kctx/mdb': {
        const e = this.need(response, { stopped: true });
        if (!e) return;
        const cmd = (args as { command?: unknown } | undefined)?.command;
        if (typeof cmd !== 'string') return this.fail(response, ERR.bad, 'kctx/mdb: give {"command": "::threadlist"}', false);
        this.guard(response, () => {
          response.body = { output: this.runMdb(cmd) };
          this.sendResponse(response);
        });
        return;
      }
      case 'kctx/state': {
        const e = this.need(response, { stopped: true });
        if (!e) return;
        this.guard(response, () => {
          response.body = kctxState(e.m, this.showIdle);
          this.sendResponse(response);
        });
        return;
      }
      case 'kctx/travel': {
        // A click on the Schedule: travel to that tick on that CPU (backwards or forwards),
        // the stop reported on the thread clicked.
        const e = this.canRun(response);
        if (!e) return;
        const a = (args ?? {}) as { tick?: unknown; cpu?: unknown; threadId?: unknown };
        if (typeof a.tick !== 'number' || !(a.tick >= 0) || typeof a.cpu !== 'number' || !e.m.cpus[a.cpu]) return this.fail(response, ERR.bad, 'kctx/travel: give {"tick": N, "cpu": C[, "threadId": T]}', false);
        const t = typeof a.threadId === 'number' ? findThread(e.m, a.threadId) : undefined;
        this.sendResponse(response);
        void this.resume('travel', t?.addr, { tick: a.tick, cpu: a.cpu });
        return;
      }
      case 'kctx/timeline': {
        const e = this.need(response, { stopped: true });
        if (!e) return;
        this.guard(response, () => {
          response.body = this.timeline!.body();
          this.sendResponse(response);
        });
        return;
      }
      default:
        this.fail(response, 1014, `unrecognized request '${command}'`, false);
    }
  }
}

function changed(before: Uint8Array, now: Uint8Array, top: number): boolean {
  if (top !== before.length) return true;
  for (let i = 0; i < top; i++) if (before[i] !== now[i]) return true;
  return false;
}
