import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runC, g, HEADERS, foldedBothWays } from './helpers';
import { CTXOP, CTXOP_TEMPLATE, KTHREAD, CPU, KLWP } from '../../../kernel-sim/machine/layout';

async function evalAll(body: string, globals: string, names: string[], o = {}): Promise<Record<string, string>> {
  const r = await runC(`${HEADERS}${globals}\nvoid entry(void *arg) {\n${body}\n}\n`, o);
  assert.equal(r.outcome.kind, 'end', JSON.stringify(r.outcome));
  const out: Record<string, string> = {};
  for (const n of names) out[n] = g(r.m, n);
  return out;
}

test('integer widths, overflow and wrap-around are C\'s', async () => {
  const v = await evalAll(`
    int a = 2147483647; a = a + 1; r_i32 = a;
    unsigned int u = 0; u = u - 1; r_u32 = u;
    uint8_t c = 255; c++; r_u8 = c;
    int8_t s = 127; s++; r_i8 = s;
    uint16_t h = 65535; h += 2; r_u16 = h;
    uint64_t x = 0; x = x - 1; r_u64 = x;
    int64_t y = 9223372036854775807L; y = y + 1; r_i64 = y;
    r_cast = (uint32_t)-1;
    r_sext = (int)(uint32_t)0x80000000;
    r_cmp1 = -1 < 0u;
    r_cmp2 = -1L < 0U;
    r_mul = 0x10000 * 0x10000;
    r_mul64 = 0xffffffffffffffffULL * 2;
    r_div = -7 / 2; r_mod = -7 % 2;
    r_shl = 1u << 31; r_sar = -16 >> 2; r_shl64 = 1ULL << 63;
    r_not = ~0UL; r_neg = -(unsigned char)1;
    r_trunc = (unsigned char)0x1ff + (signed char)0x80;
    r_big = 0x123456789abcdefULL * 0x100 + 0xff;
    r_bool = (_Bool)256;
  `, `int r_i32; unsigned int r_u32; uint8_t r_u8; int8_t r_i8; uint16_t r_u16; uint64_t r_u64; int64_t r_i64;
    uint32_t r_cast; int r_sext; int r_cmp1; int r_cmp2; int r_mul; uint64_t r_mul64; int r_div; int r_mod;
    unsigned r_shl; int r_sar; uint64_t r_shl64; ulong_t r_not; int r_neg; int r_trunc; uint64_t r_big; _Bool r_bool;`,
  ['r_i32', 'r_u32', 'r_u8', 'r_i8', 'r_u16', 'r_u64', 'r_i64', 'r_cast', 'r_sext', 'r_cmp1', 'r_cmp2', 'r_mul', 'r_mul64', 'r_div', 'r_mod', 'r_shl', 'r_sar', 'r_shl64', 'r_not', 'r_neg', 'r_trunc', 'r_big', 'r_bool']);
  assert.deepEqual(v, {
    r_i32: '-2147483648', r_u32: '4294967295', r_u8: '0', r_i8: '-128', r_u16: '1', r_u64: '18446744073709551615',
    r_i64: '-9223372036854775808', r_cast: '4294967295', r_sext: '-2147483648', r_cmp1: '0', r_cmp2: '1', r_mul: '0',
    r_mul64: '18446744073709551614', r_div: '-3', r_mod: '-1', r_shl: '2147483648', r_sar: '-4', r_shl64: '9223372036854775808',
    r_not: '18446744073709551615', r_neg: '-1', r_trunc: '127', r_big: '2541551405711093759', r_bool: 'true',
  });
});

test('pointer arithmetic, arrays, casts through uintptr_t', async () => {
  const v = await evalAll(`
    int arr[5] = { 10, 20, 30, 40, 50 };
    int *p = &arr[1];
    struct two { int a; long b; } ts[3];
    struct two *q = ts;
    r_diff = (p + 2) - arr;
    r_val = *(p + 2) + p[-1] + 2[arr];
    r_bytes = (char *)(p + 1) - (char *)p;
    r_sdiff = (char *)(q + 2) - (char *)q;
    r_hi = (uint32_t)((uintptr_t)p >> 32);
    r_rt = (int *)(uintptr_t)p == p;
    r_null = (p != NULL) + (q == 0);
    p++; *p += 5; r_arr1 = arr[2];
  `, 'long r_diff; int r_val; long r_bytes; long r_sdiff; uint32_t r_hi; int r_rt; int r_null; int r_arr1;',
  ['r_diff', 'r_val', 'r_bytes', 'r_sdiff', 'r_hi', 'r_rt', 'r_null', 'r_arr1']);
  assert.deepEqual(v, { r_diff: '3', r_val: '80', r_bytes: '4', r_sdiff: '32', r_hi: '4294966784', r_rt: '1', r_null: '1', r_arr1: '35' });
});

