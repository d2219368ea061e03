/**
 * Debug adapter benchmarks (figures, not pass/fail), measured over the protocol with the
 * session in process (PassThrough streams, full DAP framing), as the VS Code extension runs it:
 *  - a step (`next`) round trip: request sent -> `stopped` event received;
 *  - launch to first stop: `initialize` sent -> `stopped(entry)` received (cold and warm);
 *  - `stepBack` 1,000,000 events into a run (context switches + ctxop hook calls), many threads.
 * Targets: ../shared/README.md §5 (step < 5 ms, launch < 300 ms, stepBack < 50 ms).
 */
import { PassThrough } from 'node:stream';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { KctxDebugSession } from '../../debug-adapter/session';
import type { Engine } from '../../debug-adapter/engine';

export interface BenchRow {
  name: string;
  value: string;
  target?: string;
}

const FIX = resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'dap');

class Client extends DebugClient {
  session!: KctxDebugSession;
  private stopWaiters: Array<(e: DebugProtocol.StoppedEvent) => void> = [];
  constructor() {
    super('node', 'unused', 'kctx');
    this.defaultTimeout = 120000;
  }
  open(): void {
    const a = new PassThrough();
    const b = new PassThrough();
    this.session = new KctxDebugSession();
    this.session.setRunAsServer(true);
    this.session.start(a, b);
    this.connect(b, a);
    this.on('stopped', (e: DebugProtocol.StoppedEvent) => {
      const w = this.stopWaiters.shift();
      w?.(e);
    });
    // The run ended: whoever waits for a stop gets a pseudo stop with reason 'terminated'.
    this.on('terminated', () => {
      for (const w of this.stopWaiters.splice(0)) w({ seq: 0, type: 'event', event: 'stopped', body: { reason: 'terminated' } });
    });
  }
  nextStop(): Promise<DebugProtocol.StoppedEvent> {
    return new Promise((r) => this.stopWaiters.push(r));
  }
  engine(): Engine {
    return (this.session as unknown as { engine: Engine }).engine;
  }
  async launchStop(args: Record<string, unknown>, config?: (c: Client) => Promise<unknown>): Promise<DebugProtocol.StoppedEvent> {
    const stop = this.nextStop();
    await this.initializeRequest({ adapterID: 'kctx', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
    const init = this.waitForEvent('initialized');
    const launched = this.launchRequest(args as DebugProtocol.LaunchRequestArguments);
    await init;
    await config?.(this);
    await this.configurationDoneRequest();
    await launched;
    return stop;
  }
  async close(): Promise<void> {
    await this.disconnectRequest({}).catch(() => undefined);
    (this as unknown as { stopAdapter(): void }).stopAdapter();
  }
}

function stats(xs: number[]): { median: number; p95: number; max: number } {
  const s = xs.slice().sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, p95: s[Math.min(s.length - 1, Math.floor(s.length * 0.95))]!, max: s[s.length - 1]! };
}
const ms = (x: number) => `${x.toFixed(2)} ms`;

async function launchToFirstStop(scenario: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < 6; i++) {
    const c = new Client();
    c.open();
    const t0 = performance.now();
    await c.launchStop({ scenario, stopOnEntry: true });
    out.push(performance.now() - t0);
    await c.close();
  }
  return out;
}

async function stepRoundTrips(scenario: string | Record<string, unknown>, n: number): Promise<number[]> {
  const c = new Client();
  c.open();
  const entry = await c.launchStop(typeof scenario === 'string' ? { scenario, stopOnEntry: true } : { ...scenario, stopOnEntry: true });
  const tid = entry.body.threadId!;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const stop = c.nextStop();
    const t0 = performance.now();
    await c.nextRequest({ threadId: tid });
    const st = await stop;
    if (st.body.reason !== 'step') break;
    out.push(performance.now() - t0);
  }
  await c.close();
  return out;
}

