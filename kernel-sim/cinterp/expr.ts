/** The compiler, part 6 of 7: conversions, constants, names, member access, subscripts, assignment. */
import type { CNode as SyntaxNode } from './ctree';
import {
  type CType, type IntType, type Val, VOID, CHAR, INT, UINT, LONG, ULONG, LLONG, ULLONG, VOIDP, ptr, sizeOf, alignOf, typeName, intConverter, convInt, ptrToInt, intToPtr, Op64,
} from './types';
import { lit, type Forms } from './codegen';
import { charValue } from './preprocess';
import { VA_MACROS } from './varargs';
import { MAX_NESTING, type CFrame, type E } from './program';
import { type BitField, bitUnitType, bitGet, bitPut, watchHit } from './runtime';
import { Operators } from './operators';
import { castInParens, hasMiscast, isRebuilt, rebuild } from './miscast';
import { primitive } from './declare';

/**
 * e as a value of type t (not an lvalue): what `{ ...e, t, addr: undefined }` makes, without
 * spreading (E objects have many shapes, and a spread of many shapes is V8's slow path).
 */
function retyped(e: E, t: CType): E {
  const r: E = { t, rv: e.rv, addr: undefined, cst: e.cst, cond: e.cond, se: e.se, local: e.local, fname: e.fname, ca: e.ca };
  const x = e as E & { bits?: BitField; bf?: unknown };
  if (x.bits !== undefined) (r as typeof x).bits = x.bits;
  if (x.bf !== undefined) (r as typeof x).bf = x.bf;
  return r;
}

/** Conversions, primary expressions, lvalues, assignment. */
export abstract class Expressions extends Operators {
  // ------------------------------------------------------------------ expressions

  /** Array and function designators decay to pointers. */
  protected override rvalue(e: E): E {
    if (e.t.k === 'array') return { t: ptr(e.t.of), rv: e.rv, cst: e.cst };
    if (e.t.k === 'func') return { t: ptr(e.t), rv: e.rv, cst: e.cst, fname: e.fname };
    return e;
  }

  /** Converts an rvalue to type `to` (implicit conversion / cast). */
  protected override convertE(e0: E, to: CType, n: SyntaxNode, explicit = false): E {
    const e = this.rvalue(e0);
    const from = e.t;
    const rv = e.rv;
    let out: (fr: CFrame) => Val;
    if (to.k === 'void') return { t: VOID, rv, se: e.se };
    if (to.k === 'int') {
      if (from.k === 'int') {
        if (from.size === to.size && from.signed === to.signed && !to.bool) return retyped(e, to);
        if (e.cst !== undefined) {
          // A constant converts now (what the conversion's text below computes, without making it).
          const c = to.bool ? (e.cst === 0 ? 0 : 1) : convInt(e.cst, to);
          return { t: to, rv: this.K(c), se: e.se, cst: c };
        }
        if (to.bool && e.cond) {
          out = this.V(`(${this.jsf(e.cond)} ? 1 : 0)`);
        } else {
          const cv = intConverter(to);
          // Widening without sign change needs no work.
          if (!to.bool && to.size > from.size && (from.signed === to.signed || !from.signed)) {
            // Its words are those of a value of `from` widened (a form the closure had as a
            // value of another type, shared through a conversion that needed no work, would be wrong).
            if (to.size === 8) this.P(rv, this.widenPair(rv, from.signed));
            return retyped(e, to);
          }
          const x = this.jsv(e);
          let js: string;
          if (to.bool) js = `(${x} !== 0 ? 1 : 0)`;
          else if (from.size <= 4 && to.size === 4) js = to.signed ? `(${x} | 0)` : `(${x} >>> 0)`;
          else if (from.size <= 4 && to.size === 2) js = to.signed ? `((${x} << 16) >> 16)` : `(${x} & 0xffff)`;
          else if (from.size <= 4 && to.size === 1) js = to.signed ? `((${x} << 24) >> 24)` : `(${x} & 0xff)`;
          else if (from.size <= 4 && to.size === 8 && from.signed && !to.signed) {
            const v = this.g.tmp();
            js = `((${v} = ${x}) >= 0 ? ${v} : ${this.g.ref(cv)}(${v}))`;
          } else js = `${this.g.ref(cv)}(${x})`;
          if (!to.bool && to.size === 8) {
            // The same bits: the words of the value (sign-extended from 32 bits).
            const pj = from.size === 8 ? (h: string, l: string) => this.pairJs(rv, h, l) : this.widenPair(rv, from.signed);
            if (from.size === 8 && this.hasPair(rv)) out = this.pairE(to.signed, pj);
            else out = this.P(this.V(js), pj);
          } else {
            if (!to.bool && from.size === 8 && this.hasPair(rv)) {
              // Narrowing: the low word.
              const h = this.g.tmp(), l = this.g.tmp();
              const w = to.size === 4 ? (to.signed ? l : `${l} >>> 0`) : to.size === 2 ? (to.signed ? `(${l} << 16) >> 16` : `${l} & 0xffff`) : (to.signed ? `(${l} << 24) >> 24` : `${l} & 0xff`);
              js = `(${this.pairJs(rv, h, l)}, ${w})`;
            }
            out = this.V(js);
          }
        }
      } else if (from.k === 'ptr') {
        if (!explicit && !to.bool) this.warnOrFail(n, `making integer from pointer without a cast`);
        if (to.bool) out = this.V(`(${this.jsv(e)} !== 0 ? 1 : 0)`);
        else out = this.V(`${this.g.ref(intConverter(to))}(${this.g.ref(ptrToInt)}(${this.jsv(e)}))`);
      } else return this.fail(n, `cannot convert '${typeName(from)}' to '${typeName(to)}'`);
    } else if (to.k === 'ptr') {
      if (from.k === 'ptr') return retyped(e, to);
      if (from.k === 'int') {
        if (e.cst === 0) return { t: to, rv: this.K(0), cst: 0 };
        if (!explicit) this.warnOrFail(n, `making pointer from integer without a cast`);
        out = this.V(`${this.g.ref(intToPtr)}(${this.jsv(e)})`);
      } else return this.fail(n, `cannot convert '${typeName(from)}' to '${typeName(to)}'`);
    } else if (to.k === 'struct') {
      if (from !== to) this.fail(n, `incompatible types: '${typeName(from)}' to '${typeName(to)}'`);
      return e;
    } else return this.fail(n, `cannot convert to '${typeName(to)}'`);
    const r: E = { t: to, rv: out, se: e.se };
    if (e.cst !== undefined) r.cst = out(null as unknown as CFrame);
    if (r.cst !== undefined) r.rv = this.K(r.cst);
    return r;
  }

