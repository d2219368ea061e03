/**
 * GNU C that tree-sitter-c does not take as written, rewritten at the token level after
 * preprocessing (cinterp/gnu-tokens.ts): case ranges, attributes after a declarator (linker-set
 * entries), file-scope assembly; bhyve's compat inline-asm helpers as intrinsics; __func__. Against test/fixtures/gatedrv/gnu.c on the fixture gate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenarioFile, scenarioFromObject, ScenarioError } from '../../../kernel-sim/scenario';
import { createKernel } from '../../../kernel-sim/kernel';
import { loadDriver } from '../../../kernel-sim/cinterp/index';
import { rewriteGnu, CASE_RANGE, type GnuTok } from '../../../kernel-sim/cinterp/gnu-tokens';
import { REPO } from '../cinterp/helpers';

test('case ranges, a linker-set entry in a section, an attribute after a declarator, compat inline-asm atomics and CR0, __func__: the driver loads and runs as gcc compiles it', async () => {
  const m = await createKernel(loadScenarioFile(join(REPO, 'test/fixtures/gatedrv/gnu.ksim.json')), { loadDriver });
  const out: string[] = [];
  m.onConsole = (l) => out.push(l);
  assert.equal(m.run(1_000_000).kind, 'end');
  assert.deepEqual(out, ['NOTICE: 1 2 -1 3 4 0 0', 'NOTICE: ticks 5 set entry 7', 'NOTICE: entry2: 0 1 9 8000000000000000 ts 8 then 0']);
});

test('the rewrite: a case range becomes the marker call at the position of its "...", a ?: in the value is kept, a post-declarator attribute run is dropped', () => {
  let col = 0;
  const toks = (s: string): GnuTok[] => s.split(' ').map((v) => ({ k: /^[A-Za-z_]/.test(v) ? 'id' : /^\d/.test(v) ? 'num' : 'punct', v, file: 0, line: 1, col: ++col, bol: false, ws: true }));
  const text = (ts: GnuTok[]) => ts.map((t) => t.v).join(' ');
  const r = rewriteGnu(toks('case A ? 1 : 2 ... 9 : x ;'));
  assert.equal(text(r), `case ${CASE_RANGE} ( A ? 1 : 2 , 9 ) : x ;`);
  assert.equal(r[1]!.col, 7);
  assert.equal(text(rewriteGnu(toks('int x __attribute__ ( ( a ) ) __attribute__ ( ( b ( 1 ) ) ) = 2 ;'))), 'int x = 2 ;');
  // Attributes that tree-sitter takes where they are stay.
  for (const s of ['struct __attribute__ ( ( packed ) ) s {', '} __attribute__ ( ( packed ) ) ;', 'void f ( void ) __attribute__ ( ( noreturn ) ) ;', 'case 1 : f ( a , b ) ;']) {
    assert.equal(text(rewriteGnu(toks(s))), s);
  }
});

test('an empty or overlapping case range is an error at the range', async () => {
  const d = mkdtempSync(join(tmpdir(), 'kctx-gnu-'));
  try {
    writeFileSync(join(d, 'a.c'), 'int f(int x) {\n\tswitch (x) {\n\tcase 5 ... 1: return 1;\n\t}\n\treturn 0;\n}\nint g(int x) {\n\tswitch (x) {\n\tcase 2 ... 4: return 2;\n\tcase 3: return 3;\n\tcase 0 ... 2: return 4;\n\t}\n\treturn 0;\n}\nvoid entry(void *a) { f(1); g(1); }\n');
    const s = scenarioFromObject({ kernel: 'illumos-13917', sources: ['a.c'], threads: [{ name: 't', entry: 'entry' }] }, join(d, 's.ksim.json'), d);
    await assert.rejects(createKernel(s, { loadDriver }), (e: ScenarioError) => {
      assert.equal(e.message, [`${join(d, 'a.c')}:3:9: error: empty range specified`, `${join(d, 'a.c')}:10:7: error: duplicate case value '3'`, '2 errors'].join('\n'));
      return true;
    });
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
