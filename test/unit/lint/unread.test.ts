/**
 * Parsing only what the rules read (unread.ts): the bodies of functions no enabled rule reads are
 * blanked before the parse, and the findings are exactly those of a parse of the whole file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lintText, textToParse, RULES } from '../../../language-server/engine';
import { mayReach, topLevelItems } from '../../../language-server/unread';
import { mayNameVnetVariable } from '../../../language-server/vnet';
import { rule as sleepingAlloc } from '../../../language-server/rules/sleeping-alloc-preempt-disabled';
import { blankRanges } from '../../../language-server/ppconfig';
import { loadFixtures } from './helpers';

const ALL_ON = Object.fromEntries(RULES.map((r) => [r.id, r.severity]));

test('every fixture: the same diagnostics (ranges, messages, fixes) with and without blanking, defaults and every rule', async () => {
  let blanked = 0;
  for (const f of loadFixtures()) {
    for (const rules of [undefined, ALL_ON]) {
      const opts = { era: f.era, ...(rules ? { rules } : {}) };
      const parsed = textToParse(f.text, opts);
      assert.equal(parsed.length, f.text.length, f.name);
      assert.equal(parsed.split('\n').length, f.text.split('\n').length, f.name);
      if (parsed !== f.text) blanked++;
      assert.deepEqual(await lintText(f.text, f.path, opts), await lintText(f.text, f.path, { ...opts, parseAll: true }), f.name);
    }
  }
  assert.ok(blanked >= 5, `blanking happened in ${blanked} fixture runs`);
});

const DRIVER = `#include <sys/types.h>

static void
drv_log(struct drv *d, int n)
{
	d->d_count += n;
	cmn_err(CE_NOTE, "drv %d", n);
}

static void *
drv_buf(size_t n)
{
	return (kmem_zalloc(n, KM_SLEEP));
}

static void
drv_fill(struct drv *d)
{
	d->d_buf = drv_buf(64);
	drv_log(d, 1);
}

static void
drv_save(void *arg)
{
	struct drv *d = arg;
	d->d_saved = 1;
}

static void
drv_attach_cpu(struct drv *d)
{
	kpreempt_disable();
	drv_fill(d);
	installctx(curthread, d, drv_save, NULL, NULL, NULL, NULL, NULL, NULL);
	kpreempt_enable();
}

static int
drv_ioctl(struct drv *d, int cmd)
{
	if (cmd == 1)
		drv_log(d, cmd);
	return (0);
}
`;

/** The body of the function named `name` in `text`, between its braces. */
function bodyOf(text: string, name: string): string {
  const at = text.indexOf(`\n${name}(`);
  const open = text.indexOf('{', at);
  const close = text.indexOf('\n}', open);
  return text.slice(open + 1, close + 1);
}

test('what is blanked: only functions no rule reads; callees that lead to a sleeping allocation and handlers stay', async () => {
  const parsed = textToParse(DRIVER, { era: '13915' });
  // read: the function with the tokens, the callee chain to KM_SLEEP, the handler (ctxop-handler-signature reads its body)
  for (const f of ['drv_attach_cpu', 'drv_fill', 'drv_buf', 'drv_save']) assert.equal(bodyOf(parsed, f), bodyOf(DRIVER, f), f);
  // drv_log is named by drv_fill but leads to nothing the rules care about; drv_ioctl is named by nothing
  for (const f of ['drv_log', 'drv_ioctl']) {
    assert.match(bodyOf(parsed, f), /^[ \n]+$/, f);
    assert.equal(bodyOf(parsed, f).split('\n').length, bodyOf(DRIVER, f).split('\n').length, f);
  }
  const a = await lintText(DRIVER, 'drv.c', { era: '13915' });
  assert.deepEqual(a, await lintText(DRIVER, 'drv.c', { era: '13915', parseAll: true }));
  // drv_buf() is only called with preemption disabled: its allocation; installctx() in the region
  assert.deepEqual(a.filter((d) => d.code === 'sleeping-alloc-preempt-disabled').map((d) => d.range.start.line + 1), [13, 35]);
});

test('a file whose braces a token scan cannot follow is parsed whole', () => {
  // an #if whose branches open different numbers of braces
  const split = `static void\nf(int a)\n{\n#ifdef X\n\tif (a) {\n\t\tg();\n\t}\n#else\n\tif (!a) {\n#endif\n\t\th();\n\t}\n}\n\nstatic void\nk(void)\n{\n\tkpreempt_disable();\n\tkpreempt_enable();\n}\n`;
  assert.equal(topLevelItems(split), null);
  assert.equal(textToParse(split, {}), split);
  // a conditional that starts in one function and ends in the next
  const across = `void\na(void)\n{\n#if X\n}\nvoid\nb(void)\n{\n#endif\n\tkpreempt_disable();\n}\n`;
  assert.equal(topLevelItems(across), null);
  // an unterminated comment
  assert.equal(topLevelItems('void f(void) { /* x }\n'), null);
  // a branch-for-branch function header is one function
  const hdr = `int\n#ifdef X\nf(int a)\n#else\nf(void)\n#endif\n{\n\treturn (0);\n}\n`;
  const items = topLevelItems(hdr)!;
  assert.deepEqual(items.filter((i) => i.body).map((i) => i.name), ['f']);
  // strings, characters and comments with braces do not count
  const lit = `static const char *s = "{";\nstatic char c = '}';\n/* { */\nvoid\ng(void)\n{\n\tputs("}}");\n}\n`;
  assert.deepEqual(topLevelItems(lit)!.filter((i) => i.body).map((i) => i.name), ['g']);
});

