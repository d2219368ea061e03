/**
 * Interpreter benchmarks: a tight C loop interpreted by kctx next to the same C compiled by
 * `gcc -O0` (timed inside the program, both in this run), and context switches per second
 * when every switch runs ctxop save/restore handlers written in C.
 * Run alone: `node out/test/bench/interp.js`.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createKernel } from '../../kernel-sim/kernel';
import { scenarioFromObject } from '../../kernel-sim/scenario';
import { loadDriver } from '../../kernel-sim/cinterp/index';
import { csmithAvailable, generate, kctxScenario } from '../conformance/csmith';
import { clearUnitCache } from '../../kernel-sim/cinterp/unit-cache';
import { scratchDir } from '../scratch';

/** The loops timed, each next to gcc -O0 (the function `loop(n)` returns the result). */
const LOOPS: Array<{ name: string; n: number; body: string }> = [
  {
    name: 'tight C loop (32-bit arithmetic)',
    n: 5_000_000,
    body: `
static uint64_t
loop(uint32_t n)
{
	uint32_t i;
	uint64_t sum = 0;

	for (i = 0; i < n; i++)
		sum += (i * 7) & 0xffff;
	return (sum);
}
`,
  },
  {
    name: '64-bit loop (xor, multiply, shift, add on uint64_t)',
    n: 1_000_000,
    body: `
static uint64_t
loop(uint32_t n)
{
	uint64_t i;
	uint64_t sum = 0x123456789abcdefULL;

	for (i = 0; i < n; i++)
		sum = (sum ^ (i * 0x9e3779b97f4a7c15ULL)) + (sum >> 7);
	return (sum);
}
`,
  },
  {
    name: 'call loop (csmith-style safe_add, one call per iteration)',
    n: 1_000_000,
    body: `
static int32_t
safe_add(int32_t a, int32_t b)
{
	return (((a > 0) && (b > 0) && (a > (2147483647 - b))) ||
	    ((a < 0) && (b < 0) && (a < (-2147483647 - 1 - b)))) ? a : (a + b);
}

static uint64_t
loop(uint32_t n)
{
	uint32_t i;
	int32_t x = 0;

	for (i = 0; i < n; i++)
		x = safe_add(x, (int32_t)(i & 7));
	return ((uint64_t)(uint32_t)x);
}
`,
  },
];

const gccMain = (body: string): string => `
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
uint64_t bench_result;
${body}
int
main(int argc, char **argv)
{
	struct timespec a, b;
	uint32_t n = (uint32_t)strtoul(argv[1], NULL, 10);
	clock_gettime(CLOCK_MONOTONIC, &a);
	bench_result = loop(n);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%llu %lld\\n", (unsigned long long)bench_result, (long long)((b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec)));
	return (0);
}
`;

const kctxLoop = (body: string): string => `#include <sys/types.h>
uint64_t bench_result;
${body}
void
entry(void *arg)
{
	bench_result = loop((uint32_t)(uintptr_t)arg);
}
`;

const HANDLERS = `#include <sys/types.h>
#include <sys/thread.h>
#include <sys/proc.h>
#include <sys/kmem.h>
#include <sys/ddi.h>

typedef struct bstate {
	uint64_t saves;
	uint64_t restores;
	int id;
} bstate_t;

static void
b_save(void *arg)
{
	bstate_t *b = arg;
	b->saves++;
}

static void
b_restore(void *arg)
{
	bstate_t *b = arg;
	if (b->id >= 0)
		b->restores++;
}

static const struct ctxop_template b_tpl = {
	.ct_rev = CTXOP_TPL_REV,
	.ct_save = b_save,
	.ct_restore = b_restore,
};

void
spin(void *arg)
{
	bstate_t *b = kmem_zalloc(sizeof (*b), KM_SLEEP);
	struct ctxop *c;

	b->id = (int)(uintptr_t)arg;
	c = ctxop_allocate(&b_tpl, b);
	ctxop_attach(curthread, c);
	for (;;)
		drv_usecwait(1000000);
}
`;

export interface BenchRow {
  name: string;
  value: string;
  target?: string;
}

function tmp(): string {
  return scratchDir('kctx-bench-interp-');
}

