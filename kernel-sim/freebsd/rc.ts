/**
 * The administrator's side of a FreeBSD scenario, run by one kernel thread (`rc`) so that every
 * piece of module code runs on a simulated thread: create the jails (vnet_alloc + the registered
 * vnet constructors in each new vnet), kldload the modules (vnet_data_copy, then the module's
 * SYSINITs in subsystem/order), start the scenario's threads (with `td_vnet` set to the vnet they
 * enter the module in), wait for them, then destroy the jails (vnet_sysuninit, magic poisoned)
 * and kldunload (SYSUNINITs in reverse). Reference §A.10's script, in that order.
 */
import { PUSHED, type Machine, type Frame, type KResult } from '../machine/machine';
import type { KThread } from '../machine/thread';
import { TS_ZOMB, TS_FREE } from '../machine/layout';
import { defineKcall, park } from '../abi/kcall';
import { freebsdOf, type Freebsd, type LoadedModule, type SysinitRec } from './state';
import { callList, perVnetList } from './kapi';
import { vnetAlloc, vnetUnlink, vnetDataCopy, vnetList, vnetJail, setTdVnet, vnetId } from './vnet';

export interface RcThreadSpec {
  name: string;
  /** Address of the entry function, or 0 when its module did not load. */
  entry: number;
  arg: number;
  pri: number;
  vnet: string | null;
  /** Why the thread cannot start (its module did not load). */
  missing?: string;
}

const specsByMachine = new WeakMap<Machine, RcThreadSpec[]>();

export function setRcThreads(m: Machine, specs: RcThreadSpec[]): void {
  specsByMachine.set(m, specs);
}

function sortSysinits(list: SysinitRec[]): SysinitRec[] {
  return list.map((r, i) => ({ r, i })).sort((a, b) => a.r.subsystem - b.r.subsystem || a.r.order - b.r.order || a.i - b.i).map((x) => x.r);
}

function sysinitList(recs: SysinitRec[], vnet0: number): number[] {
  const out: number[] = [];
  for (const r of recs) out.push(r.func, r.udata, vnet0);
  return out;
}

function vnetByJail(m: Machine, f: Freebsd, name: string): number {
  return vnetList(m, f).find((v) => (name === 'vnet0' ? vnetId(m, v) === 0 : vnetJail(m, v) === name)) ?? 0;
}

// Phases of the rc frame.
const JAILS = 0, LOAD = 1, START = 2, WAIT = 3, JAIL_DOWN = 4, UNLOAD = 5, DONE = 6;

defineKcall('kctx_rc', (m, t, fr) => rcStep(m, t, fr));