test('struct layout, unions, and the kernel structures match layout.ts', async () => {
  const r = await runC(`${HEADERS}
    struct s1 { char a; int b; char c; };
    struct s2 { char a; uint64_t b; uint16_t c[3]; };
    union u1 { char c[5]; int i; uint64_t l; };
    struct s1 v1; struct s2 v2; union u1 v3;
    size_t z1 = sizeof (struct s1), z2 = sizeof (struct s2), z3 = sizeof (union u1);
    size_t o1 = offsetof(struct s2, c);
    int punned;
    void entry(void *arg) { v3.l = 0x1122334455667788ULL; punned = v3.i; }
  `);
  assert.equal(r.outcome.kind, 'end');
  assert.deepEqual(['z1', 'z2', 'z3', 'o1', 'punned'].map((n) => g(r.m, n)), ['12', '24', '8', '16', String(0x55667788)]);
  const d = r.m.program!;
  for (const [name, l] of [['struct ctxop', CTXOP], ['struct ctxop_template', CTXOP_TEMPLATE], ['kthread_t', KTHREAD], ['cpu_t', CPU], ['klwp_t', KLWP]] as const) {
    const tl = d.typeLayout(name)!;
    assert.ok(tl, name);
    assert.equal(tl.size, l.size, `${name} size`);
    assert.deepEqual(Object.fromEntries(tl.fields.map((f) => [f.name, f.offset])), l.offsets, `${name} offsets`);
  }
});

test('function pointers, designated initializers, compound literals', async () => {
  const v = await evalAll(`
    struct ops o = { .mul = mul, .add = add };
    int (*f)(int, int) = o.add;
    struct pt p = (struct pt){ .y = 7, .x = 3 };
    struct pt *pp = &(struct pt){ 5, 6 };
    r1 = f(2, 3) + o.mul(4, 5) + table[1](10, 10);
    r2 = p.x * 10 + p.y;
    r3 = pp->x + pp->y;
    r4 = arr[0] + arr[3] * 100 + arr[4] * 1000;
    r5 = (o.add == add) + (table[0] == &add);
  `, `struct pt { int x, y; };
    static int add(int a, int b) { return a + b; }
    static int mul(int a, int b) { return a * b; }
    struct ops { int (*add)(int, int); int (*mul)(int, int); };
    static int (*table[])(int, int) = { add, mul };
    static int arr[5] = { 1, [3] = 4, 9 };
    int r1, r2, r3, r4, r5;`, ['r1', 'r2', 'r3', 'r4', 'r5']);
  assert.deepEqual(v, { r1: '125', r2: '37', r3: '11', r4: '9401', r5: '2' });
});

test('switch, goto, static locals, loops, comma and conditional with calls', async () => {
  const v = await evalAll(`
    int i, acc = 0;
    for (i = 0; i < 6; i++) {
      switch (i) {
      case 0: acc += 1;
      case 1: acc += 10; break;
      case 4: continue;
      default: acc += 100;
      }
    }
    r_sw = acc;
    i = 0;
again:
    if (++i < 5) goto again;
    r_goto = i;
    bump(); bump();
    r_static = bump();
    r_cond = (twice(1) > 1 && twice(2) == 4) ? twice(3) : twice(4);
    r_or = (0 || twice(0)) + (1 || twice(99));
    i = 0; do { i += 3; } while (i < 10);
    r_do = i;
    r_comma = (i = 1, i + 1);
  `, `static int bump(void) { static int n; return ++n; }
    static int twice(int x) { return 2 * x; }
    int r_sw, r_goto, r_static, r_cond, r_or, r_do, r_comma;`, ['r_sw', 'r_goto', 'r_static', 'r_cond', 'r_or', 'r_do', 'r_comma']);
  assert.deepEqual(v, { r_sw: '321', r_goto: '5', r_static: '3', r_cond: '6', r_or: '1', r_do: '12', r_comma: '2' });
});

