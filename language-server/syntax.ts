/**
 * Small helpers over the tree-sitter-c syntax tree, in the words the rules use.
 * Positions are tree-sitter's: rows and columns 0-based, columns in UTF-16 code units,
 * which is exactly what LSP expects.
 */
import type { SyntaxNode } from '../core/cparser';

export type { SyntaxNode };

export interface Range {
  start: { line: number; character: number };
  end: { line: number; character: number };
}

export function rangeOf(n: SyntaxNode): Range {
  const s = n.startPosition;
  const e = n.endPosition;
  return { start: { line: s.row, character: s.column }, end: { line: e.row, character: e.column } };
}

/** 1-based line of a node, for messages. */
export function lineOf(n: SyntaxNode): number {
  return n.startPosition.row + 1;
}

/** Removes any number of enclosing parentheses and casts that do not change the value's identity. */
export function unwrap(n: SyntaxNode | null | undefined): SyntaxNode | null {
  let cur = n ?? null;
  while (cur) {
    if (cur.type === 'parenthesized_expression') cur = cur.namedChildren.find((c) => c && c.type !== 'comment') ?? null;
    else if (cur.type === 'cast_expression') cur = cur.childForFieldName('value');
    else break;
  }
  return cur;
}

/** The called name for `f(...)` (identifier only), else ''. */
export function callName(call: SyntaxNode): string {
  const f = call.childForFieldName('function');
  if (!f) return '';
  if (f.type === 'identifier') return f.text;
  return '';
}

/** Arguments of a call, comments excluded. */
export function callArgs(call: SyntaxNode): SyntaxNode[] {
  const list = call.childForFieldName('arguments');
  if (!list) return [];
  const out: SyntaxNode[] = [];
  for (const c of list.namedChildren) if (c && c.type !== 'comment') out.push(c);
  return out;
}

export function isNullLiteral(n: SyntaxNode | null | undefined): boolean {
  const u = unwrap(n);
  if (!u) return false;
  if (u.type === 'null') return true;
  if (u.type === 'number_literal' && /^0+[uUlL]*$/.test(u.text)) return true;
  return u.type === 'identifier' && u.text === 'NULL';
}

/** Whitespace- and comment-insensitive text of an expression, for comparing two expressions. */
export function normText(n: SyntaxNode | null | undefined): string {
  const u = unwrap(n);
  if (!u) return '';
  if (isNullLiteral(u)) return 'NULL';
  return u.text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\s+/g, '');
}

/** Depth-first pre-order walk with a cursor (fast: no child arrays). Return false from visit to skip a subtree. */
export function walk(root: SyntaxNode, visit: (n: SyntaxNode) => boolean | void): void {
  const c = root.walk();
  try {
    let descend = visit(c.currentNode) !== false;
    for (;;) {
      if (descend && c.gotoFirstChild()) {
        descend = visit(c.currentNode) !== false;
        continue;
      }
      for (;;) {
        if (c.gotoNextSibling()) {
          descend = visit(c.currentNode) !== false;
          break;
        }
        if (!c.gotoParent()) return;
        if (c.currentNode.id === root.id) return;
      }
    }
  } finally {
    c.delete();
  }
}

/** All descendants (and root) of the given types, in source order. */
export function collect(root: SyntaxNode, types: ReadonlySet<string>, stopAt?: ReadonlySet<string>): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  walk(root, (n) => {
    if (types.has(n.type)) out.push(n);
    if (stopAt && n.id !== root.id && stopAt.has(n.type)) return false;
    return true;
  });
  return out;
}

/** The identifier a declarator finally names (through pointers, arrays, init and function declarators). */
export function declaratorName(d: SyntaxNode | null | undefined): SyntaxNode | null {
  let cur = d ?? null;
  while (cur) {
    if (cur.type === 'identifier' || cur.type === 'field_identifier') return cur;
    const inner = cur.childForFieldName('declarator');
    if (inner) { cur = inner; continue; }
    if (cur.type === 'parenthesized_declarator') { cur = cur.namedChildren.find((c) => c && c.type !== 'comment') ?? null; continue; }
    return null;
  }
  return null;
}

export function functionDeclaratorOf(fn: SyntaxNode): SyntaxNode | null {
  let cur: SyntaxNode | null = fn.childForFieldName('declarator');
  while (cur && cur.type !== 'function_declarator') cur = cur.childForFieldName('declarator');
  return cur;
}

export function functionName(fn: SyntaxNode): string {
  const d = functionDeclaratorOf(fn);
  const id = d ? declaratorName(d.childForFieldName('declarator')) : null;
  return id ? id.text : '';
}

export function hasStorageClass(decl: SyntaxNode, word: string): boolean {
  for (const c of decl.namedChildren) if (c && c.type === 'storage_class_specifier' && c.text === word) return true;
  return false;
}

