/**
 * Kernel functions a FreeBSD module calls: printf/panic/KASSERT, mtx(9) over the shared lock
 * code (lock-order graph, unheld unlock), the VIMAGE entry points that exist only in a VIMAGE
 * kernel (vnet_register_sysinit and friends, vnet0, the kernel's virtualized variables), and
 * the simulator's stand-ins for inline code (curthread, CURVNET_SET/RESTORE, the V_ access probe).
 */
import { KernelPanic, PUSHED, type Machine, type KResult } from '../machine/machine';
import type { KThread } from '../machine/thread';
import { MemoryFault } from '../machine/memory';
import { kformatBsd as kformat, mutexEnter, mutexRelease, mutexTryEnter } from '../abi/kapi';
import { defineKcall, startKcall } from '../abi/kcall';
import { VNET, MTX, VNET_SYSINIT, SI, TD } from './layout';
import { freebsdOf, type Freebsd } from './state';
import {
  tdAddr, tdVnet, setTdVnet, vnetList, vnetId, vnetMagicOk, registry, registryInsert, registryRemove, provenance,
  describeProvenance, pfmt,
} from './vnet';

export interface FbsdKapi {
  name: string;
  proto: string;
  impl: (m: Machine, t: KThread, a: number[]) => KResult;
  /** Only in a VIMAGE kernel. */
  vimageOnly?: boolean;
}

function F(m: Machine): Freebsd {
  return freebsdOf(m)!;
}

/** The C function that called the native now running (its `__func__`), and its position. */
export function caller(m: Machine, t: KThread): { fn: string; file: string; line: number } {
  const top = m.stackOf(t).find((s) => s.kind === 'c');
  return { fn: top?.name ?? '?', file: top?.file ?? '?', line: top?.line ?? 0 };
}

function str(m: Machine, a: number): string {
  return a === 0 ? '(null)' : m.mem.readCString(a);
}

function vnetWord(m: Machine, v: number): string {
  return v === 0 ? 'NULL' : `vnet ${vnetId(m, v)}`;
}

function mtxName(m: Machine, mp: number): string {
  const n = m.mem.isMapped(mp + MTX.offsets.lo_name, 8) ? m.mem.readPtr(mp + MTX.offsets.lo_name) : 0;
  return n ? m.mem.readCString(n) : m.sym.format(mp);
}

function lockProbe(m: Machine, t: KThread, what: string, mp: number, extra = ''): void {
  if (m.sink) m.probe(t, `lock:${what}` as 'lock:acquire' | 'lock:try' | 'lock:release', `${m.sym.format(mp)}${extra}`);
}

/** C calls the kernel makes on a thread: each entry [function, arg, vnet or -1 to leave td_vnet]. */
export interface CallList { list: number[]; i: number; saved: number; after?: string; vnet?: number }

/**
 * The engine of every kernel routine that calls module code in turn (vnet_register_sysinit,
 * vnet_sysinit, linker_file_sysinit, ...): CURVNET_SET_QUIET(vnet); func(arg); CURVNET_RESTORE();
 * for each entry, with fbt-style entry/return events for the callee.
 */
function runCalls(m: Machine, t: KThread, f: import('../machine/machine').Frame): KResult {
  const f2 = F(m);
  const list = f.list as number[];
  if (f.pc === 1) {
    // Back from a callee.
    const vn = list[(f.i as number) * 3 + 2]!;
    if (m.sink) m.exit(t, f.callee as string);
    if (vn !== -1) setTdVnet(m, f2, t, f.saved as number);
    f.i = (f.i as number) + 1;
    f.pc = 0;
  }
  while ((f.i as number) * 3 < list.length) {
    const i = f.i as number;
    const fn = list[i * 3]!;
    const arg = list[i * 3 + 1]!;
    const vn = list[i * 3 + 2]!;
    if (vn !== -1) {
      f.saved = tdVnet(m, f2, t);
      setTdVnet(m, f2, t, vn);
    }
    const s = m.sym.atAddr(fn);
    const name = s?.name ?? pfmt(fn);
    f.callee = name;
    if (m.sink) m.entry(t, name, vn !== -1 ? `curvnet=${vnetWord(m, vn)}` : undefined);
    const depth = t.stack.length;
    const r = m.callFunction(t, fn, [arg]);
    if (r === PUSHED) {
      // Below everything the callee pushed (a native callee may have parked its own frame).
      f.pc = 1;
      if (!f.onStack) {
        f.onStack = true;
        t.stack.splice(depth, 0, f);
      }
      return PUSHED;
    }
    if (m.sink) m.exit(t, name);
    if (vn !== -1) setTdVnet(m, f2, t, f.saved as number);
    f.i = i + 1;
  }
  if (f.exitEvent && f.onStack && m.sink) m.exit(t, f.fn as string);
  return 0;
}

