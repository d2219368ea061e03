/**
 * `(x) && y`, `(x) & m`, `(x) * k`, `(x) - 1` where `x` is a variable (or `(f()) + 1`, a call of a
 * function with no or only named arguments): tree-sitter cannot tell a
 * parenthesised name from a cast without knowing the names, and in some contexts it reads
 * `(x) && (x)->f != 0` as the cast `(x)` of `&&(x)->f` with `!= 0` after it. The compiler, which
 * knows `x` is not a type, rebuilds such an expression: the operands and operators of the binary
 * expressions around the cast, in their order, with the cast split into `x OP operand`, grouped
 * again by C's precedence (all are left-associative). The rebuilt nodes answer the part of the
 * node interface the compiler asks of an expression (synthetic: positions are their first token's).
 * The converse, a cast before a unary operator read as a parenthesised type name (`a - (T)&b` as
 * `(a - (T)) & b`), is rebuilt the same way: the cast and the operand after its operator become one
 * operand, `(T) OP x`, which the compiler reads as a cast (operators.ts).
 */
import type { CNode as SyntaxNode, CPoint } from './ctree';

/** C's binary operators by precedence, lowest first. */
const LEVELS: readonly (readonly string[])[] = [['||'], ['&&'], ['|'], ['^'], ['&'], ['==', '!='], ['<', '>', '<=', '>='], ['<<', '>>'], ['+', '-'], ['*', '/', '%']];
const PREC = new Map<string, number>(LEVELS.flatMap((ops, i) => ops.map((o) => [o, i] as [string, number])));

/** A node the rebuild makes: a binary expression, an operator token, or a name. */
class Rebuilt {
  readonly parent = null;
  readonly isMissing = false;
  readonly hasError = false;
  readonly isNamed = true;
  constructor(
    readonly type: string,
    readonly text: string,
    readonly startPosition: CPoint,
    readonly startIndex: number,
    readonly endIndex: number,
    private readonly fields: Record<string, SyntaxNode> = {},
    /** An argument list's arguments. */
    private readonly list: SyntaxNode[] = [],
  ) {}
  childForFieldName(f: string): SyntaxNode | null {
    return this.fields[f] ?? null;
  }
  get namedChildren(): SyntaxNode[] {
    if (this.type === 'binary_expression') return [this.fields.left!, this.fields.right!];
    if (this.type === 'call_expression') return [this.fields.function!, this.fields.arguments!];
    return this.list;
  }
  get children(): SyntaxNode[] {
    return this.type === 'binary_expression' ? [this.fields.left!, this.fields.operator!, this.fields.right!] : this.namedChildren;
  }
}

export function isRebuilt(n: SyntaxNode): boolean {
  return n instanceof Rebuilt;
}

const node = (r: Rebuilt) => r as unknown as SyntaxNode;

/**
 * A cast whose "type" is the name of something that is not a type, over `&&X`, `&X`, `*X`,
 * `-X` or `+X`: the name, the binary operator, and X. `isValue(name)`: the name is in scope and
 * not a type. `(f()) + 1` and `(f(a, b)) && x` (a macro's `(audit_getstate())`) read the same way,
 * their "type" a function type named `f` whose parameters are names: then `args` are the
 * call's arguments.
 */
export function miscast(n: SyntaxNode, isValue: (name: string) => boolean): { name: SyntaxNode; args?: SyntaxNode[]; op: string; operand: SyntaxNode } | undefined {
  if (n.type !== 'cast_expression') return undefined;
  const desc = n.childForFieldName('type');
  const kids = desc?.children ?? [];
  if (!desc || kids[0]?.type !== 'type_identifier') return undefined;
  let args: SyntaxNode[] | undefined;
  if (kids.length === 2 && kids[1]!.type === 'abstract_function_declarator' && !kids[1]!.childForFieldName('declarator')) {
    // The parameters must each be a bare name of a value: `(f(a, b))`.
    args = [];
    for (const p of kids[1]!.childForFieldName('parameters')?.namedChildren ?? []) {
      const t = p.type === 'parameter_declaration' && p.namedChildren.length === 1 ? p.childForFieldName('type') : null;
      if (!t || t.type !== 'type_identifier' || !isValue(t.text)) return undefined;
      args.push(t);
    }
  } else if (kids.length !== 1) return undefined;
  const name = kids[0]!;
  if (!isValue(name.text)) return undefined;
  const v = n.childForFieldName('value');
  if (!v) return undefined;
  let op: string | undefined;
  let operand: SyntaxNode | null = null;
  if (v.type === 'pointer_expression' || v.type === 'unary_expression') {
    op = v.childForFieldName('operator')?.text;
    operand = v.childForFieldName('argument');
    if (op === '&' && operand?.type === 'pointer_expression' && operand.childForFieldName('operator')?.text === '&' && v.text.startsWith('&&')) {
      op = '&&';
      operand = operand.childForFieldName('argument');
    }
  }
  if (!op || !operand || !['&&', '&', '*', '-', '+'].includes(op)) return undefined;
  return { name, ...(args ? { args } : {}), op, operand };
}

/** A name as a rebuilt identifier. */
const ident = (x: SyntaxNode): SyntaxNode => node(new Rebuilt('identifier', x.text, x.startPosition, x.startIndex, x.endIndex));

