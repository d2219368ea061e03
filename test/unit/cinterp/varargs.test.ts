/**
 * Variable arguments: functions defined with `...`, va_start/va_arg/va_copy/va_end over the
 * variable-argument words in the callee's frame, the kernel's v* functions (vcmn_err, vsnprintf,
 * vsprintf, vpanic), calls through function pointers, a va_list passed on; in generated code and
 * in closures. Reading past the passed words panics; what is not supported is a load error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Machine, StopPoint } from '../../../kernel-sim/machine/machine';
import { ScenarioError } from '../../../kernel-sim/scenario';
import { kernelFor, runC, g, HEADERS, type RunResult } from './helpers';

const SRC = `${HEADERS}#include <sys/varargs.h>

typedef struct xx {
	int		xx_id;
	const char	*xx_name;
} xx_t;

typedef enum { K_INT, K_LONG, K_PTR, K_UINT, K_U64, K_SIZE, K_UPTR, K_STR, K_ENUM } kind_t;

static void xx_log(xx_t *, int, const char *, ...) __KPRINTFLIKE(3);
static long sum(int, ...);

xx_t gxx = { 7, "xx0" };
long gv = 1000000000000L;
long r_sum, r_sum_fp, r_promo, r_copy, r_nested;
int r_c, r_s, r_uc, r_us, r_b, r_cu;
unsigned int r_cu2;
size_t r_len, r_len_big, r_len_zero;
char buf[20];
char big[64];
char zbuf[4] = "ZZZ";
char sbuf[32];
int r_sprintf_same;
static long (*sump)(int, ...) = sum;
static void (*logp)(xx_t *, int, const char *, ...) = xx_log;

static void
xx_log(xx_t *xx, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcmn_err(level, fmt, ap);
	va_end(ap);
}

static long
sum(int n, ...)
{
	va_list ap;
	long s = 0;
	int i;

	va_start(ap, n);
	for (i = 0; i < n; i++) {	/* STOP-SUM */
		kind_t k = va_arg(ap, kind_t);

		switch (k) {
		case K_INT: s += va_arg(ap, int); break;
		case K_LONG: s += va_arg(ap, long); break;
		case K_PTR: s += *va_arg(ap, long *); break;
		case K_UINT: s += va_arg(ap, unsigned int); break;
		case K_U64: s += (long)va_arg(ap, uint64_t); break;
		case K_SIZE: s += (long)va_arg(ap, size_t); break;
		case K_UPTR: s += *(long *)va_arg(ap, uintptr_t); break;
		case K_STR: {
			const char *p = va_arg(ap, const char *);
			while (*p++ != '\\0')
				s++;
			break;
		}
		case K_ENUM: s += va_arg(ap, kind_t) * 100; break;
		}
	}
	va_end(ap);
	return (s);
}

static long
promo(int n, ...)
{
	va_list ap;

	va_start(ap, n);
	r_c = va_arg(ap, int);
	r_s = va_arg(ap, int);
	r_uc = va_arg(ap, int);
	r_us = va_arg(ap, int);
	r_b = va_arg(ap, int);
	r_cu2 = va_arg(ap, unsigned int);
	va_end(ap);
	return ((long)r_c + r_s + r_uc + r_us + r_b);
}

static long
twice(int n, ...)
{
	va_list ap, aq;
	long a, b = 0;
	int i;

	va_start(ap, n);
	a = va_arg(ap, int);
	va_copy(aq, ap);
	for (i = 1; i < n; i++)
		a += va_arg(ap, int);
	for (i = 1; i < n; i++)
		b += va_arg(aq, int) * 10;
	va_end(aq);
	va_end(ap);
	return (a * 1000 + b);
}

static int
vsum(int n, va_list ap)
{
	int s = 0;

	while (n-- > 0)
		s += va_arg(ap, int);
	return (s);
}

static int
sum2(int n, ...)
{
	va_list ap;
	int s, first;

	va_start(ap, n);
	s = vsum(n, ap);
	va_end(ap);
	va_start(ap, n);
	first = va_arg(ap, int);
	va_end(ap);
	return (s * 100 + first);
}

