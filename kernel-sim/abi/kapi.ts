/**
 * The kernel API a driver calls (all eras): kpreempt, kmem, mutexes, condition variables,
 * delay/drv_usecwait, cmn_err/panic, thread_create/thread_exit, the ASSERT family, plus a few
 * simulator entry points for lifecycle events (lwp_create, fork, exec) that a real driver
 * would reach through system calls.
 */
import { KernelPanic, PUSHED, registerFrameKind, type Machine, type KResult, type StackEntry } from '../machine/machine';
import { KThread } from '../machine/thread';
import { formatAddr } from '../machine/memory';
import { defineKcall, startKcall, park } from './kcall';
import { ringNewestFirst } from './ring';
import { callHook } from '../machine/dispatcher';
import { vaCheck, type VaArgs } from '../cinterp/varargs';
import { ptrToInt, intToPtr, type Val } from '../cinterp/types';
import { kprintf, wordArgs } from './kprintf';
import { hazardProbe } from '../../core/probes';


// ---------------------------------------------------------------- assertions

export function assertFail(expr: string, file: string, line: number): never {
  throw new KernelPanic(`assertion failed: ${expr}, file: ${file}, line: ${line}`);
}

/** VERIFY3U/ASSERT3P-style failure: `assertion failed: a OP b (0xA OP 0xB), file: F, line: L`. */
export function verify3Fail(a: string, op: string, b: string, va: number, vb: number, file: string, line: number, ptr = false): never {
  const h = (v: number) => (ptr ? formatAddr(v) : `0x${v.toString(16)}`);
  throw new KernelPanic(`assertion failed: ${a} ${op} ${b} (${h(va)} ${op} ${h(vb)}), file: ${file}, line: ${line}`);
}

// ---------------------------------------------------------------- kpreempt

export function kpreemptDisable(m: Machine, t: KThread): void {
  const p = m.tPreempt(t) + 1;
  if (p > 127) throw new KernelPanic(`kpreempt_disable: t_preempt overflow on thread ${formatAddr(t.addr)}`);
  m.setPreempt(t, p);
  if (m.sink && p === 1) m.probe(t, 'sched:kpreempt-disable', 't_preempt=1');
}

/** kpreempt_enable(): may preempt right here (deferred preemption); returns PUSHED then. */
export function kpreemptEnable(m: Machine, t: KThread): KResult {
  const p = m.tPreempt(t);
  if (m.cfg.debug && p < 1) assertFail('curthread->t_preempt >= 1', '../../common/sys/disp.h', 182);
  m.setPreempt(t, p - 1);
  if (p - 1 === 0) {
    if (m.sink) m.probe(t, 'sched:kpreempt-enable', 't_preempt=0');
    if (m.kprunrun(m.cpus[t.cpu]!)) return m.kpreempt(t, true);
  }
  return 0;
}

// ---------------------------------------------------------------- mutexes and condition variables

function mutexOwner(m: Machine, mp: number): number {
  return m.mem.readPtr(mp);
}

function addWaiter(m: Machine, obj: number, t: KThread): void {
  const q = m.waiters.get(obj);
  if (q) q.push(t);
  else m.waiters.set(obj, [t]);
}

function wakeOne(m: Machine, obj: number): void {
  const q = m.waiters.get(obj);
  if (!q || q.length === 0) return;
  const t = q.shift()!;
  if (q.length === 0) m.waiters.delete(obj);
  m.wakeup(t);
}

/** Follows owner -> the mutex it waits on -> owner ... ; a path back to `t` is a deadlock. */
function deadlockCycle(m: Machine, t: KThread, mp: number): string | null {
  const chain: string[] = [];
  let cur = mp;
  for (let i = 0; i < 64; i++) {
    const owner = m.byAddr.get(mutexOwner(m, cur));
    if (!owner) return null;
    chain.push(`${owner.name} holds ${m.sym.format(cur)}`);
    if (owner === t) return chain.join(', ');
    const b = owner.blockedOn;
    if (!b || b.kind !== 'mutex') return null;
    cur = b.addr;
  }
  return null;
}

