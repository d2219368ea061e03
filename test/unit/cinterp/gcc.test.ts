/**
 * C constructs checked against gcc: each program runs under kctx and, when gcc is on the
 * machine, compiled by `gcc -O0` too; both must print the answer recorded here (what gcc
 * printed when the test was written), so the recording itself is checked wherever gcc exists.
 * `PR(x)` prints one value per line (printf under gcc, cmn_err under kctx).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runC } from './helpers';
import type { Machine } from '../../../kernel-sim/machine/machine';
import { isRegisterForm, type StepFn } from '../../../kernel-sim/cinterp/codegen';
import { scratchDir } from '../../scratch';

function hasGcc(): boolean {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const GCC = hasGcc();

/** What gcc -O0 prints for `body` (a test() function and what it uses), or null without gcc. */
function gccRun(body: string): string | null {
  if (!GCC) return null;
  const dir = scratchDir('kctx-gcc-');
  writeFileSync(join(dir, 'p.c'), `#include <stdio.h>\n#include <stdint.h>\n#include <stddef.h>\n#define PR(x) printf("%lld\\n", (long long)(x))\n${body}\nint main(void) { test(); return 0; }\n`);
  execFileSync('gcc', ['-w', '-O0', '-o', join(dir, 'p'), join(dir, 'p.c')]);
  return execFileSync(join(dir, 'p'), { encoding: 'utf8' });
}

async function kctxRun(body: string, check?: (m: Machine) => void): Promise<string> {
  const r = await runC(`#include <sys/types.h>\n#include <sys/cmn_err.h>\n#define PR(x) cmn_err(CE_CONT, "%lld\\n", (long long)(x))\n${body}\nvoid entry(void *arg) { test(); }\n`);
  assert.equal(r.outcome.kind, 'end', JSON.stringify(r.outcome));
  check?.(r.m);
  return r.console.map((l) => (l.endsWith('\n') ? l : l + '\n')).join('');
}

/** `check` looks at the machine after the run (kctx's side only). */
async function sameAsGcc(body: string, recorded: Array<number | string>, check?: (m: Machine) => void): Promise<void> {
  const want = recorded.map((v) => `${v}\n`).join('');
  const g = gccRun(body);
  if (g !== null) assert.equal(g, want, 'the recorded answer is what gcc prints');
  assert.equal(await kctxRun(body, check), want);
}

test('a parenthesised function name in a definition; anonymous union members and brace elision as C11 6.7.9 (c-testsuite 00050); a union array from a flat list', async () => {
  await sameAsGcc(`
static int (twice)(int x) { return 2 * x; }
static int (*(pick))(int) = twice;
struct S2 { int a; union { int c; int d; }; int e; } v = {1, 3, 4};
union U { int a; char b; } uu[2] = {5, 6};
struct S3 { int a; struct { short p, q; }; int r; } w = { 1, .q = 7, 8 };
void test(void) {
  struct S2 lv = {1, 3, 4};
  PR(twice(21)); PR(pick(5));
  PR(v.a); PR(v.c); PR(v.d); PR(v.e);
  PR(lv.a); PR(lv.c); PR(lv.e);
  PR(uu[0].a); PR(uu[1].a);
  PR(w.a); PR(w.p); PR(w.q); PR(w.r);
}`, [42, 10, 1, 3, 3, 4, 1, 3, 4, 5, 6, 1, 0, 7, 8]);
});

test('bit-field initialisers, unnamed bit-fields (their type does not align the struct), brace elision in arrays of structs and in 2-D arrays', async () => {
  await sameAsGcc(`
struct B { unsigned a : 3; unsigned : 0; unsigned b : 5; int : 4; int c : 6; signed char d; };
struct B gb = { 5, 17, -3, 9 };
struct L { char x; unsigned long : 3; char y; };
struct P { int x; struct { short y; short z; } in; int arr[3]; } gp[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
int m2[2][3] = { 1, 2, 3, 4 };
struct Q { char s[4]; int n; } gq = { "ab", 7 };
struct R { int a; int b; } gr = { .b = 2, .a = 3 };
void test(void) {
  struct B lb = { 6, 30, 31, -1 };
  struct P lp[2] = { 1, 2, 3, { 4, 5 }, 6 };
  int i;
  PR(gb.a); PR(gb.b); PR(gb.c); PR(gb.d); PR(sizeof(struct B)); PR(sizeof(struct L));
  PR(lb.a); PR(lb.b); PR(lb.c); PR(lb.d);
  PR(sizeof(gp) / sizeof(gp[0]));
  for (i = 0; i < 2; i++) { PR(gp[i].x); PR(gp[i].in.y); PR(gp[i].in.z); PR(gp[i].arr[0]); PR(gp[i].arr[2]); }
  for (i = 0; i < 2; i++) { PR(lp[i].x); PR(lp[i].in.z); PR(lp[i].arr[0]); PR(lp[i].arr[1]); PR(lp[i].arr[2]); }
  PR(m2[0][2]); PR(m2[1][0]); PR(m2[1][1]);
  PR(gq.s[1]); PR(gq.n); PR(gr.a); PR(gr.b);
}`, [5, 17, -3, 9, 8, 3, 6, 30, 31, -1, 2, 1, 2, 3, 4, 6, 7, 8, 9, 10, 12, 1, 3, 4, 5, 0, 6, 0, 0, 0, 0, 3, 4, 0, 98, 7, 3, 2]);
});

test('block-scope struct, union and enum declarations; #if with an operand never evaluated; #line N and #line N "file" (__FILE__)', async () => {
  await sameAsGcc(`
#if 0 && (0/0)
#error no
#endif
#if 1 || (1/0)
int ok1 = 1;
#endif
#if 0 ? 1/0 : 2
int ok2 = 2;
#endif
#line 100
int ln = __LINE__;
#line 200 "gen/renamed.y"
int fl = sizeof(__FILE__);
int ln2 = __LINE__;
void test(void) {
  struct T { int a; int b; };
  struct T t = { 3, 4 };
  union V { int x; short y; } v;
  enum E { E0, E1 = 5 } e = E1;
  v.x = 7;
  PR(t.a + t.b); PR(v.y); PR(e); PR(ok1); PR(ok2); PR(ln);
  {
    struct T { char z; } u = { 2 };
    PR(sizeof(u)); PR(u.z);
  }
  PR(sizeof(struct T)); PR(fl); PR(ln2);
}`, [7, 7, 5, 1, 2, 100, 1, 2, 8, 14, 201]);
});