function rcStep(m: Machine, t: KThread, fr: Frame): KResult {
  const f = freebsdOf(m)!;
  const sc = f.scenario;
  const vnet0 = f.vimage ? m.mem.readPtr(f.vnet0Var) : 0;
  for (;;) {
    const phase = fr.phase as number;
    const i = fr.i as number;
    switch (phase) {
      case JAILS: {
        if (fr.sub === 1) {
          // Back from the new vnet's constructors.
          if (m.sink) m.exit(t, 'jail_create');
          fr.sub = 0;
          fr.i = i + 1;
          continue;
        }
        const j = sc.jails[i];
        if (!j) { fr.phase = LOAD; fr.i = 0; continue; }
        if (m.sink) m.entry(t, 'jail_create', `${j.name}${j.vnet ? ' vnet' : ''}`);
        if (!j.vnet || !f.vimage) {
          if (j.vnet) m.console(`kctx: jail ${j.name}: this kernel has no options VIMAGE, so the jail shares the host's network stack`);
          if (m.sink) m.exit(t, 'jail_create');
          fr.i = i + 1;
          continue;
        }
        const v = vnetAlloc(m, f, j.name);
        if (m.sink) m.probe(t, 'vnet:alloc' as never, `vnet ${vnetId(m, v)} for jail ${j.name}`);
        fr.sub = 1;
        const r = callList(m, t, 'vnet_sysinit', perVnetList(m, f, v, false));
        if (r === PUSHED) return park(t, fr, 0);
        continue;
      }
      case LOAD: {
        const mods: LoadedModule[] = f.modules;
        if (fr.sub === 1) {
          if (m.sink) m.exit(t, 'kldload');
          fr.sub = 0;
          fr.i = i + 1;
          continue;
        }
        const mod = mods[i];
        if (!mod) { fr.phase = START; fr.i = 0; continue; }
        if (m.sink) m.entry(t, 'kldload', mod.file);
        if (!mod.ok) {
          for (const l of mod.error) m.console(l);
          if (m.sink) m.exit(t, 'kldload');
          fr.i = i + 1;
          continue;
        }
        if (mod.modspace[1]) vnetDataCopy(m, f, mod.modspace[0], mod.modspace[1]);
        fr.sub = 1;
        // kern_kldload() runs the module's SYSINITs with curvnet set to the caller's vnet (vnet0).
        const r = callList(m, t, 'linker_file_sysinit', sysinitList(sortSysinits(mod.sysinits), f.vimage ? vnet0 : -1));
        if (r === PUSHED) return park(t, fr, 0);
        continue;
      }
      case START: {
        const specs = specsByMachine.get(m) ?? [];
        const started: number[] = [];
        for (const st of specs) {
          if (!st.entry) {
            m.console(`kctx: thread ${st.name} not started: ${st.missing}`);
            continue;
          }
          const sym = m.sym.atAddr(st.entry)!;
          const nt = m.createThread({
            name: st.name, role: 'created', pri: st.pri, lwp: false, startpc: sym.addr,
            entry: (x: KThread) => m.hooks.callC!(m, x, sym, [st.arg >>> 0]),
          });
          if (f.vimage && st.vnet) setTdVnet(m, f, nt, vnetByJail(m, f, st.vnet));
          m.setrun(nt);
          started.push(nt.addr);
        }
        fr.list = started;
        fr.phase = WAIT;
        continue;
      }
      case WAIT: {
        const live = (fr.list as number[]).some((a) => {
          const x = m.byAddr.get(a);
          return x !== undefined && !x.freed && m.tState(x) !== TS_ZOMB && m.tState(x) !== TS_FREE;
        });
        if (live) {
          m.block(t, { kind: 'delay', until: m.lbolt + 1 }, 0, 'delay');
          return park(t, fr, 0);
        }
        if (!sc.teardown) { fr.phase = DONE; continue; }
        fr.phase = JAIL_DOWN;
        fr.i = sc.jails.length - 1;
        continue;
      }
      case JAIL_DOWN: {
        if (fr.sub === 1) {
          vnetUnlink(m, f, fr.vnet as number);
          if (m.sink) m.exit(t, 'vnet_destroy');
          if (m.sink) m.exit(t, 'jail_remove');
          fr.sub = 0;
          fr.i = i - 1;
          continue;
        }
        if (i < 0) { fr.phase = UNLOAD; fr.i = f.modules.length - 1; continue; }
        const j = sc.jails[i]!;
        const v = f.vimage && j.vnet ? vnetByJail(m, f, j.name) : 0;
        if (m.sink) m.entry(t, 'jail_remove', j.name);
        if (!v) {
          if (m.sink) m.exit(t, 'jail_remove');
          fr.i = i - 1;
          continue;
        }
        if (m.sink) m.entry(t, 'vnet_destroy', `vnet ${vnetId(m, v)}`);
        fr.vnet = v;
        fr.sub = 1;
        const r = callList(m, t, 'vnet_sysuninit', perVnetList(m, f, v, true));
        if (r === PUSHED) return park(t, fr, 0);
        continue;
      }
      case UNLOAD: {
        if (fr.sub === 1) {
          if (m.sink) m.exit(t, 'kldunload');
          fr.sub = 0;
          fr.i = i - 1;
          continue;
        }
        if (i < 0) { fr.phase = DONE; continue; }
        const mod = f.modules[i]!;
        if (!mod.ok) { fr.i = i - 1; continue; }
        if (m.sink) m.entry(t, 'kldunload', mod.file);
        fr.sub = 1;
        const r = callList(m, t, 'linker_file_sysuninit', sysinitList(sortSysinits(mod.sysuninits).reverse(), f.vimage ? vnet0 : -1));
        if (r === PUSHED) return park(t, fr, 0);
        continue;
      }
      default:
        return 0;
    }
  }
}

/** The rc thread's entry frame. */
export function rcFrame(): Frame {
  return { kind: 'kcall', pc: 0, fn: 'kctx_rc', args: [], onStack: true, phase: JAILS, i: 0, sub: 0, list: [], vnet: 0 };
}
