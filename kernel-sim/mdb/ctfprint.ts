/**
 * ::print's output (mdb_print.c): a value of a C type in simulated memory. Structures open with
 * `{`, their members follow four columns deeper as `name = value`, and `}` closes them; integers
 * are hex (`0x3c`, `0` .. `9` bare, `-d` decimal with `0t`), `char` a quoted C character,
 * pointers `%a` (a symbol and offset where there is one, so function pointers print as
 * functions), `char *` adds the string, char arrays print as `[ "string" ]` and other arrays
 * as `[ 0x1, 0x2 ]` (32 members at most, as mdb's default). With `-t` each line starts with the
 * CTF type name, with `-a` with the address. Member arguments (`a.b`, `p->q`, `arr[2]`) print
 * as `path = value`, the path also prefixing the first level of a structure's members.
 * Lines wrap at column 80 as mdb's output does.
 */
import type { Machine } from '../machine/machine';
import type { Iob } from './iob';
import { MdbError } from './types';
import { sizeOf, type MType } from './ctf';
import { addrString, escapeChars, showBase, timeString } from './fmt';
import { decodeValue, encodeValue } from './expr';

export interface PrintOpts {
  showType: boolean;
  showAddr: boolean;
  /** Values are printed only with an address (without one, ::print -t shows the layout). */
  showVal: boolean;
  intHex: boolean;
  intDec: boolean;
  noSym: boolean;
  /** Array members to print (-l), chars of a char array (-c). */
  armemlim: number;
  arstrlim: number;
  /** Recursion depth (-s). */
  maxdepth: number;
}

export const DEFAULT_ARRMEM = 32;
export const DEFAULT_ARRSTR = 1024;

/** A failed read: mdb warns, drops the line and stops printing. */
class ReadFailed extends Error {}

interface Flags {
  type: boolean;
  name: boolean;
  addr: boolean;
}

const NOMAP = 'no mapping for address';

export class TypePrinter {
  /** Member path printed before names (a member argument), and what joins it to member names. */
  prefix: string | null = null;
  suffix = '';
  private nest = 0;

  constructor(readonly m: Machine, readonly iob: Iob, readonly o: PrintOpts) {}

  private hexAddr(a: number): string {
    return decodeValue(a).toString(16);
  }