test('cmn_err, vcmn_err and snprintf format 64-bit values with all their bits, as gcc printf does for the standard subset', async () => {
  const body = `
static uint64_t x;
static unsigned long u;
void test(void) {
  x = (uint64_t)(int32_t)0x89abcdef;
  u = ~0UL / 3;
  P("%lx %lu %lx %lld %llu %ld\\n", x, u, 1UL << 63, (long long)-5, 1ULL << 63, -1L);
  P("[%5d|%-5d|%05d|%.3d|%x|%X|%o|%hd|%hhx|%c|%s|%.2s|%6s|%-6s|]\\n", -42, 42, -42, 7, 255, 255, 8, 70000, 0x1ff, 'A', "str", "str", "ab", "ab");
}`;
  const want = 'ffffffff89abcdef 6148914691236517205 8000000000000000 -5 9223372036854775808 -1\n[  -42|42   |-0042|007|ff|FF|10|4464|ff|A|str|st|    ab|ab    |]\n';
  if (GCC) {
    const dir = scratchDir('kctx-gcc-');
    writeFileSync(join(dir, 'p.c'), `#include <stdio.h>\n#include <stdint.h>\n#define P printf\n${body}\nint main(void) { test(); return 0; }\n`);
    execFileSync('gcc', ['-w', '-O0', '-o', join(dir, 'p'), join(dir, 'p.c')]);
    assert.equal(execFileSync(join(dir, 'p'), { encoding: 'utf8' }), want);
  }
  for (const how of ['cmn_err(CE_CONT, ', 'logv(']) {
    const r = await runC(`#include <sys/types.h>\n#include <sys/cmn_err.h>\n#include <sys/varargs.h>
static void logv(const char *fmt, ...) { va_list ap; va_start(ap, fmt); vcmn_err(CE_CONT, fmt, ap); va_end(ap); }
#define P(...) ${how}__VA_ARGS__)\n${body}\nvoid entry(void *arg) { test(); }\n`);
    assert.equal(r.outcome.kind, 'end');
    assert.equal(r.console.join(''), want, how);
  }
});

test("the kernel's own formats (illumos vsnprintf): no %i, #, z; %b bit names; * widths; %p without 0x; <null string>; snprintf's length and truncation", async () => {
  const r = await runC(`#include <sys/types.h>\n#include <sys/cmn_err.h>
void entry(void *arg) {
  char buf[64];
  cmn_err(CE_CONT, "[%i|%#x|%zu|%b|%*d|%.*d|%D|%-4s|]\\n", 5, "\\10\\1ONE\\2TWO\\3THREE", 4, 9, 3, 9, -3, "a");
  snprintf(buf, sizeof (buf), "%lu-%p-%p", 18446744073709551615UL, (void *)0, (void *)0x1234);
  cmn_err(CE_CONT, "%s\\n", buf);
  cmn_err(CE_CONT, "%d %s %s\\n", (int)snprintf(buf, 4, "%d", 123456), buf, (char *)0);
  sprintf(buf, "%3s|%-3d|", "x", 1);
  cmn_err(CE_CONT, "%s\\n", buf);
}\n`);
  assert.equal(r.outcome.kind, 'end');
  assert.deepEqual(r.console.join('').split('\n'), [
    '[|x|u|5<ONE,THREE>|   9|009|-3|a   |]',
    '18446744073709551615-0-1234',
    '6 123 <null string>',
    '  x|1  |',
    '',
  ]);
});

test('bit-fields share the bytes of the member before them unless they would straddle a unit of their type (SysV ABI, as gcc lays them out)', async () => {
  await sameAsGcc(`
struct A1 { char x; int b : 3; };
struct A2 { char x; int b : 30; };
struct A3 { short s; char c; int b : 9; char d; };
struct A4 { char x; long b : 60; char y; };
struct A5 { int a : 3; unsigned : 0; char c; int b : 2; };
struct A6 { char c[3]; int b : 9; };
void test(void) {
  struct A1 a1 = { 1, -2 }; struct A2 a2 = { 1, 5 }; struct A3 a3 = { 1, 2, 300, 4 }; struct A4 a4 = { 1, 77, 2 };
  struct A5 a5 = { 3, 9, 1 }; struct A6 a6 = { {1, 2, 3}, 200 };
  PR(sizeof(struct A1)); PR(sizeof(struct A2)); PR(sizeof(struct A3)); PR(sizeof(struct A4)); PR(sizeof(struct A5)); PR(sizeof(struct A6));
  PR(a1.b); PR(a2.b); PR(a3.b); PR(a3.d); PR(a4.b); PR(a4.y); PR(a5.c); PR(a5.b); PR(a6.b);
  PR(((unsigned char *)&a1)[1]); PR(((unsigned char *)&a3)[3]); PR(((unsigned char *)&a6)[3]);
}`, [4, 8, 8, 24, 8, 8, -2, 5, -212, 4, 77, 2, 9, 1, 200, 6, 0, 0]);
});

test('structs and unions by value: passed, returned, assigned, members of returned values, nested calls', async () => {
  await sameAsGcc(`
struct P { int x; long y; char c[3]; };
union W { int i; char b[8]; };
static struct P mk(int x, long y) { struct P p; p.x = x; p.y = y; p.c[0] = 'a'; p.c[1] = 'b'; p.c[2] = 0; return p; }
static long sum(struct P p, union W w) { p.x += 100; return p.x + p.y + w.i + p.c[1]; }
static struct P twice(struct P p) { p.x *= 2; p.y *= 2; return p; }
static union W wmk(int i) { union W w; w.i = i; return w; }
static struct P g = { 1, 2, "z" };
static struct P (*fp)(struct P) = twice;
void test(void) {
  struct P a = mk(3, 40), b;
  union W w = wmk(7);
  b = twice(a);
  PR(a.x); PR(a.y); PR(b.x); PR(b.y); PR(b.c[0]);
  PR(sum(a, w)); PR(a.x);
  PR(sum(twice(twice(g)), wmk(1)));
  PR(mk(5, 6).y); PR(twice(mk(7, 8)).x); PR(fp(g).y);
  PR(wmk(0x01020304).b[0]);
  b = a.x > 2 ? twice(a) : a; PR(b.x);
}`, [3, 40, 6, 80, 97, 248, 3, 113, 6, 14, 4, 4, 6]);
});

