/**
 * Differential test against gcc: fixed csmith programs (default options) run under kctx print
 * the checksum gcc -O0 prints (recorded with Debian's csmith 2.3.0 and gcc 12; checked against
 * gcc again when it is on the machine). The longer campaign is `npm run conformance`.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { csmithAvailable, gccAvailable, generate, gccChecksum, kctxChecksum } from '../../conformance/csmith';
import { scratchDir } from '../../scratch';

/** Seeds whose programs gcc runs within 2 s, with gcc's checksums. */
const PROGRAMS: Array<[number, string]> = [[13, 'AFCBD8FF'], [14, 'AA18D9CC'], [6, 'BAAD0D5B'], [5, '6D682E79'], [8, 'BA52A9F4'], [15, '37DBFFB7'], [44, 'DCCD31C5']];

const why = csmithAvailable() ? undefined : 'csmith and libcsmith-dev are not installed (apt-get install csmith libcsmith-dev; .ci/run does)';

test('csmith programs print the checksum gcc prints', { skip: why }, async () => {
  const gcc = gccAvailable();
  for (const [seed, sum] of PROGRAMS) {
    const dir = scratchDir(`kctx-csmith-${seed}-`);
    const file = generate(seed, dir);
    if (gcc) assert.equal(gccChecksum(file, 10_000).sum, sum, `gcc's checksum of seed ${seed} is the recorded one`);
    const k = await kctxChecksum(dir);
    assert.deepEqual(k, { kind: 'ok', sum }, `seed ${seed}`);
  }
});
