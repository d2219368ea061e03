/**
 * The register form of step functions (kernel-sim/cinterp/registers.ts): without a debugger a
 * function's frame words live in JavaScript variables, and the frame's memory is still exactly
 * what the memory form leaves there wherever it can be seen: a run that stops at any step limit
 * has the same stack bytes, the same ::findleaks and the same values as a run under a policy
 * that never stops (which runs the memory form).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Machine, StopPoint } from '../../../kernel-sim/machine/machine';
import { isRegisterForm, leafOf, stepTexts, type StepFn } from '../../../kernel-sim/cinterp/codegen';
import { leafCalls, pureCalls, inlinedCalls } from '../../../kernel-sim/cinterp/calls';
import { registerForm, memoryForm, withoutWatch, writesSlot, slotRead, slotWrite, slotAddr, coldAddr, syncIn, syncOut, watchJs, type SlotView } from '../../../kernel-sim/cinterp/registers';
import { createMdb } from '../../../kernel-sim/mdb/index';
import { kernelFor, g, HEADERS } from '../cinterp/helpers';

/** Words, 64-bit words, 16-bit words, bytes and pointers in locals; calls in the loop; leaks only a local held. */
const SRC = `${HEADERS}
uint64_t out64;
uint32_t out32;
void *keep;

static uint32_t
mixw(uint32_t a, uint8_t b)
{
	uint32_t r = a * 2654435761U;
	boolean_t odd = (b & 1) != 0;

	if (odd)
		r ^= r >> 13;
	return (r + b);
}

void
entry(void *arg)
{
	uint32_t i;
	uint64_t acc = 0x123456789abcdefULL;
	uint8_t small = 3;
	char *p = NULL;
	int32_t neg = -7;
	int16_t h = -3;

	for (i = 0; i < 400; i++) {
		acc = (acc ^ (i * 0x9e3779b97f4a7c15ULL)) + (acc >> 7);
		small += (uint8_t)i;
		neg -= (int32_t)(i & 3);
		h += (int16_t)(i * 97);
		out32 += mixw(i, small);
		if ((i % 50) == 7) {
			p = kmem_alloc(24, KM_SLEEP);	/* the one before is lost: a leak */
			p[0] = (char)small;
		}
		if (i == 390)
			keep = p;
	}
	out64 = acc + (uint64_t)neg + (uint64_t)h;
}
`;

const threads = [{ name: 'a', entry: 'entry', arg: 0 }, { name: 'b', entry: 'entry', arg: 1 }];

async function load(): Promise<Machine> {
  const k = await kernelFor({ 'drv.c': SRC }, { threads, extra: { cpus: 2, tickCycles: 37, quantum: 1, slice: 13, seed: 5 } });
  return k.m;
}

/** What anything outside a step can see: each thread's stack bytes, the leaks, the stats, globals. */
function seen(m: Machine): string {
  const stacks = m.threads.map((t) => Buffer.from(m.mem.u8.subarray(t.stackBase, t.stackBase + t.stackSize)).toString('base64'));
  const leaks = createMdb(m).execute('::findleaks');
  return JSON.stringify({ stacks, leaks, stats: m.stats, out64: g(m, 'out64'), out32: g(m, 'out32'), keep: g(m, 'keep') });
}

test('the register form runs without a debugger; a function that takes an address has none', async () => {
  const m = await load();
  assert.equal(m.run(1_000_000).kind, 'end');
  const step = (name: string): StepFn => (m.sym.lookup(name)!.cfunc as { run: StepFn }).run;
  assert.ok(isRegisterForm(step('entry')), 'entry: words, a 64-bit word, a 16-bit word, a byte and a pointer');
  assert.ok(isRegisterForm(step('mixw')), 'mixw: parameters, a boolean_t');
  const k = await kernelFor({ 'drv.c': `${HEADERS}
static void bump(int *x) { (*x)++; }
void
entry(void *arg)
{
	int n = 0;
	bump(&n);
}
` });
  assert.equal(k.m.run(1_000_000).kind, 'end');
  assert.ok(!isRegisterForm((k.m.sym.lookup('entry')!.cfunc as { run: StepFn }).run), 'n lives in memory: its address is taken');
});

