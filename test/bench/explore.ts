/**
 * `kctx explore` throughput: schedules/s on a two-thread driver of about 4,000 steps, with one and
 * two worker threads, through the shipped CLI (dist/kctx.js). Wall time of the whole command,
 * kernel load included.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

interface BenchRow { name: string; value: string; target?: string }

const ROOT = join(__dirname, '..', '..', '..');
const SCENARIO = join(ROOT, 'test', 'bench', 'explore', 'two-thread.ksim.json');

function rate(jobs: number, budget: number): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'kctx.js'), 'explore', SCENARIO, '--budget', String(budget), '--jobs', String(jobs), '--format', 'json'], { encoding: 'utf8' });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0 && r.status !== 1) throw new Error(`kctx explore exited ${r.status}: ${r.stderr}`);
  const n = (JSON.parse(r.stdout) as { schedules: number }).schedules;
  return n / secs;
}

export async function benchExplore(): Promise<BenchRow[]> {
  const budget = 2000;
  const one = rate(1, budget);
  const two = rate(2, budget);
  return [
    { name: `explore: schedules/s, 2 threads ~4,400 steps, --jobs 1 (${budget} schedules)`, value: Math.round(one).toLocaleString('en-US') },
    { name: `explore: schedules/s, 2 threads ~4,400 steps, --jobs 2 (${budget} schedules)`, value: Math.round(two).toLocaleString('en-US'), target: '>= 200' },
  ];
}

if (require.main === module) {
  void benchExplore().then((rows) => {
    for (const r of rows) console.log(`${r.name.padEnd(70)} ${r.value.padStart(12)}  ${r.target ?? ''}`);
  });
}
