/**
 * The breakpoints the user set, and the decision whether a stop point is one of them.
 * Transport-free: the DAP session fills these tables, the engine's stop policy asks `decide`.
 */
import { resolve } from 'node:path';
import { formatAddr, atWalkStart, type Machine, type StopPoint, type PanicInfo, type StatementPos } from '../kernel-sim/index';
import { Condition, CondError, parseHitCondition, type CondEnv } from './cond';
import { hazardOfFilter } from '../core/probes';
import { exceptionFilter, FILTER_IDS, type FilterId } from './filters';

export const FN_COND_NAMES = ['thread', 'cpu', 'op', 'handler', 'from', 'to', 'name'] as const;

export interface LineBp {
  id: number;
  file: string;
  line: number;
  /** Line asked for (before moving to a statement). */
  requested: number;
  verified: boolean;
  message?: string;
  condition?: string;
  hit?: (n: number) => boolean;
  log?: string;
  hits: number;
}

export interface FnBp {
  id: number;
  name: string;
  verified: boolean;
  message?: string;
  /** A condition in the small language over FN_COND_NAMES, or (for C functions) C. */
  cond?: Condition;
  cText?: string;
  hit?: (n: number) => boolean;
  hits: number;
}

export interface DataBp {
  id: number;
  dataId: string;
  addr: number;
  size: number;
  description: string;
  condition?: string;
  hit?: (n: number) => boolean;
  hits: number;
}

export interface FilterSetting {
  id: FilterId;
  cond?: Condition;
}

/** Why the run stops at a point (the stopped event's reason and texts). */
export interface Decision {
  reason: string;
  description: string;
  text?: string;
  hitIds?: number[];
  /** For exception stops: which filter. */
  filter?: FilterId;
  message?: string;
  /** A function being entered that is not on the stack yet (native handler, resume). */
  entering?: { name: string; args: number[] };
  /**
   * Breakpoints whose C condition or log message must be evaluated once the machine has
   * stopped (the interpreter's frame is up to date only then): see Breakpoints.resolve.
   */
  deferred?: { lines: LineBp[]; fn: FnBp | null; data: DataBp | null; frameIndex: number | undefined };
}

/** Kernel functions a function breakpoint may name besides the driver's and the kernel's symbols. */
export const KERNEL_FNS = ['swtch', 'resume', 'savectx', 'restorectx'];


export class Breakpoints {
  lines = new Map<string, LineBp[]>();
  fns: FnBp[] = [];
  data: DataBp[] = [];
  filters = new Map<FilterId, FilterSetting>();
  private nextId = 1;
  /** A function breakpoint on a C function: stop at its first statement. */
  pendingEntry: { thread: number; name: string; bp?: FnBp; hook?: Decision } | null = null;
  /** Log point output (the engine forwards it to the console). */
  onLog: ((text: string) => void) | null = null;

  id(): number {
    return this.nextId++;
  }

  hasLineBps(): boolean {
    return this.lines.size > 0;
  }

  static normPath(p: string): string {
    return resolve(p);
  }

  setFilters(list: Array<{ id: string; condition?: string }>): Array<{ verified: boolean; message?: string }> {
    this.filters.clear();
    return list.map((f) => {
      const spec = exceptionFilter(f.id);
      if (!spec) return { verified: false, message: `unknown exception filter '${f.id}' (known: ${FILTER_IDS.join(', ')})` };
      const id = spec.id;
      const s: FilterSetting = { id };
      if (f.condition && f.condition.trim()) {
        try {
          s.cond = Condition.parse(f.condition, spec.names);
        } catch (e) {
          return { verified: false, message: `condition: ${(e as Error).message}` };
        }
      }
      this.filters.set(id, s);
      return { verified: true };
    });
  }

