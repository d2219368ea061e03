/**
 * The mdb command language over a simulated kernel: `[addr][,count]::dcmd [args]`, `$c`-style
 * built-ins, the formatting dcmds `addr[,count]/FMT` and `value=FMT`, `::walk`, pipelines
 * (each line the left side prints becomes dot for the right side; only the rightmost prints),
 * `;`-separated commands, and mdb's error messages.
 */
import type { Machine } from '../machine/machine';
import { MdbError, DcmdUsage, type Dcmd, type DcmdCall, type DcmdFlags, type MdbHost } from './types';
import { evaluate, evaluateValue } from './expr';
import { DCMDS, WALKERS, findDcmd } from './registry';
import { parseAddr, MemoryFault } from '../machine/memory';
import { p } from './format';
import { Iob } from './iob';

interface Stage {
  /** Leading expression (first stage only). */
  addr?: string;
  count?: string;
  /** `::name`, `$c`, `/` or `=` (formatting), or '' for a bare expression. */
  verb: string;
  args: string[];
  /** The text after the verb, as typed (a format list). */
  raw: string;
  text: string;
}

/** Splits on a character outside quotes and parentheses. */
function splitTop(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q: string | null = null;
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (q) {
      cur += c;
      if (c === q) q = null;
      continue;
    }
    if (c === '"' || c === "'") { q = c; cur += c; continue; }
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === sep && depth <= 0) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  out.push(cur);
  return out;
}

/** Splits argument words on blanks, honouring quotes. */
export function words(s: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  let mt: RegExpExecArray | null;
  while ((mt = re.exec(s))) out.push(mt[1] ?? mt[2] ?? mt[3]!);
  return out;
}

function parseStage(text: string, first: boolean): Stage {
  const s = text.trim();
  const iColon = s.indexOf('::');
  const iDollar = s.indexOf('$');
  const iEq = s.indexOf('=');
  const iSlash = s.indexOf('/');
  const cands = [iColon, iDollar, iEq, iSlash].filter((i) => i >= 0);
  const at = cands.length ? Math.min(...cands) : -1;
  const lead = (at < 0 ? s : s.slice(0, at)).trim();
  let rest = at < 0 ? '' : s.slice(at);
  if (lead && !first) throw new MdbError(`syntax error near "${lead}"`);
  let addr: string | undefined;
  let count: string | undefined;
  if (lead) {
    const parts = splitTop(lead, ',');
    if (parts.length > 2) throw new MdbError(`syntax error near "${lead}"`);
    addr = parts[0]!.trim() || undefined;
    count = parts[1]?.trim() || undefined;
  }
  let verb = '';
  if (rest.startsWith('::')) {
    const mt = /^::([^\s]*)/.exec(rest)!;
    verb = '::' + mt[1];
    rest = rest.slice(mt[0].length);
  } else if (rest.startsWith('$')) {
    // $c, $C, $q, $Q, $<, $<<: the built-in letter, then an optional count glued on ($c0, $C 2).
    const mt = /^\$(<<|<|[A-Za-z?])/.exec(rest);
    verb = mt ? '$' + mt[1] : '$';
    rest = rest.slice(verb.length);
  } else if (rest.startsWith('=') || rest.startsWith('/')) {
    verb = rest[0]!;
    rest = rest.slice(1);
  }
  return { addr, count, verb, args: words(rest), raw: rest, text: s };
}

export interface DcmdInfo {
  name: string;
  usage: string;
  description: string;
  /** `[ addr ] ::name usage`, as ::help prints the SYNOPSIS. */
  synopsis: string;
}

export function synopsis(d: Dcmd): string {
  const u = d.usage;
  const sep = /^\w/.test(d.name) ? '::' : '';
  // `/` and `=` take their format list glued on.
  const gap = /^[\w$]/.test(d.name) ? ' ' : '';
  if (u.startsWith(':')) return `addr ${sep}${d.name}${u.length > 1 ? gap + u.slice(1) : ''}`;
  if (u.startsWith('?')) return `[ addr ] ${sep}${d.name}${u.length > 1 ? gap + u.slice(1) : ''}`;
  return `${sep}${d.name}${u ? ' ' + u : ''}`;
}

/** mdb_dcmd_usage(): `Usage: address::name usage`. */
export function usageLines(d: Dcmd): string[] {
  let prefix = '';
  let usage = d.usage;
  const dollar = !/^\w/.test(d.name);
  if (usage.startsWith(':')) {
    prefix = dollar ? 'address' : 'address::';
    usage = usage.slice(1);
  } else if (usage.startsWith('?')) {
    prefix = dollar ? '[address]' : '[address]::';
    usage = usage.slice(1);
  } else if (!dollar) prefix = '::';
  const lines = [`Usage: ${prefix}${d.name} ${usage}`.trimEnd()];
  if (d.help) lines.push(`mdb: try '::help ${d.name}' for more information`);
  return lines;
}

export class MdbEngine implements MdbHost {
  readonly cache = new Map<string, unknown>();
  dot = 0;
  incr = 0;
  constructor(readonly m: Machine) {}

  evaluate(expr: string): number {
    return evaluate({ m: this.m, dot: this.dot, incr: this.incr }, expr);
  }

  evaluateValue(expr: string): bigint {
    return evaluateValue({ m: this.m, dot: this.dot, incr: this.incr }, expr);
  }

  /** A repeat count: the expression's value, at most 100000 calls. */
  private count(expr: string): number {
    const v = this.evaluateValue(expr);
    return Number(v > 100000n ? 100000n : v);
  }

