/** Helpers for simulator tests: machines from inline scenarios, scripted threads, event capture. */
import { createKernel } from '../../../kernel-sim/kernel';
import { scenarioFromObject } from '../../../kernel-sim/scenario';
import { registerFrameKind, PUSHED, type Machine, type KResult, type RunOutcome } from '../../../kernel-sim/machine/machine';
import type { KThread } from '../../../kernel-sim/machine/thread';
import { EventRing, type KEvent } from '../../../kernel-sim/trace/events';
import { FlowFormatter } from '../../../kernel-sim/trace/flow';
import { threadNamer } from '../../../kernel-sim/cli/run';

export async function machine(obj: Record<string, unknown>, seed?: number): Promise<Machine> {
  const s = scenarioFromObject({ kernel: 'illumos-13917', cpus: 1, ...obj }, '<test>', process.cwd());
  return createKernel(s, { seed });
}

/** One step of a scripted thread: runs once; may return PUSHED (then the next step waits). */
export type ScriptStep = (m: Machine, t: KThread, results: number[]) => KResult | void;

registerFrameKind('test-script', {
  preemptible: true,
  step(m, t, f) {
    const steps = f.steps as ScriptStep[];
    const results = f.results as number[];
    if (f.waiting) {
      results.push(t.retval);
      f.waiting = false;
    }
    const i = f.pc;
    if (i >= steps.length) {
      m.ret(t, 0);
      return 1;
    }
    const r = steps[i]!(m, t, results);
    f.pc = i + 1;
    if (r === PUSHED) f.waiting = true;
    else results.push(typeof r === 'number' ? r : 0);
    return 1;
  },
  describe(_m, _t, f, i) {
    return [{ name: 'test_script', offset: (f.pc as number) * 0x10, args: [], kind: 'builtin', frameIndex: i }];
  },
  clone: (f) => ({ ...f, results: (f.results as number[]).slice() }),
});

/** Creates a runnable thread that runs `steps` in order (each is one kernel-context step). */
export function scriptThread(m: Machine, name: string, steps: ScriptStep[], opts: { lwp?: boolean; pri?: number } = {}): { t: KThread; results: number[] } {
  const results: number[] = [];
  const t = m.createThread({ name, role: 'scenario', pri: opts.pri ?? 60, lwp: opts.lwp ?? false, entry: { kind: 'test-script', pc: 0, steps, results, waiting: false } });
  m.setrun(t);
  return { t, results };
}

/** Calls a kernel function by name from a script step. */
export function kcall(name: string, args: (m: Machine, t: KThread, r: number[]) => number[] = () => []): ScriptStep {
  return (m, t, r) => {
    const s = m.sym.lookup(name);
    if (!s) throw new Error(`no kernel function ${name}`);
    return m.callFunction(t, s.addr, args(m, t, r));
  };
}

/** Attaches an event ring; returns a getter for the captured events. */
export function capture(m: Machine): () => KEvent[] {
  const ring = new EventRing(1 << 20);
  m.sink = ring;
  return () => ring.events();
}

/** Runs to the end (or a limit) and returns the outcome. */
export function runAll(m: Machine, maxSteps = 5_000_000): RunOutcome {
  return m.run(maxSteps);
}

/** Hook calls as 'save vmm_savectx' strings, in order. */
export function hooks(events: KEvent[], thread?: string, m?: Machine): string[] {
  const out: string[] = [];
  for (const e of events) {
    if (e.type === 'probe' && e.probe === 'ctxop:hook') {
      if (thread && m && m.names.get(e.thread) !== thread) continue;
      out.push(`${e.data!.op} ${e.data!.handler}`);
    }
  }
  return out;
}

/** The flow trace of a whole run as text. */
export async function flowText(obj: Record<string, unknown>, seed?: number): Promise<{ text: string; outcome: RunOutcome; m: Machine }> {
  const m = await machine(obj, seed);
  const lines: string[] = [];
  m.sink = new FlowFormatter((l) => lines.push(l), { threadName: threadNamer(m) });
  const outcome = m.run(5_000_000);
  return { text: lines.join('\n'), outcome, m };
}

/** Groups hook events into per-switch batches: [{from, to, saves, restores}]. */
export function switches(events: KEvent[], m: Machine): Array<{ from: string; to: string; saves: string[]; restores: string[] }> {
  const name = (a: number) => m.names.get(a) ?? String(a);
  const out: Array<{ from: string; to: string; saves: string[]; restores: string[] }> = [];
  let cur: { from: string; to: string; saves: string[]; restores: string[] } | null = null;
  let pendingSaves: string[] = [];
  for (const e of events) {
    if (e.type === 'entry' && e.fn === 'resume') pendingSaves = [];
    if (e.type === 'probe' && e.probe === 'ctxop:hook' && e.data!.op === 'save') pendingSaves.push(e.data!.handler!);
    if (e.type === 'probe' && e.probe === 'sched:off-cpu') {
      cur = { from: name(e.thread), to: name(e.data!.other!), saves: pendingSaves, restores: [] };
      out.push(cur);
      pendingSaves = [];
    }
    if (e.type === 'probe' && e.probe === 'ctxop:hook' && e.data!.op === 'restore' && cur) cur.restores.push(e.data!.handler!);
  }
  return out;
}
