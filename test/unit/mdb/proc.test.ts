/**
 * proc_t: kernel threads belong to p0 (sched), a scenario thread with an LWP is a process of its
 * own, lwp_create() adds an LWP to its creator's process and forklwp() starts a child process;
 * `::ps`, `::threadlist`, `::walk proc` and a per-process `::walk thread` read them from memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scenarioFromObject } from '../../../kernel-sim/scenario';
import { createKernel } from '../../../kernel-sim/kernel';
import { loadDriver } from '../../../kernel-sim/cinterp/index';
import { createMdb } from '../../../kernel-sim/mdb/index';
import { formatAddr } from '../../../kernel-sim/machine/memory';
import type { Machine } from '../../../kernel-sim/machine/machine';
import { scratchDir } from '../../scratch';

const DRIVER = `#include <sys/types.h>
#include <sys/ksynch.h>
#include <sys/cmn_err.h>
#include <sys/thread.h>

static kmutex_t lk;
static kcondvar_t cv;

static void
park(void)
{
	mutex_enter(&lk);
	for (;;)
		cv_wait(&cv, &lk);
}

void
child(void *arg)
{
	cmn_err(CE_NOTE, "%s: pid %d ppid %d lwps %d", curproc->p_user.u_comm,
	    curproc->p_pidp->pid_id, curproc->p_ppid, curproc->p_lwpcnt);
	park();
}

void
vm_main(void *arg)
{
	(void) kctx_lwp_create(child, NULL);
	(void) kctx_forklwp(child, NULL);
	park();
}

void
kwork(void *arg)
{
	cmn_err(CE_NOTE, "kwork: p0 %d lwps %d", curproc == &p0, curproc->p_lwpcnt);
	park();
}
`;

async function run(): Promise<{ m: Machine; out: string[] }> {
  const d = scratchDir('kctx-proc-');
  writeFileSync(join(d, 'drv.c'), DRIVER);
  const s = scenarioFromObject({
    kernel: 'illumos-13917', cpus: 2, seed: 1, sources: ['drv.c'],
    threads: [{ name: 'vm', entry: 'vm_main', lwp: true }, { name: 'kwork', entry: 'kwork' }],
  }, join(d, 's.ksim.json'), d);
  const m = await createKernel(s, { loadDriver });
  const out: string[] = [];
  m.onConsole = (l) => out.push(l);
  // Every thread parks on a condition variable nobody signals: the run ends there.
  assert.equal(m.run(1_000_000).kind, 'deadlock');
  return { m, out };
}

test('proc_t: p0 for kernel threads, a process per scenario LWP, lwp_create joins it, forklwp starts a child', async () => {
  const { m, out } = await run();
  // The driver reads them through curproc (t_procp): comm, p_pidp->pid_id, p_ppid, p_lwpcnt.
  assert.deepEqual(out, ['NOTICE: kwork: p0 1 lwps 0', 'NOTICE: vm: pid 2 ppid 0 lwps 2', 'NOTICE: child/fork: pid 5 ppid 2 lwps 1']);
  const p0 = m.sym.data.get('p0')!.addr;
  const procOf = (name: string) => m.mem.readPtr(m.threadByName(name)!.addr + m.T.t_procp);
  for (const k of ['idle/0', 'idle/1', 'thread_reaper', 'kwork']) assert.equal(procOf(k), p0, k);
  const vm = procOf('vm');
  const forked = procOf('child/fork');
  assert.equal(procOf('child/lwp_create'), vm);
  assert.ok(vm !== p0 && forked !== p0 && forked !== vm);
  // lwp_procp agrees; p_tlist is the process's first thread; the forked process's parent is vm's.
  for (const n of ['vm', 'child/lwp_create', 'child/fork']) {
    const t = m.threadByName(n)!;
    assert.equal(m.mem.readPtr(t.lwp + m.LW.lwp_procp), procOf(n), n);
  }
  const P = m.L.proc.offsets;
  assert.equal(m.mem.readPtr(vm + P.p_tlist!), m.threadByName('vm')!.addr);
  assert.equal(m.mem.readPtr(p0 + P.p_tlist!), m.threadByName('idle/0')!.addr);
  assert.equal(m.mem.readPtr(forked + P.p_parent!), vm);

  const A = formatAddr;
  const th = (n: string) => m.threadByName(n)!;
  const mdb = createMdb(m);
  assert.equal(mdb.execute('::ps -l'), [
    'S PID    PPID   PGID   SID    UID    FLAGS      ADDR             NAME',
    `O 0      0      0      0      0      0x00000001 ${A(p0)} sched`,
    `S 2      0      2      2      0      0x42004000 ${A(vm)} vm`,
    `\tL  0x${A(th('vm').lwp)} ID: 2`,
    `\tL  0x${A(th('child/lwp_create').lwp)} ID: 4`,
    `S 5      2      5      5      0      0x42004000 ${A(forked)} child/fork`,
    `\tL  0x${A(th('child/fork').lwp)} ID: 5`,
    '',
  ].join('\n'));
  const row = (n: string, desc: string) => `${A(th(n).addr)} ${A(procOf(n))} ${th(n).lwp ? A(th(n).lwp) : '               0'} ${desc}`;
  assert.equal(mdb.execute('::threadlist'), [
    '            ADDR             PROC              LWP CMD/LWPID',
    row('idle/0', 'idle/0'), row('idle/1', 'idle/1'), row('thread_reaper', 'thread_reaper'),
    row('vm', 'vm/2'), row('kwork', 'kwork'), row('child/lwp_create', 'vm/4'), row('child/fork', 'child/fork/5'),
    '',
  ].join('\n'));
  assert.equal(mdb.execute('::walk proc'), [A(p0), A(vm), A(forked), ''].join('\n'));
  assert.equal(mdb.execute(`${A(vm)}::walk thread`), [A(th('vm').addr), A(th('child/lwp_create').addr), ''].join('\n'));
  // A thread's address is no process: no thread has it as its t_procp. Unmapped: mdb's error.
  assert.equal(mdb.execute(`${A(th('kwork').addr)}::walk thread`), '');
  assert.match(mdb.execute('1234::walk thread'), /^mdb: failed to read proc at 1234: no mapping for address/);
  assert.match(mdb.execute('p0::print proc_t p_user.u_comm'), /^p_user\.u_comm = \[ "sched" \]/);
});
