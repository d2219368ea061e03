/** The compiler, part 5 of 7: arithmetic, comparison, logical, conditional and unary operators. */
import type { CNode as SyntaxNode } from './ctree';
import {
  type CType, type IntType, type Val, VOID, INT, LONG, ptr, sizeOf, promote, arith, typeName, intToPtr, Op64, convInt,
} from './types';
import type { CFrame, E } from './program';
import { Statements } from './stmt';
import { div32 } from './runtime';
import { lit } from './codegen';

/** Binary, logical, conditional and unary operators. */
export abstract class Operators extends Statements {
  protected binary(n: SyntaxNode): E {
    const op = n.childForFieldName('operator')!.text;
    const ln = n.childForFieldName('left')!;
    const rn = n.childForFieldName('right')!;
    const castTo = ['*', '-', '+', '&'].includes(op) ? this.castsInParens(ln) : undefined;
    if (castTo) {
      // (type_t)*p, (type_t)-1, (type_t)&x, (type_t)(int)*p parsed as binary expressions.
      const r = this.rvalue(this.expr(rn));
      let v: E;
      if (op === '*') {
        if (r.t.k !== 'ptr') this.fail(n, `invalid type argument of unary '*' (have '${typeName(r.t)}')`);
        v = this.deref(r, r.t.to, n);
      } else if (op === '&') {
        const a = this.expr(rn);
        if (!a.addr) this.fail(n, 'lvalue required as unary \'&\' operand');
        const ad = a.addr;
        v = { t: ptr(a.t), rv: this.V(this.jsf(ad)), se: a.se };
      } else {
        if (r.t.k !== 'int') this.fail(n, `wrong type argument to unary ${op}`);
        const t = promote(r.t);
        const x = this.convertE(r, t, n).rv;
        const s = t.signed;
        const jx = this.jsf(x);
        v = { t, rv: op !== '-' ? x : this.V(t.size === 4 ? (s ? `((0 - ${jx}) | 0)` : `((0 - ${jx}) >>> 0)`) : `${this.g.ref(Op64)}.neg(${jx}, ${s})`), se: r.se };
        if (r.cst !== undefined) {
          const c = this.constant(v.rv);
          v = { t, rv: this.K(c), cst: c };
        }
      }
      for (let i = castTo.length - 1; i >= 0; i--) v = this.convertE(v, castTo[i]!, n, true);
      return v;
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
        v = this.constant(res.rv);
      } catch {
        res.se = l.se || r.se;
        return res;
      }
      res.cst = v;
      res.rv = this.K(v);
      if (res.cond) res.cond = this.KB(v !== 0);
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
          return { t: lt, rv: this.V(`(${this.jsv(l)} + ${sign} * ${ri} * ${sz})`) };
        }
        if (rt.k === 'ptr' && lt.k === 'int' && op === '+') {
          const sz = this.elemSize(rt, n);
          const li = lt.size <= 4 ? this.jsv(l) : `Number(${this.jsv(l)})`;
          return { t: rt, rv: this.V(`(${this.jsv(r)} + ${li} * ${sz})`) };
        }
        if (lt.k === 'ptr' && rt.k === 'ptr' && op === '-') {
          const sz = this.elemSize(lt, n);
          return { t: LONG, rv: this.V(`Math.trunc((${this.jsv(l)} - ${this.jsv(r)}) / ${sz})`) };
        }
        return this.fail(n, `invalid operands to binary ${op} ('${typeName(lt)}' and '${typeName(rt)}')`);
      }
      if (['==', '!=', '<', '>', '<=', '>='].includes(op)) {
        if ((lt.k === 'int' && l.cst !== 0 && rt.k === 'ptr') || (rt.k === 'int' && r.cst !== 0 && lt.k === 'ptr')) {
          // comparison between pointer and integer: gcc warns; compare addresses.
        }
        const IP = this.g.ref(intToPtr);
        const a = lt.k === 'ptr' ? (l.cst !== undefined && !l.se ? this.K(l.cst) : lrv) : this.V(`${IP}(${this.jsv(l)})`);
        const b = rt.k === 'ptr' ? (r.cst !== undefined && !r.se ? this.K(r.cst) : rrv) : this.V(`${IP}(${this.jsv(r)})`);
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
        if (op === '<<') return { t, rv: this.V(s ? `(${ja} << ${jb})` : `((${ja} << ${jb}) >>> 0)`) };
        return { t, rv: this.V(s ? `(${ja} >> ${jb})` : `(${ja} >>> ${jb})`) };
      }
      const cnt = rt.size <= 4 ? this.jsv(r) : `Number(${this.jsv(r)})`;
      return { t, rv: this.pairE(s, (h, l) => this.shiftPair(op, s, a, cnt, h, l)) };
    }
    const t = arith(lt, rt);
    const a = this.convertE(l, t, n).rv;
    const b = this.convertE(r, t, n).rv;
    if (['==', '!=', '<', '>', '<=', '>='].includes(op)) return this.compare(op, a, b, false, t);
    const s = t.signed;
    const ja = this.jsf(a);
    const jb = this.jsf(b);
    if (t.size === 4) {
      const e32 = this.bin32(op, s, ja, jb);
      if (e32 !== null) return { t, rv: this.V(e32) };
      if (op === '/' || op === '%') return { t, rv: this.V(`${this.g.ref(div32)}(${ja}, ${jb}, ${s}, ${op === '%'})`) };
    } else if (op === '/' || op === '%') {
      return { t, rv: this.V(`${this.g.ref(Op64)}.${op === '/' ? 'div' : 'mod'}(${ja}, ${jb}, ${s})`) };
    } else if (['+', '-', '*', '&', '|', '^'].includes(op)) {
      return { t, rv: this.pairE(s, (h, l) => this.binPair(op, a, b, h, l)) };
    }
    return this.fail(n, `unsupported operator '${op}'`);
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

  /** JavaScript setting h, l to the words of a 64-bit + - * & | ^ of a and b (two-word forms, emit.ts). */
  protected binPair(op: string, a: (fr: CFrame) => Val, b: (fr: CFrame) => Val, h: string, l: string): string {
    const g = this.g;
    const ah = g.tmp(), al = g.tmp(), bh = g.tmp(), bl = g.tmp();
    const ab = `${this.pairJs(a, ah, al)}, ${this.pairJs(b, bh, bl)}`;
    switch (op) {
      // The carry and the borrow are unsigned compares of the low words made numbers
      // (`(x < y) | 0`), not `? 1 : 0`: V8 makes them a setcc where a conditional is a branch,
      // mispredicted half the time on mixed data.
      case '+': return `(${ab}, ${l} = (${al} + ${bl}) | 0, ${h} = (${ah} + ${bh} + (${ult(l, al)} | 0)) | 0)`;
      case '-': return `(${ab}, ${l} = (${al} - ${bl}) | 0, ${h} = (${ah} - ${bh} - (${ult(al, bl)} | 0)) | 0)`;
      case '*': return `(${ab}, ${h} = (Math.imul(${ah}, ${bl}) + Math.imul(${al}, ${bh}) + ${this.mulhiJs(al, bl)}) | 0, ${l} = Math.imul(${al}, ${bl}))`;
      default: return `(${ab}, ${h} = ${ah} ${op} ${bh}, ${l} = ${al} ${op} ${bl})`;
    }
  }

  /**
   * JavaScript for the high word (int32) of the unsigned 64-bit product of the words a and b
   * (their JavaScript: names or literals), on doubles, exactly: with x = a as uint32 and b's
   * 16-bit halves b1, b0, floor(x * b / 2^32) = floor(x * (b1 / 2^16) + floor(x * (b0 / 2^16)) / 2^16),
   * where every product and sum is a multiple of 2^-16 below 2^32 (exact), and `| 0` keeps the low
   * 32 bits. The factors are doubles (b1 / 2^16), never small integers, so V8 records no
   * small-integer multiply to deoptimize when a product later passes 2^31. No call, no BigInt.
   */
  protected mulhiJs(a: string, b: string): string {
    const x = this.g.tmp();
    const k = /^-?\d+$/.test(b) ? Number(b) : undefined;
    const b1 = k !== undefined ? lit((k >>> 16) / 65536) : `((${b} >>> 16) * 1.52587890625e-5)`;
    const b0 = k !== undefined ? lit((k & 0xffff) / 65536) : `((${b} & 0xffff) * 1.52587890625e-5)`;
    return `(${x} = ${a} >>> 0, (${x} * ${b1} + Math.floor(${x} * ${b0}) * 1.52587890625e-5) | 0)`;
  }

  /** JavaScript setting h, l to the words of a 64-bit a << n or a >> n (n's JavaScript; the count is taken mod 64, as Op64 does). */
  protected shiftPair(op: string, s: boolean, a: (fr: CFrame) => Val, cnt: string, h: string, l: string): string {
    const g = this.g;
    const n = g.tmp(), ah = g.tmp(), al = g.tmp();
    const k = /^\(?(\d+)\)?$/.exec(cnt);
    if (k) {
      // A constant count: only its case of the code below.
      const c = Number(k[1]) & 63;
      const set = `${this.pairJs(a, ah, al)}, `;
      if (c === 0) return `(${set}${h} = ${ah}, ${l} = ${al})`;
      if (op === '<<') return c < 32 ? `(${set}${h} = (${ah} << ${c}) | (${al} >>> ${32 - c}), ${l} = ${al} << ${c})` : `(${set}${h} = ${al} << ${c - 32}, ${l} = 0)`;
      if (s) return c < 32 ? `(${set}${l} = (${al} >>> ${c}) | (${ah} << ${32 - c}), ${h} = ${ah} >> ${c})` : `(${set}${l} = ${ah} >> ${c - 32}, ${h} = ${ah} >> 31)`;
      return c < 32 ? `(${set}${l} = (${al} >>> ${c}) | (${ah} << ${32 - c}), ${h} = ${ah} >>> ${c} | 0)` : `(${set}${l} = ${ah} >>> ${c - 32} | 0, ${h} = 0)`;
    }
    const pre = `${this.pairJs(a, ah, al)}, ${n} = ${cnt} & 63, ${n} === 0 ? (${h} = ${ah}, ${l} = ${al}) : `;
    if (op === '<<') return `(${pre}${n} < 32 ? (${h} = (${ah} << ${n}) | (${al} >>> (32 - ${n})), ${l} = ${al} << ${n}) : (${h} = ${al} << (${n} - 32), ${l} = 0))`;
    if (s) return `(${pre}${n} < 32 ? (${l} = (${al} >>> ${n}) | (${ah} << (32 - ${n})), ${h} = ${ah} >> ${n}) : (${l} = ${ah} >> (${n} - 32), ${h} = ${ah} >> 31))`;
    return `(${pre}${n} < 32 ? (${l} = (${al} >>> ${n}) | (${ah} << (32 - ${n})), ${h} = ${ah} >>> ${n} | 0) : (${l} = ${ah} >>> (${n} - 32) | 0, ${h} = 0))`;
  }

  protected compare(op: string, a: (fr: CFrame) => Val, b: (fr: CFrame) => Val, _p: boolean, t?: IntType): E {
    const jop = op === '==' ? '===' : op === '!=' ? '!==' : op;
    let jc = `(${this.jsf(a)} ${jop} ${this.jsf(b)})`;
    if (t !== undefined && t.size === 8 && (this.hasPair(a) || this.hasPair(b))) {
      // On the words: the high ones decide unless they are equal.
      const g = this.g;
      const ah = g.tmp(), al = g.tmp(), bh = g.tmp(), bl = g.tmp();
      const ab = `${this.pairJs(a, ah, al)}, ${this.pairJs(b, bh, bl)}`;
      // The low words (and an unsigned type's high words) compare unsigned (`x >>> 0`: V8 compares
      // two uint32s as such, with no check, whatever it saw before).
      const u = (x: string) => `(${x} >>> 0)`;
      const hi = (x: string) => (t.signed ? x : u(x));
      if (op === '==') jc = `(${ab}, ${ah} === ${bh} && ${al} === ${bl})`;
      else if (op === '!=') jc = `(${ab}, ${ah} !== ${bh} || ${al} !== ${bl})`;
      else jc = `(${ab}, ${ah} === ${bh} ? ${u(al)} ${op} ${u(bl)} : ${hi(ah)} ${op} ${hi(bh)})`;
    }
    return { t: INT, rv: this.V(`(${jc} ? 1 : 0)`), cond: this.B(jc) };
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
      const jc = `(${this.jsf(lc)} ${op} ${this.jsf(rc)})`;
      const c = this.B(jc);
      const e: E = { t: INT, rv: this.V(`(${jc} ? 1 : 0)`), cond: c, se: l.se || r.se };
      if (l.cst !== undefined && r.cst !== undefined) {
        const v = this.constant(c) ? 1 : 0;
        return { t: INT, rv: this.K(v), cst: v, cond: this.KB(v === 1) };
      }
      return e;
    }
    // The right side emitted instructions (calls): rebuild with control flow.
    this.code.length = before;
    this.loc.length = before;
    this.pos.length = Math.min(this.pos.length, before);
    this.ntemps = temps;
    const slot = this.temp();
    const end = this.label();
    const isAnd = op === '&&';
    // && goes on to its right side when the left is true, || when it is false.
    this.emit({ k: 'br', code: `fr.tmp[${slot}] = ${this.jsf(lc)} ? 1 : 0`, cond: `(fr.tmp[${slot}] === ${isAnd ? 1 : 0})`, t: null, f: end });
    const r2 = this.rvalue(this.expr(rn));
    const rc2 = this.truth(r2, rn);
    this.emit({ k: 'stmt', code: `fr.tmp[${slot}] = ${this.jsf(rc2)} ? 1 : 0` });
    this.place(end);
    return { t: INT, rv: this.V(`fr.tmp[${slot}]`), cond: this.B(`(fr.tmp[${slot}] === 1)`), se: true };
  }

  protected conditional(n: SyntaxNode): E {
    const cn = n.childForFieldName('condition')!;
    const an = n.childForFieldName('consequence');
    const bn = n.childForFieldName('alternative')!;
    if (!an) this.fail(n, "the GNU '?:' with an omitted middle operand is not supported");
    const ce = this.rvalue(this.expr(cn));
    const c = this.truth(ce, cn);
    const before = this.code.length;
    const temps = this.ntemps;
    const a = this.rvalue(this.expr(an));
    const mid = this.code.length;
    const b = this.rvalue(this.expr(bn));
    const rt = this.condType(a, b, n);
    if (this.code.length === before) {
      const ca = this.convertE(a, rt, an).rv;
      const cb = this.convertE(b, rt, bn).rv;
      const e: E = { t: rt, rv: this.V(`(${this.jsf(c)} ? ${this.jsf(ca)} : ${this.jsf(cb)})`), se: a.se || b.se };
      // Folded only when the condition is a constant too (a derived function run without a
      // frame reads address 0 + offset for a local: a value, not an error).
      if (a.cst !== undefined && b.cst !== undefined && ce.cst !== undefined && !ce.se) {
        try {
          const cv = this.constant(c);
          const v = cv ? this.constant(ca) : this.constant(cb);
          return { t: rt, rv: this.K(v), cst: v };
        } catch {
          return e;
        }
      }
      return e;
    }
    void mid;
    this.code.length = before;
    this.loc.length = before;
    this.pos.length = Math.min(this.pos.length, before);
    this.ntemps = temps;
    const slot = this.temp();
    const elseL = this.label();
    const end = this.label();
    this.emit({ k: 'br', cond: this.jsf(c), t: null, f: elseL });
    const a2 = this.convertE(this.rvalue(this.expr(an)), rt, an).rv;
    this.emit({ k: 'br', code: `fr.tmp[${slot}] = ${this.jsf(a2)}`, cond: 'true', t: end, f: end });
    this.place(elseL);
    const b2 = this.convertE(this.rvalue(this.expr(bn)), rt, bn).rv;
    this.emit({ k: 'stmt', code: `fr.tmp[${slot}] = ${this.jsf(b2)}` });
    this.place(end);
    return { t: rt, rv: this.V(`fr.tmp[${slot}]`), se: true };
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
    const an = this.operandOf(n);
    const a = this.rvalue(this.expr(an));
    const rv = a.rv;
    let e: E;
    // A constant's value, computed here as the text below computes it (no function made from it).
    let folded: Val | undefined;
    switch (op) {
      case '!': {
        const c = this.truth(a, an);
        const jc = this.jsf(c);
        e = { t: INT, rv: this.V(`(${jc} ? 0 : 1)`), cond: this.B(`(!${jc})`) };
        if (a.cst !== undefined) folded = this.constant(c) ? 0 : 1;
        break;
      }
      case '-':
      case '+':
      case '~': {
        if (a.t.k !== 'int') this.fail(n, `wrong type argument to unary ${op === '~' ? 'complement' : op === '-' ? 'minus' : 'plus'}`);
        const t = promote(a.t);
        const x = this.convertE(a, t, n).rv;
        const s = t.signed;
        const cx = a.cst !== undefined && op !== '+' ? this.constant(x) : undefined;
        if (op === '+') e = { t, rv: x };
        else if (t.size === 4) {
          const jx = this.jsf(x);
          if (op === '-') e = { t, rv: this.V(s ? `((0 - ${jx}) | 0)` : `((0 - ${jx}) >>> 0)`) };
          else e = { t, rv: this.V(s ? `(~${jx})` : `(~${jx} >>> 0)`) };
          if (typeof cx === 'number') folded = op === '-' ? (s ? (0 - cx) | 0 : (0 - cx) >>> 0) : s ? ~cx : ~cx >>> 0;
        } else {
          if (cx !== undefined) folded = convInt(op === '-' ? Op64.neg(cx, s) : Op64.not(cx, s), t);
          e = { t, rv: this.pairE(s, (h, l) => {
            const xh = this.g.tmp(), xl = this.g.tmp();
            return op === '-'
              ? `(${this.pairJs(x, xh, xl)}, ${l} = (0 - ${xl}) | 0, ${h} = (0 - ${xh} - ((${xl} !== 0) | 0)) | 0)`
              : `(${this.pairJs(x, xh, xl)}, ${h} = ~${xh}, ${l} = ~${xl})`;
          }) };
        }
        break;
      }
      default:
        return this.fail(n, `unsupported unary operator '${op}'`);
    }
    e.se = a.se;
    if (a.cst !== undefined) {
      const v = folded !== undefined ? folded : this.constant(e.rv);
      return { t: e.t, rv: this.K(v), cst: v, cond: this.KB(v !== 0) };
    }
    void rv;
    return e;
  }
}

/**
 * JavaScript for `x < y` of two 32-bit words taken unsigned (their bits as int32 or uint32). V8's
 * optimizing tier compares two values it knows are uint32 (`>>> 0`) as such, never speculating on
 * what it saw before (no deoptimization when they pass 2^31); flipping the sign bits of int32s
 * instead (`(x ^ -2147483648) <`) costs an operation on the carry's path: ~15% on the bench's loop.
 */
const ult = (x: string, y: string): string => `((${x} >>> 0) < (${y} >>> 0))`;