  setFunctions(m: Machine | null, list: Array<{ name: string; condition?: string; hitCondition?: string }>): FnBp[] {
    this.fns = list.map((b) => {
      const bp: FnBp = { id: this.id(), name: (b.name ?? '').trim(), verified: true, hits: 0 };
      if (!/^[A-Za-z_]\w*$/.test(bp.name)) {
        bp.verified = false;
        bp.message = `'${b.name}' is not a function name`;
        return bp;
      }
      if (m && !KERNEL_FNS.includes(bp.name) && !m.sym.lookup(bp.name)) {
        bp.verified = false;
        bp.message = `no function '${bp.name}' in the kernel or the driver (${m.era.id})`;
      }
      if (b.condition && b.condition.trim()) {
        try {
          bp.cond = Condition.parse(b.condition, FN_COND_NAMES);
        } catch (e) {
          if (m?.program && m.sym.lookup(bp.name)?.kind === 'c') bp.cText = b.condition;
          else {
            bp.verified = false;
            bp.message = `condition: ${(e as CondError).message}`;
          }
        }
      }
      if (b.hitCondition && b.hitCondition.trim()) {
        try {
          bp.hit = parseHitCondition(b.hitCondition);
        } catch (e) {
          bp.verified = false;
          bp.message = (e as Error).message;
        }
      }
      return bp;
    });
    return this.fns;
  }

  /** The decision for a stop point; `forward` counts hits and prints log points. */
  decide(m: Machine, p: StopPoint, forward: boolean): Decision | null {
    switch (p.kind) {
      case 'swtch': return this.atSwtch(m, p, forward);
      case 'hook': return this.atHook(m, p, forward);
      case 'function': return this.atFunction(m, p, forward);
      case 'statement': return this.atStatement(m, p, forward);
      case 'data': return this.atData(m, p, forward);
      case 'hazard': return this.atHazard(p);
      case 'stub': return this.atStub(p);
      default: return null;
    }
  }

  private filter(id: FilterId, env: CondEnv): boolean {
    const f = this.filters.get(id);
    if (!f) return false;
    return !f.cond || f.cond.test(env);
  }

  private fnHit(m: Machine, bp: FnBp, env: CondEnv, forward: boolean): boolean {
    if (!bp.verified) return false;
    if (bp.cond && !bp.cond.test(env)) return false;
    if (forward) bp.hits++;
    if (bp.hit && forward && !bp.hit(bp.hits)) return false;
    void m;
    return true;
  }

  private fnDecision(bp: FnBp, p: StopPoint, what: string, entering?: Decision['entering']): Decision {
    return {
      reason: 'function breakpoint', hitIds: [bp.id], entering,
      description: `Paused on function breakpoint ${bp.name}`,
      text: `${bp.name}: ${what} (thread ${p.thread.name}, cpu ${p.cpu})`,
    };
  }

  private atSwtch(m: Machine, p: StopPoint, forward: boolean): Decision | null {
    const from = p.from!;
    const to = p.to!;
    const env: CondEnv = { from: from.name, to: to.name, cpu: p.cpu, why: p.name ?? '', thread: from.name, name: 'swtch' };
    for (const bp of this.fns) {
      if ((bp.name === 'swtch' || bp.name === 'resume') && this.fnHit(m, bp, env, forward)) {
        return this.fnDecision(bp, p, `${from.name} -> ${to.name}`, bp.name === 'resume' ? { name: 'resume', args: [to.addr] } : undefined);
      }
    }
    if (this.filter('swtch', env)) {
      // A breakpoint-like stop (not an exception): the stop is reported on the outgoing thread,
      // the text says which thread goes and which comes in (its restore ops run next).
      return {
        reason: 'breakpoint', filter: 'swtch',
        description: `Paused on context switch on cpu${p.cpu}: ${from.name} (going off, shown) -> ${to.name} (coming in)`,
        text: `context switch ${from.name} -> ${to.name} (cpu${p.cpu}, ${p.name ?? 'swtch'}): ${from.name} saves and goes off the CPU; ${to.name} comes in and its restore ops run next`,
        message: `swtch() on cpu${p.cpu}: ${from.name} (${formatAddr(from.addr)}) gives the CPU to ${to.name} (${formatAddr(to.addr)}); reason: ${p.name ?? 'swtch'}`,
      };
    }
    return null;
  }

