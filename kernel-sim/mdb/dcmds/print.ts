/**
 * `[addr]::print [-aCdLntx] [-c lim] [-l lim] [-s depth] [type] [member ...]` (mdb_print.c):
 * the data at the address as a C type. The type may be a kernel structure (kthread_t, struct
 * ctxop of the running era, cpu_t, ...), a C base type or typedef, or any type of the loaded
 * driver; without one, the type of the symbol at the address (a driver global, `allthreads`,
 * `cpu`, ...). Members may be paths: `a.b`, `p->q`, `arr[2]`. Without an address, -t prints
 * the type's layout. See ctfprint.ts for the output format.
 */
import { getopts, DcmdUsage, MdbError, type Dcmd } from '../types';
import { Types, sizeOf, type MType } from '../ctf';
import { TypePrinter, parseMember, pipeValue, DEFAULT_ARRMEM, DEFAULT_ARRSTR, type PrintOpts } from '../ctfprint';
import { addrString } from '../fmt';
import { decodeValue } from '../expr';

/** args_to_typename: `struct x`, `union x`, `enum x` are one type argument. */
export function typeArg(words: string[]): { name: string; used: number } | undefined {
  const w = words[0];
  if (w === undefined) return undefined;
  if (w === 'struct' || w === 'union' || w === 'enum') {
    if (words.length < 2) throw new MdbError(`${w} is not a valid type`);
    return { name: `${w} ${words[1]}`, used: 2 };
  }
  return { name: w, used: 1 };
}

/** libctf's messages (ECTF_NOTYPE, ECTF_NOTDATA, ECTF_NOTYPEDAT), as mdb_strerror gives them. */
export const NOTYPE = 'No type information available for that name';
const NOTDATA = 'Symbol table entry is not a data object';
const NOTYPEDAT = 'No type information available for symbol';

export const printDcmd: Dcmd = {
  name: 'print',
  usage: '?[-aCdhiLnptTx] [-c lim] [-l lim] [-s depth] [type] [member ...]',
  description: 'print the contents of a data structure',
  help:
    'Print the data at the address as TYPE: a kernel structure (kthread_t, ctxop_t in the\n' +
    'layout of the running era, cpu_t, struct ctxop_template (13917), klwp_t, kmutex_t),\n' +
    'a C type or typedef, or a type of the loaded driver (struct vcpu, vm_thread_ctx_t).\n' +
    'The type may be omitted if the address is a symbol whose C type is known (a global\n' +
    'of the driver, allthreads, cpu).  Members may be given with C syntax: a.b, p->q, a[2].\n\n' +
    '  -a         show the address of each member\n' +
    '  -C         unlimit the length of character arrays\n' +
    '  -c lim     limit the length of character arrays\n' +
    '  -d         output values in decimal\n' +
    '  -L         unlimit the length of standard arrays\n' +
    '  -l lim     limit the length of standard arrays\n' +
    '  -n         don\'t print pointers as symbol offsets\n' +
    '  -s depth   limit the recursion depth\n' +
    '  -t         show the type of each member\n' +
    '  -x         output values in hexadecimal',
  run(c) {
    const o = getopts(c.args, 'aCdhiLnptTx', 'cls');
    if (o.set.has('i')) throw new MdbError('-i (interpret the address as a value) is not available in the simulator');
    const m = c.m;
    const types = Types.of(m);
    const num = (k: string, dflt: number): number => {
      const v = o.values.get(k);
      return v === undefined ? dflt : Number(c.mdb.evaluateValue(v));
    };
    const opts: PrintOpts = {
      showType: o.set.has('t') || o.set.has('T'),
      showAddr: o.set.has('a'),
      showVal: c.flags.addrspec,
      intHex: o.set.has('x'),
      intDec: o.set.has('d') && !o.set.has('x'),
      noSym: o.set.has('n'),
      armemlim: o.set.has('L') ? Infinity : num('l', DEFAULT_ARRMEM),
      arstrlim: o.set.has('C') ? Infinity : num('c', DEFAULT_ARRSTR),
      maxdepth: num('s', Infinity),
    };
    let words = o.rest;
    let type: MType | undefined;
    const addr = c.flags.addrspec ? c.addr : 0;
    if (words.length) {
      if (/^[+-]/.test(words[0]!)) throw new DcmdUsage();
      const ta = typeArg(words)!;
      type = types.lookup(ta.name);
      if (type) words = words.slice(ta.used);
      else {
        const st = c.flags.addrspec ? types.symbolType(addr) : 'nosym';
        if (st === 'nosym' || 'notype' in st) throw new MdbError(`failed to look up type ${ta.name}: ${NOTYPE}`);
        type = st.type;
      }
    } else {
      if (!c.flags.addrspec) throw new DcmdUsage();
      const st = types.symbolType(addr);
      if (st === 'nosym') throw new MdbError(`no symbol information for ${addrString(m, decodeValue(addr))}: no symbol corresponds to address`);
      if ('notype' in st) throw new MdbError(`no type data available for ${st.name} [${symbolIndex(m, st.name)}]: ${m.sym.lookup(st.name) ? NOTDATA : NOTYPEDAT}`);
      type = st.type;
    }
    const pr = new TypePrinter(m, c.iob, opts);
    if (!words.length) {
      if (c.flags.pipeOut) c.out(pipeValue(m, type, addr, opts.showAddr));
      else if (!pr.print(type, addr)) throw new MdbError('failed to print type: no mapping for address');
    }
    for (const w of words) {
      const ref = parseMember(m, type, addr, w, (s) => c.warn(s));
      const sou = ref.type.k === 'sou';
      pr.prefix = ref.lastDeref && sou ? w.slice(0, w.lastIndexOf('[')) : w;
      pr.suffix = ref.lastDeref && sou ? '->' : sou ? '.' : '';
      if (c.flags.pipeOut) c.out(pipeValue(m, ref.type, ref.addr, opts.showAddr));
      else if (!pr.print(ref.type, ref.addr)) throw new MdbError('failed to print type: no mapping for address');
    }
    if (c.flags.addrspec && !c.flags.pipeOut) c.mdb.dot = addr + sizeOf(type);
  },
};

/** The symbol's index in the symbol table (the `[%u]` of mdb's message). */
function symbolIndex(m: import('../../machine/machine').Machine, name: string): number {
  const text = m.sym.all().findIndex((s) => s.name === name);
  if (text >= 0) return text + 1;
  return m.sym.all().length + 1 + [...m.sym.data.keys()].indexOf(name);
}
