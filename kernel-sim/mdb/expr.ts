/**
 * mdb arithmetic expressions (mdb(1) "Arithmetic Expansion"): numbers in the output radix 16
 * (`0t` decimal, `0x` hex, `0o` octal, `0i` binary), symbols (their address), `.` (dot),
 * unary `-` `~` `#` (logical not) `*` (read a pointer), binary `*` `%` (divide) `#` (modulo)
 * `+` `-` `<<` `>>` `==` `!=` `&` `^` `|`, and parentheses.
 */
import type { Machine } from '../machine/machine';
import { parseAddr, Memory, NULL_GUARD } from '../machine/memory';
import { MdbError } from './types';
import { curthread } from './kthread';
import { p } from './format';

export interface ExprEnv {
  m: Machine;
  dot: number;
}

type Tok = { k: 'num'; v: number } | { k: 'id'; v: string } | { k: 'op'; v: string };

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

function number(w: string): number | undefined {
  const lw = w.toLowerCase();
  if (lw.startsWith('0t')) return /^\d+$/.test(lw.slice(2)) ? parseInt(lw.slice(2), 10) : undefined;
  if (lw.startsWith('0o')) return /^[0-7]+$/.test(lw.slice(2)) ? parseInt(lw.slice(2), 8) : undefined;
  if (lw.startsWith('0i')) return /^[01]+$/.test(lw.slice(2)) ? parseInt(lw.slice(2), 2) : undefined;
  if (!/^(0x)?[0-9a-f]+$/.test(lw)) return undefined;
  const hex = lw.replace(/^0x/, '');
  if (hex.length === 16 && hex.startsWith('fffffe')) return parseAddr(hex);
  // Any other value is a kernel VA outside the simulated heap (or a small number): it must not
  // alias the simulator's internal offsets.
  const v = parseInt(hex, 16);
  if (v < NULL_GUARD || hex.length > 16) return v;
  return Memory.bigToPtr(BigInt('0x' + hex));
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

export function evaluate(env: ExprEnv, text: string): number {
  const toks = tokenize(text);
  let pos = 0;
  const peek = () => toks[pos];
  const isOp = (v: string) => {
    const t = toks[pos];
    return t && t.k === 'op' && t.v === v;
  };
  const binary = (ops: string[], next: () => number, f: (op: string, a: number, b: number) => number) => (): number => {
    let a = next();
    for (;;) {
      const t = peek();
      if (!t || t.k !== 'op' || !ops.includes(t.v)) return a;
      pos++;
      a = f(t.v, a, next());
    }
  };
  const unary = (): number => {
    const t = peek();
    if (!t) throw new MdbError('syntax error');
    if (t.k === 'op') {
      if (t.v === '-') { pos++; return -unary(); }
      if (t.v === '~') { pos++; return Number(~BigInt(unary()) & 0xffffffffffffffffn); }
      if (t.v === '#') { pos++; return unary() === 0 ? 1 : 0; }
      if (t.v === '*') {
        pos++;
        const a = unary();
        if (!env.m.mem.isMapped(a, 8)) throw new MdbError(`failed to read pointer at ${p(a)}: no mapping for address`);
        return env.m.mem.readPtr(a);
      }
      if (t.v === '(') {
        pos++;
        const v = or();
        if (!isOp(')')) throw new MdbError('syntax error: missing )');
        pos++;
        return v;
      }
      if (t.v === '.') { pos++; return env.dot; }
      throw new MdbError(`syntax error near "${t.v}"`);
    }
    pos++;
    if (t.k === 'num') return t.v;
    const v = lookupSymbol(env.m, t.v);
    if (v !== undefined) return v;
    const n = number(t.v);
    if (n !== undefined) return n;
    throw new MdbError(`failed to dereference symbol: unknown symbol name`);
  };
  const mul = binary(['*', '%', '#'], unary, (op, a, b) => {
    if ((op === '%' || op === '#') && b === 0) throw new MdbError('attempted to divide by zero');
    return op === '*' ? a * b : op === '%' ? Math.trunc(a / b) : a % b;
  });
  const add = binary(['+', '-'], mul, (op, a, b) => (op === '+' ? a + b : a - b));
  const shift = binary(['<<', '>>'], add, (op, a, b) => (op === '<<' ? a * 2 ** b : Math.floor(a / 2 ** b)));
  const eq = binary(['==', '!='], shift, (op, a, b) => ((op === '==') === (a === b) ? 1 : 0));
  const bits = (f: (x: bigint, y: bigint) => bigint) => (_op: string, a: number, b: number) => Number(f(BigInt(a), BigInt(b)));
  const and = binary(['&'], eq, bits((x, y) => x & y));
  const xor = binary(['^'], and, bits((x, y) => x ^ y));
  const or = binary(['|'], xor, bits((x, y) => x | y));
  const v = or();
  if (pos < toks.length) throw new MdbError(`syntax error near "${text}"`);
  return v;
}
