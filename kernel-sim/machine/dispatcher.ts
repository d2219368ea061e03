/**
 * The dispatcher's frames: swtch() -> disp() -> resume() -> savectx(old) ... restorectx(new),
 * preempt(), the idle loop, the reaper, thread exit, and blocking allocations.
 *
 * The outgoing thread's swtch frame stops at SW_RESUMED when the CPU switches away. When some
 * CPU later switches back to the thread, the same frame continues: restorectx runs on the
 * thread's own stack, exactly as _resume_from_idle does in illumos. A new thread starts with a
 * swtch frame already at SW_RESUMED.
 */
import {
  registerFrameKind, KernelPanic, StopSignal, PUSHED, SW_START, SW_SAVE, SW_SWITCH, SW_RESUMED, SW_RESTORE, SW_DONE,
  type Machine, type StackEntry, type Frame, type KResult,
} from './machine';
import { KThread } from './thread';
import { TS_ONPROC, TS_RUN, TS_ZOMB, TS_SLEEP, T_KFPU } from './layout';

import { formatAddr } from './memory';
import { KM_NOSLEEP } from './kmem';
import { ringNewestFirst, walkFirst } from '../abi/ring';
import { walkOrder, type HookOp } from '../../core/eras';

const PIL_HIGH = 10;

function k(name: string, offset: number, frameIndex: number, args: number[] = []): StackEntry {
  return { name, offset, args, kind: 'kernel', frameIndex };
}

interface SwtchFrame extends Frame {
  why: string;
  nosave: boolean;
  head: number;
  cur: number;
  next: number;
  /** The thread that gave this one the CPU (set at the switch to it; read only by the debugger's 'kline' points). */
  prev?: number;
}

/**
 * A line of the switch between phases, where a debugger's Step Into walks the kernel (a
 * 'kline' point: `name` the function, `at` which line). Checked only with a debugger, before
 * the phase (or the walk's step) does anything: a stop makes the caller return the cycles used
 * before it or throw StopSignal, so the schedule stays that of a run without a debugger, and
 * taking the step again comes back to this same check first (skipStopOnce, the debugger's
 * re-check list). No checks are made when `m.policy` is null, so runs without a debugger
 * (and the compiled code's no-stop fast paths, which test the same) never see them.
 */
function klineAt(m: Machine, t: KThread, name: string, at: string, ctx: number, from?: KThread, to?: KThread): boolean {
  return m.checkStop({ kind: 'kline', name, op: at, ctx, thread: t, cpu: t.cpu, from, to });
}

/** One-element argument array reused for save/restore ops (native handlers never keep it). */
const HOOK_ARG: number[] = [0];

/**
 * Calls one ctxop handler (save/restore/...): emits the hook event; C handlers get a frame.
 *
 * Two stop points come before the handler does anything: the hook, then (for a C handler) the
 * function, both checked before any effect (hook count, events, the callret frame). A stop at
 * the function point leaves a mark on the caller's frame (the swtch, thread_exit or reaper
 * frame, which calls this again for the same op when the thread runs on): the hook check, made
 * before the stop, is not made again, so the first check after resuming is the one that
 * stopped (the one `skipStopOnce` or the debugger's re-check skips). The mark is frame data, so
 * snapshots keep it and a replay from an earlier checkpoint never sees it.
 */
