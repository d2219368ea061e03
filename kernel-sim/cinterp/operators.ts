/** The compiler, part 5 of 7: arithmetic, comparison, logical, conditional and unary operators. */
import type { Node as SyntaxNode } from 'web-tree-sitter';
import { lit } from './codegen';
import {
  type CType, type IntType, type Val, VOID, INT, LONG, ptr, sizeOf, promote, arith, typeName, intToPtr, Op64, divideError,
} from './types';
import type { CFrame, E } from './program';
import { Statements } from './stmt';
import { mulhi32 } from './runtime';

/** Binary, logical, conditional and unary operators. */
export abstract class Operators extends Statements {
  protected binary(n: SyntaxNode): E {
    const op = n.childForFieldName('operator')!.text;
    const ln = n.childForFieldName('left')!;
    const rn = n.childForFieldName('right')!;
    const castTo = ['*', '-', '+', '&'].includes(op) ? this.typedefInParens(ln) : undefined;
    if (castTo) {
      // (type_t)*p, (type_t)-1, (type_t)&x parsed as binary expressions.
      const r = this.rvalue(this.expr(rn));
      let v: E;
      if (op === '*') {
        if (r.t.k !== 'ptr') this.fail(n, `invalid type argument of unary '*' (have '${typeName(r.t)}')`);
        v = this.deref(r, r.t.to, n);
      } else if (op === '&') {
        const a = this.expr(rn);
        if (!a.addr) this.fail(n, 'lvalue required as unary \'&\' operand');
        const ad = a.addr;
        v = { t: ptr(a.t), rv: (fr) => ad(fr), se: a.se };
      } else {
        if (r.t.k !== 'int') this.fail(n, `wrong type argument to unary ${op}`);
        const t = promote(r.t);
        const x = this.convertE(r, t, n).rv;
        const neg = op === '-';
        const s = t.signed;
        v = { t, rv: neg ? (t.size === 4 ? (s ? (fr) => (0 - (x(fr) as number)) | 0 : (fr) => (0 - (x(fr) as number)) >>> 0) : (fr) => Op64.neg(x(fr), s)) : x, se: r.se };
        if (r.cst !== undefined) {
          const c = v.rv(null as unknown as CFrame);
          v = { t, rv: this.J(() => c, lit(c)), cst: c };
        }
      }
      return this.convertE(v, castTo, n, true);
    }
    if (op === '&&' || op === '||') return this.logical(n, op, ln, rn);
    const l = this.rvalue(this.expr(ln));
    const r = this.rvalue(this.expr(rn));
    return this.binop(op, l, r, n);
  }

  protected binop(op: string, l: E, r: E, n: SyntaxNode): E {
    const lt = l.t;
    const rt = r.t;
    const res = this.binopInner(op, l, r, n);
    if (l.cst !== undefined && r.cst !== undefined && res.cst === undefined) {
      let v: Val;
      try {
        v = res.rv(null as unknown as CFrame);
      } catch {
        res.se = l.se || r.se;
        return res;
      }
      res.cst = v;
      res.rv = this.J(() => v, lit(v));
      if (res.cond) {
        const b = v !== 0;
        res.cond = () => b;
      }
    }
    res.se = l.se || r.se;
    void lt;
    void rt;
    return res;
  }