test('a NULL dereference and a division by zero are simulated panics with the C stack', async () => {
  const r = await runC(`${HEADERS}
    struct s { int x; };
    static int get(struct s *p) { return p->x; }
    void entry(void *arg) { (void) get(arg); }`);
  assert.equal(r.outcome.kind, 'panic');
  const info = (r.outcome as { info: { message: string; stack: string[] } }).info;
  assert.match(info.message, /^BAD TRAP: type=e \(#pf Page fault\) rp=[0-9a-f]+ addr=0$/);
  assert.match(info.stack[0]!, /^get\+0x[0-9a-f]+\(0\)$/);
  assert.match(info.stack[1]!, /^entry\+0x[0-9a-f]+\(0\)$/);
  const d = await runC(`${HEADERS} void entry(void *arg) { volatile int z = (int)(uintptr_t)arg; int x = 10 / z; }`);
  assert.equal(d.outcome.kind, 'panic');
  assert.equal((d.outcome as { info: { message: string } }).info.message, 'BAD TRAP: type=0 (#de Divide error) rp=0 addr=0: integer divide by zero');
});

test('ASSERT is live only with DEBUG; VERIFY3U prints both values', async () => {
  const src = `${HEADERS} void entry(void *arg) { int n = 3; ASSERT(n == 4); VERIFY3U(n, ==, 5); }`;
  const dbg = await runC(src);
  assert.equal((dbg.outcome as { info: { message: string } }).info.message, 'assertion failed: n == 4, file: drv.c, line: 8');
  const nodbg = await runC(src, { defines: {} });
  assert.equal((nodbg.outcome as { info: { message: string } }).info.message, 'assertion failed: n == 5 (0x3 == 0x5), file: drv.c, line: 8');
});

test('an infinite C loop is stopped by the step limit', async () => {
  const r = await runC(`${HEADERS} void entry(void *arg) { for (;;) ; }`, {}, 200_000);
  assert.equal(r.outcome.kind, 'step-limit');
  assert.equal(r.m.stats.steps, 200_000);
});

/*
 * The caller recorded in a bufctl (what ::findleaks groups by and ::bufctl -v prints) is the
 * allocating instruction, however the statements fall into steps: with a slice of one cycle
 * every statement starts a step, with a long slice many run in one; both paths (generated code
 * and closures) record the same callers.
 */
test('kmem audit stacks name the allocating call whatever the step boundaries', async () => {
  const src = `${HEADERS}
void *k1, *k2;
void
entry(void *arg)
{
	int x = 1;

	x++;
	k1 = kmem_alloc(16, KM_SLEEP);
	x++;
	x *= 3;
	k2 = kmem_alloc(32, KM_SLEEP);
}
`;
  const callers: string[][] = [];
  for (const slice of [1, 10_000]) {
    const r = await runC(src, { extra: { slice, tickCycles: Math.max(slice, 100) } });
    assert.equal(r.outcome.kind, 'end');
    const bc = (name: string) => r.m.kmem.bufctls.get(Number(BigInt(g(r.m, `(unsigned long)${name}`)) - 0xfffffe00f0000000n))!;
    callers.push([bc('k1').stack[1]!, bc('k2').stack[1]!]);
  }
  assert.notEqual(callers[0]![0], callers[0]![1], 'two call sites, two callers');
  assert.match(callers[0]![0]!, /^entry\+0x[0-9a-f]+$/);
  for (const c of callers) assert.deepEqual(c, callers[0], 'the same callers with any slice');
});

test('unary operators on constants fold to what they compute at run time (gcc\'s values)', async () => {
  // a<i>: folded for a static initializer; l<i>: the same constant folded in a function body.
  const exprs: Array<[string, string, string]> = [
    ['long', '~9007199254740991L', '-9007199254740992'],
    ['long', '-9007199254740992L', '-9007199254740992'],
    ['long', '~(-9007199254740993L)', '9007199254740992'],
    ['unsigned long', '-(1UL << 63)', '9223372036854775808'],
    ['unsigned long', '~0UL', '18446744073709551615'],
    ['unsigned long', '-9007199254740993UL', '18437736874454810623'],
    ['unsigned', '-1u', '4294967295'],
    ['unsigned', '~0x7fffffffu', '2147483648'],
    ['int', '-(unsigned char)1', '-1'],
    ['int', '~0x7fffffff', '-2147483648'],
    ['int', '!0 + 2 * !5 + 4 * !(1UL << 63)', '1'],
    ['long', '-(-9223372036854775807L)', '9223372036854775807'],
    ['int', '-(short)-32768', '32768'],
  ];
  const { got, want } = await foldedBothWays(exprs);
  assert.deepEqual(got, want);
});
