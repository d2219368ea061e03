/**
 * A plain JavaScript copy of a tree-sitter syntax tree, made once per translation unit with one
 * tree cursor walk. The C compiler reads it instead of web-tree-sitter's Node objects: each of
 * those is a new object made by crossing into WebAssembly on every access (`childForFieldName`,
 * `namedChildren`, `text`), which was the larger part of compiling a function.
 *
 * The copy is a few typed arrays indexed by node (its type, start and end, row, parent, first
 * child, next sibling, field in its parent, flags): no object per node, so a kept unit costs
 * the garbage collector nothing. A CNode is made for a node when the compiler first asks for
 * it, and is the same object at every later ask: the same syntax is the same node.
 *
 * A CNode answers the part of web-tree-sitter's Node interface the compiler uses, with the same
 * values: type, text (the source between start and end index), startPosition (row and column in
 * characters, rows counted by '\n'), children and named children, fields, parent and siblings,
 * isMissing, and hasError (an ERROR or missing node at or below it: tree-sitter's own hasError
 * also counts errors recovered inside nodes a walk does not show, so syntax errors are looked
 * for in web-tree-sitter's nodes, index.ts).
 */
import type { Language, Tree, TreeCursor } from 'web-tree-sitter';
import { treeSitterWasm, type TreeSitterWasm } from '../../core/cparser';

const NAMED = 1;
const MISSING = 2;
const ERROR = 4;

export interface CPoint {
  row: number;
  column: number;
}

/** What a position is taken from: a CNode, or web-tree-sitter's Node (syntax errors). */
export interface Located {
  readonly startPosition: CPoint;
}

/** Field ids by name, per table of field names (a language's, or a stored tree's). */
const fieldIdsOf = new WeakMap<readonly (string | null)[], Map<string, number>>();
/** NAMED or 0 by type id, per language (asked before a walk: nothing else calls into wasm during one). */
const namedOf = new WeakMap<Language, Uint8Array>();

function namedFlags(lang: Language): Uint8Array {
  let f = namedOf.get(lang);
  if (!f) {
    f = new Uint8Array(lang.types.length);
    for (let id = 0; id < f.length; id++) f[id] = lang.types[id] && lang.nodeTypeIsNamed(id) ? NAMED : 0;
    namedOf.set(lang, f);
  }
  return f;
}

/** One tree's tables: the node arrays in the order of a depth-first walk (the root is 0). */
export interface Tables {
  type: Uint16Array;
  flags: Uint8Array;
  start: Int32Array;
  end: Int32Array;
  row: Int32Array;
  parent: Int32Array;
  first: Int32Array;
  next: Int32Array;
  field: Uint16Array;
  /** The index of each row's first character (rows up to the last node's). */
  lineStart: Int32Array;
}

/** The node tables of `count` nodes (no child, no sibling yet). */
function nodeTables(count: number): Omit<Tables, 'lineStart'> {
  return {
    type: new Uint16Array(count),
    flags: new Uint8Array(count),
    start: new Int32Array(count),
    end: new Int32Array(count),
    row: new Int32Array(count),
    parent: new Int32Array(count),
    first: new Int32Array(count).fill(-1),
    next: new Int32Array(count).fill(-1),
    field: new Uint16Array(count),
  };
}

/**
 * The same strings, internalized (as V8 keeps a property name): web-tree-sitter's type names are
 * strings made from WebAssembly memory, and the compiler compares node types with literals
 * (`n.type === 'identifier'`, a switch on it) all the time: internalized strings compare by
 * identity, the others by their characters.
 */
function interned(names: readonly string[]): string[] {
  return names.map((n) => Object.keys({ [n]: 0 })[0]!);
}