for (const name of ['vnet_register_sysinit', 'vnet_deregister_sysuninit', 'vnet_sysinit', 'vnet_sysuninit', 'linker_file_sysinit', 'linker_file_sysuninit']) {
  defineKcall(name, runCalls);
}

/** Starts one of the calling routines above with a call list. */
export function callList(m: Machine, t: KThread, routine: string, list: number[], args: number[] = []): KResult {
  if (m.sink) m.entry(t, routine);
  const r = startKcall(m, t, routine, args, { list, i: 0, saved: 0, exitEvent: true });
  if (r !== PUSHED && m.sink) m.exit(t, routine);
  return r;
}

function vsFields(m: Machine, vs: number): { sub: number; order: number; func: number; arg: number } {
  const O = VNET_SYSINIT.offsets;
  return { sub: m.mem.readU32(vs + O.subsystem), order: m.mem.readU32(vs + O.order), func: m.mem.readPtr(vs + O.func), arg: m.mem.readPtr(vs + O.arg) };
}

/** vnet_register_sysinit(vs): registered, then run in every existing vnet (reference §A.3). */
function vnetRegisterSysinit(m: Machine, t: KThread, a: number[]): KResult {
  const f = F(m);
  const vs = a[0]!;
  const { sub, func, arg } = vsFields(m, vs);
  if (f.invariants && sub <= SI.SI_SUB_VNET) throw new KernelPanic('vnet sysinit too early');
  registryInsert(m, f.constructorsVar, vs);
  const list: number[] = [];
  for (const v of vnetList(m, f)) list.push(func, arg, v);
  return startKcall(m, t, 'vnet_register_sysinit', a, { list, i: 0, saved: 0 });
}

/** vnet_deregister_sysuninit(vs): the destructor runs in every vnet, then leaves the registry. */
function vnetDeregisterSysuninit(m: Machine, t: KThread, a: number[]): KResult {
  const f = F(m);
  const vs = a[0]!;
  const { func, arg } = vsFields(m, vs);
  registryRemove(m, f.destructorsVar, vs);
  const list: number[] = [];
  for (const v of vnetList(m, f)) list.push(func, arg, v);
  return startKcall(m, t, 'vnet_deregister_sysuninit', a, { list, i: 0, saved: 0 });
}

/** The constructors (or destructors, newest first) for one vnet: vnet_sysinit()/vnet_sysuninit(). */
export function perVnetList(m: Machine, f: Freebsd, vnet: number, destructors: boolean): number[] {
  const regs = registry(m, destructors ? f.destructorsVar : f.constructorsVar);
  if (destructors) regs.reverse();
  const list: number[] = [];
  for (const vs of regs) {
    const { func, arg } = vsFields(m, vs);
    list.push(func, arg, vnet);
  }
  return list;
}