async function deepStepBack(): Promise<{ events: number; steps: number; forwardMs: number; back: number[]; checkpoints: number; cpBytes: number; engineBack: number[] }> {
  const c = new Client();
  c.open();
  const threads = Array.from({ length: 32 }, (_, i) => ({ name: `vcpu${i}`, entry: 'builtin:bhyve-vcpu', arg: 100000000, lwp: true }));
  await c.launchStop({ kernel: 'illumos-13917', cpus: 2, seed: 3, tickCycles: 20, quantum: 1, slice: 10, threads, stopOnEntry: true, maxSteps: 1e12 });
  const e = c.engine();
  const m = e.m;
  const events = () => m.stats.switches + m.stats.hooks;
  // Forward: stop every 20,000 switches until 1,000,000 events are behind us.
  await c.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'swtch', hitCondition: '% 20000' }] });
  const t0 = performance.now();
  let st: DebugProtocol.StoppedEvent | undefined;
  while (events() < 1_000_000) {
    const stop = c.nextStop();
    await c.continueRequest({ threadId: 1 });
    st = await stop;
  }
  const forwardMs = performance.now() - t0;
  await c.setFunctionBreakpointsRequest({ breakpoints: [] });
  const tid = st!.body.threadId!;
  // Two steps forward, so the thread has somewhere to step back to nearby and far.
  for (let i = 0; i < 2; i++) {
    const stop = c.nextStop();
    await c.nextRequest({ threadId: tid });
    await stop;
  }
  const evts = events();
  const steps = m.stats.steps;
  const back: number[] = [];
  for (let i = 0; i < 20; i++) {
    const stop = c.nextStop();
    const t = performance.now();
    await c.stepBackRequest({ threadId: tid });
    await stop;
    back.push(performance.now() - t);
  }
  // The engine alone (no protocol), for comparison.
  const engineBack: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t = performance.now();
    e.reverseSync('step', e.cur.thread);
    engineBack.push(performance.now() - t);
  }
  const out = { events: evts, steps, forwardMs, back, checkpoints: e.checkpoints.length, cpBytes: e.checkpointBytes(), engineBack };
  await c.close();
  return out;
}

export async function benchDap(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const drv = resolve(FIX, 'drv.ksim.json');
  const bhyve = resolve(FIX, 'bhyve.ksim.json');

  const lc = await launchToFirstStop(drv);
  rows.push({ name: 'launch to first stop, C driver (cold: parser + compile)', value: ms(lc[0]!), target: '< 300 ms' });
  rows.push({ name: 'launch to first stop, C driver (warm, median)', value: ms(stats(lc.slice(1)).median), target: '< 300 ms' });
  const lb = await launchToFirstStop(bhyve);
  rows.push({ name: 'launch to first stop, built-in workload (median)', value: ms(stats(lb.slice(1)).median), target: '< 300 ms' });

  const manyC = { kernel: 'illumos-13917', cpus: 2, cwd: FIX, sources: ['drv.c'], threads: Array.from({ length: 4 }, (_, i) => ({ name: `w${i}`, entry: 'drv_thread', arg: i })) };
  const sc = stats(await stepRoundTrips(manyC, 100));
  rows.push({ name: 'step (next) round trip, C driver (median / p95)', value: `${ms(sc.median)} / ${ms(sc.p95)}`, target: '< 5 ms' });
  const many = { kernel: 'illumos-13917', cpus: 2, threads: Array.from({ length: 8 }, (_, i) => ({ name: `vcpu${i}`, entry: 'builtin:bhyve-vcpu', arg: 50, lwp: true })) };
  const sb = stats(await stepRoundTrips(many, 100));
  rows.push({ name: 'step (next) round trip, built-in (median / p95)', value: `${ms(sb.median)} / ${ms(sb.p95)}`, target: '< 5 ms' });

  const d = await deepStepBack();
  const b = stats(d.back);
  rows.push({ name: `stepBack round trip at ${(d.events / 1e6).toFixed(2)}M events (${(d.steps / 1e6).toFixed(1)}M steps), median / max`, value: `${ms(b.median)} / ${ms(b.max)}`, target: '< 50 ms' });
  rows.push({ name: 'stepBack in the engine alone (median)', value: ms(stats(d.engineBack).median) });
  rows.push({ name: 'forward run to 1M events under the debugger (checkpoints on)', value: `${(d.forwardMs / 1000).toFixed(2)} s` });
  rows.push({ name: 'checkpoints kept / memory', value: `${d.checkpoints} / ${(d.cpBytes / 1048576).toFixed(1)} MB` });
  return rows;
}

if (require.main === module) {
  benchDap().then((rows) => {
    for (const r of rows) console.log(`${r.name.padEnd(80)} ${r.value.padStart(22)}  ${r.target ?? ''}`);
  }, (e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
