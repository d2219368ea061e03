/**
 * Against a real illumos-gate checkout, when KCTX_GATE names one (skipped otherwise: CI has no
 * tree). A driver that includes the tree's common headers loads and runs; builtFor is the era
 * the tree declares; the makefiles give the i86pc include path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scenarioFromObject } from '../../../kernel-sim/scenario';
import { createKernel } from '../../../kernel-sim/kernel';
import { loadDriver } from '../../../kernel-sim/cinterp/index';
import { gateBuild } from '../../../kernel-sim/gate/build';
import { gateEra } from '../../../kernel-sim/gate/tree';
import { scratchDir } from '../../scratch';

const GATE = process.env.KCTX_GATE;
const skip = GATE ? false : 'KCTX_GATE is not set (an illumos-gate checkout)';

const DRIVER = `#include <sys/types.h>
#include <sys/param.h>
#include <sys/thread.h>
#include <sys/proc.h>
#include <sys/kmem.h>
#include <sys/cmn_err.h>
#include <sys/ddi.h>
#include <sys/sunddi.h>
#include <sys/kstat.h>
#include <sys/uio.h>
#include <vm/page.h>

void
entry(void *arg)
{
	void *p = kmem_zalloc(64, KM_SLEEP);

	cmn_err(CE_NOTE, "ctxop %d kstat_named %d", (int)sizeof (struct ctxop), (int)sizeof (kstat_named_t));
	kmem_free(p, 64);
}
`;

test('a real gate: the makefiles give the i86pc include path and flags', { skip }, () => {
  const b = gateBuild(GATE!, true);
  const uts = join(GATE!, 'usr/src/uts');
  assert.deepEqual(b.includeDirs.filter((d) => [join(uts, 'i86pc'), join(uts, 'intel'), join(uts, 'common')].includes(d)), [join(uts, 'i86pc'), join(uts, 'intel'), join(uts, 'common')]);
  for (const d of ['_KERNEL', '_SYSCALL32_IMPL', '_ELF64', '_DDI_STRICT', 'i86pc', '_MACHDEP', '_ASM_INLINES', 'DEBUG']) assert.ok(b.defines.some(([n]) => n === d), d);
});

test('a real gate: a driver on the tree\'s common headers loads, runs, and has gcc\'s struct sizes', { skip }, async () => {
  const d = scratchDir('kctx-realgate-');
  writeFileSync(join(d, 'drv.c'), DRIVER);
  const era = gateEra(GATE!).era;
  const s = scenarioFromObject({ kernel: era, gate: GATE, sources: ['drv.c'], defines: { DEBUG: 1 }, stubs: 'auto', threads: [{ name: 't0', entry: 'entry' }] }, join(d, 's.ksim.json'), d);
  assert.equal(s.builtFor, era);
  const t0 = process.hrtime.bigint();
  const m = await createKernel(s, { loadDriver });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const out: string[] = [];
  m.onConsole = (l) => out.push(l);
  assert.equal(m.run(1_000_000).kind, 'end');
  // gcc -m64: struct ctxop is 88 bytes from 12477 on (64 before), kstat_named_t 48.
  assert.deepEqual(out, [`NOTICE: ctxop ${era === 'illumos-pre12477' ? 64 : 88} kstat_named 48`]);
  process.stdout.write(`# real gate ${GATE} (${era}): loaded in ${ms.toFixed(0)} ms\n`);
});
