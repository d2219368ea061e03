/**
 * The thread context-op interfaces of the four eras, as native kernel functions with the real
 * argument lists, matching rules, return values, assertions and VERIFY panics
 * (reference: illumos-ctxops.md §3). Only the functions of the machine's era are defined, so
 * a driver that calls another era's function fails to load (an unresolved symbol).
 */
import { KernelPanic, PUSHED, type Machine, type KResult } from '../machine/machine';
import type { KThread } from '../machine/thread';
import { TS_STOPPED } from '../machine/layout';
import { formatAddr, wildPointer } from '../machine/memory';
import { defineKcall, startKcall, park, kline, klineFrom } from './kcall';
import { ringInsert, ringUnlink, ringNewestFirst, findByHandlers, writeCtxop, readHandlers, type CtxHandlers } from './ring';
import { callHook } from '../machine/dispatcher';
import { kpreemptDisable, kpreemptEnable, assertFail, verify3Fail } from './kapi';

export const CTXOP_TPL_REV = 1;
const THREAD_C = '../../common/disp/thread.c';

/** What an old caller leaves in the 9th argument slot: the uninitialized-stack pattern. */
export const GARBAGE_ARG = wildPointer(0xbaddcafe, 0xbaddcafe);

function ctxSize(m: Machine): number {
  return m.L.ctxop.size;
}

function threadOf(m: Machine, addr: number, fn: string): KThread {
  const t = m.byAddr.get(addr);
  if (!t) throw new KernelPanic(`BAD TRAP: type=e (#pf Page fault) rp=0 addr=${formatAddr(addr)}: ${fn}: not a thread`);
  return t;
}

/** ASSERT(t == curthread || ... || t->t_state == TS_STOPPED) of removectx/ctxop_detach/ctxop_remove. */
function assertThreadIsSafe(m: Machine, t: KThread, target: KThread, line: number): void {
  if (!m.cfg.debug) return;
  const neverRan = target.cpu < 0;
  if (target === t || neverRan || m.tState(target) === TS_STOPPED) return;
  assertFail('t == curthread || ttoproc(t)->p_stat == SIDL || ttoproc(t)->p_agenttp == curthread || t->t_state == TS_STOPPED', THREAD_C, line);
}

function handlersFromArgs(args: number[], from: number): CtxHandlers {
  const a = (i: number) => args[from + i] ?? 0;
  return { save: a(0), restore: a(1), fork: a(2), lwpCreate: a(3), exit: a(4), free: a(5) };
}

function handlersFromTemplate(m: Machine, ct: number): CtxHandlers {
  const r = (o: number) => m.mem.readPtr(ct + o);
  return { save: r(m.TPL.ct_save), restore: r(m.TPL.ct_restore), fork: r(m.TPL.ct_fork), lwpCreate: r(m.TPL.ct_lwp_create), exit: r(m.TPL.ct_exit), free: r(m.TPL.ct_free) };
}

function describeHandlers(m: Machine, h: CtxHandlers): string {
  const n = (a: number) => (a ? m.sym.format(a) : 'NULL');
  return `${n(h.save)}/${n(h.restore)}`;
}

/** Registers the era's ctxop functions as kernel symbols. */
export function installCtxopInterface(m: Machine): void {
  const era = m.era;
  if (era.installctxArity) {
    m.native('installctx', (mm, t, args) => startKcall(mm, t, 'installctx', args));
    m.native('removectx', (mm, t, args) => startKcall(mm, t, 'removectx', args));
  }
  if (era.hasPreallocate) {
    m.native('installctx_preallocate', (mm, t) => mm.kmemAllocMaySleep(t, ctxSize(mm), 0, false, 'installctx_preallocate'));
  }
  if (era.hasTemplates) {
    m.native('ctxop_allocate', (mm, t, args) => startKcall(mm, t, 'ctxop_allocate', args));
    m.native('ctxop_free', (mm, t, args) => startKcall(mm, t, 'ctxop_free', args));
    m.native('ctxop_attach', (mm, t, args) => startKcall(mm, t, 'ctxop_attach', args));
    m.native('ctxop_detach', (mm, t, args) => startKcall(mm, t, 'ctxop_detach', args));
    m.native('ctxop_install', (mm, t, args) => startKcall(mm, t, 'ctxop_install', args));
    m.native('ctxop_remove', (mm, t, args) => startKcall(mm, t, 'ctxop_remove', args));
  }
}

