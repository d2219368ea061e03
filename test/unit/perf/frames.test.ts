/**
 * Frame objects (kernel-sim/cinterp/runtime.ts frameObject): what V8 sees of them stays the same
 * from one program to the next, so code optimized while one program runs does not deoptimize
 * when the next one runs it (the first run of a fresh program, the bench's first-1M rows).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { frameObject } from '../../../kernel-sim/cinterp/runtime';
import type { CFunc } from '../../../kernel-sim/cinterp/program';
import type { Val } from '../../../kernel-sim/cinterp/types';

/** V8's own answer: do a and b have the same hidden class (for arrays: the same elements kind)? */
function sameMap(a: object, b: object): boolean {
  setFlagsFromString('--allow-natives-syntax');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return (new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean)(a, b);
}

test('a frame\'s temps keep one elements kind whatever a callee returns into them: a double, a BigInt, a small integer (runtime.ts temps)', () => {
  const frame = (ntemps: number) => frameObject({ ntemps } as CFunc, 4096, 4112, [], false);
  for (const n of [1, 3, 64, 65]) {
    // cReturn stores the callee's value into its caller's temp: a uint64_t below 2^53 is a
    // number (here a double), above it a BigInt; a small one stays a small integer.
    const values: Val[] = [0x1234567890abc, 5994571786345896140n, 7, -1.5 + 0.5];
    const frames = values.map((v) => {
      const fr = frame(n);
      assert.equal(fr.tmp.length, n);
      assert.ok(fr.tmp.every((x) => x === 0), 'every temp starts as 0');
      (fr.tmp as Val[])[n - 1] = v;
      assert.equal(fr.tmp[n - 1], v);
      return fr;
    });
    const fresh = frame(n);
    for (const fr of frames) {
      assert.ok(sameMap(fr.tmp, fresh.tmp), `${n} temps holding ${String(fr.tmp[n - 1])}: the same kind as fresh temps`);
      assert.ok(sameMap(fr, fresh), 'the same frame shape');
    }
    // Frames share no temps.
    frames[0]!.tmp[0] = 42;
    assert.equal(frames[1]!.tmp[0], n === 1 ? 5994571786345896140n : 0);
  }
});
