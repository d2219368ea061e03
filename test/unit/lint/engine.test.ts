/** Engine details: exact ranges per rule, the path named in messages, incremental parsing, budgets. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lintText, lintTree, LintDocument } from '../../../language-server/engine';
import { AnalysisCache } from '../../../language-server/fncache';
import type { KctxDiagnostic } from '../../../language-server/engine';
import { createCParser } from '../../../core/cparser';
import { FileModel } from '../../../language-server/model';
import { globToRegExp } from '../../../language-server/glob';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from './helpers';

const r = (sl: number, sc: number, el: number, ec: number) => ({ start: { line: sl, character: sc }, end: { line: el, character: ec } });

test('sleeping-alloc: exact range and the lwp_installctx path named in the message', async () => {
  const src = [
    'void',
    'seg(kthread_t *t, void *lwp, int thisthread)',
    '{',
    '\tif (thisthread)',
    '\t\tkpreempt_disable();',
    '\tctxop_install(t, &segreg_tpl, lwp);',
    '\tif (thisthread)',
    '\t\tkpreempt_enable();',
    '}',
  ].join('\n');
  const [d, ...rest] = await lintText(src, 'x.c');
  assert.equal(rest.length, 0);
  assert.equal(d!.code, 'sleeping-alloc-preempt-disabled');
  assert.deepEqual(d!.range, r(5, 1, 5, 35));
  assert.match(d!.message, /Path: line 4: 'if \(thisthread\)' is true -> line 5: kpreempt_disable\(\) -> line 6: ctxop_install\(\)/);
});

test('template-rev and ring-walk and assert ranges', async () => {
  const src = [
    'static const struct ctxop_template t = {',
    '\t.ct_save = s,',
    '};',
    'int f(kthread_t *t) { struct ctxop *c; int n = 0;',
    '\tfor (c = t->t_ctx; c != NULL; c = c->next) n++;',
    '\tASSERT3U(x++, ==, 1);',
    '\treturn (n); }',
  ].join('\n');
  const ds = await lintText(src, 'x.c', { rules: { 'assert-side-effect': 'warning' } });
  const by = (id: string) => ds.filter((d) => d.code === id).map((d) => d.range);
  assert.deepEqual(by('ctxop-template-rev'), [r(0, 35, 2, 1)]);
  assert.deepEqual(by('ctx-ring-walk'), [r(4, 20, 4, 29)]);
  assert.deepEqual(by('assert-side-effect'), [r(5, 10, 5, 13)]);
});

test('per-rule severity and off; a rule off by default is on when given a level', async () => {
  const src = 'void f(void) { ASSERT(x++); kpreempt_disable(); p = kmem_alloc(8, KM_SLEEP); kpreempt_enable(); }\n';
  const codes = (ds: KctxDiagnostic[]) => ds.map((d) => `${d.code}:${d.severity}`);
  // defaults: assert-side-effect is off (below the precision bar), sleeping-alloc a warning
  assert.deepEqual(codes(await lintText(src, 'x.c')), ['sleeping-alloc-preempt-disabled:2']);
  assert.deepEqual(codes(await lintText(src, 'x.c', { rules: { 'assert-side-effect': 'warning' } })), ['assert-side-effect:2', 'sleeping-alloc-preempt-disabled:2']);
  assert.deepEqual(codes(await lintText(src, 'x.c', { rules: { 'assert-side-effect': 'error', 'sleeping-alloc-preempt-disabled': 'error' } })), ['assert-side-effect:1', 'sleeping-alloc-preempt-disabled:1']);
  assert.deepEqual(await lintText(src, 'x.c', { rules: { 'assert-side-effect': 'off', 'sleeping-alloc-preempt-disabled': 'off' } }), []);
});

test('incremental reparse after an edit gives the same tree and findings as a fresh parse', async () => {
  const lines: string[] = [];
  for (let i = 0; i < 400; i++) lines.push(`static void\nf${i}(void *a)\n{\n\tkpreempt_disable();\n\tg${i}(a);\n\tkpreempt_enable();\n}\n`);
  const text = lines.join('\n');
  const doc = await LintDocument.create(text);
  assert.deepEqual(doc.lint('x.c'), []);
  // Replace `g7(a);` with an allocation (a one-line edit), then a multi-line insert with non-ASCII text.
  const line = text.split('\n').findIndex((l) => l === '\tg7(a);');
  doc.applyChanges([{ range: r(line, 1, line, 7), text: 'a = kmem_alloc(8, KM_SLEEP);' }]);
  doc.applyChanges([{ range: r(0, 0, 0, 0), text: '/* é漢 note */\n/* two */\n' }]);
  const inc = doc.lint('x.c');
  const fresh = await lintText(doc.text, 'x.c');
  assert.deepEqual(inc, fresh);
  assert.equal(inc.length, 1);
  assert.equal(inc[0]!.range.start.line, line + 2);
  const p = await createCParser();
  const t = p.parse(doc.text)!;
  assert.equal(doc.parse()!.rootNode.toString(), t.rootNode.toString());
  doc.dispose();
});