/**
 * Inserts under kpreempt_disable (12477 on); the final kpreempt_enable may preempt. For
 * ctxop_attach these are lines a debugger's Step Into walks (kcall.ts kline: those of its
 * listing), and `from` is the first to run when it goes on after a stop at one of them.
 */
function attachCommon(m: Machine, t: KThread, target: KThread, ctx: number, fn: string, from = 0): KResult {
  const kp = m.era.insertUnderKpreempt;
  const lines = fn === 'ctxop_attach';
  if (kp && from <= 1) {
    if (lines) kline(m, t, fn, 1, 'kpreempt_disable();');
    kpreemptDisable(m, t);
  }
  if (from <= 2) {
    if (lines) kline(m, t, fn, 2, 't->t_ctx = ctx;');
    ringInsert(m, target, ctx);
    m.probe(t, 'ctxop:attach', `${fn} ${formatAddr(ctx)} -> ${target.name}`, { ctx });
  }
  if (!kp) return 0;
  if (lines) kline(m, t, fn, 3, 'kpreempt_enable();');
  return kpreemptEnable(m, t);
}

// installctx(t, arg, save, restore, fork, lwp_create, exit, free [, struct ctxop *ctx])
defineKcall('installctx', (m, t, f) => {
  const args = f.args as number[];
  const target = threadOf(m, args[0]!, 'installctx');
  switch (f.pc) {
    case 0: {
      m.entry(t, 'installctx', `${target.name} ${describeHandlers(m, handlersFromArgs(args, 2))}`);
      let ctx = 0;
      if (m.era.installctxArity === 9) {
        // An 8-argument caller built before 13915 leaves garbage in the 9th slot.
        ctx = args.length >= 9 ? args[8]! : GARBAGE_ARG;
      }
      if (ctx === 0) {
        const r = m.kmemAllocMaySleep(t, ctxSize(m), 0, false, 'installctx');
        if (r === PUSHED) return park(t, f, 1);
        ctx = r;
      }
      f.ctx = ctx;
      f.pc = 2;
      return bodyInstall(m, t, f, target);
    }
    case 1:
      f.ctx = t.retval;
      return bodyInstall(m, t, f, target);
    default:
      m.exit(t, 'installctx');
      return 0;
  }
});

function bodyInstall(m: Machine, t: KThread, f: import('../machine/machine').Frame, target: KThread): KResult {
  const args = f.args as number[];
  const ctx = f.ctx as number;
  writeCtxop(m, ctx, handlersFromArgs(args, 2), args[1] ?? 0);
  const r = attachCommon(m, t, target, ctx, 'installctx');
  if (r === PUSHED) return park(t, f, 3);
  m.exit(t, 'installctx');
  return 0;
}

// removectx(t, arg, save, restore, fork, lwp_create, exit, free): 1 if found and freed, else 0.
defineKcall('removectx', (m, t, f) => {
  const args = f.args as number[];
  const target = threadOf(m, args[0]!, 'removectx');
  switch (f.pc) {
    case 0: {
      m.entry(t, 'removectx', target.name);
      assertThreadIsSafe(m, t, target, 1152);
      kpreemptDisable(m, t);
      const ctx = findByHandlers(m, target, handlersFromArgs(args, 2), args[1] ?? 0);
      f.ctx = ctx;
      if (!ctx) {
        f.result = 0;
        return finishRemove(m, t, f, 2);
      }
      ringUnlink(m, target, ctx);
      m.probe(t, 'ctxop:detach', `removectx ${formatAddr(ctx)}`, { ctx });
      f.result = 1;
      // Eras A-C drop t_ctx_lock, then call the free op, then kmem_free.
      const free = m.mem.readPtr(ctx + m.O.free_op);
      if (free) {
        const r = callHook(m, t, 'free', ctx, free, [m.mem.readPtr(ctx + m.O.arg), 0]);
        if (r === PUSHED) return park(t, f, 1);
      }
      f.pc = 1;
      return removeFree(m, t, f);
    }
    case 1:
      return removeFree(m, t, f);
    default:
      m.exit(t, 'removectx');
      return f.result as number;
  }
});