  protected binopInner(op: string, l: E, r: E, n: SyntaxNode): E {
    const lt = l.t;
    const rt = r.t;
    const lrv = l.rv;
    const rrv = r.rv;
    // Pointer arithmetic.
    if (lt.k === 'ptr' || rt.k === 'ptr') {
      if (op === '+' || op === '-') {
        if (lt.k === 'ptr' && rt.k === 'int') {
          const sz = this.elemSize(lt, n);
          const sign = op === '+' ? 1 : -1;
          const ri = rt.size <= 4 ? this.jsv(r) : `Number(${this.jsv(r)})`;
          return { t: lt, rv: this.J((fr: CFrame) => (lrv(fr) as number) + sign * Number(rrv(fr)) * sz, `(${this.jsv(l)} + ${sign} * ${ri} * ${sz})`) };
        }
        if (rt.k === 'ptr' && lt.k === 'int' && op === '+') {
          const sz = this.elemSize(rt, n);
          return { t: rt, rv: (fr) => (rrv(fr) as number) + Number(lrv(fr)) * sz };
        }
        if (lt.k === 'ptr' && rt.k === 'ptr' && op === '-') {
          const sz = this.elemSize(lt, n);
          return { t: LONG, rv: (fr) => Math.trunc(((lrv(fr) as number) - (rrv(fr) as number)) / sz) };
        }
        return this.fail(n, `invalid operands to binary ${op} ('${typeName(lt)}' and '${typeName(rt)}')`);
      }
      if (['==', '!=', '<', '>', '<=', '>='].includes(op)) {
        if ((lt.k === 'int' && l.cst !== 0 && rt.k === 'ptr') || (rt.k === 'int' && r.cst !== 0 && lt.k === 'ptr')) {
          // comparison between pointer and integer: gcc warns; compare addresses.
        }
        const a = lt.k === 'ptr' ? lrv : (fr: CFrame) => intToPtr(lrv(fr));
        const b = rt.k === 'ptr' ? rrv : (fr: CFrame) => intToPtr(rrv(fr));
        if (lt.k === 'ptr' && l.cst !== undefined && !l.se) this.J(a, this.jsv(l));
        if (rt.k === 'ptr' && r.cst !== undefined && !r.se) this.J(b, this.jsv(r));
        return this.compare(op, a, b, true);
      }
      return this.fail(n, `invalid operands to binary ${op} ('${typeName(lt)}' and '${typeName(rt)}')`);
    }
    if (lt.k !== 'int' || rt.k !== 'int') return this.fail(n, `invalid operands to binary ${op} ('${typeName(lt)}' and '${typeName(rt)}')`);
    if (op === '<<' || op === '>>') {
      const t = promote(lt);
      const a = this.convertE(l, t, n).rv;
      const s = t.signed;
      if (t.size === 4) {
        const ja = this.jsf(a);
        const jb = rt.size <= 4 ? `(${this.jsv(r)} & 31)` : `(Number(${this.jsv(r)}) & 31)`;
        if (op === '<<') return { t, rv: this.J(s ? (fr: CFrame) => (a(fr) as number) << (Number(rrv(fr)) & 31) : (fr: CFrame) => ((a(fr) as number) << (Number(rrv(fr)) & 31)) >>> 0, s ? `(${ja} << ${jb})` : `((${ja} << ${jb}) >>> 0)`) };
        return { t, rv: this.J(s ? (fr: CFrame) => (a(fr) as number) >> (Number(rrv(fr)) & 31) : (fr: CFrame) => (a(fr) as number) >>> (Number(rrv(fr)) & 31), s ? `(${ja} >> ${jb})` : `(${ja} >>> ${jb})`) };
      }
      const cnt = rt.size <= 4 ? this.jsv(r) : `Number(${this.jsv(r)})`;
      const rv = op === '<<' ? (fr: CFrame) => Op64.shl(a(fr), rrv(fr), s) : (fr: CFrame) => Op64.shr(a(fr), rrv(fr), s);
      return { t, rv: this.pairE(rv, s, (h, l) => this.shiftPair(op, s, a, cnt, h, l)) };
    }
    const t = arith(lt, rt);
    const a = this.convertE(l, t, n).rv;
    const b = this.convertE(r, t, n).rv;
    if (['==', '!=', '<', '>', '<=', '>='].includes(op)) return this.compare(op, a, b, false, t);
    const s = t.signed;
    const e32 = this.bin32(op, s, this.jsf(a), this.jsf(b));
    if (t.size === 4 && e32 !== null) {
      const e = this.binopInner32(op, s, a, b, t);
      if (e) {
        this.J(e.rv, e32);
        return e;
      }
    }
    if (t.size === 4) {
      switch (op) {
        case '+': return { t, rv: s ? (fr) => ((a(fr) as number) + (b(fr) as number)) | 0 : (fr) => ((a(fr) as number) + (b(fr) as number)) >>> 0 };
        case '-': return { t, rv: s ? (fr) => ((a(fr) as number) - (b(fr) as number)) | 0 : (fr) => ((a(fr) as number) - (b(fr) as number)) >>> 0 };
        case '*': return { t, rv: s ? (fr) => Math.imul(a(fr) as number, b(fr) as number) : (fr) => Math.imul(a(fr) as number, b(fr) as number) >>> 0 };
        // idiv traps on a zero divisor and on INT_MIN / -1 (and %), whose quotient does not fit.
        case '/': return { t, rv: s ? (fr) => { const d = b(fr) as number; if (d === 0) throw divideError(); const x = a(fr) as number; if (d === -1 && x === -2147483648) throw divideError(true); return (x / d) | 0; } : (fr) => { const d = b(fr) as number; if (d === 0) throw divideError(); return Math.floor((a(fr) as number) / d) >>> 0; } };
        case '%': return { t, rv: s ? (fr) => { const d = b(fr) as number; if (d === 0) throw divideError(); const x = a(fr) as number; if (d === -1 && x === -2147483648) throw divideError(true); return (x % d) | 0; } : (fr) => { const d = b(fr) as number; if (d === 0) throw divideError(); return ((a(fr) as number) % d) >>> 0; } };
        case '&': return { t, rv: s ? (fr) => (a(fr) as number) & (b(fr) as number) : (fr) => ((a(fr) as number) & (b(fr) as number)) >>> 0 };
        case '|': return { t, rv: s ? (fr) => (a(fr) as number) | (b(fr) as number) : (fr) => ((a(fr) as number) | (b(fr) as number)) >>> 0 };
        case '^': return { t, rv: s ? (fr) => (a(fr) as number) ^ (b(fr) as number) : (fr) => ((a(fr) as number) ^ (b(fr) as number)) >>> 0 };
      }
    } else {
      const f = { '+': Op64.add, '-': Op64.sub, '*': Op64.mul, '/': Op64.div, '%': Op64.mod, '&': Op64.and, '|': Op64.or, '^': Op64.xor }[op];
      if (f && op !== '/' && op !== '%') {
        const e = op === '+' || op === '-' ? this.binop64(op, s, a, b, t, f) : { t, rv: (fr: CFrame) => f(a(fr), b(fr), s) };
        this.pairE(e.rv, s, (h, l) => this.binPair(op, a, b, h, l));
        return e;
      }
      if (f) {
        const ja = this.jsf(a);
        const jb = this.jsf(b);
        const g = this.g;
        if (op === '+' || op === '-') {
          const x = g.tmp(), y = g.tmp(), z = g.tmp();
          const F = g.ref(f);
          const js = `((${x} = ${ja}, ${y} = ${jb}, typeof ${x} === 'number' && typeof ${y} === 'number' && (${z} = ${x} ${op} ${y}) <= 9007199254740991 && ${z} >= ${s ? '-9007199254740991' : '0'}) ? ${z} : ${F}(${x}, ${y}, ${s}))`;
          const e = this.binop64(op, s, a, b, t, f);
          this.J(e.rv, js);
          return e;
        }
        if (op === '+') return { t, rv: s ? (fr) => { const x = a(fr), y = b(fr); if (typeof x === 'number' && typeof y === 'number') { const z = x + y; if (z <= 9007199254740991 && z >= -9007199254740991) return z; } return Op64.add(x, y, true); } : (fr) => { const x = a(fr), y = b(fr); if (typeof x === 'number' && typeof y === 'number') { const z = x + y; if (z <= 9007199254740991 && z >= 0) return z; } return Op64.add(x, y, false); } };
        return { t, rv: this.J((fr: CFrame) => f(a(fr), b(fr), s), `${g.ref(f)}(${ja}, ${jb}, ${s})`) };
      }
    }
    return this.fail(n, `unsupported operator '${op}'`);
  }