  protected warnOrFail(_n: SyntaxNode, _msg: string): void {
    // gcc warns; the kernel build uses -Werror only for some warnings. Accept.
  }


  override expr(n: SyntaxNode): E {
    if (++this.depth > MAX_NESTING) this.fail(n, `expression nested too deeply (more than ${MAX_NESTING} levels)`);
    try {
      return this.exprInner(n);
    } finally {
      this.depth--;
    }
  }

  /**
   * `(T)(e)` that tree-sitter made the base of a postfix chain: `(T)(e)->f`, `(T)(p)[i]`,
   * `(T)(f)(x)`, `(T)(x)++` come out as a call of `(T)` with the chain on top of it, but in C
   * the cast applies to the whole chain. While such a chain is compiled, the call stands for its
   * operand `e` (this map), and the chain's value is then cast.
   */
  protected readonly castOperand = new Map<SyntaxNode, SyntaxNode>();

  /** The operand a postfix node applies to (the node its chain continues below), or null. */
  private postfixOperand(n: SyntaxNode): SyntaxNode | null {
    switch (n.type) {
      case 'field_expression':
      case 'subscript_expression':
        return n.childForFieldName('argument');
      case 'call_expression':
        return n.childForFieldName('function');
      case 'update_expression': {
        const op = n.childForFieldName('operator')?.text;
        const prefix = n.firstChild?.type === op || n.firstChild?.text === op;
        return prefix ? null : n.childForFieldName('argument');
      }
      default:
        return null;
    }
  }

  /** The `(T)(e)` call at the base of `n`'s postfix chain (not `n` itself), with T and e. */
  private castUnderChain(n: SyntaxNode): { call: SyntaxNode; operand: SyntaxNode; to: CType } | undefined {
    for (let b = this.postfixOperand(n); b; b = this.postfixOperand(b)) {
      if (this.castOperand.has(b)) return undefined;
      if (b.type !== 'call_expression') continue;
      const to = this.castCallType(b);
      if (!to) continue;
      const args = b.childForFieldName('arguments')!.namedChildren.filter((c) => c && c.type !== 'comment');
      return args.length === 1 ? { call: b, operand: args[0]!, to } : undefined;
    }
    return undefined;
  }

  /** T when the call `c` is `(T)(e)`: its function is a typedef in parentheses, or a typedef name an outer cast's operand left (`(T)(U)(e)`). */
  protected castCallType(c: SyntaxNode): CType | undefined {
    const f = c.childForFieldName('function');
    const g = f ? this.castOperand.get(f) ?? f : f;
    if (g && g !== f && g.type === 'identifier') {
      const e = this.scope.find(g.text);
      if (e && e.k === 'typedef') return e.type;
    }
    return this.typedefInParens(g);
  }

  /** A name in scope that is not a type (miscast.ts). */
  private readonly isValueName = (name: string): boolean => {
    const e = this.scope.find(name);
    return e !== undefined && e.k !== 'typedef';
  };

  /** A typedef in scope, or a basic type's keyword that tree-sitter left an identifier (`(T)(int)*p`). */
  private readonly isTypeName = (name: string): boolean => {
    const e = this.scope.find(name);
    return e ? e.k === 'typedef' : primitive(name) !== undefined;
  };

  /** The types of `(T)` or `(T)(U)...` read as a parenthesised name or a call (miscast.ts castInParens), outermost first. */
  protected override castsInParens(n: SyntaxNode): CType[] | undefined {
    const names = castInParens(n, this.isTypeName);
    return names?.map((x) => {
      if (x.type === 'type_descriptor') return this.typeOfDescriptor(x, this.scope);
      const e = this.scope.find(x.text);
      return e && e.k === 'typedef' ? e.type : primitive(x.text)!;
    });
  }

  /**
   * `!x++`, `-p->n--`: tree-sitter-c reads a unary `!`, `-`, `~`, `+` under a postfix `++`/`--`
   * (`(!x)++`), where C's postfix operator binds first. While such an update is compiled, the
   * innermost unary's operand is the update (`unaryOperand`) and the update's is the name under
   * the unaries (`updateOperand`), so the expression is compiled as `!(x++)`.
   */
  private readonly unaryOperand = new Map<SyntaxNode, SyntaxNode>();
  private readonly updateOperand = new Map<SyntaxNode, SyntaxNode>();

  /** The operand of unary or update expression `n`, after the regrouping above. */
  protected override operandOf(n: SyntaxNode): SyntaxNode {
    return this.unaryOperand.get(n) ?? this.updateOperand.get(n) ?? n.childForFieldName('argument')!;
  }

