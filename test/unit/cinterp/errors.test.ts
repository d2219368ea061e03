import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kernelFor, HEADERS } from './helpers';
import { ScenarioError, scenarioFromObject } from '../../../kernel-sim/scenario';
import { loadDriver } from '../../../kernel-sim/cinterp/index';
import { createKernel } from '../../../kernel-sim/kernel';
import { scratchDir } from '../../scratch';

async function loadErr(src: string, o: Parameters<typeof kernelFor>[1] = {}): Promise<ScenarioError> {
  try {
    await kernelFor({ 'drv.c': src }, o);
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  throw new Error('loaded');
}

const H = HEADERS; // 7 lines

test('unsupported constructs are load-time errors with file, line, column and the construct', async () => {
  let e = await loadErr(`${H}void entry(void *a) {\n\t__asm__ volatile ("cli");\n}\n`);
  assert.equal(e.line, 9);
  assert.equal(e.column, 2);
  assert.match(e.reason, /inline assembly/);
  assert.ok(e.file.endsWith('drv.c'));
  // Variable arguments are supported (varargs.test.ts), but not va_arg of an incomplete type.
  e = await loadErr(`${H}#include <sys/varargs.h>\nstruct pair;\nstatic int sum(int n, ...) {\n\tva_list ap;\n\tva_start(ap, n);\n\tint p = va_arg(ap, struct pair).a;\n\treturn p;\n}\nvoid entry(void *a) { }\n`);
  assert.equal(e.line, 13);
  assert.equal(e.column, 10);
  assert.equal(e.reason, "va_arg of incomplete type 'struct pair'");
  e = await loadErr(`${H}void entry(void *a) {\n\tint n = 3;\n\tint v[n];\n}\n`);
  assert.equal(e.line, 10);
  assert.match(e.reason, /variable-length array/);
  e = await loadErr(`${H}void entry(void *a) {\n\tsetjmp(a);\n}\n`);
  assert.equal(e.line, 9);
  assert.match(e.reason, /setjmp\(\) is not supported/);
  e = await loadErr(`${H}void entry(void *a) {\n\tdouble d = 1.5;\n}\n`);
  assert.match(e.reason, /floating-point/);
  e = await loadErr(`${H}void entry(void *a) {\n\tfrobnicate(1);\n}\n`);
  assert.equal(e.reason, "implicit declaration of function 'frobnicate'");
  e = await loadErr(`${H}void entry(void *a) {\n\tint x = ;\n}\n`);
  assert.equal(e.line, 9);
  assert.match(e.reason, /^syntax error/);
});

test('#line N "file": later positions are in the file named, as gcc reports them', async () => {
  const e = await loadErr(`${H}#line 40 "gen/parse.y"\nvoid entry(void *a) {\n\tundeclared_thing = 1;\n}\n`);
  assert.equal(e.line, 41);
  assert.equal(e.column, 2);
  assert.ok(e.file.endsWith(join('gen', 'parse.y')), e.file);
});

test('an 8-argument installctx against 13915 headers is a compile error; macros keep positions', async () => {
  const e = await loadErr(`${H}#include <sys/proc.h>\nstatic void s(void *a) { }\nvoid entry(void *a) {\n\tinstallctx(curthread, a, s, s, NULL, NULL, NULL, NULL);\n}\n`, { kernel: 'illumos-13915' });
  assert.equal(e.line, 11);
  assert.equal(e.column, 2);
  assert.equal(e.reason, "too few arguments to function 'installctx' (expected 9, have 8)");
});

test('#include outside the scenario folder and #error are refused', async () => {
  let e = await loadErr(`#include "../../../../etc/passwd"\nvoid entry(void *a) { }\n`);
  assert.match(e.reason, /outside the scenario's folder/);
  e = await loadErr(`#include <stdio.h>\nvoid entry(void *a) { }\n`);
  assert.match(e.reason, /<stdio.h> is not a kernel header/);
  e = await loadErr(`#if !defined(_KERNEL)\n#error not kernel\n#elif 1 + 1 == 2\n#error two is two\n#endif\n`);
  assert.equal(e.line, 4);
  assert.equal(e.reason, '#error two is two');
});

test('a 5 MB source is rejected by its size with a clear message', async () => {
  const dir = scratchDir('kctx-big-');
  const big = join(dir, 'big.c');
  writeFileSync(big, 'int x;\n'.repeat(750_000));
  const s = scenarioFromObject({ kernel: 'illumos-13917', sources: ['big.c'], threads: [{ name: 't', entry: 'entry' }] }, join(dir, 's.ksim.json'), dir);
  await assert.rejects(createKernel(s, { loadDriver }), (e: Error) => {
    assert.ok(e instanceof ScenarioError);
    assert.equal(e.reason, "'big.c' is 5250000 bytes: too large for a driver source (limit 4194304 bytes)");
    return true;
  });
});

test('nesting beyond the compiler\'s limit is an error at the construct, not a stack overflow', async () => {
  const deep = 5000;
  let e = await loadErr(`${H}int g;\nvoid entry(void *a) {\n\tg = ${'('.repeat(deep)}1${')'.repeat(deep)};\n}\n`);
  assert.equal(e.line, 10);
  assert.match(e.reason, /^expression nested too deeply \(more than 1000 levels\)$/);
  e = await loadErr(`${H}int g;\nvoid entry(void *a) {\n\tg = 1${' + 1'.repeat(50_000)};\n}\n`);
  assert.equal(e.line, 10);
  assert.match(e.reason, /^expression nested too deeply/);
  e = await loadErr(`${H}int g;\nvoid entry(void *a) ${'{'.repeat(deep)}g++;${'}'.repeat(deep)}\n`);
  assert.equal(e.line, 9);
  assert.match(e.reason, /^statements nested too deeply \(more than 1000 levels\)$/);
  // Within the limit, deep nesting compiles and runs.
  const r = await kernelFor({ 'drv.c': `${H}int g, h;\nvoid entry(void *a) {\n\tg = ${'('.repeat(900)}7${')'.repeat(900)};\n\th = 0${' + 1'.repeat(900)};\n}\n` });
  assert.equal(r.m.run(1_000_000).kind, 'end');
  assert.equal(r.m.program!.evaluate(r.m, undefined, undefined, 'g').value, '7');
  assert.equal(r.m.program!.evaluate(r.m, undefined, undefined, 'h').value, '900');
});

test('a macro that expands without end is stopped, naming the macros involved', async () => {
  const e = await loadErr(`${H}#define A0 g++;\n${Array.from({ length: 23 }, (_, i) => `#define A${i + 1} A${i} A${i}`).join('\n')}\nint g;\nvoid entry(void *a) {\n\tA23\n}\n`);
  assert.equal(e.line, 34);
  assert.equal(e.column, 2);
  assert.match(e.reason, /^macro expansion too large \(over 2,000,000 tokens\), in the expansion of 'A23', 'A22'/);
});

test('a false _Static_assert is a load error at its line with its message, as gcc\'s; a statement expression outside a function is an error', async () => {
  let e = await loadErr(`${H}struct s { int a; long b; };\n_Static_assert(sizeof (struct s) == 16, "s is 16");\n_Static_assert(sizeof (struct s) == 12, "s is 12");\nvoid entry(void *a) { }\n`);
  assert.equal(e.line, 10);
  assert.equal(e.column, 1);
  assert.equal(e.reason, 'static assertion failed: "s is 12"');
  e = await loadErr(`${H}void entry(void *a) {\n\tint n = 1;\n\t_Static_assert(sizeof (n) == 4, "int");\n\t_Static_assert(n == 1, "n");\n}\n`);
  assert.equal(e.line, 11);
  assert.equal(e.reason, 'expression in static assertion is not constant');
  e = await loadErr(`${H}int x = ({ 1; });\nvoid entry(void *a) { }\n`);
  assert.equal(e.line, 8);
  assert.equal(e.reason, 'braced-group within expression allowed only inside a function');
});

test('after the prototype (or the definition) a call is checked again: too few arguments where gcc says so too', async () => {
  const e = await loadErr(`${H}static void report();\nstatic void early(void) { report(1); }\nstatic void report(int a, int b) { }\nvoid entry(void *a) {\n\tearly();\n\treport(1);\n}\n`);
  assert.equal(e.line, 13);
  assert.equal(e.column, 2);
  assert.equal(e.reason, "too few arguments to function 'report' (expected 2, have 1)");
});

test('empty braces for a scalar are gcc\'s \'empty scalar initializer\' error, at file scope and in a function', async () => {
  let e = await loadErr(`${H}long g = { };\nvoid entry(void *a) { }\n`);
  assert.deepEqual([e.line, e.column, e.reason], [8, 10, 'empty scalar initializer']);
  e = await loadErr(`${H}void entry(void *a) {\n\tint *p = { { } };\n}\n`);
  assert.deepEqual([e.line, e.column, e.reason], [9, 13, 'empty scalar initializer']);
});