  /** 64-bit + and - (the closure binopInner has always used: number fast path, then Op64). */
  protected binop64(op: string, s: boolean, a: (fr: CFrame) => Val, b: (fr: CFrame) => Val, t: IntType, f: (x: Val, y: Val, s: boolean) => Val): E {
    if (op === '+') return { t, rv: s ? (fr) => { const x = a(fr), y = b(fr); if (typeof x === 'number' && typeof y === 'number') { const z = x + y; if (z <= 9007199254740991 && z >= -9007199254740991) return z; } return Op64.add(x, y, true); } : (fr) => { const x = a(fr), y = b(fr); if (typeof x === 'number' && typeof y === 'number') { const z = x + y; if (z <= 9007199254740991 && z >= 0) return z; } return Op64.add(x, y, false); } };
    return { t, rv: (fr) => f(a(fr), b(fr), s) };
  }

  /** JavaScript for a 32-bit integer operator (operands are numbers in the type's range), or null. */
  protected bin32(op: string, s: boolean, a: string, b: string): string | null {
    switch (op) {
      case '+': return s ? `((${a} + ${b}) | 0)` : `((${a} + ${b}) >>> 0)`;
      case '-': return s ? `((${a} - ${b}) | 0)` : `((${a} - ${b}) >>> 0)`;
      case '*': return s ? `Math.imul(${a}, ${b})` : `(Math.imul(${a}, ${b}) >>> 0)`;
      case '&': return s ? `(${a} & ${b})` : `((${a} & ${b}) >>> 0)`;
      case '|': return s ? `(${a} | ${b})` : `((${a} | ${b}) >>> 0)`;
      case '^': return s ? `(${a} ^ ${b})` : `((${a} ^ ${b}) >>> 0)`;
      default: return null;
    }
  }

