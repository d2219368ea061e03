/**
 * Helpers for the debug adapter's protocol tests: a DebugClient that talks to the adapter
 * in-process (PassThrough streams), over stdio of the bundled `kctx dap`, or over a socket of
 * `kctx dap --server=0`; it records every event so tests can assert exact orders.
 */
import { PassThrough } from 'node:stream';
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { KctxDebugSession } from '../../debug-adapter/session';

export const ROOT = resolve(__dirname, '..', '..', '..');
export const FIX = resolve(ROOT, 'test', 'fixtures', 'dap');
export const KCTX = resolve(ROOT, 'dist', 'kctx.js');
export const fixture = (name: string) => resolve(FIX, name);

export type Ev = DebugProtocol.Event;
export type Stopped = DebugProtocol.StoppedEvent;

export class Client extends DebugClient {
  events: Ev[] = [];
  private waiters: Array<() => void> = [];
  session: KctxDebugSession | null = null;
  child: ChildProcess | null = null;

  constructor() {
    super('node', KCTX, 'kctx');
    this.defaultTimeout = 20000;
  }

  override emit(name: string | symbol, ...args: unknown[]): boolean {
    const e = args[0] as Ev | undefined;
    if (e && typeof e === 'object' && e.type === 'event') {
      this.events.push(e);
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    }
    return super.emit(name, ...args);
  }

  startInProc(): void {
    const toDa = new PassThrough();
    const fromDa = new PassThrough();
    this.session = new KctxDebugSession();
    // In a test process the session must not exit the process when it ends (as inline in VS Code).
    this.session.setRunAsServer(true);
    this.session.start(toDa, fromDa);
    this.connect(fromDa, toDa);
  }