test('binary and oversized text are skipped with one information diagnostic', async () => {
  const bin = await lintText('int x;\u0000junk', 'b.c');
  assert.deepEqual(bin.map((d) => [d.code, d.severity]), [['file-skipped', 3]]);
  const big = await lintText('int x;\n'.repeat(10), 'b.c', { maxSize: 20 });
  assert.equal(big[0]!.message, 'file not linted: 70 characters, over the limit of 20');
});

test('a work budget, not a clock: a function over it gets the same partial result every time, and the lint says so', async () => {
  // g() has many paths (16 conditions, each tested twice: the walk keeps them); f() and h() are small.
  // Each has a sleeping allocation with preemption disabled and an unreleased lock.
  const ifs = Array.from({ length: 32 }, (_, i) => `\tif (a & ${1 << (i % 16)}) n += ${i};\n`).join('');
  const src = `void\nf(void)\n{\n\tkpreempt_disable();\n\tp = kmem_alloc(8, KM_SLEEP);\n\tkpreempt_enable();\n}\n\n`
    + `int\ng(int a)\n{\n\tint n = 0;\n\tkpreempt_disable();\n${ifs}\tp = kmem_alloc(8, KM_SLEEP);\n\tkpreempt_enable();\n\tmutex_enter(&lk);\n\tif (n)\n\t\treturn (EIO);\n\tmutex_exit(&lk);\n\treturn (0);\n}\n\n`
    + `int\nh(int a)\n{\n\tmutex_enter(&lk);\n\tif (a)\n\t\treturn (EIO);\n\tmutex_exit(&lk);\n\treturn (0);\n}\n`;
  const show = (ds: KctxDiagnostic[]) => ds.map((d) => `${d.range.start.line + 1}:${d.code}:${d.message.split(':')[0]}`);
  const locks = { 'lock-not-released': 'warning', 'unlock-not-held': 'warning' } as const;
  const full = await lintText(src, 'w.c', { era: '13917', rules: locks });
  const gLine = src.split('\n').indexOf('g(int a)');
  assert.ok(full.some((d) => d.code === 'sleeping-alloc-preempt-disabled' && d.range.start.line > gLine), show(full).join('\n'));
  assert.ok(!full.some((d) => d.code === 'file-skipped'));
  const budget = 120;
  const a = await lintText(src, 'w.c', { era: '13917', workBudget: budget, rules: locks });
  const b = await lintText(src, 'w.c', { era: '13917', workBudget: budget, rules: locks });
  assert.deepEqual(a, b);
  const notes = a.filter((d) => d.code === 'file-skipped');
  // g() is over it, for the preemption walk and the lock walk (both lock rules); f() and h() are not.
  assert.deepEqual(notes.map((d) => [d.range.start.line, d.message]), [
    [gLine - 1, 'preemption analysis: g() is over the work budget (120 path steps); no findings from it for this function'],
    [gLine - 1, 'rule lock-not-released: g() is over the work budget (120 path steps); no findings from it for this function'],
    [gLine - 1, 'rule unlock-not-held: g() is over the work budget (120 path steps); no findings from it for this function'],
  ]);
  const fLine = src.split('\n').indexOf('f(void)');
  const hLine = src.split('\n').indexOf('h(int a)');
  const real = a.filter((d) => d.code !== 'file-skipped');
  assert.deepEqual(real.map((d) => d.code), ['sleeping-alloc-preempt-disabled', 'lock-not-released']);
  assert.ok(real[0]!.range.start.line > fLine && real[0]!.range.start.line < gLine);
  assert.ok(real[1]!.range.start.line > hLine);
  // A document kept open (per-function cache) gives the same partial result, before and after an edit elsewhere.
  const doc = await LintDocument.create(src);
  assert.deepEqual(doc.lint('w.c', { era: '13917', workBudget: budget, rules: locks }), a);
  doc.applyChanges([{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: '/* x */\n' }]);
  const again = doc.lint('w.c', { era: '13917', workBudget: budget, rules: locks });
  assert.deepEqual(again, await lintText(doc.text, 'w.c', { era: '13917', workBudget: budget, rules: locks }));
  assert.deepEqual(show(again).map((x) => x.replace(/\d+/g, 'N')), show(a).map((x) => x.replace(/\d+/g, 'N')));
  doc.dispose();
});