  /** The closures of the 32-bit operators bin32 expresses (the same as binopInner's). */
  protected binopInner32(op: string, s: boolean, a: (fr: CFrame) => Val, b: (fr: CFrame) => Val, t: IntType): E | null {
    switch (op) {
      case '+': return { t, rv: s ? (fr) => ((a(fr) as number) + (b(fr) as number)) | 0 : (fr) => ((a(fr) as number) + (b(fr) as number)) >>> 0 };
      case '-': return { t, rv: s ? (fr) => ((a(fr) as number) - (b(fr) as number)) | 0 : (fr) => ((a(fr) as number) - (b(fr) as number)) >>> 0 };
      case '*': return { t, rv: s ? (fr) => Math.imul(a(fr) as number, b(fr) as number) : (fr) => Math.imul(a(fr) as number, b(fr) as number) >>> 0 };
      case '&': return { t, rv: s ? (fr) => (a(fr) as number) & (b(fr) as number) : (fr) => ((a(fr) as number) & (b(fr) as number)) >>> 0 };
      case '|': return { t, rv: s ? (fr) => (a(fr) as number) | (b(fr) as number) : (fr) => ((a(fr) as number) | (b(fr) as number)) >>> 0 };
      case '^': return { t, rv: s ? (fr) => (a(fr) as number) ^ (b(fr) as number) : (fr) => ((a(fr) as number) ^ (b(fr) as number)) >>> 0 };
      default: return null;
    }
  }

  /** JavaScript setting h, l to the words of a 64-bit + - * & | ^ of a and b (two-word forms, emit.ts). */
  protected binPair(op: string, a: (fr: CFrame) => Val, b: (fr: CFrame) => Val, h: string, l: string): string {
    const g = this.g;
    const ah = g.tmp(), al = g.tmp(), bh = g.tmp(), bl = g.tmp();
    const ab = `${this.pairJs(a, ah, al)}, ${this.pairJs(b, bh, bl)}`;
    switch (op) {
      case '+': return `(${ab}, ${l} = ${al} + ${bl}, ${h} = (${ah} + ${bh} + (${l} > 4294967295 ? 1 : 0)) | 0, ${l} = ${l} >>> 0)`;
      case '-': return `(${ab}, ${l} = ${al} - ${bl}, ${h} = (${ah} - ${bh} - (${l} < 0 ? 1 : 0)) | 0, ${l} = ${l} >>> 0)`;
      case '*': return `(${ab}, ${h} = (Math.imul(${ah}, ${bl}) + Math.imul(${al}, ${bh}) + ${g.ref(mulhi32)}(${al}, ${bl})) | 0, ${l} = Math.imul(${al}, ${bl}) >>> 0)`;
      default: return `(${ab}, ${h} = ${ah} ${op} ${bh}, ${l} = (${al} ${op} ${bl}) >>> 0)`;
    }
  }

