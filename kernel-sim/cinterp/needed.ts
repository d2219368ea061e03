/**
 * What of a translation unit a load needs, with a kernel tree: a real driver includes thousands
 * of header declarations and uses a few hundred. The top-level constructs of a unit fall in two
 * kinds. Some always count: the driver's own files' (the main file and every `.c` file it
 * includes), every function definition and every declaration that places data (they take text
 * and data addresses in order), and every construct that is not a plain declaration. The others
 * (typedefs, struct, union and enum definitions, prototypes, extern declarations) count only
 * when a construct that counts names what they declare (closure over identifiers: an
 * identifier anywhere in a needed construct pulls in every construct that declares it, in
 * source order). A construct's meaning depends only on the names it mentions, so declaring the
 * needed ones alone gives the same types, symbols, memory and driver errors as declaring them
 * all. (A failed load declares the whole unit again for what its errors recall: index.ts.)
 *
 * The result is a pure function of the unit's syntax: it is kept beside the preprocessed unit
 * (disk-cache.ts) and the in-process unit (unit-cache.ts), and the next load parses only the
 * needed constructs (the parser's included ranges) and declares only them.
 */
import { fingerprint } from '../../core/fingerprint';
import type { Node as SyntaxNode, Tree } from 'web-tree-sitter';
import { Query, parserPrint, type Parser } from '../../core/cparser';
import { ScenarioError } from '../scenario';
import type { Compiler, Scope, TU } from './compile';
import { plainTree, prunedTree, revivedTree, storedTree, type CNode } from './ctree';
import { loadTree, storeTree } from './disk-cache';
import type { CType } from './types';

/** The needed constructs of a unit: the character ranges of the others ([start, end) pairs). */
export interface Needs {
  /** Top-level named constructs in the whole unit. */
  total: number;
  /** Ranges of the constructs not needed, in order. */
  skip: number[];
}

const IDENT = /[A-Za-z_]\w*/g;

const stats = { found: 0, partial: 0, parsed: 0, revived: 0 };

/**
 * Driver units whose needs were found, loads that declared only what they needed of a unit, and
 * of those the ones whose tree held only that (parsed so, or revived); trees of needed
 * constructs revived from disk, driver's and layouts' (tests, benches).
 */
export function neededStats(): { found: number; partial: number; parsed: number; revived: number } {
  return { ...stats };
}

/** Counts a load that declared only what it needed of a unit (index.ts); `parsed`: its tree held only that. */
export function notePartial(parsed: boolean): void {
  stats.partial++;
  if (parsed) stats.parsed++;
}

/** The identifier a declarator declares, and whether it declares a function (not data). */
function declarator(d: SyntaxNode | null): { name?: string; func: boolean } {
  let func = false;
  for (let n = d, depth = 0; n && depth < 64; depth++) {
    switch (n.type) {
      case 'identifier':
      case 'type_identifier':
      case 'field_identifier':
      case 'primitive_type': // `typedef unsigned int uint32_t;`: tree-sitter-c knows the name
        return { name: n.text, func };
      case 'function_declarator': {
        const inner = n.childForFieldName('declarator');
        // `f(...)`: a function; `(*fp)(...)`: a pointer to one, data.
        func = inner?.type === 'identifier' || (inner?.type === 'parenthesized_declarator' && inner.namedChildren.length === 1 && inner.namedChildren[0]?.type === 'identifier');
        n = inner;
        continue;
      }
      case 'parenthesized_declarator':
        n = n.namedChildren.find((c) => c && c.type !== 'gnu_asm_expression' && c.type !== 'attribute_specifier' && c.type !== 'ms_call_modifier') ?? null;
        continue;
      default:
        n = n.childForFieldName('declarator');
    }
  }
  return { func: false };
}

/** The names a construct declares at file scope (tags with a body, enumerators, declarators). */
function declares(n: SyntaxNode, out: Set<string>): void {
  if (n.type === 'type_definition' || n.type === 'declaration') {
    for (const d of n.childrenForFieldName('declarator')) {
      const name = declarator(d && d.type === 'init_declarator' ? d.childForFieldName('declarator') : d).name;
      if (name) out.add(name);
    }
    // `struct foo;`: a tag declared without a body.
    const t = n.childForFieldName('type');
    if (n.type === 'declaration' && t && /^(struct|union|enum)_specifier$/.test(t.type) && !n.childrenForFieldName('declarator').some((d) => d)) {
      const tag = t.childForFieldName('name');
      if (tag) out.add(tag.text);
    }
  } else if (n.type === 'function_definition') {
    const name = declarator(n.childForFieldName('declarator')).name;
    if (name) out.add(name);
  }
}