  /** Runs one line (possibly several `;`-separated commands); returns everything printed. */
  run(line: string): string {
    const out: string[] = [];
    for (const cmd of splitTop(line.replace(/\r?\n/g, ';'), ';')) {
      if (!cmd.trim() || cmd.trim().startsWith('//')) continue;
      try {
        this.runPipeline(cmd, out);
      } catch (e) {
        if (e instanceof MdbError) out.push(`mdb: ${e.message}`);
        else throw e;
      }
    }
    return out.length ? out.join('\n') + '\n' : '';
  }

  private runPipeline(cmd: string, out: string[]): void {
    if (/!(?!=)/.test(cmd.replace(/"[^"]*"|'[^']*'/g, ''))) {
      throw new MdbError('shell escapes (!) are not available in the simulator');
    }
    const stages = splitTop(cmd, '|').map((s, i) => parseStage(s, i === 0));
    if (stages.some((s) => !s.text)) throw new MdbError('syntax error near "|"');
    let dots: number[] | null = null;
    const s0 = stages[0]!;
    if (s0.addr !== undefined) {
      const a = this.evaluate(s0.addr);
      const n = s0.count !== undefined ? this.count(s0.count) : 1;
      this.dot = a;
      dots = new Array<number>(n).fill(a);
    } else if (s0.count !== undefined) {
      const n = this.count(s0.count);
      dots = new Array<number>(n).fill(this.dot);
    }
    for (let i = 0; i < stages.length; i++) {
      const st = stages[i]!;
      const last = i === stages.length - 1;
      const lines: string[] = [];
      this.runStage(st, dots, i > 0, !last, lines, i === 0 && s0.count !== undefined);
      if (last) {
        // One by one: a spread of 100,000 lines (addr,100000/X) overflows the call stack.
        for (const l of lines) out.push(l);
        return;
      }
      // Each line the left side printed is an expression: its value becomes a dot.
      const next: number[] = [];
      for (const l of lines) {
        if (l.startsWith('mdb: ')) {
          out.push(l);
          continue;
        }
        const w = l.trim().split(/\s+/)[0];
        if (!w) continue;
        try {
          next.push(this.evaluate(w));
        } catch {
          /* not a value: mdb would stop here; we skip the line */
        }
      }
      if (!next.length) return;
      dots = next;
    }
  }

  private runStage(st: Stage, dots: number[] | null, pipeIn: boolean, pipeOut: boolean, out: string[], countLoop: boolean): void {
    if (st.verb === '') {
      // A bare expression sets dot.
      if (dots?.length) this.dot = dots[dots.length - 1]!;
      return;
    }
    if (st.verb === '$<' || st.verb === '$<<') throw new MdbError('macro files are not available in the simulator');
    const name = st.verb.startsWith('::') ? st.verb.slice(2) : st.verb;
    const d = findDcmd(name);
    if (!d) throw new MdbError(`invalid command '${st.verb}': unknown dcmd name`);
    // mdb's stdout for this stage: into a pipe it does not wrap, and each word is a value.
    const iob = new Iob((l) => {
      if (!pipeOut) out.push(l);
      else if (l.startsWith('mdb: ')) out.push(l);
      else out.push(...l.trim().split(/\s+/).filter(Boolean));
    });
    if (pipeOut) iob.autowrap = false;
    const calls: Array<number | null> = dots ?? [null];
    let stopped = false;
    try {
      for (let idx = 0; idx < calls.length && !stopped; idx++) {
        let dot = calls[idx] ?? null;
        // `addr,count/FMT`: each call reads where the previous one stopped (mdb_dot_incr).
        if (d.format && countLoop && idx > 0) dot = this.dot + this.incr;
        const flags: DcmdFlags = {
          addrspec: dot !== null,
          loop: calls.length > 1,
          loopFirst: calls.length > 1 && idx === 0,
          pipeOut,
          pipeIn,
        };
        if (dot !== null) this.dot = dot;
        const call: DcmdCall = {
          m: this.m,
          mdb: this,
          addr: dot ?? 0,
          flags,
          args: st.args,
          raw: st.raw,
          iob,
          pipe: dots ?? [],
          out: (l) => {
            iob.nlflush();
            out.push(l);
          },
          warn: (msg) => out.push(`mdb: ${msg}`),
          stop: () => {
            stopped = true;
          },
        };
        try {
          d.run(call);
        } catch (e) {
          if (e instanceof DcmdUsage) {
            iob.nlflush();
            if (e.warning) out.push(`mdb: ${e.warning}`);
            out.push(...usageLines(d));
          } else if (e instanceof MdbError) {
            out.push(`mdb: ${e.message}`);
          } else if (e instanceof MemoryFault) {
            // A dcmd read memory without checking it first: mdb's message, not a crash.
            iob.nlflush();
            out.push(`mdb: failed to read ${e.size} bytes at ${p(e.addr)}: no mapping for address`);
          } else throw e;
        }
      }
    } finally {
      iob.nlflush();
    }
  }

  /** Names, usage and descriptions of every dcmd (completion, palette). */
  static dcmdInfo(): DcmdInfo[] {
    return DCMDS.map((d) => ({ name: d.name, usage: d.usage, description: d.description, synopsis: synopsis(d) }));
  }
  static walkerNames(): string[] {
    return WALKERS.map((w) => w.name);
  }
}

export { parseAddr };
