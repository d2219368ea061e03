/**
 * The translation units kept for the next load in the same process (cinterp/unit-cache.ts): a
 * second load of an unchanged scenario reuses them and runs byte-identically (the same events
 * and console); a changed header, or other defines, make a fresh unit.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { recordedRun } from './helpers';
import { unitCacheStats } from '../../../kernel-sim/cinterp/unit-cache';
import { scratchDir } from '../../scratch';

const DRV = '#include <sys/types.h>\n#include <sys/cmn_err.h>\n#include <sys/disp.h>\n#include "vcpu.h"\nvoid\nentry(void *arg)\n{\n\tint i;\n\tfor (i = 0; i < 3; i++) {\n\t\tcmn_err(CE_NOTE, "%s %d", VCPU_NAME, i);\n\t\tdelay(1);\n\t}\n}\n';

async function load(dir: string, defines: Record<string, number>) {
  const { outcome, console, events } = await recordedRun(dir, { kernel: 'illumos-13917', cpus: 1, sources: ['drv.c'], defines, threads: [{ name: 'a', entry: 'entry' }, { name: 'b', entry: 'entry' }] });
  return { outcome, console, events };
}

test('a second load in the same process reuses the preprocessed and parsed unit and runs byte-identically; a changed header or other defines make a fresh one', async () => {
  const dir = scratchDir('kctx-unitcache-');
  writeFileSync(join(dir, 'drv.c'), DRV);
  writeFileSync(join(dir, 'vcpu.h'), '#define VCPU_NAME "vcpu0"\n');
  const h0 = unitCacheStats().hits;
  const a = await load(dir, { DEBUG: 1 });
  assert.equal(a.outcome.kind, 'end');
  assert.equal(unitCacheStats().hits, h0, 'the first load makes the unit');
  const b = await load(dir, { DEBUG: 1 });
  assert.equal(unitCacheStats().hits, h0 + 1, 'the second load of the same scenario reuses it');
  assert.deepEqual(b.outcome, a.outcome);
  assert.deepEqual(b.console, a.console);
  assert.equal(b.events, a.events);
  // A changed header: a fresh unit, which sees the change.
  writeFileSync(join(dir, 'vcpu.h'), '#define VCPU_NAME "vcpu1"\n');
  const c = await load(dir, { DEBUG: 1 });
  assert.equal(unitCacheStats().hits, h0 + 1);
  assert.equal(c.console[0], 'NOTICE: vcpu1 0');
  // Other defines: another unit.
  await load(dir, { DEBUG: 0 });
  assert.equal(unitCacheStats().hits, h0 + 1);
});