/** One tree's nodes, in the order of a depth-first walk (the root is 0). */
class CTree {
  /** Each node's CNode once asked for (filled with undefined: a packed array, not a sparse one). */
  readonly nodes: (CNode | undefined)[];
  readonly fieldIds: Map<string, number>;
  /** The type names, internalized (see interned). */
  readonly typeNames: readonly string[];
  readonly type: Uint16Array;
  readonly flags: Uint8Array;
  readonly start: Int32Array;
  readonly end: Int32Array;
  readonly row: Int32Array;
  readonly lineStart: Int32Array;
  readonly parent: Int32Array;
  readonly first: Int32Array;
  readonly next: Int32Array;
  readonly field: Uint16Array;
  constructor(
    readonly src: string,
    typeNames: readonly string[],
    readonly fieldNames: readonly (string | null)[],
    readonly tables: Tables,
  ) {
    let ids = fieldIdsOf.get(fieldNames);
    if (!ids) {
      ids = new Map();
      fieldNames.forEach((f, i) => f && ids!.set(f, i));
      fieldIdsOf.set(fieldNames, ids);
    }
    this.fieldIds = ids;
    this.typeNames = interned(typeNames);
    ({ type: this.type, flags: this.flags, start: this.start, end: this.end, row: this.row, lineStart: this.lineStart, parent: this.parent, first: this.first, next: this.next, field: this.field } = tables);
    this.nodes = new Array<CNode | undefined>(this.type.length).fill(undefined);
  }

  node(i: number): CNode {
    return (this.nodes[i] ??= new CNode(this, i));
  }
}

const NONE: readonly CNode[] = Object.freeze([]);

export class CNode {
  private kids: readonly CNode[] | null = null;
  private named: readonly CNode[] | null = null;
  private txt: string | null = null;
  readonly type: string;

  constructor(
    /** The tree this node is in (stored trees, ctree.ts's own functions). */
    readonly t: CTree,
    private readonly i: number,
  ) {
    this.type = t.typeNames[t.type[i]!]!;
  }

  get isNamed(): boolean {
    return (this.t.flags[this.i]! & NAMED) !== 0;
  }

  get isMissing(): boolean {
    return (this.t.flags[this.i]! & MISSING) !== 0;
  }

  get hasError(): boolean {
    return (this.t.flags[this.i]! & ERROR) !== 0;
  }

  get startIndex(): number {
    return this.t.start[this.i]!;
  }

  get endIndex(): number {
    return this.t.end[this.i]!;
  }

  get text(): string {
    return (this.txt ??= this.t.src.slice(this.t.start[this.i], this.t.end[this.i]));
  }

  get startPosition(): CPoint {
    const row = this.t.row[this.i]!;
    return { row, column: this.t.start[this.i]! - this.t.lineStart[row]! };
  }

  get parent(): CNode | null {
    const p = this.t.parent[this.i]!;
    return p < 0 ? null : this.t.node(p);
  }

  get children(): readonly CNode[] {
    if (this.kids) return this.kids;
    const t = this.t;
    let c = t.first[this.i]!;
    if (c < 0) return (this.kids = NONE);
    const out: CNode[] = [];
    for (; c >= 0; c = t.next[c]!) out.push(t.node(c));
    return (this.kids = out);
  }

  get namedChildren(): readonly CNode[] {
    if (this.named) return this.named;
    // Made from the tables: no CNode for an anonymous child (a token) nobody asks for.
    const t = this.t;
    let c = t.first[this.i]!;
    if (c < 0) return (this.named = NONE);
    const out: CNode[] = [];
    for (; c >= 0; c = t.next[c]!) if (t.flags[c]! & NAMED) out.push(t.node(c));
    return (this.named = out);
  }

  get childCount(): number {
    return this.children.length;
  }

  child(i: number): CNode | null {
    return this.children[i] ?? null;
  }

  get firstChild(): CNode | null {
    const c = this.t.first[this.i]!;
    return c < 0 ? null : this.t.node(c);
  }

  get lastChild(): CNode | null {
    const k = this.children;
    return k[k.length - 1] ?? null;
  }

  // As tree-sitter answers: the first later sibling that ends after this node (a zero-width
  // missing node right after it is not its next sibling).
  get nextSibling(): CNode | null {
    return this.following(false);
  }

  get nextNamedSibling(): CNode | null {
    return this.following(true);
  }

  private following(named: boolean): CNode | null {
    const t = this.t;
    const end = t.end[this.i]!;
    for (let c = t.next[this.i]!; c >= 0; c = t.next[c]!) if (t.end[c]! > end && (!named || t.flags[c]! & NAMED)) return t.node(c);
    return null;
  }

  childForFieldName(name: string): CNode | null {
    const t = this.t;
    const id = t.fieldIds.get(name);
    if (id === undefined) return null;
    for (let c = t.first[this.i]!; c >= 0; c = t.next[c]!) if (t.field[c] === id) return t.node(c);
    return null;
  }