test('the frame memory, leaks and values are the memory form\'s at every step limit', async () => {
  const never = { shouldStop: (_m: Machine, _p: StopPoint) => false };
  for (const limit of [50, 333, 1000, 2501, 7000, 1_000_000]) {
    const plain = await load();
    const slow = await load();
    slow.policy = never;
    const a = plain.run(limit);
    const b = slow.run(limit);
    assert.equal(a.kind, b.kind, `limit ${limit}`);
    assert.equal(seen(plain), seen(slow), `limit ${limit}`);
    if (limit === 1_000_000) {
      assert.equal(a.kind, 'end');
      assert.match(createMdb(plain).execute('::findleaks'), /Total +15 buffers/, 'each thread lost 7 buffers and one of the two kept is overwritten');
    }
  }
});

test('registerForm: slots the emitter recorded become variables; any other use of the frame pointer keeps the memory form', () => {
  const yes = (x: string) => registerForm(x, 'K1');
  const w = (n: number, v: string, view: SlotView = 'U32') => slotWrite(view, n, v);
  const r = (n: number, view: SlotView = 'U32') => slotRead(view, n);
  const text = `($3 = 0, (${w(4, '$3')}, ${watchJs(`(WATCH && K2(m, ${coldAddr(4)}, 4))`)}), $3); c = (${r(4)} < ${r(0, 'I32')});`;
  assert.equal(memoryForm(text), '($3 = 0, (U32[(fp + 4) >>> 2] = $3, (WATCH && K2(m, (fp + 4), 4))), $3); c = (U32[(fp + 4) >>> 2] < I32[(fp + 0) >>> 2]);');
  const f = yes(withoutWatch(text))!;
  assert.equal(f.body, '($3 = 0, ((L4 = (($3) >>> 0)), false), $3); c = (L4 < L0);');
  assert.deepEqual(f.slots, [0, 4]);
  assert.equal(f.spill((v) => v), 'U32[(fp + 4) >>> 2] = L4;', 'only the written word is stored back');
  // A slot seen as signed and unsigned is kept as an int32.
  assert.equal(yes(`${w(8, 'x', 'I32')}; y = ${r(8)};`)!.body, '(L8 = ((x) | 0)); y = (L8 >>> 0);');
  // Pointers through the memory's readPtr and writePtr.
  assert.equal(yes(`${slotWrite('P', 16, `${slotRead('P', 16, 'K1')} + 8`, 'K1')}; q = ${slotRead('P', 16, 'K1')};`)!.body, '(P16 = P16 + 8); q = P16;');
  assert.equal(memoryForm(slotWrite('P', 16, '1', 'K1')), 'K1.writePtr((fp + 16), 1)');
  // A 64-bit word's cold paths: the words go to the frame before a DataView read, come back after a write.
  assert.equal(yes(`${w(8, 'a')}, ${w(12, 'b', 'I32')}, y = ${syncOut(8, `K5(D, ${coldAddr(8)})`)}, ${syncIn(8, `K6(D, ${coldAddr(8)}, z)`)};`)!.body,
    '(L8 = ((a) >>> 0)), (L12 = ((b) | 0)), y = (U32[(fp + 8) >>> 2] = L8, I32[(fp + 12) >>> 2] = L12, K5(D, (fp + 8))), (K6(D, (fp + 8), z), L8 = U32[(fp + 8) >>> 2], L12 = I32[(fp + 12) >>> 2]);');
  // An address taken, any other use of fp, a byte of a word slot: no register form.
  assert.equal(yes(`${w(4, '1')}; K3(${slotAddr(4)});`), null);
  assert.equal(yes(`${w(4, '1')}; K3(fp + 4);`), null);
  assert.equal(yes(`${w(4, '1')}; y = ${r(5, 'U8')};`), null);
  assert.equal(yes(`y = ${slotRead('P', 8, 'K9')};`), null, 'readPtr of another object');
  // 16-bit words through the DataView: a store converts as the view the loads use.
  assert.equal(yes(`(${w(6, '$1 & 0xffff', 'U16')}); y = ${r(6, 'I16')};`)!.body, '((L6 = ((($1 & 0xffff) << 16) >> 16))); y = L6;');
  assert.equal(yes(`(${w(6, '1', 'U16')}); y = ${r(4, 'U8')};`), null, 'a byte in the same word');
  assert.ok(writesSlot(`K3(K4, fr, t, [${w(4, '2')}])`), 'a call that stores a slot (buildStep refuses the form)');
});

