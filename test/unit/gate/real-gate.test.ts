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
import { clearUnitCache } from '../../../kernel-sim/cinterp/unit-cache';
import { diskCacheStats } from '../../../kernel-sim/cinterp/disk-cache';

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

const LAYOUT_DRIVER = `#include <sys/types.h>
#include <sys/param.h>
#include <sys/thread.h>
#include <sys/proc.h>
#include <sys/cpuvar.h>
#include <sys/klwp.h>
#include <sys/cmn_err.h>

void
entry(void *arg)
{
	kthread_t *t = curthread;

	t->t_lockp = NULL;	/* a member kctx does not model: the driver's to write */
	cmn_err(CE_NOTE, "cpu %d tid %d state %d onproc %d lwp %d thread %d sizes %d %d %d",
	    t->t_cpu->cpu_id, t->t_tid, t->t_state, CPU->cpu_thread == t,
	    t->t_lwp != NULL, t->t_lwp != NULL && t->t_lwp->lwp_thread == t,
	    (int)sizeof (kthread_t), (int)sizeof (cpu_t), (int)sizeof (klwp_t));
	cmn_err(CE_NOTE, "%s: pid %d p0 %d lwps %d proc %d", curproc->p_user.u_comm,
	    curproc->p_pidp->pid_id, curproc == &p0, curproc->p_lwpcnt, (int)sizeof (proc_t));
}
`;

test('a real gate: kctx\'s kernel lays kthread_t, cpu_t, klwp_t, proc_t out as the tree does; the driver reads what it writes', { skip }, async () => {
  const d = scratchDir('kctx-realgate-');
  writeFileSync(join(d, 'drv.c'), LAYOUT_DRIVER);
  const era = gateEra(GATE!).era;
  const s = scenarioFromObject({ kernel: era, gate: GATE, cpus: 2, sources: ['drv.c'], defines: { DEBUG: 1 }, stubs: 'auto', threads: [{ name: 'lwp', entry: 'entry', lwp: true }, { name: 'k', entry: 'entry' }] }, join(d, 's.ksim.json'), d);
  const m = await createKernel(s, { loadDriver });
  assert.equal(m.L.tree, true);
  const out: string[] = [];
  m.onConsole = (l) => out.push(l);
  assert.equal(m.run(1_000_000).kind, 'end');
  const sizes = `${m.L.kthread.tree!.size} ${m.L.cpu.tree!.size} ${m.L.klwp.tree!.size}`;
  const psize = m.L.proc.tree!.size;
  assert.deepEqual(out.sort(), [
    `NOTICE: cpu 0 tid 3 state 4 onproc 1 lwp 0 thread 0 sizes ${sizes}`, `NOTICE: cpu 1 tid 2 state 4 onproc 1 lwp 1 thread 1 sizes ${sizes}`,
    `NOTICE: lwp: pid 2 p0 0 lwps 1 proc ${psize}`, `NOTICE: sched: pid 0 p0 1 lwps 0 proc ${psize}`,
  ]);
  process.stdout.write(`# real gate ${GATE} (${era}): sizeof kthread_t, cpu_t, klwp_t = ${sizes}\n`);
});

test('a real gate: the memory and string functions <sys/systm.h> and <sys/sunddi.h> declare are the kernel\'s, not stubs', { skip }, async () => {
  const d = scratchDir('kctx-realgate-');
  writeFileSync(join(d, 'drv.c'), `#include <sys/types.h>
#include <sys/systm.h>
#include <sys/sunddi.h>
#include <sys/cmn_err.h>

void
entry(void *arg)
{
	char a[16], b[16];

	bzero(a, sizeof (a));
	(void) strlcpy(a, "vcpu0-long", 6);
	bcopy(a, b, sizeof (a));
	(void) strlcat(b, "!", sizeof (b));
	cmn_err(CE_NOTE, "%s %d %d %d", b, (int)strlen(b), strcmp(a, "vcpu0"), memcmp(a, b, 5));
}
`);
  const era = gateEra(GATE!).era;
  const s = scenarioFromObject({ kernel: era, gate: GATE, sources: ['drv.c'], defines: { DEBUG: 1 }, stubs: 'auto', threads: [{ name: 't0', entry: 'entry' }] }, join(d, 's.ksim.json'), d);
  const m = await createKernel(s, { loadDriver });
  const out: string[] = [];
  m.onConsole = (l) => out.push(l);
  assert.equal(m.run(1_000_000).kind, 'end');
  assert.deepEqual(out, ['NOTICE: vcpu0! 6 0 0']);
  for (const f of ['bzero', 'strlcpy', 'bcopy', 'strlcat', 'strlen', 'strcmp', 'memcmp']) assert.equal(m.sym.lookup(f)?.kind, 'native', f);
});

