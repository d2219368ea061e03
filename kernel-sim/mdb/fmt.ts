/**
 * mdb's format characters (mdb_fmt.c) and the formatting dcmds that use them: `addr/FMT` reads
 * and prints target memory (print_arglist in mdb_cmds.c), `value=FMT` prints a value through the
 * same table, reading the value's own bytes (the immediate-value target). One table serves
 * both and ::formats.
 *
 * Layout, as mdb prints it: `/` starts with `sym:` on a line of its own when the address is
 * exactly a symbol, then the address as `%a` with a colon in a 16-column field; the values
 * follow in their printf widths (`%-16x` for X, `%-8x` for B, ...) and wrap at column 80 onto
 * lines indented by the 16-column margin. `=` prints on that margin from the start.
 */
import type { Machine } from '../machine/machine';
import { Iob } from './iob';
import { MdbError } from './types';
import { exactSymbol, symbolOf } from './format';
import { decodeValue, encodeValue } from './expr';

const NOMAP = 'failed to read data from target: no mapping for address';

/** Where a format reads from: simulated memory, or the bytes of an immediate value. */
export interface Target {
  /** `n` bytes at an engine address, or null when they are not all mapped. */
  read(addr: number, n: number): Uint8Array | null;
  /** The bytes of the NUL-terminated string at addr (without the NUL), at most `max`; null if unreadable. */
  readStr(addr: number, max: number): Uint8Array | null;
}

export function memoryTarget(m: Machine): Target {
  const ok = (a: number, n: number) => Number.isFinite(a) && m.mem.isMapped(a, n);
  return {
    read(addr, n) {
      return ok(addr, n) ? m.mem.u8.slice(addr, addr + n) : null;
    },
    readStr(addr, max) {
      if (!ok(addr, 1)) return null;
      let n = 0;
      while (n < max && ok(addr + n, 1) && m.mem.u8[addr + n] !== 0) n++;
      return m.mem.u8.slice(addr, addr + n);
    },
  };
}

/** The immediate-value target of `=`: every read is of the value's low bytes (mdb_value.c). */
export function valueTarget(v: bigint): Target {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
  return {
    read(_addr, n) {
      return n <= 8 ? bytes.slice(0, n) : null;
    },
    readStr(_addr, max) {
      let n = 0;
      while (n < Math.min(8, max) && bytes[n] !== 0) n++;
      return bytes.slice(0, n);
    },
  };
}

// ---------------------------------------------------------------- numbers as mdb prints them

function le(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  return v;
}

function signed(v: bigint, bytes: number): bigint {
  return BigInt.asIntN(bytes * 8, v);
}

/**
 * numtostr(v, base, NTOS_SHOWBASE): the prefix only above base-1 (above 9 in hex); a negative
 * value always has it (numtostr compares the unsigned bits).
 */
export function showBase(v: bigint, base: 8 | 10 | 16 = 16): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  const lim = base === 8 ? 7n : 9n;
  const pre = neg || a > lim ? (base === 16 ? '0x' : base === 10 ? '0t' : '0o') : '';
  return (neg ? '-' : '') + pre + a.toString(base);
}

/** `%a` of a 64-bit value: `sym+off` when it falls in a symbol, else `0x...` (`0`..`9` bare). */
export function addrString(m: Machine, v: bigint): string {
  const s = addrSymbol(m, v);
  return s ?? showBase(BigInt.asUintN(64, v));
}

function addrSymbol(m: Machine, v: bigint): string | undefined {
  const a = encodeValue(v);
  return symbolOf(m, a);
}

