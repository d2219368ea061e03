/**
 * A tiny, safe expression language for exception-breakpoint conditions (`to == "vcpu1"`,
 * `op == "save" && handler =~ "^vmm_"`): no eval(), no property access, no calls.
 *
 *   expr    := or
 *   or      := and ( '||' and )*
 *   and     := unary ( '&&' unary )*
 *   unary   := '!' unary | cmp
 *   cmp     := primary ( ( '==' | '!=' | '<' | '<=' | '>' | '>=' | '=~' | '!~' ) primary )?
 *   primary := NUMBER | STRING | IDENT | 'true' | 'false' | '(' expr ')'
 *
 * Identifiers name the values the stop offers (`from`, `to`, `op`, `handler`, `thread`, `cpu`
 * ...); an unknown identifier is an error at parse time, so a typo never silently matches.
 * `=~` tests a regular expression (given as a string) against the left side's text.
 */
export type CondValue = string | number | boolean;
export type CondEnv = Record<string, CondValue | undefined>;

type Node =
  | { k: 'lit'; v: CondValue }
  | { k: 'id'; name: string }
  | { k: 'not'; e: Node }
  | { k: 'and' | 'or'; a: Node; b: Node }
  | { k: 'cmp'; op: string; a: Node; b: Node; re?: RegExp };

export class CondError extends Error {}

interface Tok {
  t: 'num' | 'str' | 'id' | 'op' | 'end';
  v: string;
  at: number;
}

const MAX_LEN = 1000;

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const at = i;
    if (c === '"' || c === "'") {
      let s = '';
      i++;
      while (i < src.length && src[i] !== c) {
        if (src[i] === '\\' && i + 1 < src.length) {
          const n = src[i + 1]!;
          s += n === 'n' ? '\n' : n === 't' ? '\t' : n;
          i += 2;
        } else s += src[i++];
      }
      if (i >= src.length) throw new CondError(`unterminated string at column ${at + 1}`);
      i++;
      out.push({ t: 'str', v: s, at });
      continue;
    }
    const num = /^(0x[0-9a-fA-F]+|\d+)/.exec(src.slice(i));
    if (num) {
      out.push({ t: 'num', v: num[0], at });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][\w.]*/.exec(src.slice(i));
    if (id) {
      out.push({ t: 'id', v: id[0], at });
      i += id[0].length;
      continue;
    }
    const op = /^(==|!=|<=|>=|=~|!~|&&|\|\||[<>!()])/.exec(src.slice(i));
    if (op) {
      out.push({ t: 'op', v: op[0], at });
      i += op[0].length;
      continue;
    }
    throw new CondError(`unexpected '${c}' at column ${at + 1}`);
  }
  out.push({ t: 'end', v: '', at: src.length });
  return out;
}

/** A parsed condition: `test(env)` evaluates it; `names` are the identifiers it uses. */
export class Condition {
  private constructor(
    readonly source: string,
    private readonly root: Node,
  ) {}

