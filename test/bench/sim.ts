/**
 * Simulator benchmarks: context switches per second with native ctxop handlers (64 threads,
 * 4 ctxops each, 2 CPUs, tracing off), next to the real Linux kernel's context-switch rate on
 * this machine (two processes ping-ponging a byte over pipes, built with gcc), so the figure is
 * a ratio. Also checks that memory stays flat with tracing off.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createKernel } from '../../kernel-sim/kernel';
import { scenarioFromObject } from '../../kernel-sim/scenario';
import { kernelAttach } from '../../kernel-sim/abi/ctxops';
import type { Machine } from '../../kernel-sim/machine/machine';
import { scratchDir } from '../scratch';

export interface BenchRow {
  name: string;
  value: string;
  target?: string;
}

/** A machine tuned to switch at every tick: 64 spinning LWPs with 4 native ctxops each. */
export async function switchStorm(threads = 64, cpus = 2, ticks = 1_000_000_000): Promise<Machine> {
  const s = scenarioFromObject({
    kernel: 'illumos-13917', cpus, seed: 7, tickCycles: 20, quantum: 1, slice: 10,
    threads: Array.from({ length: threads }, (_, i) => ({ name: `spin${i}`, entry: 'builtin:spin', arg: ticks, lwp: true, schedctl: true })),
  }, '<bench>', process.cwd());
  const m = await createKernel(s);
  const save = m.native('bench_ctx_save', () => 0, 'bench');
  const restore = m.native('bench_ctx_restore', () => 0, 'bench');
  for (const t of m.threads) {
    if (t.role === 'scenario') kernelAttach(m, t, t, { save, restore, fork: 0, lwpCreate: 0, exit: 0, free: 0 }, t.addr, 'bench');
  }
  return m;
}

/** Wall and CPU seconds (process.cpuUsage: the machine is shared, CPU time is the steadier figure). */
export function measureSim(m: Machine, switches: number): { perSec: number; secs: number; cpu: number; hooks: number } {
  const start = m.stats.switches;
  const hooks0 = m.stats.hooks;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  while (m.stats.switches - start < switches) m.run(m.stats.steps + 200_000);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  return { perSec: (m.stats.switches - start) / secs, secs, cpu: (c.user + c.system) / 1e6, hooks: m.stats.hooks - hooks0 };
}

/** Heap in use after a full collection (so growth means retained objects, not garbage not yet collected). */
function heapAfterGc(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}

/** Best and median of several runs, as "best (median of n)". */
export function spread(xs: number[], digits = 3): string {
  const s = xs.slice().sort((a, b) => a - b);
  return `${s[0]!.toFixed(digits)} (median ${s[Math.floor(s.length / 2)]!.toFixed(digits)} of ${s.length})`;
}

const PINGPONG = `
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <time.h>
int main(int argc, char **argv) {
  long n = atol(argv[1]);
  int a[2], b[2];
  char c = 0;
  if (pipe(a) || pipe(b)) return 1;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (fork() == 0) {
    for (long i = 0; i < n; i++) { if (read(a[0], &c, 1) != 1) return 1; if (write(b[1], &c, 1) != 1) return 1; }
    return 0;
  }
  for (long i = 0; i < n; i++) { if (write(a[1], &c, 1) != 1) return 1; if (read(b[0], &c, 1) != 1) return 1; }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf("%f\\n", 2.0 * n / s);
  return 0;
}
`;

/** Real context switches per second: a pipe ping-pong between two processes on one CPU. */
export function linuxSwitchRate(rounds = 200_000): number | string {
  try {
    const dir = scratchDir('kctx-bench-');
    writeFileSync(join(dir, 'pp.c'), PINGPONG);
    execFileSync('gcc', ['-O2', '-o', join(dir, 'pp'), join(dir, 'pp.c')], { stdio: 'pipe' });
    // Pin both processes to one CPU so every hand-off is a context switch.
    const taskset = spawnSync('taskset', ['-c', '0', join(dir, 'pp'), String(rounds)], { encoding: 'utf8' });
    const out = taskset.status === 0 ? taskset.stdout : execFileSync(join(dir, 'pp'), [String(rounds)], { encoding: 'utf8' });
    return Number(out.trim());
  } catch (e) {
    return `unavailable (${(e as Error).message.split('\n')[0]})`;
  }
}

export async function benchSim(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const m = await switchStorm();
  measureSim(m, 100_000); // warm up
  const heap0 = heapAfterGc();
  const runs = [measureSim(m, 1_000_000), measureSim(m, 1_000_000), measureSim(m, 1_000_000)];
  const heap1 = heapAfterGc();
  const r = runs.slice().sort((a, b) => a.cpu - b.cpu)[1]!;
  rows.push({ name: 'sim: context switches/s (64 thr, 4 native ctxops, 2 CPUs, no trace)', value: Math.round(r.perSec).toLocaleString('en-US'), target: '> 1,000,000' });
  rows.push({ name: 'sim: 1,000,000 switches took (wall s, best and median of 3)', value: `${spread(runs.map((x) => x.secs))} (${r.hooks.toLocaleString('en-US')} hook calls)`, target: '< 1 s' });
  rows.push({ name: 'sim: 1,000,000 switches took (CPU s, best and median of 3)', value: spread(runs.map((x) => x.cpu)), target: '< 1 s' });
  rows.push({ name: 'sim: heap growth over 3,000,000 switches (after a full GC)', value: `${(Math.abs(heap1 - heap0) < 52429 ? 0 : (heap1 - heap0) / 1048576).toFixed(1)} MB`, target: 'flat' });
  const linux = linuxSwitchRate();
  rows.push({ name: 'linux: context switches/s (pipe ping-pong, 1 CPU)', value: typeof linux === 'number' ? Math.round(linux).toLocaleString('en-US') : linux });
  if (typeof linux === 'number') rows.push({ name: 'ratio sim / linux', value: `${(r.perSec / linux).toFixed(2)}x`, target: '>= 2x' });
  return rows;
}

if (require.main === module) {
  benchSim().then((rows) => {
    for (const r of rows) console.log(`${r.name.padEnd(70)} ${r.value.padStart(24)}  ${r.target ?? ''}`);
  });
}
