/**
 * `addr::print [-at] TYPE [member ...]`: a structure in simulated memory as mdb_print.c prints
 * it (`name = value` inside `{ }`, with -t the member types). The kernel's types come from
 * machine/layout.ts (kthread_t, struct ctxop of the running era, cpu_t, struct ctxop_template,
 * klwp_t); the driver's own structs from the C interpreter's typeLayout().
 */
import { getopts, DcmdUsage, MdbError, type Dcmd } from '../types';
import type { Machine } from '../../machine/machine';
import { KTHREAD, CPU, CTXOP_TEMPLATE, KLWP, SC_SHARED, MUTEX_LAYOUT, CONDVAR_LAYOUT, type StructLayout } from '../../machine/layout';
import { p, sym } from '../format';

interface PField {
  name: string;
  /** Type text as -t shows it, with `%s` where the member name goes. */
  decl: string;
  offset: number;
  size: number;
  kind: 'ptr' | 'fn' | 'char' | 'chars' | 'int' | 'uint' | 'struct' | 'bytes';
  count?: number;
  nested?: PType;
}

interface PType {
  /** The name as -t prints it before `{`. */
  name: string;
  size: number;
  fields: PField[];
}

function fromLayout(l: StructLayout, name: string, m: Machine): PType {
  const fields: PField[] = l.fields.map((f) => {
    const size = typeof f.kind === 'string' ? (f.kind === 'ptr' || f.kind.endsWith('64') ? 8 : f.kind.endsWith('32') ? 4 : f.kind.endsWith('16') ? 2 : 1) : f.kind.size;
    if (f.fnArgs !== undefined) return { name: f.name, decl: `${f.ctype} (*%s)(${f.fnArgs})`, offset: f.offset, size: 8, kind: 'fn' as const };
    if (f.kind === 'ptr') return { name: f.name, decl: f.ctype.endsWith('*') ? `${f.ctype}%s` : `${f.ctype} %s`, offset: f.offset, size: 8, kind: 'ptr' as const };
    if (typeof f.kind !== 'string') {
      const nested = f.ctype === 'kmutex_t' ? fromLayout(MUTEX_LAYOUT, 'kmutex_t', m) : f.ctype === 'kcondvar_t' ? fromLayout(CONDVAR_LAYOUT, 'kcondvar_t', m) : undefined;
      return { name: f.name, decl: `${f.ctype} %s`, offset: f.offset, size, kind: nested ? ('struct' as const) : ('bytes' as const), nested };
    }
    if (f.count && /char/.test(f.ctype)) return { name: f.name, decl: `${f.ctype} %s[${f.count}]`, offset: f.offset, size: f.count, kind: 'chars' as const, count: f.count };
    if (f.count) return { name: f.name, decl: `${f.ctype} %s[${f.count}]`, offset: f.offset, size: size * f.count, kind: 'bytes' as const, count: f.count };
    if (/char/.test(f.ctype) && size === 1) return { name: f.name, decl: `${f.ctype} %s`, offset: f.offset, size, kind: 'char' as const };
    return { name: f.name, decl: `${f.ctype} %s`, offset: f.offset, size, kind: f.kind.startsWith('i') ? ('int' as const) : ('uint' as const) };
  });
  return { name, size: l.size, fields };
}

/** The type named by the words (`kthread_t`, `struct ctxop`, a driver struct). */
export function lookupType(m: Machine, name: string): PType | undefined {
  const n = name.replace(/\s+/g, ' ').trim();
  const kernel: Array<[string[], StructLayout]> = [
    [['kthread_t', 'struct _kthread'], KTHREAD],
    [['ctxop_t', 'struct ctxop'], m.era.ctxopLayout],
    [['cpu_t', 'struct cpu'], CPU],
    [['klwp_t', 'struct _klwp'], KLWP],
    [['sc_shared_t', 'struct sc_shared'], SC_SHARED],
    [['kmutex_t', 'struct mutex'], MUTEX_LAYOUT],
    [['kcondvar_t', 'struct _kcondvar'], CONDVAR_LAYOUT],
  ];
  if (m.era.hasTemplates) kernel.push([['struct ctxop_template'], CTXOP_TEMPLATE]);
  for (const [names, l] of kernel) if (names.includes(n)) return fromLayout(l, n, m);
  const prog = m.program;
  if (prog) {
    let tl;
    try {
      tl = prog.typeLayout(n) ?? (n.startsWith('struct ') ? undefined : prog.typeLayout(`struct ${n}`));
    } catch {
      tl = undefined;
    }
    if (tl) {
      return {
        name: n,
        size: tl.size,
        fields: tl.fields.map((f) => {
          const t = f.type.trim();
          const arr = /^(.*?)\s*\[(\d+)\]$/.exec(t);
          let kind: PField['kind'] = 'bytes';
          if (/\(\s*\*\s*\)/.test(t)) kind = 'fn';
          else if (t.endsWith('*')) kind = 'ptr';
          else if (arr && /char/.test(arr[1]!)) kind = 'chars';
          else if (!arr && /char/.test(t) && f.size === 1) kind = 'char';
          else if (!arr && [1, 2, 4, 8].includes(f.size) && !/^(struct|union) /.test(t)) kind = /unsigned|uint|size_t|uintptr|ulong|ushort|uchar|boolean/.test(t) ? 'uint' : 'int';
          const decl = kind === 'fn' ? t.replace(/\(\s*\*\s*\)/, '(*%s)') : arr ? `${arr[1]} %s[${arr[2]}]` : t.endsWith('*') ? `${t}%s` : `${t} %s`;
          return { name: f.name, decl, offset: f.offset, size: f.size, kind, count: arr ? Number(arr[2]) : undefined };
        }),
      };
    }
  }
  return undefined;
}