  private atHook(m: Machine, p: StopPoint, forward: boolean): Decision | null {
    const handler = p.handler ?? '';
    const arg = p.ctx ? safePtr(m, p.ctx + m.O.arg) : 0;
    const env: CondEnv = { op: p.op, handler, thread: p.thread.name, cpu: p.cpu, ctx: p.ctx ? formatAddr(p.ctx) : '', arg: formatAddr(arg), name: handler };
    const sym = m.sym.lookup(handler);
    const args = p.op === 'exit' ? [p.thread.addr] : p.op === 'free' ? [arg, 0] : [arg];
    for (const bp of this.fns) {
      // A C handler stops at its first statement (through its 'function' point); a native one here.
      if (bp.name === handler && sym?.kind !== 'c' && this.fnHit(m, bp, env, forward)) {
        return this.fnDecision(bp, p, `ctxop ${p.op} hook`, { name: handler, args });
      }
      if ((bp.name === 'savectx' && p.op === 'save') || (bp.name === 'restorectx' && p.op === 'restore')) {
        if (firstHookOfSwitch(m, p) && this.fnHit(m, bp, env, forward)) return this.fnDecision(bp, p, `${p.op} ops of ${p.thread.name}`);
      }
    }
    if (this.filter('ctxop', env)) {
      const d: Decision = {
        reason: 'breakpoint', filter: 'ctxop', entering: { name: handler, args },
        description: `Paused on ctxop ${p.op} hook ${handler}`,
        text: `ctxop ${p.op} hook ${handler} (thread ${p.thread.name}, cpu${p.cpu})`,
        message: `the kernel calls the ${p.op} op ${handler}(${args.map((a) => formatAddr(a)).join(', ')}) of ctxop ${p.ctx ? formatAddr(p.ctx) : '?'} on thread ${p.thread.name} (${formatAddr(p.thread.addr)}), cpu${p.cpu}`,
      };
      // A C handler: the stop is at its first statement, in the driver's source.
      if (sym?.kind === 'c') {
        this.pendingEntry = { thread: p.thread.addr, name: handler, hook: { ...d, entering: undefined } };
        return null;
      }
      return d;
    }
    return null;
  }

  private atFunction(m: Machine, p: StopPoint, forward: boolean): Decision | null {
    const name = p.name ?? '';
    const env: CondEnv = { thread: p.thread.name, cpu: p.cpu, name };
    for (const bp of this.fns) {
      if (bp.name !== name) continue;
      if (m.sym.lookup(name)?.kind === 'c') {
        if (bp.cond && !bp.cond.test(env)) continue;
        this.pendingEntry = { thread: p.thread.addr, name, bp };
        return null;
      }
      if (this.fnHit(m, bp, env, forward)) return this.fnDecision(bp, p, 'called', { name, args: [] });
    }
    return null;
  }

  private atStatement(m: Machine, p: StopPoint, forward: boolean): Decision | null {
    const pos = p.detail as StatementPos;
    const pe = this.pendingEntry;
    let fn: FnBp | null = null;
    if (pe && pe.thread === p.thread.addr) {
      this.pendingEntry = null;
      // The ctxop filter at a C handler, with no function breakpoint on it: stop here.
      if (pe.hook && !pe.bp) return { ...pe.hook, text: `${pe.hook.text}, at ${(p.detail as StatementPos).file.replace(/^.*\//, '')}:${(p.detail as StatementPos).line}` };
      fn = pe.bp ?? null;
    }
    let lines: LineBp[] = [];
    if (this.lines.size) {
      const list = this.lines.get(Breakpoints.normPath(pos.file));
      if (list) lines = list.filter((bp) => bp.verified && bp.line === pos.line);
    }
    if (!fn && !lines.length) return null;
    const d: Decision = { reason: 'breakpoint', description: '', deferred: { lines, fn, data: null, frameIndex: pos.frameIndex } };
    // Without C to evaluate, decide now; with a condition or a log message, once stopped.
    if ((fn && fn.cText) || lines.some((b) => b.condition || b.log !== undefined)) return d;
    return this.resolve(m, p, d, forward);
  }