function curvnetSet(m: Machine, t: KThread, a: number[]): KResult {
  const f = F(m);
  const [arg, file, line, flags] = [a[0]!, a[1]!, a[2]!, a[3]!];
  const cur = tdVnet(m, f, t);
  const me = caller(m, t);
  if (flags & 1 && !(arg !== 0 && vnetMagicOk(m, arg))) {
    throw new KernelPanic(`CURVNET_SET at ${str(m, file)}:${line} ${me.fn}() curvnet=${pfmt(cur)} vnet=${pfmt(arg)}`);
  }
  if (flags & 2 && cur !== 0) {
    const prev = m.mem.readPtr(tdAddr(f, t) + TD.offsets.td_vnet_lpush);
    m.console(`CURVNET_SET() recursion in ${me.fn}() line ${line}, prev in ${prev ? m.mem.readCString(prev) : '?'}()`);
  }
  setTdVnet(m, f, t, arg);
  m.mem.writePtr(tdAddr(f, t) + TD.offsets.td_vnet_lpush, f.strings.get(me.fn) ?? 0);
  if (m.sink) m.probe(t, 'vnet:curvnet-set', `${vnetWord(m, arg)} (was ${vnetWord(m, cur)}) in ${me.fn}()`);
  return cur;
}

function curvnetRestore(m: Machine, t: KThread, a: number[]): KResult {
  const f = F(m);
  const [saved, file, line, flags] = [a[0]!, a[1]!, a[2]!, a[3]!];
  const cur = tdVnet(m, f, t);
  if (flags & 1 && !(cur !== 0 && (saved === 0 || vnetMagicOk(m, saved)))) {
    throw new KernelPanic(`CURVNET_RESTORE at ${str(m, file)}:${line} ${caller(m, t).fn}() curvnet=${pfmt(cur)} saved_vnet=${pfmt(saved)}`);
  }
  setTdVnet(m, f, t, saved);
  if (m.sink) m.probe(t, 'vnet:curvnet-restore', `${vnetWord(m, saved)} in ${caller(m, t).fn}()`);
  return 0;
}

/** The V_ access probe: classifies where the access resolved, returns the address unchanged. */
function vnetRef(m: Machine, t: KThread, a: number[]): KResult {
  const f = F(m);
  const addr = a[0]!;
  if (m.sink) {
    const p = provenance(m, f, addr);
    const cur = tdVnet(m, f, t);
    const what = p ? describeProvenance(p) : `unknown address ${pfmt(addr)}`;
    m.probe(t, 'vnet:access', `V_${str(m, a[1]!)} -> ${what}`, { addr, arg: cur ? vnetId(m, cur) : -1 });
  }
  return addr;
}