test('the emitter records the slots: a function whose call stores a local, or whose local is an array, has no register form', async () => {
  const k = await kernelFor({ 'drv.c': `${HEADERS}
static int f(int x) { return (x + 1); }
int sink, sink2;
void
entry(void *arg)
{
	int i = 0, j = 0, a[2];

	while (i < 10)
		j += f(i++);
	a[0] = j;
	sink = a[0] + j;
}
void
plain(void *arg)
{
	int i = 0, j = 0;

	while (i < 10)
		j += f(i), i++;
	sink2 = j;
}
` }, { threads: [{ name: 'a', entry: 'entry', arg: 0 }, { name: 'b', entry: 'plain', arg: 0 }] });
  assert.equal(k.m.run(1_000_000).kind, 'end');
  const step = (name: string): StepFn => (k.m.sym.lookup(name)!.cfunc as { run: StepFn }).run;
  assert.ok(!isRegisterForm(step('entry')), 'f(i++) stores i in the call, and a[] is an array in the frame');
  assert.ok(isRegisterForm(step('plain')));
  assert.ok(isRegisterForm(step('f')));
  assert.equal(g(k.m, 'sink'), '110');
  assert.equal(g(k.m, 'sink2'), '55');
});

/** csmith's safe_add for int32_t in the shape csmith writes it: a pure leaf (codegen.ts Leaf.pureCall). */
const SADD = `static int32_t
sadd(int32_t a, int32_t b)
{
	return (((a > 0) && (b > 0) && (a > (2147483647 - b))) ||
	    ((a < 0) && (b < 0) && (a < (-2147483647 - 1 - b)))) ? a : (a + b);
}
`;

/**
 * Leaf callees run without a frame object (calls.ts callLeaf): a buffer held only in a leaf's
 * local (its dead frame, which ::findleaks scans), a leaf with a branch, a 64-bit word and a byte,
 * one with a local array (no register form: its memory form), a straight-line leaf that faults in
 * its second statement on the 300th call of thread b; pure leaves (codegen.ts Leaf.pureCall: touching no
 * memory, straight-line) called from a function that keeps its words in variables across them,
 * one with a written local read before it is written (the pattern the stack held).
 */
