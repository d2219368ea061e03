import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Preprocessor, type PreprocessResult } from '../../../kernel-sim/cinterp/preprocess';
import { ScenarioError } from '../../../kernel-sim/scenario';
import { scratchDir } from '../../scratch';

function pp(src: string, name = 'drv.c'): PreprocessResult {
  const dir = scratchDir('kctx-pp-');
  writeFileSync(join(dir, name), src);
  const pre = new Preprocessor(dir, join(dir, 'drv.ksim.json'), (h) => `no header <${h}>`, {});
  pre.processFile(pre.addSource(join(dir, name), name));
  return pre.result();
}

/** Every output token's text with its origin `display:line:col`. */
function origins(r: PreprocessResult): string[] {
  const lines = r.text.split('\n');
  const got: string[] = [];
  lines.forEach((l, row) => {
    for (const m of l.matchAll(/\S+/g)) {
      const o = r.pos.at(row, m.index);
      got.push(`${m[0]}@${o ? `${r.files[o.file]!.display}:${o.line}:${o.col}` : '-'}`);
    }
  });
  return got;
}

test('the output text and every token\'s origin: plain lines, a macro call over two lines, a directive between', () => {
  const r = pp('#define ADD(a, b) ((a) + (b))\nint x = ADD(1,\n   2);\n#define Z 0\nint  y=Z ;\n');
  assert.equal(r.text, 'int x = ( ( 1 ) + (\n2\n) )\n;\nint y = 0 ;\n');
  // A macro's tokens have the invocation's position, an argument's tokens their own.
  assert.deepEqual(origins(r), [
    'int@drv.c:2:1', 'x@drv.c:2:5', '=@drv.c:2:7', '(@drv.c:2:9', '(@drv.c:2:9', '1@drv.c:2:13', ')@drv.c:2:9', '+@drv.c:2:9',
    '(@drv.c:2:9', '2@drv.c:3:4', ')@drv.c:2:9', ')@drv.c:2:9', ';@drv.c:3:6',
    'int@drv.c:5:1', 'y@drv.c:5:6', '=@drv.c:5:7', '0@drv.c:5:8', ';@drv.c:5:10',
  ]);
  // A token mid-row is found by its column (the row's others are not token starts).
  assert.deepEqual(r.pos.at(0, 8), { file: r.pos.rowFile[0], line: 2, col: 9 });
  assert.equal(r.pos.at(0, 9), undefined);
});

test('#line renames the following lines; a file name beyond Latin-1 (a character over 0xff) comes out whole', () => {
  const r = pp('int a;\nconst char *f = __FILE__;\n#line 40 "gen/x.y"\nint l = __LINE__;\nconst char *g = __FILE__;\n', 'm\u2713.c');
  assert.equal(r.text, 'int a ;\nconst char * f = "m\u2713.c" ;\nint l = 40 ;\nconst char * g = "gen/x.y" ;\n');
  const m = 'm\u2713.c';
  assert.deepEqual(origins(r), [
    `int@${m}:1:1`, `a@${m}:1:5`, `;@${m}:1:6`,
    `const@${m}:2:1`, `char@${m}:2:7`, `*@${m}:2:12`, `f@${m}:2:13`, `=@${m}:2:15`, `"${m}"@${m}:2:17`, `;@${m}:2:25`,
    'int@gen/x.y:40:1', 'l@gen/x.y:40:5', '=@gen/x.y:40:7', '40@gen/x.y:40:9', ';@gen/x.y:40:17',
    'const@gen/x.y:41:1', 'char@gen/x.y:41:7', '*@gen/x.y:41:12', 'g@gen/x.y:41:13', '=@gen/x.y:41:15', '"gen/x.y"@gen/x.y:41:17', ';@gen/x.y:41:25',
  ]);
});

