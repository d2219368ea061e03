/**
 * `createKernel()` for `"kernel": "freebsd-14"`: the machine with the FreeBSD kernel functions
 * (the VIMAGE entry points only with `options VIMAGE`), vnet0, the kernel's set_vnet with its
 * module space, the modules linked at boot (a failed link leaves nothing behind and is reported
 * by kldload in the run), and the `rc` thread that creates the jails, runs kldload, starts the
 * scenario's threads and tears everything down.
 */
import { Machine, type MachineConfig } from '../machine/machine';
import '../machine/dispatcher';
import { attachLwpCtxops } from '../abi/kernel-ctxops';
import { ScenarioError, type Scenario } from '../scenario';
import type { KernelOptions } from '../program';
import { callC } from '../cinterp/index';
import { loadFreebsdDcmds } from '../mdb/registry';
import { TD, VNET_MODMIN } from './layout';
import { FREEBSD_KAPI } from './kapi';
import { setFreebsd, REGISTRY_SLOTS, type Freebsd, type FreebsdScenario } from './state';
import { vnetAlloc, internString } from './vnet';
import { kldLoad } from './kld';
import { rcFrame, setRcThreads, type RcThreadSpec } from './rc';
import { vnetSymbol } from '../../core/vnet-abi';
import { formatFreebsdPanic } from './panic';

const TD_MAX = 512;
/** Kernel virtualized variables: name, size, initial value (ip_defttl is 64). */
const KERNEL_VNET_VARS: Array<[string, number, number]> = [['ip_defttl', 4, 64]];

export async function createFreebsdKernel(s: Scenario, fs: FreebsdScenario, opts: KernelOptions = {}): Promise<Machine> {
  const m = new Machine(
    {
      era: 'illumos-13917', cpus: s.cpus, seed: opts.seed ?? s.seed, tickCycles: s.tickCycles, quantum: s.quantum, slice: s.slice,
      memoryPressure: s.memoryPressure, debug: s.kernelDebug, ...(opts.config as Partial<MachineConfig> | undefined),
    },
    { attachLwpCtxops },
  );
  const vimage = fs.options.includes('VIMAGE');
  for (const k of FREEBSD_KAPI) if (vimage || !k.vimageOnly) m.native(k.name, k.impl, 'kernel');
  // set_vnet: kernel masters, then VNET_MODMIN of module space; VNET_SIZE is a whole page count.
  let kernelBytes = 0;
  for (const [, size] of KERNEL_VNET_VARS) kernelBytes += Math.ceil(size / 8) * 8;
  const size = Math.ceil((kernelBytes + VNET_MODMIN) / 4096) * 4096;
  const start = m.mem.map(size, 4096);
  const f: Freebsd = {
    vimage, invariants: fs.options.includes('INVARIANTS'), vnetDebug: fs.options.includes('VNET_DEBUG'), scenario: fs,
    setVnet: { start, size, kernelBytes, modspace: start + kernelBytes, modspaceSize: size - kernelBytes },
    modspaceUsedVar: m.mem.map(8, 8), vnetHeadVar: m.mem.map(8, 8), vnet0Var: m.mem.map(8, 8), nextVnetIdVar: m.mem.map(8, 8),
    constructorsVar: m.mem.map(8 + REGISTRY_SLOTS * 8, 8), destructorsVar: m.mem.map(8 + REGISTRY_SLOTS * 8, 8),
    tdTable: m.mem.map(TD_MAX * TD.size, 64), tdMax: TD_MAX, kernelVnetVars: [], modules: [], strings: new Map(),
  };
  setFreebsd(m, f);
  m.hooks.panicLines = formatFreebsdPanic;
  let off = start;
  for (const [name, sz, init] of KERNEL_VNET_VARS) {
    if (vimage) {
      m.mem.writeI32(off, init);
      m.sym.defineData(vnetSymbol(name, true), off, sz, 'kernel');
      f.kernelVnetVars.push({ name, symbol: vnetSymbol(name, true), addr: off, size: sz, virtualized: true });
      off += Math.ceil(sz / 8) * 8;
    } else {
      const a = m.mem.map(8, 8);
      m.mem.writeI32(a, init);
      m.sym.defineData(vnetSymbol(name, false), a, sz, 'kernel');
    }
  }
  if (vimage) {
    m.sym.defineData('vnet_head', f.vnetHeadVar, 8, 'kernel');
    m.sym.defineData('vnet0', f.vnet0Var, 8, 'kernel');
    m.sym.defineData('vnet_constructors', f.constructorsVar, 8 + REGISTRY_SLOTS * 8, 'kernel');
    m.sym.defineData('vnet_destructors', f.destructorsVar, 8 + REGISTRY_SLOTS * 8, 'kernel');
    // vnet0: curvnet = prison0.pr_vnet = vnet0 = vnet_alloc() at SI_SUB_VNET.
    m.mem.writePtr(f.vnet0Var, vnetAlloc(m, f, 'vnet0'));
  }
  for (const j of fs.jails) internString(m, f, j.name);
  // Threads' struct thread slots (td_tid) for the kernel's thread ids.
  for (let i = 0; i < TD_MAX; i++) m.mem.writeI32(f.tdTable + i * TD.size, 100000 + i);
  for (const spec of fs.modules) {
    const { mod, program } = await kldLoad(m, f, s, spec);
    f.modules.push(mod);
    if (program) m.hooks.callC = callC;
  }
  loadFreebsdDcmds();
  m.boot(false);
  const specs: RcThreadSpec[] = s.threads.map((st, i) => {
    const sym = m.sym.lookup(st.entry);
    let missing: string | undefined;
    if (!sym || sym.kind !== 'c') {
      const failed = f.modules.filter((x) => !x.ok).map((x) => x.file);
      if (!failed.length) throw new ScenarioError(s.file, 1, 1, `threads[${i}].entry: no function '${st.entry}' is defined in the modules' sources`);
      missing = `its entry ${st.entry}() is not in the kernel (${failed.join(', ')} did not load)`;
    }
    return { name: st.name, entry: missing ? 0 : sym!.addr, arg: st.arg, pri: st.pri, vnet: fs.threadVnets[i] ?? null, missing };
  });
  setRcThreads(m, specs);
  const rc = m.createThread({ name: 'rc', role: 'scenario', pri: 60, lwp: false, entry: rcFrame() });
  m.setrun(rc);
  return m;
}
