/**
 * The interpreter's generated step functions (kernel-sim/cinterp/codegen.ts): a C corpus gives the
 * values, traces, stats, stepping positions and data stops recorded when a second engine (the
 * closure loop, removed since) gave the same; a fault panics where it happens; and a debugger
 * policy that never stops changes nothing (cycles, schedule, trace).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Machine, RunOutcome, StopPoint } from '../../../kernel-sim/machine/machine';
import { kernelFor, g, HEADERS } from '../cinterp/helpers';

/** A C semantics corpus: every operator family, widths and signedness, memory through pointers. */
const CORPUS = `${HEADERS}
struct node { int32_t a; uint32_t b; int64_t c; uint64_t d; uint8_t e; int8_t f; uint16_t g; int16_t h; struct node *next; unsigned bf1 : 3; int bf2 : 5; };
struct node nodes[4];
uint64_t sink64;
int64_t sinks64;
uint32_t sink32;
int32_t sinks32;
uint64_t csum;
int counter;
uint8_t bytes[16];
static int64_t ga = -5;
uint64_t sink;

static void
mix(uint64_t v)
{
	csum = (csum ^ v) * 1099511628211ULL;
	csum += (csum >> 29) | (csum << 7);
}

static int
fib(int n)
{
	if (n < 2)
		return (n);
	return (fib(n - 1) + fib(n - 2));
}

static uint64_t
ops64(uint64_t x, int64_t y)
{
	uint64_t r = 0;
	r += x * 3; r -= y; r ^= x << 13; r |= (uint64_t)y >> 7; r &= ~0x5aULL;
	r += x / 7 + x % 11; r += (uint64_t)(y / -3) + (uint64_t)(y % 5);
	int64_t s = y;
	s *= -9; s += (int64_t)x; s >>= 3; s -= 0x7fffffffffffLL; s <<= 2; s /= 3; s %= 1000000007LL;
	r /= 3; r %= 1000000007ULL; r <<= (uint64_t)1; r >>= 1; r += ~r >> 60;
	r += (uint64_t)s;
	r += x > 0xfffffffffffffULL; r += y < -1; r += x >= (uint64_t)y; r += (x == 42) + (y != 42);
	return (r);
}

static uint32_t
ops32(uint32_t x, int32_t y)
{
	uint32_t r = x;
	r += y; r *= 2654435761U; r ^= r >> 15; r -= y << 3; r = r % 1000003 + r / 9;
	int32_t s = y;
	s = s * 31 - 7; s ^= 0x55; s >>= 2; s = -s; s = ~s; s |= 3; s &= 0x7ffffff;
	r /= 3; r %= 977; r <<= 2; r >>= 1; s /= 3; s %= 977; s <<= 2; s >>= 1;
	uint8_t b = (uint8_t)(x + 200); int8_t c = (int8_t)(y - 100);
	uint16_t h = (uint16_t)(x * 3000); int16_t k = (int16_t)(y * 3000);
	b++; c--; h += 7; k -= 9; b <<= 1; c >>= 1;
	r += s + b + c + h + k + (x > y) + (y < 0) + !x + !!y;
	r += x ? (uint32_t)y : x + 1;
	r += (x && y) + (x || 0) + (y > 3 && x < 9);
	return (r);
}

static void
walk(struct node *n, int i)
{
	n->a = i * -1000; n->b = i * 0x9e3779b9U; n->c = (int64_t)i * -123456789012LL; n->d = (uint64_t)i * 0xfedcba9876ULL;
	n->e = i * 77; n->f = i * 77; n->g = i * 7777; n->h = i * 7777; n->bf1 = i; n->bf2 = -i;
	n->a += 5; n->b -= 6; n->c *= 3; n->d ^= n->c; n->e++; ++n->f; n->g--; --n->h;
	n->d += n->d > 5 ? n->a : n->b;
	n->d >>= 2; n->c /= 7; n->b %= 1000; n->a <<= 3; n->g *= 3; n->h /= 2; n->e %= 9;
	n->next = &nodes[(i + 1) % 4];
}

void
entry(void *arg)
{
	int i, j;
	uint64_t big = 0x1fffffffffffffULL;

	for (i = 0; i < 4; i++)
		walk(&nodes[i], i + 1);
	for (i = 0; i < 4; i++) {
		struct node *n = &nodes[i];
		mix(n->a); mix(n->b); mix(n->c); mix(n->d); mix(n->e); mix(n->f); mix(n->g); mix(n->h);
		mix(n->bf1); mix(n->bf2); mix(n->next->a);
	}
	for (i = 0; i < 300; i++) {
		sink64 += ops64(big + i * 0x100000001ULL, (int64_t)i * -77777777777LL);
		sink32 += ops32(i * 2654435761U, i - 150);
		big += big >> 3;
		bytes[i & 15] += i;
		switch (i % 5) {
		case 0: counter += 1; break;
		case 1: counter -= 2;
		case 2: counter *= 3; break;
		default: counter ^= i; break;
		}
		if (i == 250)
			goto out;
	}
out:
	j = 0;
	do {
		j += 3;
		sinks32 += j * j;
	} while (j < 100);
	while (j-- > 90)
		sinks64 += ga-- * j;
	sinks32 += fib(12);
	for (i = 0; i < 16; i++)
		mix(bytes[i]);
	mix(sink64); mix(sink32); mix(sinks32); mix(sinks64); mix(counter); mix(big);
}
`;