  private postfixOverUnary(n: SyntaxNode): E | undefined {
    const op = n.childForFieldName('operator')?.text;
    if (n.firstChild?.type === op || n.firstChild?.text === op || this.updateOperand.has(n)) return undefined;
    const top = n.childForFieldName('argument');
    if (top?.type !== 'unary_expression') return undefined;
    let inner = top;
    while (inner.childForFieldName('argument')?.type === 'unary_expression') inner = inner.childForFieldName('argument')!;
    this.unaryOperand.set(inner, n);
    this.updateOperand.set(n, inner.childForFieldName('argument')!);
    try {
      return this.expr(top);
    } finally {
      this.unaryOperand.delete(inner);
      this.updateOperand.delete(n);
    }
  }

  protected exprInner(n: SyntaxNode): E {
    const operand = this.castOperand.get(n);
    if (operand) return this.expr(operand);
    if (n.type === 'update_expression') {
      const r = this.postfixOverUnary(n);
      if (r) return r;
    }
    if ((n.type === 'binary_expression' || n.type === 'cast_expression') && !isRebuilt(n) && n.parent?.type !== 'binary_expression' && hasMiscast(n, this.isValueName, this.isTypeName)) {
      // `(x) && (x)->f != 0` read as a cast of `&&(x)->f`, `a - (T)&b` as `(a - (T)) & b`: compiled as C groups them
      return this.expr(rebuild(n, this.isValueName, this.isTypeName));
    }
    if (n.type === 'field_expression' || n.type === 'subscript_expression' || n.type === 'call_expression' || n.type === 'update_expression') {
      const c = this.castUnderChain(n);
      if (c) {
        this.castOperand.set(c.call, c.operand);
        let v: E;
        try {
          v = this.exprInner(n);
        } finally {
          this.castOperand.delete(c.call);
        }
        if (c.to.k === 'struct' || c.to.k === 'array') this.fail(n, `cast to '${typeName(c.to)}' is not a scalar type`);
        return this.convertE(v, c.to, n, true);
      }
    }
    switch (n.type) {
      case 'parenthesized_expression': {
        const inner = n.namedChildren.find((c) => c && c.type !== 'comment');
        if (!inner) this.fail(n, 'empty parentheses');
        if (inner.type === 'compound_statement') return this.stmtExpr(n, inner);
        return this.expr(inner);
      }
      case 'number_literal':
        return this.number(n);
      case 'char_literal': {
        const v = charValue(n.text);
        const s = v > 127 ? v - 256 : v;
        return { t: INT, rv: this.K(s), cst: s };
      }
      case 'true':
      case 'false':
        // C before C23 has no such keywords: `bool_t true = TRUE;` (illumos nfs_xdr.c) is a variable.
        if (this.isValueName(n.text)) return this.ident(n);
        return n.type === 'true' ? { t: INT, rv: this.K(1), cst: 1 } : { t: INT, rv: this.K(0), cst: 0 };
      case 'null':
        return { t: VOIDP, rv: this.K(0), cst: 0 };
      case 'string_literal':
      case 'concatenated_string': {
        const s = this.stringLit(n)!;
        const a = this.internString(s);
        const t: CType = { k: 'array', of: CHAR, n: s.length + 1 };
        return { t, rv: this.K(a), cst: a };
      }
      case 'identifier':
        return this.ident(n);
      case 'binary_expression':
        return this.binary(n);
      case 'unary_expression':
        return this.unary(n);
      case 'pointer_expression':
        return this.pointerExpr(n);
      case 'update_expression':
        return this.update(n);
      case 'assignment_expression':
        return this.assign(n);
      case 'call_expression':
        return this.call(n);
      case 'field_expression':
        return this.field(n);
      case 'subscript_expression':
        return this.subscript(n);
      case 'cast_expression': {
        const t = this.typeOfDescriptor(n.childForFieldName('type')!, this.scope);
        const v = this.expr(n.childForFieldName('value')!);
        if (t.k === 'struct' || t.k === 'array') this.fail(n, `cast to '${typeName(t)}' is not a scalar type`);
        return this.convertE(v, t, n, true);
      }
      case 'sizeof_expression': {
        const tn = n.childForFieldName('type');
        let t: CType;
        const vn = n.childForFieldName('value');
        const td = this.typedefInParens(vn);
        if (tn) t = this.typeOfDescriptor(tn, this.scope);
        else if (td) t = td;
        else {
          const saved = this.code.length;
          const savedTemps = this.ntemps;
          const v = this.expr(n.childForFieldName('value')!);
          this.code.length = saved;
          this.loc.length = saved;
          this.pos.length = Math.min(this.pos.length, saved);
          this.ntemps = savedTemps;
          t = v.t;
        }
        if (t.k === 'struct' && !t.complete) this.fail(n, `invalid application of 'sizeof' to incomplete type '${typeName(t)}'`);
        if (t.k === 'func') this.fail(n, "invalid application of 'sizeof' to a function type");
        const s = sizeOf(t);
        return { t: ULONG, rv: this.K(s), cst: s };
      }
      case 'alignof_expression': {
        const t = this.typeOfDescriptor(n.childForFieldName('type')!, this.scope);
        const a = alignOf(t);
        return { t: ULONG, rv: this.K(a), cst: a };
      }
      case 'offsetof_expression': {
        let t = this.typeOfDescriptor(n.childForFieldName('type')!, this.scope);
        const mem = n.childForFieldName('member')!;
        let off = 0;
        for (const part of mem.text.split('.')) {
          if (t.k !== 'struct') this.fail(mem, `'${mem.text}' is not a member path`);
          const f = t.fields.find((x) => x.name === part.trim());
          if (!f) this.fail(mem, `'${typeName(t)}' has no member named '${part.trim()}'`);
          off += f.offset;
          t = f.type;
        }
        return { t: ULONG, rv: this.K(off), cst: off };
      }
      case 'conditional_expression':
        return this.conditional(n);
      case 'comma_expression': {
        const l = this.expr(n.childForFieldName('left')!);
        this.emit({ k: 'stmt', code: this.jsx(l.rv) });
        return this.expr(n.childForFieldName('right')!);
      }
      case 'compound_literal_expression':
        return this.compoundLiteral(n);
      case 'initializer_list':
        return this.fail(n, 'braced initializer used as an expression');
      case 'gnu_asm_expression': {
        // An empty template with no outputs (`__asm__ __volatile__("" ::: "memory")`, smp_rmb()
        // and barrier() in driver headers) is a compiler barrier: no instruction, and the
        // simulated CPUs are sequentially consistent.
        const code = n.childForFieldName('assembly_code');
        const outs = n.childForFieldName('output_operands');
        if (code && /^("\s*"\s*)+$/.test(code.text) && !outs?.namedChildren.some((c) => c?.type === 'gnu_asm_output_operand')) return { t: VOID, rv: this.K(0) };
        return this.fail(n, 'inline assembly (asm/__asm__) is not supported: the simulated kernel runs C only');
      }
      case 'generic_expression':
        return this.fail(n, '_Generic is not supported');
      case 'extension_expression':
        return this.expr(n.namedChildren[0]!);
      case 'ERROR':
        return this.fail(n, `syntax error near '${this.text(n)}'`);
      default:
        return this.fail(n, `unsupported expression '${this.text(n)}' (${n.type})`);
    }
  }