export const FREEBSD_KAPI: FbsdKapi[] = [
  { name: '__kctx_curthread', proto: '', impl: (m, t) => tdAddr(F(m), t) },
  { name: '__kctx_func', proto: 'const char *__kctx_func(void);', impl: (m, t) => F(m).strings.get(caller(m, t).fn) ?? 0 },
  { name: '__kctx_curvnet_set', proto: 'struct vnet *__kctx_curvnet_set(struct vnet *, const char *, int, int);', impl: curvnetSet },
  { name: '__kctx_curvnet_restore', proto: 'void __kctx_curvnet_restore(struct vnet *, const char *, int, int);', impl: curvnetRestore },
  { name: '__kctx_vnet_ref', proto: 'void *__kctx_vnet_ref(void *, const char *);', impl: vnetRef },
  { name: '__kctx_vnet_first', proto: '', impl: (m) => vnetList(m, F(m))[0] ?? 0 },
  {
    name: 'printf', proto: 'int printf(const char *, ...);',
    impl: (m, t, a) => {
      const text = kformat(m, m.mem.readCString(a[0]!), a.slice(1));
      for (const l of text.replace(/\n$/, '').split('\n')) m.console(l);
      if (m.sink) m.probe(t, 'kernel:cmn_err', text.replace(/\n$/, ''));
      return text.length;
    },
  },
  { name: 'panic', proto: 'void panic(const char *, ...);', impl: (m, _t, a) => { throw new KernelPanic(kformat(m, m.mem.readCString(a[0]!), a.slice(1))); } },
  { name: 'kassert_panic', proto: 'void kassert_panic(const char *, ...);', impl: (m, _t, a) => { throw new KernelPanic(kformat(m, m.mem.readCString(a[0]!), a.slice(1))); } },
  {
    name: '__assert', proto: 'void __assert(const char *, const char *, int, const char *);',
    impl: (m, _t, a) => { throw new KernelPanic(`Assertion failed: (${str(m, a[3]!)}), function ${str(m, a[0]!)}, file ${str(m, a[1]!)}, line ${a[2]!}.`); },
  },
  {
    name: 'mtx_init', proto: 'void mtx_init(struct mtx *, const char *, const char *, int);',
    impl: (m, _t, a) => { m.mem.writePtr(a[0]! + MTX.offsets.mtx_lock, 0); m.mem.writePtr(a[0]! + MTX.offsets.lo_name, a[1]!); return 0; },
  },
  { name: 'mtx_destroy', proto: 'void mtx_destroy(struct mtx *);', impl: () => 0 },
  {
    name: 'mtx_lock', proto: 'void mtx_lock(struct mtx *);',
    impl: (m, t, a) => { lockProbe(m, t, 'acquire', a[0]!); return mutexEnter(m, t, a[0]!); },
  },
  {
    name: 'mtx_trylock', proto: 'int mtx_trylock(struct mtx *);',
    impl: (m, t, a) => { const ok = mutexTryEnter(m, t, a[0]!); lockProbe(m, t, 'try', a[0]!, ok ? ' = 1' : ' = 0'); return ok ? 1 : 0; },
  },
  {
    name: 'mtx_unlock', proto: 'void mtx_unlock(struct mtx *);',
    impl: (m, t, a) => {
      lockProbe(m, t, 'release', a[0]!);
      const r = mutexRelease(m, t, a[0]!);
      // __mtx_unlock_flags() asserts MA_OWNED under INVARIANTS; without it the unlock goes unchecked.
      if (r !== 'ok' && F(m).invariants) {
        const c = caller(m, t);
        throw new KernelPanic(`mutex ${mtxName(m, a[0]!)} not owned at ${c.file}:${c.line}`);
      }
      return 0;
    },
  },
  { name: 'mtx_owned', proto: 'int mtx_owned(struct mtx *);', impl: (m, t, a) => (m.mem.readPtr(a[0]!) === t.addr ? 1 : 0) },
  {
    name: '__kctx_mtx_assert', proto: 'void __kctx_mtx_assert(struct mtx *, int, const char *, int);',
    impl: (m, t, a) => {
      const owned = m.mem.readPtr(a[0]!) === t.addr;
      if (a[1]! & 1 && !owned) throw new KernelPanic(`mutex ${mtxName(m, a[0]!)} not owned at ${str(m, a[2]!)}:${a[3]!}`);
      if (!(a[1]! & 1) && owned) throw new KernelPanic(`mutex ${mtxName(m, a[0]!)} owned at ${str(m, a[2]!)}:${a[3]!}`);
      return 0;
    },
  },
  {
    name: 'ifunit', proto: '',
    impl: (m, t) => {
      const f = F(m);
      // if.c walks V_ifnet: a NULL curvnet is dereferenced for vnet_data_base (reference §A.4).
      if (f.vimage) {
        const v = tdVnet(m, f, t);
        if (v === 0) throw new MemoryFault(VNET.offsets.vnet_data_base, 8, false);
      }
      return 0;
    },
  },
  { name: 'vnet_register_sysinit', proto: '', impl: vnetRegisterSysinit, vimageOnly: true },
  { name: 'vnet_deregister_sysinit', proto: '', impl: (m, _t, a) => { registryRemove(m, F(m).constructorsVar, a[0]!); return 0; }, vimageOnly: true },
  { name: 'vnet_register_sysuninit', proto: '', impl: (m, _t, a) => { registryInsert(m, F(m).destructorsVar, a[0]!); return 0; }, vimageOnly: true },
  { name: 'vnet_deregister_sysuninit', proto: '', impl: vnetDeregisterSysuninit, vimageOnly: true },
  { name: 'vnet_log_recursion', proto: '', impl: () => 0, vimageOnly: true },
];

export const FREEBSD_KAPI_PROTOS = FREEBSD_KAPI.filter((k) => k.proto).map((k) => k.proto);
