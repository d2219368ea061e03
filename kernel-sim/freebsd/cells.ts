/**
 * Configurations of one scenario: the four cells of the VIMAGE matrix (kernel built with or
 * without `options VIMAGE` x module built with or without it, reference §A.5), and the same run
 * with asserts compiled out (no DEBUG, INVARIANTS or VNET_DEBUG in the module; NDEBUG defined).
 */
import type { Scenario } from '../scenario';
import type { Machine } from '../machine/machine';
import { freebsdOf } from './state';

export interface Cell {
  kernelVimage: boolean;
  moduleVimage: boolean;
}

export const CELLS: Cell[] = [
  { kernelVimage: true, moduleVimage: true },
  { kernelVimage: true, moduleVimage: false },
  { kernelVimage: false, moduleVimage: true },
  { kernelVimage: false, moduleVimage: false },
];

const toggle = (list: string[], on: boolean): string[] => (on ? (list.includes('VIMAGE') ? list : ['VIMAGE', ...list]) : list.filter((o) => o !== 'VIMAGE'));

export function cellScenario(s: Scenario, c: Cell): Scenario {
  const f = s.freebsd!;
  return {
    ...s,
    freebsd: { ...f, matrix: false, options: toggle(f.options, c.kernelVimage), modules: f.modules.map((mod) => ({ ...mod, built: toggle(mod.built, c.moduleVimage) })) },
  };
}

export function cellLabel(c: Cell): string {
  return `${c.kernelVimage ? 'VIMAGE kernel' : 'non-VIMAGE kernel'}, module built ${c.moduleVimage ? 'with' : 'without'} VIMAGE`;
}

/** Parses `vimage/novimage` (kernel/module). */
export function parseCell(text: string): Cell | undefined {
  const mt = /^(vimage|novimage)\/(vimage|novimage)$/.exec(text.toLowerCase());
  return mt ? { kernelVimage: mt[1] === 'vimage', moduleVimage: mt[2] === 'vimage' } : undefined;
}

const ASSERT_DEFINES = ['DEBUG', 'INVARIANTS', 'VNET_DEBUG'];

/** The scenario with every assert compiled out of the driver (or module). */
export function noAssertsScenario(s: Scenario): Scenario {
  const defines: Scenario['defines'] = {};
  for (const [k, v] of Object.entries(s.defines)) if (!ASSERT_DEFINES.includes(k)) defines[k] = v;
  defines.NDEBUG = 1;
  if (!s.freebsd) return { ...s, defines };
  return {
    ...s, defines,
    freebsd: {
      ...s.freebsd,
      modules: s.freebsd.modules.map((mod) => {
        const md: Scenario['defines'] = {};
        for (const [k, v] of Object.entries(mod.defines)) if (!ASSERT_DEFINES.includes(k)) md[k] = v;
        return { ...mod, built: mod.built.filter((o) => !ASSERT_DEFINES.includes(o)), defines: md };
      }),
    },
  };
}

/** Modules that failed kldload in this machine (their console lines were printed by the run). */
export function failedModules(m: Machine): string[] {
  return freebsdOf(m)?.modules.filter((x) => !x.ok).map((x) => x.error[0] ?? x.file) ?? [];
}