test('exclude globs', () => {
  assert.ok(globToRegExp('**/gen/*.c').test('a/b/gen/x.c'));
  assert.ok(globToRegExp('*.h').test('deep/dir/x.h'));
  assert.ok(!globToRegExp('src/*.c').test('src/sub/x.c'));
  assert.ok(globToRegExp('{a,b}/**').test('b/x/y.c'));
});

test('a file nested thousands deep: each rule that cannot walk it says so, and lint goes on', async () => {
  const n = 5000;
  const src = `void\nf(void)\n{\n\tkpreempt_disable();\n\t${'{'.repeat(n)}g++; if (g) mutex_enter(&x);${'}'.repeat(n)}\n\tkpreempt_enable();\n\tinstallctx(curthread, 0, 0, 0, 0, 0, 0, 0);\n}\n`;
  const ds = await lintText(src, 'deep.c', { era: '13917' });
  const skipped = ds.filter((d) => d.code === 'file-skipped');
  assert.ok(skipped.length > 0);
  for (const d of skipped) assert.match(d.message, /^rule [a-z-]+ skipped this file: its code is nested too deeply for the analysis$/);
  assert.ok(skipped.some((d) => d.message.startsWith('rule legacy-ctxop-api ')), ds.map((d) => d.message).join('\n'));
  // The same file nested 50 deep is analysed.
  const ok = await lintText(src.replace('{'.repeat(n), '{'.repeat(50)).replace('}'.repeat(n), '}'.repeat(50)), 'deep.c', { era: '13917' });
  assert.deepEqual(ok.filter((d) => d.code === 'file-skipped'), []);
  assert.ok(ok.some((d) => d.code === 'legacy-ctxop-api' && d.range.start.line === 6));
});