  private read(a: number, n: number, what: () => string): bigint {
    if (!Number.isFinite(a) || !this.m.mem.isMapped(a, n)) {
      this.iob.warn(`${what()}: ${NOMAP}`);
      throw new ReadFailed();
    }
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.m.mem.u8[a + i]!);
    return v;
  }

  private readStr(a: number, max: number): string | undefined {
    const mem = this.m.mem;
    if (!Number.isFinite(a) || !mem.isMapped(a, 1)) return undefined;
    let s = '';
    for (let i = 0; i < max && mem.isMapped(a + i, 1); i++) {
      const c = mem.u8[a + i]!;
      if (!c) break;
      s += String.fromCharCode(c);
    }
    return s;
  }

  /** Prints one value (and for a structure its members). Returns false if a read failed. */
  print(t: MType, addr: number): boolean {
    try {
      this.visit('', t, addr, 0, { type: this.o.showType, name: true, addr: this.o.showAddr }, '\n');
      return true;
    } catch (e) {
      if (e instanceof ReadFailed) {
        this.iob.discard();
        return false;
      }
      throw e;
    }
  }

  private visit(name: string, t: MType, addr: number, depth: number, fl: Flags, delim: string): void {
    if (depth > this.o.maxdepth) return;
    this.head(name, t, addr, depth, fl);
    if (t.k === 'sou') {
      this.iob.field(depth === this.o.maxdepth ? '{ ... }' : '{');
      this.iob.puts('\n');
      if (depth === this.o.maxdepth) return;
      for (const f of t.fields()) this.visit(f.name, f.type, addr + f.offset, depth + 1, fl, '\n');
      this.iob.field(' '.repeat((depth + this.nest) * 4) + '}' + (depth === 0 && this.nest > 0 ? ',' : ''));
      this.iob.puts('\n');
      return;
    }
    this.value(t, addr, depth, fl, name);
    this.iob.puts(delim);
  }

  /** Indentation, address, type, name and ` = ` of an element (elt_print). */
  private head(name: string, t: MType, addr: number, depth: number, fl: Flags): void {
    const iob = this.iob;
    if (fl.type || fl.name || fl.addr) iob.field('', (depth + this.nest) * 4);
    if (fl.addr) {
      iob.field(this.hexAddr(addr));
      iob.text(' ');
    }
    if (fl.type) {
      iob.field(t.name);
      if (!t.name.endsWith('*') || (depth === 0 && (!fl.name || this.prefix === null))) iob.text(' ');
    }
    if (fl.name) {
      if (this.prefix !== null && depth <= 1) iob.field(this.prefix + (depth === 0 ? '' : this.suffix));
      iob.field(name);
    }
    if (depth !== 0 || (fl.name && this.prefix !== null)) {
      iob.field(this.o.showVal ? ' =' : '');
      iob.text(' ');
    }
  }

  private value(t: MType, addr: number, depth: number, fl: Flags, name: string): void {
    const o = this.o;
    const iob = this.iob;
    if (!o.showVal) return;
    switch (t.k) {
      case 'int': {
        if (t.char) {
          iob.text("'");
          const v = this.read(addr, 1, () => `failed to read 1 bytes at ${this.hexAddr(addr)}`);
          iob.puts(escapeChars(new Uint8Array([Number(v)])));
          iob.text("'");
          return;
        }
        const v = this.read(addr, t.size, () => `failed to read ${t.size} bytes at ${this.hexAddr(addr)}`);
        if (!o.intHex && !o.intDec && /^(const |volatile )*time_t$/.test(t.name) && v !== 0n) {
          iob.field(timeString(BigInt.asIntN(64, v)));
          return;
        }
        iob.field(this.int(v, t.size, t.signed));
        return;
      }
      case 'enum': {
        const v = this.read(addr, 4, () => `failed to read ${name} integer at ${this.hexAddr(addr)}`);
        iob.field(o.intHex ? hexAlt(v) : showBase(BigInt.asIntN(32, v), 10));
        return;
      }
      case 'ptr': {
        const v = this.read(addr, 8, () => `failed to read ${name} pointer at ${this.hexAddr(addr)}`);
        if (o.noSym) {
          iob.field(hexAlt(v));
          return;
        }
        iob.field(addrString(this.m, v));
        if (v === 0n || t.fn || !t.char || /^(const |volatile )*caddr_t$/.test(t.name)) return;
        const s = this.readStr(encodeValue(v), 256);
        if (s !== undefined && isPrint(s)) iob.field(` "${s}"`);
        return;
      }
      case 'array':
        this.array(t, addr, depth, fl);
        return;
      case 'fwd':
        iob.text('; ');
        iob.field(`<forward declaration of ${t.name}>`);
        return;
      case 'opaque': {
        // Bytes of a type the simulator does not lay out.
        const n = Math.min(t.size, o.armemlim);
        const bytes: string[] = [];
        for (let i = 0; i < n; i++) bytes.push(hexAlt(this.read(addr + i, 1, () => `failed to read 1 bytes at ${this.hexAddr(addr + i)}`)));
        iob.text('[ ');
        bytes.forEach((b, i) => {
          iob.field(b);
          iob.puts(i < n - 1 ? ', ' : n < t.size ? ', ... ]' : ' ]');
        });
        return;
      }
      case 'bits': {
        // print_bitfield: unsigned in hex, signed in decimal (-x: hex, -d: decimal).
        const v = t.get(addr);
        if (v === undefined) {
          iob.field('???');
          return;
        }
        if (v < 0n && !o.intHex) iob.field(showBase(v, 10));
        else {
          const u = BigInt.asUintN(64, v);
          iob.field(o.intDec ? showBase(u, 10) : hexAlt(u));
        }
        return;
      }
      case 'sou':
        return;
    }
  }

  /** An integer as print_int_val formats it: hex by default, `-d` decimal with `0t`. */
  private int(v: bigint, size: number, signed: boolean): string {
    if (!this.o.intDec) return hexAlt(v);
    // %#d of a 1- or 2-byte value prints the unsigned container; 4 and 8 bytes are signed.
    if (signed && size >= 4) return showBase(BigInt.asIntN(size * 8, v), 10);
    return showBase(v, 10);
  }

  private array(t: Extract<MType, { k: 'array' }>, addr: number, depth: number, fl: Flags): void {
    const o = this.o;
    const iob = this.iob;
    if (depth === o.maxdepth) {
      iob.field('[ ... ]');
      return;
    }
    const el = t.of;
    const es = sizeOf(el);
    if (el.k === 'int' && el.char && t.n <= o.arstrlim) {
      const head = this.readStr(addr, Math.min(8, t.n));
      if (head && isPrint(head)) {
        if (!this.m.mem.isMapped(addr, t.n)) {
          iob.warn(`failed to read char array at ${this.hexAddr(addr)}: ${NOMAP}`);
          throw new ReadFailed();
        }
        let s = '';
        for (let i = 0; i < t.n && this.m.mem.u8[addr + i]; i++) s += String.fromCharCode(this.m.mem.u8[addr + i]!);
        if (isPrint(s)) {
          iob.field(`[ "${s}" ]`);
          return;
        }
      }
    }
    const limit = Math.min(t.n, o.armemlim);
    if (limit === 0) {
      iob.field('[ ... ]');
      return;
    }
    const composite = el.k === 'sou' || el.k === 'array';
    const saveNest = this.nest;
    const savePrefix = this.prefix;
    this.nest += depth + 1;
    this.prefix = null;
    try {
      if (composite) {
        iob.field('[');
        iob.puts('\n');
        for (let i = 0; i < limit; i++) this.visit('', el, addr + i * es, 0, fl, '\n');
      } else {
        iob.field('[ ');
        const efl = { type: false, name: false, addr: false };
        for (let i = 0; i < limit; i++) {
          const d = i < limit - 1 ? ', ' : limit < t.n ? ', ... ]' : ' ]';
          this.visit('', el, addr + i * es, 0, efl, d);
        }
      }
    } finally {
      this.nest = saveNest;
      this.prefix = savePrefix;
    }
    if (composite) iob.field(' '.repeat((depth + this.nest) * 4) + (limit < t.n ? '... ]' : ']'));
  }
}