// ---------------------------------------------------------------- lock checks (Minix lessons)
//
// Two checks shared by every personality's mutexes: a lock-order graph across threads that
// reports a potential deadlock the first time two locks are taken in opposite orders (before
// anything hangs), and an unlock of a lock the thread does not hold. Both are hazards with stop
// points (`kind: 'hazard'`, names 'lock-order' and 'unlock-unheld').
//
// The locks a thread holds are an immutable array on the thread (a snapshot copies it). The
// graph's edges carry the step count at which they were first seen: after a restore to an
// earlier snapshot, edges from the abandoned future are ignored until the replay records them
// again, so a replay reports exactly what the first run reported.

declare module '../machine/thread' {
  interface KThread {
    /** Mutexes held, oldest first (never mutated in place). */
    heldLocks?: readonly number[];
  }
}

interface LockEdge { step: number; thread: string }
const lockGraphs = new WeakMap<Machine, Map<string, LockEdge>>();

function lockGraph(m: Machine): Map<string, LockEdge> {
  let g = lockGraphs.get(m);
  if (!g) lockGraphs.set(m, (g = new Map()));
  return g;
}

/** Reports a lock hazard; true when the debugger wants to stop there (the C caller yields after the call). */
function lockHazard(m: Machine, t: KThread, id: 'lock-order' | 'unlock-unheld', msg: string): void {
  m.hazards.push({ id, thread: t.addr, tick: m.lbolt, message: msg });
  m.probe(t, hazardProbe(id), msg);
  if (m.checkStop({ kind: 'hazard', name: id, thread: t, cpu: t.cpu, message: msg })) {
    // Stop right after this call, without changing what runs or when (as a watchpoint does).
    m.dataStop = true;
  }
}

/** Called before a blocking acquire of mp: records held -> mp edges, reports a reversed pair once. */
export function lockOrderCheck(m: Machine, t: KThread, mp: number): void {
  const held = t.heldLocks;
  if (!held || held.length === 0) return;
  const g = lockGraph(m);
  const now = m.stats.steps;
  for (const h of held) {
    if (h === mp) continue;
    const key = `${h}>${mp}`;
    const had = g.get(key);
    const fresh = !had || had.step > now;
    if (fresh) {
      const rev = g.get(`${mp}>${h}`);
      g.set(key, { step: now, thread: t.name });
      if (rev && rev.step <= now) {
        const A = m.sym.format(h);
        const B = m.sym.format(mp);
        lockHazard(m, t, 'lock-order', `lock order reversal: ${t.name} takes ${B} while holding ${A}, but ${rev.thread} took ${A} while holding ${B}: potential deadlock`);
      }
    }
  }
}

/** mp is now held by t. */
export function lockAcquired(t: KThread, mp: number): void {
  t.heldLocks = t.heldLocks ? [...t.heldLocks, mp] : [mp];
}

function lockReleased(t: KThread, mp: number): void {
  const held = t.heldLocks;
  if (!held) return;
  const i = held.lastIndexOf(mp);
  if (i >= 0) t.heldLocks = held.slice(0, i).concat(held.slice(i + 1));
}

/**
 * Releases mp for t. Returns 'ok', or (after reporting the hazard when nobody holds it)
 * 'unheld' / 'not-owner' without touching the lock: each API decides what follows.
 */
export function mutexRelease(m: Machine, t: KThread, mp: number): 'ok' | 'unheld' | 'not-owner' {
  const owner = mutexOwner(m, mp);
  if (owner !== t.addr) {
    if (owner === 0) lockHazard(m, t, 'unlock-unheld', `unlock of unheld mutex ${m.sym.format(mp)} by ${t.name}`);
    return owner === 0 ? 'unheld' : 'not-owner';
  }
  m.mem.writePtr(mp, 0);
  lockReleased(t, mp);
  wakeOne(m, mp);
  return 'ok';
}