/** Does the top-level construct always count (text or data of its own, or not a declaration)? */
function alwaysNeeded(n: SyntaxNode): boolean {
  switch (n.type) {
    case 'type_definition':
    case 'struct_specifier':
    case 'union_specifier':
    case 'enum_specifier':
      return false;
    case 'declaration': {
      for (const c of n.children) if (c && c.type === 'storage_class_specifier' && c.text === 'extern') {
        // `extern T x = v;` defines x.
        return n.childrenForFieldName('declarator').some((d) => d?.type === 'init_declarator');
      }
      for (const d of n.childrenForFieldName('declarator')) {
        if (!d || d.type === 'init_declarator' || !declarator(d).func) return true;
      }
      return false;
    }
    default:
      return true;
  }
}

/** Tags with a body and enumerators, anywhere in the unit, by the top-level construct they are in. */
function innerDeclarations(tree: Tree, starts: number[], out: Array<Set<string>>): void {
  const q = new Query(
    tree.language,
    '(struct_specifier name: (type_identifier) @n body: (field_declaration_list))' +
    '(union_specifier name: (type_identifier) @n body: (field_declaration_list))' +
    '(enum_specifier name: (type_identifier) @n body: (enumerator_list))' +
    '(enumerator name: (identifier) @n)',
  );
  try {
    // The construct that holds a capture: the last one starting at or before it (captures come
    // in the text's order; one before the last found starts the walk again).
    let k = 0;
    for (const c of q.captures(tree.rootNode)) {
      const at = c.node.startIndex;
      if (at < starts[k]!) k = 0;
      while (k + 1 < starts.length && starts[k + 1]! <= at) k++;
      out[k]?.add(c.node.text);
    }
  } finally {
    q.delete();
  }
}

/**
 * The needed constructs of a parsed unit (`text`: what was parsed). `own(n)`: n is in the
 * driver's own files (null: only the types `seeds` names count, for a unit read for its types
 * only); `seeds`: names the loader looks up by itself (the tree's layouts of the structures kctx
 * models).
 */
export function neededOf(tree: Tree, text: string, own: ((n: SyntaxNode) => boolean) | null, seeds: string[]): Needs {
  const top = tree.rootNode.namedChildren.filter((n): n is SyntaxNode => !!n);
  const starts = top.map((n) => n.startIndex);
  const decl = top.map(() => new Set<string>());
  top.forEach((n, i) => declares(n, decl[i]!));
  innerDeclarations(tree, starts, decl);
  const byName = new Map<string, number[]>();
  decl.forEach((names, i) => {
    for (const name of names) {
      const l = byName.get(name);
      if (l) l.push(i);
      else byName.set(name, [i]);
    }
  });
  const keep = new Uint8Array(top.length);
  const work: number[] = [];
  const take = (i: number) => {
    if (keep[i]) return;
    keep[i] = 1;
    work.push(i);
  };
  const named = new Set<string>();
  const name = (w: string) => {
    if (named.has(w)) return;
    named.add(w);
    for (const i of byName.get(w) ?? []) take(i);
  };
  top.forEach((n, i) => {
    if (own && (alwaysNeeded(n) || own(n))) take(i);
  });
  for (const s of seeds) for (const w of s.match(IDENT) ?? []) name(w);
  while (work.length) {
    const n = top[work.pop()!]!;
    for (const w of text.slice(n.startIndex, n.endIndex).match(IDENT) ?? []) name(w);
  }
  const skip: number[] = [];
  top.forEach((n, i) => {
    if (keep[i]) return;
    // `struct s { ... };` is the specifier and a `;` of the unit's: the `;` goes with it.
    const next = n.nextSibling;
    skip.push(n.startIndex, next && !next.isNamed && next.type === ';' ? next.endIndex : n.endIndex);
  });
  if (own) stats.found++;
  return { total: top.length, skip };
}

/** This file's code, as text: needs found by another version are never read (their keys differ). */
let print: string | undefined;
export function neededCode(): string {
  print ??= fingerprint(...[neededOf, declares, declarator, alwaysNeeded, innerDeclarations, parseNeeded].map(String));
  return print;
}

/** The code a stored tree of needed constructs was made by (the needs', the tree copy's, the parser's). */
let treePrint: string | undefined;
function treeCode(): string {
  treePrint ??= fingerprint(neededCode(), parserPrint(), ...[plainTree, prunedTree, revivedTree, storedTree].map(String));
  return treePrint;
}

/**
 * The syntax tree of the needed constructs of the stored unit `id` (`text`), kept on disk by an
 * earlier load (keepNeededTree): a load that revives it does not parse at all. Null when there
 * is none or it does not hold exactly the needed constructs.
 */