test('blocks that cannot be live together share stack space: the frame is no larger than gcc -O0 makes it', async () => {
  const fn = `
static int sink(char *p) { return p[0] + p[5999]; }
int test3(int k) {
  int r = 0;
  if (k > 0) { char a[6000]; a[0] = 1; a[5999] = 2; r += sink(a); }
  if (k > 1) { char b[6000]; b[0] = 3; b[5999] = 4; r += sink(b); }
  { char c[6000]; long x = k; c[0] = 5; c[5999] = (char)x; r += sink(c); }
  return r;
}
void test(void) { PR(test3(2)); PR(test3(0)); }`;
  // gcc -O0 -S gives test3 'subq $6032, %rsp' (gcc 12): three 6000-byte arrays in one.
  let gccFrame = 6032;
  if (GCC) {
    const dir = scratchDir('kctx-gcc-');
    writeFileSync(join(dir, 'f.c'), fn.replace(/PR\([^;]*;/g, ';'));
    const asm = execFileSync('gcc', ['-O0', '-S', '-o', '-', join(dir, 'f.c')], { encoding: 'utf8' });
    gccFrame = Number(/^test3:[\s\S]*?subq\s+\$(\d+), %rsp/m.exec(asm)![1]);
  }
  await sameAsGcc(fn, [17, 5]);
  const r = await runC(`#include <sys/types.h>\n#include <sys/cmn_err.h>\n#define PR(x) cmn_err(CE_CONT, "%lld\\n", (long long)(x))\n${fn}\nvoid entry(void *arg) { test(); }\n`);
  const f = r.m.sym.lookup('test3')!.cfunc as { frameSize: number };
  assert.ok(f.frameSize <= gccFrame, `kctx frame ${f.frameSize} bytes, gcc -O0 ${gccFrame}`);
  assert.ok(f.frameSize >= 6000);
});

/** C: rnd(), a 64-bit xorshift (the random operands of the 64-bit tests). */
const XORSHIFT64 = `static uint64_t rs = 0x9e3779b97f4a7c15ULL;
static uint64_t
rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (rs);
}
`;

test('64-bit integers: every operator, compound assignment, ++/--, comparison and conversion on edge values (the words of 2^31, 2^32, 2^53, 2^63) and 175 random pairs, through locals, pointers and globals', async () => {
  // Hashes of the results, one per operator group (values beyond 2^53: recorded as strings).
  await sameAsGcc(`
${XORSHIFT64}uint64_t gu;
int64_t gs;
static uint64_t
mix(uint64_t h, uint64_t v)
{
	return ((h ^ v) * 0x100000001b3ULL + (h >> 29));
}
static uint64_t edge[] = { 0, 1, 2, 0x7fffffffULL, 0x80000000ULL, 0xffffffffULL, 0x100000000ULL,
    0x1fffffffffffffULL, 0x20000000000000ULL, 0x7fffffffffffffffULL, 0x8000000000000000ULL,
    0xffffffffffffffffULL, 0xffe0000000000001ULL, 0xffe0000000000000ULL, 0xfffffffffffffffeULL };
void
test(void)
{
	uint64_t h[24];
	int i, k;
	for (k = 0; k < 24; k++)
		h[k] = k;
	for (i = 0; i < 400; i++) {
		uint64_t a = i < 225 ? edge[i % 15] : rnd();
		uint64_t b = i < 225 ? edge[i / 15] : rnd();
		int64_t sa = (int64_t)a, sb = (int64_t)b;
		uint64_t *pa = &gu;
		int64_t *ps = &gs;
		int n = (int)(b & 63);
		uint64_t t;
		int64_t st;
		*pa = a;
		*ps = sa;
		h[0] = mix(h[0], a + b);
		h[1] = mix(h[1], a - b);
		h[2] = mix(h[2], a * b);
		h[3] = mix(h[3], (a & b) ^ (a | ~b));
		h[4] = mix(h[4], a << n);
		h[5] = mix(h[5], a >> n);
		h[6] = mix(h[6], (uint64_t)(sa >> n));
		h[7] = mix(h[7], (uint64_t)(sa * sb + sa - sb));
		h[8] = mix(h[8], (uint64_t)(-sa) ^ -a);
		h[9] = mix(h[9], (a < b) + 2 * (a <= b) + 4 * (a > b) + 8 * (a >= b) + 16 * (a == b) + 32 * (a != b));
		h[10] = mix(h[10], (sa < sb) + 2 * (sa <= sb) + 4 * (sa > sb) + 8 * (sa >= sb) + 16 * (sa == sb) + 32 * (sa != sb));
		h[11] = mix(h[11], (uint64_t)(int32_t)a + (uint32_t)b + (uint64_t)(int16_t)a + (uint8_t)b);
		h[12] = mix(h[12], (uint64_t)(int64_t)(int32_t)(a >> 3) * (uint64_t)(uint32_t)(b >> 5));
		t = a; t++; h[13] = mix(h[13], t); t = a; t--; h[13] = mix(h[13], t);
		st = sa; h[14] = mix(h[14], (uint64_t)st++); h[14] = mix(h[14], (uint64_t)--st); h[14] = mix(h[14], (uint64_t)--st);
		t = a; t += b; t *= a; t -= b; t ^= a; t |= b >> 3; t &= ~(a >> 9); t <<= (n & 31); t >>= (n >> 1);
		h[15] = mix(h[15], t);
		st = sa; st += sb; st *= 3; st >>= (n & 15); st -= 7;
		h[16] = mix(h[16], (uint64_t)st);
		*pa += b; *pa <<= 1; (*ps) -= sb; (*ps)++; ++*pa;
		h[17] = mix(h[17], gu + (uint64_t)gs);
		h[18] = mix(h[18], b != 0 ? a / b + a % b : 0);
		h[19] = mix(h[19], sb != 0 && !(sa == (-0x7fffffffffffffffLL - 1) && sb == -1) ? (uint64_t)(sa / sb + sa % sb) : 1);
		h[20] = mix(h[20], (a << 32) + (a >> 32) + (a << 1) + (a >> 63) + (uint64_t)(sa >> 63) + (uint64_t)(sa << 63));
		h[21] = mix(h[21], (uint64_t)(a == 0xffffffffffffffffULL) + 2 * (uint64_t)(sa == -1) + 4 * (a > 0x1fffffffffffffULL) + 8 * (sa < -9007199254740991LL));
		t = a;
		t = b * 5; st = sa - 3; h[22] = mix(h[22], (t = t * a) + (uint64_t)(st = st + 1));
		h[23] = mix(h[23], (uint64_t)(int32_t)(sa + sb) + (uint64_t)(uint16_t)(a - b) + (uint64_t)(int8_t)(a * b));
	}
	for (k = 0; k < 24; k++)
		PR(h[k]);
}`, [
  '-7025295571486830189', '3517782046213878673', '3550072279225014272', '8745405166906105401',
  '-3738882007123864974', '2342832900873378009', '3920303829494023134', '5113842307609614332',
  '276849873548774882', '-5480764722693639952', '-2509034419900003625', '-7754751915741135479',
  '6048424737183779636', '3853158631658526019', '9064605217441480252', '886766480644495365',
  '-7497732243009885468', '4207821861745666792', '-1055537989075997264', '5271302469394788774',
  '-1448964837294109067', '5943201222341158285', '-2465227300404843067', '-6605355042272500427',
]);
});

test('64-bit integers in a function whose locals are JavaScript variables (the register form): + - with the carry and the borrow, * (signed, unsigned, by one- and two-word constants), shifts by 0, 1, 31, 32, 33, 63 (constant and variable), comparisons across each word\'s sign bit, conversions to and from 32 bits, ++/-- and compound assignments on locals, globals, struct members and through pointers, / and %', async () => {
  await sameAsGcc(`
#define MIX(h, v) ((h) = ((h) ^ (uint64_t)(v)) * 0x100000001b3ULL + ((h) >> 29))
${XORSHIFT64}static uint64_t
edge(int i)
{
	switch (i) {
	case 0: return (0);
	case 1: return (1);
	case 2: return (0x7fffffffULL);
	case 3: return (0x80000000ULL);
	case 4: return (0xffffffffULL);
	case 5: return (0x100000000ULL);
	case 6: return (0x1fffffffffffffULL);
	case 7: return (0x7fffffffffffffffULL);
	case 8: return (0x8000000000000000ULL);
	case 9: return (0xffffffff80000000ULL);
	case 10: return (0xfffffffffffffffeULL);
	case 11: return (0xffffffffffffffffULL);
	default: return (rnd());
	}
}
struct W { uint32_t pad; uint64_t u; int64_t s; };
struct W gw;
uint64_t gu;
int64_t gs;
void
test(void)
{
	uint64_t a, b, t, h0 = 0, h1 = 0, h2 = 0, h3 = 0, h4 = 0, h5 = 0, h6 = 0, h7 = 0, h8 = 0, h9 = 0;
	int64_t sa, sb, st;
	uint64_t *p = &gu;
	struct W *pw = &gw;
	uint32_t w;
	int32_t iw;
	int i, n, k;
	for (i = 0; i < 400; i++) {
		a = edge(i < 196 ? i % 14 : 12);
		b = edge(i < 196 ? i / 14 : 12);
		sa = (int64_t)a;
		sb = (int64_t)b;
		w = (uint32_t)b;
		iw = (int32_t)a;
		n = (int)(b & 63);
		/* + and - with the carry and the borrow between the words */
		MIX(h0, a + b); MIX(h0, a - b); MIX(h0, sa + sb); MIX(h0, sa - sb);
		MIX(h0, a + 0xffffffffULL); MIX(h0, a - 0x80000001ULL); MIX(h0, sa + -1); MIX(h0, 1 - sa);
		/* multiplication: unsigned, signed, by constants of one and two words, of 32-bit values widened */
		MIX(h1, a * b); MIX(h1, sa * sb); MIX(h1, a * 0x9e3779b97f4a7c15ULL); MIX(h1, a * 3);
		MIX(h1, sa * -7); MIX(h1, (uint64_t)(uint32_t)a * (uint32_t)b); MIX(h1, (int64_t)iw * (int32_t)w);
		MIX(h1, a * 0xffffffffULL);
		/* shifts by constants */
		MIX(h2, a << 0); MIX(h2, a << 1); MIX(h2, a << 31); MIX(h2, a << 32); MIX(h2, a << 33); MIX(h2, a << 63);
		MIX(h2, a >> 0); MIX(h2, a >> 1); MIX(h2, a >> 31); MIX(h2, a >> 32); MIX(h2, a >> 33); MIX(h2, a >> 63);
		MIX(h2, sa >> 0); MIX(h2, sa >> 1); MIX(h2, sa >> 31); MIX(h2, sa >> 32); MIX(h2, sa >> 33); MIX(h2, sa >> 63);
		MIX(h2, sa << 31); MIX(h2, sa << 32);
		/* shifts by a variable: 0, 31, 32, 33, 63 and b's low bits */
		for (k = 0; k < 64; k += (k == 0 ? 31 : k == 33 ? 30 : 1)) {
			MIX(h3, a << k); MIX(h3, a >> k); MIX(h3, sa >> k);
		}
		MIX(h3, a << n); MIX(h3, a >> n); MIX(h3, sa >> n);
		/* comparisons, across the sign bit of each word */
		MIX(h4, (a < b) + 2 * (a <= b) + 4 * (a > b) + 8 * (a >= b) + 16 * (a == b) + 32 * (a != b));
		MIX(h4, (sa < sb) + 2 * (sa <= sb) + 4 * (sa > sb) + 8 * (sa >= sb) + 16 * (sa == sb) + 32 * (sa != sb));
		MIX(h4, (a < 0x80000000ULL) + 2 * (a >= 0x8000000000000000ULL) + 4 * (sa < 0) + 8 * (sa > -1) + 16 * (a > 0xffffffff7fffffffULL) + 32 * (sa <= -2147483648LL));
		MIX(h4, (a < w) + 2 * (sa < iw) + 4 * (iw < sb) + 8 * (w == a));
		/* conversions between int, unsigned int, long and the narrower types */
		MIX(h5, (int32_t)a); MIX(h5, (uint32_t)a); MIX(h5, (int16_t)a); MIX(h5, (uint16_t)a); MIX(h5, (int8_t)a); MIX(h5, (uint8_t)a);
		MIX(h5, (uint64_t)(int32_t)a); MIX(h5, (int64_t)(uint32_t)a); MIX(h5, iw + sa); MIX(h5, w + a); MIX(h5, w * sb);
		MIX(h5, iw - w); MIX(h5, (long)iw * 3 + (unsigned long)w);
		/* ++, -- and compound assignments on locals */
		t = a; t++; MIX(h6, t); t = a; t--; MIX(h6, t); t = a; MIX(h6, ++t); MIX(h6, t--); MIX(h6, --t);
		st = sa; st++; MIX(h6, st); MIX(h6, st--); MIX(h6, --st);
		t = a; t += b; t *= a; t -= b; t ^= a; t |= b >> 3; t &= ~(a >> 9); t <<= (n & 31); t >>= (n >> 1);
		MIX(h6, t);
		st = sa; st += sb; st *= 3; st >>= (n & 15); st -= 7; st += iw; st -= w;
		MIX(h6, st);
		/* globals, struct members and pointers */
		gu = a; gs = sa; pw->u = b; pw->s = sb;
		gu++; gs--; gw.u += a; gw.s -= sa; *p *= 5; (*p)--; ++pw->u; pw->s <<= 3; gw.u >>= 1; gs += gu;
		MIX(h7, gu); MIX(h7, gs); MIX(h7, gw.u); MIX(h7, gw.s); MIX(h7, *p + pw->u);
		/* unary operators and truth values */
		MIX(h8, -a); MIX(h8, -sa); MIX(h8, ~a); MIX(h8, !a); MIX(h8, a && b); MIX(h8, a || sb); MIX(h8, a ? 1 : 2);
		/* division and remainder by constants and by variables */
		MIX(h9, a / 10); MIX(h9, a % 10); MIX(h9, sa / 7); MIX(h9, sa % 7); MIX(h9, a / 0x100000000ULL); MIX(h9, a % 0x100000000ULL);
		MIX(h9, sa / -3); MIX(h9, sa % -3); MIX(h9, a / 0x123456789ULL);
		MIX(h9, b != 0 ? a / b + a % b : 0);
		MIX(h9, sb != 0 && !(sa == (-0x7fffffffffffffffLL - 1) && sb == -1) ? (uint64_t)(sa / sb + sa % sb) : 1);
	}
	PR(h0); PR(h1); PR(h2); PR(h3); PR(h4); PR(h5); PR(h6); PR(h7); PR(h8); PR(h9);
}
`, [
  '4969585418272852863', '-7236695601512440428', '7637523397542672333', '692337618927613898', '-378043121308162348',
  '-73222457794791305', '-6292164073233840612', '3666377187123135188', '7651583446227887240', '7888459053930726647',
], (m) => assert.ok(isRegisterForm((m.sym.lookup('test')!.cfunc as { run: StepFn }).run), 'test() keeps its locals in JavaScript variables'));
});

test('a conditional with constant arms and a condition that is not constant is not folded (it was, to its second arm)', async () => {
  await sameAsGcc(`
void test(void) {
  uint64_t a = 0xffffffff80000001ULL;
  int k = 31, x = 5, j = k;
  j += (k == 0 ? 31 : k == 33 ? 30 : 1);
  PR(a ? 1 : 2); PR(x ? 1 : 2); PR(!x ? 1 : 2); PR(j); PR(k == 0 ? 31 : k == 33 ? 30 : 1); PR(1 ? 3 : 4);
}`, [1, 1, 2, 32, 1, 3]);
});

test('compound assignment to an 8-, 16- or 32-bit lvalue with a 64-bit operand (the lvalue widened, the result narrowed)', async () => {
  await sameAsGcc(`
void test(void) {
  uint64_t big = 0x100000003ULL;
  uint32_t x = 5;
  unsigned char c = 250;
  uint16_t s = 65535;
  int32_t i = -1;
  unsigned int u = 0xfffffff0u;
  x += big; c += big; s += big; i ^= big; u -= big;
  PR(x); PR(c); PR(s); PR(i); PR(u);
}`, [8, 253, 2, -4, 4294967277]);
});

test('64-bit values just above -2^53 read back from memory compare equal to the same value computed (one form per value)', async () => {
  await sameAsGcc(`
int64_t g;
void test(void) {
  volatile int64_t v = -9007199254740991LL + 5;
  int64_t a[2];
  int64_t *p = &a[1];
  g = -9007199254740991LL + 4294967294LL;
  *p = -9007199254740991LL;
  PR(v == -9007199254740986LL);
  PR(g == -9007194959773697LL);
  PR(*p == -9007199254740991LL);
  PR(v - 1 == -9007199254740987LL);
  switch (v) { case -9007199254740986LL: PR(1); break; default: PR(0); }
  PR(v);
}`, [1, 1, 1, 1, 1, '-9007199254740986']);
});

test('GNU C of kernel headers: statement expressions (a max_t-style macro with typeof, calls inside, the value of the last statement), typeof of an expression and of a type, __builtin_offsetof, _Static_assert, the bit builtins (clz, ctz, popcount, parity, ffs, bswap), __builtin_constant_p', async () => {
  await sameAsGcc(`
struct vcpu { int id; long flags; char name[8]; };
#define container_of(m, s, name) ((s *)((char *)(m) - __builtin_offsetof(s, name)))
#define max_t(a, b) ({ typeof(a) _a = (a); typeof(b) _b = (b); _a > _b ? _a : _b; })
static int calls;
static int bump(void) { return ++calls; }
_Static_assert(sizeof (struct vcpu) == 24, "vcpu size");
void test(void) {
  struct vcpu v = { 3, -5, "vc" };
  long *fp = &v.flags;
  typeof(v) w = v;
  __typeof__(v.flags + 1) big = 1L << 40;
  typeof(int *) ip = &v.id;
  typeof(((struct vcpu *)0)->name) nm;
  int i = ({ int t = 4; t * 2; });
  int j = max_t(bump(), 7) + max_t(10, bump());
  unsigned long u = 0x00f0000000000000UL;
  PR(container_of(fp, struct vcpu, flags)->id); PR(w.flags); PR(big); PR(*ip); PR(sizeof (nm)); PR(sizeof (typeof(big)));
  PR(i); PR(j); PR(calls);
  PR(({ calls += 10; calls; }));
  PR(__builtin_clz(1)); PR(__builtin_clz(0x80000000u)); PR(__builtin_clzl(u)); PR(__builtin_clzll(1ULL));
  PR(__builtin_ctz(8)); PR(__builtin_ctzl(u)); PR(__builtin_popcount(0xff00ff)); PR(__builtin_popcountl(~0UL));
  PR(__builtin_parity(7)); PR(__builtin_ffs(0)); PR(__builtin_ffs(0x100)); PR(__builtin_ffsl(1L << 40));
  PR(__builtin_bswap16(0x1234)); PR(__builtin_bswap32(0x12345678)); PR(__builtin_bswap64(0x0102030405060708ULL));
  PR(__builtin_bswap64(0xff)); PR(__builtin_constant_p(3 * 4)); PR(__builtin_constant_p(calls)); PR(__builtin_expect(calls, 0));
  PR(__builtin_clz(i));
}
`, [3, -5, 1099511627776, 3, 8, 8, 8, 17, 2, 12, 31, 0, 8, 63, 3, 52, 16, 64, 1, 0, 9, 41, 13330, 2018915346, '578437695752307201', '-72057594037927936', 1, 0, 12, 28]);
});

test('__attribute__((packed)) layouts as gcc: before the tag, after the body, nested in an unpacked struct, bit-fields across units; reads and writes of the unaligned members', async () => {
  await sameAsGcc(`
struct __attribute__((packed)) hdr { char tag; int len; short kind; long when; };
struct rec { char a; struct hdr h; int b; } __attribute__((__packed__));
typedef struct __attribute__((packed)) bits { unsigned char f : 3; unsigned int g : 7; unsigned int h : 28; char c; } bits_t;
struct outer { char x; struct hdr h; };
void test(void) {
  struct rec r;
  bits_t bt;
  char *base = (char *)&r;
  PR(sizeof (struct hdr)); PR(__alignof__(struct hdr)); PR(offsetof(struct hdr, len)); PR(offsetof(struct hdr, kind)); PR(offsetof(struct hdr, when));
  PR(sizeof (struct rec)); PR(offsetof(struct rec, h)); PR(offsetof(struct rec, b));
  PR(sizeof (bits_t)); PR(offsetof(bits_t, c)); PR(sizeof (struct outer)); PR(offsetof(struct outer, h));
  r.h.len = 0x01020304; r.b = -7; r.h.when = 1L << 40;
  PR(base[2]); PR(base[5]); PR(r.b); PR(r.h.when);
  bt.f = 5; bt.g = 100; bt.h = 0xabcdef1; bt.c = 9;
  PR(bt.f); PR(bt.g); PR(bt.h); PR(bt.c);
}
`, [15, 1, 1, 5, 7, 20, 1, 16, 6, 5, 16, 1, 4, 1, -7, 1099511627776, 5, 100, 180150001, 9]);
});

test('a switch whose body has no braces (c-testsuite shape: its labels and one statement); structs and a union passed through ... and read back with va_arg', async () => {
  await sameAsGcc(`
#include <stdarg.h>
struct S { int a; char b; long c; };
struct T { char x[3]; };
union U { int i; long l; };
struct Big { long v[5]; };
static int f(int x) {
  switch (x) case 1: return 10;
  switch (x) case 2: case 3: x += 100;
  switch (x) default: x += 1000;
  switch (x) x = 0;
  return x;
}
static long sum(int n, ...) {
  va_list ap;
  long r = 0;
  int i;
  va_start(ap, n);
  for (i = 0; i < n; i++) {
    struct S s = va_arg(ap, struct S);
    r = r * 7 + s.a + s.b + s.c;
    r += va_arg(ap, int);
    struct T t = va_arg(ap, struct T);
    r = r * 3 + t.x[0] + t.x[2];
    r += va_arg(ap, union U).l;
    struct Big b = va_arg(ap, struct Big);
    r += b.v[0] + b.v[4];
  }
  va_end(ap);
  return r;
}
void test(void) {
  struct S s1 = { 1, 2, 3000000000L }, s2 = { -4, 5, -6 };
  struct T t1 = { { 7, 8, 9 } };
  union U u;
  struct Big big = { { 11, 12, 13, 14, 15 } };
  u.l = 1L << 40;
  PR(f(1)); PR(f(2)); PR(f(3)); PR(f(7));
  PR(sum(2, s1, 42, t1, u, big, s2, -42, t1, u, big));
  PR(sum(1, s2, 1, t1, u, big));
}`, [10, 1102, 1103, 1007, 24378255814690, 1099511627806]);
});

test('GNU C left-overs: __builtin_types_compatible_p (typedefs, char/signed char, long/long long, enums and their integer type, arrays, structs, function pointers), a statement expression whose value is a struct or union, typeof of a type with a function-pointer abstract declarator', async () => {
  await sameAsGcc(`
typedef unsigned int myuint;
typedef int (*fnp_t)(void);
typedef struct pt { int x, y; } pt_t;
struct other { int x, y; };
enum pos { P0, P1 };
enum neg { N0 = -1, N1 };
union uv { int i; char c[8]; };
static int forty(void) { return 40; }
static int fortytwo(void) { return 42; }
#define TC(a, b) __builtin_types_compatible_p(a, b)
#define MAKE_PT(a, b) ({ pt_t _p; _p.x = (a); _p.y = (b); _p; })
void test(void) {
  PR(TC(int, int)); PR(TC(int, long)); PR(TC(long, long long)); PR(TC(unsigned int, myuint));
  PR(TC(char, signed char)); PR(TC(char, unsigned char)); PR(TC(signed char, int8_t));
  PR(TC(int *, int *)); PR(TC(int *, long *)); PR(TC(int[4], int[])); PR(TC(int[4], int[5]));
  PR(TC(struct pt, pt_t)); PR(TC(struct pt, struct other)); PR(TC(pt_t *, struct pt *));
  PR(TC(enum pos, unsigned int)); PR(TC(enum pos, int)); PR(TC(enum neg, int)); PR(TC(enum pos, enum neg));
  PR(TC(fnp_t, int (*)(void))); PR(TC(fnp_t, int (*)(int))); PR(TC(long, int64_t)); PR(TC(uint64_t, unsigned long));
  PR(TC(const int, int)); PR(TC(void *, char *)); PR(TC(union uv, union uv));
  PR(TC(typeof(forty), int (void)));
  {
    int v = 3;
    PR(TC(typeof(v), int)); PR(TC(typeof(&v), int *)); PR(TC(typeof(v) *, long *));
  }
  /* A statement expression whose value is a struct or union. */
  {
    pt_t a = MAKE_PT(3, 4);
    pt_t b = MAKE_PT(a.y * 10, a.x + 1);
    union uv u = ({ union uv t; t.i = 0x41424344; t; });
    PR(a.x); PR(a.y); PR(b.x); PR(b.y); PR(u.c[0]); PR(u.c[3]);
    PR(MAKE_PT(7, 8).y); PR(({ pt_t q = { 5, 6 }; q; }).x + ({ pt_t q = { 5, 6 }; q; }).y);
    pt_t c; c = ({ pt_t r = b; r.x++; r; }); PR(c.x); PR(b.x);
  }
  /* typeof of a type with a function-pointer abstract declarator. */
  {
    typeof(int (*)(void)) f = fortytwo;
    __typeof__(int (*)(void)) tab[2] = { forty, fortytwo };
    typeof(int (*[3])(void)) arr = { fortytwo, forty, fortytwo };
    typeof(fnp_t) g = forty;
    PR(f()); PR(tab[0]() + tab[1]()); PR(sizeof(typeof(int (*)(void)))); PR(sizeof(arr)); PR(arr[1]()); PR(g());
    PR(sizeof(typeof(char (*)[7]))); PR(TC(typeof(int (*)(void)), fnp_t));
  }
}
`, [1, 0, 0, 1, 0, 0, 1, 1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 0, 3, 4, 40, 4, 68, 65, 8, 11, 41, 40, 42, 82, 8, 24, 40, 40, 8, 1]);
});

test('enumerated types compute as gcc\'s compatible integer type (unsigned int without a negative enumerator, long beyond int); constants are int, or the enumeration\'s type beyond int', async () => {
  await sameAsGcc(`
enum e { A, B2 = 2, C = 7 };
enum n { M = -1, N0 = 0, N5 = 5 };
enum big { BIG = 0x80000000 };
enum huge { H = 0x100000000 };
enum mixed { MX = -1, MY = 0x80000000 };
struct holds { char c; enum huge h; };
typedef long long i64;
void test(void) {
  enum e x = A, y = C;
  enum n z = N5;
  enum big bg = BIG;
  enum { P0, P1 } anon = P0;
  PR(x - 1 < 0); PR(x > -1); PR((long)(x - 2)); PR(y / -2); PR(-x); PR((long)-y);
  PR(y >> 1); PR((long)(x - 1) >> 1); PR(y < -1); PR((uint64_t)(x - 1)); PR(anon - 1 < 0);
  PR(z - 6 < 0); PR(z > -1); PR((long)(z - 6)); PR(z / -2);
  PR(sizeof(enum e)); PR(sizeof(x)); PR(sizeof(A)); PR(sizeof(x - 1)); PR(sizeof(x + 1L));
  PR(A - 1 < 0); PR((long)(A - 1));
  PR(sizeof(BIG)); PR(BIG > 0); PR((long)BIG); PR(sizeof(enum big)); PR(bg > 0); PR((long)bg); PR(BIG - 0x80000001 < 0);
  PR(sizeof(H)); PR(sizeof(enum huge)); PR((long)H); PR(sizeof(struct holds)); PR(offsetof(struct holds, h));
  PR(sizeof(MY)); PR(sizeof(enum mixed)); PR((long)MY); PR(MY > 0);
  { enum mixed mv = MX; PR(mv < 0); PR(sizeof(mv)); }
  { i64 q = -1; unsigned long long u = 1; PR(q < u); }
  { enum e s = C; long l = s; PR(l); s = (enum e)-1; PR((long)s); PR(s); }
  switch ((long)(x - 1)) { case -1: PR(-1); break; case 0xffffffff: PR(1); break; default: PR(0); }
  PR(__builtin_types_compatible_p(__typeof__(x - 1), unsigned int));
  PR(__builtin_types_compatible_p(__typeof__(z - 1), int));
  PR(__builtin_types_compatible_p(__typeof__(A), int));
  PR(__builtin_types_compatible_p(__typeof__(BIG), unsigned int));
  PR(__builtin_types_compatible_p(__typeof__(H), long));
  PR(__builtin_types_compatible_p(__typeof__(H), unsigned long));
  PR(__builtin_types_compatible_p(__typeof__(MY), long));
  PR(__builtin_types_compatible_p(enum big, unsigned int));
  PR(__builtin_types_compatible_p(enum huge, unsigned long));
  PR(__builtin_types_compatible_p(enum mixed, long));
  { i64 q = 1; PR(__builtin_types_compatible_p(__typeof__(1L + q), long long)); PR(__builtin_types_compatible_p(__typeof__(q + 1UL), unsigned long long)); }
}`, [0, 0, 4294967294, 0, 0, 4294967289, 3, 2147483647, 1, 4294967295, 0, 1, 1, -1, -2, 4, 4, 4, 4, 8, 1, -1, 4, 1, 2147483648, 4, 1, 2147483648, 0, 8, 8, 4294967296, 16, 8, 8, 8, 2147483648, 1, 1, 8, 0, 7, 4294967295, 4294967295, 1,
    1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1]);
});

test('integer constants: the type and value of decimal, octal, hex and binary constants at the edges of int, unsigned int, long and 2^53, with and without suffixes', async () => {
  await sameAsGcc(`
#define T(x) PR(sizeof(x)); PR((x) * 0 - 1 < 0); PR(x)
void test(void) {
  T(2147483647); T(2147483648); T(4294967295); T(4294967296);
  T(0x7fffffff); T(0x80000000); T(0xffffffff); T(0x100000000);
  T(017777777777); T(020000000000); T(037777777777); T(0777777777777777777);
  T(0xFFFFFFFFFFFFF); T(0x1FFFFFFFFFFFFF); T(999999999999999); T(9007199254740993);
  T(0x7FFFFFFFL); T(0xFFFFFFFFL); T(4294967295U); T(0x8000000000000000);
  T(18446744073709551615U); T(0b1111); T(0b10000000000000000000000000000000); T(0xF2L); T(1UL); T(0x7A9B8C1DL); T(0xFFFFFFFFFFFFFLL);
}`, [4, 1, 2147483647, 8, 1, 2147483648, 8, 1, 4294967295, 8, 1, 4294967296, 4, 1, 2147483647, 4, 0, 2147483648, 4, 0, 4294967295, 8, 1, 4294967296,
    4, 1, 2147483647, 4, 0, 2147483648, 4, 0, 4294967295, 8, 1, '18014398509481983', 8, 1, 4503599627370495, 8, 1, 9007199254740991, 8, 1, 999999999999999,
    8, 1, '9007199254740993', 8, 1, 2147483647, 8, 1, 4294967295, 4, 0, 4294967295, 8, 0, '-9223372036854775808', 8, 0, -1, 4, 1, 15, 4, 0, 2147483648,
    8, 1, 242, 8, 0, 1, 8, 1, 2057014301, 8, 1, 4503599627370495]);
});

test('a cast before a parenthesised operand with a postfix chain applies to the whole chain: (T)(e)->f, (T)(p)[i], (T)(f)(x), (T)(x)++, (T)(U)(e) (tree-sitter reads (T)(e) as a call)', async () => {
  await sameAsGcc(`
typedef unsigned char uc_t;
typedef short sh_t;
typedef long lg_t;
typedef unsigned int ui_t;
struct tv { long sec; long usec; };
struct tv32 { int sec; int usec; };
struct node { struct node *next; int val; };
static int twice(int x) { return 2 * x; }
void test(void) {
  struct tv t = { 0x123456789aL, 300 };
  struct tv32 t32;
  struct node b = { 0, 0x1ff }, a = { &b, 7 };
  int arr[3] = { 0x101, 0x202, 0x303 };
  int *p = arr;
  int x = 0x1fe;
  long big = 0x7fffffffffL;
  (&t32)->sec = (int)(&t)->sec;
  PR(t32.sec);
  PR((uc_t)(&a)->next->val);
  PR((uc_t)(p)[2]);
  PR((sh_t)(twice)(0x4000));
  PR((uc_t)(x)++); PR(x);
  PR((ui_t)(lg_t)(big));
  PR((uc_t)(lg_t)((&b)->val));
  PR((uc_t)(&a)->val + 1);
}
`, [0x3456789a, 0xff, 3, -32768, 0xfe, 0x1ff, 0xffffffff, 0xff, 8]);
});

test('several bit-fields in one declaration, an unnamed one among them, and a plain member after them (uchar_t a : 6, : 1, b : 1, c;): every one is a member, laid out as gcc does', async () => {
  await sameAsGcc(`
struct flags { unsigned char a:1, b:1, c:1, d:1, e:1, f:1, g:1, h:1; unsigned char i:4, j:4; };
struct page { unsigned char code:6, :1, ps:1; int x:3, y:30, z:31; };
struct mixed { unsigned int lo:4, hi:4, whole, top:3; short s; };
struct flags fl = { 1, 0, 1, 0, 1, 1, 0, 1, 9, 3 };
struct page pg = { 5, 1, 2, 3, 4 };
struct mixed mx = { 3, 12, 100000, 5, -2 };
void test(void) {
  PR(sizeof (struct flags)); PR(fl.f); PR(fl.h); PR(fl.j); PR(*(unsigned char *)&fl);
  PR(sizeof (struct page)); PR(pg.code); PR(pg.ps); PR(pg.x); PR(pg.y); PR(pg.z); PR(*(unsigned char *)&pg);
  PR(sizeof (struct mixed)); PR(mx.hi); PR(mx.whole); PR(mx.top); PR(mx.s); PR(__builtin_offsetof(struct mixed, s));
  pg.ps = 0; pg.code = 63; fl.j = 15;
  PR(*(unsigned char *)&pg); PR(((unsigned char *)&fl)[1]);
}
`, [2, 1, 1, 3, 181, 12, 5, 1, 2, 3, 4, 133, 12, 12, 100000, 5, -2, 10, 63, 249]);
});

test('a call where only a declaration without a prototype is in scope (static void f(); defined later with parameters): no count check, default promotions, as gcc compiles it', async () => {
  await sameAsGcc(`
static void report();
static long add();
static int total;
static void use(void) { report("a", 1); report("b", 2, 3, 4, 5); }
static void report(const char *what, int a, int b, int c, int d) { total += a * (what[0] == 'b' ? 10 : 1); }
static long add(int a, long b, int c) { return a + b + c; }
void test(void) {
  char ch = 7; short sh = -3;
  use();
  PR(total); PR(add(ch, 1L << 40, sh));
}
`, [21, 1099511627780]);
});

test('a parenthesised variable before &&, &, *, - that tree-sitter reads as a cast ((c) && (c)->ops->op != 0): grouped as C does', async () => {
  await sameAsGcc(`
struct ops { int (*fini)(int); int n; };
struct obj { struct ops *ops; int v; };
static int f1(int x) { return x + 1; }
static struct ops o1 = { f1, 3 }, o0 = { 0, 4 };
static struct obj a = { &o1, 5 }, b = { &o0, 6 };
#define PRESENT(c, op) ((c) && (c)->ops->op != 0)
void test(void) {
  struct obj *c = &a, *z = 0, *d = &b;
  int x = 12, m = 10;
  PR(PRESENT(c, fini)); PR(PRESENT(d, fini)); PR(PRESENT(z, fini));
  if ((c) && (c)->ops->n != 3) PR(100); else PR(200);
  PR((x) && (d)->v == 6 || 0); PR((x) && (d)->ops->n * 2 - 8 == 0);
  PR((m) & (d)->v << 1 | 1); PR((m) * (d)->v + 2); PR((x) - (d)->v * 3 < 0);
}
`, [1, 0, 0, 200, 1, 1, 9, 62, 1]);
});

test('a parenthesised call before a binary operator, (f()) && x, (f()) + 1, (f(a, b)) & m, is a call (tree-sitter reads a cast to a function type): illumos <c2/audit.h> AU_AUDITING() and <sys/sysmacros.h> roundup(f(), y)', async () => {
  await sameAsGcc(`
static int calls;
static int g(void) { calls++; return 3; }
static int h2(int a, int b) { return a * 10 + b; }
#define ROUNDUP(x, y)	((((x)+((y)-1))/(y))*(y))
#define AUDITING()	(g())
void test(void) {
  int a = 1, b = 2, s = 5;
  PR(ROUNDUP(g(), 8)); PR(AUDITING() && s != 0); PR((g()) - 1); PR((g()) * s); PR((h2(a, b)) + 1); PR((h2(a, b)) & 7); PR(calls);
}
`, [8, 1, 2, 15, 13, 4, 4]);
});

test('a cast before a unary operator that tree-sitter reads as a parenthesised type name or a call, (caddr_t)&x after a -, (major_t)(int)*p, is a cast: illumos <inet/mib2.h> LEGACY_MIB_SIZE() in ip.c and <sys/fs/hsfs_rrip.h> RRIP_MAJOR()', async () => {
  await sameAsGcc(`
typedef char *kc_addr_t;
typedef int kmaj_t;
typedef short kshort_t;
struct mib { int a; int b; long c; };
struct outer { int z; struct mib m; } ou;
#define PTRDIFF(s, e) (kc_addr_t)e - (kc_addr_t)s
#define LEGACY(s) PTRDIFF(s, &(s)->c)
#define BOTH(x) (int)*((int *)x)
#define MAJOR(x) BOTH(&((unsigned char *)x)[4])
void test(void) {
  unsigned char buf[8] = { 1, 0, 0, 0, 0x12, 0x34, 0, 0 };
  unsigned char *pn = buf;
  struct outer *ip = &ou;
  int k = 5, *kp = &k;
  PR(LEGACY(&ip->m)); PR(PTRDIFF(&ip->m, &(&ip->m)->b)); PR((kmaj_t)MAJOR(pn));
  PR(7 - (kmaj_t)-3 * 2); PR(1 + (kshort_t)(int)*kp * 3); PR((long)(kshort_t)-70000 + 1);
}
`, [8, 4, 13330, 13, 16, -4463]);
});

test('a postfix ++/-- under a unary !, -, ~, + applies to the operand first, !x++ is !(x++) (tree-sitter-c reads (!x)++): illumos mc-amd mcamd_drv.c, if (rc == CMI_SUCCESS && !mc_sw_scrub_disabled++)', async () => {
  await sameAsGcc(`
static int dis;
struct N { int n; } nn = { 5 };
void test(void) {
  int rc = 0, x = 3, a[2] = { 7, -1 }, k = 0;
  struct N *p = &nn;
  if (rc == 0 && !dis++) PR(100);
  if (rc == 0 && !dis++) PR(200);
  PR(dis); PR(-x--); PR(x); PR(~a[1]++); PR(a[1]); PR(-p->n++); PR(p->n); PR(!-k++); PR(k); PR(+x++ * 2); PR(x);
}
`, [100, 2, -3, 2, 0, 0, -5, 6, 1, 1, 4, 3]);
});

test('GNU named variadic macro parameters, args...: the name stands for the variable arguments, with # and the GNU , ## args comma (illumos <sys/sata/adapters/ahci/ahcivar.h> AHCIDBG(flag, ahci_ctlp, fmt, args ...))', async () => {
  await sameAsGcc(`
static int one(int a) { return a + 40; }
static int add3(int a, int b, int c) { return a * 100 + b * 10 + c; }
#define FIRST(x, rest...) (x)
#define CALL(f, args ...) f(args)
#define ONE(f, args...) f(1, ## args)
#define NAME(args...) #args
#define TWO(f, ...) f(2, ## __VA_ARGS__)
void test(void) {
  PR(FIRST(4, 5, 6)); PR(CALL(add3, 1, 2, 3)); PR(ONE(one)); PR(ONE(add3, 2, 3)); PR(sizeof (NAME(a, b))); PR(TWO(one)); PR(TWO(add3, 0, 9));
}
`, [4, 123, 41, 123, 5, 42, 209]);
});

test('true and false are names before C23: a variable called true (illumos nfs_xdr.c bool_t true = TRUE); a parenthesised parameter name, bool_t (compare)(entry_t, void *) (illumos nfs4_db.c), which tree-sitter reads as a parameter list', async () => {
  await sameAsGcc(`
#undef true
#undef false
typedef int bool_t;
static int set(bool_t *p) { *p = 7; return 1; }
static int gt(int a, void *b) { return a > *(int *)b; }
static int run(int x, bool_t (compare)(int, void *), int y) { return compare(x, &y) * 10 + x; }
void test(void) {
  bool_t true = (1), false = 0;
  PR(set(&true)); PR(true); PR(false + true); PR(run(5, gt, 3)); PR(run(2, gt, 3));
}
`, [1, 7, 7, 15, 2]);
});

test('old-style (K&R) function definitions: the identifier list, then declarations (pointers, register, several declarators in one, a name left int), as older illumos code writes them (c2/audit_path.c)', async () => {
  await sameAsGcc(`
typedef struct tok { int v; struct tok *next; } token_t;
token_t *
append(chain, m)
	token_t *chain;
	token_t *m;
{
	m->next = chain;
	return (m);
}
static int
sum3(a, b, c)
	register int a, *b;
	char c;
{
	return (a + *b + c);
}
static long untyped(x, y) long y; { return x * 100 + y; }
static unsigned char low(u) unsigned int u; { return u; }
void test(void) {
  token_t a = { 1, 0 }, b = { 2, 0 };
  int k = 4;
  PR(append(&a, &b)->next->v); PR(sum3(1, &k, 'A')); PR(untyped(3, 4L)); PR(low(0x1ff));
}
`, [1, 70, 304, 255]);
});

test('offsetof as headers define it, &((T *)0)->m, is a constant expression: array sizes, static assertions (CTASSERT), initialisers', async () => {
  await sameAsGcc(`
typedef struct hdr { int a; char b[6]; struct { short x, y; } in; long z; } hdr_t;
#define my_offsetof(s, m)	((size_t)(&(((s *)0)->m)))
typedef char assert_a[my_offsetof(hdr_t, a) == 0 ? 1 : -1];
typedef char assert_z[my_offsetof(hdr_t, z) == 16 ? 1 : -1];
static char buf[my_offsetof(hdr_t, in) + 1];
static unsigned long offs[] = { my_offsetof(hdr_t, b), my_offsetof(hdr_t, in.y) };
void test(void) {
  PR(sizeof (buf)); PR(offs[0]); PR(offs[1]); PR(sizeof (assert_a) + sizeof (assert_z));
}
`, [11, 4, 12, 2]);
});

test('offsetof through an array element, &((T *)0)->m[i].f[j] (<sys/dirent.h> DIRENT64_RECLEN: offsetof(dirent64_t, d_name[0])), is a constant expression too', async () => {
  await sameAsGcc(`
typedef struct d64 { unsigned long long ino; long long off; unsigned short reclen; char name[1]; } d64_t;
struct w { int a; struct { int b[4]; } in[3]; };
#define my_offsetof(s, m)	((size_t)(&(((s *)0)->m)))
#define RECLEN(namelen)	((my_offsetof(d64_t, name[0]) + 1 + (namelen) + 7) & ~ 7)
static int g[my_offsetof(struct w, in[2].b[1])];
static unsigned long offs[] = { my_offsetof(struct w, in[1]), my_offsetof(struct w, in[2].b[3UL]) };
void test(void) {
  unsigned long long bp[RECLEN(16) / sizeof (unsigned long long)];
  PR(sizeof (bp)); PR(sizeof (g)); PR(offs[0]); PR(offs[1]);
}
`, [40, 160, 20, 48]);
});

test('a backslash-newline inside a string or character literal is a line splice: the literal goes on on the next line (a cmn_err format split in the source)', async () => {
  await sameAsGcc(`
static const char *s = "ab\\
cd";
static const char *q = "x\\"\\
y\\\\";
void test(void) {
  PR(sizeof ("12\\
345")); PR(s[2]); PR(q[1]); PR(q[2]); PR(q[3]); PR(q[4]);
}
`, [6, 99, 34, 121, 92, 0]);
});

test('__builtin_va_arg(ap, T) with a bare type name, as illumos\' <sys/va_impl.h> writes va_arg: a typedef, unsigned long, char *, a struct pointer', async () => {
  await sameAsGcc(`
typedef struct pt { int x; } pt_t;
static long sum(int n, ...) {
  __builtin_va_list ap;
  long s = 0;
  __builtin_va_start(ap, n);
  s += __builtin_va_arg(ap, uint32_t);
  s += __builtin_va_arg(ap, unsigned long);
  s += *__builtin_va_arg(ap, char *);
  s += __builtin_va_arg(ap, pt_t *)->x;
  s += __builtin_va_arg(ap, struct pt *)->x;
  __builtin_va_end(ap);
  return s;
}
void test(void) { pt_t p = { 1000 }; PR(sum(5, 7u, 1UL << 40, "A", &p, &p)); }
`, [1099511629848]);
});

test('a scalar initialised in braces, in a function as at file scope: uint64_t asq = { 0 }; (C11 6.7.9 p11)', async () => {
  await sameAsGcc(`
typedef unsigned long asq_t;
static asq_t g = { 9 };
void test(void) {
  asq_t asq = { 0x123456789aUL };
  int *p = { 0 };
  char c = { { 'x' } };
  PR(asq); PR(p == 0); PR(c); PR(g);
}
`, [0x123456789a, 1, 120, 9]);
});