  protected number(n: SyntaxNode): E {
    // Most constants: up to 9 decimal digits, no suffix: an int (the general path gives the
    // same), read from the source text without taking the constant's text out of it.
    const from = n.startIndex, len = n.endIndex - from;
    if (len <= 9 && len > 0) {
      const src = n.t.src;
      let val = 0;
      let i = 0;
      for (; i < len; i++) {
        const d = src.charCodeAt(from + i) - 48;
        if (d < 0 || d > 9 || (i === 1 && val === 0)) break;
        val = val * 10 + d;
      }
      if (i === len) return { t: INT, rv: this.K(val), cst: val };
    }
    const txt = n.text;
    const known = this.constants.get(txt);
    if (known) return { t: known.t, rv: this.K(known.v), cst: known.v };
    const m = /^(0[xX][0-9a-fA-F]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)([uUlL]*)$/.exec(txt);
    if (!m) {
      if (/[.eEpP]/.test(txt) && !/^0[xX]/.test(txt)) this.fail(n, `floating-point constant '${txt}' is not supported: kernel code does not use the FPU`);
      this.fail(n, `invalid integer constant '${txt}'`);
    }
    let s = m[1]!;
    const suf = m[2]!.toLowerCase();
    const decimal = !/^0/.test(s) || s === '0';
    if (/^0[0-7]+$/.test(s)) s = '0o' + s.slice(1);
    // Below 2^53 (at most 13 hex, 17 octal, 52 binary or 15 decimal digits) the value is exact
    // as a number: no BigInt, and every 64-bit type holds it.
    const digits = decimal ? s.length : s.length - 2;
    const small = s[1] === 'x' || s[1] === 'X' ? digits <= 13 : s[1] === 'o' ? digits <= 17 : s[1] === 'b' || s[1] === 'B' ? digits <= 52 : digits <= 15;
    const v = small ? Number(s) : BigInt(s);
    const u = suf.includes('u');
    const longs = (suf.match(/l/g) ?? []).length;
    let t: IntType;
    const fits = (tt: IntType) =>
      typeof v === 'number'
        ? tt.size === 8 || v <= (tt.signed ? 0x7fffffff : 0xffffffff)
        : tt.signed ? v <= (tt.size === 4 ? 0x7fffffffn : 0x7fffffffffffffffn) : v <= (tt.size === 4 ? 0xffffffffn : 0xffffffffffffffffn);
    const cands: IntType[] = [];
    if (longs === 0) cands.push(...(u ? [UINT, ULONG] : decimal ? [INT, LONG] : [INT, UINT, LONG, ULONG]));
    else if (longs === 1) cands.push(...(u ? [ULONG] : decimal ? [LONG] : [LONG, ULONG]));
    else cands.push(...(u ? [ULLONG] : decimal ? [LLONG] : [LLONG, ULLONG]));
    const found = cands.find(fits);
    if (found) t = found;
    else if (fits(ULONG)) t = ULONG;
    else return this.fail(n, `integer constant '${txt}' is too large for its type`);
    const val = convInt(v, t);
    this.constants.set(txt, { t, v: val });
    return { t, rv: this.K(val), cst: val };
  }
  /** The type and value of each integer constant's text met so far (csmith repeats them). */
  private readonly constants = new Map<string, { t: IntType; v: Val }>();

  protected internString(s: string): number {
    let a = this.strings.get(s);
    if (a === undefined) {
      if (this.replay) throw new Error(`kctx: the warm compile of '${this.fnName}' placed a string its cold compile did not (compiled.ts)`);
      a = this.m.mem.map(s.length + 1, 8);
      for (let i = 0; i < s.length; i++) this.m.mem.u8[a + i] = s.charCodeAt(i) & 0xff;
      this.m.mem.u8[a + s.length] = 0;
      this.strings.set(s, a);
    }
    return a;
  }