export function neededTree(id: string, code: string, text: string, needs: Needs): CNode | null {
  const stored = loadTree(id, `${code} ${treeCode()}`);
  const root = stored ? revivedTree(text, stored) : null;
  if (!root || root.namedChildren.length !== needs.total - needs.skip.length / 2) return null;
  stats.revived++;
  return root;
}

/**
 * Keeps the syntax tree of the needed constructs of the stored unit `id` for the next process:
 * `root` holds only them, or (`whole`) the whole unit, which is pruned to them.
 */
export function keepNeededTree(id: string, code: string, root: CNode, needs: Needs, whole: boolean): void {
  storeTree(id, `${code} ${treeCode()}`, storedTree(whole ? prunedTree(root, needs.skip) : root));
}

/** The start of every construct a load does not need (of a whole tree). */
export function skipped(needs: Needs): Set<number> {
  const out = new Set<number>();
  for (let i = 0; i < needs.skip.length; i += 2) out.add(needs.skip[i]!);
  return out;
}

/** The line and column of every index of `text` asked for, in increasing order. */
function positions(text: string, at: number[]): Array<{ row: number; column: number }> {
  const out: Array<{ row: number; column: number }> = [];
  let row = 0;
  let bol = 0;
  let nl = text.indexOf('\n');
  for (const i of at) {
    while (nl >= 0 && nl < i) {
      row++;
      bol = nl + 1;
      nl = text.indexOf('\n', bol);
    }
    out.push({ row, column: i - bol });
  }
  return out;
}

/**
 * Parses only the needed constructs of `text` (the parser's included ranges: the nodes have
 * their places in the whole text); null when the result is not exactly them (then the caller
 * parses the whole text).
 */
export function parseNeeded(parser: Parser, text: string, needs: Needs): Tree | null {
  const bounds: number[] = [];
  let at = 0;
  for (let i = 0; i < needs.skip.length; i += 2) {
    const a = needs.skip[i]!;
    const b = needs.skip[i + 1]!;
    if (a < at || b < a || b > text.length) return null;
    if (a > at) bounds.push(at, a);
    at = b;
  }
  if (at < text.length || !bounds.length) bounds.push(at, text.length);
  const pos = positions(text, bounds);
  const ranges = [];
  for (let i = 0; i < bounds.length; i += 2) ranges.push({ startIndex: bounds[i]!, endIndex: bounds[i + 1]!, startPosition: pos[i]!, endPosition: pos[i + 1]! });
  const tree = parser.parse(text, null, { includedRanges: ranges });
  if (!tree) return null;
  const root = tree.rootNode;
  if (root.hasError || root.namedChildCount !== needs.total - needs.skip.length / 2) {
    tree.delete();
    return null;
  }
  return tree;
}

/**
 * After a load that declared only what it needed of `tu`: the rest of the unit for the debugger
 * (`::print`, casts, `sizeof` of a header's struct the driver never uses, the name of a header's
 * function prototype or extern variable in an expression), declared on first lookup from the
 * whole text: types and the declarations that place nothing (prototypes, externs resolved to
 * the kernel's data as the load resolves its own), never data or text, as tree-layouts.ts reads
 * a tree's layouts. Looked up after the load's own scopes (Scope.late) and type names.
 */
export function declareRestLate(c: Compiler, probe: () => Compiler, parser: () => Parser, tu: TU): void {
  let rest: Compiler | null = null;
  let scope: Scope | null = null;
  const get = (): Scope => {
    if (scope) return scope;
    rest = probe();
    const tree = parser().parse(tu.pp.text);
    const whole: TU = { pp: tu.pp, root: plainTree(tree!, tu.pp.text), main: tu.main };
    rest.declareTypes(whole, (_n, f) => {
      try {
        f();
      } catch (e) {
        if (!(e instanceof ScenarioError)) throw e;
      }
    }, (n) => n.type === 'declaration' && !alwaysNeeded(n as unknown as SyntaxNode));
    rest.resolveExterns();
    scope = rest.fileScopeOf(whole);
    return scope;
  };
  c.globalScope.late = {
    name(n) {
      // Types, enumerators, and functions and variables only declared (the load declares every
      // definition itself).
      const e = get().find(n);
      return e && (e.k !== 'var' || e.global) ? e : undefined;
    },
    tag: (n) => get().findTag(n),
  };
  lateTypeNames.set(c, () => {
    get();
    return rest!.typeNames;
  });
}

/** The type names a load left to declareRestLate, by compiler (debug.ts). */
export const lateTypeNames = new WeakMap<Compiler, () => Map<string, CType>>();
