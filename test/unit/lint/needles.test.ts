/**
 * The byte scan before the triggers (needles.ts): an ASCII text that matches a rule's trigger holds
 * one of the rule's needles, and lintFile gives the same result with the scan as without it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RULES, anyTrigger, lintText, needleSet, ruleNeedles } from '../../../language-server/engine';
import { lintFile } from '../../../language-server/files';
import { NeedleSet, needlesOf } from '../../../language-server/needles';
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
  'xinstallctx(', '', 'V_', '&', '& ',
  // the lock and assert rules' triggers
  'mutex_enter(&m);', 'mutex_exit (&m)', 'mutex_lock(&m)', 'mutex_unlock(&m)', 'mtx_lock_spin(&m)', 'mtx_unlock_flags(&m, 0)', 'pthread_mutex_trylock(&m)',
  'lock_vnode(vp, 1)', 'unlock_vnode(vp)', 'lock_vmnt(v)', 'unlock_vmnt(v)', 'lock_filp(f)', 'unlock_filp(f)', 'rw_enter(&l, RW_READER)', 'rw_exit(&l)',
  'sx_xlock(&s)', 'sx_try_slock(&s)', 'rw_rlock(&r)', 'rw_wlock(&r)', 'rw_runlock(&r)', 'rw_wunlock(&r)',
  'ASSERT(x);', 'ASSERT3U(a, ==, b);', 'KASSERT(x, ("m"));', 'VNET_ASSERT(v, ("m"))', 'assert (x);', 'IMPLY(a, b);', 'EQUIV(a, b);', 'MPASS(x);', 'MPASS4(x, a, b, c);',
  // near misses
  'mutex_ente(', 'rw_ente(', 'mtx_lok(', 'sx(', 'ASSER(', 'asser(', 'MPAS(', 'IMPL(',
];

test('an ASCII text a rule\'s trigger matches holds one of the rule\'s needles (probes, probes in context, every fixture)', () => {
  const texts = [...PROBES, ...PROBES.map((p) => `int\nf(void)\n{\n\t${p}\n}\n`), ...loadFixtures().map((f) => f.text).filter((t) => /^[\x00-\x7f]*$/.test(t))];
  let matched = 0;
  for (const rule of RULES) {
    // every rule's needles are read from its trigger
    const needles = ruleNeedles(rule);
    assert.ok(needles?.length, `${rule.id}: no needles read from ${rule.trigger}`);
    const ns = new NeedleSet(needles!);
    for (const t of texts) {
      if (!rule.trigger.test(t)) continue;
      matched++;
      assert.ok(ns.scan(Buffer.from(t, 'latin1')).hit, `${rule.id}: trigger matches ${JSON.stringify(t.slice(0, 80))} but no needle`);
    }
  }
  assert.ok(matched > 100, `${matched} trigger matches checked`);
});

test('needlesOf reads each alternative\'s first literal run from a trigger, and gives up on what it cannot read', () => {
  // groups and small classes expanded; \\s a space; \\w, \\d and optional parts end a run; a \\b next
  // to a word character at either end of a run stays; a needle another implies is dropped
  // (unlock_vnode holds lock_vnode, but not after a \\b)
  assert.deepEqual(needlesOf(/\b(mutex_enter|mtx_lock\w*|unlock_vnode|lock_vnode|sx_\w*lock|rw_[rw]lock)\s*\(/),
    ['\\block_vnode (', '\\bmtx_lock', '\\bmutex_enter (', '\\brw_rlock (', '\\brw_wlock (', '\\bsx_', '\\bunlock_vnode (']);
  assert.deepEqual(needlesOf(/(mutex_enter|mtx_lock\w*|unlock_vnode|lock_vnode)\s*\(/), ['lock_vnode (', 'mtx_lock', 'mutex_enter (']);
  assert.deepEqual(needlesOf(/\bVNET_NAME\b|\bvnet_entry_\w|&\s*V_\w/), ['& V_', '\\bVNET_NAME\\b', '\\bvnet_entry_']);
  assert.deepEqual(needlesOf(/\b(ASSERT\w*|assert|KASSERT|MPASS\d?|VNET_ASSERT)\s*\(/), ['\\bASSERT', '\\bKASSERT (', '\\bMPASS', '\\bVNET_ASSERT (', '\\bassert (']);
  assert.deepEqual(needlesOf(/\bctxop_(?:allocate|detach)\s+\(/), ['\\bctxop_allocate (', '\\bctxop_detach (']);
  assert.deepEqual(needlesOf(/x+y/), ['x']);
  assert.deepEqual(needlesOf(/a\.b\(c/), ['a.b(c']);
  // a \\b beside a character that is not a word character, inside a run, or past white space: not kept
  assert.deepEqual(needlesOf(/\b&x|a\bb|\s*\bq|r\s*\b/), ['&x', '\\bq', 'ab', 'r']);
  // a \\b after the run ends it where a gap follows; one that is implied stays out (\\bab\\b holds \\bab, ab\\b, ab)
  assert.deepEqual(needlesOf(/\bab\b\w/), ['\\bab\\b']);
  assert.deepEqual(needlesOf(/\bab\b|\bab/), ['\\bab']);
  assert.deepEqual(needlesOf(/\bab|xab\b/), ['\\bab', 'xab\\b']);
  assert.deepEqual(needlesOf(/\bab|x ab/), ['\\bab', 'x ab']);
  assert.deepEqual(needlesOf(/\bab|x\(ab/), ['\\bab']);
  // a gap first: the run after it
  assert.deepEqual(needlesOf(/\w*_INIT\s*\(/), ['_INIT (']);
  // what it cannot read: no needles (every text is matched against the trigger)
  for (const re of [/installctx/i, /\w+/, /(?=a)abc/, /a{2}b/, /(ab)+c/, /\tx/, /é\(/, /[a-z]+/, /^$/, /a\\b/]) assert.equal(needlesOf(re), null, String(re));
});

test('the default rules\' needles: the probes that hit, those that do not, and the line count', () => {
  const ns = needleSet({});
  assert.ok(ns, 'every default rule has needles');
  const hit = (t: string) => ns!.scan(Buffer.from(t, 'latin1')).hit;
  for (const t of ['p = &  \t\n V_x;', 'flags & V_XATTRDIR', 'CURVNET_SET_QUIET(v)', 'a t_ctx b', 'x.ct_rev; struct ctxop_template']) assert.ok(hit(t), t);
  for (const t of ['V_x', '& V', '&W_x', 'installct(', 'kpreempt_disabl', 'SYSINI(', '', 'struct ctx *c; ctxop']) assert.ok(!hit(t), t);
  // the triggers' \\b: a word that only ends in a needle's word, or goes on after it
  for (const t of ['p->ct_ctx', 'x.st_ctx_lock', 'p->t_preempt_save', 'my_kpreempt_disable()', 'xCURVNET_SET', 'xSYSINIT(']) {
    assert.ok(!hit(t), t);
    assert.ok(!anyTrigger(t, {}), t);
  }
  for (const t of ['(t_ctx)', 'p->t_ctx;', 't_ctx', '\tNET_TASK_INIT (', '*VNET_SYSINIT(', 'CURVNET_SET_QUIET(']) assert.ok(hit(t), t);
  assert.deepEqual(ns!.scan(Buffer.from('a\nb\n\nkpreempt_disable();\n\n')), { hit: true, lines: 6 });
  assert.deepEqual(ns!.scan(Buffer.from('a\nb\n')), { hit: false, lines: 3 });
  // Unicode white space (U+3000) is `\s` to the trigger: in a text that is not ASCII, a white-space run also takes bytes 0x80 and up
  const wide = 'p = &\u3000V_x;';
  assert.ok(anyTrigger(wide, {}) && !hit(Buffer.from(wide, 'utf8').toString('latin1')));
  assert.ok(ns!.scan(Buffer.from(wide, 'utf8'), true).hit);
  for (const t of ['p = &\u00e9V_x;', 'ctxop_free\u2003(c)', 'ctxop_free\ufeff\t(c)', '\u00e9t_ctx']) assert.ok(ns!.scan(Buffer.from(t, 'utf8'), true).hit, t);
  for (const t of ['\u00e9 int x;', 'ctxop_free\u2003x(c)', 'p->\u00e9ct_ctx']) assert.ok(!ns!.scan(Buffer.from(t, 'utf8'), true).hit, t);
  // every rule has needles: with every rule on, the scan still runs
  const all = needleSet({ rules: ALL_ON });
  assert.ok(all);
  for (const t of ['mutex_enter(&m)', 'x;\n\tASSERT(p != NULL);', 'sx_xlock(&s)', 'p = &V_x;']) assert.ok(all!.scan(Buffer.from(t, 'latin1')).hit, t);
  for (const t of ['int x;\n', 'mutex_ente(', 'ASSER(x)']) assert.ok(!all!.scan(Buffer.from(t, 'latin1')).hit, t);
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

test('the skipping scan finds what a regex over the needles finds, and counts the lines, at every alignment (seeded random texts)', () => {
  const sets = [needleSet({})!, needleSet({ rules: ALL_ON })!, new NeedleSet(['t_ctx', 'ab', 'x y z', 'long_needle_word']), new NeedleSet(['\\bt_ctx\\b', 'ab\\b', '\\bx y z', '\\blong_needle_word', 'pre_word'])];
  const esc = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  let seed = 12345;
  const rnd = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % n; };
  let hits = 0;
  let misses = 0;
  for (const ns of sets) {
    const edge = (n: string) => ({ start: n.startsWith('\\b'), end: n.length > 2 && n.endsWith('\\b'), text: n.replace(/^\\b/, '').replace(/\\b$/, '') });
    const re = new RegExp(ns.needles.map(edge).map((n) => (n.start ? '(?<![A-Za-z0-9_])' : '') + n.text.split(' ').filter(Boolean).map(esc).join('[\\t-\\r ]*') + (n.end ? '(?![A-Za-z0-9_])' : '')).join('|'));
    // pieces: needles, needles cut short, their white-space forms, noise
    const bare = ns.needles.map((n) => edge(n).text);
    const pieces = [...bare, ...bare.map((n) => n.slice(0, -1)), ...bare.map((n) => n.slice(1)), ...bare.map((n) => n.replace(/ /g, ' \n\t')),
      'int x;', '\n', '\t', ' ', 'a', '_', '&', 'V', '(', 'mutex', 'ctx', 'ASSERT'.toLowerCase(), 'xy'];
    for (let k = 0; k < 400; k++) {
      let t = '';
      const len = rnd(40);
      for (let i = 0; i < len; i++) t += rnd(5) === 0 ? pieces[rnd(pieces.length)] : pieces[pieces.length - 1 - rnd(12)];
      const want = re.test(t);
      if (want) hits++; else misses++;
      for (let off = 0; off < 4; off++) {
        const big = Buffer.alloc(t.length + 8, 10);
        big.write(t, off, 'latin1');
        const buf = big.subarray(off, off + t.length);
        assert.deepEqual(ns.scan(buf), { hit: want, lines: t.split('\n').length }, `${JSON.stringify(t)} at offset ${off}`);
      }
    }
  }
  assert.ok(hits > 100 && misses > 100, `${hits} texts with a needle, ${misses} without`);
});

/**
 * A rule's mayReport holds wherever the rule reports (linted with parseAll, which never asks it),
 * and a lint that asks it gives the same findings. Returns how many texts the rule reported on.
 */
