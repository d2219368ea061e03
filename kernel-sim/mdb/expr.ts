/**
 * mdb arithmetic expressions (mdb(1) "Arithmetic Expansion"): numbers in the output radix 16
 * (`0t` decimal, `0x` hex, `0o` octal, `0i` binary), symbols (their address), `.` (dot), `+`
 * alone (dot plus the increment of the last formatting dcmd), unary `-` `~` `#` (logical not)
 * `*` (read a pointer), binary `*` `%` (divide) `#` (modulo) `+` `-` `<<` `>>` `==` `!=` `&`
 * `^` `|`, and parentheses.
 *
 * As in mdb, every value is an unsigned 64-bit integer: the arithmetic is done on bigints. The
 * engine hands dcmds plain numbers, so a result is encoded back (`encodeValue`): a kernel
 * address becomes the simulator's internal address, a small number stays itself, any other
 * value below 2^52 becomes `PLAIN_BASE + value` (an address that is never mapped), and larger
 * ones become the memory model's wild pointers. `decodeValue` is the inverse.
 */
import type { Machine } from '../machine/machine';
import { Memory, NULL_GUARD, WILD_BASE, ADDR_LIMIT } from '../machine/memory';
import { MdbError } from './types';
import { curthread } from './kthread';
import { p, PLAIN_BASE, wildBits } from './format';

const MASK64 = (1n << 64n) - 1n;

/** The 64-bit value an engine number stands for. */
export function decodeValue(v: number): bigint {
  if (!Number.isFinite(v)) return 0n;
  v = Math.trunc(v);
  if (v < 0) return BigInt.asUintN(64, BigInt(v));
  if (v < NULL_GUARD) return BigInt(v);
  if (v < ADDR_LIMIT) return Memory.ptrToBig(v);
  if (v >= PLAIN_BASE) return BigInt(v - PLAIN_BASE);
  if (v >= WILD_BASE) return BigInt('0x' + wildBits(v));
  return BigInt(v);
}

/** The engine number for a 64-bit value (see the file comment). */
export function encodeValue(x: bigint): number {
  const v = x & MASK64;
  if (v < BigInt(NULL_GUARD)) return Number(v);
  if (((v >> 40n) & 0xffffffn) === 0xfffffen) {
    const a = Memory.bigToPtr(v);
    if (a < ADDR_LIMIT) return a;
  }
  if (v < 1n << 52n) return PLAIN_BASE + Number(v);
  return Memory.bigToPtr(v);
}

export interface ExprEnv {
  m: Machine;
  dot: number;
  /** The increment of the last formatting dcmd (`+` alone is dot plus it). */
  incr?: number;
}

type Tok = { k: 'num'; v: bigint } | { k: 'id'; v: string } | { k: 'op'; v: string };

function tokenize(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) { i++; continue; }
    const two = s.slice(i, i + 2);
    if (two === '<<' || two === '>>' || two === '==' || two === '!=') { out.push({ k: 'op', v: two }); i += 2; continue; }
    if ('+-*%#&|^~().'.includes(c)) {
      out.push({ k: 'op', v: c });
      i++;
      continue;
    }
    const mt = /^[A-Za-z0-9_`$][A-Za-z0-9_`$.]*/.exec(s.slice(i));
    if (!mt) throw new MdbError(`syntax error near "${s.slice(i)}"`);
    let w = mt[0];
    // A trailing '.' belongs to the next token only when it stands alone; identifiers may not end with one.
    while (w.endsWith('.')) w = w.slice(0, -1);
    i += w.length;
    const num = number(w);
    if (/^[0-9]/.test(w)) {
      if (num === undefined) throw new MdbError(`syntax error near "${w}"`);
      out.push({ k: 'num', v: num });
    } else out.push({ k: 'id', v: w });
  }
  return out;
}

function number(w: string): bigint | undefined {
  const lw = w.toLowerCase();
  let v: bigint;
  if (lw.startsWith('0t')) {
    if (!/^\d+$/.test(lw.slice(2))) return undefined;
    v = BigInt(lw.slice(2));
  } else if (lw.startsWith('0o')) {
    if (!/^[0-7]+$/.test(lw.slice(2))) return undefined;
    v = BigInt('0o' + lw.slice(2));
  } else if (lw.startsWith('0i')) {
    if (!/^[01]+$/.test(lw.slice(2))) return undefined;
    v = BigInt('0b' + lw.slice(2));
  } else {
    if (!/^(0x)?[0-9a-f]+$/.test(lw)) return undefined;
    v = BigInt('0x' + lw.replace(/^0x/, ''));
  }
  return v & MASK64;
}

