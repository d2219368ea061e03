/**
 * Builds a running kernel from a scenario: the machine, the era's kernel functions, the
 * kernel's own ctxops, the driver's C code (through the interpreter), and the threads.
 * This is the simulator's front door for the CLI, mdb and the debug adapter.
 */
import { Machine, KernelPanic, registerFrameKind, type MachineConfig } from './machine/machine';
import './machine/dispatcher';
import { KAPI } from './abi/kapi';
import { installCtxopInterface } from './abi/ctxops';
import { installKernelCtxops, attachLwpCtxops, attachSchedctl } from './abi/kernel-ctxops';
import { installBuiltinHandlers, builtinFrame } from './workloads/builtins';
import { ScenarioError, type Scenario } from './scenario';
import type { KThread } from './machine/thread';
import type { DriverProgram, KernelOptions } from './program';
import { createFreebsdKernel } from './freebsd/kernel';
import { loadDriver } from './cinterp/index';

/** A thread whose entry could not even be called (its frame overflows the stack): panics when it first runs. */
registerFrameKind('trap', {
  preemptible: false,
  step(_m, _t, f) {
    throw new KernelPanic(f.message as string);
  },
  describe(_m, _t, f, i) {
    // The driver's entry function, at its definition (it never ran a line).
    if (typeof f.file === 'string') return [{ name: f.fn as string, offset: 0, args: [], kind: 'c', file: f.file, line: f.line as number, column: 1, frameIndex: i }];
    return [{ name: f.fn as string, offset: 0, args: [], kind: 'kernel', frameIndex: i }];
  },
});

export type { DriverProgram, DriverLoader, KernelOptions } from './program';

/** Where a C function is defined (the interpreter's CFunc behind its symbol), for a frame that names it. */
function cLocation(sym: { cfunc?: unknown }): { file?: string; line?: number } {
  const fn = sym.cfunc as { file?: string; line?: number } | undefined;
  return fn?.file ? { file: fn.file, line: fn.line } : {};
}

/** The machine for a scenario, booted, with its threads created and runnable. */
export async function createKernel(s: Scenario, opts: KernelOptions = {}): Promise<Machine> {
  if (s.freebsd) return createFreebsdKernel(s, s.freebsd, opts);
  const m = new Machine(
    {
      era: s.kernel, cpus: s.cpus, seed: opts.seed ?? s.seed, tickCycles: s.tickCycles, quantum: s.quantum, slice: s.slice,
      memoryPressure: s.memoryPressure, debug: s.kernelDebug, physmem: s.memory, ...opts.config,
    },
    { attachLwpCtxops },
  );
  for (const k of KAPI) m.native(k.name, k.impl);
  installCtxopInterface(m);
  installKernelCtxops(m);
  installBuiltinHandlers(m);
  let driver: DriverProgram | null = null;
  if (s.sources.length) {
    const load = opts.loadDriver ?? loadDriver;
    driver = await load(m, s);
  }
  m.boot();
  s.threads.forEach((st, i) => {
    let entry: Parameters<Machine['createThread']>[0]['entry'];
    let startpc = 0;
    if (st.entry.startsWith('builtin:')) {
      try {
        entry = builtinFrame(m, st.entry.slice(8), st.arg);
      } catch (e) {
        throw new ScenarioError(s.file, 1, 1, `threads[${i}].entry: ${(e as Error).message}`);
      }
    } else {
      const why = driver!.checkEntry(st.entry);
      if (why) throw new ScenarioError(s.file, 1, 1, `threads[${i}].entry: ${why}`);
      const sym = m.sym.atAddr(driver!.functionAddr(st.entry)!)!;
      startpc = sym.addr;
      entry = (t: KThread) => {
        try {
          return m.hooks.callC!(m, t, sym, [st.arg >>> 0]);
        } catch (e) {
          // The entry's frame does not fit its stack (a huge local array): the thread panics when it runs.
          if (e instanceof KernelPanic) return { kind: 'trap', pc: 0, message: e.message, fn: sym.name, ...cLocation(sym) };
          throw e;
        }
      };
    }
    const t = m.createThread({ name: st.name, role: 'scenario', pri: st.pri, lwp: st.lwp, entry, startpc });
    if (st.schedctl) attachSchedctl(m, t);
    m.setrun(t);
  });
  return m;
}