export function callHook(m: Machine, t: KThread, op: 'save' | 'restore' | 'fork' | 'lwp_create' | 'exit' | 'free', ctx: number, fn: number, args: number[]): KResult {
  const s = m.sym.atAddr(fn);
  const name = s?.name ?? formatAddr(fn);
  const caller = t.stack[t.stack.length - 1]!;
  let resumed = false;
  if (caller.hookStop !== undefined) {
    resumed = caller.hookStop === `${op} ${ctx} ${fn}`;
    delete caller.hookStop;
  }
  const c = s !== undefined && s.kind !== 'native';
  if (m.policy) {
    if (!resumed && m.checkStop({ kind: 'hook', op, handler: name, ctx, thread: t, cpu: t.cpu })) throw new StopSignal();
    if (c && m.checkStop({ kind: 'function', name, thread: t, cpu: t.cpu })) {
      caller.hookStop = `${op} ${ctx} ${fn}`;
      throw new StopSignal();
    }
  }
  m.stats.hooks++;
  if (m.sink) {
    m.probe(t, 'ctxop:hook', `${op} ${name}`, { op, ctx, handler: name, arg: args[0] });
    m.entry(t, name, `${op} ${formatAddr(ctx)}`);
  }
  if (s && s.kind === 'native') {
    const r = s.impl!(m, t, args);
    if (r !== PUSHED) {
      m.exit(t, name);
      return r;
    }
    return r;
  }
  // C handler: return via callret. (The args array may be the caller's scratch: give the callee
  // its own copy.) Its function point was checked above, so the frame is pushed here rather
  // than through m.callFunction, which would check it again. A wild pointer goes through
  // callFunction, which turns it into a BAD TRAP.
  t.stack.push({ kind: 'callret', pc: 0, fn: name });
  if (c) {
    if (!m.hooks.callC) throw new Error('no C interpreter loaded');
    t.stack.push(m.hooks.callC(m, t, s, args.slice()));
    return PUSHED;
  }
  const r = m.callFunction(t, fn, args.slice());
  if (r !== PUSHED) {
    t.stack.pop();
    m.exit(t, name);
  }
  return r;
}

registerFrameKind('callret', {
  preemptible: false,
  step(m, t, f) {
    m.exit(t, f.fn as string);
    m.ret(t, t.retval);
    return 1;
  },
  describe() {
    return [];
  },
});

registerFrameKind('swtch', {
  preemptible: false,
  /**
   * Runs phases back to back while the budget lasts (one cycle each: the same accounting as
   * one phase per step, so batching never changes the schedule); stops at a switch, a pushed
   * C handler, a return, or a stop point.
   */
  step(m, t, f0, budget) {
    const f = f0 as SwtchFrame;
    // Each phase's events carry its own cycle (Machine.phaseUsed): kept only while events are
    // recorded, the one reader (no cost without a trace).
    const events = m.sink !== null;
    let used = 0;
    try {
      while (used < budget) {
        const depth = t.stack.length;
        const pc = f.pc;
        if (events) m.phaseUsed = used;
        const r = swtchPhase(m, t, f, budget - used);
        used += r;
        if (r === 0 || m.stopPoint || f.pc === SW_RESUMED || t.stack.length !== depth || pc === SW_SWITCH) break;
      }
    } catch (e) {
      m.phaseUsed = 0;
      // A stop point inside a later phase: keep the cycles the earlier phases used.
      if (e instanceof StopSignal && used > 0) return used;
      throw e;
    }
    if (events) m.phaseUsed = 0;
    return used;
  },
  describe(m, t, f0, i) {
    return describeSwtch(m, t, f0, i);
  },
  roots: (f) => [f.next as number],
});