/** strchr2esc: C escapes for the unprintable characters, `\ooo` for the rest. */
export function escapeChars(b: Uint8Array): string {
  let s = '';
  for (const c of b) {
    switch (c) {
      case 0: s += '\\0'; break;
      case 7: s += '\\a'; break;
      case 8: s += '\\b'; break;
      case 12: s += '\\f'; break;
      case 10: s += '\\n'; break;
      case 13: s += '\\r'; break;
      case 9: s += '\\t'; break;
      case 11: s += '\\v'; break;
      case 0x22: s += '\\"'; break;
      case 0x5c: s += '\\\\'; break;
      default:
        s += c === 0x20 || (c >= 0x21 && c <= 0x7e) ? String.fromCharCode(c) : '\\' + c.toString(8).padStart(3, '0');
    }
  }
  return s;
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (const c of b) s += String.fromCharCode(c);
  return s;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `%Y`: a time_t as adb's `1986 Sep 13 00:00:00` (UTC: the simulator has no time zone). */
export function timeString(t: bigint): string {
  const d = new Date(Number(t) * 1000);
  if (Number.isNaN(d.getTime())) return t.toString(16);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

// ---------------------------------------------------------------- the table

export interface FmtEnv {
  m: Machine;
  iob: Iob;
  t: Target;
  /** The increment of the previous formatting command (for `^`). */
  incr: number;
}

/** A printf-style format: the value's text, field width, left-justified, `#` prefix. */
interface PrintfSpec {
  kind: 'printf';
  size: 1 | 2 | 4 | 8;
  /** What ::formats says (mdb_iob_format2str of the printf format). */
  help: string;
  write?: boolean;
  show(env: FmtEnv, v: bigint): { s: string; width: number; alt?: string };
}

interface FuncSpec {
  kind: 'func';
  /** Bytes per item; 0 variable; -1 does not move dot. */
  size: number;
  help: string;
  write?: boolean;
  run(env: FmtEnv, addr: number, cnt: number): number;
}

/** The search characters (`l`, `L`, `M`), valid only first in a list. */
interface MatchSpec {
  kind: 'match';
  size: number;
  help: string;
}

/** Formats the simulator has no use for (no instructions to disassemble, no floating point). */
interface MissingSpec {
  kind: 'none';
  size: number;
  help: string;
  missing: string;
}

export type FmtSpec = PrintfSpec | FuncSpec | MatchSpec | MissingSpec;

const printf = (size: 1 | 2 | 4 | 8, help: string, show: PrintfSpec['show'], write = false): PrintfSpec => ({ kind: 'printf', size, help, show, write });
const hexw = (width: number) => (_e: FmtEnv, v: bigint) => ({ s: v.toString(16), width });
const decs = (bytes: number, width: number) => (_e: FmtEnv, v: bigint) => ({ s: signed(v, bytes).toString(10), width });
const decu = (width: number) => (_e: FmtEnv, v: bigint) => ({ s: v.toString(10), width });
/** `%#o`: octal with a leading 0 when not zero. */
const octAlt = (width: number) => (_e: FmtEnv, v: bigint) => ({ s: v.toString(8), width, alt: v !== 0n ? '0' : '' });
/** `%#q`: signed octal with a leading 0 when not zero. */
const soctAlt = (bytes: number, width: number) => (_e: FmtEnv, v: bigint) => {
  const x = signed(v, bytes);
  return { s: (x < 0n ? '-' + (-x).toString(8) : x.toString(8)), width, alt: x !== 0n ? '0' : '' };
};
const symw = (e: FmtEnv, v: bigint) => ({ s: addrString(e.m, v), width: 16 });

/** A loop of reads of `size` bytes each, printed by `each`; stops with mdb's warning on a failed read. */
function reads(size: number, each: (env: FmtEnv, v: bigint) => void) {
  return (env: FmtEnv, addr: number, cnt: number): number => {
    while (cnt-- > 0) {
      const b = env.t.read(addr, size);
      if (!b) {
        env.iob.warn(NOMAP);
        break;
      }
      each(env, le(b));
      addr += size;
    }
    return addr;
  };
}

function hex64(env: FmtEnv, v: bigint): void {
  env.iob.field(v.toString(16), (v & 0xf000000000000000n) !== 0n ? 17 : 16, true);
}

function strings(escape: boolean) {
  return (env: FmtEnv, addr: number, cnt: number): number => {
    const indent = env.iob.indenting;
    env.iob.clrIndent();
    for (; cnt-- > 0; addr++) {
      const b = env.t.readStr(addr, 8192);
      if (!b) {
        env.iob.warn(NOMAP);
        break;
      }
      env.iob.puts(escape ? escapeChars(b) : latin1(b));
      addr += b.length;
      if (cnt !== 0) env.iob.puts('\\0');
    }
    if (indent) env.iob.setIndent();
    return addr;
  };
}

function tabs(env: FmtEnv, addr: number, cnt: number): number {
  const ts = env.iob.tabstop;
  env.iob.tabstop = Math.min(cnt, env.iob.cols - 1);
  env.iob.tab();
  env.iob.tabstop = ts;
  return addr;
}

function newlines(env: FmtEnv, addr: number, cnt: number): number {
  while (cnt-- > 0) env.iob.nl();
  return addr;
}

export const FORMATS: Record<string, FmtSpec> = {
  '+': { kind: 'func', size: 0, help: 'increment dot by the count', run: (_e, a, n) => a + n },
  '-': { kind: 'func', size: 0, help: 'decrement dot by the count', run: (_e, a, n) => a - n },
  B: printf(1, 'hexadecimal int', hexw(8)),
  C: {
    kind: 'func', size: 1, help: 'character using C character notation',
    run(env, addr, cnt) {
      const b = env.t.read(addr, cnt);
      if (b) {
        env.iob.puts(escapeChars(b));
        addr += b.length;
      }
      return addr;
    },
  },
  D: printf(4, 'decimal signed int', decs(4, 16)),
  E: printf(8, 'decimal unsigned long long', decu(16)),
  F: { kind: 'none', size: 8, help: 'double', missing: 'floating-point formats' },
  G: printf(8, 'octal unsigned long long', (_e, v) => ({ s: v.toString(8), width: 16 })),
  H: {
    kind: 'func', size: 4, help: 'swap bytes and shorts',
    run: reads(4, (env, v) => {
      const x = ((v & 0xffn) << 24n) | ((v & 0xff00n) << 8n) | ((v >> 8n) & 0xff00n) | ((v >> 24n) & 0xffn);
      env.iob.field(x.toString(16), 16, true);
    }),
  },
  I: { kind: 'none', size: 0, help: 'address and disassembled instruction', missing: 'disassembly' },
  J: { kind: 'func', size: 8, help: 'hexadecimal long long', run: reads(8, hex64) },
  K: { kind: 'func', size: 8, help: 'hexadecimal uintptr_t', run: reads(8, hex64) },
  L: { kind: 'match', size: 4, help: 'int' },
  M: { kind: 'match', size: 8, help: 'long long' },
  N: { kind: 'func', size: -1, help: 'newline', run: newlines },
  O: printf(4, 'octal unsigned int', octAlt(16)),
  P: printf(8, 'symbol', symw),
  Q: printf(4, 'octal signed int', soctAlt(4, 16)),
  R: { kind: 'func', size: 8, help: 'binary unsigned long long', run: reads(8, (env, v) => env.iob.field(v.toString(2), 64, true)) },
  S: { kind: 'func', size: 0, help: 'string using C string notation', run: strings(true) },
  T: { kind: 'func', size: -1, help: 'horizontal tab', run: tabs },
  U: printf(4, 'decimal unsigned int', decu(16)),
  V: printf(1, 'decimal unsigned int', decu(8)),
  W: printf(4, 'default radix unsigned int', hexw(16), true),
  X: printf(4, 'hexadecimal int', hexw(16)),
  Y: { kind: 'func', size: 4, help: 'decoded time32_t', run: reads(4, (env, v) => env.iob.field(timeString(signed(v, 4)), 24, true)) },
  Z: { kind: 'func', size: 8, help: 'hexadecimal long long', write: true, run: reads(8, hex64) },
  '^': { kind: 'func', size: 0, help: 'decrement dot by increment * count', run: (env, a, n) => a - env.incr * n },
  a: {
    kind: 'func', size: -1, help: 'dot as symbol+offset',
    run(env, addr, cnt) {
      const indent = env.iob.indenting;
      env.iob.clrIndent();
      while (cnt-- > 0) {
        env.iob.field(addrString(env.m, decodeValue(addr)), 16, true, ':', true);
        env.iob.tabTo(16);
      }
      if (indent) env.iob.setIndent();
      return addr;
    },
  },
  b: printf(1, 'octal unsigned int', octAlt(8)),
  c: printf(1, 'character', (_e, v) => ({ s: v === 0n ? '' : String.fromCharCode(Number(v)), width: 0 })),
  d: printf(2, 'decimal signed short', decs(2, 8)),
  e: printf(8, 'decimal signed long long', decs(8, 16)),
  f: { kind: 'none', size: 4, help: 'float', missing: 'floating-point formats' },
  g: printf(8, 'octal signed long long', (_e, v) => {
    const x = signed(v, 8);
    return { s: x < 0n ? '-' + (-x).toString(8) : x.toString(8), width: 16 };
  }),
  h: {
    kind: 'func', size: 2, help: 'swap bytes',
    run: reads(2, (env, v) => env.iob.field((((v & 0xffn) << 8n) | (v >> 8n)).toString(16), 8, true)),
  },
  i: { kind: 'none', size: 0, help: 'disassembled instruction', missing: 'disassembly' },
  l: { kind: 'match', size: 2, help: 'short' },
  n: { kind: 'func', size: -1, help: 'newline', run: newlines },
  o: printf(2, 'octal unsigned short', octAlt(8)),
  p: printf(8, 'symbol', symw),
  q: printf(2, 'octal signed short', soctAlt(2, 8)),
  r: { kind: 'func', size: -1, help: 'whitespace', run: (env, a, n) => (env.iob.ws(n), a) },
  s: { kind: 'func', size: 0, help: 'raw string', run: strings(false) },
  t: { kind: 'func', size: -1, help: 'horizontal tab', run: tabs },
  u: printf(2, 'decimal unsigned short', decu(8)),
  v: { kind: 'func', size: 1, help: 'decimal signed int', write: true, run: reads(1, (env, v) => env.iob.field(signed(v, 1).toString(10), 8, true)) },
  w: printf(2, 'default radix unsigned short', hexw(8), true),
  x: printf(2, 'hexadecimal short', hexw(8)),
  y: { kind: 'func', size: 8, help: 'decoded time64_t', run: reads(8, (env, v) => env.iob.field(timeString(signed(v, 8)), 24, true)) },
};

/** The rows of ::formats, in character order. */
export function formatsTable(): string[] {
  const out: string[] = [];
  for (const ch of Object.keys(FORMATS).sort((a, b) => a.charCodeAt(0) - b.charCodeAt(0))) {
    const f = FORMATS[ch]!;
    if (f.kind === 'none') continue;
    const w = f.kind !== 'match' && f.write ? 'write ' : '';
    const what = f.kind === 'match' ? `match ${f.help}` : `${w}${f.help}`;
    const size = f.size === -1 ? '' : f.size === 0 ? ' (variable size)' : f.size === 1 ? ' (1 byte)' : ` (${f.size} bytes)`;
    out.push(`${ch} - ${what}${size}`);
  }
  return out;
}

/** mdb_fmt_print: `cnt` items of format `ch` at addr; returns the address after them. */
export function fmtPrint(env: FmtEnv, addr: number, cnt: number, ch: string): number {
  const f = FORMATS[ch];
  if (!f || f.kind === 'match') {
    env.iob.warn(`invalid format character -- '${ch}'`);
    return addr;
  }
  if (f.kind === 'none') {
    env.iob.warn(`format '${ch}' (${f.help}) is not available in the simulator: it has no ${f.missing}`);
    return addr;
  }
  if (f.kind === 'func') return f.run(env, addr, cnt);
  while (cnt-- > 0) {
    const b = env.t.read(addr, f.size);
    if (!b) {
      env.iob.warn(NOMAP);
      return addr;
    }
    const r = f.show(env, le(b));
    env.iob.field(r.s, r.width, true, r.alt ?? '');
    addr += f.size;
  }
  return addr;
}

// ---------------------------------------------------------------- argument lists

/** One element of a format list: a format character, a repeat count, or a quoted string. */
export type FmtArg = { t: 'char'; c: string } | { t: 'count'; n: number } | { t: 'str'; s: string } | { t: 'word'; w: string };

/**
 * The argument list of `/`, `=`: format characters (no blanks needed between them), decimal
 * repeat counts, `$[expr]` counts, and `"strings"`. After a write or match character (first
 * in the list) the rest are blank-separated value expressions.
 */
export function parseFormatList(text: string, evaluate: (expr: string) => bigint): FmtArg[] {
  const out: FmtArg[] = [];
  let i = 0;
  const s = text;
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (out.length === 1 && out[0]!.t === 'char' && 'vwzWZlLM'.includes(out[0]!.c)) {
      // Values to write or to match.
      const mt = /^\S+/.exec(s.slice(i))!;
      out.push({ t: 'word', w: mt[0] });
      i += mt[0].length;
      continue;
    }
    if (/[0-9]/.test(c)) {
      const mt = /^[0-9]+/.exec(s.slice(i))!;
      out.push({ t: 'count', n: parseInt(mt[0], 10) });
      i += mt[0].length;
      continue;
    }
    if (c === '$' && s[i + 1] === '[') {
      const end = s.indexOf(']', i + 2);
      if (end < 0) throw new MdbError(`syntax error near "${s.slice(i)}"`);
      const v = evaluate(s.slice(i + 2, end));
      out.push({ t: 'count', n: Number(BigInt.asUintN(32, v)) });
      i = end + 1;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      let str = '';
      for (; j < s.length && s[j] !== '"'; j++) {
        if (s[j] === '\\' && j + 1 < s.length) {
          const e = s[++j]!;
          str += e === 'n' ? '\n' : e === 't' ? '\t' : e;
        } else str += s[j];
      }
      if (j >= s.length) throw new MdbError('unterminated string');
      out.push({ t: 'str', s: str });
      i = j + 1;
      continue;
    }
    out.push({ t: 'char', c });
    i++;
  }
  return out;
}

/** State shared with the engine: dot and the increment. */
export interface DotState {
  dot: number;
  incr: number;
}

/**
 * `/` (print_common): reads at dot. A write character first is refused (the simulator's memory
 * changes only through the program); a match character first searches.
 */
export function printArglist(m: Machine, iob: Iob, st: DotState, args: FmtArg[], header: boolean, evaluate: (e: string) => bigint): { abort?: boolean } {
  const first = args[0];
  if (first && first.t === 'char' && 'vwzWZ'.includes(first.c)) {
    if (args.length === 1) throw new MdbError(`expected value to write following ${first.c}`);
    throw new MdbError('writing to the target is not available in the simulator: kernel memory changes only by running it');
  }
  if (first && first.t === 'char' && 'lLM'.includes(first.c)) return matchArglist(m, iob, st, args, evaluate);
  let addr = st.dot;
  const oaddr = addr;
  if (header) {
    const name = exactSymbol(m, addr);
    if (name) {
      iob.puts(`${name}:`);
      iob.nl();
    }
    iob.field(addrString(m, decodeValue(addr)), iob.margin, true, ':', true);
    iob.tabTo(16);
  }
  const list: FmtArg[] = args.length ? args : [{ t: 'char', c: 'X' }];
  const env: FmtEnv = { m, iob, t: memoryTarget(m), incr: st.incr };
  iob.setIndent();
  try {
    let n = 1;
    for (const a of list) {
      if (a.t === 'count') n = a.n;
      else if (a.t === 'str') {
        iob.puts(a.s);
        n = 1;
      } else if (a.t === 'char') {
        const next = fmtPrint(env, addr, n, a.c);
        st.incr = env.incr = next - addr;
        addr = next;
        n = 1;
      }
    }
  } finally {
    st.incr = addr - oaddr;
    iob.clrIndent();
  }
  return {};
}

/** `l`, `L`, `M` first: the first address at or after dot whose value (masked) matches. */
function matchArglist(m: Machine, iob: Iob, st: DotState, args: FmtArg[], evaluate: (e: string) => bigint): { abort?: boolean } {
  const c = (args[0] as { c: string }).c;
  if (args.length < 2) throw new MdbError(`expected value following ${c}`);
  if (args.length > 3) throw new MdbError(`only value and mask may follow ${c}`);
  const size = c === 'l' ? 2 : c === 'L' ? 4 : 8;
  const vals = args.slice(1).map((a) => (a.t === 'word' ? evaluate(a.w) : 0n));
  const mask = BigInt.asUintN(size * 8, vals[1] ?? -1n);
  const want = BigInt.asUintN(size * 8, vals[0]!);
  const t = memoryTarget(m);
  let addr = st.dot;
  for (;;) {
    const b = t.read(addr, size);
    if (!b) break;
    if ((le(b) & mask) === want) {
      iob.puts(addrString(m, decodeValue(addr)));
      iob.nl();
      break;
    }
    addr += size;
  }
  st.dot = addr;
  return { abort: true };
}

/** `=` (cmd_print_value): the value of dot in each format, on the 16-column margin. */
export function printValue(m: Machine, iob: Iob, st: DotState, args: FmtArg[]): void {
  if (!args.length) throw new MdbError("expected one or more format characters following '='");
  let dot = st.dot;
  const env: FmtEnv = { m, iob, t: valueTarget(decodeValue(dot)), incr: st.incr };
  iob.setIndent();
  try {
    let n = 1;
    for (const a of args) {
      if (a.t === 'count') n = a.n;
      else if (a.t === 'str') {
        iob.puts(a.s);
        n = 1;
      } else if (a.t === 'char') {
        const nd = fmtPrint(env, dot, n, a.c);
        if (a.c === '+' || a.c === '-') {
          dot = nd;
          env.t = valueTarget(decodeValue(dot));
        }
        n = 1;
      }
    }
  } finally {
    iob.clrIndent();
  }
  st.dot = dot;
  st.incr = 0;
}
