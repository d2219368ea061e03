import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createCParser } from '../../../core/cparser';
import { plainTree, type CNode } from '../../../kernel-sim/cinterp/ctree';
import { partWorkerReady, splitCount, splitParse, splitPoint, SPLIT_MIN } from '../../../kernel-sim/cinterp/split-parse';
import { csmithAvailable, generate } from '../../conformance/csmith';
import { scratchDir } from '../../scratch';
import { EXAMPLES, REPO, runC } from './helpers';

function cFiles(dir: string, out: string[]): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) cFiles(p, out);
    else if (e.endsWith('.c')) out.push(p);
  }
  return out;
}

/** Every table of the two trees, by name, equal element for element. */
function sameTables(a: CNode, b: CNode, what: string): void {
  const x = a.t.tables as unknown as Record<string, ArrayLike<number>>;
  const y = b.t.tables as unknown as Record<string, ArrayLike<number>>;
  assert.deepEqual(Object.keys(x).sort(), Object.keys(y).sort(), what);
  for (const k of Object.keys(x)) assert.deepEqual(Array.from(x[k]!), Array.from(y[k]!), `${what}: table ${k}`);
  assert.deepEqual(a.t.typeNames, b.t.typeNames, what);
}

test('a split parse gives the tables one parse gives (the examples, the fixtures, csmith programs)', async () => {
  const parser = await createCParser();
  // the worker is started by the first big text, parsed whole while the worker loads its parser
  const first = Array.from({ length: 40 }, (_, i) => `int f${i}(int x) { return x + ${i}; }\n`).join('');
  assert.equal(splitParse(parser, first, 0), null);
  assert.equal(await partWorkerReady(), true);
  assert.ok(splitParse(parser, first, 0));
  const texts: Array<[string, string]> = [...cFiles(EXAMPLES, []), ...cFiles(join(REPO, 'test', 'fixtures'), [])].map((f) => [f, readFileSync(f, 'latin1')]);
  if (csmithAvailable()) {
    for (const seed of [10, 11]) texts.push([`csmith seed ${seed}`, readFileSync(generate(seed, scratchDir(`kctx-split-${seed}-`)), 'latin1')]);
  }
  let split = 0;
  for (const [what, text] of texts) {
    const root = splitParse(parser, text, 0);
    if (!root) continue;
    split++;
    const tree = parser.parse(text)!;
    sameTables(root, plainTree(tree, text), what);
    tree.delete();
  }
  // most of them have a function body to cut after and no syntax error
  assert.ok(split >= texts.length / 2, `${split} of ${texts.length} texts split`);
});

test('the cut is after a function body at depth 0, nearest the middle; none without one', () => {
  const f = (n: string) => `int ${n}(int x) { struct { int a; } s = { x }; if (x) { return "}"[0] + '}'; } /* } */ return s.a; }\n`;
  const text = `struct t { int a; };\nint v[] = { 1, 2 };\n${f('a')}${f('b')}${f('c')}`;
  const ends = ['a', 'b', 'c'].map((n) => text.indexOf(f(n)) + f(n).length - 1);
  const mid = text.length / 2;
  const nearest = ends.reduce((x, y) => (Math.abs(y - mid) < Math.abs(x - mid) ? y : x));
  assert.equal(splitPoint(text), nearest);
  assert.equal(splitPoint('struct t { int a; };\nint v[] = { 1, 2 };\nint f(int);\n'), -1);
});

test('a part with a syntax error, a text without a cut or a small text is parsed whole (null)', async () => {
  const parser = await createCParser();
  assert.equal(await partWorkerReady(), true);
  const body = (n: number) => `int f${n}(int x) { return x + ${n}; }\n`;
  const good = Array.from({ length: 40 }, (_, i) => body(i)).join('');
  assert.ok(splitParse(parser, good, 0));
  assert.equal(splitParse(parser, good), null, 'shorter than SPLIT_MIN');
  assert.equal(splitParse(parser, good.replace('x + 3;', 'x + ;'), 0), null, 'an error in the first part');
  assert.equal(splitParse(parser, good.replace('x + 35;', 'x + ;'), 0), null, 'an error in the second part');
  assert.equal(splitParse(parser, 'int a;\nint b;\n'.repeat(40), 0), null, 'no function body');
  // a load excuses an unnamed bit-field (tree-sitter's missing name): the part is split
  const bits = `struct s { int a : 3; int : 0; };\n${good}`;
  const root = splitParse(parser, bits, 0);
  assert.ok(root);
  sameTables(root, plainTree(parser.parse(bits)!, bits), 'unnamed bit-field');
});

test('a program bigger than SPLIT_MIN loads split and runs; its syntax error is reported as one parse reports it', async () => {
  const n = Math.ceil(SPLIT_MIN / 40);
  const fns = Array.from({ length: n }, (_, i) => `static int f${i}(int x) { return x + ${i % 7}; }\n`).join('');
  const src = `#include <sys/types.h>\n#include <sys/cmn_err.h>\n${fns}void\nentry(void *arg)\n{\n\tint s = 0;\n\ts = f0(s);\n\ts = f${n - 1}(s);\n\ts = f${n >> 1}(s);\n\tcmn_err(CE_NOTE, "sum %d", s);\n}\n`;
  assert.ok(src.length > SPLIT_MIN);
  assert.equal(await partWorkerReady(), true);
  const before = splitCount();
  const r = await runC(src);
  assert.equal(splitCount(), before + 1, 'the load parsed split');
  assert.deepEqual(r.console, [`NOTICE: sum ${((n - 1) % 7) + ((n >> 1) % 7)}`]);
  // an error in the worker's part: the whole text is parsed, the error is where it is
  const line = 3 + n - 5;
  const bad = src.replace(`static int f${n - 5}(int x) { return x + ${(n - 5) % 7}; }`, `static int f${n - 5}(int x) { return x + ; }`);
  await assert.rejects(runC(bad), (e: Error) => {
    assert.match(e.message, new RegExp(`drv\\.c:${line}:1: syntax error: expected 'identifier'$`));
    return true;
  });
});