const NAMES = ['csum', 'sink64', 'sinks64', 'sink32', 'sinks32', 'counter', 'nodes[2].d', 'nodes[3].bf2', 'bytes[7]', 'ga'];

interface Run {
  outcome: RunOutcome;
  values: Record<string, string>;
  stats: Machine['stats'];
  events: string;
  console: string[];
}

async function run(src: string, o: { policy?: Machine['policy']; threads?: unknown[]; cpus?: number; names?: string[]; slice?: number; watch?: string }): Promise<Run> {
  const k = await kernelFor({ 'drv.c': src }, { threads: o.threads, extra: { cpus: o.cpus ?? 2, tickCycles: 37, quantum: 1, slice: o.slice ?? 13, seed: 5 } });
  k.m.policy = o.policy ?? null;
  if (o.watch) k.m.setWatchpoints([{ id: 1, addr: globalAddr(k.m, o.watch), size: 8 }]);
  const outcome = k.m.run(20_000_000);
  const values: Record<string, string> = {};
  for (const n of o.names ?? NAMES) values[n] = g(k.m, n);
  return { outcome, values, stats: { ...k.m.stats }, events: JSON.stringify(k.events), console: k.console };
}

/** The internal address of a global (what m.watchpoints holds). */
function globalAddr(m: Machine, name: string): number {
  const addr = m.program!.evaluate(m, undefined, undefined, `&${name}`).value;
  return Number(BigInt('0x' + addr.replace(/^0x/, '')) - 0xfffffe00f0000000n);
}

const sha = (x: unknown): string => createHash('sha256').update(typeof x === 'string' ? x : JSON.stringify(x)).digest('hex').slice(0, 16);

const threads = [{ name: 'a', entry: 'entry', arg: 0 }, { name: 'b', entry: 'entry', arg: 1 }, { name: 'c', entry: 'entry', arg: 2 }];

/*
 * Recorded at fd94f10, where the closure loop and the generated code both ran this corpus and
 * gave the same values, stats, trace and console (the test that compared them, then).
 */
const CORPUS_VALUES = {
  csum: '17671211126205926853', sink64: '610068535653', sinks64: '-76764', sink32: '26038341', sinks32: '369927',
  counter: '1091892783', 'nodes[2].d': '4611685312672716972', 'nodes[3].bf2': '-4', 'bytes[7]': '208', ga: '-41',
};
const CORPUS_STATS = '1bead508e4277859';
// The events' `at` of a switch's later phases is their own cycle since the swtch frame reports
// it per phase (Machine.phaseUsed); was 9976d9a2fd5b2e6f when they carried the step's first.
// The `at` of the events a C step's calls record is the step's start plus the cycles of the
// statements before the call's in that step (codegen.ts buildStep); was c71e75665603dd59 when
// they carried the step's start (and so moved with a stop at a C line).
const CORPUS_EVENTS = 'e9a275c67f4ae1ba';

test('a C semantics corpus: the values, trace and stats two engines agreed on', async () => {
  const r = await run(CORPUS, { threads });
  assert.equal(r.outcome.kind, 'end', JSON.stringify(r.outcome));
  assert.deepEqual(r.values, CORPUS_VALUES);
  assert.equal(sha(r.stats), CORPUS_STATS);
  assert.equal(sha(r.events), CORPUS_EVENTS);
  assert.deepEqual(r.console, []);
  assert.ok(r.stats.switches > 10, 'the threads interleave');
});

test('a policy that never stops changes nothing: same trace and stats as no policy', async () => {
  const never = { shouldStop: (_m: Machine, _p: StopPoint) => false };
  const plain = await run(CORPUS, { threads });
  const watched = await run(CORPUS, { threads, policy: never });
  assert.deepEqual(watched.values, plain.values);
  assert.deepEqual(watched.stats, plain.stats);
  assert.equal(watched.events, plain.events);
});

test('fast paths and the debugger slow path agree: a watchpoint armed on bytes never stored changes nothing', async () => {
  // Without a debugger the generated code skips the per-statement stop checks and the watchpoint
  // tests (codegen.ts POL, WATCH) and runs callees inline; with a policy and a watchpoint it does
  // neither. The trace, the cycle counts and every value are the same, for several slices.
  const never = { shouldStop: (_m: Machine, _p: StopPoint) => false };
  for (const slice of [13, 1000]) {
    const plain = await run(CORPUS, { threads, slice });
    const watched = await run(CORPUS, { threads, slice, policy: never, watch: 'sink' });
    assert.equal(plain.outcome.kind, 'end');
    assert.deepEqual(watched.values, plain.values);
    assert.deepEqual(watched.stats, plain.stats);
    assert.equal(watched.events, plain.events);
    if (slice === 13) assert.equal(sha(plain.events), CORPUS_EVENTS);
  }
});

