/**
 * What the kernel (kernel.ts) and the loaders of driver code (the C interpreter, FreeBSD's
 * kldload) agree on: a loaded driver program and the options of a kernel. Below both, so neither
 * imports the other's entry.
 */
import type { Machine, MachineConfig } from './machine/machine';
import type { Scenario } from './scenario';

/** What the C interpreter gives back after loading the driver (kernel-sim/cinterp). */
export interface DriverProgram {
  /** Address of the driver's C function `name`, if it defines one. */
  functionAddr(name: string): number | undefined;
  /** Why `name` cannot be a thread entry (`void f(void *)`), or null when it can. */
  checkEntry(name: string): string | null;
}

/** Loads the scenario's C sources into the machine (implemented by kernel-sim/cinterp). */
export type DriverLoader = (m: Machine, s: Scenario) => Promise<DriverProgram>;

export interface KernelOptions {
  seed?: number;
  /** Overrides for tests and benchmarks. */
  config?: Partial<MachineConfig>;
  loadDriver?: DriverLoader;
}