function swtchPhase(m: Machine, t: KThread, f: SwtchFrame, budget: number): number {
    const mem = m.mem;
    const era = m.era;
    switch (f.pc) {
      case 0: { // SW_START
        const cpu = m.cpus[t.cpu]!;
        const next = m.disp(cpu);
        if (next === t) {
          m.setState(t, TS_ONPROC);
          m.ret(t, 0);
          return 1;
        }
        if (next === cpu.idle && t.isIdle) {
          m.ret(t, 0);
          return 1;
        }
        if (m.policy && m.checkStop({ kind: 'swtch', from: t, to: next, thread: t, cpu: t.cpu, name: f.why })) {
          // Undo the pick: the thread goes back to the head of its queue, nothing happened yet.
          if (!next.isIdle) cpu.runq.unshift(next);
          return 0;
        }
        f.next = next.addr;
        t.pil = PIL_HIGH;
        if (m.sink) {
          m.entry(t, 'swtch', f.why);
          m.entry(t, 'resume', `-> ${next.name}`);
        }
        const head = m.tCtx(t);
        if (head && !f.nosave) {
          m.entry(t, 'savectx');
          f.head = head;
          f.cur = walkFirst(m, head, 'save');
          f.pc = SW_SAVE;
        } else f.pc = SW_SWITCH;
        return 1;
      }
      case 1: // SW_SAVE
        // In walk order (newest first): t_ctx, then next, until back at the head (or NULL before 12477).
        return walkOps(m, t, f, budget, 'save');
      case 2: { // SW_SWITCH
        if (m.policy !== null && klineAt(m, t, 'resume', 'switch', 0, t, m.byAddr.get(f.next))) throw new StopSignal();
        if (m.tFlag(t) & T_KFPU) {
          throw new KernelPanic('curthread swtch-ing while the kernel is using the FPU', 'kernel_fpu_no_swtch');
        }
        const cpu = m.cpus[t.cpu]!;
        const next = m.byAddr.get(f.next)!;
        f.pc = SW_RESUMED;
        m.stats.switches++;
        if (m.sink) m.probe(t, 'sched:off-cpu', `-> ${next.name}`, { other: next.addr });
        t.dispTick = m.lbolt;
        if (m.tState(t) === TS_ZOMB) {
          m.deathrow.push(t);
          if (m.reaper) m.wakeup(m.reaper);
        }
        cpu.thread = next;
        mem.writePtr(cpu.addr + m.C.cpu_thread, next.addr);
        mem.writePtr(cpu.addr + m.C.cpu_dispthread, next.addr);
        mem.writeU64n(cpu.addr + m.C.cpu_last_swtch, m.lbolt);
        next.cpu = cpu.id;
        next.quantumLeft = m.cfg.quantum;
        next.dispTick = m.lbolt;
        mem.writePtr(next.addr + m.T.t_cpu, cpu.addr);
        if (m.policy !== null) {
          // Only the debugger reads it (Step Back across the hand-over): no new frame member otherwise.
          const nf = next.stack[next.stack.length - 1];
          if (nf !== undefined && nf.kind === 'swtch') (nf as SwtchFrame).prev = t.addr;
        }
        m.setState(next, TS_ONPROC);
        if (m.sink) m.probe(next, 'sched:on-cpu', `<- ${t.name}`, { other: t.addr });
        return 1;
      }
      case 3: { // SW_RESUMED
        if (m.policy !== null && klineAt(m, t, '_resume_from_idle', 'enter', 0, f.prev !== undefined ? m.byAddr.get(f.prev) : undefined)) throw new StopSignal();
        const head = m.tCtx(t);
        t.pil = PIL_HIGH;
        if (head) {
          m.entry(t, 'restorectx');
          f.head = head;
          // In walk order: 12477 on oldest first (t_ctx->prev, then prev); before, newest first.
          f.cur = walkFirst(m, head, 'restore');
          f.pc = SW_RESTORE;
        } else f.pc = SW_DONE;
        return 1;
      }
      case 4: // SW_RESTORE
        // 12477 on: oldest first (from t_ctx->prev, following prev); before: newest first.
        return walkOps(m, t, f, budget, 'restore');
      case 5: { // SW_DONE
        if (m.policy !== null && klineAt(m, t, '_resume_from_idle', 'return', 0)) throw new StopSignal();
        if (f.why !== 'new') {
          m.exit(t, 'resume');
          m.exit(t, 'swtch');
        }
        t.pil = 0;
        m.ret(t, 0);
        return 1;
      }
    }
    throw new Error(`swtch: bad pc ${f.pc}`);
}

/**
 * savectx / restorectx: one op per cycle, native ops back to back within the budget; stops
 * early when a C handler got a frame. Timestamps (12477 on) are set just before each op.
 */
