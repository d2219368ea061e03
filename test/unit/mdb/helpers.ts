/** Shared setup of the mdb tests: fixture scenarios, a machine run to a fixed point, goldens. */
import { readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { resolve, dirname, join } from 'node:path';
import { loadScenarioFile, scenarioFromObject } from '../../../kernel-sim/scenario';
import { createKernel } from '../../../kernel-sim/kernel';
import type { Machine } from '../../../kernel-sim/machine/machine';
import { EventRing } from '../../../kernel-sim/trace/events';
import { createMdb } from '../../../kernel-sim/mdb/index';
import { loadDriver } from '../../../kernel-sim/cinterp/index';
import { scratchDir } from '../../scratch';

export const ROOT = resolve(__dirname, '../../../..');
export const FIXTURES = resolve(ROOT, 'test/fixtures/mdb');

/** Builds the fixture's machine (with an event ring) and runs it for `steps` (Infinity: to the end). */
export async function machine(fixture: string, steps: number, ring = true): Promise<Machine> {
  // A fixture name, or a path from the repository root (the examples with C drivers).
  const file = fixture.includes('/') ? resolve(ROOT, fixture) : resolve(FIXTURES, `${fixture}.ksim.json`);
  const s = loadScenarioFile(file);
  const m = await createKernel(s, { loadDriver });
  if (ring) {
    const r = new EventRing(4096);
    m.sink = r;
    m.eventRing = r;
  }
  m.run(steps);
  return m;
}

/**
 * A machine running a small C driver given inline (`drv.c` with the entry `entry`, one thread
 * on one CPU), run for `steps` (Infinity: to the end).
 */
export async function cMachine(src: string, steps = Infinity, kernel = 'illumos-13917'): Promise<Machine> {
  const dir = scratchDir('kctx-mdb-');
  writeFileSync(join(dir, 'drv.c'), src);
  const s = scenarioFromObject({ kernel, cpus: 1, seed: 1, sources: ['drv.c'], threads: [{ name: 't0', entry: 'entry' }] }, join(dir, 'drv.ksim.json'), dir);
  const m = await createKernel(s, { loadDriver });
  m.run(steps);
  return m;
}

/** An mdb session transcript: `> CMD` then the output, as `kctx run --mdb` prints it. */
export function transcript(m: Machine, cmds: string[]): string {
  const mdb = createMdb(m);
  return cmds.map((c) => `> ${c}\n${mdb.execute(c)}`).join('');
}

/**
 * The golden text test/fixtures/mdb/golden/NAME.txt. KCTX_UPDATE_GOLDEN=1 (re)writes it and
 * returns undefined; otherwise a missing golden is an error (a test never passes by writing
 * its own expectation).
 */
export function golden(name: string, actual: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = goldenPath(name);
  if (env.KCTX_UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
    return undefined;
  }
  if (!existsSync(file)) throw new Error(`no golden file ${file}: run the test with KCTX_UPDATE_GOLDEN=1 to write it, and read it`);
  return readFileSync(file, 'utf8');
}

export function goldenPath(name: string): string {
  return resolve(FIXTURES, 'golden', `${name}.txt`);
}