  /** Spawns the bundled `kctx dap` and speaks DAP over its stdio. */
  startStdio(): void {
    const child = spawn(process.execPath, [KCTX, 'dap'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    child.stderr!.on('data', () => {});
    this.connect(child.stdout!, child.stdin!);
  }

  /** Sends a request and resolves with the whole response, failed or not. */
  raw(command: string, args?: unknown, timeout = this.defaultTimeout): Promise<DebugProtocol.Response> {
    return new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error(`no response to '${command}' within ${timeout} ms`)), timeout);
      (this as unknown as { doSend(c: string, a: unknown, cb: (r: DebugProtocol.Response) => void): void }).doSend(command, args, (r) => {
        clearTimeout(t);
        res(r);
      });
    });
  }

  /** Raw bytes to the adapter (fuzzing). */
  writeRaw(data: string | Buffer): void {
    (this as unknown as { outputStream: NodeJS.WritableStream }).outputStream.write(data);
  }

  names(from = 0): string[] {
    return this.events.slice(from).map((e) => e.event);
  }

  /** The first event named `name` at or after index `from` matching `pred` (waits for it). */
  async waitFor<T extends Ev = Ev>(name: string, from = 0, pred: (e: T) => boolean = () => true, timeout = this.defaultTimeout): Promise<T> {
    const deadline = Date.now() + timeout;
    for (;;) {
      for (let i = from; i < this.events.length; i++) {
        const e = this.events[i]!;
        if (e.event === name && pred(e as T)) return e as T;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no '${name}' event within ${timeout} ms; got: ${this.names(from).join(', ')}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Waits for the next stopped event after the events seen so far when `mark` was taken. */
  async stopAfter(mark: number, timeout?: number): Promise<Stopped> {
    return this.waitFor<Stopped>('stopped', mark, () => true, timeout);
  }

  mark(): number {
    return this.events.length;
  }

  async close(): Promise<void> {
    try {
      await Promise.race([this.disconnectRequest({}), new Promise((r) => setTimeout(r, 2000))]);
    } catch {
      /* gone */
    }
    if (this.child) this.child.kill();
    (this as unknown as { stopAdapter(): void }).stopAdapter();
  }

  // -------------------------------------------------------------- conveniences

  async init(extra: Partial<DebugProtocol.InitializeRequestArguments> = {}): Promise<DebugProtocol.InitializeResponse> {
    return this.initializeRequest({ adapterID: 'kctx', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path', ...extra });
  }

  /**
   * initialize, launch; when 'initialized' arrives run `config` (breakpoints, filters), then
   * configurationDone; resolves with the launch response.
   */
  async launchWith(args: Record<string, unknown>, config?: (c: Client) => Promise<unknown>, init: Partial<DebugProtocol.InitializeRequestArguments> = {}): Promise<DebugProtocol.LaunchResponse> {
    await this.init(init);
    const launched = this.launchRequest(args as DebugProtocol.LaunchRequestArguments);
    const inited = this.waitFor('initialized');
    const first = await Promise.race([launched.then(() => 'launched' as const), inited.then(() => 'initialized' as const)]);
    if (first === 'launched') return launched;
    await config?.(this);
    await this.configurationDoneRequest();
    return launched;
  }

  async frames(threadId: number, levels = 50): Promise<DebugProtocol.StackFrame[]> {
    return (await this.stackTraceRequest({ threadId, startFrame: 0, levels })).body.stackFrames;
  }

  async frameNames(threadId: number, levels = 50): Promise<string[]> {
    return (await this.frames(threadId, levels)).map((f) => f.name.replace(/\(.*$/, ''));
  }

  async threadsByName(): Promise<Map<string, number>> {
    const r = await this.threadsRequest();
    const out = new Map<string, number>();
    for (const t of r.body.threads) out.set(t.name.replace(/ \[.*$/, ''), t.id);
    return out;
  }

  async repl(expression: string, frameId?: number): Promise<string> {
    return (await this.evaluateRequest({ expression, context: 'repl', frameId })).body.result;
  }

  async scopeVars(frameId: number, scope: RegExp): Promise<DebugProtocol.Variable[]> {
    const sc = (await this.scopesRequest({ frameId })).body.scopes.find((s) => scope.test(s.name));
    if (!sc) throw new Error(`no scope ${scope}`);
    return (await this.variablesRequest({ variablesReference: sc.variablesReference })).body.variables;
  }

  /** Continue and wait for the following stop. */
  async cont(threadId = 1): Promise<Stopped> {
    const m = this.mark();
    await this.continueRequest({ threadId });
    return this.stopAfter(m);
  }

  async next(threadId: number): Promise<Stopped> {
    const m = this.mark();
    await this.nextRequest({ threadId });
    return this.stopAfter(m);
  }

  async stepIn(threadId: number): Promise<Stopped> {
    const m = this.mark();
    await this.stepInRequest({ threadId });
    return this.stopAfter(m);
  }

  async stepOut(threadId: number): Promise<Stopped> {
    const m = this.mark();
    await this.stepOutRequest({ threadId });
    return this.stopAfter(m);
  }

  async back(threadId: number): Promise<Stopped> {
    const m = this.mark();
    await this.stepBackRequest({ threadId });
    return this.stopAfter(m);
  }
}

export function inProc(): Client {
  const c = new Client();
  c.startInProc();
  return c;
}

export function stdio(): Client {
  const c = new Client();
  c.startStdio();
  return c;
}

/** Starts `kctx dap --server=0`; resolves with the port it listens on, the token it printed and the process. */
export function server(): Promise<{ port: number; token: string; proc: ChildProcess }> {
  return new Promise((res, rej) => {
    const proc = spawn(process.execPath, [KCTX, 'dap', '--server=0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    const t = setTimeout(() => rej(new Error(`no port from kctx dap --server: ${err}`)), 10000);
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on 127\.0\.0\.1:(\d+) token=([0-9a-f]+)\n/.exec(err);
      if (m) {
        clearTimeout(t);
        res({ port: Number(m[1]), token: m[2]!, proc });
      }
    });
    proc.on('exit', (code) => rej(new Error(`kctx dap --server exited (${code}): ${err}`)));
  });
}

export const strip = (name: string) => name.replace(/\(.*$/, '');
