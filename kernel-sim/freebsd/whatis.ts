/** `::whatis` for the VNET model: "vnet N instance of SYM", "master copy" or "ordinary global". */
import type { Machine } from '../machine/machine';
import { formatAddr } from '../machine/memory';
import { freebsdOf } from './state';
import { provenance } from './vnet';

export function freebsdWhatis(m: Machine, a: number): string | null {
  const f = freebsdOf(m);
  if (!f) return null;
  const pv = provenance(m, f, a);
  if (!pv) return null;
  const at = `${formatAddr(a)} is`;
  const sym = pv.off ? `${pv.v.symbol}+${pv.off.toString(16)}` : pv.v.symbol;
  const owner = f.kernelVnetVars.includes(pv.v) ? 'kernel' : (f.modules.find((x) => x.vnetVars.includes(pv.v))?.file ?? '?');
  switch (pv.kind) {
    case 'instance':
      return `${at} vnet ${pv.vnetId} instance of ${sym} (${pv.jail === 'vnet0' ? 'vnet0' : `jail ${pv.jail}`}; ${owner})`;
    case 'master':
      return `${at} ${sym}, master copy in set_vnet (${owner === 'kernel' ? 'kernel' : `module space of ${owner}`}): the initial value and offset every vnet's instance is made from`;
    case 'global':
      return `${at} ${sym}, ordinary global in ${owner}: one instance for every vnet`;
  }
}