  /** JavaScript setting h, l to the words of a 64-bit a << n or a >> n (n's JavaScript; the count is taken mod 64, as Op64 does). */
  protected shiftPair(op: string, s: boolean, a: (fr: CFrame) => Val, cnt: string, h: string, l: string): string {
    const g = this.g;
    const n = g.tmp(), ah = g.tmp(), al = g.tmp();
    const pre = `${this.pairJs(a, ah, al)}, ${n} = ${cnt} & 63, ${n} === 0 ? (${h} = ${ah}, ${l} = ${al}) : `;
    if (op === '<<') return `(${pre}${n} < 32 ? (${h} = (${ah} << ${n}) | (${al} >>> (32 - ${n})), ${l} = (${al} << ${n}) >>> 0) : (${h} = ${al} << (${n} - 32), ${l} = 0))`;
    if (s) return `(${pre}${n} < 32 ? (${l} = ((${al} >>> ${n}) | (${ah} << (32 - ${n}))) >>> 0, ${h} = ${ah} >> ${n}) : (${l} = (${ah} >> (${n} - 32)) >>> 0, ${h} = ${ah} >> 31))`;
    return `(${pre}${n} < 32 ? (${l} = ((${al} >>> ${n}) | (${ah} << (32 - ${n}))) >>> 0, ${h} = ${ah} >>> ${n} | 0) : (${l} = ${ah} >>> (${n} - 32), ${h} = 0))`;
  }

  protected compare(op: string, a: (fr: CFrame) => Val, b: (fr: CFrame) => Val, _p: boolean, t?: IntType): E {
    let c: (fr: CFrame) => boolean;
    switch (op) {
      case '==': c = (fr) => a(fr) === b(fr); break;
      case '!=': c = (fr) => a(fr) !== b(fr); break;
      case '<': c = (fr) => a(fr) < b(fr); break;
      case '>': c = (fr) => a(fr) > b(fr); break;
      case '<=': c = (fr) => a(fr) <= b(fr); break;
      default: c = (fr) => a(fr) >= b(fr); break;
    }
    const jop = op === '==' ? '===' : op === '!=' ? '!==' : op;
    let jc = `(${this.jsf(a)} ${jop} ${this.jsf(b)})`;
    if (t !== undefined && t.size === 8 && (this.hasPair(a) || this.hasPair(b))) {
      // On the words: the high ones decide unless they are equal.
      const g = this.g;
      const ah = g.tmp(), al = g.tmp(), bh = g.tmp(), bl = g.tmp();
      const ab = `${this.pairJs(a, ah, al)}, ${this.pairJs(b, bh, bl)}`;
      const hi = (x: string) => (t.signed ? x : `(${x} >>> 0)`);
      if (op === '==') jc = `(${ab}, ${ah} === ${bh} && ${al} === ${bl})`;
      else if (op === '!=') jc = `(${ab}, ${ah} !== ${bh} || ${al} !== ${bl})`;
      else jc = `(${ab}, ${ah} === ${bh} ? ${al} ${op} ${bl} : ${hi(ah)} ${op} ${hi(bh)})`;
    }
    this.J(c, jc);
    return { t: INT, rv: this.J((fr: CFrame) => (c(fr) ? 1 : 0), `(${jc} ? 1 : 0)`), cond: c };
  }

