/**
 * Bit-fields: signed ones sign-extend, unsigned ones do not, in C code (closures and generated
 * code) and in the debugger's view (CDebug.evaluate, struct children, set), and a write through
 * either changes only the field's bits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StopPoint } from '../../../kernel-sim/machine/machine';
import type { CValueView } from '../../../kernel-sim/machine/debug-api';
import { kernelFor, g, HEADERS } from './helpers';

const SRC = `${HEADERS}
struct bits {
	unsigned	u3 : 3;
	int		s5 : 5;
	int		s1 : 1;
	unsigned	u7 : 7;
	_Bool		b : 1;
	char		c4 : 4;
	long		s40 : 40;
	unsigned long	u40 : 40;
	int		after;
};
struct bits gs;
int r_s5, r_s5b, r_s5c, r_s5d, r_u3, r_u3b, r_s1, r_b0, r_b1, r_c4, r_u7, r_neg, r_after;
long r_s40;
unsigned long r_u40;
int d_s5, d_u3, d_s1, d_u7, d_c4, d_b, d_after;
long d_s40;

void
entry(void *arg)
{
	struct bits *p = &gs;

	p->after = 0x5a5a;
	p->u3 = 4;
	p->s5 = -4;
	r_s5 = p->s5;
	r_neg = p->s5 < 0;
	p->s5 = 28;
	r_s5b = p->s5;
	p->s5 = 15;
	p->s5++;
	r_s5c = p->s5;
	r_s5d = (p->s5 -= 1);
	p->u3 = 9;
	r_u3 = p->u3;
	p->u3 += 7;
	r_u3b = p->u3;
	p->s1 = 1;
	r_s1 = p->s1;
	p->b = 0;
	r_b0 = p->b;
	p->b = 2;
	r_b1 = p->b;
	p->c4 = 7;
	p->c4 += 1;
	r_c4 = p->c4;
	p->u7 = 200;
	r_u7 = p->u7;
	p->s40 = -5;
	r_s40 = p->s40;
	p->u40 = -1;
	r_u40 = p->u40;
	p->s5 = -4;
	p->u3 = 5;
	p->s1 = -1;
	p->b = 1;
	p->c4 = -3;
	r_after = p->after;
	/* the debugger stops here and writes the fields */
	d_s5 = p->s5;
	d_u3 = p->u3;
	d_s1 = p->s1;
	d_u7 = p->u7;
	d_c4 = p->c4;
	d_b = p->b;
	d_s40 = p->s40;
	d_after = p->after;
}
`;

const STOP_LINE = SRC.split('\n').findIndex((l) => l.includes('d_s5 = p->s5')) + 1;

function child(v: CValueView, name: string): CValueView {
  const c = v.children!().find((x) => x.name === name);
  assert.ok(c, `no member ${name}`);
  return c;
}

test(`bit-fields in C code and in the debugger's view`, async () => {
  const m = (await kernelFor({ 'drv.c': SRC })).m;
  m.policy = { shouldStop: (_m, p) => p.kind === 'statement' && (p.detail as { line: number }).line === STOP_LINE };
  const r = m.run(1_000_000);
  assert.equal(r.kind, 'stopped');
  const t = (r as { point: StopPoint }).point.thread;
  const fi = t.stack.length - 1;

  // What the C code read.
  const got = (names: string[]) => Object.fromEntries(names.map((n) => [n, g(m, n)]));
  assert.deepEqual(got(['r_s5', 'r_neg', 'r_s5b', 'r_s5c', 'r_s5d', 'r_u3', 'r_u3b', 'r_s1', 'r_b0', 'r_b1', 'r_c4', 'r_u7', 'r_s40', 'r_u40', 'r_after']), {
    r_s5: '-4', r_neg: '1', r_s5b: '-4', r_s5c: '-16', r_s5d: '15', r_u3: '1', r_u3b: '0', r_s1: '-1', r_b0: '0', r_b1: '1',
    r_c4: '-8', r_u7: '72', r_s40: '-5', r_u40: '1099511627775', r_after: '23130',
  });

  // What the debugger shows: evaluate, in the frame and globally, and the struct's members.
  const ev = (e: string) => m.program!.evaluate(m, t, fi, e).value;
  assert.equal(ev('gs.s5'), '-4');
  assert.equal(ev('p->s5'), '-4');
  assert.equal(ev('p->u3'), '5');
  assert.equal(ev('gs.s1'), '-1');
  assert.equal(ev('gs.b'), 'true');
  assert.equal(ev('gs.c4'), '-3');
  assert.equal(ev('gs.u7'), '72');
  assert.equal(ev('gs.s40'), '-5');
  assert.equal(ev('gs.u40'), '1099511627775');
  assert.equal(ev('gs.after'), '23130');
  assert.equal(ev('gs.s5 * 2'), '-8');
  assert.equal(ev('gs.s5 < 0'), '1');
  const gs = m.program!.globals(m).find((v) => v.name === 'gs')!;
  assert.deepEqual(gs.children!().map((c) => `${c.name}=${c.value}`), [
    'u3=5', 's5=-4', 's1=-1', 'u7=72', 'b=true', 'c4=-3', 's40=-5', 'u40=1099511627775', 'after=23130',
  ]);
  const pv = m.program!.frameInfo(m, t, t.stack[fi]!).locals.find((v) => v.name === 'p')!;
  assert.equal(child(pv, 's5').value, '-4');

  // Writes through the view (setVariable) and through evaluate with side effects change only
  // the field, truncated to its width.
  assert.equal(child(gs, 's5').set!('-7').value, '-7');
  assert.equal(child(gs, 's5').value, '-7');
  assert.equal(child(gs, 'u3').value, '5');
  assert.equal(child(gs, 's1').value, '-1');
  assert.equal(child(gs, 'u3').set!('14').value, '6');
  assert.equal(child(gs, 's5').value, '-7');
  assert.equal(child(gs, 's1').set!('0').value, '0');
  assert.equal(child(gs, 'c4').set!('9').value, '-7');
  assert.equal(child(gs, 'u7').set!('-1').value, '127');
  assert.equal(child(gs, 's40').set!('-1099511627776 / 2').value, '-549755813888');
  assert.equal(m.program!.evaluate(m, t, fi, 'p->b = 0', true).value, 'false');
  assert.equal(ev('gs.b'), 'false');
  assert.equal(m.program!.evaluate(m, t, fi, 'gs.s5 = 17', true).value, '-15');
  const s5 = m.program!.evaluate(m, t, fi, 'gs.s5');
  assert.equal(s5.value, '-15');
  assert.equal(s5.set!('12').value, '12');
  assert.equal(ev('gs.after'), '23130');

  // The C code reads what the debugger wrote.
  m.skipStopOnce = true;
  assert.equal(m.run(1_000_000).kind, 'end');
  assert.deepEqual(got(['d_s5', 'd_u3', 'd_s1', 'd_u7', 'd_c4', 'd_b', 'd_s40', 'd_after']), {
    d_s5: '12', d_u3: '6', d_s1: '0', d_u7: '127', d_c4: '-7', d_b: '0', d_s40: '-549755813888', d_after: '23130',
  });
});