  childrenForFieldName(name: string): CNode[] {
    const t = this.t;
    const id = t.fieldIds.get(name);
    const out: CNode[] = [];
    if (id !== undefined) for (let c = t.first[this.i]!; c >= 0; c = t.next[c]!) if (t.field[c] === id) out.push(t.node(c));
    return out;
  }
}

/** A tree cursor's moves and answers, each one call into the parser's WebAssembly. */
interface Walker {
  typeId(): number;
  start(): number;
  end(): number;
  fieldId(): number;
  missing(): boolean;
  firstChild(): boolean;
  nextSibling(): boolean;
  parent(): void;
  done(): void;
}

/**
 * The cursor through web-tree-sitter's wasm exports (core/cparser.ts TreeSitterWasm): the cursor
 * stays in the binding's transfer buffer between calls, where each TreeCursor method would
 * write it there again and read it back.
 */
function rawWalker(tree: Tree, w: TreeSitterWasm): Walker {
  const cursor = tree.walk() as unknown as Record<number, number>;
  const t = (tree as unknown as Record<number, number>)[0]!;
  const buf = w._ts_init() >> 2;
  const put = (): void => {
    const h = w.HEAP32;
    for (let i = 0; i < 4; i++) h[buf + i] = cursor[i]!;
  };
  put();
  return {
    typeId: () => w._ts_tree_cursor_current_node_type_id_wasm(t),
    start: () => w._ts_tree_cursor_start_index_wasm(t),
    end: () => w._ts_tree_cursor_end_index_wasm(t),
    fieldId: () => w._ts_tree_cursor_current_field_id_wasm(t),
    missing: () => w._ts_tree_cursor_current_node_is_missing_wasm(t) === 1,
    firstChild: () => w._ts_tree_cursor_goto_first_child_wasm(t) === 1,
    nextSibling: () => w._ts_tree_cursor_goto_next_sibling_wasm(t) === 1,
    parent: () => void w._ts_tree_cursor_goto_parent_wasm(t),
    done: () => {
      // The cursor as it is now (its stack may have moved), for TreeCursor.delete to free.
      const h = w.HEAP32;
      for (let i = 0; i < 4; i++) cursor[i] = h[buf + i]!;
      (cursor as unknown as TreeCursor).delete();
    },
  };
}

/** The same through web-tree-sitter's TreeCursor. */
function cursorWalker(tree: Tree): Walker {
  const c = tree.walk();
  return {
    typeId: () => c.nodeTypeId,
    start: () => c.startIndex,
    end: () => c.endIndex,
    fieldId: () => c.currentFieldId,
    missing: () => c.nodeIsMissing,
    firstChild: () => c.gotoFirstChild(),
    nextSibling: () => c.gotoNextSibling(),
    parent: () => void c.gotoParent(),
    done: () => c.delete(),
  };
}

/**
 * The plain copy of `tree` over its source text `src` (the text the tree was parsed from).
 * `viaCursor` walks with web-tree-sitter's TreeCursor even when its wasm exports are there (tests).
 */
export function plainTree(tree: Tree, src: string, viaCursor = false): CNode {
  const { names, fieldNames, tables } = treeTables(tree, src, viaCursor);
  return new CTree(src, names, fieldNames, tables).node(0);
}

/** A tree's tables, with its type names (the language's, and ERROR last) and field names. */
export interface CopiedTree {
  names: string[];
  fieldNames: readonly (string | null)[];
  tables: Tables;
}

/**
 * plainTree's copy of `tree` as tables (a parse worker sends them: split-parse.ts). Rows are
 * counted from the start of `src`, so a tree parsed over included ranges has its rows in the
 * whole text.
 */