  protected elemSize(t: CType, n: SyntaxNode): number {
    if (t.k !== 'ptr') return 1;
    const to = t.to;
    if (to.k === 'void') return 1; // GNU extension: void * arithmetic in bytes
    if (to.k === 'func') return 1;
    if (to.k === 'struct' && !to.complete) this.fail(n, `arithmetic on a pointer to an incomplete type '${typeName(to)}'`);
    return sizeOf(to);
  }

  /** && and ||: a closure when the right side has no calls, else lowered to branches. */
  protected logical(n: SyntaxNode, op: string, ln: SyntaxNode, rn: SyntaxNode): E {
    const l = this.rvalue(this.expr(ln));
    const lc = this.truth(l, ln);
    const before = this.code.length;
    const temps = this.ntemps;
    const r = this.rvalue(this.expr(rn));
    if (this.code.length === before) {
      const rc = this.truth(r, rn);
      const c: (fr: CFrame) => boolean = op === '&&' ? (fr) => lc(fr) && rc(fr) : (fr) => lc(fr) || rc(fr);
      const jc = `(${this.jsf(lc)} ${op} ${this.jsf(rc)})`;
      this.J(c, jc);
      const e: E = { t: INT, rv: this.J((fr: CFrame) => (c(fr) ? 1 : 0), `(${jc} ? 1 : 0)`), cond: c, se: l.se || r.se };
      if (l.cst !== undefined && r.cst !== undefined) {
        const v = c(null as unknown as CFrame) ? 1 : 0;
        return { t: INT, rv: this.J(() => v, lit(v)), cst: v, cond: () => v === 1 };
      }
      return e;
    }
    // The right side emitted instructions (calls): rebuild with control flow.
    this.code.length = before;
    this.loc.length = before;
    this.insJs.length = before;
    this.pos.length = Math.min(this.pos.length, before);
    this.ntemps = temps;
    const slot = this.temp();
    const end = this.label();
    const isAnd = op === '&&';
    this.emit((fr) => {
      const v = lc(fr);
      fr.tmp[slot] = v ? 1 : 0;
      return v === isAnd ? -2 : end.pc;
    });
    const r2 = this.rvalue(this.expr(rn));
    const rc2 = this.truth(r2, rn);
    this.emit((fr) => {
      fr.tmp[slot] = rc2(fr) ? 1 : 0;
      return -2;
    });
    this.place(end);
    return { t: INT, rv: (fr) => fr.tmp[slot]!, cond: (fr) => fr.tmp[slot] === 1, se: true };
  }

  protected conditional(n: SyntaxNode): E {
    const cn = n.childForFieldName('condition')!;
    const an = n.childForFieldName('consequence');
    const bn = n.childForFieldName('alternative')!;
    if (!an) this.fail(n, "the GNU '?:' with an omitted middle operand is not supported");
    const c = this.truth(this.rvalue(this.expr(cn)), cn);
    const before = this.code.length;
    const temps = this.ntemps;
    const a = this.rvalue(this.expr(an));
    const mid = this.code.length;
    const b = this.rvalue(this.expr(bn));
    const rt = this.condType(a, b, n);
    if (this.code.length === before) {
      const ca = this.convertE(a, rt, an).rv;
      const cb = this.convertE(b, rt, bn).rv;
      const e: E = { t: rt, rv: this.J((fr: CFrame) => (c(fr) ? ca(fr) : cb(fr)), `(${this.jsf(c)} ? ${this.jsf(ca)} : ${this.jsf(cb)})`), se: a.se || b.se };
      if (a.cst !== undefined && b.cst !== undefined) {
        try {
          const cv = c(null as unknown as CFrame);
          const v = cv ? ca(null as unknown as CFrame) : cb(null as unknown as CFrame);
          return { t: rt, rv: this.J(() => v, lit(v)), cst: v };
        } catch {
          return e;
        }
      }
      return e;
    }
    void mid;
    this.code.length = before;
    this.loc.length = before;
    this.insJs.length = before;
    this.pos.length = Math.min(this.pos.length, before);
    this.ntemps = temps;
    const slot = this.temp();
    const elseL = this.label();
    const end = this.label();
    this.emit((fr) => (c(fr) ? -2 : elseL.pc));
    const a2 = this.convertE(this.rvalue(this.expr(an)), rt, an).rv;
    this.emit((fr) => {
      fr.tmp[slot] = a2(fr);
      return end.pc;
    });
    this.place(elseL);
    const b2 = this.convertE(this.rvalue(this.expr(bn)), rt, bn).rv;
    this.emit((fr) => {
      fr.tmp[slot] = b2(fr);
      return -2;
    });
    this.place(end);
    return { t: rt, rv: (fr) => fr.tmp[slot]!, se: true };
  }