  /** The final decision for a deferred one, evaluated with the machine stopped at the point. */
  resolve(m: Machine, p: StopPoint, d: Decision, forward: boolean): Decision | null {
    const def = d.deferred;
    if (!def) return d;
    const fi = def.frameIndex;
    const evalTrue = (text: string): boolean => {
      if (!m.program) return true;
      try {
        return truthyText(m.program.evaluate(m, p.thread, fi, text, false).value);
      } catch (e) {
        // A condition that does not evaluate stops, with the reason (as gdb does).
        if (forward) this.onLog?.(`kctx: breakpoint condition '${text}': ${(e as Error).message}\n`);
        return true;
      }
    };
    if (def.data) {
      const bp = def.data;
      if (bp.condition && !evalTrue(bp.condition)) return null;
      if (forward) bp.hits++;
      if (bp.hit && (!forward || !bp.hit(bp.hits))) return null;
      return { reason: 'data breakpoint', hitIds: [bp.id], description: `Paused on data breakpoint: ${bp.description} changed`, text: `${bp.description} written (thread ${p.thread.name})` };
    }
    const pos = p.detail as StatementPos;
    if (def.fn) {
      const bp = def.fn;
      const ok = !bp.cText || evalTrue(bp.cText);
      if (ok && forward) bp.hits++;
      if (ok && (!bp.hit || !forward || bp.hit(bp.hits))) return this.fnDecision(bp, p, `entered at line ${pos.line}`);
    }
    const ids: number[] = [];
    for (const bp of def.lines) {
      if (bp.condition && !evalTrue(bp.condition)) continue;
      if (forward) bp.hits++;
      if (bp.hit && (!forward || !bp.hit(bp.hits))) continue;
      if (bp.log !== undefined) {
        if (forward) this.onLog?.(interpolate(m, p, pos.frameIndex, bp.log) + '\n');
        continue;
      }
      ids.push(bp.id);
    }
    if (!ids.length) return null;
    return { reason: 'breakpoint', hitIds: ids, description: 'Paused on breakpoint', text: `${pos.file}:${pos.line}` };
  }

  private atData(m: Machine, p: StopPoint, forward: boolean): Decision | null {
    const det = p.detail as { id: number; addr: number };
    const bp = this.data.find((b) => b.id === det.id);
    if (!bp) return null;
    const d: Decision = { reason: 'data breakpoint', description: '', deferred: { lines: [], fn: null, data: bp, frameIndex: undefined } };
    if (bp.condition) return d;
    return this.resolve(m, p, d, forward);
  }

  /** A call to a stub kctx made for an undefined function (`"stubs": "auto"`): a breakpoint-like stop after it. */
  private atStub(p: StopPoint): Decision | null {
    const name = p.name ?? '';
    if (!this.filter('stub', { name, thread: p.thread.name, cpu: p.cpu })) return null;
    return { reason: 'breakpoint', filter: 'stub', description: `Paused after a call to the stub ${name}()`, text: `${p.thread.name} called ${name}(), which the kernel does not have: the stub returned 0`, message: p.message };
  }

