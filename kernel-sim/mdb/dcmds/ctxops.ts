/**
 * `[addr]::ctxops [-v]` (kctx, not in mdb, which only has the ctxop walker): a thread's ctxop
 * ring (or every thread's) as a table, newest first, with each op's handlers, arg and
 * timestamps; then the handler names in the order savectx() and restorectx() call them in
 * this kernel era. -v adds the fork, lwp_create, exit and free handlers.
 */
import { getopts, DcmdUsage, MdbError, type Dcmd, type DcmdCall } from '../types';
import { readKthread, threadDesc, allThreadAddrs } from '../kthread';
import { findWalker } from '../table';
import { p, p0, rpad, lpad, sym } from '../format';
import { walkOrder, type HookOp } from '../../../core/eras';

function fn(c: DcmdCall, a: number): string {
  return a ? sym(c.m, a) : '-';
}

function ringOf(c: DcmdCall, t: number): number[] {
  return findWalker('ctxop')!.walk({ m: c.m, mdb: c.mdb, addr: t });
}

/** `save newest first` / `restore oldest first`: the order the era's savectx()/restorectx() walk. */
function orderLabel(m: DcmdCall['m'], op: HookOp): string {
  return `${op} order (${walkOrder(m.era, op).replace('-', ' ')}):`;
}

function printThread(c: DcmdCall, t: number, verbose: boolean, always: boolean): boolean {
  const m = c.m;
  const tv = readKthread(m, t);
  const ring = ringOf(c, t);
  if (!ring.length && !always) return false;
  const L = m.L.ctxop.offsets;
  const ts = m.era.ring;
  c.out(`thread ${p(t)} (${threadDesc(m, tv)}): ${ring.length} ctxop${ring.length === 1 ? '' : 's'}, ${m.era.id}`);
  if (!ring.length) return true;
  const ops = ring.map((x) => ({
    addr: x,
    save: m.mem.readPtr(x + L.save_op!),
    restore: m.mem.readPtr(x + L.restore_op!),
    fork: m.mem.readPtr(x + L.fork_op!),
    lwp: m.mem.readPtr(x + L.lwp_create_op!),
    exit: m.mem.readPtr(x + L.exit_op!),
    free: m.mem.readPtr(x + L.free_op!),
    arg: m.mem.readPtr(x + L.arg!),
    sts: ts ? m.mem.readU64n(x + L.save_ts!) : -1,
    rts: ts ? m.mem.readU64n(x + L.restore_ts!) : -1,
  }));
  // Columns as wide as what they hold, so that a ring fits a normal-width panel (under 100
  // columns with the kernel's own handler names).
  const tsText = (v: number) => (v < 0 ? '-' : v.toString(16));
  const wide = (head: string, cells: string[]) => Math.max(head.length, ...cells.map((x) => x.length));
  const ws = wide('SAVE_OP', ops.map((o) => fn(c, o.save)));
  const wr = wide('RESTORE_OP', ops.map((o) => fn(c, o.restore)));
  const wst = wide('SAVE_TS', ops.map((o) => tsText(o.sts)));
  const wrt = wide('RESTORE_TS', ops.map((o) => tsText(o.rts)));
  c.out(`  ${lpad('#', 2)} ${rpad('CTXOP', 16)} ${rpad('SAVE_OP', ws)} ${rpad('RESTORE_OP', wr)} ${rpad('ARG', 16)} ${lpad('SAVE_TS', wst)} ${lpad('RESTORE_TS', wrt)}`);
  ops.forEach((o, i) => {
    c.out(`  ${lpad(i, 2)} ${p0(o.addr)} ${rpad(fn(c, o.save), ws)} ${rpad(fn(c, o.restore), wr)} ${p0(o.arg)} ${lpad(tsText(o.sts), wst)} ${lpad(tsText(o.rts), wrt)}`);
    if (verbose) c.out(`     ${' '.repeat(16)} fork=${fn(c, o.fork)} lwp_create=${fn(c, o.lwp)} exit=${fn(c, o.exit)} free=${fn(c, o.free)}`);
  });
  const inOrder = (op: HookOp) => (walkOrder(m.era, op) === 'oldest-first' ? ops.slice().reverse() : ops);
  const saves = inOrder('save').filter((o) => o.save).map((o) => fn(c, o.save));
  const restoreList = inOrder('restore');
  const restores = restoreList.filter((o) => o.restore).map((o) => fn(c, o.restore));
  const sl = orderLabel(m, 'save');
  const rl = orderLabel(m, 'restore');
  const w = Math.max(sl.length, rl.length);
  c.out(`  ${rpad(sl, w)} ${saves.join(' -> ') || '(none)'}`);
  c.out(`  ${rpad(rl, w)} ${restores.join(' -> ') || '(none)'}`);
  return true;
}

export const ctxopsDcmd: Dcmd = {
  name: 'ctxops',
  usage: '?[-v]',
  description: 'print a thread\'s context ops in save and restore order (kctx)',
  module: 'kctx',
  stability: 'Evolving',
  help:
    'Print the ctxop ring of the thread at addr (without an address: of every thread\n' +
    'that has ctxops), newest first as t_ctx links them: each op\'s save and restore\n' +
    'handlers, its argument and, from illumos#12477 on, the save_ts/restore_ts\n' +
    'timestamps.  Then the handlers in the order savectx() and restorectx() call them\n' +
    'in this kernel era (before 12477 both newest first; from 12477 restore oldest\n' +
    'first).  In a pipeline, prints the ctxop addresses.\n\n' +
    '  -v    also print the fork, lwp_create, exit and free handlers',
  run(c) {
    const o = getopts(c.args, 'v');
    if (o.rest.length) throw new DcmdUsage();
    const m = c.m;
    if (c.flags.pipeOut) {
      const threads = c.flags.addrspec ? [c.addr] : allThreadAddrs(m);
      for (const t of threads) for (const x of ringOf(c, t)) c.out(p(x));
      return;
    }
    if (c.flags.addrspec) {
      if (!m.byAddr.get(c.addr)) {
        readKthread(m, c.addr);
        throw new MdbError(`${p(c.addr)} is not a kernel thread`);
      }
      if (c.flags.loop && !c.flags.loopFirst) c.out('');
      printThread(c, c.addr, o.set.has('v'), true);
      return;
    }
    let any = false;
    for (const t of allThreadAddrs(m)) {
      if (!m.byAddr.get(t) || !ringOf(c, t).length) continue;
      if (any) c.out('');
      printThread(c, t, o.set.has('v'), false);
      any = true;
    }
    if (!any) c.out('no thread has context ops');
  },
};