  protected condType(a: E, b: E, n: SyntaxNode): CType {
    if (a.t.k === 'int' && b.t.k === 'int') return arith(a.t, b.t);
    if (a.t.k === 'ptr' && b.t.k === 'ptr') return a.t.to.k === 'void' ? b.t : a.t;
    if (a.t.k === 'ptr' && b.t.k === 'int') return a.t;
    if (b.t.k === 'ptr' && a.t.k === 'int') return b.t;
    if (a.t.k === 'void' || b.t.k === 'void') return VOID;
    if (a.t.k === 'struct' && a.t === b.t) return a.t;
    return this.fail(n, `type mismatch in conditional expression ('${typeName(a.t)}' and '${typeName(b.t)}')`);
  }

  protected unary(n: SyntaxNode): E {
    const op = n.childForFieldName('operator')!.text;
    const an = n.childForFieldName('argument')!;
    const a = this.rvalue(this.expr(an));
    const rv = a.rv;
    let e: E;
    switch (op) {
      case '!': {
        const c = this.truth(a, an);
        const jc = this.jsf(c);
        e = { t: INT, rv: this.J((fr: CFrame) => (c(fr) ? 0 : 1), `(${jc} ? 0 : 1)`), cond: this.J((fr: CFrame) => !c(fr), `(!${jc})`) };
        break;
      }
      case '-':
      case '+':
      case '~': {
        if (a.t.k !== 'int') this.fail(n, `wrong type argument to unary ${op === '~' ? 'complement' : op === '-' ? 'minus' : 'plus'}`);
        const t = promote(a.t);
        const x = this.convertE(a, t, n).rv;
        const s = t.signed;
        if (op === '+') e = { t, rv: x };
        else if (t.size === 4) {
          const jx = this.jsf(x);
          if (op === '-') e = { t, rv: this.J(s ? (fr: CFrame) => (0 - (x(fr) as number)) | 0 : (fr: CFrame) => (0 - (x(fr) as number)) >>> 0, s ? `((0 - ${jx}) | 0)` : `((0 - ${jx}) >>> 0)`) };
          else e = { t, rv: this.J(s ? (fr: CFrame) => ~(x(fr) as number) : (fr: CFrame) => ~(x(fr) as number) >>> 0, s ? `(~${jx})` : `(~${jx} >>> 0)`) };
        } else {
          const rv = op === '-' ? (fr: CFrame) => Op64.neg(x(fr), s) : (fr: CFrame) => Op64.not(x(fr), s);
          e = { t, rv: this.pairE(rv, s, (h, l) => {
            const xh = this.g.tmp(), xl = this.g.tmp();
            return op === '-'
              ? `(${this.pairJs(x, xh, xl)}, ${l} = (0 - ${xl}) >>> 0, ${h} = (0 - ${xh} - (${xl} !== 0 ? 1 : 0)) | 0)`
              : `(${this.pairJs(x, xh, xl)}, ${h} = ~${xh}, ${l} = ~${xl} >>> 0)`;
          }) };
        }
        break;
      }
      default:
        return this.fail(n, `unsupported unary operator '${op}'`);
    }
    e.se = a.se;
    if (a.cst !== undefined) {
      const v = e.rv(null as unknown as CFrame);
      return { t: e.t, rv: this.J(() => v, lit(v)), cst: v, cond: () => v !== 0 };
    }
    void rv;
    return e;
  }
}
