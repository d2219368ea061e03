/**
 * `[addr]::nm [-dghnovx] [-t types] [object]` (mdb_nm.c, a subset): the symbol table, one
 * `|`-separated row per symbol (Value, Size, Type, Bind, Other, Shndx, Name). Functions are
 * FUNC in section 1 (text), kernel variables and the driver's globals OBJT in section 3
 * (data); every symbol is GLOB. With an address, the symbol containing it.
 */
import { getopts, DcmdUsage, MdbError, type Dcmd } from '../types';
import { decodeValue } from '../expr';
import { Memory } from '../../machine/memory';

interface NmSym {
  name: string;
  value: bigint;
  size: number;
  type: 'FUNC' | 'OBJT';
  module: string;
}

export const nmDcmd: Dcmd = {
  name: 'nm',
  usage: '?[-dghnovx] [-t types] [object]',
  description: 'print symbols',
  help:
    'Print the symbol table: kernel functions and the driver\'s functions (FUNC), kernel\n' +
    'variables and the driver\'s globals (OBJT).  With an address, the symbol containing\n' +
    'it.  With an object name (genunix, unix, the driver\'s module), only its symbols.\n\n' +
    '  -d         print value and size in decimal\n' +
    '  -g         only print global symbols\n' +
    '  -h         suppress header line\n' +
    '  -n         sort symbols by name\n' +
    '  -o         print value and size in octal\n' +
    '  -v         sort symbols by value\n' +
    '  -x         print value and size in hexadecimal\n' +
    '  -t types   display symbols with the specified types (objt, func)',
  run(c) {
    const o = getopts(c.args, 'dghnovx', 't');
    if (o.rest.length > 1 || (o.rest.length && c.flags.addrspec)) throw new DcmdUsage();
    if (o.rest[0]?.startsWith('-')) throw new DcmdUsage();
    const radix = ['d', 'o', 'x'].filter((k) => o.set.has(k));
    if (radix.length > 1) throw new DcmdUsage('-d/-o/-x options are mutually exclusive');
    const types = new Set((o.values.get('t') ?? 'noty,objt,func,sect,file,comm,tls,regi').split(','));
    for (const t of types) if (!['noty', 'objt', 'func', 'sect', 'file', 'comm', 'tls', 'regi'].includes(t)) throw new DcmdUsage();
    const m = c.m;
    const object = o.rest[0];
    let syms: NmSym[] = [];
    for (const s of m.sym.all()) syms.push({ name: s.name, value: Memory.ptrToBig(s.addr), size: s.size, type: 'FUNC', module: s.module });
    for (const [name, d] of m.sym.data) syms.push({ name, value: Memory.ptrToBig(d.addr), size: d.size, type: 'OBJT', module: d.module });
    if (c.flags.addrspec) {
      const a = decodeValue(c.addr);
      const hit = syms.find((s) => a >= s.value && a < s.value + BigInt(Math.max(1, s.size)));
      if (!hit) throw new MdbError(`${a.toString(16)}: no symbol corresponds to address`);
      syms = [hit];
    } else if (object !== undefined) {
      if (!syms.some((s) => s.module === object)) throw new MdbError(`failed to iterate over symbols: unknown object name`);
      syms = syms.filter((s) => s.module === object);
    }
    syms = syms.filter((s) => types.has(s.type.toLowerCase()));
    if (o.set.has('n')) syms.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
    else if (o.set.has('v')) syms.sort((x, y) => (x.value < y.value ? -1 : x.value > y.value ? 1 : 0));
    const dec = o.set.has('d');
    const oct = o.set.has('o');
    const hw = dec ? 20 : oct ? 22 : 18;
    const num = (v: bigint): string => (dec ? v.toString(10).padEnd(20) : oct ? v.toString(8).padEnd(22) : '0x' + v.toString(16).padStart(16, '0'));
    const other = dec || oct ? '0'.padEnd(5) : '0x0'.padEnd(5);
    if (!o.set.has('h')) c.out(['Value'.padEnd(hw), 'Size'.padEnd(hw), 'Type ', 'Bind ', 'Other', 'Shndx   ', 'Name'].join(' '));
    for (const s of syms) {
      c.out([num(s.value), num(BigInt(s.size)), s.type.padEnd(5), 'GLOB ', other, (s.type === 'FUNC' ? '1' : '3').padEnd(8), s.name].join('|'));
    }
  },
};