/** `%#x`: `0x` before a value that is not zero. */
function hexAlt(v: bigint): string {
  return v === 0n ? '0' : '0x' + v.toString(16);
}

/** strisprint: every character printable (and at least none that is not). */
function isPrint(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/** What a member path (`a.b`, `p->q`, `arr[2]`) names: its type and address. */
export interface MemberRef {
  type: MType;
  addr: number;
  /** The path ended with `[0]` on a pointer: printed as `p->` rather than `p[0].`. */
  lastDeref: boolean;
}

/** parse_member: follows `.`, `->` and `[n]` from a value of type t at addr. */
export function parseMember(m: Machine, t: MType, addr: number, path: string, warn: (s: string) => void): MemberRef {
  let i = 0;
  let type = t;
  let a = addr;
  let lastDeref = false;
  let nonArray = false;
  const delim = (): '.' | '->' | '[' | '' | 'err' => {
    if (i >= path.length) return '';
    if (path[i] === '.') { i++; return '.'; }
    if (path[i] === '[') { i++; return '['; }
    if (path.startsWith('->', i)) { i += 2; return '->'; }
    return 'err';
  };
  const deref = (): void => {
    if (!m.mem.isMapped(a, 8)) throw new MdbError(`could not dereference pointer ${decodeValue(a).toString(16)}`);
    a = encodeValue(m.mem.dv.getBigUint64(a, true));
  };
  let d = delim();
  if (d === 'err') d = type.k === 'ptr' ? '->' : '.';
  while (d !== '') {
    if (d === '->') {
      if (type.k !== 'ptr') throw new MdbError(`${type.name} is not a pointer type`);
      deref();
      const to = type.to();
      if (!to) throw new MdbError(`cannot dereference ${type.name}`);
      type = to;
    } else if (d === '.') {
      if (type.k !== 'sou') throw new MdbError(`${type.name} is not a struct or union type`);
    } else if (d === '[') {
      const end = path.indexOf(']', i);
      if (end < 0) throw new MdbError("no trailing ']'");
      const idx = Number(BigInt.asUintN(32, parseIndex(path.slice(i, end))));
      if (type.k === 'ptr') {
        deref();
        const to = type.to();
        if (!to || sizeOf(to) <= 0) throw new MdbError('cannot dereference void type');
        type = to;
        a += idx * sizeOf(to);
        if (idx === 0 && nonArray) lastDeref = true;
      } else if (type.k === 'array') {
        if (idx >= type.n) warn(`index ${idx.toString(16)} is outside of array bounds [0 .. ${(type.n - 1).toString(16)}]`);
        type = type.of;
        a += idx * sizeOf(type);
      } else throw new MdbError('cannot index into non-array, non-pointer type');
      i = end + 1;
      d = delim();
      if (d === 'err') throw new MdbError(`'${path[i]}' is not a valid delimiter`);
      continue;
    } else throw new MdbError(`'${path[i]}' is not a valid delimiter`);
    lastDeref = false;
    nonArray = true;
    const mt = /^[A-Za-z0-9_]+/.exec(path.slice(i));
    const member = mt ? mt[0] : path.slice(i, i + 1);
    i += member.length;
    const f = type.k === 'sou' ? type.fields().find((x) => x.name === member) : undefined;
    if (!f) throw new MdbError(`failed to find member ${member} of ${type.name}: no such member of structure or union`);
    a += f.offset;
    type = f.type;
    d = delim();
    if (d === 'err') throw new MdbError(`'${path[i]}' is not a valid delimiter`);
  }
  return { type, addr: a, lastDeref };
}

/** An array index as mdb_strtoull reads it: hex by default, with 0t/0x/0o/0i prefixes. */
function parseIndex(s: string): bigint {
  const t = s.trim().toLowerCase();
  try {
    if (t.startsWith('0t')) return BigInt(t.slice(2));
    if (t.startsWith('0o')) return BigInt('0o' + t.slice(2));
    if (t.startsWith('0i')) return BigInt('0b' + t.slice(2));
    return BigInt('0x' + (t.replace(/^0x/, '') || '0'));
  } catch {
    throw new MdbError(`failed to parse index '${s}'`);
  }
}

/** pipe_print: the value a member passes down a pipeline (the address of a composite). */
export function pipeValue(m: Machine, t: MType, addr: number, showAddr: boolean): string {
  const bits = (a: number) => decodeValue(a);
  if (showAddr) return showBase(bits(addr));
  const rd = (n: number): bigint => {
    if (!m.mem.isMapped(addr, n)) throw new MdbError(`failed to read ${n} bytes at ${bits(addr).toString(16)}: ${NOMAP}`);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(m.mem.u8[addr + i]!);
    return v;
  };
  if (t.k === 'ptr') return showBase(rd(8));
  if (t.k === 'int') return showBase(rd(t.size));
  if (t.k === 'enum') return showBase(rd(4));
  if (t.k === 'bits') return showBase(BigInt.asUintN(64, t.get(addr) ?? 0n));
  return showBase(bits(addr));
}