function walkOps(m: Machine, t: KThread, f: SwtchFrame, budget: number, which: 'save' | 'restore'): number {
  const mem = m.mem;
  const era = m.era;
  const save = which === 'save';
  const O = m.O;
  const opOff = save ? O.save_op : O.restore_op;
  const tsOff = save ? O.save_ts : O.restore_ts;
  const backward = walkOrder(era, which) === 'oldest-first';
  const ring = era.ring;
  // No debugger and no trace: a native handler runs straight away (nothing to check or report).
  const direct = m.policy === null && m.sink === null;
  const sym = m.sym;
  const depth = t.stack.length;
  const base = m.phaseUsed;
  const events = m.sink !== null;
  let used = 0;
  while (used < budget) {
    if (events) m.phaseUsed = base + used;
    const ctx = f.cur;
    if (ctx === 0) {
      if (m.policy !== null && klineAt(m, t, save ? 'savectx' : 'restorectx', 'end', 0)) {
        if (used > 0) return used;
        throw new StopSignal();
      }
      m.exit(t, save ? 'savectx' : 'restorectx');
      f.pc = save ? SW_SWITCH : SW_DONE;
      return used + 1;
    }
    const op = mem.readPtr(ctx + opOff);
    // An op without this handler: a line of the walk too (one with a handler has its hook point).
    if (op === 0 && m.policy !== null && klineAt(m, t, save ? 'savectx' : 'restorectx', 'skip', ctx)) {
      if (used > 0) return used;
      throw new StopSignal();
    }
    if (op) {
      if (ring) mem.writeU64n(ctx + tsOff, m.now);
      HOOK_ARG[0] = mem.readPtr(ctx + O.arg);
      const s = direct ? sym.atAddr(op) : undefined;
      if (s !== undefined && s.kind === 'native') {
        m.stats.hooks++;
        s.impl!(m, t, HOOK_ARG);
      } else try {
        callHook(m, t, which, ctx, op, HOOK_ARG);
      } catch (e) {
        // A stop point at this op: the ops before it keep their cycles (the schedule must not
        // depend on where a debugger stops); the op runs when the step is taken again.
        if (e instanceof StopSignal && used > 0) return used;
        throw e;
      }
    }
    if (backward) f.cur = ctx === f.head ? 0 : mem.readPtr(ctx + O.prev);
    else {
      const nxt = mem.readPtr(ctx + O.next);
      f.cur = nxt === f.head ? 0 : nxt;
    }
    used++;
    if (t.stack.length !== depth) break;
  }
  return used;
}

/**
 * Whether thread `t` is in a switch, at the first ctxop of its `op` walk (the savectx or
 * restorectx entry), as the walk order of the era has it.
 */
export function atWalkStart(m: Machine, t: KThread, op: HookOp): boolean {
  const f = t.stack[t.stack.length - 1];
  if (!f || f.kind !== 'swtch') return false;
  const sf = f as SwtchFrame;
  if (!sf.head) return false;
  try {
    return sf.cur === walkFirst(m, sf.head, op);
  } catch {
    return false;
  }
}

function describeSwtch(_m: Machine, t: KThread, f0: Frame, i: number): StackEntry[] {
    const f = f0 as SwtchFrame;
    const out: StackEntry[] = [];
    if (f.why === 'new') {
      if (f.pc === SW_RESTORE) out.push(k('restorectx', 0x48, i, [t.addr]));
      out.push(k('_resume_from_idle', 0x12b, i));
      return out;
    }
    if (f.pc === SW_SAVE) out.push(k('savectx', 0x3f, i, [t.addr]));
    if (f.pc === SW_RESTORE) out.push(k('restorectx', 0x48, i, [t.addr]));
    if (f.pc === SW_RESUMED || f.pc === SW_RESTORE || f.pc === SW_DONE) out.push(k('_resume_from_idle', 0x12b, i));
    else if (f.pc !== SW_START) out.push(k('resume', 0x75, i, [f.next]));
    out.push(k('swtch', f.pc === SW_START ? 0 : 0x133, i));
    return out;
}