/** A non-blocking acquire (mutex_tryenter, mtx_trylock): no order check, it cannot deadlock. */
export function mutexTryEnter(m: Machine, t: KThread, mp: number): boolean {
  if (mutexOwner(m, mp) !== 0) return false;
  m.mem.writePtr(mp, t.addr);
  lockAcquired(t, mp);
  return true;
}

export function mutexEnter(m: Machine, t: KThread, mp: number): KResult {
  const owner = mutexOwner(m, mp);
  if (owner !== t.addr) lockOrderCheck(m, t, mp);
  if (owner === 0) {
    m.mem.writePtr(mp, t.addr);
    lockAcquired(t, mp);
    return 0;
  }
  if (owner === t.addr) throw new KernelPanic(`recursive mutex_enter: lp=${formatAddr(mp)} owner=${formatAddr(owner)} thread=${formatAddr(t.addr)}`);
  t.stack.push({ kind: 'mutex_wait', pc: 0, mp });
  return PUSHED;
}

export function mutexExit(m: Machine, t: KThread, mp: number): void {
  if (mutexRelease(m, t, mp) !== 'ok') {
    const owner = mutexOwner(m, mp);
    throw new KernelPanic(`mutex_exit: not owner, lp=${formatAddr(mp)} owner=${formatAddr(owner)} thread=${formatAddr(t.addr)}`);
  }
}

registerFrameKind('mutex_wait', {
  preemptible: false,
  step(m, t, f) {
    const mp = f.mp as number;
    if (mutexOwner(m, mp) === 0) {
      m.mem.writePtr(mp, t.addr);
      lockAcquired(t, mp);
      m.ret(t, 0);
      return 1;
    }
    const cycle = deadlockCycle(m, t, mp);
    if (cycle) {
      const msg = `deadlock: ${t.name} waits for ${m.sym.format(mp)}: ${cycle}`;
      m.deadlock = msg;
      m.hazards.push({ id: 'deadlock', thread: t.addr, tick: m.lbolt, message: msg });
      m.probe(t, 'hazard:deadlock', msg);
      m.checkStop({ kind: 'hazard', name: 'deadlock', thread: t, cpu: t.cpu, message: msg });
    }
    addWaiter(m, mp, t);
    m.block(t, { kind: 'mutex', addr: mp }, mp, 'mutex_enter');
    return 1;
  },
  describe(_m, _t, f, i) {
    return [k('turnstile_block', 0x21a, i), k('mutex_vector_enter', 0x367, i, [f.mp as number]), k('mutex_enter', 0x10, i, [f.mp as number])];
  },
});

registerFrameKind('cv_wait', {
  preemptible: false,
  step(m, t, f) {
    const cv = f.cv as number;
    const mp = f.mp as number;
    if (f.pc === 0) {
      if (mutexOwner(m, mp) !== t.addr) throw new KernelPanic(`cv_wait: mutex ${formatAddr(mp)} not held by thread ${formatAddr(t.addr)}`);
      addWaiter(m, cv, t);
      m.mem.writeU16(cv, 1);
      mutexExit(m, t, mp);
      f.pc = 1;
      m.block(t, { kind: 'cv', addr: cv }, cv, 'cv_wait');
      return 1;
    }
    if (f.pc === 1) {
      // Woken: take the mutex back (a mutex_wait frame when someone else holds it).
      f.pc = 2;
      if (mutexEnter(m, t, mp) === PUSHED) return 1;
    }
    m.ret(t, 0);
    return 1;
  },
  describe(_m, _t, f, i) {
    return [k('cv_wait', 0x70, i, [f.cv as number, f.mp as number])];
  },
});
/** The entry of a thread created on a native function: returns at once. */
defineKcall('noop', () => 0);

function k(name: string, offset: number, frameIndex: number, args: number[] = []): StackEntry {
  return { name, offset, args, kind: 'kernel', frameIndex };
}

/** A stretch of busy time on the CPU (drv_usecwait): preemptible, burns cycles. */
registerFrameKind('busywait', {
  preemptible: true,
  step(m, t, f, budget) {
    const left = f.left as number;
    const used = Math.min(left, budget);
    f.left = left - used;
    if (f.left === 0) m.ret(t, 0);
    return Math.max(1, used);
  },
  describe(_m, _t, _f, i) {
    return [k('drv_usecwait', 0x3a, i)];
  },
});