/** True when a cast that miscast() recognises is among the operands of the binary expressions from `n` down. */
export function hasMiscast(n: SyntaxNode, isValue: (name: string) => boolean, isType: (name: string) => boolean): boolean {
  // A work list, not recursion: `1 + 1 + ...` 50,000 times is one region (the compiler then refuses its depth).
  const todo = [n];
  for (let x = todo.pop(); x; x = todo.pop()) {
    if (x.type === 'binary_expression') todo.push(x.childForFieldName('right')!, x.childForFieldName('left')!);
    else if (x.type === 'cast_expression' && miscast(x, isValue)) return true;
    else if (castInParens(x, isType) && !castsItsRight(x)) return true;
  }
  return false;
}

/** The unary operators a cast read as a parenthesised name can stand before. */
const UNARY = new Set(['*', '&', '-', '+']);

/**
 * `(T)` or `(T)(U)`, `(T)(U)(V)`: casts that tree-sitter read as a parenthesised name, or as a call
 * whose function is one and whose one argument is a type name, because a unary operator follows
 * (`(caddr_t)&x` after a `-`; `(major_t)(int)*p` from <sys/fs/hsfs_rrip.h>): the type names, the
 * outermost first (an identifier, or a real cast's type descriptor: `(long)(T)-1`). `isType(name)`:
 * a typedef in scope or a basic type's keyword.
 */
export function castInParens(n: SyntaxNode, isType: (name: string) => boolean): SyntaxNode[] | undefined {
  if (n.type === 'parenthesized_expression') {
    const inner = n.namedChildren.filter((c) => c && c.type !== 'comment');
    return inner.length === 1 && inner[0]!.type === 'identifier' && isType(inner[0]!.text) ? [inner[0]!] : undefined;
  }
  if (n.type === 'cast_expression') {
    // `(long)(T)-1`: a real cast over one read as a name
    const inner = castInParens(n.childForFieldName('value')!, isType);
    return inner ? [n.childForFieldName('type')!, ...inner] : undefined;
  }
  if (n.type !== 'call_expression') return undefined;
  const outer = castInParens(n.childForFieldName('function')!, isType);
  const args = n.childForFieldName('arguments')?.namedChildren.filter((c) => c && c.type !== 'comment') ?? [];
  if (!outer || args.length !== 1 || args[0]!.type !== 'identifier' || !isType(args[0]!.text)) return undefined;
  return [...outer, args[0]!];
}

/** `n` (a cast read as a name) is already the left side of `n OP x` with x a single operand: the compiler reads that as the cast of `OP x`. */
function castsItsRight(n: SyntaxNode): boolean {
  const p = n.parent;
  return p?.type === 'binary_expression' && p.childForFieldName('left')?.startIndex === n.startIndex && p.childForFieldName('left')?.endIndex === n.endIndex &&
    UNARY.has(p.childForFieldName('operator')!.text) && p.childForFieldName('right')!.type !== 'binary_expression';
}

/** The expression `n` (a binary expression or a cast) rebuilt with every such cast split, by precedence. */
export function rebuild(n: SyntaxNode, isValue: (name: string) => boolean, isType: (name: string) => boolean): SyntaxNode {
  const operands: SyntaxNode[] = [];
  const ops: SyntaxNode[] = [];
  // In order, with a work list (an operator is pushed as itself, after its right side).
  const todo: Array<{ x: SyntaxNode; op?: true }> = [{ x: n }];
  for (let w = todo.pop(); w; w = todo.pop()) {
    const x = w.x;
    if (w.op) {
      ops.push(x);
      continue;
    }
    if (x.type === 'binary_expression') {
      todo.push({ x: x.childForFieldName('right')! }, { x: x.childForFieldName('operator')!, op: true }, { x: x.childForFieldName('left')! });
      continue;
    }
    const m = miscast(x, isValue);
    if (!m) {
      operands.push(x);
      continue;
    }
    const desc = x.childForFieldName('type')!;
    if (m.args) {
      const args = node(new Rebuilt('argument_list', `(${m.args.map((a) => a.text).join(', ')})`, desc.startPosition, m.name.endIndex, desc.endIndex, {}, m.args.map(ident)));
      operands.push(node(new Rebuilt('call_expression', desc.text, m.name.startPosition, m.name.startIndex, desc.endIndex, { function: ident(m.name), arguments: args })));
    } else operands.push(ident(m.name));
    ops.push(node(new Rebuilt(m.op, m.op, x.startPosition, x.startIndex, x.startIndex)));
    todo.push({ x: m.operand });
  }
  // A cast read as a name takes the operand after its operator, from the right: `(T)(U)-(V)*x`
  // is one operand, which the compiler reads as (T)(U) of -((V) of *x).
  for (let j = operands.length - 2; j >= 0; j--) {
    const op = ops[j]!;
    if (!UNARY.has(op.text) || !castInParens(operands[j]!, isType)) continue;
    const l = operands[j]!;
    const r = operands[j + 1]!;
    operands.splice(j, 2, node(new Rebuilt('binary_expression', `${l.text}${op.text}${r.text}`, l.startPosition, l.startIndex, r.endIndex, { left: l, operator: op, right: r })));
    ops.splice(j, 1);
  }
  // Precedence climbing over operands[0] ops[0] operands[1] ...
  let i = 0;
  let k = 0;
  const climb = (min: number): SyntaxNode => {
    let left = operands[i++]!;
    while (k < ops.length && PREC.get(ops[k]!.text)! >= min) {
      const op = ops[k++]!;
      const p = PREC.get(op.text)!;
      const right = climb(p + 1);
      left = node(new Rebuilt('binary_expression', `${left.text} ${op.text} ${right.text}`, left.startPosition, left.startIndex, right.endIndex, { left, operator: op, right }));
    }
    return left;
  };
  return climb(0);
}