static void
xx_vlog(xx_t *xx, int level, const char *fmt, va_list ap)
{
	char msg[64];

	(void) vsnprintf(msg, sizeof (msg), fmt, ap);
	cmn_err(level, "%s%d: %s", xx->xx_name, xx->xx_id, msg);
}

static void
xx_dev_err(xx_t *xx, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xx_vlog(xx, level, fmt, ap);
	va_end(ap);
}

static size_t
fmt(char *b, size_t n, const char *f, ...)
{
	va_list ap;
	size_t r;

	va_start(ap, f);
	r = vsnprintf(b, n, f, ap);
	va_end(ap);
	return (r);
}

static char *
sfmt(char *b, const char *f, ...)
{
	va_list ap;
	char *r;

	va_start(ap, f);
	r = vsprintf(b, f, ap);
	va_end(ap);
	return (r);
}

void
entry(void *arg)
{
	char c = -3;
	short s = -30000;
	unsigned char uc = 250;
	unsigned short us = 65000;
	_Bool b = 5;
	int i;

	xx_log(&gxx, CE_NOTE, "%s: unit %d has %u buffers at %p", gxx.xx_name, gxx.xx_id, 4000000000U, &gxx);
	cmn_err(CE_NOTE, "%s: unit %d has %u buffers at %p", gxx.xx_name, gxx.xx_id, 4000000000U, &gxx);
	xx_log(&gxx, CE_WARN, "%ld %lld %d %x %lu", -5L, -6LL, -7, 0xbeef, 18000000000UL);
	xx_log(&gxx, CE_NOTE, "!only in the log %d", 1);
	r_sum = sum(9, K_INT, -7, K_LONG, 5000000000L, K_PTR, &gv, K_UINT, 4000000000U, K_U64, 123456789012ULL,
	    K_SIZE, sizeof (xx_t), K_UPTR, (uintptr_t)&gv, K_STR, "hello", K_ENUM, K_STR);
	r_sum_fp = sump(2, K_INT, 40, K_LONG, -2L);
	logp(&gxx, CE_WARN, "%s: via a pointer: %d %s", gxx.xx_name, -1, "ok");
	r_promo = promo(6, c, s, uc, us, b, c);
	r_copy = twice(4, 1, 2, 3, 4);
	r_nested = sum2(3, 5, 6, 7);
	xx_dev_err(&gxx, CE_NOTE, "ring %d stalled after %lu descriptors", 2, 123456789012UL);
	for (i = 0; i < sizeof (buf); i++)
		buf[i] = 'Z';
	r_len = fmt(buf, 16, "vcpu%d: %s=%lu", 12, "saves", 123456789UL);
	r_len_big = fmt(big, sizeof (big), "vcpu%d: %s=%lu", 12, "saves", 123456789UL);
	r_len_zero = fmt(zbuf, 0, "%d", 12345);
	r_sprintf_same = sfmt(sbuf, "%x-%X-%c-%5d|%-4s|", 255, 255, 'q', 42, "ab") == sbuf;
}
`;

const lineOf = (src: string, marker: string): number => src.split('\n').findIndex((l) => l.includes(marker)) + 1;

function panicOf(r: RunResult): { message: string; stack: string[] } {
  assert.equal(r.outcome.kind, 'panic', `expected a panic, got ${JSON.stringify(r.outcome)}`);
  return (r.outcome as { info: { message: string; stack: string[] } }).info;
}


test(`variadic functions, va_arg of every word type, va_copy, v* functions, function pointers`, async () => {
  const r = await runC(SRC);
  assert.deepEqual(r.outcome, { kind: 'end' });
  const m = r.m;
      const addr = g(m, '&gxx');
  assert.match(addr, /^0xfffffe[0-9a-f]{10}$/);

  // The logging wrapper prints exactly what cmn_err prints for the same arguments.
  assert.deepEqual(r.console, [
    `NOTICE: xx0: unit 7 has 4000000000 buffers at ${addr.slice(2)}`,
    `NOTICE: xx0: unit 7 has 4000000000 buffers at ${addr.slice(2)}`,
    'WARNING: -5 -6 -7 beef 18000000000',
    'WARNING: xx0: via a pointer: -1 ok',
    'NOTICE: xx07: ring 2 stalled after 123456789012 descriptors',
  ]);
  // '!': the log only, as cmn_err does.
  assert.ok(m.msgbuf.some((x) => x.text === 'NOTICE: only in the log 1'));

  // va_arg of int, long, pointer, unsigned, uint64_t, size_t, uintptr_t, char *, enum.
  const expected = -7 + 5_000_000_000 + 1_000_000_000_000 + 4_000_000_000 + 123_456_789_012 + 16 + 1_000_000_000_000 + 'hello'.length + 7 * 100;
  assert.equal(g(m, 'r_sum'), String(expected));
  assert.equal(g(m, 'r_sum_fp'), String(40 - 2));

  // char, short, unsigned char, unsigned short and _Bool arrive as int.
  assert.deepEqual(['r_c', 'r_s', 'r_uc', 'r_us', 'r_b', 'r_cu2', 'r_promo'].map((n) => g(m, n)), [
    '-3', '-30000', '250', '65000', '1', String(2 ** 32 - 3), String(-3 - 30000 + 250 + 65000 + 1),
  ]);

  // va_copy: the copy starts where ap was and runs on its own.
  assert.equal(g(m, 'r_copy'), String((1 + 2 + 3 + 4) * 1000 + (2 + 3 + 4) * 10));
  // A va_list passed to a function that reads it; va_start again reads from the first.
  assert.equal(g(m, 'r_nested'), String((5 + 6 + 7) * 100 + 5));

  // vsnprintf: at most size - 1 characters and the NUL, returns the full length.
  const full = 'vcpu12: saves=123456789';
  assert.equal(g(m, 'r_len'), String(full.length));
  assert.equal(g(m, 'buf'), `"${full.slice(0, 15)}"`);
  assert.equal(g(m, 'buf[15]'), '0');
  assert.equal(g(m, 'buf[16]'), "90 'Z'");
  assert.equal(g(m, 'r_len_big'), String(full.length));
  assert.equal(g(m, 'big'), `"${full}"`);
  assert.equal(g(m, 'r_len_zero'), '5');
  assert.equal(g(m, 'zbuf'), '"ZZZ"');
  // vsprintf writes it all and returns the buffer.
  assert.equal(g(m, 'sbuf'), '"ff-FF-q-   42|ab  |"');
  assert.equal(g(m, 'r_sprintf_same'), '1');
});

test(`reading past the passed arguments, or through a va_list never started, panics`, async () => {
  const src = `${HEADERS}#include <sys/varargs.h>