// ---------------------------------------------------------------- cmn_err

export const CE_CONT = 0;
export const CE_NOTE = 1;
export const CE_WARN = 2;
export const CE_PANIC = 3;
export const CE_IGNORE = 4;

/**
 * The kernel's printf formatting (kprintf.ts) over the argument words of a call, from word
 * `from` on (cmn_err's words after its level and format). Words passed through `...` keep
 * their 64 bits; the caller tagged which are pointers (cinterp/varargs.ts).
 */
export function kformat(m: Machine, fmt: string, args: readonly Val[], from = 0): string {
  const tags = (args as VaArgs).vaPtr;
  return kprintf(fmt, wordArgs(args.slice(from), (k) => tags?.[from + k] === true, ptrToInt, intToPtr), (p) => m.mem.readCString(p));
}

/** printf-style formatting over argument words as FreeBSD's printf reads them (its own subset). */
export function kformatBsd(m: Machine, fmt: string, args: number[]): string {
  let ai = 0;
  return formatWith(m, fmt, () => args[ai++] ?? 0);
}

/**
 * The same formatting over a va_list (vcmn_err, vsnprintf, vsprintf, vpanic): each conversion
 * reads the next variable-argument word as its type (a pointer for %s and %p, 64 bits with l, ll,
 * z or j, else an int), so it prints what cmn_err prints for the same arguments. A conversion past
 * the arguments passed panics (cinterp/varargs.ts).
 */
export function vkformat(m: Machine, t: KThread, who: string, fmt: string, ap: number): string {
  let p = ap;
  const next = (): number => {
    vaCheck(m.mem, t, p, `${who}("${fmt.length > 40 ? fmt.slice(0, 37) + '...' : fmt}")`);
    const a = p;
    p += 8;
    return a;
  };
  return kprintf(fmt, { word: () => m.mem.dv.getBigUint64(next(), true), ptr: () => m.mem.readPtr(next()) }, (q) => m.mem.readCString(q));
}