const LEAVES_SRC = `${HEADERS}
uint32_t out32;
uint64_t out64;
void *keep;

${SADD}
static uint32_t
stale(uint32_t a)
{
	uint32_t z;
	uint32_t w = a * 3;

	z = z + w;	/* z starts as whatever the stack held */
	return (z ^ (w >> 5));
}

static uint64_t
wadd(uint64_t a, uint32_t b)
{
	uint64_t s = a + b;

	return (s ^ (s >> 17));
}

static uint32_t
adds(uint32_t n, int32_t x)
{
	uint32_t i;
	uint64_t h = 5;

	for (i = 0; i < n; i++) {
		x = sadd(x, (int32_t)(i * 977));
		h = wadd(h, stale(i) + (uint32_t)x);
	}
	return ((uint32_t)h ^ (uint32_t)x);
}

static uint32_t
hold(char *p, uint32_t i)
{
	char *q = p;

	q[0] = (char)i;
	return (i + (q[0] & 1));
}

static uint64_t
wide(uint64_t a, uint8_t b)
{
	uint64_t r = a * 0x9e3779b97f4a7c15ULL;

	if (b > 100)
		r ^= r >> 11;
	return (r + b);
}

static int
arr(int x)
{
	int v[3];

	v[0] = x;
	v[1] = x * 2;
	v[2] = v[0] + v[1];
	return (v[2]);
}

static int
poke(int *p, int i)
{
	int v = i * 2;

	return (*p + v);
}

void
entry(void *arg)
{
	uint32_t i;
	char *p = NULL;
	uint64_t acc = 7;

	for (i = 0; i < 500; i++) {
		out32 += adds(i % 5 + 1, (int32_t)out32);
		if ((i % 40) == 0)
			p = kmem_alloc(16, KM_SLEEP);	/* the one before is lost */
		acc = wide(acc, (uint8_t)i);
		out32 += (uint32_t)arr((int)i);
		if (arg != NULL)
			out32 += (uint32_t)poke(i == 300 ? NULL : (int *)&out32, (int)i);
		out32 += hold(p, i);	/* the last call of the loop */
	}
	out64 = acc;
	p = NULL;	/* the last buffer: held only in hold()'s dead frame */
	if (arg == NULL)
		for (;;)
			out32 ^= 1;	/* a live thread: its stack is scanned */
}
`;

/** Preempted every few statements (calls cut at every point), or in long slices (calls run inline). */
const CONFIGS = [{ cpus: 2, tickCycles: 37, quantum: 1, slice: 13, seed: 5 }, { cpus: 2, tickCycles: 5000, quantum: 4, slice: 1000, seed: 3 }];

async function loadLeaves(extra: Record<string, unknown>): Promise<Machine & { events: unknown[] }> {
  const k = await kernelFor({ 'drv.c': LEAVES_SRC }, { threads, extra });
  return Object.assign(k.m, { events: k.events });
}

test('leaf callees run without a frame object: stack bytes, leaks, a fault and values are the memory form\'s at every step limit', async () => {
  const never = { shouldStop: (_m: Machine, _p: StopPoint) => false };
  const before = leafCalls();
  const pure0 = pureCalls();
  const limits = [...Array.from({ length: 40 }, (_, i) => 1 + i * 7), 2000, 5003, 9999, 1_000_000];
  for (const [config, limit] of CONFIGS.flatMap((c) => limits.map((l) => [c, l] as const))) {
    const plain = await loadLeaves(config);
    const slow = await loadLeaves(config);
    slow.policy = never;
    const a = plain.run(limit);
    const b = slow.run(limit);
    assert.equal(JSON.stringify(a), JSON.stringify(b), `limit ${limit}`);
    assert.equal(seen(plain), seen(slow), `limit ${limit}`);
    assert.equal(JSON.stringify(plain.events), JSON.stringify(slow.events), `limit ${limit}: the events (entry and return of every call)`);
    assert.deepEqual(plain.threads.map((t) => t.stack.map((f) => [f.kind, f.pc, (f as { fp?: number }).fp])),
      slow.threads.map((t) => t.stack.map((f) => [f.kind, f.pc, (f as { fp?: number }).fp])), `limit ${limit}: the frames`);
    if (limit === 1_000_000) {
      assert.equal(a.kind, 'panic', 'poke(NULL) faults in thread b');
      assert.match(JSON.stringify(a), /poke/);
      const step = (name: string): StepFn => (plain.sym.lookup(name)!.cfunc as { run: StepFn }).run;
      for (const f of ['hold', 'wide', 'arr', 'poke']) assert.ok(leafOf(step(f)), `${f} has a leaf form`);
      assert.equal(leafOf(step('entry')), null, 'entry calls: not a leaf');
      for (const f of ['sadd', 'stale']) assert.equal(leafOf(step(f))?.pure, true, `${f} is a pure leaf`);
      for (const f of ['hold', 'wide', 'arr', 'poke']) assert.equal(leafOf(step(f))!.pure, false, `${f} is not pure`);
      assert.ok(isRegisterForm(step('adds')), 'adds keeps its words in variables');
    }
  }
  assert.ok(leafCalls() - before > 1000, 'the plain runs called leaves without frame objects');
  assert.ok(pureCalls() - pure0 > 1000, 'and pure leaves with the caller\'s words kept in its variables');
  // The thread that does not fault, spinning after its loop: its leaks with and without frame objects.
  const one = async (policy: boolean): Promise<[string, string]> => {
    const k = await kernelFor({ 'drv.c': LEAVES_SRC }, { threads: [{ name: 'a', entry: 'entry', arg: 0 }] });
    if (policy) k.m.policy = never;
    assert.equal(k.m.run(200_000).kind, 'step-limit');
    return [seen(k.m), createMdb(k.m).execute('::findleaks')];
  };
  const [plainEnd, leaks] = await one(false);
  assert.equal(plainEnd, (await one(true))[0]);
  assert.match(leaks, /Total +11 buffers/, 'of 13 buffers, the last one is held by hold()\'s dead frame (and one more by an older dead frame)');
});