export function treeTables(tree: Tree, src: string, viaCursor = false): CopiedTree {
  const lang = tree.language;
  const types = lang.types;
  const count = tree.rootNode.descendantCount;
  const { type, flags, start, end, row, parent, first, next, field } = nodeTables(count);
  const lineStart = [0];
  // ERROR is not in the language's table of types (web-tree-sitter names it so too).
  const names = [...types];
  const errorId = names.length;
  names.push('ERROR');
  const named = namedFlags(lang);
  const w = treeSitterWasm();
  const cur = w && !viaCursor ? rawWalker(tree, w) : cursorWalker(tree);
  // Rows: the walk visits nodes in order of their start, so the row only moves forward.
  let r = 0;
  let nextNl = src.indexOf('\n');
  let n = 0;
  const make = (): number => {
    if (n >= count) throw new Error('tree-sitter: more nodes than the tree counts');
    const id = cur.typeId();
    const s = cur.start();
    const e = cur.end();
    while (nextNl !== -1 && nextNl < s) {
      r++;
      lineStart.push(nextNl + 1);
      nextNl = src.indexOf('\n', nextNl + 1);
    }
    let f: number;
    if (!types[id]) {
      type[n] = errorId;
      f = NAMED | ERROR;
    } else {
      type[n] = id;
      f = named[id]!;
    }
    if (s === e && cur.missing()) f |= MISSING | ERROR;
    flags[n] = f;
    start[n] = s;
    end[n] = e;
    row[n] = r;
    return n++;
  };
  try {
    const root = make();
    parent[root] = -1;
    // Iterative (a deep expression must not overflow JavaScript's stack): `node` is the parent
    // of the cursor's node, `last` its last child so far.
    let node = root;
    let last = -1;
    const lastOf: number[] = [];
    if (cur.firstChild()) {
      walk: for (;;) {
        const fid = cur.fieldId();
        const c = make();
        parent[c] = node;
        field[c] = fid;
        if (last < 0) first[node] = c;
        else next[last] = c;
        last = c;
        if (cur.firstChild()) {
          lastOf.push(last);
          node = c;
          last = -1;
          continue;
        }
        if (flags[c]! & ERROR) flags[node]! |= ERROR;
        while (!cur.nextSibling()) {
          if (node === root) break walk;
          cur.parent();
          const p = parent[node]!;
          if (flags[node]! & ERROR) flags[p]! |= ERROR;
          node = p;
          last = lastOf.pop()!;
        }
      }
    }
    return { names, fieldNames: lang.fields, tables: { type, flags, start, end, row, lineStart: Int32Array.from(lineStart), parent, first, next, field } };
  } finally {
    cur.done();
  }
}

// ---------------------------------------------------------------- stored trees

/**
 * A tree as stored (disk-cache.ts storeTree): its type and field names, and its tables as one
 * list of typed arrays (in TABLES' order).
 */
export interface StoredTree {
  typeNames: string[];
  fieldNames: (string | null)[];
  arrays: ArrayBufferView[];
}

const TABLES = ['type', 'flags', 'start', 'end', 'row', 'parent', 'first', 'next', 'field', 'lineStart'] as const;
const KINDS = [Uint16Array, Uint8Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Uint16Array, Int32Array];

/** The root's tree, to store. */
export function storedTree(root: CNode): StoredTree {
  const t = root.t;
  return { typeNames: [...t.typeNames], fieldNames: [...t.fieldNames], arrays: TABLES.map((k) => t.tables[k]) };
}

/**
 * The root of a stored tree over `src` (the text it was parsed from); null when its tables do not
 * hold together (a record from another version that got past its checks is never trusted).
 */
export function revivedTree(src: string, s: StoredTree): CNode | null {
  if (s.arrays.length !== TABLES.length || !s.arrays.every((a, i) => a instanceof KINDS[i]!)) return null;
  const tables = Object.fromEntries(TABLES.map((k, i) => [k, s.arrays[i]])) as unknown as Tables;
  const n = tables.type.length;
  if (!n || TABLES.some((k) => k !== 'lineStart' && tables[k].length !== n)) return null;
  const { type, start, end, row, parent, first, next, lineStart } = tables;
  for (let i = 0; i < n; i++) {
    if (type[i]! >= s.typeNames.length || start[i]! < 0 || end[i]! < start[i]! || end[i]! > src.length || row[i]! < 0 || row[i]! >= lineStart.length) return null;
    if ((i > 0 && (parent[i]! < 0 || parent[i]! >= i)) || first[i]! >= n || next[i]! >= n || (first[i]! >= 0 && first[i]! <= i) || (next[i]! >= 0 && next[i]! <= i)) return null;
  }
  if (parent[0] !== -1) return null;
  return new CTree(src, s.typeNames, s.fieldNames, tables).node(0);
}