function formatWith(m: Machine, fmt: string, next: (conv: string, len: string) => number): string {
  return fmt.replace(/%([-0 #+]*)(\d*)(?:\.(\d+))?(hh|h|ll|l|z|j)?([diouxXpsc%])/g, (_all, flags: string, width: string, _prec, len: string | undefined, conv: string) => {
    if (conv === '%') return '%';
    const v = next(conv, len ?? '');
    let s: string;
    switch (conv) {
      case 'd': case 'i': s = String(v); break;
      case 'u': s = String(v < 0 ? v + 2 ** 32 : v); break;
      case 'o': s = v.toString(8); break;
      case 'x': s = (v < 0 ? v + 2 ** 32 : v).toString(16); break;
      case 'X': s = (v < 0 ? v + 2 ** 32 : v).toString(16).toUpperCase(); break;
      case 'p': s = formatAddr(v); break;
      case 'c': s = String.fromCharCode(v & 0xff); break;
      case 's': s = v === 0 ? '<null string>' : m.mem.readCString(v); break;
      default: s = '';
    }
    const w = parseInt(width || '0', 10);
    if (s.length < w) s = flags.includes('-') ? s.padEnd(w) : s.padStart(w, flags.includes('0') && conv !== 's' ? '0' : ' ');
    return s;
  });
}

function cmnErr(m: Machine, t: KThread, level: number, fmt: string, args: readonly Val[], from: number): void {
  cmnErrText(m, t, level, kformat(m, fmt, args, from));
}

/** cmn_err's output of a formatted message: the level's prefix, '!' (log only), '^' (console only). */
function cmnErrText(m: Machine, t: KThread, level: number, formatted: string): void {
  let text = formatted;
  let consoleOnly = false;
  let logOnly = false;
  if (text.startsWith('!')) { logOnly = true; text = text.slice(1); }
  else if (text.startsWith('^')) { consoleOnly = true; text = text.slice(1); }
  if (level === CE_PANIC) throw new KernelPanic(text);
  if (level === CE_IGNORE) return;
  const prefix = level === CE_NOTE ? 'NOTICE: ' : level === CE_WARN ? 'WARNING: ' : '';
  const line = prefix + text;
  m.probe(t, 'kernel:cmn_err', line);
  if (logOnly) m.msgbuf.push({ tick: m.lbolt, text: line });
  else if (consoleOnly) m.onConsole?.(line);
  else m.console(line);
}

// ---------------------------------------------------------------- the API table

export interface KapiEntry {
  name: string;
  /** C prototype, as the shipped headers declare it. */
  proto: string;
  impl: (m: Machine, t: KThread, args: number[]) => KResult;
}

/** Nanoseconds per simulated cycle: a 100-cycle tick is 10 ms, as hz=100. */
export function nsPerCycle(m: Machine): number {
  return 10_000_000 / m.cfg.tickCycles;
}

export const KAPI: KapiEntry[] = [
  { name: 'threadp', proto: 'kthread_t *threadp(void);', impl: (_m, t) => t.addr },
  { name: 'curcpup', proto: 'cpu_t *curcpup(void);', impl: (m, t) => m.cpus[t.cpu]!.addr },
  { name: 'kpreempt_disable', proto: 'void kpreempt_disable(void);', impl: (m, t) => { kpreemptDisable(m, t); return 0; } },
  { name: 'kpreempt_enable', proto: 'void kpreempt_enable(void);', impl: (m, t) => kpreemptEnable(m, t) },
  { name: 'kpreempt', proto: 'void kpreempt(int);', impl: (m, t) => m.kpreempt(t, true) },
  {
    name: 'kmem_alloc', proto: 'void *kmem_alloc(size_t, int);',
    impl: (m, t, a) => m.kmemAllocMaySleep(t, a[0]!, a[1]!, false, 'kmem_alloc'),
  },
  {
    name: 'kmem_zalloc', proto: 'void *kmem_zalloc(size_t, int);',
    impl: (m, t, a) => m.kmemAllocMaySleep(t, a[0]!, a[1]!, true, 'kmem_zalloc'),
  },
  { name: 'kmem_free', proto: 'void kmem_free(void *, size_t);', impl: (m, t, a) => { m.kmemFree(t, a[0]!, a[1]!, 'kmem_free'); return 0; } },
  { name: 'mutex_init', proto: 'void mutex_init(kmutex_t *, char *, kmutex_type_t, void *);', impl: (m, _t, a) => { m.mem.writePtr(a[0]!, 0); return 0; } },
  { name: 'mutex_destroy', proto: 'void mutex_destroy(kmutex_t *);', impl: (m, t, a) => {
    const o = mutexOwner(m, a[0]!);
    if (o !== 0) throw new KernelPanic(`mutex_destroy: lp=${formatAddr(a[0]!)} owner=${formatAddr(o)} thread=${formatAddr(t.addr)}: mutex held`);
    return 0;
  } },
  { name: 'mutex_enter', proto: 'void mutex_enter(kmutex_t *);', impl: (m, t, a) => mutexEnter(m, t, a[0]!) },
  { name: 'mutex_exit', proto: 'void mutex_exit(kmutex_t *);', impl: (m, t, a) => { mutexExit(m, t, a[0]!); return 0; } },
  { name: 'mutex_tryenter', proto: 'int mutex_tryenter(kmutex_t *);', impl: (m, t, a) => (mutexTryEnter(m, t, a[0]!) ? 1 : 0) },
  { name: 'mutex_owned', proto: 'int mutex_owned(kmutex_t *);', impl: (m, t, a) => (mutexOwner(m, a[0]!) === t.addr ? 1 : 0) },
  { name: 'cv_init', proto: 'void cv_init(kcondvar_t *, char *, kcv_type_t, void *);', impl: (m, _t, a) => { m.mem.writeU16(a[0]!, 0); return 0; } },
  { name: 'cv_destroy', proto: 'void cv_destroy(kcondvar_t *);', impl: () => 0 },
  { name: 'cv_wait', proto: 'void cv_wait(kcondvar_t *, kmutex_t *);', impl: (_m, t, a) => { t.stack.push({ kind: 'cv_wait', pc: 0, cv: a[0]!, mp: a[1]! }); return PUSHED; } },
  { name: 'cv_signal', proto: 'void cv_signal(kcondvar_t *);', impl: (m, _t, a) => { wakeOne(m, a[0]!); return 0; } },
  { name: 'cv_broadcast', proto: 'void cv_broadcast(kcondvar_t *);', impl: (m, _t, a) => {
    while (m.waiters.get(a[0]!)?.length) wakeOne(m, a[0]!);
    return 0;
  } },
  { name: 'delay', proto: 'void delay(clock_t);', impl: (m, t, a) => m.block(t, { kind: 'delay', until: m.lbolt + Math.max(1, a[0]!) }, 0, 'delay') },
  { name: 'drv_usecwait', proto: 'void drv_usecwait(clock_t);', impl: (m, t, a) => {
    const cycles = Math.max(1, Math.ceil((a[0]! * 1000) / nsPerCycle(m)));
    t.stack.push({ kind: 'busywait', pc: 0, left: cycles });
    return PUSHED;
  } },
  { name: 'gethrtime', proto: 'hrtime_t gethrtime(void);', impl: (m) => Math.floor(m.now * nsPerCycle(m)) },
  { name: 'ddi_get_lbolt', proto: 'clock_t ddi_get_lbolt(void);', impl: (m) => m.lbolt },
  { name: 'cmn_err', proto: 'void cmn_err(int, const char *, ...);', impl: (m, t, a) => { cmnErr(m, t, a[0]!, m.mem.readCString(a[1]!), a, 2); return 0; } },
  { name: 'panic', proto: 'void panic(const char *, ...);', impl: (m, _t, a) => { throw new KernelPanic(kformat(m, m.mem.readCString(a[0]!), a, 1)); } },
  { name: 'assfail', proto: 'int assfail(const char *, const char *, int);', impl: (m, _t, a) => assertFail(m.mem.readCString(a[0]!), m.mem.readCString(a[1]!), a[2]!) },
  {
    name: 'assfail3', proto: 'void assfail3(const char *, uintmax_t, const char *, uintmax_t, const char *, int);',
    impl: (m, _t, a) => {
      const expr = m.mem.readCString(a[0]!);
      const op = m.mem.readCString(a[2]!);
      throw new KernelPanic(`assertion failed: ${expr} (0x${toHex(a[1]!)} ${op} 0x${toHex(a[3]!)}), file: ${m.mem.readCString(a[4]!)}, line: ${a[5]!}`);
    },
  },
  {
    name: 'thread_create', proto: 'kthread_t *thread_create(caddr_t, size_t, void (*)(), void *, size_t, proc_t *, int, pri_t);',
    impl: (m, t, a) => {
      const fn = m.sym.atAddr(a[2]!);
      if (!fn) throw new KernelPanic(`thread_create: start address ${formatAddr(a[2]!)} is not a function`);
      if (!m.hooks.callC && fn.kind === 'c') throw new Error('no C interpreter loaded');
      const child = m.createThread({
        name: fn.name, role: 'created', pri: a[7] || 60, lwp: false, startpc: fn.addr, proc: a[5]!,
        entry: fn.kind === 'c' ? (nt: KThread) => m.hooks.callC!(m, nt, fn, [a[3]!]) : { kind: 'kcall', pc: 0, fn: 'noop', args: [], onStack: true },
      });
      m.setrun(child);
      return child.addr;
    },
  },
  { name: 'thread_exit', proto: 'void thread_exit(void);', impl: (_m, t) => { t.stack.push({ kind: 'thread_exit', pc: 0 }); return PUSHED; } },
  // Simulator entry points for lifecycle events a driver cannot cause by itself.
  {
    name: 'kctx_lwp_create', proto: 'kthread_t *kctx_lwp_create(void (*)(void *), void *);',
    impl: (m, t, a) => startKcall(m, t, 'kctx_lwp_create', a, { how: 'lwp_create' }),
  },
  {
    name: 'kctx_forklwp', proto: 'kthread_t *kctx_forklwp(void (*)(void *), void *);',
    impl: (m, t, a) => startKcall(m, t, 'kctx_lwp_create', a, { how: 'fork' }),
  },
  { name: 'kctx_exec', proto: 'void kctx_exec(void);', impl: (m, t) => startKcall(m, t, 'kctx_exec', []) },
];

/**
 * sys/cmn_err.h's va_list forms (a va_list is a pointer to the caller's variable-argument words:
 * cinterp/varargs.ts). Their kernel text is mapped when a module first links against one (the
 * C loader's lazy natives), so that kernels whose drivers do not use them keep every address
 * they had before these existed.
 */
export const KAPI_VARARGS: KapiEntry[] = [
  { name: 'vcmn_err', proto: 'void vcmn_err(int, const char *, __va_list);', impl: (m, t, a) => { cmnErrText(m, t, a[0]!, vkformat(m, t, 'vcmn_err', m.mem.readCString(a[1]!), a[2]!)); return 0; } },
  { name: 'vpanic', proto: 'void vpanic(const char *, __va_list);', impl: (m, t, a) => { throw new KernelPanic(vkformat(m, t, 'vpanic', m.mem.readCString(a[0]!), a[1]!)); } },
  {
    name: 'vsnprintf', proto: 'size_t vsnprintf(char *, size_t, const char *, __va_list);',
    impl: (m, t, a) => {
      const s = vkformat(m, t, 'vsnprintf', m.mem.readCString(a[2]!), a[3]!);
      const size = a[1]!;
      // At most size - 1 characters and the NUL; the length it would have written either way.
      if (size !== 0) putCString(m, a[0]!, size < 0 || size > s.length ? s : s.slice(0, size - 1));
      return s.length;
    },
  },
  {
    name: 'snprintf', proto: 'size_t snprintf(char *, size_t, const char *, ...);',
    impl: (m, _t, a) => {
      const s = kformat(m, m.mem.readCString(a[2]!), a, 3);
      const size = a[1]!;
      if (size !== 0) putCString(m, a[0]!, size < 0 || size > s.length ? s : s.slice(0, size - 1));
      return s.length;
    },
  },
  {
    name: 'sprintf', proto: 'char *sprintf(char *, const char *, ...);',
    impl: (m, _t, a) => {
      putCString(m, a[0]!, kformat(m, m.mem.readCString(a[1]!), a, 2));
      return a[0]!;
    },
  },
  {
    name: 'vsprintf', proto: 'char *vsprintf(char *, const char *, __va_list);',
    impl: (m, t, a) => {
      putCString(m, a[0]!, vkformat(m, t, 'vsprintf', m.mem.readCString(a[1]!), a[2]!));
      return a[0]!;
    },
  },
];

/** Writes s and its NUL at a (a fault past the buffer's mapping panics as a store there would). */
function putCString(m: Machine, a: number, s: string): void {
  m.mem.check(a, s.length + 1, true);
  for (let i = 0; i < s.length; i++) m.mem.u8[a + i] = s.charCodeAt(i) & 0xff;
  m.mem.u8[a + s.length] = 0;
  m.mem.stored(a, s.length + 1);
}

function toHex(v: number): string {
  return (v < 0 ? BigInt.asUintN(64, BigInt(v)) : BigInt(Math.floor(v))).toString(16);
}

/**
 * kctx_lwp_create / kctx_forklwp: a new LWP thread; the parent's lwp_create (or fork) ops run
 * with (parent, child), newest first: fp_new_lwp gives the child its FPU ctxop that way.
 */
defineKcall('kctx_lwp_create', (m, t, f) => {
  const a = f.args as number[];
  if (f.pc === 0) {
    const fn = m.sym.atAddr(a[0]!);
    if (!fn) throw new KernelPanic(`lwp_create: start address ${formatAddr(a[0]!)} is not a function`);
    const how = f.how as string;
    m.entry(t, how === 'fork' ? 'forklwp' : 'lwp_create', fn.name);
    const child = m.createThread({
      name: `${fn.name}/${how}`, role: 'created', pri: m.tPri(t), lwp: true, startpc: fn.addr,
      entry: fn.kind === 'c' ? (nt: KThread) => m.hooks.callC!(m, nt, fn, [a[1]!]) : { kind: 'kcall', pc: 0, fn: 'noop', args: [], onStack: true },
      lwpFpu: false,
      // lwp_create: an LWP of the creator's process; forklwp: the first LWP of its child process.
      proc: how === 'fork' ? { parent: m.mem.readPtr(t.addr + m.T.t_procp) } : m.mem.readPtr(t.addr + m.T.t_procp) || undefined,
    });
    f.child = child.addr;
    f.list = ringNewestFirst(m, t);
    f.i = 0;
    if ((f.list as number[]).length) m.entry(t, how === 'fork' ? 'forkctx' : 'lwp_createctx');
    f.pc = 1;
  }
  const list = f.list as number[];
  while ((f.i as number) < list.length) {
    const ctx = list[f.i as number]!;
    const op = m.mem.readPtr(ctx + ((f.how as string) === 'fork' ? m.O.fork_op : m.O.lwp_create_op));
    if (op) {
      const r = callHook(m, t, (f.how as string) === 'fork' ? 'fork' : 'lwp_create', ctx, op, [t.addr, f.child as number]);
      f.i = (f.i as number) + 1;
      if (r === PUSHED) return park(t, f, 1);
    } else f.i = (f.i as number) + 1;
  }
  if (list.length) m.exit(t, (f.how as string) === 'fork' ? 'forkctx' : 'lwp_createctx');
  m.exit(t, (f.how as string) === 'fork' ? 'forklwp' : 'lwp_create');
  m.setrun(m.byAddr.get(f.child as number)!);
  return f.child as number;
});

/** kctx_exec: exec()'s freectx(curthread, 1), then setregs() re-installs the LWP ctxops. */
defineKcall('kctx_exec', (m, t, f) => {
  if (f.pc === 0) {
    m.entry(t, 'exec_common');
    f.list = ringNewestFirst(m, t);
    f.i = 0;
    m.mem.writePtr(t.addr + m.T.t_ctx, 0);
    kpreemptDisable(m, t);
    m.entry(t, 'freectx', 'isexec=1');
    f.pc = 1;
  }
  const list = f.list as number[];
  while ((f.i as number) < list.length) {
    const ctx = list[f.i as number]!;
    if (f.called !== ctx) {
      f.called = ctx;
      const op = m.mem.readPtr(ctx + m.O.free_op);
      if (op) {
        const r = callHook(m, t, 'free', ctx, op, [m.mem.readPtr(ctx + m.O.arg), 1]);
        if (r === PUSHED) return park(t, f, 1);
      }
    }
    f.i = (f.i as number) + 1;
    m.kmemFree(t, ctx, m.L.ctxop.size, 'freectx');
    m.probe(t, 'ctxop:free', formatAddr(ctx), { ctx });
  }
  if (f.pc === 1) {
    m.exit(t, 'freectx');
    f.pc = 2;
    const r = kpreemptEnable(m, t);
    if (r === PUSHED) return park(t, f, 3);
  }
  if (f.pc === 2 || f.pc === 3) {
    if (t.lwp) m.hooks.attachLwpCtxops(m, t, true);
    m.exit(t, 'exec_common');
  }
  return 0;
});


/**
 * The memory barriers of <sys/atomic.h> (assembly in illumos). The simulated CPUs are
 * sequentially consistent, so each is a no-op. Linked on first use, like KAPI_VARARGS, so no
 * address of a driver that does not use them moves.
 */
export const KAPI_BARRIERS: KapiEntry[] = ['membar_enter', 'membar_exit', 'membar_producer', 'membar_consumer', 'membar_sync'].map((name) => ({
  name, proto: `void ${name}(void);`, impl: () => 0,
}));