registerFrameKind('preempt', {
  preemptible: false,
  step(m, t, f) {
    if (f.pc === 0) {
      // kpreempt(): t_preempt++ around preempt(), which requeues the thread and swtch()es.
      m.setPreempt(t, m.tPreempt(t) + 1);
      m.entry(t, 'preempt');
      m.probe(t, 'sched:preempt', f.sync ? 'deferred, at kpreempt_enable' : 'quantum expired');
      m.setState(t, TS_RUN);
      const cpu = m.cpus[t.cpu]!;
      f.pc = 1;
      m.setrun(t);
      // setrun queued t; swtch will pick the best thread (maybe t itself again).
      void cpu;
      m.pushSwtch(t, f.sync ? 'kpreempt_enable' : 'preempt');
      return 1;
    }
    m.setPreempt(t, m.tPreempt(t) - 1);
    m.exit(t, 'preempt');
    if (!f.sync) m.exit(t, 'kpreempt');
    m.ret(t, f.sync ? 0 : (f.retval as number));
    return 1;
  },
  describe(_m, _t, f, i) {
    return f.sync ? [k('preempt', 0x9f, i), k('kpreempt', 0x8c, i, [0xffffffff])] : [k('preempt', 0x9f, i), k('kpreempt', 0x8c, i, [1]), k('sys_rtt_common', 0x1c5, i)];
  },
});

registerFrameKind('idle', {
  preemptible: false,
  step(_m, _t, _f, budget) {
    return budget;
  },
  describe(_m, _t, _f, i) {
    return [k('idle', 0x114, i), k('thread_start', 0x8, i)];
  },
});

/** A KM_SLEEP allocation that has to wait for memory (memory pressure). */
registerFrameKind('kmem_sleep', {
  preemptible: false,
  step(m, t, f) {
    if (f.pc === 0) {
      f.pc = 1;
      m.block(t, { kind: 'kmem', until: m.lbolt + Math.max(1, f.ticks as number) }, 0, `${f.caller as string}: KM_SLEEP allocation`);
      return 1;
    }
    const a = m.kmemAlloc(t, f.size as number, (f.flags as number) | KM_NOSLEEP, f.zero as boolean, f.caller as string);
    if (a === 0 && (f.size as number) > 0) {
      // Out of memory after the pressure sleep: wait for a free like any KM_SLEEP allocation.
      t.stack[t.stack.length - 1] = { kind: 'kmem_wait', pc: 0, size: f.size, flags: f.flags, zero: f.zero, caller: f.caller };
      return 1;
    }
    m.ret(t, a);
    return 1;
  },
  describe(_m, _t, f, i) {
    return [k('kmem_cache_alloc', 0x1f0, i), k('kmem_alloc', 0x4b, i, [f.size as number, f.flags as number])];
  },
});

/** A KM_SLEEP allocation out of physical memory: sleeps until a kmem_free, then tries again. */
registerFrameKind('kmem_wait', {
  preemptible: false,
  step(m, t, f) {
    if (f.pc === 1) {
      const a = m.kmemAlloc(t, f.size as number, (f.flags as number) | KM_NOSLEEP, f.zero as boolean, f.caller as string);
      if (a !== 0) {
        m.ret(t, a);
        return 1;
      }
    }
    f.pc = 1;
    m.block(t, { kind: 'memwait', size: f.size as number }, 0, `${f.caller as string}: KM_SLEEP allocation waits for memory`);
    return 1;
  },
  describe(_m, _t, f, i) {
    return [k('kmem_cache_alloc', 0x1f0, i), k('kmem_alloc', 0x4b, i, [f.size as number, f.flags as number])];
  },
});