test('a lexical error is reported at its line and column as #line renames it (gcc: 10:9); a directive after #line at the new line', () => {
  assert.throws(() => pp('int a;\n#line 10\nint b = \'x;\n'), (e: unknown) => e instanceof ScenarioError && e.line === 10 && e.column === 9 && /missing terminating ' character/.test(e.reason));
  assert.throws(() => pp('int a;\n#line 10\nint b = ;\n#error stop here\n'), (e: unknown) => e instanceof ScenarioError && e.line === 11 && /#error stop here/.test(e.reason));
});

test('a macro call after plain tokens of its statement, its name and arguments over lines; #undef between statements', () => {
  const r = pp('#define ADD(a, b) a + b\n#define N 4\nint v = f(1, ADD(2,\n3));\nint w = (ADD\n(N, 5)) ; int u = N;\n#undef N\nint t = N;\n');
  assert.equal(r.text, 'int v = f ( 1 , 2 +\n3 ) ;\nint w = (\n4\n+\n5 ) ; int u = 4 ;\nint t = N ;\n');
  assert.deepEqual(origins(r), [
    'int@drv.c:3:1', 'v@drv.c:3:5', '=@drv.c:3:7', 'f@drv.c:3:9', '(@drv.c:3:10', '1@drv.c:3:11', ',@drv.c:3:12',
    '2@drv.c:3:18', '+@drv.c:3:14', '3@drv.c:4:1', ')@drv.c:4:3', ';@drv.c:4:4', 'int@drv.c:5:1', 'w@drv.c:5:5',
    '=@drv.c:5:7', '(@drv.c:5:9', '4@drv.c:6:2', '+@drv.c:5:10', '5@drv.c:6:5', ')@drv.c:6:7', ';@drv.c:6:9',
    'int@drv.c:6:11', 'u@drv.c:6:15', '=@drv.c:6:17', '4@drv.c:6:19', ';@drv.c:6:20', 'int@drv.c:8:1', 't@drv.c:8:5',
    '=@drv.c:8:7', 'N@drv.c:8:9', ';@drv.c:8:10',
  ]);
});

/** The error a preprocess of `src` throws, as `line:col: reason`, or the output text. */
function outcome(src: string): string {
  try {
    return pp(src).text;
  } catch (e) {
    if (!(e instanceof ScenarioError)) throw e;
    return `${e.line}:${e.column}: ${e.reason}`;
  }
}

test('a token C does not allow is an error only where the group is kept, as in gcc (gcc -fsyntax-only warns at most in the others)', () => {
  // prose with an apostrophe, a stray byte, a wide literal in a skipped group; a branch not evaluated
  assert.equal(outcome("#if 0\nthis isn't C, just a note\n#endif\nint x;\n"), 'int x ;\n');
  assert.equal(outcome('#if 0\nint \u00e9;\nchar *w = L"x";\n#endif\nint x;\n'), 'int x ;\n');
  assert.equal(outcome("#if 0\n#error don't\n#endif\nint x;\n"), 'int x ;\n');
  assert.equal(outcome("#if 1\nint x;\n#elif 'y\n#endif\n"), 'int x ;\n');
  assert.equal(outcome("#ifdef NOPE\n#if 'y\n#endif\n#endif\nint x;\n"), 'int x ;\n');
  // kept: text, an evaluated #if/#elif, a directive line
  assert.equal(outcome("#if 0\n#else\nint b = 'x;\n#endif\n"), "3:9: missing terminating ' character");
  assert.equal(outcome("#if 0\n#elif 'y\n#endif\n"), "2:7: missing terminating ' character");
  assert.equal(outcome("#if 1 /* z */ + 'y\n#endif\n"), "1:17: missing terminating ' character");
  assert.equal(outcome('int \u00e9;\n'), "1:5: stray '\\xc3' in program (non-ASCII character)");
  assert.equal(outcome('#include "a\n'), '1:10: missing terminating " character');
  // an unterminated comment ends the file, kept or not (gcc: error)
  assert.equal(outcome('#if 0\n/* open\n#endif\n'), '2:1: unterminated comment');
});

test('a #define whose body has such a token: an error where it is expanded, at the token (gcc), not where it is only defined', () => {
  assert.equal(outcome("#define Q 'a\n#define F(x) x + 'b\nint x;\n"), 'int x ;\n');
  assert.equal(outcome("#define Q 'a\nint x;\nint c = Q;\n"), "1:11: missing terminating ' character");
  assert.equal(outcome("#define F(x) x + 'b\nint F;\nint c = F(1);\n"), "1:18: missing terminating ' character");
  assert.equal(outcome("#define Q 'a\n#if Q\n#endif\n"), "1:11: missing terminating ' character");
});

test('a line splice inside a literal joins it to the next line; an escaped quote or backslash before it stays', () => {
  assert.equal(outcome('char *s = "ab\\\n\tcd";\nint x = \'\\\\\';\nchar *t = "q\\"\\\nr";\n'), 'char * s = "ab\tcd"\n;\nint x = \'\\\\\' ;\nchar * t = "q\\"r"\n;\n');
  // phase 2 comes first: the second backslash and the newline are a splice too (gcc: "ab\\cd")
  assert.equal(outcome('char *s = "ab\\\\\ncd";\n'), 'char * s = "ab\\cd"\n;\n');
});

test('a quoted #include found neither beside the file nor in the include path says where it looked', () => {
  assert.match(outcome('int a;\n#include "nothere.h"\n'), /^2:10: #include "nothere\.h": no such header beside the file \(\/.*kctx-pp-[^)]*\)$/);
});