/**
 * A pure leaf in a loop: its dead frame is what the memory form leaves there. Before it in each
 * iteration, a pure leaf whose locals fill the words that are the first one's padding (which its
 * call fills with the pattern again). Before the loop, a pure leaf called with fewer arguments than
 * it has parameters (through a declaration without a prototype): its call takes the arguments as
 * parameters only when the counts agree.
 */
const PURE_SRC = `${HEADERS}
uint32_t out32;
uint64_t out64;
void *keep;

${SADD}
static int32_t less();

static int32_t
mix(int32_t a, int32_t b)
{
	int32_t c = a ^ b;
	int32_t d = c * 3;

	return (c + d);
}

void
entry(void *arg)
{
	uint32_t i;
	int32_t x = (int32_t)(uintptr_t)arg;

	for (i = 0; i < 4; i++)
		x = less(x);
	for (i = 0; i < 3000; i++) {
		out32 += (uint32_t)mix(x, (int32_t)i);
		x = sadd(x, (int32_t)(i * 977));
		out32 += (uint32_t)x;
		out32 ^= i;
	}
}

static int32_t
less(int32_t a, int32_t b)
{
	return (a - b - 1);
}
`;

test('a pure leaf callee (codegen.ts Leaf.pureCall, its body in the caller\'s text without events: inlineText): stack bytes, stats and values are the memory form\'s at every step limit', async () => {
  const never = { shouldStop: (_m: Machine, _p: StopPoint) => false };
  const pure0 = pureCalls();
  const inl0 = inlinedCalls();
  for (const config of CONFIGS) {
    for (const limit of [5, 17, 40, 41, 42, 43, 96, 250, 1001, 4444, 9000, 1_000_000]) {
      const plain = (await kernelFor({ 'drv.c': PURE_SRC }, { threads: [{ name: 'a', entry: 'entry', arg: 3 }, { name: 'b', entry: 'entry', arg: 0x7ffffff0 }], extra: config })).m;
      const slow = (await kernelFor({ 'drv.c': PURE_SRC }, { threads: [{ name: 'a', entry: 'entry', arg: 3 }, { name: 'b', entry: 'entry', arg: 0x7ffffff0 }], extra: config })).m;
      slow.policy = never;
      // No events: the plain runs' pure calls run the leaf's body in the caller's text (codegen.ts inlineText).
      plain.sink = slow.sink = null;
      assert.equal(JSON.stringify(plain.run(limit)), JSON.stringify(slow.run(limit)), `limit ${limit}`);
      assert.equal(seen(plain), seen(slow), `limit ${limit}`);
    }
  }
  assert.ok(pureCalls() - pure0 > 1000, 'the plain runs called the pure leaf');
  assert.ok(inlinedCalls() - inl0 > 1000, 'its body in the caller\'s text (codegen.ts inlineText)');
});

