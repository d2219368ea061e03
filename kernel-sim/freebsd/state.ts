/**
 * The FreeBSD personality of a machine: its configuration (fixed at boot) and where its state
 * lives in simulated memory. Everything that changes during a run (the vnet list, each vnet's
 * data, `td_vnet` of every thread, the vnet sysinit registries, module space) is in memory, so
 * `Machine.snapshot()` covers it; this object only holds addresses and boot-time facts.
 */
import type { Machine } from '../machine/machine';

export interface FreebsdModuleSpec {
  name: string;
  sources: string[];
  /** Build options: VIMAGE, INVARIANTS, VNET_DEBUG, DEBUG (become preprocessor definitions). */
  built: string[];
  defines: Record<string, string | number | boolean>;
}

export interface FreebsdJailSpec {
  name: string;
  vnet: boolean;
}

/** The FreeBSD part of a scenario (`"kernel": "freebsd-14"`). */
export interface FreebsdScenario {
  /** Kernel configuration options: VIMAGE, INVARIANTS, VNET_DEBUG. */
  options: string[];
  modules: FreebsdModuleSpec[];
  jails: FreebsdJailSpec[];
  /** Per scenario thread (same index): the vnet it enters the module in ('vnet0', a jail name) or null. */
  threadVnets: Array<string | null>;
  /** Destroy the jails and kldunload the modules once the threads are done (default true). */
  teardown: boolean;
  /** Run the four cells (kernel VIMAGE or not x module built VIMAGE or not). */
  matrix: boolean;
}

export interface SysinitRec {
  /** Address of the struct sysinit in the module's data. */
  addr: number;
  name: string;
  subsystem: number;
  order: number;
  func: number;
  udata: number;
}

export interface VnetVar {
  /** As the module's source names it (`counter`); the symbol is `vnet_entry_counter` on a VIMAGE build. */
  name: string;
  symbol: string;
  /** Address of the master copy (set_vnet/modspace) or of the ordinary global. */
  addr: number;
  size: number;
  /** In set_vnet (relocated into the kernel's module space): per-vnet instances exist. */
  virtualized: boolean;
}

export interface LoadedModule {
  spec: FreebsdModuleSpec;
  file: string;
  builtVimage: boolean;
  ok: boolean;
  /** Console lines of a failed kldload. */
  error: string[];
  sysinits: SysinitRec[];
  sysuninits: SysinitRec[];
  vnetVars: VnetVar[];
  /** The module's set_vnet section in module space: [start, size) (0 when none or not relocated). */
  modspace: [number, number];
  functions: string[];
}

export interface Freebsd {
  vimage: boolean;
  invariants: boolean;
  vnetDebug: boolean;
  scenario: FreebsdScenario;
  /** The kernel's set_vnet: [start, start + size), modspace at the end. */
  setVnet: { start: number; size: number; kernelBytes: number; modspace: number; modspaceSize: number };
  /** u64 in memory: bytes of module space handed out. */
  modspaceUsedVar: number;
  /** `vnet_head` (LIST_HEAD: first vnet pointer), `vnet0` (pointer variable). */
  vnetHeadVar: number;
  vnet0Var: number;
  /** u32 in memory: the next vnet id. */
  nextVnetIdVar: number;
  /** The vnet sysinit registries (vnet_constructors, vnet_destructors): count u64 then pointers. */
  constructorsVar: number;
  destructorsVar: number;
  /** struct thread slots, by tid. */
  tdTable: number;
  tdMax: number;
  /** Kernel virtualized variables (master copies in set_vnet). */
  kernelVnetVars: VnetVar[];
  modules: LoadedModule[];
  /** Interned C strings (function names for __func__, jail names). */
  strings: Map<string, number>;
}

export const REGISTRY_SLOTS = 64;

const personalities = new WeakMap<Machine, Freebsd>();

export function freebsdOf(m: Machine): Freebsd | undefined {
  return personalities.get(m);
}

export function setFreebsd(m: Machine, f: Freebsd): void {
  personalities.set(m, f);
}
