/**
 * `kctx diff A B`: runs two configurations of a scenario and shows where their traces part: the
 * first differing event with both threads' stacks at that moment, how each run ended, and the
 * "aliased instance" finding (one module global reached from several vnets: the silent failure
 * of a module built without VIMAGE on a VIMAGE kernel).
 *
 * A and B are scenario files, each optionally with a cell of the VIMAGE matrix
 * (`vnstat.ksim.json@vimage/novimage`: kernel/module); `--no-asserts` compiles the asserts out
 * of B (or, with one scenario, compares it against itself without asserts).
 */
import { basename, relative, isAbsolute } from 'node:path';
import { loadScenarioFile, ScenarioError, type Scenario } from '../scenario';
import { createKernel } from '../kernel';
import type { Machine, RunOutcome } from '../machine/machine';
import type { EventSink, KEvent } from '../trace/events';
import { formatAddr, parseAddr } from '../machine/memory';
import { cellScenario, cellLabel, parseCell, noAssertsScenario, failedModules } from './cells';

const NOISE = new Set(['swtch', 'resume', 'idle']);

export interface TraceLine {
  thread: string;
  text: string;
  stack: string[];
}

/** One access of a VNET variable: where it resolved, from which vnet. */
interface Access { thread: string; vnet: number; text: string; addr: number }

export class DiffSink implements EventSink {
  lines: TraceLine[] = [];
  accesses: Access[] = [];
  constructor(private m: Machine, private baseDir = '', private limit = 200_000) {}
  event(e: KEvent): void {
    if (this.lines.length >= this.limit) return;
    let text: string;
    if (e.type === 'probe') {
      if (!/^(vnet|lock|hazard|kernel):/.test(e.probe)) return;
      text = `| ${e.probe} ${e.detail}`;
      if ((e.probe as string) === 'vnet:access' && e.data) {
        this.accesses.push({ thread: this.name(e.thread), vnet: e.data.arg ?? -1, text: e.detail, addr: e.data.addr ?? 0 });
      }
    } else {
      if (NOISE.has(e.fn)) return;
      text = `${e.type === 'entry' ? '->' : '<-'} ${e.fn}${e.type === 'entry' && e.detail ? ' ' + e.detail : ''}`;
    }
    const t = this.m.byAddr.get(e.thread);
    const stack = t ? this.m.stackOf(t).map((s) => `${s.offset ? `${s.name}+0x${s.offset.toString(16)}` : s.name}${s.file ? ` (${this.rel(s.file)}:${s.line})` : ''}`) : [];
    this.lines.push({ thread: this.name(e.thread), text: normalize(this.m, text), stack });
  }
  private rel(file: string): string {
    return this.baseDir && isAbsolute(file) ? relative(this.baseDir, file) : file;
  }
  private name(a: number): string {
    return this.m.names.get(a) ?? formatAddr(a);
  }
}

/** Addresses differ between configurations: show symbols, else a placeholder. */
function normalize(m: Machine, text: string): string {
  return text.replace(/\b(?:0x)?fffffe[0-9a-f]{10}\b/g, (h) => {
    const s = m.sym.format(parseInt(h.replace(/^0x/, '').slice(6), 16) - 0xf0000000);
    return /^fffffe/.test(s) ? 'ADDR' : s;
  });
}

export interface DiffRun {
  label: string;
  m: Machine;
  outcome: RunOutcome;
  sink: DiffSink;
}

export async function runForDiff(s: Scenario, label: string, seed: number | undefined, maxSteps: number): Promise<DiffRun> {
  const m = await createKernel(s, { seed });
  const sink = new DiffSink(m, s.baseDir);
  m.sink = sink;
  m.onConsole = () => {};
  const outcome = m.run(maxSteps);
  return { label, m, outcome, sink };
}

function ending(r: DiffRun): string {
  const failed = failedModules(r.m);
  if (failed.length) return `kldload fails: ${failed.join('; ')}`;
  switch (r.outcome.kind) {
    case 'end': return 'runs to the end';
    case 'panic': {
      const p = r.m.panicInfo!;
      const who = r.m.names.get(p.thread) ?? formatAddr(p.thread);
      const fault = /addr=(\S+)/.exec(p.message);
      if (p.message.startsWith('BAD TRAP') && fault) {
        // formatAddr's text: a small value as itself, an arena address as fffffe00 + offset.
        const a = parseAddr(fault[1]!);
        return `panic: page fault (fault virtual address = 0x${(a ?? 0).toString(16)}) in ${who}`;
      }
      return `panic: ${p.message} (in ${who})`;
    }
    case 'deadlock': return `hangs: ${r.outcome.message}`;
    case 'step-limit': return 'stopped at the step limit';
    default: return r.outcome.kind;
  }
}