function removeFree(m: Machine, t: KThread, f: import('../machine/machine').Frame): KResult {
  m.kmemFree(t, f.ctx as number, ctxSize(m), 'removectx');
  m.probe(t, 'ctxop:free', formatAddr(f.ctx as number), { ctx: f.ctx as number });
  return finishRemove(m, t, f, 2);
}

function finishRemove(m: Machine, t: KThread, f: import('../machine/machine').Frame, nextPc: number): KResult {
  const r = kpreemptEnable(m, t);
  if (r === PUSHED) return park(t, f, nextPc);
  m.exit(t, f.fn as string);
  return f.result as number;
}

// ctxop_allocate(const struct ctxop_template *ct, void *arg)
defineKcall('ctxop_allocate', (m, t, f) => {
  const args = f.args as number[];
  const ct = args[0]!;
  if (f.pc === 0) {
    m.entry(t, 'ctxop_allocate');
    const rev = m.mem.readU32(ct + m.TPL.ct_rev);
    if (rev !== CTXOP_TPL_REV) verify3Fail('ct->ct_rev', '==', 'CTXOP_TPL_REV', rev, CTXOP_TPL_REV, THREAD_C, 1079);
    const r = m.kmemAllocMaySleep(t, ctxSize(m), 0, false, 'ctxop_allocate');
    if (r === PUSHED) return park(t, f, 1);
    return allocateFill(m, t, ct, args[1] ?? 0, r);
  }
  return allocateFill(m, t, ct, args[1] ?? 0, t.retval);
});

function allocateFill(m: Machine, t: KThread, ct: number, arg: number, ctx: number): number {
  writeCtxop(m, ctx, handlersFromTemplate(m, ct), arg);
  m.probe(t, 'ctxop:alloc', `${formatAddr(ctx)} ${describeHandlers(m, readHandlers(m, ctx))}`, { ctx });
  m.exit(t, 'ctxop_allocate');
  return ctx;
}

// ctxop_free(struct ctxop *ctx): calls the free op (arg, 0), then frees. No attached check.
defineKcall('ctxop_free', (m, t, f) => {
  const ctx = (f.args as number[])[0]!;
  if (f.pc === 0) {
    m.entry(t, 'ctxop_free', formatAddr(ctx));
    const free = m.mem.readPtr(ctx + m.O.free_op);
    if (free) {
      const r = callHook(m, t, 'free', ctx, free, [m.mem.readPtr(ctx + m.O.arg), 0]);
      if (r === PUSHED) return park(t, f, 1);
    }
  }
  m.kmemFree(t, ctx, ctxSize(m), 'ctxop_free');
  m.probe(t, 'ctxop:free', formatAddr(ctx), { ctx });
  m.exit(t, 'ctxop_free');
  return 0;
});

// ctxop_attach(kthread_t *t, struct ctxop *ctx)
defineKcall('ctxop_attach', (m, t, f) => {
  const args = f.args as number[];
  if (f.pc === 0) {
    const from = klineFrom(t, 'ctxop_attach');
    const target = threadOf(m, args[0]!, 'ctxop_attach');
    const ctx = args[1]!;
    if (from === 0) {
      m.entry(t, 'ctxop_attach', `${formatAddr(ctx)} -> ${target.name}`);
      if (m.cfg.debug && (m.mem.readPtr(ctx + m.O.next) !== 0 || m.mem.readPtr(ctx + m.O.prev) !== 0)) {
        assertFail('ctx->next == NULL && ctx->prev == NULL', THREAD_C, 1120);
      }
    }
    if (attachCommon(m, t, target, ctx, 'ctxop_attach', from) === PUSHED) return park(t, f, 1);
  }
  m.exit(t, 'ctxop_attach');
  return 0;
});