  protected ident(n: SyntaxNode): E {
    const name = n.text;
    const e = this.scope.find(name);
    if (!e) {
      if (name === 'setjmp' || name === 'longjmp' || name === '_setjmp' || name === '__builtin_setjmp') this.fail(n, `${name}() is not supported (non-local jumps)`);
      if (VA_MACROS.has(name)) this.fail(n, `'${name}' is a macro of <sys/varargs.h> (or <stdarg.h>): include it`);
      if (name.startsWith('__builtin_va_')) this.fail(n, `'${name}' can only be called`);
      // C99's predefined identifier (and gcc's older spellings): the enclosing function's name.
      if ((name === '__func__' || name === '__FUNCTION__' || name === '__PRETTY_FUNCTION__') && this.fnName) {
        const a = this.internString(this.fnName);
        return { t: { k: 'array', of: CHAR, n: this.fnName.length + 1 }, rv: this.K(a), cst: a };
      }
      return this.fail(n, `'${name}' undeclared`);
    }
    switch (e.k) {
      case 'enum': {
        const v = e.value;
        return { t: e.type ?? INT, rv: this.K(v), cst: v };
      }
      case 'typedef':
        return this.fail(n, `'${name}' is a type name, not a value`);
      case 'func': {
        const addr = this.funcAddr(name, n);
        return { t: e.type, rv: this.K(addr), cst: addr, fname: name };
      }
      case 'var': {
        const t = e.type;
        if (e.global) {
          if (e.extern) {
            const d = this.m.sym.data.get(name);
            if (d) {
              e.addr = d.addr;
              e.extern = false;
            } else if (this.autoStub && !this.evaluating) {
              e.addr = this.autoStub.data(name, t);
              e.extern = false;
            } else {
              this.unresolved.add(name);
              e.addr = 0;
            }
          }
          // The address is read when the code runs (a later module may resolve it).
          const ga = `${this.g.ref(e)}.addr`;
          // Its function reads e.addr as its text does (the address of a global is folded at
          // load: & of it, initializers), without a function made from the text.
          const at = (): ((fr: CFrame) => number) => {
            const af = (): number => e.addr;
            (af as Forms).js = ga;
            return af;
          };
          if (t.k === 'array' || t.k === 'struct') return { t, rv: at(), addr: at(), ca: true };
          return { t, rv: this.ldE(t, false, ga), addr: at(), ca: true };
        }
        const off = e.off;
        const la = this.slotAddr(off);
        if (t.k === 'array' || t.k === 'struct') return { t, rv: this.A(la), addr: this.A(la), local: off };
        return { t, rv: this.ldE(t, false, la, off % sizeOf(t) === 0), addr: this.A(la), local: off };
      }
    }
  }

  protected funcAddr(name: string, n: SyntaxNode): number {
    const c = this.definedFns.get(name);
    if (c) return c.addr;
    const s = this.m.sym.lookup(name);
    if (s) return s.addr;
    // A kernel function whose text is mapped when a module first links against it.
    const lazy = this.lazyNatives?.get(name);
    if (lazy && !this.evaluating) return this.m.native(name, lazy);
    void n;
    if (this.autoStub && !this.evaluating) return this.autoStub.fn(name);
    this.unresolved.add(name);
    return 0;
  }

  /** `(name)` where name is a typedef: tree-sitter cannot tell a cast from an expression. */
  protected override typedefInParens(n: SyntaxNode | null): CType | undefined {
    return n?.type === 'parenthesized_expression' ? this.castsInParens(n)?.[0] : undefined;
  }


  protected pointerExpr(n: SyntaxNode): E {
    const op = n.childForFieldName('operator')!.text;
    const an = n.childForFieldName('argument')!;
    if (op === '&') {
      const a = this.expr(an);
      if (a.t.k === 'func') return { t: ptr(a.t), rv: a.rv, cst: a.cst, fname: a.fname };
      if (!a.addr) this.fail(n, `lvalue required as unary '&' operand ('${this.text(an)}')`);
      const ad = a.addr;
      const r: E = { t: ptr(a.t), rv: this.V(this.jsf(ad)), se: a.se };
      if (a.cst !== undefined && (a.t.k === 'array' || a.t.k === 'struct')) r.cst = a.cst;
      if (a.addrCst !== undefined) {
        r.cst = a.addrCst;
        r.rv = this.K(a.addrCst);
        return r;
      }
      // Address of a global is a load-time constant.
      if (a.ca && !a.se && a.cst === undefined) {
        try {
          const v = ad(null as unknown as CFrame);
          if (v !== 0) {
            r.cst = v;
            r.rv = this.K(v);
          }
        } catch { /* not constant */ }
      }
      return r;
    }
    // '*'
    const a = this.rvalue(this.expr(an));
    if (a.t.k !== 'ptr') this.fail(n, `invalid type argument of unary '*' (have '${typeName(a.t)}')`);
    return this.deref(a, a.t.to, n);
  }

  /** *p as an lvalue of type t. */
  protected override deref(p: E, t: CType, n: SyntaxNode): E {
    const prv = p.rv;
    if (t.k === 'void') this.fail(n, "dereferencing a 'void *' pointer");
    if (t.k === 'func') return { t, rv: prv, cst: p.cst };
    const jp = this.jsv(p);
    if (t.k === 'array' || t.k === 'struct') return { t, rv: prv, addr: this.A(jp), se: p.se };
    return { t, rv: this.ldE(t, true, jp), addr: this.A(jp), se: p.se };
  }