int r;
static int
take(int n, ...)
{
	va_list ap;
	int s = 0;

	va_start(ap, n);
	while (n-- > 0)
		s += va_arg(ap, int);	/* PAST */
	va_end(ap);
	return (s);
}
void entry(void *arg) { r = take(3, 1, 2); }
`;
  const past = panicOf(await runC(src));
  assert.equal(past.message, `va_arg at drv.c:${lineOf(src, '/* PAST */')}: reads a 3rd variable argument, but take() was passed only 2`);
  // The frame's argument words, named and variable ($C's form).
  assert.match(past.stack[0]!, /^take\+0x[0-9a-f]+\(3, 1, 2\)$/);
  assert.match(past.stack[1]!, /^entry\+0x[0-9a-f]+\(0\)$/);

  const src2 = `${HEADERS}#include <sys/varargs.h>
static int
bad(int n, ...)
{
	va_list ap;

	return (va_arg(ap, int));	/* UNSTARTED */
}
void entry(void *arg) { (void) bad(1, 2); }
`;
  const unstarted = panicOf(await runC(src2));
  assert.equal(unstarted.message, `va_arg at drv.c:${lineOf(src2, '/* UNSTARTED */')}: the va_list does not point at the variable arguments of a function running on this thread (not set by va_start or va_copy, or that function has returned): ap = baddcafebaddcafe`);

  // The formats of the v* functions read the same words, with the same check.
  const src3 = `${HEADERS}#include <sys/varargs.h>