  /** Parses `src`; identifiers must be in `allowed`. Throws CondError with a readable message. */
  static parse(src: string, allowed: readonly string[]): Condition {
    if (src.length > MAX_LEN) throw new CondError(`condition longer than ${MAX_LEN} characters`);
    const toks = lex(src);
    let p = 0;
    const peek = () => toks[p]!;
    const take = (v?: string): Tok => {
      const t = toks[p]!;
      if (v !== undefined && t.v !== v) throw new CondError(`expected '${v}' at column ${t.at + 1}${t.t === 'end' ? ' (end of condition)' : `, found '${t.v}'`}`);
      p++;
      return t;
    };
    let depth = 0;
    const primary = (): Node => {
      const t = peek();
      if (t.t === 'op' && t.v === '(') {
        if (++depth > 64) throw new CondError('condition nested too deeply');
        take('(');
        const e = or();
        take(')');
        depth--;
        return e;
      }
      if (t.t === 'num') {
        take();
        return { k: 'lit', v: Number(t.v) };
      }
      if (t.t === 'str') {
        take();
        return { k: 'lit', v: t.v };
      }
      if (t.t === 'id') {
        take();
        if (t.v === 'true' || t.v === 'false') return { k: 'lit', v: t.v === 'true' };
        if (!allowed.includes(t.v)) throw new CondError(`unknown name '${t.v}' at column ${t.at + 1} (known: ${allowed.join(', ')})`);
        return { k: 'id', name: t.v };
      }
      throw new CondError(t.t === 'end' ? 'condition ends too early' : `unexpected '${t.v}' at column ${t.at + 1}`);
    };
    const cmp = (): Node => {
      const a = primary();
      const t = peek();
      if (t.t === 'op' && ['==', '!=', '<', '<=', '>', '>=', '=~', '!~'].includes(t.v)) {
        take();
        const b = primary();
        let re: RegExp | undefined;
        if (t.v === '=~' || t.v === '!~') {
          if (b.k !== 'lit' || typeof b.v !== 'string') throw new CondError(`'${t.v}' needs a regular expression in quotes on its right`);
          try {
            re = new RegExp(b.v);
          } catch (e) {
            throw new CondError(`bad regular expression: ${(e as Error).message}`);
          }
        }
        return { k: 'cmp', op: t.v, a, b, re };
      }
      return a;
    };
    const unary = (): Node => {
      if (peek().t === 'op' && peek().v === '!') {
        take();
        if (++depth > 64) throw new CondError('condition nested too deeply');
        const e = unary();
        depth--;
        return { k: 'not', e };
      }
      return cmp();
    };
    const and = (): Node => {
      let a = unary();
      while (peek().v === '&&' && peek().t === 'op') {
        take();
        a = { k: 'and', a, b: unary() };
      }
      return a;
    };
    const or = (): Node => {
      let a = and();
      while (peek().v === '||' && peek().t === 'op') {
        take();
        a = { k: 'or', a, b: and() };
      }
      return a;
    };
    if (peek().t === 'end') throw new CondError('empty condition');
    const root = or();
    if (peek().t !== 'end') throw new CondError(`unexpected '${peek().v}' at column ${peek().at + 1}`);
    return new Condition(src, root);
  }

  test(env: CondEnv): boolean {
    return truthy(evalNode(this.root, env));
  }
}

function truthy(v: CondValue | undefined): boolean {
  return v !== undefined && v !== false && v !== 0 && v !== '';
}

function evalNode(n: Node, env: CondEnv): CondValue | undefined {
  switch (n.k) {
    case 'lit': return n.v;
    case 'id': return env[n.name];
    case 'not': return !truthy(evalNode(n.e, env));
    case 'and': return truthy(evalNode(n.a, env)) && truthy(evalNode(n.b, env));
    case 'or': return truthy(evalNode(n.a, env)) || truthy(evalNode(n.b, env));
    case 'cmp': {
      const a = evalNode(n.a, env);
      const b = evalNode(n.b, env);
      if (n.re) {
        const hit = a !== undefined && n.re.test(String(a));
        return n.op === '=~' ? hit : !hit;
      }
      if (a === undefined || b === undefined) return n.op === '!=' ? a !== b : false;
      switch (n.op) {
        case '==': return a === b || (typeof a !== typeof b && String(a) === String(b));
        case '!=': return !(a === b || (typeof a !== typeof b && String(a) === String(b)));
        default: {
          const x = typeof a === 'number' ? a : Number(a);
          const y = typeof b === 'number' ? b : Number(b);
          if (Number.isNaN(x) || Number.isNaN(y)) {
            const s = String(a).localeCompare(String(b));
            return n.op === '<' ? s < 0 : n.op === '<=' ? s <= 0 : n.op === '>' ? s > 0 : s >= 0;
          }
          return n.op === '<' ? x < y : n.op === '<=' ? x <= y : n.op === '>' ? x > y : x >= y;
        }
      }
    }
  }
}

/**
 * Hit-count conditions: `5` (the 5th hit and every one after), `= 5` / `== 5` (only the 5th),
 * `>= 5`, `> 5`, `< 5`, `<= 5`, `% 5` (every 5th).
 */
export function parseHitCondition(src: string): (hits: number) => boolean {
  const m = /^\s*(==?|>=|<=|>|<|%)?\s*(\d+)\s*$/.exec(src);
  if (!m) throw new CondError(`hit count '${src}': expected a number, optionally after = >= > <= < or %`);
  const n = Number(m[2]);
  switch (m[1]) {
    case '=':
    case '==':
      return (h) => h === n;
    case undefined:
    case '>=': return (h) => h >= n;
    case '>': return (h) => h > n;
    case '<=': return (h) => h <= n;
    case '<': return (h) => h < n;
    case '%': return (h) => n > 0 && h % n === 0;
  }
  throw new CondError(`hit count '${src}'`);
}