test('blankRanges keeps every line break and blanks the rest, as a character-by-character blanking does', () => {
  const naive = (text: string, rs: [number, number][]) => {
    const c = text.split('');
    for (const [s, e] of rs) for (let k = s; k < e; k++) if (c[k] !== '\n' && c[k] !== '\r') c[k] = ' ';
    return c.join('');
  };
  let seed = 14;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  const alphabet = 'ab\r\n{} x';
  for (let it = 0; it < 3000; it++) {
    let t = '';
    for (let i = rnd(30); i > 0; i--) t += alphabet[rnd(alphabet.length)];
    const rs: [number, number][] = [];
    for (let j = rnd(4); j > 0; j--) { const a = rnd(t.length + 1); const b = rnd(t.length + 1); rs.push([Math.min(a, b), Math.max(a, b)]); }
    assert.equal(blankRanges(t, rs), naive(t, rs), JSON.stringify([t, rs]));
  }
});

/** A driver-shaped file: preemption disabled in one function, a KM_SLEEP allocation in another. */
const APART = `static void *
drv_buf(size_t n)
{
	return (kmem_zalloc(n, KM_SLEEP));
}

static void
drv_count(struct drv *d)
{
	d->d_count++;
}

static void
drv_bind(struct drv *d)
{
	kpreempt_disable();
	d->d_cpu = CPU->cpu_id;
	drv_count(d);
	kpreempt_enable();
}
`;

test('mayReach: a sleeping allocation only counts when the preemption code reaches it; unsure shapes count', async () => {
  const from = /\bkpreempt_disable\b|\bt_preempt\b/;
  const to = /\bKM_SLEEP\b/;
  assert.equal(mayReach(APART, from, to), false);
  assert.equal(sleepingAlloc.mayReport!(APART), false);
  // not parsed, not reported; parsed whole, the same (nothing)
  assert.deepEqual(await lintText(APART, 'drv.c', {}), []);
  assert.deepEqual(await lintText(APART, 'drv.c', { parseAll: true }), []);
  // through a callee, two deep
  const via = APART.replace('\td->d_count++;', '\td->d_count++;\n\td->d_buf = drv_buf(8);');
  assert.equal(mayReach(via, from, to), true);
  assert.equal((await lintText(via, 'drv.c', {})).filter((d) => d.code === 'sleeping-alloc-preempt-disabled').length, 1);
  // a function whose name the scan cannot tell (a macro declares it) may be anything's callee
  assert.equal(mayReach(APART.replace('static void *\ndrv_buf(size_t n)', 'DRV_FN(drv_buf, size_t n)'), from, to), true);
  // a K&R definition: the parser reads a function the scan does not name
  assert.equal(mayReach(APART.replace('static void *\ndrv_buf(size_t n)\n{', 'static void *\ndrv_buf(n)\nsize_t n;\n{'), from, to), true);
  // a header with a conditional: another configuration may name the function otherwise
  assert.equal(mayReach(APART.replace('static void *\ndrv_buf(size_t n)', 'static void *\n#ifdef DEBUG\ndrv_buf_debug(size_t n)\n#else\ndrv_buf(size_t n)\n#endif'), from, to), true);
  // braces a token scan cannot follow
  const split = APART.replace('\td->d_count++;', '#ifdef X\n\tif (d) {\n\t\tg();\n\t}\n#else\n\tif (!d) {\n#endif\n\t\th();\n\t}\n\td->d_count++;');
  assert.equal(topLevelItems(split), null);
  assert.equal(mayReach(split, from, to), true);
  // no preemption code at all
  assert.equal(mayReach(APART.replace(/kpreempt_\w+\(\);/g, ''), from, to), false);
});

test('vnet: an `&V_` flag test names no vnet variable; a kernel V_ name or a local VNET() define does', () => {
  assert.equal(mayNameVnetVariable('if (flags & V_XATTRDIR)\n\treturn (0);\n'), false);
  assert.equal(mayNameVnetVariable('p = &V_ifnet;\n'), true);
  assert.equal(mayNameVnetVariable('#define\tV_drv_count\tVNET(drv_count)\np = & V_drv_count;\n'), true);
  assert.equal(mayNameVnetVariable('#define\tV_drv_flag\t0x10\nx = y & V_drv_flag;\n'), false);
});