// ctxop_detach(kthread_t *t, struct ctxop *ctx): unlinks; does not free, does not call free_op.
defineKcall('ctxop_detach', (m, t, f) => {
  const args = f.args as number[];
  if (f.pc === 0) {
    const target = threadOf(m, args[0]!, 'ctxop_detach');
    const ctx = args[1]!;
    // Its lines (kline), as ctxop_attach's.
    const from = klineFrom(t, 'ctxop_detach');
    if (from === 0) {
      m.entry(t, 'ctxop_detach', `${formatAddr(ctx)} <- ${target.name}`);
      assertThreadIsSafe(m, t, target, 1140);
    }
    if (from <= 1) {
      kline(m, t, 'ctxop_detach', 1, 'kpreempt_disable();');
      kpreemptDisable(m, t);
    }
    if (from <= 2) {
      kline(m, t, 'ctxop_detach', 2, 'ASSERT(t->t_ctx != NULL);');
      const head = m.tCtx(target);
      if (head === 0) assertFail('t->t_ctx != NULL', THREAD_C, 1147);
      if (m.cfg.debug && !ringNewestFirst(m, target).includes(ctx)) {
        // The DEBUG search loop wraps around to the head without finding ctx.
        verify3Fail('cur', '!=', 'head', head, head, THREAD_C, 1153, true);
      }
      ringUnlink(m, target, ctx);
      m.probe(t, 'ctxop:detach', `${formatAddr(ctx)} <- ${target.name}`, { ctx });
    }
    kline(m, t, 'ctxop_detach', 3, 'kpreempt_enable();');
    const r = kpreemptEnable(m, t);
    if (r === PUSHED) return park(t, f, 1);
  }
  m.exit(t, 'ctxop_detach');
  return 0;
});

// ctxop_install(t, ct, arg) = ctxop_attach(t, ctxop_allocate(ct, arg)): still a KM_SLEEP allocation.
defineKcall('ctxop_install', (m, t, f) => {
  const args = f.args as number[];
  switch (f.pc) {
    case 0: {
      m.entry(t, 'ctxop_install');
      const r = startKcall(m, t, 'ctxop_allocate', [args[1]!, args[2] ?? 0]);
      if (r === PUSHED) return park(t, f, 1);
      f.ctx = r;
      f.pc = 2;
      break;
    }
    case 1:
      f.ctx = t.retval;
      break;
    case 3:
      m.exit(t, 'ctxop_install');
      return 0;
  }
  const r = startKcall(m, t, 'ctxop_attach', [args[0]!, f.ctx as number]);
  if (r === PUSHED) return park(t, f, 3);
  m.exit(t, 'ctxop_install');
  return 0;
});

// ctxop_remove(t, ct, arg): 1 if found (then freed; free_op runs with t_ctx_lock held), else 0.
defineKcall('ctxop_remove', (m, t, f) => {
  const args = f.args as number[];
  const target = threadOf(m, args[0]!, 'ctxop_remove');
  switch (f.pc) {
    case 0: {
      m.entry(t, 'ctxop_remove', target.name);
      assertThreadIsSafe(m, t, target, 1196);
      kpreemptDisable(m, t);
      const ctx = findByHandlers(m, target, handlersFromTemplate(m, args[1]!), args[2] ?? 0);
      f.ctx = ctx;
      f.result = ctx ? 1 : 0;
      if (ctx) {
        ringUnlink(m, target, ctx);
        m.probe(t, 'ctxop:detach', `ctxop_remove ${formatAddr(ctx)}`, { ctx });
        const r = startKcall(m, t, 'ctxop_free', [ctx]);
        if (r === PUSHED) return park(t, f, 1);
      }
      return finishRemove(m, t, f, 2);
    }
    case 1:
      return finishRemove(m, t, f, 2);
    default:
      m.exit(t, 'ctxop_remove');
      return f.result as number;
  }
});

/** Allocates a ctxop for kernel-internal use (no events, never blocks): LWP creation. */
export function kernelAttach(m: Machine, t: KThread, target: KThread, h: CtxHandlers, arg: number, caller: string): number {
  const ctx = m.kmemAlloc(t, ctxSize(m), 0, false, caller);
  writeCtxop(m, ctx, h, arg);
  ringInsert(m, target, ctx);
  m.probe(t, 'ctxop:attach', `${caller} ${formatAddr(ctx)} -> ${target.name}`, { ctx });
  return ctx;
}