test('every configuration: a function that parses only one #if branch at a time is linted in each, and the finding says which branch', async () => {
  const text = readFileSync(join(FIXTURES, 'ifdef-split.c'), 'utf8');
  const ds = await lintText(text, 'ifdef-split.c', { era: '12477' });
  const s = ds.filter((d) => d.code === 'sleeping-alloc-preempt-disabled');
  assert.equal(s.length, 1);
  assert.match(s[0]!.message, /^installctx\(\) allocates its ctxop with KM_SLEEP while preemption is disabled .* \(under #if defined\(__hv\)\)$/);
  // The same text with the #ifdef that splits the if/else removed parses whole: the same finding, from the file itself.
  const whole = text.replace('#ifdef _MULTI_MODEL\n\t\t} else {\n\t\t\tif (md_put32(a2) == -1)\n\t\t\t\terror = EFAULT;\n#endif\n', '');
  assert.notEqual(whole, text);
  const w = (await lintText(whole, 'ifdef-split.c', { era: '12477' })).filter((d) => d.code === 'sleeping-alloc-preempt-disabled');
  assert.deepEqual(w.map((d) => [d.range, d.message]), s.map((d) => [d.range, d.message]));
  // A finding in the #else branch of a nested conditional names both.
  const nested = '#ifdef A\nvoid\nf(void)\n{\n#if B\n\tkpreempt_disable();\n#else\n\tkpreempt_disable();\n\tp = kmem_alloc(8, KM_SLEEP);\n#endif\n\tkpreempt_enable();\n}\n#endif\n';
  const n = (await lintText(nested, 'n.c', { era: '13917' })).filter((d) => d.code === 'sleeping-alloc-preempt-disabled');
  assert.equal(n.length, 1);
  assert.match(n[0]!.message, /\(under #ifdef A, #else \(of #if B\)\)$/);
});

test('a configuration checks again only the functions in the regions it reads (its findings elsewhere would be dropped)', async () => {
  // leaf() parses only one #ifdef branch at a time; caller() before it parses, and its lock walk reads leaf()'s text (a callee)
  const text = 'static kmutex_t lk;\nint leaf(int);\n\nvoid\ncaller(int b)\n{\n\tmutex_enter(&lk);\n\tif (leaf(b) != 0)\n\t\treturn;\n\tmutex_exit(&lk);\n}\n\n'
    + 'int\nleaf(int a)\n{\n\tmutex_enter(&lk);\n#ifdef X\n\tif (a > 1) {\n#else\n\tif (a > 2) {\n#endif\n'
    + '\t\ta++;\n\t}\n\tif (a == 5)\n\t\treturn (EIO);\n\tmutex_exit(&lk);\n\treturn (0);\n}\n';
  const opts = { era: '13917' as const, rules: { 'lock-not-released': 'warning' as const }, suppressionFixes: false };
  const parser = await createCParser();
  const tree = parser.parse(text)!;
  try {
    assert.ok(tree.rootNode.hasError);
    const cache = new AnalysisCache();
    // the function texts checked through the cache once the whole text's lint has ended (end()): the configurations'
    const checked: string[] = [];
    let configurations = false;
    const end = cache.end.bind(cache);
    cache.end = () => { end(); configurations = true; };
    const run = cache.run.bind(cache);
    cache.run = (t, ...rest) => { if (configurations) checked.push(t); run(t, ...rest); };
    const ds = lintTree(text, tree, 'c.c', opts, cache, parser);
    assert.deepEqual(ds.map((d) => [d.code, d.range.start.line]), [['lock-not-released', 6], ['lock-not-released', 15]]);
    assert.match(ds[1]!.message, /at line 25 \(EIO\)/);
    assert.ok(checked.length > 0 && checked.every((t) => t.startsWith('int\nleaf(int a)')), JSON.stringify(checked.map((t) => t.slice(0, 12))));
    assert.deepEqual(await lintText(text, 'c.c', opts), ds);
  } finally {
    tree.delete();
  }
});

test('nameCount: the words of the text that are the name, as a scan of every word counts them', async () => {
  const parser = await createCParser();
  let seed = 14;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  const pieces = ['drv_fn', 'drv_fn2', 'x', '_drv_fn', '1', '0x', ' ', '\n', '(', ')', ';', '/* drv_fn */', 'Adrv_fn', 'drv_f'];
  for (let it = 0; it < 400; it++) {
    let text = '';
    for (let k = rnd(24); k > 0; k--) text += pieces[rnd(pieces.length)];
    const tree = parser.parse(text)!;
    const m = new FileModel(text, tree, 't.c', '13917');
    for (const name of ['drv_fn', 'x', 'drv_f', '_drv_fn', 'drv_fn2']) {
      const words = [...text.matchAll(/[A-Za-z_]\w*/g)].filter((r) => r[0] === name).length;
      assert.equal(m.nameCount(name), words, JSON.stringify([text, name]));
    }
    tree.delete();
  }
  parser.delete();
});

test('the preemption walk merges paths that differ only in a condition no later branch reads, and keeps one read again (a second if, a loop, a backward goto)', async () => {
  // 16 independent ifs: no branch reads another's condition, so they do not multiply the paths
  const ifs = Array.from({ length: 16 }, (_, i) => `\tif (a & ${1 << i}) n += ${i};\n`).join('');
  const wide = `int\ng(int a)\n{\n\tint n = 0;\n\tkpreempt_disable();\n${ifs}\tp = kmem_alloc(8, KM_SLEEP);\n\tkpreempt_enable();\n\treturn (n);\n}\n`;
  const w = await lintText(wide, 'w.c', { era: '13917', workBudget: 120 });
  assert.deepEqual(w.map((d) => [d.range.start.line, d.code]), [[wide.split('\n').findIndex((l) => l.includes('kmem_alloc')), 'sleeping-alloc-preempt-disabled']]);
  // a condition tested again: each path keeps what it assumed, so none allocates with preemption disabled
  const shapes = [
    // a second if
    `void\nf(int on)\n{\n\tif (on)\n\t\tkpreempt_disable();\n\tif (on)\n\t\tkpreempt_enable();\n\tp = kmem_alloc(8, KM_SLEEP);\n}\n`,
    // the same if, run again by a loop
    `void\nf(int on, int n)\n{\n\tint i;\n\n\tfor (i = 0; i < n; i++) {\n\t\tif (on)\n\t\t\tkpreempt_disable();\n\t\telse\n\t\t\tp = kmem_alloc(8, KM_SLEEP);\n\t}\n}\n`,
    // the same if, run again by a backward goto
    `void\nf(int on)\n{\nagain:\n\tif (on)\n\t\tkpreempt_disable();\n\telse\n\t\tp = kmem_alloc(8, KM_SLEEP);\n\tif (retry-- > 0)\n\t\tgoto again;\n}\n`,
  ];
  for (const src of shapes) assert.deepEqual(await lintText(src, 'c.c', { era: '13917' }), [], src);
  // and without the correlation (two different conditions) the path is there
  const apart = shapes[0]!.replace('if (on)\n\t\tkpreempt_enable', 'if (off)\n\t\tkpreempt_enable');
  assert.deepEqual((await lintText(apart, 'c.c', { era: '13917' })).map((d) => d.code), ['sleeping-alloc-preempt-disabled']);
});