test('loads of the same C share their step functions, each load with its own values', async () => {
  // The same function text in two programs whose globals lie at different addresses: one step
  // function serves both (codegen.ts STEPS), each frame bringing its own function's values.
  const prog = (pad: number) => `${HEADERS}
int pad[${pad}];
int acc;
static int
add(int x)
{
	acc += x;
	return (acc);
}
void
entry(void *arg)
{
	int i;
	for (i = 1; i <= 100; i++)
		(void) add(i * (int)(uintptr_t)arg);
}
`;
  const a = await kernelFor({ 'drv.c': prog(1) }, { arg: 1, extra: { slice: 50 } });
  const b = await kernelFor({ 'drv.c': prog(300) }, { arg: 3, extra: { slice: 50 } });
  assert.notEqual(g(a.m, '&acc'), g(b.m, '&acc'));
  // Interleaved, a few hundred cycles at a time.
  for (let steps = 200; ; steps += 200) {
    const ra = a.m.run(steps), rb = b.m.run(steps);
    if (ra.kind === 'end' && rb.kind === 'end') break;
    assert.ok(steps < 100_000, `${ra.kind} ${rb.kind}`);
  }
  assert.equal(g(a.m, 'acc'), '5050');
  assert.equal(g(b.m, 'acc'), '15150');
  const stepOf = (m: Machine) => (m.sym.lookup('add')!.cfunc as { run: unknown; env: unknown[] });
  assert.equal(stepOf(a.m).run, stepOf(b.m).run, 'one step function for both loads');
  assert.notEqual(stepOf(a.m).env, stepOf(b.m).env);
});

/** Stops at every statement, resuming each time; the positions and cycle counts seen. */
async function stepAll(src: string, extra: (m: Machine) => void = () => {}): Promise<string[]> {
  const k = await kernelFor({ 'drv.c': src }, { extra: { cpus: 1, tickCycles: 50, quantum: 1, slice: 7 } });
  const m = k.m;
  m.policy = { shouldStop: (_m, p) => p.kind === 'statement' || p.kind === 'data' };
  extra(m);
  const seen: string[] = [];
  for (let i = 0; i < 20_000; i++) {
    const r = m.run(5_000_000);
    if (r.kind !== 'stopped') {
      seen.push(`${r.kind} ${m.stats.steps}`);
      break;
    }
    const p = r.point;
    const d = p.detail as { line?: number; column?: number; frameIndex?: number; id?: number };
    seen.push(`${p.kind} ${p.thread.name} ${d.line ?? ''}:${d.column ?? ''} f${d.frameIndex ?? ''} w${d.id ?? ''} @${m.stats.steps}`);
    m.skipStopOnce = true;
  }
  return seen;
}

const SMALL = `${HEADERS}
uint64_t total;
int hits[4];

static int
sq(int x)
{
	int y = x * x;
	return (y);
}

void
entry(void *arg)
{
	int i;
	for (i = 0; i < 6; i++) {
		hits[i & 3] += sq(i);
		total += hits[i & 3];
	}
	if (total > 10)
		total = total * 2;
}
`;

test('stepping every statement: the positions, frames and cycle counts two engines agreed on', async () => {
  const a = await stepAll(SMALL);
  assert.ok(a.length > 30, a.join('\n'));
  assert.match(a[a.length - 1]!, /^end /);
  // Recorded at fd94f10 (closures and generated code gave the same).
  assert.deepEqual([a.length, sha(a)], [36, '68c385ed3624c245']);
});

test('watchpoints stop after the store two engines agreed on', async () => {
  const watch = (m: Machine) => {
    m.setWatchpoints([{ id: 7, addr: globalAddr(m, 'hits[2]'), size: 4 }]);
  };
  const a = await stepAll(SMALL, watch);
  assert.ok(a.some((l) => l.startsWith('data ')), a.join('\n'));
  // Recorded at fd94f10 (closures and generated code gave the same).
  assert.deepEqual([a.length, sha(a)], [36, 'cb809de1d17b1c54']);
});

test('a fault in generated code panics at the faulting function, with the stores before it done', async () => {
  const src = `${HEADERS}
struct s { int a; int b; };
int seen;
static int
deref(struct s *p)
{
	seen = 1;
	return (p->b + 1);
}
void
entry(void *arg)
{
	struct s *p = NULL;
	seen = deref(p);
}
`;
  const a = await run(src, { names: ['seen'] });
  assert.equal(a.outcome.kind, 'panic');
  const info = (a.outcome as { info: { message: string; stack: string[] } }).info;
  assert.match(info.message, /^BAD TRAP: type=e \(#pf Page fault\) rp=[0-9a-f]+ addr=4$/);
  // The positions both engines gave (fd94f10).
  assert.deepEqual(info.stack, ['deref+0xc(0)', 'entry+0x10(0)', 'thread_start+0x8()']);
  assert.deepEqual(a.values, { seen: '1' });
});