static void
xlog(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcmn_err(CE_NOTE, fmt, ap);
	va_end(ap);
}
static void
xpanic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vpanic(fmt, ap);
}
void entry(void *arg) { xlog("%d is %s", 1, "one"); xlog("%d and %s", 2); }
void entry2(void *arg) { xpanic("xx%d: fatal error %s (%lx)", 3, "EIO", 0xdeadUL); }
`;
  const fmtPast = await runC(src3);
  assert.deepEqual(fmtPast.console, ['NOTICE: 1 is one']);
  assert.equal(panicOf(fmtPast).message, 'vcmn_err("%d and %s"): reads a 2nd variable argument, but xlog() was passed only 1');
  const vp = await runC(src3, { entry: 'entry2' });
  assert.equal(panicOf(vp).message, 'xx3: fatal error EIO (dead)');
  assert.match(panicOf(vp).stack[0]!, /^vpanic\+0x[0-9a-f]+\(/);
  assert.match(panicOf(vp).stack[1]!, /^xpanic\+0x[0-9a-f]+\(/);
});

test(`the debugger shows a variadic frame's named parameters, its variable arguments and where ap points`, async () => {
  const m: Machine = (await kernelFor({ 'drv.c': SRC })).m;
  const line = lineOf(SRC, 'STOP-SUM');
  m.policy = { shouldStop: (_m, p) => p.kind === 'statement' && (p.detail as { line: number }).line === line };
  const r = m.run(1_000_000);
  assert.equal(r.kind, 'stopped');
  const t = (r as { point: StopPoint }).point.thread;
  const fi = t.stack.length - 1;
  const info = m.program!.frameInfo(m, t, t.stack[fi]!);
  assert.equal(info.fn, 'sum');
  assert.deepEqual(info.params.map((p) => `${p.name}: ${p.type} = ${p.value}`), ['n: int = 9', '...: long [18] = [18]']);
  const gv = g(m, '&gv');
  // One word per argument: kernel addresses shown as such (the pointer and the uintptr_t).
  const words = info.params[1]!.children!().map((c) => c.value);
  assert.match(words[15]!, /^0xfffffe[0-9a-f]{10}$/);
  assert.deepEqual(words, ['0', '-7', '1', '5000000000', '2', gv, '3', '4000000000', '4', '123456789012', '5', '16', '6', gv, '7', words[15], '8', '7']);
  const ap = info.locals.find((l) => l.name === 'ap')!;
  assert.equal(ap.type, 'va_list');
  assert.match(ap.value, /^0xfffffe[0-9a-f]{10} <next: variable argument 1 of 18 of sum\(\)>$/);
  assert.equal(m.program!.evaluate(m, t, fi, 'n').value, '9');
  assert.throws(() => m.program!.evaluate(m, t, fi, 'va_arg(ap, int)', true), /va_arg cannot be evaluated in the debugger/);
  // On through the loop (the for line's init, condition, then update): ap moves on by one word
  // per va_arg, two per iteration.
  const notes: string[] = [];
  for (let i = 0; i < 4; i++) {
    m.skipStopOnce = true;
    assert.equal(m.run(1_000_000).kind, 'stopped');
    const ap2 = m.program!.frameInfo(m, t, t.stack[t.stack.length - 1]!).locals.find((l) => l.name === 'ap')!;
    notes.push(ap2.value.replace(/^0x[0-9a-f]+ /, ''));
  }
  assert.deepEqual(notes, ['<next: variable argument 1 of 18 of sum()>', '<next: variable argument 3 of 18 of sum()>', '<next: variable argument 5 of 18 of sum()>', '<next: variable argument 7 of 18 of sum()>']);
});

