/**
 * The byte scan before the triggers (needles.ts): an ASCII text that matches a rule's trigger holds
 * one of the rule's needles, and lintFile gives the same result with the scan as without it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RULES, anyTrigger, lintText, needleSet } from '../../../language-server/engine';
import { lintFile } from '../../../language-server/files';
import { NeedleSet } from '../../../language-server/needles';
import { scratchDir } from '../../scratch';
import { FileRefused, readFileBounded } from '../../../kernel-sim/io/files';
import { loadFixtures } from './helpers';

const ALL_ON = Object.fromEntries(RULES.map((r) => [r.id, r.severity]));

/** Texts around each trigger: matches in odd spacing, and near misses. */
const PROBES = [
  'installctx(t, a)', 'x = removectx (t,', 'installctx_preallocate(', 'kpreempt_disable();', 'curthread->t_preempt++;',
  'static const struct ctxop_template tpl = {', 'ctxop_remove(t, c)', 'ctxop_allocate(&tpl, a)', 'ctxop_detach\t(t, c)',
  'ctxop_free(c);', 'for (c = t->t_ctx; c; c = c->next)', 'CURVNET_SET_QUIET(vnet);', 'CURVNET_RESTORE();',
  'callout_reset_sbt(&c, 1, 0, f, a, 0)', 'NET_TASK_INIT(&t, 0, f, a)', 'TIMEOUT_TASK_INIT(q, &t, 0, f, a)', 'GROUPTASK_INIT(&g, 0, f, a)',
  'kproc_kthread_add(f, a, &p, &t, 0, 0, "x", "y")', 'swi_add(NULL, "x", f, a, 0, 0, &c)', 'bus_setup_intr(dev, r, 0, NULL, f, a, &c)',
  'EVENTHANDLER_REGISTER(ev, f, a, 0)', 'VNET_NAME(x)', 'vnet_entry_tcb', 'p = &V_tcbinfo;', 'p = &  \t\n V_x;', 'VNET_SYSINIT(a, b, c, f, d);',
  'SYSINIT(a, b, c, f, d);',
  // near misses: a needle's word cut short, or the trigger's shape without its word
  'installct(', 'kpreempt_disabled', 't_preemp', 'ctxop_templat', 'CURVNET_SE', '&W_x', '& V', 'V_x', 'flags & V_XATTRDIR', 'SYSINI(',
  'xinstallctx(', 'mutex_enter(&m);', '', 'V_', '&', '& ',
];

test('an ASCII text a rule\'s trigger matches holds one of the rule\'s needles (probes, probes in context, every fixture)', () => {
  const texts = [...PROBES, ...PROBES.map((p) => `int\nf(void)\n{\n\t${p}\n}\n`), ...loadFixtures().map((f) => f.text).filter((t) => /^[\x00-\x7f]*$/.test(t))];
  let matched = 0;
  for (const rule of RULES) {
    if (!rule.needles) continue;
    assert.equal(rule.trigger.flags.replace(/[gy]/g, ''), '', `${rule.id}: a needle scan is case-sensitive`);
    const ns = new NeedleSet(rule.needles);
    for (const t of texts) {
      if (!rule.trigger.test(t)) continue;
      matched++;
      assert.ok(ns.scan(Buffer.from(t, 'latin1')).hit, `${rule.id}: trigger matches ${JSON.stringify(t.slice(0, 80))} but no needle`);
    }
  }
  assert.ok(matched > 60, `${matched} trigger matches checked`);
});

test('the default rules\' needles: the probes that hit, those that do not, and the line count', () => {
  const ns = needleSet({});
  assert.ok(ns, 'every default rule has needles');
  const hit = (t: string) => ns!.scan(Buffer.from(t, 'latin1')).hit;
  for (const t of ['p = &  \t\n V_x;', 'flags & V_XATTRDIR', 'CURVNET_SET_QUIET(v)', 'a t_ctx b', 'x.ct_rev; struct ctxop_template']) assert.ok(hit(t), t);
  for (const t of ['V_x', '& V', '&W_x', 'installct(', 'kpreempt_disabl', 'SYSINI(', '', 'struct ctx *c; ctxop']) assert.ok(!hit(t), t);
  assert.deepEqual(ns!.scan(Buffer.from('a\nb\n\nkpreempt_disable();\n\n')), { hit: true, lines: 6 });
  assert.deepEqual(ns!.scan(Buffer.from('a\nb\n')), { hit: false, lines: 3 });
  // Unicode white space (U+3000) is `\s` to the trigger but not to the scan: such a file is not ASCII, and lintFile decodes it
  const wide = 'p = &\u3000V_x;';
  assert.ok(anyTrigger(wide, {}) && !hit(Buffer.from(wide, 'utf8').toString('latin1')));
  // a rule without needles (the assert rules): no scan, every file is decoded and matched
  assert.equal(needleSet({ rules: ALL_ON }), null);
});

test('lintFile: the same result for a file with and without a needle, in ASCII and not, with a NUL', async () => {
  const dir = scratchDir('kctx-needles-');
  const body = 'int\nf(void)\n{\n\tkpreempt_disable();\n\t(void) kmem_alloc(8, KM_SLEEP);\n\tkpreempt_enable();\n\treturn (0);\n}\n';
  const cases: [string, string][] = [
    ['hit.c', body],
    ['miss.c', 'int\ng(void)\n{\n\treturn (1);\n}\n'],
    // Unicode white space: `\s` matches U+3000 between the word and its parenthesis (decoded and matched as before)
    ['wide.c', '/* \u00e9 */\nint\nf(void)\n{\n\tctxop_free\u3000(c);\n}\n'],
    ['nul.c', 'int x;\u0000\n'],
    ['nul-hit.c', 'kpreempt_disable();\u0000\n'],
  ];
  for (const [name, text] of cases) {
    const file = join(dir, name);
    writeFileSync(file, text, 'utf8');
    for (const opts of [{}, { rules: ALL_ON }]) {
      const r = await lintFile(file, opts);
      const expect = anyTrigger(text, opts) || text.includes('\u0000') ? await lintText(text, file, { ...opts, suppressionFixes: false }) : [];
      assert.deepEqual(r.diagnostics, expect, name);
      assert.equal(r.lines, text.split('\n').length, name);
    }
  }
  assert.equal((await lintFile(join(dir, 'hit.c'), {})).diagnostics.filter((d) => d.code === 'sleeping-alloc-preempt-disabled').length, 1);
  assert.equal((await lintFile(join(dir, 'nul.c'), {})).diagnostics[0]?.code, 'file-skipped');
});

test('readFileBounded into a reused buffer: each read gives its own bytes, the buffer grows, the limit still holds', () => {
  const dir = scratchDir('kctx-reuse-');
  const reuse = { buf: Buffer.alloc(4) };
  const sizes = [3, 2_000_000, 10, 0, 1_500_000];
  for (const [i, n] of sizes.entries()) {
    const want = Buffer.alloc(n, 97 + i);
    writeFileSync(join(dir, `f${i}`), want);
    const got = readFileBounded(join(dir, `f${i}`), 1 << 22, reuse);
    assert.ok(got.equals(want), `file ${i}`);
  }
  assert.ok(reuse.buf.length >= 2_000_001);
  // over the limit: refused, as without a buffer
  assert.throws(() => readFileBounded(join(dir, 'f1'), 1_000_000, reuse), (e: unknown) => e instanceof FileRefused && e.code === 'EFBIG');
});