  protected field(n: SyntaxNode): E {
    const an = n.childForFieldName('argument')!;
    const op = n.childForFieldName('operator')!.text;
    const fname = n.childForFieldName('field')!.text;
    const a = this.expr(an);
    let st: CType;
    let base: (fr: CFrame) => number;
    let constBase: number | undefined; // the pointer's value, when a constant (offsetof)
    if (op === '->') {
      const p = this.rvalue(a);
      if (p.t.k !== 'ptr') this.fail(n, `invalid type argument of '->' (have '${typeName(p.t)}')`);
      st = p.t.to;
      base = this.A(this.jsv(p));
      if (typeof p.cst === 'number' && !p.se) constBase = p.cst;
    } else {
      st = a.t;
      if (!a.addr) {
        if (st.k === 'struct') base = this.A(this.jsv(a));
        else this.fail(n, `request for member '${fname}' in something not a structure or union`);
      } else base = a.addr;
    }
    if (st.k !== 'struct') this.fail(n, `request for member '${fname}' in something not a structure or union ('${typeName(st)}')`);
    if (!st.complete) this.fail(n, `dereferencing pointer to incomplete type '${typeName(st)}'`);
    const f = st.fields.find((x) => x.name === fname);
    if (!f) this.fail(n.childForFieldName('field')!, `'${typeName(st)}' has no member named '${fname}'`);
    const off = f.offset;
    // `&((T *)0)->m` (offsetof as headers define it) is a constant expression
    const addrCst = op === '->' ? (constBase !== undefined ? constBase + off : undefined) : a.addrCst !== undefined ? a.addrCst + off : undefined;
    const local = a.local !== undefined && op === '.' ? a.local + off : undefined;
    const b = base!;
    const addr = local !== undefined ? this.A(this.slotAddr(local)) : off === 0 ? b : this.A(`(${this.jsf(b)} + ${off})`);
    const t = f.type;
    const checked = op === '->' || a.local === undefined;
    if (f.bits) return this.bitfield(addr, t as IntType, f.bits, a.se);
    const ca = op === '.' && !!a.ca;
    if (t.k === 'array' || t.k === 'struct' || t.k === 'func') {
      const r: E = { t, rv: addr, addr, se: a.se, ca };
      if (addrCst !== undefined) r.addrCst = addrCst;
      return r;
    }
    const e: E = { t, rv: local !== undefined ? this.ldE(t, checked, this.slotAddr(local), local % sizeOf(t) === 0) : this.ldE(t, checked, this.jsf(addr)), addr, se: a.se, ca };
    if (local !== undefined) e.local = local;
    if (addrCst !== undefined) e.addrCst = addrCst;
    return e;
  }

  protected bitfield(addr: (fr: CFrame) => number, t: IntType, bits: BitField, se?: boolean): E {
    const ut = bitUnitType(t);
    const ld = this.loadFrom(ut, true);
    const st = this.storeTo(ut, true);
    const g = this.g;
    // The expression's type carries the width when it decides the promotion (promote()).
    const et: IntType = bits.width <= 32 && !t.bool ? { ...t, bitWidth: bits.width } : t;
    const e: E & { bits?: BitField } = { t: et, rv: this.V(`${g.ref(bitGet)}(${this.ldJs(ut, true, this.jsf(addr))}, ${g.ref(t)}, ${g.ref(bits)})`), addr, se };
    e.bits = bits;
    // A store of v (computed first), giving the field's new value.
    const set = (v: Val, a: number): Val => {
      const unit = bitPut(ld(a), v, t, bits);
      st(a, unit);
      return bitGet(unit, t, bits);
    };
    (e as E & { bf?: BitStore }).bf = { setJs: (v) => `${g.ref(set)}(${v}, ${this.jsf(addr)})` };
    return e;
  }

  protected subscript(n: SyntaxNode): E {
    let a0 = this.expr(n.childForFieldName('argument')!);
    let i0 = this.expr(n.childForFieldName('index')!);
    let a = this.rvalue(a0);
    let i = this.rvalue(i0);
    if (a.t.k !== 'ptr' && i.t.k === 'ptr') [a, i, a0, i0] = [i, a, i0, a0];
    if (a.t.k !== 'ptr') this.fail(n, 'subscripted value is neither array nor pointer');
    if (i.t.k !== 'int') this.fail(n, 'array subscript is not an integer');
    const sz = this.elemSize(a.t, n);
    const ji = i.t.k === 'int' && i.t.size <= 4 ? this.jsv(i) : `Number(${this.jsv(i)})`;
    const p: E = { t: a.t, rv: this.V(`(${this.jsv(a)} + ${ji} * ${sz})`), se: a.se || i.se };
    const d = this.deref(p, a.t.to, n);
    if (a.cst !== undefined && i.cst !== undefined) d.ca = true;
    // An element of an array member at a constant address (`&((T *)0)->m[2]`, offsetof(T, m[2])
    // as headers spell it) is at a constant address too.
    const ic = typeof i.cst === 'bigint' ? Number(i.cst) : i.cst;
    if (a0.t.k === 'array' && a0.addrCst !== undefined && typeof ic === 'number' && !i.se) d.addrCst = a0.addrCst + ic * sz;
    return d;
  }