async function interpLoop(body: string, n: number): Promise<{ ns: number; cpuNs: number; result: string }> {
  const dir = tmp();
  try {
    writeFileSync(join(dir, 'loop.c'), kctxLoop(body));
    const s = scenarioFromObject({
      kernel: 'illumos-13917', cpus: 1, sources: ['loop.c'], tickCycles: 100000, quantum: 1000, slice: 100000,
      threads: [{ name: 'loop', entry: 'entry', arg: n }],
    }, join(dir, 'loop.ksim.json'), dir);
    const m = await createKernel(s, { loadDriver });
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const r = m.run(Number.MAX_SAFE_INTEGER);
    const ns = Number(process.hrtime.bigint() - t0);
    const c = process.cpuUsage(c0);
    if (r.kind !== 'end') throw new Error(`loop did not end: ${r.kind}`);
    return { ns, cpuNs: (c.user + c.system) * 1000, result: m.program!.evaluate(m, undefined, undefined, 'bench_result').value };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function gccLoop(body: string, n: number): { ns: number; result: string } {
  const dir = tmp();
  try {
    writeFileSync(join(dir, 'loop.c'), gccMain(body));
    execFileSync('gcc', ['-O0', '-o', join(dir, 'loop'), join(dir, 'loop.c')]);
    let best = Infinity;
    let result = '';
    for (let i = 0; i < 3; i++) {
      const [res, ns] = execFileSync(join(dir, 'loop'), [String(n)], { encoding: 'utf8' }).trim().split(' ');
      best = Math.min(best, Number(ns));
      result = res!;
    }
    return { ns: best, result };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Loading (preprocess, parse, compile, link) csmith's program for seed 10 (3,289 lines, with
 * safe_math.h about 4,400): in full (nothing kept from an earlier load, in the process or on
 * disk), and again with the process's translation units reused (cinterp/unit-cache.ts).
 */
async function csmithLoad(): Promise<{ full: number[]; reused: number[]; lines: number; phases: Map<string, number[]> } | string> {
  if (!csmithAvailable()) return 'unavailable (csmith and libcsmith-dev are not installed)';
  const dir = tmp();
  const was = process.env.KCTX_CACHE;
  try {
    generate(10, dir);
    const s = kctxScenario(dir);
    const kdir = join(dir, 'kctx');
    const lines = ['prog.c', 'safe_math.h', 'csmith.h'].reduce((k, f) => k + readFileSync(join(kdir, f), 'utf8').split('\n').length, 0);
    // CPU time of each phase of the load (LoadHooks.phase), summed over the units.
    const phases = new Map<string, number[]>();
    let spent: Map<string, number> | null = null;
    let c0 = process.cpuUsage();
    const phase = (name: string): void => {
      const c = process.cpuUsage(c0);
      c0 = process.cpuUsage();
      spent?.set(name, (spent.get(name) ?? 0) + (c.user + c.system) / 1000);
    };
    const time = async (record: boolean): Promise<number> => {
      spent = record ? new Map() : null;
      const t0 = process.hrtime.bigint();
      c0 = process.cpuUsage();
      await createKernel(s, { loadDriver: (m, sc) => loadDriver(m, sc, { phase }) });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      for (const [k, v] of spent ?? []) phases.set(k, [...(phases.get(k) ?? []), v]);
      return ms;
    };
    process.env.KCTX_CACHE = '0';
    const full: number[] = [];
    for (let i = 0; i < 4; i++) {
      clearUnitCache();
      full.push(await time(i > 0));
    }
    const reused: number[] = [];
    for (let i = 0; i < 3; i++) reused.push(await time(false));
    return { full: full.slice(1), reused, lines, phases };
  } finally {
    if (was === undefined) delete process.env.KCTX_CACHE;
    else process.env.KCTX_CACHE = was;
    rmSync(dir, { recursive: true, force: true });
  }
}

async function cSwitches(switches: number): Promise<{ perSec: number; cpuPerSec: number; hooks: number; secs: number }> {
  const dir = tmp();
  writeFileSync(join(dir, 'spin.c'), HANDLERS);
  const s = scenarioFromObject({
    kernel: 'illumos-13917', cpus: 2, seed: 3, sources: ['spin.c'], tickCycles: 20, quantum: 1, slice: 10,
    threads: Array.from({ length: 16 }, (_, i) => ({ name: `spin${i}`, entry: 'spin', arg: i })),
  }, join(dir, 'spin.ksim.json'), dir);
  const m = await createKernel(s, { loadDriver });
  rmSync(dir, { recursive: true, force: true });
  m.run(200_000); // warm up: every thread has attached its ctxop
  const s0 = m.stats.switches;
  const h0 = m.stats.hooks;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  while (m.stats.switches - s0 < switches) m.run(m.stats.steps + 200_000);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  const n = m.stats.switches - s0;
  return { perSec: n / secs, cpuPerSec: n / ((c.user + c.system) / 1e6), hooks: m.stats.hooks - h0, secs };
}

const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchInterp(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const l of LOOPS) {
    await interpLoop(l.body, l.n / 20); // warm-up (JIT)
    // Three interpreted runs (wall and CPU time) against the best of three gcc runs.
    const ips = [await interpLoop(l.body, l.n), await interpLoop(l.body, l.n), await interpLoop(l.body, l.n)];
    const gc = gccLoop(l.body, l.n);
    for (const ip of ips) if (ip.result !== gc.result) throw new Error(`${l.name}: interpreted result ${ip.result} != gcc result ${gc.result}`);
    const ns = median(ips.map((x) => x.ns));
    const cpuNs = median(ips.map((x) => x.cpuNs));
    rows.push({ name: `${l.name}, ${l.n} iterations, interpreted (median of 3)`, value: `${(ns / 1e6).toFixed(1)} ms wall, ${(cpuNs / 1e6).toFixed(1)} ms CPU (${(ns / l.n).toFixed(1)} ns/iteration)` });
    rows.push({ name: '  same loop, gcc -O0 (best of 3)', value: `${(gc.ns / 1e6).toFixed(1)} ms (${(gc.ns / l.n).toFixed(2)} ns/iteration)` });
    rows.push({ name: '  interpreted / gcc -O0 (wall; CPU)', value: `${(ns / gc.ns).toFixed(1)}x; ${(cpuNs / gc.ns).toFixed(1)}x`, target: l.name.startsWith('call') ? '<= 10x' : '<= 5x' });
    // The runs above last 1-15 ms of a program loaded just before, so V8's tiering of its fresh code
    // (and a deoptimization now and then) is much of what they time: the same build gives 5x or 30x.
    // Ten times the iterations, on both sides, is the loop's steady speed.
    const n10 = l.n * 10;
    const long = [await interpLoop(l.body, n10), await interpLoop(l.body, n10), await interpLoop(l.body, n10)];
    const gc10 = gccLoop(l.body, n10);
    for (const ip of long) if (ip.result !== gc10.result) throw new Error(`${l.name}: interpreted result ${ip.result} != gcc result ${gc10.result} (${n10} iterations)`);
    const ns10 = median(long.map((x) => x.ns));
    const cpu10 = median(long.map((x) => x.cpuNs));
    rows.push({
      name: `  steady: ${n10} iterations, interpreted (median of 3) / gcc -O0 (best of 3), wall; CPU`,
      value: `${(ns10 / 1e6).toFixed(0)} ms / ${(gc10.ns / 1e6).toFixed(1)} ms: ${(ns10 / gc10.ns).toFixed(1)}x; ${(cpu10 / gc10.ns).toFixed(1)}x`,
      target: l.name.startsWith('call') ? '<= 10x' : '<= 5x',
    });
  }
  const ld = await csmithLoad();
  if (typeof ld === 'string') rows.push({ name: 'load a csmith program (seed 10)', value: ld });
  else {
    rows.push({ name: `load a csmith program (seed 10, ${ld.lines} lines; preprocess, parse, compile; median of 3)`, value: `${median(ld.full).toFixed(0)} ms`, target: '< 150 ms' });
    rows.push({ name: '  its phases, CPU (median of the same 3 loads)', value: [...ld.phases].map(([k, v]) => `${k} ${median(v).toFixed(0)} ms`).join(', ') });
    rows.push({ name: '  again, its translation units reused in the process (compile only)', value: `${median(ld.reused).toFixed(0)} ms`, target: '< 150 ms' });
  }
  const sws = [await cSwitches(300_000), await cSwitches(300_000)];
  const sw = sws.slice().sort((a, b) => a.cpuPerSec - b.cpuPerSec)[0]!;
  rows.push({ name: 'context switches/s, C save/restore handlers (16 threads, 2 CPUs; worse of 2)', value: `${Math.round(sw.perSec).toLocaleString('en-US')}/s wall, ${Math.round(sw.cpuPerSec).toLocaleString('en-US')}/s CPU (${sw.hooks} C hook calls)`, target: '> 200,000/s' });
  return rows;
}

if (require.main === module) {
  benchInterp().then((rows) => {
    const w = Math.max(...rows.map((r) => r.name.length));
    for (const r of rows) console.log(`${r.name.padEnd(w)}  ${r.value}${r.target ? `  (target ${r.target})` : ''}`);
  }, (e) => {
    console.error(e);
    process.exit(1);
  });
}
