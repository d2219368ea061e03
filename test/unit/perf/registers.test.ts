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
import { isRegisterForm, type StepFn } from '../../../kernel-sim/cinterp/codegen';
import { registerForm } from '../../../kernel-sim/cinterp/registers';
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

test('registerForm: words become variables; any other use of the frame pointer keeps the memory form', () => {
  const yes = (x: string) => registerForm(x, 'K1', () => false, () => false);
  const r = yes('($3 = 0, (U32[(fp + 4) >>> 2] = $3, (WATCH && K2(m, (fp + 4), 4))), $3); c = (U32[(fp + 4) >>> 2] < I32[(fp + 0) >>> 2]);')!;
  assert.equal(r.body, '($3 = 0, (L4 = (($3) >>> 0), (WATCH && K2(m, (fp + 4), 4))), $3); c = (L4 < L0);');
  assert.deepEqual(r.slots, [0, 4]);
  assert.equal(r.spill((v) => v), 'U32[(fp + 4) >>> 2] = L4;', 'only the written word is stored back');
  // A slot seen as signed and unsigned is kept as an int32.
  assert.equal(yes('I32[(fp + 8) >>> 2] = x; y = U32[(fp + 8) >>> 2];')!.body, 'L8 = ((x) | 0); y = (L8 >>> 0);');
  // Pointers through readPtr and writePtr.
  assert.equal(yes('K1.writePtr((fp + 16), K1.readPtr((fp + 16)) + 8); q = K1.readPtr((fp + 16));')!.body, '(P16 = P16 + 8); q = P16;');
  // An address taken, a byte of a word slot, a call that stores a variable: no register form.
  assert.equal(yes('U32[(fp + 4) >>> 2] = 1; K3(fp + 4);'), null);
  assert.equal(yes('U32[(fp + 4) >>> 2] = 1; y = U8[(fp + 5)];'), null);
  assert.equal(yes(`U32[(fp + 4) >>> 2] = 1; r = \u0001K3(K4, fr, t, [(U32[(fp + 4) >>> 2] = 2)])\u0002;`), null);
  assert.equal(yes('y = K9.readPtr((fp + 8));'), null, 'readPtr of another object');
  // 16-bit words through the DataView: a store converts as the view the loads use.
  assert.equal(yes('(D.setUint16((fp + 6), $1 & 0xffff, true)); y = D.getInt16((fp + 6), true);')!.body, '((L6 = ((($1 & 0xffff) << 16) >> 16))); y = L6;');
  assert.equal(yes('(D.setUint16((fp + 6), 1, true)); y = U8[(fp + 4)];'), null, 'a byte in the same word');
});