async function preFilterHolds(id: string, texts: string[]): Promise<number> {
  const rule = RULES.find((r) => r.id === id)!;
  const only = { rules: Object.fromEntries(RULES.map((r) => [r.id, r.id === id ? 'warning' : 'off'])) as Record<string, 'warning' | 'off'> };
  let reported = 0;
  for (const t of texts) {
    const all = await lintText(t, 'f.c', { ...only, parseAll: true });
    if (all.some((x) => x.code === id)) {
      reported++;
      assert.ok(rule.mayReport!(t), `${id} reports but its pre-filter says no: ${JSON.stringify(t.slice(0, 160))}`);
    }
    assert.deepEqual(await lintText(t, 'f.c', only), all, JSON.stringify(t.slice(0, 80)));
  }
  return reported;
}

test('assert-side-effect\'s pre-filter: true wherever the rule reports (fixtures, probes), false for plain assertions', async () => {
  const rule = RULES.find((r) => r.id === 'assert-side-effect')!;
  const fn = (body: string, extra = '') => `${extra}int g;\nint\nf(int x, int *p)\n{\n\t${body}\n\treturn (x);\n}\n`;
  const probes = [
    fn('ASSERT(x = 1);'), fn('ASSERT(x++);'), fn('ASSERT(--x > 0);'), fn('ASSERT((x <<= 1) != 0);'), fn('ASSERT((x >>= 1) != 0);'), fn('ASSERT((x += 2) > 0);'),
    fn('ASSERT(mutex_tryenter(&m));'), fn('ASSERT(atomic_inc_32_nv(&g) > 0);'), fn('ASSERT(set_g(x) == 0);', 'static int\nset_g(int v)\n{\n\tg = v;\n\treturn (0);\n}\n'),
    fn('ASSERT3U(set_g(x), ==, 1);', 'static int\nset_g(int v)\n{\n\tg = v;\n\treturn (0);\n}\n'), fn('ASSERT(ctxop_remove(t, c) == 1);'), fn('VERIFY(x = 1);'),
    fn('KASSERT(x++ > 0, ("x %d", x));'), fn('assert(p[x++] == 0);'), fn('ASSERT /* c */ (x = 1);'), fn('ASSERT(x\n#ifdef A\n\t= 1\n#endif\n\t);'),
    '#define CHK(x) ASSERT((x) = 1)\n', '#define CHK() do { assert(mutex_trylock(&l) == 0); } while (0)\n',
    // a macro body is read as text, strings and all (macroHits)
    '#define CHK(s) ASSERT(strcmp(s, "a=b") == 0)\n',
    // no side effect: the pre-filter may say no
    fn('ASSERT(MUTEX_HELD(&m));'), fn('ASSERT(x != 0 && x <= 4 && x >= 1);'), fn('ASSERT3U(x, ==, 0);'), fn('ASSERT(p[x] == 0);'), fn('ASSERT(strcmp(s, "a=b") == 0);'),
  ];
  const reported = await preFilterHolds(rule.id, [...probes, ...loadFixtures().map((f) => f.text)]);
  assert.ok(reported >= 14, `${reported} texts reported`);
  for (const b of ['ASSERT(MUTEX_HELD(&m));', 'ASSERT(x != 0 && x <= 4 && x >= 1);', 'ASSERT3U(x, ==, 0);', 'ASSERT(p[x] == 0);', 'ASSERT(strcmp(s, "a=b") == 0);', 'ASSERT(f2(x));']) {
    assert.equal(rule.mayReport!(fn(b)), false, b);
  }
  // a call to a function the file defines may write state: the filter cannot tell without the parse
  assert.equal(rule.mayReport!(fn('ASSERT(h(x));', 'static int\nh(int v)\n{\n\treturn (v);\n}\n')), true);
});