test('a small form without a debugger primes its feedback on its first call (codegen.ts MAX_PRIMED_CHARS); a large one does not', async () => {
  // 300 statements: a form of some 40,000 characters.
  const BIG_SRC = `${HEADERS}
uint32_t out32;

void
entry(void *arg)
{
	uint32_t x = (uint32_t)(uintptr_t)arg;

${Array.from({ length: 300 }, (_, i) => `\tx = x * ${i + 3} + (x >> ${(i % 13) + 1});\n`).join('')}	out32 = x;
}
`;
  const form = async (src: string): Promise<StepFn> => {
    const k = await kernelFor({ 'drv.c': src }, { threads: [{ name: 'a', entry: 'entry', arg: 3 }] });
    assert.equal(k.m.run(1_000_000).kind, 'end');
    const f = (k.m.sym.lookup('entry')!.cfunc as { run: StepFn }).run;
    assert.ok(isRegisterForm(f), 'a register form');
    return f;
  };
  const small = String(await form(PURE_SRC));
  assert.match(small, /if \(primed === false\) \{ primed = true;/);
  // ... its statement checks too: a call with budget 0 at each statement's start runs only its check.
  assert.match(small, /for \(const n of \[0, 1, [0-9, ]+\]\) \{ fr\.pc = n; cstep_entry\(m, t, fr, 0\); \} fr\.pc = pc0;/);
  assert.match(small, /if \(\+\+used > budget\) \{ fr\.pc = 0; return used - 1; \}/);
  assert.doesNotMatch(small, /used >= budget/);
  const big = String(await form(BIG_SRC));
  assert.ok(big.length > 12_000, `${big.length} characters`);
  assert.doesNotMatch(big, /primed/);
});

test('a fresh load of the same C gets its step functions again without building their texts (codegen.ts textKey); other C and other names do not', async () => {
  // s = (s ^ i * K) + (s >> 7) from s0, n times, as uint64_t.
  const expect = (s0: bigint, n: number): bigint => {
    const M = (1n << 64n) - 1n;
    let s = s0;
    for (let i = 0n; i < BigInt(n); i++) s = ((s ^ ((i * 0x9e3779b97f4a7c15n) & M)) + (s >> 7n)) & M;
    return s;
  };
  const src = (s0: bigint, name: string) => `${HEADERS}
uint64_t out64;

static uint64_t
${name}(uint32_t n)
{
	uint64_t s = ${s0}ULL;
	uint32_t i;

	for (i = 0; i < n; i++)
		s = (s ^ (i * 0x9e3779b97f4a7c15ULL)) + (s >> 7);
	return (s);
}

void
entry(void *arg)
{
	out64 = ${name}((uint32_t)(uintptr_t)arg);
}
`;
  const load = async (s0: bigint, name: string) => {
    const k = await kernelFor({ 'drv.c': src(s0, name) }, { threads: [{ name: 'a', entry: 'entry', arg: 300 }] });
    assert.equal(k.m.run(1_000_000).kind, 'end');
    assert.equal(BigInt(k.m.program!.evaluate(k.m, undefined, undefined, 'out64').value), expect(s0, 300), `${name} from ${s0}`);
    return (k.m.sym.lookup(name)!.cfunc as { run: StepFn }).run;
  };
  const a = await load(0x123456789abcdefn, 'mix');
  const t0 = stepTexts();
  assert.equal(await load(0x123456789abcdefn, 'mix'), a, 'the same C: the same step function');
  assert.equal(stepTexts(), t0, 'no text built');
  const b = await load(0xfedcba987654321n, 'mix');
  assert.notEqual(b, a, 'another constant: another function');
  const c = await load(0x123456789abcdefn, 'mux');
  assert.notEqual(c, a, 'another name: another function');
  assert.ok(stepTexts() >= t0 + 2, 'their texts built');
  assert.equal(await load(0xfedcba987654321n, 'mix'), b);
});