/** A symbol's value in an expression: its address (or the thread for `curthread`). */
export function lookupSymbol(m: Machine, name: string): number | undefined {
  const bare = name.includes('`') ? name.slice(name.lastIndexOf('`') + 1) : name;
  if (bare === 'curthread') return curthread(m).addr;
  const t = m.sym.lookup(bare);
  if (t) return t.addr;
  const d = m.sym.data.get(bare);
  if (d) return d.addr;
  const prog = m.program;
  if (prog) {
    try {
      const g = prog.globals(m).find((x) => x.name === bare);
      if (g && g.addr !== undefined) return g.addr;
    } catch {
      /* the interpreter could not answer: fall through */
    }
  }
  return undefined;
}

/** Evaluates to the 64-bit value. */
export function evaluateValue(env: ExprEnv, text: string): bigint {
  const toks = tokenize(text);
  let pos = 0;
  const peek = () => toks[pos];
  const isOp = (v: string) => {
    const t = toks[pos];
    return t && t.k === 'op' && t.v === v;
  };
  const binary = (ops: string[], next: () => bigint, f: (op: string, a: bigint, b: bigint) => bigint) => (): bigint => {
    let a = next();
    for (;;) {
      const t = peek();
      if (!t || t.k !== 'op' || !ops.includes(t.v)) return a;
      pos++;
      a = f(t.v, a, next()) & MASK64;
    }
  };
  const unary = (): bigint => {
    const t = peek();
    if (!t) throw new MdbError('syntax error');
    if (t.k === 'op') {
      if (t.v === '-') { pos++; return -unary() & MASK64; }
      if (t.v === '~') { pos++; return ~unary() & MASK64; }
      if (t.v === '#') { pos++; return unary() === 0n ? 1n : 0n; }
      if (t.v === '+') {
        // `+` where an operand belongs: dot plus the increment.
        pos++;
        return (decodeValue(env.dot) + BigInt(env.incr ?? 0)) & MASK64;
      }
      if (t.v === '*') {
        pos++;
        const a = encodeValue(unary());
        if (!env.m.mem.isMapped(a, 8)) throw new MdbError(`failed to read pointer at ${p(a)}: no mapping for address`);
        return env.m.mem.dv.getBigUint64(a, true);
      }
      if (t.v === '(') {
        pos++;
        const v = or();
        if (!isOp(')')) throw new MdbError('syntax error: missing )');
        pos++;
        return v;
      }
      if (t.v === '.') { pos++; return decodeValue(env.dot); }
      throw new MdbError(`syntax error near "${t.v}"`);
    }
    pos++;
    if (t.k === 'num') return t.v;
    const v = lookupSymbol(env.m, t.v);
    if (v !== undefined) return decodeValue(v);
    const n = number(t.v);
    if (n !== undefined) return n;
    throw new MdbError(`failed to dereference symbol: unknown symbol name`);
  };
  const mul = binary(['*', '%', '#'], unary, (op, a, b) => {
    if ((op === '%' || op === '#') && b === 0n) throw new MdbError('attempted to divide by zero');
    return op === '*' ? a * b : op === '%' ? a / b : a % b;
  });
  const add = binary(['+', '-'], mul, (op, a, b) => (op === '+' ? a + b : a - b));
  const shift = binary(['<<', '>>'], add, (op, a, b) => (b > 63n ? 0n : op === '<<' ? a << b : a >> b));
  const eq = binary(['==', '!='], shift, (op, a, b) => ((op === '==') === (a === b) ? 1n : 0n));
  const and = binary(['&'], eq, (_op, a, b) => a & b);
  const xor = binary(['^'], and, (_op, a, b) => a ^ b);
  const or = binary(['|'], xor, (_op, a, b) => a | b);
  const v = or();
  if (pos < toks.length) throw new MdbError(`syntax error near "${text}"`);
  return v;
}

/** Evaluates to an engine number (an internal address for a kernel address). */
export function evaluate(env: ExprEnv, text: string): number {
  return encodeValue(evaluateValue(env, text));
}