  private atHazard(p: StopPoint): Decision | null {
    const hazard = hazardOfFilter(p.name ?? '');
    if (!hazard) return null;
    const name: FilterId = hazard.filter;
    const description = hazard.pause;
    const env: CondEnv = { thread: p.thread.name, cpu: p.cpu, message: p.message ?? '' };
    if (!this.filter(name, env)) return null;
    return { reason: 'exception', filter: name, description, text: p.message, message: p.message };
  }
  // ---------------------------------------------------------------- the end of a run
  // A run that ends (a panic, a hang, leaks at the end, the step limit) has no stop point to
  // check: the engine asks these once the run's outcome is known (Engine.settle).

  /** A panic: the `assert` filter for a failed assertion (when on), else `panic`. */
  atPanic(m: Machine, info: PanicInfo): Decision | null {
    const isAssert = /^assertion failed|VERIFY|ASSERT/.test(info.message);
    const env: CondEnv = { thread: m.byAddr.get(info.thread)?.name ?? formatAddr(info.thread), cpu: info.cpu, message: info.message };
    const pick = (['assert', 'panic'] as FilterId[]).find((id) => (id !== 'assert' || isAssert) && this.filter(id, env));
    if (!pick) return null;
    const what = pick === 'assert' ? 'a failed assertion' : 'a kernel panic';
    return { reason: 'exception', filter: pick, description: `Paused on ${what}: ${info.message}`, text: `panic[cpu${info.cpu}]: ${info.message}`, message: info.message };
  }

  /** Every thread blocked (or a lock cycle found when nothing can run). */
  atHang(message: string): Decision | null {
    if (!this.filter('deadlock', { message, thread: '', cpu: 0 })) return null;
    return { reason: 'exception', filter: 'deadlock', description: 'Paused: every thread is blocked', text: message, message };
  }

  /** Leaked buffers when the scenario ended. */
  atLeaks(leaks: { count: number; bytes: number; lines: string[] }): Decision | null {
    if (!leaks.count || !this.filter('leak', { count: leaks.count, bytes: leaks.bytes })) return null;
    return { reason: 'exception', filter: 'leak', description: `Paused: ${leaks.count} leaked buffer(s) at the end of the run`, text: leaks.lines[0], message: leaks.lines.join('\n') };
  }

  /** The step limit: always a stop when debugging (the run cannot go on). */
  atLimit(maxSteps: number): Decision {
    const msg = `the run reached maxSteps (${maxSteps} steps) before the scenario ended: an endless loop in the driver, or raise "maxSteps"`;
    return { reason: 'exception', description: 'Paused: step limit reached', text: msg, message: msg };
  }
}

function safePtr(m: Machine, a: number): number {
  try {
    return m.mem.readPtr(a);
  } catch {
    return 0;
  }
}

/** Whether a hook point is the first save (restore) call of this switch: savectx (restorectx) entry. */
function firstHookOfSwitch(m: Machine, p: StopPoint): boolean {
  return (p.op === 'save' || p.op === 'restore') && atWalkStart(m, p.thread, p.op);
}

export function truthyText(v: string): boolean {
  const t = v.trim();
  if (t === '' || t === '0' || t === 'false' || t === '0x0' || t === 'NULL' || t === "'\\0'") return false;
  if (/^-?0+(\.0+)?$/.test(t)) return false;
  return true;
}

/** Log point text: `{expr}` is replaced by the expression's value (C), `{{` and `}}` are braces. */
export function interpolate(m: Machine, p: StopPoint, frameIndex: number, text: string): string {
  return text.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (all, expr: string | undefined) => {
    if (all === '{{') return '{';
    if (all === '}}') return '}';
    const e = (expr ?? '').trim();
    if (!e) return '';
    if (e === 'thread' || e === 'curthread->t_name') return p.thread.name;
    if (e === 'cpu') return String(p.cpu);
    if (!m.program) return `<${e}: no C>`;
    try {
      return m.program.evaluate(m, p.thread, frameIndex, e, false).value;
    } catch (err) {
      return `<${e}: ${(err as Error).message}>`;
    }
  });
}
