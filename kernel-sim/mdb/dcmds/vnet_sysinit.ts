/**
 * `::vnet_sysinit [-u]`: the registered vnet constructors (or, with -u, destructors) of a
 * FreeBSD VIMAGE kernel, in the order a new vnet runs them (after DDB's `show vnet_sysinit`).
 */
import { getopts, DcmdUsage, MdbError, type Dcmd } from '../types';
import { p, sym } from '../format';
import { freebsdOf } from '../../freebsd/state';
import { registry } from '../../freebsd/vnet';
import { VNET_SYSINIT } from '../../freebsd/layout';

export const vnetSysinitDcmd: Dcmd = {
  name: 'vnet_sysinit',
  usage: '?[-u]',
  description: 'print the registered vnet sysinits (or, -u, sysuninits)',
  help: 'List the VNET_SYSINIT constructors registered with the kernel, in the order a new\n' +
    'vnet runs them: the struct vnet_sysinit, its subsystem and order, the function and its\n' +
    'argument. A module built without VIMAGE registers none: its VNET_SYSINITs were plain\n' +
    'SYSINITs that ran once at kldload.\n\n' +
    '  -u    the VNET_SYSUNINIT destructors instead (run newest first)',
  run(c) {
    const o = getopts(c.args, 'u');
    if (o.rest.length || c.flags.addrspec) throw new DcmdUsage();
    const f = freebsdOf(c.m);
    if (!f) throw new MdbError('::vnet_sysinit needs a freebsd-14 kernel');
    if (!f.vimage) {
      c.out('no vnet sysinits: this kernel was built without options VIMAGE');
      return;
    }
    const O = VNET_SYSINIT.offsets;
    c.out(`${(o.set.has('u') ? 'VNET_SYSUNINIT' : 'VNET_SYSINIT').padEnd(24)} ${'SUBSYSTEM'.padStart(9)} ${'ORDER'.padStart(9)} FUNCTION(ARG)`);
    for (const vs of registry(c.m, o.set.has('u') ? f.destructorsVar : f.constructorsVar)) {
      const m = c.m;
      const name = sym(m, vs);
      const fn = m.mem.readPtr(vs + O.func);
      c.out(`${name.padEnd(24)} ${('0x' + m.mem.readU32(vs + O.subsystem).toString(16)).padStart(9)} ${('0x' + m.mem.readU32(vs + O.order).toString(16)).padStart(9)} ${sym(m, fn)}(${p(m.mem.readPtr(vs + O.arg))})`);
    }
  },
};