/** Module globals reached from more than one vnet at the same address. */
export function aliasedInstances(r: DiffRun): string[] {
  const by = new Map<string, { vnets: Map<number, string> }>();
  for (const a of r.sink.accesses) {
    if (a.vnet < 0 || !/-> ordinary global /.test(a.text)) continue;
    const sym = a.text.replace(/^.* -> ordinary global /, '');
    const e = by.get(sym) ?? { vnets: new Map() };
    if (!e.vnets.has(a.vnet)) e.vnets.set(a.vnet, a.thread);
    by.set(sym, e);
  }
  const out: string[] = [];
  for (const [sym, e] of by) {
    if (e.vnets.size < 2) continue;
    const who = [...e.vnets].sort((x, y) => x[0] - y[0]).map(([v, t]) => `vnet ${v} (${t})`).join(' and ');
    out.push(`aliased instance: ${sym} is one ordinary global reached from ${who}: every vnet shares it`);
  }
  return out;
}

export function formatDiff(a: DiffRun, b: DiffRun): { text: string[]; differ: boolean } {
  const L: string[] = [`A = ${a.label}`, `B = ${b.label}`];
  const la = a.sink.lines;
  const lb = b.sink.lines;
  let i = 0;
  while (i < la.length && i < lb.length && la[i]!.thread === lb[i]!.thread && la[i]!.text === lb[i]!.text) i++;
  const differ = i < la.length || i < lb.length;
  if (!differ) L.push(`no difference: ${la.length} events, the same in both runs`);
  else {
    L.push(`first difference at event ${i + 1} (${i} the same before it):`);
    const ea = la[i];
    const eb = lb[i];
    L.push(`  A: ${ea ? `${ea.thread}  ${ea.text}` : '(no more events)'}`);
    L.push(`  B: ${eb ? `${eb.thread}  ${eb.text}` : '(no more events)'}`);
    for (const [n, e] of [['A', ea], ['B', eb]] as const) {
      if (!e) continue;
      L.push(`${n} stack (${e.thread}):`);
      for (const s of e.stack) L.push(`    ${s}`);
    }
  }
  L.push(`A: ${ending(a)}`, `B: ${ending(b)}`);
  for (const [n, r] of [['A', a], ['B', b]] as const) for (const f of aliasedInstances(r)) L.push(`${n}: ${f}`);
  return { text: L, differ };
}

class Usage extends Error {}

function operand(text: string, noAsserts: boolean): { s: Scenario; label: string } {
  const at = text.lastIndexOf('@');
  const path = at > 0 ? text.slice(0, at) : text;
  let s = loadScenarioFile(path);
  let label = basename(path);
  if (at > 0) {
    const cell = parseCell(text.slice(at + 1));
    if (!cell) throw new Usage(`'${text.slice(at + 1)}' is not a cell: use KERNEL/MODULE, each vimage or novimage`);
    if (!s.freebsd) throw new Usage(`${path} is not a freebsd-14 scenario: it has no VIMAGE cells`);
    s = cellScenario(s, cell);
    label += ` [${cellLabel(cell)}]`;
  }
  if (noAsserts) {
    s = noAssertsScenario(s);
    label += ' [asserts compiled out]';
  }
  return { s, label };
}

export async function diffCommand(argv: string[]): Promise<number> {
  const files: string[] = [];
  let noAsserts = false;
  let seed: number | undefined;
  let maxSteps = 5_000_000;
  try {
    for (let i = 0; i < argv.length; i++) {
      const x = argv[i]!;
      if (x === '--no-asserts') noAsserts = true;
      else if (x === '--seed' || x === '--max-steps') {
        const v = argv[++i];
        if (!v || !/^\d+$/.test(v)) throw new Usage(`${x} expects a non-negative integer`);
        if (x === '--seed') seed = Number(v);
        else maxSteps = Number(v);
      } else if (x.startsWith('-')) throw new Usage(`unknown option '${x}'`);
      else files.push(x);
    }
    if (files.length === 0 || files.length > 2) throw new Usage('give two configurations, or one with --no-asserts');
    if (files.length === 1 && !noAsserts) throw new Usage('one configuration needs --no-asserts (to compare it with its asserts compiled out)');
    const A = operand(files[0]!, false);
    const B = files.length === 2 ? operand(files[1]!, noAsserts) : operand(files[0]!, true);
    const ra = await runForDiff(A.s, A.label, seed, maxSteps);
    const rb = await runForDiff(B.s, B.label, seed, maxSteps);
    const { text, differ } = formatDiff(ra, rb);
    process.stdout.write(text.join('\n') + '\n');
    return differ ? 1 : 0;
  } catch (e) {
    if (e instanceof Usage) {
      process.stderr.write(`kctx diff: ${e.message}\nusage: kctx diff A[@KERNEL/MODULE] B[@KERNEL/MODULE] [--no-asserts] [--seed N] [--max-steps N]\n       kctx diff A --no-asserts\n`);
      return 2;
    }
    if (e instanceof ScenarioError || (e as { kctxLoadError?: boolean }).kctxLoadError) {
      process.stderr.write(`kctx: ${(e as Error).message}\n`);
      return 2;
    }
    throw e;
  }
}