  protected compoundLiteral(n: SyntaxNode): E {
    const t = this.typeOfDescriptor(n.childForFieldName('type')!, this.scope);
    const init = n.childForFieldName('value')!;
    let tt = t;
    if (tt.k === 'array' && tt.n === null) tt = { ...tt, n: this.initCount(init, tt) };
    if (!this.fnType) {
      // File scope: static storage.
      const size = Math.max(1, sizeOf(tt));
      const addr = this.m.mem.map(size, Math.max(8, alignOf(tt)));
      this.m.dataRoots.push([addr, size]);
      this.staticInit(addr, tt, init);
      const ad = this.K(addr) as (fr: CFrame) => number;
      if (tt.k === 'struct' || tt.k === 'array') return { t: tt, rv: ad, addr: ad, cst: addr };
      return { t: tt, rv: this.ldE(tt, false, String(addr)), addr: ad };
    }
    const off = this.allocLocal(tt);
    this.initLocal(off, tt, init);
    const la = this.slotAddr(off);
    if (tt.k === 'struct' || tt.k === 'array') return { t: tt, rv: this.A(la), addr: this.A(la), local: off };
    return { t: tt, rv: this.ldE(tt, false, la, off % sizeOf(tt) === 0), addr: this.A(la), local: off };
  }

  /** The two-word form of a value of at most 32 bits widened to 64 (sign- or zero-extended). */
  protected widenPair(rv: (fr: CFrame) => Val, signed: boolean): (h: string, l: string) => string {
    return (h, l) => (signed ? `(${l} = ${this.jsf(rv)}, ${h} = ${l} >> 31)` : `(${h} = 0, ${l} = ${this.jsf(rv)} | 0)`);
  }

  protected update(n: SyntaxNode): E {
    const op = n.childForFieldName('operator')!.text;
    const an = this.operandOf(n);
    const prefix = n.firstChild!.type === op || n.firstChild!.text === op;
    const a = this.expr(an);
    if (!a.addr) this.fail(n, `lvalue required as ${op === '++' ? 'increment' : 'decrement'} operand`);
    const t = a.t;
    const d = op === '++' ? 1 : -1;
    const bf = (a as E & { bf?: BitStore }).bf;
    const g = this.g;
    let nextJs: (v: string) => string;
    if (t.k === 'ptr') {
      const sz = this.elemSize(t, n) * d;
      nextJs = (v) => `(${v} + ${lit(sz)})`;
    } else if (t.k === 'int') {
      if (t.size === 4 && !t.bool) {
        nextJs = t.signed ? (v) => `((${v} + ${lit(d)}) | 0)` : (v) => `((${v} + ${lit(d)}) >>> 0)`;
      } else {
        const cv = intConverter(t);
        const next = t.size === 8 ? (v: Val) => Op64.add(v, d, t.signed) : (v: Val) => cv((v as number) + d);
        const NX = g.ref(next);
        nextJs = (v) => `${NX}(${v})`;
      }
    } else return this.fail(n, `wrong type argument to ${op === '++' ? 'increment' : 'decrement'}`);
    if (bf) {
      const v = g.tmp(), nv = g.tmp();
      return { t, rv: this.V(`(${v} = ${this.jsf(a.rv)}, ${nv} = ${bf.setJs(nextJs(v))}, ${prefix ? nv : v})`), se: true };
    }
    const ad = a.addr;
    const checked = a.local === undefined;
    if (t.k === 'int' && t.size === 8 && !t.bool) {
      // On the words (emit.ts pairJs): no BigInt.
      const vh = g.tmp(), vl = g.tmp(), h = g.tmp(), lo = g.tmp();
      const pa = checked ? g.tmp() : this.slotAddr(a.local!);
      const al = !checked && a.local! % 8 === 0;
      const step = d === 1
        ? `${lo} = (${vl} + 1) | 0, ${h} = (${vh} + ((${lo} === 0) | 0)) | 0`
        : `${lo} = (${vl} - 1) | 0, ${h} = (${vh} - ((${vl} === 0) | 0)) | 0`;
      const code = `(${checked ? `${pa} = ${this.jsf(ad)}, ` : ''}${this.ldPairJs(checked, pa, al)(vh, vl)}, ${step}, ${this.stPairJs(checked, pa, h, lo, al)})`;
      const [rh, rl] = prefix ? [h, lo] : [vh, vl];
      return { t, rv: this.wordsE(code, rh, rl, t.signed), se: true };
    }
    const pa = checked ? g.tmp() : this.slotAddr(a.local!);
    const aligned = !checked && a.local! % sizeOf(t) === 0;
    const v = g.tmp();
    const w = g.tmp();
    const setP = checked ? `${pa} = ${this.jsf(ad)}, ` : '';
    const js = prefix
      ? `(${setP}${v} = ${nextJs(this.ldJs(t, checked, pa, aligned))}, ${this.stJs(t, checked, pa, v, aligned)}, ${v})`
      : `(${setP}${v} = ${this.ldJs(t, checked, pa, aligned)}, ${w} = ${nextJs(v)}, ${this.stJs(t, checked, pa, w, aligned)}, ${v})`;
    return { t, rv: this.V(js), se: true };
  }

  /**
   * A 64-bit expression whose code (an effect) leaves its value's words in h, l: its value (the
   * words joined), its two-word form, and its form as a statement (the code alone).
   */
  protected wordsE(code: string, h: string, l: string, signed: boolean): (fr: CFrame) => Val {
    const f = this.P(this.V(`(${code}, ${this.joinJs(h, l, signed)})`), (h2, l2) => `(${code}, ${h2} = ${h}, ${l2} = ${l})`);
    (f as Forms).fx = code;
    return f;
  }

