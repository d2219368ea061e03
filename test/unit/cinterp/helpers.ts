/** Shared helpers for the interpreter tests: run C source text or an example scenario. */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createKernel } from '../../../kernel-sim/kernel';
import { scenarioFromObject, loadScenarioFile } from '../../../kernel-sim/scenario';
import type { Machine, RunOutcome } from '../../../kernel-sim/machine/machine';
import type { KEvent } from '../../../kernel-sim/trace/events';
import { loadDriver } from '../../../kernel-sim/cinterp/index';
import { scratchDir } from '../../scratch';

export const REPO = resolve(__dirname, '..', '..', '..', '..');
export const EXAMPLES = join(REPO, 'examples');

/** Loads scenario object `o` of folder `dir` and runs it, recording its console and events (as JSON). */
export async function recordedRun(dir: string, o: Record<string, unknown>, maxSteps = 1_000_000): Promise<{ m: Machine; outcome: RunOutcome; console: string[]; events: string }> {
  const m = await createKernel(scenarioFromObject(o, join(dir, 'test.ksim.json'), dir), { loadDriver });
  const console: string[] = [];
  const events: unknown[] = [];
  m.onConsole = (l) => console.push(l);
  m.sink = { event: (e) => events.push(e) };
  const outcome = m.run(maxSteps);
  return { m, outcome, console, events: JSON.stringify(events) };
}

export const HEADERS = '#include <sys/types.h>\n#include <sys/thread.h>\n#include <sys/kmem.h>\n#include <sys/cmn_err.h>\n#include <sys/debug.h>\n#include <sys/disp.h>\n#include <sys/ddi.h>\n';

export interface RunResult {
  m: Machine;
  outcome: RunOutcome;
  console: string[];
  events: KEvent[];
  dir: string;
}

/** Writes `files` to a fresh folder and builds the kernel for a one-thread scenario. */
export async function kernelFor(files: Record<string, string>, o: { kernel?: string; builtFor?: string; entry?: string; arg?: number; defines?: Record<string, number | string>; threads?: unknown[]; extra?: Record<string, unknown> } = {}): Promise<{ m: Machine; dir: string; console: string[]; events: KEvent[] }> {
  const dir = scratchDir('kctx-cinterp-');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const s = scenarioFromObject({
    kernel: o.kernel ?? 'illumos-13917',
    ...(o.builtFor ? { builtFor: o.builtFor } : {}),
    cpus: 1,
    sources: Object.keys(files).filter((f) => f.endsWith('.c')),
    defines: o.defines ?? { DEBUG: 1 },
    threads: o.threads ?? [{ name: 't0', entry: o.entry ?? 'entry', arg: o.arg ?? 0 }],
    ...(o.extra ?? {}),
  }, join(dir, 'test.ksim.json'), dir);
  const m = await createKernel(s, { loadDriver });
  const console: string[] = [];
  const events: KEvent[] = [];
  m.onConsole = (l) => console.push(l);
  m.sink = { event: (e) => events.push(e) };
  return { m, dir, console, events };
}

export async function runC(src: string, o: Parameters<typeof kernelFor>[1] = {}, maxSteps = 5_000_000): Promise<RunResult> {
  const k = await kernelFor({ 'drv.c': src }, o);
  const outcome = k.m.run(maxSteps);
  return { ...k, outcome };
}

const names = new Map<number, string>();

export async function runExample(rel: string, maxSteps = 5_000_000): Promise<RunResult> {
  const s = loadScenarioFile(join(EXAMPLES, rel));
  const m = await createKernel(s, { loadDriver });
  for (const t of m.threads) names.set(t.addr, t.name);
  const console: string[] = [];
  const events: KEvent[] = [];
  m.onConsole = (l) => console.push(l);
  m.sink = { event: (e) => events.push(e) };
  const outcome = m.run(maxSteps);
  return { m, outcome, console, events, dir: s.baseDir };
}

/**
 * Constant expressions ([C type, expression, gcc's value]) folded at load: each as a static
 * initializer (a<i>) and assigned in a function body (l<i>). Answers their values as the debugger
 * shows them, and what gcc gives for both.
 */
export async function foldedBothWays(exprs: ReadonlyArray<readonly [string, string, string]>): Promise<{ got: Record<string, string>; want: Record<string, string> }> {
  const globals = exprs.map(([t, x], i) => `${t} a${i} = ${x};\n${t} l${i};`).join('\n');
  const body = exprs.map(([, x], i) => `l${i} = ${x};`).join('\n');
  const r = await runC(`${HEADERS}${globals}\nvoid entry(void *arg) {\n${body}\n}\n`);
  if (r.outcome.kind !== 'end') throw new Error(`the program did not end: ${JSON.stringify(r.outcome)}`);
  const got = Object.fromEntries(exprs.flatMap((_, i) => [[`a${i}`, g(r.m, `a${i}`)], [`l${i}`, g(r.m, `l${i}`)]]));
  const want = Object.fromEntries(exprs.flatMap(([, , v], i) => [[`a${i}`, v], [`l${i}`, v]]));
  return { got, want };
}

/** A global's value as the debugger shows it. */
export function g(m: Machine, expr: string): string {
  return m.program!.evaluate(m, undefined, undefined, expr).value;
}

/** Hook events: "thread op handler". */
export function hooks(r: RunResult): string[] {
  const name = (a: number) => r.m.threads.find((t) => t.addr === a)?.name ?? names.get(a) ?? String(a);
  return r.events.filter((e) => e.type === 'probe' && e.probe === 'ctxop:hook').map((e) => `${name(e.thread)} ${(e as { detail: string }).detail}`);
}