/**
 * The tree `root` without the root's children inside one of the ranges `skip` ([start, end)
 * pairs, in order): the same nodes, in the same order, numbered again; the root starts where its
 * first child does. What parsing only the rest gives (needed.ts parseNeeded, the parser's
 * included ranges).
 */
export function prunedTree(root: CNode, skip: readonly number[]): CNode {
  const t = root.t;
  const n = t.type.length;
  // The new number of every node kept (-1: dropped with its top-level construct).
  const num = new Int32Array(n).fill(-1);
  num[0] = 0;
  let count = 1;
  let dropping = false;
  let k = 0;
  for (let i = 1; i < n; i++) {
    if (t.parent[i] === 0) {
      const at = t.start[i]!;
      while (k < skip.length && skip[k + 1]! <= at) k += 2;
      dropping = k < skip.length && skip[k]! <= at;
    }
    if (!dropping) num[i] = count++;
  }
  const { type, flags, start, end, row, parent, first, next, field } = nodeTables(count);
  const at = (x: number): number => (x < 0 ? -1 : num[x]!);
  for (let i = 0; i < n; i++) {
    const j = num[i]!;
    if (j < 0) continue;
    type[j] = t.type[i]!;
    flags[j] = t.flags[i]!;
    start[j] = t.start[i]!;
    end[j] = t.end[i]!;
    row[j] = t.row[i]!;
    parent[j] = at(t.parent[i]!);
    field[j] = t.field[i]!;
    // The first and next kept child or sibling (only the root's children are ever dropped).
    let f = t.first[i]!;
    while (f >= 0 && num[f]! < 0) f = t.next[f]!;
    first[j] = at(f);
    let x = t.next[i]!;
    while (x >= 0 && num[x]! < 0) x = t.next[x]!;
    next[j] = at(x);
  }
  if (first[0]! > 0) {
    start[0] = start[first[0]!]!;
    row[0] = row[first[0]!]!;
  }
  // The root has an error only when a kept child has; rows end at the last kept node's.
  flags[0]! &= ~ERROR;
  let lastRow = row[0]!;
  for (let i = 1; i < count; i++) {
    if (parent[i] === 0) flags[0]! |= flags[i]! & ERROR;
    if (row[i]! > lastRow) lastRow = row[i]!;
  }
  return new CTree(t.src, t.typeNames, t.fieldNames, { type, flags, start, end, row, parent, first, next, field, lineStart: t.lineStart.slice(0, lastRow + 1) }).node(0);
}

/**
 * One tree of two parses of `src` over consecutive included ranges, each cut between two
 * top-level constructs (split-parse.ts): the root's children of `a` then those of `b`, renumbered
 * in walk order. The tables are those one parse of the whole text gives (the root spans both).
 * Null when a part has no construct.
 */
export function joinedTree(src: string, a: CopiedTree, b: CopiedTree): CNode | null {
  const ta = a.tables;
  const tb = b.tables;
  const na = ta.type.length;
  const nb = tb.type.length;
  if (na < 2 || nb < 2 || ta.first[0]! !== 1 || tb.first[0]! !== 1) return null;
  const count = na + nb - 1;
  const t = nodeTables(count);
  const off = na - 1;
  for (const k of ['type', 'flags', 'start', 'end', 'row', 'field'] as const) {
    t[k].set(ta[k]);
    t[k].set(tb[k].subarray(1), na);
  }
  t.parent.set(ta.parent);
  t.first.set(ta.first);
  t.next.set(ta.next);
  const { parent, first, next } = tb;
  for (let i = 1, j = na; i < nb; i++, j++) {
    const p = parent[i]!;
    t.parent[j] = p === 0 ? 0 : p + off;
    const f = first[i]!;
    t.first[j] = f < 0 ? -1 : f + off;
    const x = next[i]!;
    t.next[j] = x < 0 ? -1 : x + off;
  }
  // a's last top-level construct is followed by b's first
  let last = 1;
  while (ta.next[last]! >= 0) last = ta.next[last]!;
  t.next[last] = na;
  t.end[0] = tb.end[0]!;
  t.flags[0] = ta.flags[0]! | tb.flags[0]!;
  const lineStart = ta.lineStart.length > tb.lineStart.length ? ta.lineStart : tb.lineStart;
  return new CTree(src, a.names, a.fieldNames, { ...t, lineStart }).node(0);
}