/** thread_exit(): exitctx (exit ops get the thread pointer), then off the CPU as a zombie. */
registerFrameKind('thread_exit', {
  preemptible: false,
  step(m, t, f) {
    if (f.pc === 0) {
      m.setPreempt(t, m.tPreempt(t) + 1);
      m.entry(t, 'thread_exit');
      m.probe(t, 'proc:exit', t.name);
      const list = ringNewestFirst(m, t);
      f.list = list;
      f.i = 0;
      if (list.length) m.entry(t, 'exitctx');
      f.pc = 1;
      return 1;
    }
    if (f.pc === 1) {
      const list = f.list as number[];
      const i = f.i as number;
      if (i < list.length) {
        const ctx = list[i]!;
        const op = m.mem.readPtr(ctx + m.O.exit_op);
        if (op) callHook(m, t, 'exit', ctx, op, [t.addr]);
        f.i = i + 1;
        return 1;
      }
      if (list.length) m.exit(t, 'exitctx');
      f.pc = 2;
      return 1;
    }
    m.setState(t, TS_ZOMB);
    m.leaveProc(t);
    if (t.role === 'scenario' || t.role === 'created') m.liveScenarioThreads--;
    f.pc = 3;
    // swtch_from_zombie -> resume_from_zombie: no savectx for a zombie.
    m.pushSwtch(t, 'zombie', true);
    return 1;
  },
  describe(_m, _t, _f, i) {
    return [k('thread_exit', 0x6e, i)];
  },
  clone: (f) => ({ ...f, list: (f.list as number[] | undefined)?.slice() }),
});

/** The reaper: frees zombies (freectx(t, 0): free ops run here, not in the dead thread). */
registerFrameKind('reaper', {
  preemptible: true,
  step(m, t, f) {
    if (f.pc === 0) {
      const z = m.deathrow.shift();
      if (!z) {
        m.setState(t, TS_SLEEP);
        t.blockedOn = { kind: 'reaper' };
        m.pushSwtch(t, 'reaper');
        return 1;
      }
      f.zombie = z.addr;
      const list = ringNewestFirst(m, z);
      f.list = list;
      f.i = 0;
      if (list.length) {
        m.entry(t, 'freectx', `${z.name} isexec=0`);
        // freectx: t_ctx = NULL first, then free newest first, under kpreempt_disable.
        m.mem.writePtr(z.addr + m.T.t_ctx, 0);
        m.setPreempt(t, m.tPreempt(t) + 1);
      }
      f.pc = 1;
      return 1;
    }
    if (f.pc === 1) {
      const list = f.list as number[];
      const i = f.i as number;
      if (i < list.length) {
        const ctx = list[i]!;
        if (f.called !== ctx) {
          const op = m.mem.readPtr(ctx + m.O.free_op);
          if (op) {
            const r = callHook(m, t, 'free', ctx, op, [m.mem.readPtr(ctx + m.O.arg), 0]);
            f.called = ctx;
            if (r === PUSHED) return 1;
          }
          f.called = ctx;
        }
        f.i = i + 1;
        m.kmemFree(t, ctx, m.L.ctxop.size, 'freectx');
        m.probe(t, 'ctxop:free', formatAddr(ctx), { ctx });
        return 1;
      }
      if (list.length) {
        m.setPreempt(t, m.tPreempt(t) - 1);
        m.exit(t, 'freectx');
      }
      const z = m.byAddr.get(f.zombie as number)!;
      if (z.lwp) m.kmemFree(t, z.lwp, undefined, 'lwp_freeregs');
      m.forgetThread(z);
      m.kmemFree(t, z.addr, undefined, 'thread_free');
      f.pc = 0;
      f.called = 0;
      return 1;
    }
    throw new Error('reaper: bad pc');
  },
  describe(_m, _t, f, i) {
    return f.pc === 1 ? [k('freectx', 0x5a, i, [f.zombie as number, 0]), k('thread_free', 0x1c6, i), k('thread_reaper', 0x83, i)] : [k('thread_reaper', 0x83, i)];
  },
  roots: (f) => ((f.list as number[] | undefined) ?? []).slice(f.i as number),
  clone: (f) => ({ ...f, list: (f.list as number[] | undefined)?.slice() }),
});

/** The bottom of every thread's stack: when the entry returns, the thread exits. */
registerFrameKind('thread_start', {
  preemptible: false,
  step(_m, t, f) {
    f.pc = 1;
    t.stack.push({ kind: 'thread_exit', pc: 0 });
    return 1;
  },
  describe(_m, _t, _f, i) {
    return [k('thread_start', 0x8, i)];
  },
});