test('a real gate: a second load as in a new process takes the preprocessed units from the disk cache and runs byte-identically; a touched header\'s new bytes are a miss', { skip }, async () => {
  const d = scratchDir('kctx-realgate-cache-');
  writeFileSync(join(d, 'drv.c'), DRIVER);
  writeFileSync(join(d, 'extra.h'), '#define EXTRA 1\n');
  writeFileSync(join(d, 'drv2.c'), `#include "extra.h"\n${DRIVER}`);
  const was = process.env.KCTX_CACHE_DIR;
  process.env.KCTX_CACHE_DIR = join(d, 'cache');
  try {
    const era = gateEra(GATE!).era;
    const load = async (src: string) => {
      clearUnitCache(); // as a new process: nothing kept in this one
      const s = scenarioFromObject({ kernel: era, gate: GATE, sources: [src], defines: { DEBUG: 1 }, stubs: 'auto', threads: [{ name: 't0', entry: 'entry' }] }, join(d, 's.ksim.json'), d);
      const c0 = process.cpuUsage();
      const m = await createKernel(s, { loadDriver });
      const c = process.cpuUsage(c0);
      const out: string[] = [];
      const events: unknown[] = [];
      m.onConsole = (l) => out.push(l);
      m.sink = { event: (e) => events.push(e) };
      const outcome = m.run(1_000_000);
      return { run: { outcome, out, events: JSON.stringify(events) }, cpuMs: (c.user + c.system) / 1000 };
    };
    const cold = await load('drv2.c');
    const s1 = diskCacheStats();
    const warm = await load('drv2.c');
    const s2 = diskCacheStats();
    assert.equal(s2.misses, s1.misses, 'nothing preprocessed again');
    assert.ok(s2.hits > s1.hits, 'the second load takes the stored units');
    assert.deepEqual(warm.run, cold.run);
    writeFileSync(join(d, 'extra.h'), '#define EXTRA 2\n');
    const changed = await load('drv2.c');
    assert.equal(diskCacheStats().misses, s2.misses + 1, 'the driver\'s unit read extra.h: a miss (the layouts\' unit did not)');
    assert.deepEqual(changed.run, cold.run, 'the same program (EXTRA is unused)');
    console.log(`real gate, disk cache: cold ${cold.cpuMs.toFixed(0)} ms CPU, warm ${warm.cpuMs.toFixed(0)} ms CPU`);
  } finally {
    if (was === undefined) delete process.env.KCTX_CACHE_DIR;
    else process.env.KCTX_CACHE_DIR = was;
  }
});

test('a real gate: a module\'s own Makefile (intel/zfs: no _MACHDEP, usr/src/common/zfs searched) and a header the build generates (<sys/priv_names.h>, by the tree\'s awk script)', { skip }, async () => {
  const uts = join(GATE!, 'usr/src/uts');
  const zfs = gateBuild(GATE!, true, join(uts, 'intel/zfs'));
  assert.ok(zfs.includeDirs.includes(join(GATE!, 'usr/src/common/zfs')));
  assert.equal(zfs.defines.some(([n]) => n === '_MACHDEP'), false);
  assert.ok(zfs.generated.some((r) => r.name === 'sys/priv_names.h' && r.tool === 'awk'));
  const d = scratchDir('kctx-realgate-');
  writeFileSync(join(d, 'drv.c'), `#include <sys/types.h>
#include <sys/cmn_err.h>
#include <sys/priv_names.h>
#include <zfeature_common.h>

void
entry(void *arg)
{
	cmn_err(CE_NOTE, "%s %d", PRIV_FILE_READ, (int)SPA_FEATURES > 0);
}
`);
  const s = scenarioFromObject({ kernel: gateEra(GATE!).era, gate: GATE, module: 'zfs', sources: ['drv.c'], stubs: 'auto', threads: [{ name: 't0', entry: 'entry' }] }, join(d, 's.ksim.json'), d);
  const m = await createKernel(s, { loadDriver });
  const out: string[] = [];
  m.onConsole = (l) => out.push(l);
  assert.equal(m.run(1_000_000).kind, 'end');
  assert.deepEqual(out, ['NOTICE: file_read 1']);
});