/*
 * Integer promotion of bit-fields, as GCC does it (the expected values are what gcc -O0 prints
 * for the same expressions on amd64): narrower than 32 bits promotes to int whatever the declared
 * type, exactly 32 unsigned bits to unsigned int, wider keeps the declared type.
 */
const PROMO = `${HEADERS}
struct prom {
	unsigned		a3 : 3;
	unsigned		b32 : 32;
	unsigned long		d40 : 40;
	_Bool			e : 1;
	unsigned short		f12 : 12;
	unsigned		g31 : 31;
	unsigned long		x20 : 20;
	unsigned long		z32 : 32;
};
struct prom gp;
int p_a3, p_b32, p_d40, p_neg, p_e, p_cmp, p_f12, p_g31, p_div, p_x20, p_z32, p_sz, p_szz, p_cdiv;

void
entry(void *arg)
{
	gp.a3 = 2; gp.b32 = 2; gp.d40 = 2; gp.e = 1; gp.f12 = 3; gp.g31 = 5; gp.x20 = 1; gp.z32 = 1;
	p_a3 = gp.a3 - 5 < 0;
	p_b32 = gp.b32 - 5 < 0;
	p_d40 = gp.d40 - 5 < 0;
	p_neg = -gp.a3 < 0;
	p_e = gp.e - 2 < 0;
	p_cmp = gp.a3 > -1;
	p_f12 = gp.f12 - 4 < 0;
	p_g31 = gp.g31 - 6 < 0;
	p_div = (gp.a3 - 7) / 2;
	p_x20 = gp.x20 - 2 < 0;
	p_z32 = gp.z32 - 2 < 0;
	p_sz = sizeof (gp.x20 + 0);
	p_szz = sizeof (gp.z32 + 0);
	gp.a3 = 5;
	gp.a3 /= -1;
	p_cdiv = gp.a3;
}
`;

test(`bit-fields promote by width as GCC does`, async () => {
  const m = (await kernelFor({ 'drv.c': PROMO })).m;
  assert.equal(m.run(1_000_000).kind, 'end');
  const names = ['p_a3', 'p_b32', 'p_d40', 'p_neg', 'p_e', 'p_cmp', 'p_f12', 'p_g31', 'p_div', 'p_x20', 'p_z32', 'p_sz', 'p_szz', 'p_cdiv'];
  assert.deepEqual(Object.fromEntries(names.map((n) => [n, g(m, n)])), {
    // gcc: 1 0 0 1 1 1 1 1 -2 1 0 4 4, and 5 / -1 = -5 stored in 3 bits is 3
    p_a3: '1', p_b32: '0', p_d40: '0', p_neg: '1', p_e: '1', p_cmp: '1', p_f12: '1', p_g31: '1', p_div: '-2',
    p_x20: '1', p_z32: '0', p_sz: '4', p_szz: '4', p_cdiv: '3',
  });
  // The debugger's expressions promote the same way.
  assert.equal(g(m, 'gp.x20 - 2 < 0'), '1');
  assert.equal(g(m, 'gp.b32 - 5 < 0'), '0');
});
