/** Shared setup of the mdb tests: fixture scenarios, a machine run to a fixed point, goldens. */
import { readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { loadScenarioFile } from '../../../kernel-sim/scenario';
import { createKernel } from '../../../kernel-sim/kernel';
import type { Machine } from '../../../kernel-sim/machine/machine';
import { EventRing } from '../../../kernel-sim/trace/events';
import { createMdb } from '../../../kernel-sim/mdb/index';
import { loadDriver } from '../../../kernel-sim/cinterp/index';

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

/** An mdb session transcript: `> CMD` then the output, as `kctx run --mdb` prints it. */
export function transcript(m: Machine, cmds: string[]): string {
  const mdb = createMdb(m);
  return cmds.map((c) => `> ${c}\n${mdb.execute(c)}`).join('');
}

/** Compares with test/fixtures/mdb/golden/NAME.txt; KCTX_UPDATE_GOLDEN=1 rewrites it. */
export function golden(name: string, actual: string): string | undefined {
  const file = resolve(FIXTURES, 'golden', `${name}.txt`);
  if (process.env.KCTX_UPDATE_GOLDEN === '1' || !existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
    return undefined;
  }
  return readFileSync(file, 'utf8');
}