  protected assign(n: SyntaxNode): E {
    const op = n.childForFieldName('operator')!.text;
    const ln = n.childForFieldName('left')!;
    const rn = n.childForFieldName('right')!;
    const l = this.expr(ln);
    if (!l.addr || l.t.k === 'array' || l.t.k === 'func') this.fail(ln, `lvalue required as left operand of assignment ('${this.text(ln)}')`);
    const r = this.expr(rn);
    const t = l.t;
    const ad = l.addr;
    const checked = l.local === undefined;
    const bf = (l as E & { bf?: BitStore }).bf;
    const g = this.g;
    if (op === '=') {
      if (t.k === 'struct') {
        const re = this.rvalue(r);
        if (re.t !== t) this.fail(n, `incompatible types when assigning to type '${typeName(t)}' from type '${typeName(re.t)}'`);
        const d = g.tmp();
        // copy reports to an armed watch itself (memory.ts watch).
        return { t, rv: this.V(`(${d} = ${this.jsf(ad)}, ${g.ref(this.mem)}.copy(${d}, ${this.jsv(re)}, ${t.size}), ${d})`), se: true };
      }
      const v = this.convertE(r, t, rn).rv;
      if (bf) return { t, rv: this.V(bf.setJs(this.jsf(v))), se: true };
      const x = g.tmp();
      if (t.k === 'int' && t.size === 8 && !t.bool && this.hasPair(v)) {
        // On the value's words (emit.ts pairJs): no BigInt.
        const h = g.tmp(), lo = g.tmp();
        let code: string;
        if (l.local !== undefined) {
          const off = l.local;
          code = `(${this.pairJs(v, h, lo)}, ${this.stPairJs(false, this.slotAddr(off), h, lo, off % 8 === 0)})`;
        } else {
          const pa = g.tmp();
          code = `(${this.pairJs(v, h, lo)}, ${pa} = ${this.jsf(ad)}, ${this.stPairJs(checked, pa, h, lo)})`;
        }
        return { t, rv: this.wordsE(code, h, lo, t.signed), se: true };
      }
      if (l.local !== undefined) {
        const off = l.local;
        const pa = this.slotAddr(off);
        return { t, rv: this.V(`(${x} = ${this.jsf(v)}, ${this.stJs(t, false, pa, x, off % sizeOf(t) === 0)}, ${x})`), se: true };
      }
      const pa = g.tmp();
      return { t, rv: this.V(`(${x} = ${this.jsf(v)}, ${pa} = ${this.jsf(ad)}, ${this.stJs(t, checked, pa, x)}, ${x})`), se: true };
    }
    // Compound assignment: lhs op= rhs, computing the address once. The lvalue's current value
    // is in the temp k (a 64-bit one's words in kh, kl), set by the text that reads it.
    const bop = op.slice(0, -1);
    const k = g.tmp(), kh = g.tmp(), kl = g.tmp();
    const slotE: E = { t, rv: this.P(this.V(k), (h, l) => `(${h} = ${kh}, ${l} = ${kl})`) };
    const res = this.binopInner(bop, slotE, this.rvalue(r), n);
    const back = this.convertE(res, t, n).rv;
    const x = g.tmp();
    if (!bf && t.k === 'int' && t.size === 8 && !t.bool && this.hasPair(back)) {
      const h = g.tmp(), lo = g.tmp();
      const bp = this.pairJs(back, h, lo);
      // On the words, when nothing reads k.
      if (!mentions(bp, k)) {
        let code: string;
        if (l.local !== undefined) {
          const off = l.local;
          const pa = this.slotAddr(off);
          code = `(${this.ldPairJs(false, pa, off % 8 === 0)(kh, kl)}, ${bp}, ${this.stPairJs(false, pa, h, lo, off % 8 === 0)})`;
        } else {
          const pa = g.tmp();
          code = `(${pa} = ${this.jsf(ad)}, ${this.ldPairJs(checked, pa, false)(kh, kl)}, ${bp}, ${this.stPairJs(checked, pa, h, lo)})`;
        }
        return { t, rv: this.wordsE(code, h, lo, t.signed), se: true };
      }
    }
    const backJs = this.jsf(back);
    // A 64-bit value's words are kh, kl too (the two-word forms in backJs read them).
    const cur = t.k === 'int' && t.size === 8 && !t.bool
      ? (load: string) => `(${k} = ${load}, ${this.splitJs(k, kh, kl)}, ${k})`
      : (load: string) => load;
    if (bf) return { t, rv: this.V(`(${k} = ${cur(this.jsf(l.rv))}, ${bf.setJs(backJs)})`), se: true };
    if (l.local !== undefined) {
      const off = l.local;
      const pa = this.slotAddr(off);
      const al = off % sizeOf(t) === 0;
      return { t, rv: this.V(`(${k} = ${cur(this.ldJs(t, false, pa, al))}, ${x} = ${backJs}, ${this.stJs(t, false, pa, x, al)}, ${x})`), se: true };
    }
    const pa = g.tmp();
    return { t, rv: this.V(`(${pa} = ${this.jsf(ad)}, ${k} = ${cur(this.ldJs(t, checked, pa))}, ${x} = ${backJs}, ${this.stJs(t, checked, pa, x)}, ${x})`), se: true };
  }
}

/** Whether the JavaScript text js names the temp `tmp` ($3 in `$3 + 1`, not in `$31`). */
function mentions(js: string, tmp: string): boolean {
  for (let i = js.indexOf(tmp); i >= 0; i = js.indexOf(tmp, i + 1)) {
    const c = js.charCodeAt(i + tmp.length);
    if (!(c >= 48 && c <= 57)) return true;
  }
  return false;
}

/** A bit-field lvalue's store: the JavaScript storing the value v (its JavaScript) and giving the field's new value. */
interface BitStore {
  setJs(v: string): string;
}