/** Parameter declarations of a function declarator; `(void)` gives []. undefined for K&R or variadic lists. */
export function parameters(fdecl: SyntaxNode): SyntaxNode[] | undefined {
  const list = fdecl.childForFieldName('parameters');
  if (!list) return undefined;
  const ps: SyntaxNode[] = [];
  for (const c of list.namedChildren) {
    if (!c || c.type === 'comment') continue;
    if (c.type === 'variadic_parameter') return undefined;
    if (c.type !== 'parameter_declaration') return undefined;
    ps.push(c);
  }
  if (ps.length === 1 && !ps[0]!.childForFieldName('declarator') && ps[0]!.text.trim() === 'void') return [];
  return ps;
}

/** `type *name` of a parameter as (base type text, pointer depth, name). */
export function paramShape(p: SyntaxNode): { type: string; depth: number; name: string } {
  const type = (p.childForFieldName('type')?.text ?? '').replace(/\s+/g, ' ');
  let depth = 0;
  let d: SyntaxNode | null = p.childForFieldName('declarator');
  let name = '';
  while (d) {
    if (d.type === 'pointer_declarator') depth++;
    if (d.type === 'identifier') { name = d.text; break; }
    d = d.childForFieldName('declarator');
  }
  return { type, depth, name };
}

/** The innermost ancestor (or self) satisfying pred. */
export function ancestor(n: SyntaxNode, pred: (a: SyntaxNode) => boolean): SyntaxNode | null {
  let cur: SyntaxNode | null = n;
  while (cur) {
    if (pred(cur)) return cur;
    cur = cur.parent;
  }
  return null;
}

/** The statement (a direct child of some block) that contains n. */
export function statementIn(n: SyntaxNode, block: SyntaxNode): SyntaxNode | null {
  let cur: SyntaxNode | null = n;
  while (cur && cur.parent && cur.parent.id !== block.id) cur = cur.parent;
  return cur && cur.parent && cur.parent.id === block.id ? cur : null;
}

export function isAncestor(a: SyntaxNode, n: SyntaxNode): boolean {
  return a.startIndex <= n.startIndex && n.endIndex <= a.endIndex && ancestor(n, (x) => x.id === a.id) !== null;
}

/** Identifiers read or written in an expression (names only). */
export function identifiersIn(n: SyntaxNode): Set<string> {
  const out = new Set<string>();
  walk(n, (x) => {
    if (x.type === 'identifier') out.add(x.text);
    return true;
  });
  return out;
}

/** Root identifier of an lvalue: `a->b.c[3]` -> a. */
export function lvalueRoot(n: SyntaxNode | null): string {
  let cur = unwrap(n);
  while (cur) {
    if (cur.type === 'identifier') return cur.text;
    if (cur.type === 'field_expression' || cur.type === 'subscript_expression') cur = unwrap(cur.childForFieldName('argument'));
    else if (cur.type === 'pointer_expression') cur = unwrap(cur.childForFieldName('argument'));
    else return '';
  }
  return '';
}

/** Indentation (leading whitespace) of the line containing row. */
export function indentOfRow(text: string, lineStarts: number[], row: number): string {
  const s = lineStarts[row] ?? 0;
  let e = s;
  while (e < text.length && (text[e] === ' ' || text[e] === '\t')) e++;
  return text.slice(s, e);
}

export function computeLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

export function isStatementType(t: string): boolean {
  return t.endsWith('_statement') || t === 'declaration' || t === 'compound_statement';
}

/**
 * Has the parser's reading of `n` an error that can change its statements or its control flow?
 * An error confined to a call's argument list does not: a type given to a macro (`mtod(m, struct
 * ip *)`, `__containerof(p, struct x, f)`, `list_d2l(l, struct foo *)`) is an ERROR inside the
 * argument list, and the statement around the call is read right. Rules that walk paths skip only
 * functions with errors of the other kind (7% of the functions of illumos uts have an error, half
 * of them only such arguments).
 */
export function hasStructuralError(n: SyntaxNode): boolean {
  if (!n.hasError) return false;
  let structural = false;
  const inArguments = (e: SyntaxNode): boolean => {
    for (let p = e.parent; p && p.id !== n.id; p = p.parent) {
      if (p.type === 'argument_list') return true;
      if (isStatementType(p.type) || p.type === 'declaration') return false;
    }
    return false;
  };
  const visit = (x: SyntaxNode): void => {
    if (structural) return;
    if (x.type === 'ERROR' || x.isMissing) {
      if (!inArguments(x)) structural = true;
      return;
    }
    if (!x.hasError) return;
    for (const c of x.children) visit(c);
  };
  visit(n);
  return structural;
}