async function loadErr(src: string): Promise<ScenarioError> {
  try {
    await kernelFor({ 'drv.c': src });
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  throw new Error('loaded');
}

test('what variable arguments do not support is a load error at file:line', async () => {
  const H = `${HEADERS}#include <sys/varargs.h>\n`; // 8 lines
  const fn = (body: string, params = 'int n, ...') => `${H}static int\nf(${params})\n{\n\tva_list ap;\n\tint x = 0;\n${body}\treturn (x);\n}\nvoid entry(void *a) { (void) f(1, 2); }\n`;
  const cases: Array<[string, string, number, string]> = [
    ['va_arg of a double', fn('\tva_start(ap, n);\n\tx = va_arg(ap, double);\n'), 15, "va_arg of floating type 'double' is not supported: kernel code does not use the FPU"],
    ['va_arg of a char', fn('\tva_start(ap, n);\n\tx = va_arg(ap, char);\n'), 15, "va_arg of type 'char': 'char' is promoted to 'int' when passed through '...' (use va_arg(ap, int))"],
    ['va_arg of a short', fn('\tva_start(ap, n);\n\tx = va_arg(ap, unsigned short);\n'), 15, "va_arg of type 'unsigned short': 'unsigned short' is promoted to 'int' when passed through '...' (use va_arg(ap, int))"],
    ['va_arg of an incomplete union', `${H}union u;\n` + fn('\tva_start(ap, n);\n\tx = va_arg(ap, union u).a;\n').slice(H.length), 16, "va_arg of incomplete type 'union u'"],
    ['va_start not naming the last', fn('\tva_start(ap, n);\n', 'int n, int m0, ...'), 14, "va_start's second argument must be the last named parameter of 'f' ('m0'), not 'n'"],
    ['va_start without ...', fn('\tva_start(ap, n);\n', 'int n'), 14, "va_start used in 'f', a function with fixed arguments (no '...')"],
    ['va_arg of a non-va_list', fn('\tx = va_arg(x, int);\n'), 14, "va_arg: 'x' is not a va_list (it is 'int')"],
  ];
  for (const [what, src, line, reason] of cases) {
    const e = await loadErr(src);
    assert.equal(e.reason, reason, what);
    assert.equal(e.line, line, what);
    assert.ok(e.file.endsWith('drv.c'), what);
  }
  // Without <sys/varargs.h>: the macros are missing (__va_list comes with every kernel header).
  const e = await loadErr(`${HEADERS}static int\nf(int n, ...)\n{\n\t__va_list ap;\n\tva_start(ap, n);\n\treturn (0);\n}\nvoid entry(void *a) { }\n`);
  assert.equal(e.reason, "'va_start' is a macro of <sys/varargs.h> (or <stdarg.h>): include it");
  assert.equal(e.line, 12);
  // A module cannot bring its own vsnprintf: the kernel has one (even before anything linked it).
  const k = await loadErr(`${HEADERS}int\nvsnprintf(char *b, size_t n, const char *f, __va_list ap)\n{\n\treturn (0);\n}\nvoid entry(void *a) { }\n`);
  assert.equal(k.reason, `'vsnprintf' is already defined by the kernel (genunix); a module cannot redefine it (list it in "replaces" to test your own version)`);
});

test('<stdarg.h> works as <sys/varargs.h>; the v* functions get kernel text only when a module links one', async () => {
  const r = await runC(`${HEADERS}#include <stdarg.h>
long r;
static long
add(int n, ...)
{
	va_list ap;
	long s = 0;

	va_start(ap, n);
	while (n-- > 0)
		s += va_arg(ap, long);
	va_end(ap);
	return (s);
}
void entry(void *arg) { r = add(3, 10L, 20L, -1L); }
`);
  assert.deepEqual(r.outcome, { kind: 'end' });
  assert.equal(g(r.m, 'r'), '29');
  // No v* function is used: none is in the kernel's text, so no address moved.
  for (const name of ['vcmn_err', 'vpanic', 'vsnprintf', 'vsprintf']) assert.equal(r.m.sym.lookup(name), undefined, name);
  const used = await runC(`${HEADERS}#include <sys/varargs.h>
static void
l(const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	vcmn_err(CE_CONT, f, ap);
	va_end(ap);
}
void entry(void *arg) { l("%s", "x"); }
`);
  assert.equal(used.m.sym.lookup('vcmn_err')?.module, 'genunix');
  assert.equal(used.m.sym.lookup('vsnprintf'), undefined);
  assert.deepEqual(used.console, ['x']);
});
