import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldedBothWays } from './helpers';
import { Gen, lazyFn, type Forms } from '../../../kernel-sim/cinterp/codegen';
import { constantValue } from '../../../kernel-sim/cinterp/fold';
import { Op64 } from '../../../kernel-sim/cinterp/types';
import type { Machine } from '../../../kernel-sim/machine/machine';
import type { Memory } from '../../../kernel-sim/machine/memory';

test('binary operators on constants fold to what they compute at run time (gcc\'s values)', async () => {
  // Several share a shape but for their numbers (fold.ts: one evaluator for them).
  const exprs: Array<[string, string, string]> = [
    ['int', '7 * 6 - 3', '39'],
    ['int', '2147483647 + 0 == 2147483647', '1'],
    ['unsigned', '4000000000u + 500000000u', '205032704'],
    ['int', '(3 < 5) + (5 < 3) * 2 + (4 >= 4) * 4', '5'],
    ['int', '-17 / 5', '-3'],
    ['int', '-17 % 5', '-2'],
    ['unsigned', '0xffffffffu / 7u', '613566756'],
    ['int', '1 << 30 | 12345', '1073754169'],
    ['int', '(-8) >> 1', '-4'],
    ['unsigned', '0x80000000u >> 31', '1'],
    ['long', '9007199254740993L + 2L', '9007199254740995'],
    ['long', '-9223372036854775807L - 1L', '-9223372036854775808'],
    ['unsigned long', '18446744073709551615UL * 3UL', '18446744073709551613'],
    ['unsigned long', '(1UL << 63) / 3UL', '3074457345618258602'],
    ['long', '(-9223372036854775807L - 1L) % 7L', '-1'],
    ['long', '0x123456789abcdefL ^ 0xfedcba987654321L', '1066947177396211406'],
    ['long', '0x7fffffffffffffffL & -256L', '9223372036854775552'],
    ['int', '100 != 100 ? 1 : 2', '2'],
    ['int', '5 > -3 ? 7 : 9', '7'],
    ['unsigned', '5u > -3 ? 7 : 9', '9'],
    ['int', '0 && 1 / 1', '0'],
    ['int', '1 || 0', '1'],
    ['long', '(long)(int)0x89abcdef * 2L', '-3970458658'],
    ['unsigned long', '(unsigned long)-1 >> 1', '9223372036854775807'],
    ['int', '(short)40000 + (unsigned char)300', '-25492'],
    ['long', '3000000000L * 3000000000L', '9000000000000000000'],
  ];
  const { got, want } = await foldedBothWays(exprs);
  assert.deepEqual(got, want);
});

test('a constant\'s value is what its function gives, with or without its numbers as parameters', () => {
  const gen = new Gen({} as Machine, {} as Memory, new Map());
  const neg = gen.ref(Op64.neg);
  const texts = [
    '((3 < 5) ? 1 : 0)',
    '((4 < 5) ? 1 : 0)',
    '((0 - 7) | 0)',
    '(-0)',
    '((-5) >>> 0)',
    '(18446744073709551615n)',
    '((5n) * (3n))',
    '1e+21',
    '4294967296',
    `${neg}(9007199254740993n, true)`,
    '(($0 = 7, $1 = 9), $0 * 10 + $1)',
    '(($0 = -1, $12 = 2), $0 + $12)',
    'Math.imul(65537, 65537)',
    '(Number(5n) + 1)',
    '(true ? 1 : 2)',
  ];
  for (const js of texts) {
    const f = lazyFn<unknown>(gen, js);
    const want = lazyFn<unknown>(gen, js)(null as never);
    const v = constantValue(gen, f);
    assert.equal(typeof v, typeof want, js);
    assert.ok(Object.is(v, want), `${js}: ${String(v)} (want ${String(want)})`);
  }
});

test('a constant of numbers, temps and references is computed from its text, without making its function', () => {
  const gen = new Gen({} as Machine, {} as Memory, new Map());
  let called = 0;
  const f = Object.assign(() => ++called, { js: `((${gen.ref(7)} * 6) - 3)` } satisfies Forms);
  assert.equal(constantValue(gen, f), 39);
  assert.equal(called, 0);
});

test('a text that reads the frame or other names is computed by its own function', () => {
  const gen = new Gen({} as Machine, {} as Memory, new Map());
  // fp is 0 with no frame (codegen.ts derive's prologue): the function's own answer.
  for (const [js, want] of [['(fp + 8)', 8], ['(typeof fr === "object" ? 1 : 2)', 1], ['($x)', undefined]] as const) {
    let called = 0;
    const f = Object.assign(() => ++called && want, { js } satisfies Forms);
    assert.equal(constantValue(gen, f), want, js);
    assert.equal(called, 1, js);
  }
});
