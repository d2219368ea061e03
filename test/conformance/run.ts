/**
 * `npm run conformance`: a csmith campaign against gcc within a time budget (seconds, first
 * argument; default 300), from seed 1 on (or `--from N`). Programs gcc does not run within 2 s
 * are skipped. Writes out/conformance/csmith-summary.json (figures, load errors by class,
 * mismatches and crashes by seed) and prints it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { csmithAvailable, gccAvailable, generate, gccChecksum, kctxChecksum } from './csmith';
import { scratchDir } from '../scratch';

/** A load error's class: its message with names, numbers and quoted text masked. */
function errorClass(why: string): string {
  return why.replace(/^[^:]*:\d+:\d+: /, '').replace(/'[^']*'/g, "'…'").replace(/\d+/g, 'N');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const fromIdx = args.indexOf('--from');
  let seed = fromIdx >= 0 ? Number(args[fromIdx + 1]) : 1;
  const budget = Number(args.find((a, i) => /^\d+$/.test(a) && args[i - 1] !== '--from') ?? 300);
  if (!csmithAvailable() || !gccAvailable()) {
    console.error('conformance: needs csmith, libcsmith-dev and gcc (apt-get install csmith libcsmith-dev gcc)');
    process.exitCode = 2;
    return;
  }
  const t0 = Date.now();
  const s = { programs: 0, gccSkipped: 0, finished: 0, match: 0, mismatch: [] as number[], crash: [] as Array<{ seed: number; why: string }>, load: 0, panic: 0, limit: 0 };
  const loadClasses = new Map<string, number>();
  const panicClasses = new Map<string, number>();
  const base = scratchDir('kctx-csmith-');
  while ((Date.now() - t0) / 1000 < budget) {
    const dir = join(base, String(seed));
    const file = generate(seed, dir);
    const g = gccChecksum(file);
    if (!g.sum) {
      s.gccSkipped++;
      seed++;
      continue;
    }
    s.programs++;
    const k = await kctxChecksum(dir);
    if (k.kind === 'ok') {
      s.finished++;
      if (k.sum === g.sum) s.match++;
      else s.mismatch.push(seed);
    } else if (k.kind === 'load') {
      s.load++;
      const c = errorClass(k.why);
      loadClasses.set(c, (loadClasses.get(c) ?? 0) + 1);
    } else if (k.kind === 'panic') {
      s.panic++;
      const c = errorClass(k.why);
      panicClasses.set(c, (panicClasses.get(c) ?? 0) + 1);
    } else if (k.kind === 'limit') s.limit++;
    else s.crash.push({ seed, why: k.why });
    process.stderr.write(`seed ${seed}: ${k.kind}${k.kind === 'ok' ? (k.sum === g.sum ? '' : ' MISMATCH') : ''}\n`);
    seed++;
  }
  const summary = {
    seeds: `1..${seed - 1}`, programs: s.programs, gccOver2sOrFailed: s.gccSkipped, finished: s.finished,
    finishedPercent: s.programs ? Math.round((1000 * s.finished) / s.programs) / 10 : 0,
    match: s.match, mismatches: s.mismatch, crashes: s.crash, loadErrors: s.load, panics: s.panic, stepLimit: s.limit,
    loadErrorClasses: Object.fromEntries([...loadClasses].sort((a, b) => b[1] - a[1])),
    panicClasses: Object.fromEntries([...panicClasses].sort((a, b) => b[1] - a[1])),
  };
  const outDir = join(__dirname, '..', '..', 'conformance');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'csmith-summary.json'), JSON.stringify(summary, null, 2) + '\n');
  console.log(JSON.stringify(summary, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