function charLit(v: number): string {
  if (v === 0) return "'\\0'";
  if (v >= 0x20 && v < 0x7f && v !== 0x27 && v !== 0x5c) return `'${String.fromCharCode(v)}'`;
  return `'\\${(v & 0xff).toString(8).padStart(3, '0')}'`;
}

function hexInt(v: bigint): string {
  return v === 0n ? '0' : '0x' + v.toString(16);
}

function value(m: Machine, a: number, f: PField, indent: string, t: boolean): string[] {
  const mem = m.mem;
  switch (f.kind) {
    case 'ptr': {
      const v = mem.readPtr(a);
      return [v === 0 ? '0' : '0x' + p(v)];
    }
    case 'fn': {
      const v = mem.readPtr(a);
      return [v === 0 ? '0' : sym(m, v)];
    }
    case 'char':
      return [charLit(mem.u8[a]!)];
    case 'chars': {
      let s = '';
      for (let i = 0; i < (f.count ?? 0); i++) {
        const ch = mem.u8[a + i]!;
        if (!ch) break;
        s += ch >= 0x20 && ch < 0x7f ? String.fromCharCode(ch) : `\\${ch.toString(8).padStart(3, '0')}`;
      }
      return [`[ "${s}" ]`];
    }
    case 'int':
    case 'uint': {
      let v: bigint;
      if (f.size === 8) v = mem.dv.getBigUint64(a, true);
      else if (f.size === 4) v = BigInt(mem.dv.getUint32(a, true));
      else if (f.size === 2) v = BigInt(mem.dv.getUint16(a, true));
      else v = BigInt(mem.u8[a]!);
      return [hexInt(v)];
    }
    case 'struct': {
      const lines = ['{'];
      for (const nf of f.nested!.fields) lines.push(...member(m, a + nf.offset, nf, indent + '    ', t));
      lines.push(`${indent}}`);
      return lines;
    }
    default: {
      const bytes: string[] = [];
      for (let i = 0; i < f.size; i++) bytes.push(hexInt(BigInt(mem.u8[a + i]!)));
      return [`[ ${bytes.join(', ')} ]`];
    }
  }
}

function member(m: Machine, a: number, f: PField, indent: string, t: boolean, addrs = false): string[] {
  const label = t ? f.decl.replace('%s', f.name) : f.name;
  const v = value(m, a, f, indent, t);
  const pre = addrs ? `${p(a)} ` : '';
  return [`${indent}${pre}${label} = ${v[0]}`, ...v.slice(1)];
}

export const printDcmd: Dcmd = {
  name: 'print',
  usage: '?[-at] [type] [member ...]',
  description: 'print the contents of a data structure',
  help:
    'Print the structure at the address as TYPE: kthread_t, ctxop_t (struct ctxop, in the\n' +
    'layout of the running kernel era), cpu_t, struct ctxop_template (13917), klwp_t,\n' +
    'or a struct of the loaded driver.  With members, print only those.\n\n' +
    '  -a    show the address of each member\n' +
    '  -t    show the type of each member',
  run(c) {
    const o = getopts(c.args, 'atdhixpCL', 'cl');
    if (!o.rest.length) throw new DcmdUsage();
    const m = c.m;
    let words = o.rest.slice();
    let type: PType | undefined;
    let used = 0;
    for (let n = Math.min(3, words.length); n >= 1 && !type; n--) {
      type = lookupType(m, words.slice(0, n).join(' '));
      if (type) used = n;
    }
    if (!type) throw new MdbError(`failed to look up type ${words[0] === 'struct' && words[1] ? `struct ${words[1]}` : words[0]}: unknown type name`);
    words = words.slice(used);
    const a = c.addr;
    if (!m.mem.isMapped(a, type.size)) throw new MdbError(`failed to read ${type.name} at ${p(a)}: no mapping for address`);
    const t = o.set.has('t');
    const addrs = o.set.has('a');
    if (!words.length) {
      c.out(t ? `${type.name} {` : '{');
      for (const f of type.fields) for (const l of member(m, a + f.offset, f, '    ', t, addrs)) c.out(l);
      c.out('}');
      return;
    }
    for (const w of words) {
      const f = type.fields.find((x) => x.name === w);
      if (f && c.flags.pipeOut && (f.kind === 'ptr' || f.kind === 'fn' || f.kind === 'int' || f.kind === 'uint' || f.kind === 'char')) {
        // In a pipeline ::print passes the member's value on, as mdb does.
        const v = f.kind === 'ptr' || f.kind === 'fn' ? m.mem.readPtr(a + f.offset) : Number(f.size === 8 ? m.mem.dv.getBigUint64(a + f.offset, true) : f.size === 4 ? m.mem.dv.getUint32(a + f.offset, true) : f.size === 2 ? m.mem.dv.getUint16(a + f.offset, true) : m.mem.u8[a + f.offset]!);
        c.out(f.kind === 'ptr' || f.kind === 'fn' ? p(v) : v.toString(16));
        continue;
      }
      if (!f) {
        c.warn(`failed to find member ${w} of ${type.name}: no such member of structure or union`);
        continue;
      }
      for (const l of member(m, a + f.offset, f, '', t, addrs)) c.out(l);
    }
  },
};
