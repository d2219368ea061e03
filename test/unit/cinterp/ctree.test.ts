import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createCParser, treeSitterWasm, type SyntaxNode } from '../../../core/cparser';
import { plainTree, storedTree, revivedTree, prunedTree, type CNode } from '../../../kernel-sim/cinterp/ctree';

// Small C in the shapes the compiler meets: fields, anonymous tokens, latin1 bytes (the
// preprocessor's text), and syntax errors with ERROR and missing nodes.
const SNIPPETS = [
  'struct s { int a : 3; unsigned : 0; char *p; };\nstatic int (twice)(int x) { return x + x; }\n',
  'int f(int x) {\n\tswitch (x) case 0: x++;\n\tfor (int i = 0; i < 3; i++) x += i ? i : -i;\n\treturn x;\n}\n',
  'char *s = "\xe9\xff"; /* \xe9 */ int b\xe9 = 2;\nint a[] = { [1] = 2, 3 };\n',
  'int g(void) { return 1 +; }\nint h(void) { int x = 3 return x; }\n',
  'struct t { int : 3; };\nint k = (1;\n',
  'void v(void) { do { x(); } while (0) }\n',
];

function fixtures(dir: string, out: string[]): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) fixtures(p, out);
    else if (/\.[ch]$/.test(e)) out.push(p);
  }
  return out;
}

/** tree-sitter's answer for `n`, as the copy gives it: an ERROR or missing node at or below. */
function visibleError(n: SyntaxNode): boolean {
  return n.type === 'ERROR' || n.isMissing || n.children.some((c) => !!c && visibleError(c));
}

/** Every answer of the copy's node `a` equals web-tree-sitter's for `b`, all the way down. */
function same(a: CNode, b: SyntaxNode, fields: string[], where: string, parentIsError = false): number {
  const at = `${where} ${b.type} at ${b.startIndex}`;
  assert.equal(a.type, b.type, at);
  assert.equal(a.text, b.text, at);
  assert.equal(a.isNamed, b.isNamed, at);
  assert.equal(a.isMissing, b.isMissing, at);
  assert.deepEqual(a.startPosition, b.startPosition, at);
  assert.equal(a.hasError, visibleError(b), at);
  if (a.hasError) assert.equal(b.hasError, true, at);
  assert.equal(a.parent?.startIndex, b.parent?.startIndex, at);
  assert.equal(a.parent?.type, b.parent?.type, at);
  for (const [x, y] of [
    [a.nextSibling, b.nextSibling],
    [a.nextNamedSibling, b.nextNamedSibling],
    [a.firstChild, b.firstChild],
    [a.lastChild, b.lastChild],
  ] as const) {
    assert.equal(x?.type, y?.type, at);
    assert.equal(x?.startIndex, y?.startIndex, at);
  }
  assert.equal(a.childCount, b.childCount, at);
  assert.deepEqual(
    a.namedChildren.map((c) => c.startIndex),
    b.namedChildren.map((c) => c!.startIndex),
    at,
  );
  // tree-sitter gives the children of an ERROR node fields a cursor does not show; the
  // compiler reads no field there.
  if (!parentIsError && a.type !== 'ERROR') {
    for (const f of fields) {
      assert.equal(a.childForFieldName(f)?.startIndex, b.childForFieldName(f)?.startIndex, `${at} field ${f}`);
      assert.deepEqual(
        a.childrenForFieldName(f).map((c) => c.startIndex),
        b.childrenForFieldName(f).map((c) => c!.startIndex),
        `${at} fields ${f}`,
      );
    }
  }
  let count = 1;
  for (let i = 0; i < a.childCount; i++) {
    assert.equal(a.child(i), a.children[i], at); // one object per node
    count += same(a.child(i)!, b.child(i)!, fields, where, a.type === 'ERROR');
  }
  return count;
}

test('the plain copy of a syntax tree answers as web-tree-sitter does, node for node (wasm walk and TreeCursor walk)', async () => {
  const parser = await createCParser();
  assert.ok(treeSitterWasm(), 'the fast walk is available');
  const fields = parser.language!.fields.filter((f): f is string => !!f);
  const texts = [...SNIPPETS.map((s, i) => [`snippet ${i}`, s]), ...fixtures('test/fixtures', []).map((f) => [f, readFileSync(f, 'latin1')])];
  assert.ok(texts.length > 30);
  let nodes = 0;
  let errors = 0;
  for (const [name, src] of texts) {
    const tree = parser.parse(src!)!;
    for (const viaCursor of [false, true]) {
      const root = plainTree(tree, src!, viaCursor);
      nodes += same(root, tree.rootNode, fields, `${name}${viaCursor ? ' (cursor)' : ''}:`);
      if (root.hasError) errors++;
      // The same syntax is the same object.
      assert.equal(root.namedChildren[0]?.parent, root);
    }
  }
  assert.ok(nodes > 10_000, `${nodes} nodes compared`);
  assert.ok(errors >= 8, `${errors} trees with errors`);
});

test('a missing node right after a node is not its next sibling (tree-sitter says so)', async () => {
  const parser = await createCParser();
  const src = 'int k = (1;\nextern struct s';
  const tree = parser.parse(src)!;
  const root = plainTree(tree, src);
  const miss: CNode[] = [];
  const walk = (n: CNode) => (n.isMissing ? miss.push(n) : n.children.forEach(walk));
  walk(root);
  assert.ok(miss.length >= 1);
  for (const m of miss) {
    const before = m.parent!.children[m.parent!.children.indexOf(m) - 1]!;
    assert.equal(before.endIndex, m.startIndex);
    assert.notEqual(before.nextSibling, m);
  }
});

test('a stored tree revives node for node; tables that do not hold together are refused; pruning is parsing only the rest', async () => {
  const parser = await createCParser();
  const fields = parser.language!.fields.filter((f): f is string => !!f);
  for (const src of SNIPPETS) {
    const tree = parser.parse(src)!;
    const s = storedTree(plainTree(tree, src));
    same(revivedTree(src, s)!, tree.rootNode, fields, 'revived:');
  }
  const src = SNIPPETS[0]!;
  const s = storedTree(plainTree(parser.parse(src)!, src));
  const broken = (i: number, at: number, v: number) => {
    const arrays = s.arrays.map((a) => (a as Int32Array).slice());
    (arrays[i] as Int32Array)[at] = v;
    return revivedTree(src, { ...s, arrays });
  };
  assert.ok(broken(2, 3, 3), 'the same value is fine');
  assert.equal(broken(3, 3, src.length + 1), null, 'an end past the text');
  assert.equal(broken(5, 3, 7), null, 'a parent after its child');
  assert.equal(broken(6, 0, 0), null, 'a node its own first child');
  assert.equal(broken(0, 2, 60000), null, 'a type with no name');
  assert.equal(revivedTree(src.slice(0, 10), s), null, 'a shorter text');
  assert.equal(revivedTree(src, { ...s, arrays: s.arrays.slice(1) }), null, 'a table missing');
  // The struct (and its ';') left out of the whole tree: the tree of the function alone.
  const cut = src.indexOf('static');
  const whole = plainTree(parser.parse(src)!, src);
  const pruned = storedTree(prunedTree(whole, [0, cut]));
  const alone = parser.parse(src, null, { includedRanges: [{ startIndex: cut, endIndex: src.length, startPosition: { row: 0, column: cut }, endPosition: { row: 2, column: 0 } }] })!;
  assert.deepEqual(pruned, storedTree(plainTree(alone, src)));
});
