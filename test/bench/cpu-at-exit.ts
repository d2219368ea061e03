/**
 * Preloaded (`node -r`) into a process a bench starts: at exit, writes the CPU time the whole
 * process used to the file KCTX_BENCH_CPU names (JSON of process.cpuUsage()).
 */
import { writeFileSync } from 'node:fs';

const out = process.env.KCTX_BENCH_CPU;
if (out) {
  delete process.env.KCTX_BENCH_CPU;
  process.on('exit', () => writeFileSync(out, JSON.stringify(process.cpuUsage())));
}
