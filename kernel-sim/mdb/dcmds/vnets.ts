/**
 * `::vnets`: every vnet of a FreeBSD VIMAGE kernel (after DDB's `show vnets`): address, id,
 * the jail it belongs to, the magic (ok, or poisoned by vnet_destroy), its data and
 * vnet_data_base. A non-VIMAGE kernel has none.
 */
import { DcmdUsage, MdbError, type Dcmd } from '../types';
import { p, pR } from '../format';
import { freebsdOf } from '../../freebsd/state';
import { vnetList, vnetId, vnetJail, vnetMagicOk, vnetDataMem } from '../../freebsd/vnet';
import { VNET, VNET_MAGIC_DEAD } from '../../freebsd/layout';

export const vnetsDcmd: Dcmd = {
  name: 'vnets',
  usage: '',
  description: 'print the vnets of a FreeBSD VIMAGE kernel',
  help: 'List every virtual network stack (vnet0 and one per VNET jail): the struct vnet, its\n' +
    'id, its jail, whether vnet_magic_n is intact, and where its copy of set_vnet lives\n' +
    '(vnet_data_mem) with the base every V_ access adds (vnet_data_base).',
  run(c) {
    if (c.args.length || c.flags.addrspec) throw new DcmdUsage();
    const f = freebsdOf(c.m);
    if (!f) throw new MdbError('::vnets needs a freebsd-14 kernel');
    if (!f.vimage) {
      c.out('no vnets: this kernel was built without options VIMAGE');
      return;
    }
    c.out(`${'ADDR'.padStart(16)}  ID JAIL     MAGIC      DATA_MEM         DATA_BASE`);
    for (const v of vnetList(c.m, f).reverse()) {
      const magic = c.m.mem.readU32(v + VNET.offsets.vnet_magic_n);
      const state = vnetMagicOk(c.m, v) ? 'ok' : magic === VNET_MAGIC_DEAD ? 'dead' : 'mismatch';
      const base = c.m.mem.readU64n(v + VNET.offsets.vnet_data_base);
      c.out(`${pR(v)} ${String(vnetId(c.m, v)).padStart(3)} ${vnetJail(c.m, v).padEnd(8)} ${state.padEnd(10)} ${p(vnetDataMem(c.m, v))} ${base.toString(16)}`);
    }
    c.out(`set_vnet ${p(f.setVnet.start)}, ${f.setVnet.size.toString(16)} bytes per vnet; module space ${c.m.mem.readU64n(f.modspaceUsedVar).toString(16)} of ${f.setVnet.modspaceSize.toString(16)} bytes used`);
  },
};
