/**
 * The C types mdb knows, in the role CTF plays for the real one: the kernel's structures from
 * machine/layout.ts (kthread_t, struct ctxop of the running era, cpu_t, struct ctxop_template,
 * klwp_t, ...), the C base types and the usual kernel typedefs, and every type of the loaded
 * driver through the interpreter's CDebug view (`typeLayout` for structs, `evaluate` of
 * `sizeof (T)` and casts for typedefs). Also the types of symbols: a driver global has its
 * declared type, a few kernel variables have theirs.
 *
 * Type names are spelled as CTF spells them (`char [32]`, `void (*)()`, `struct ctxop *`), as
 * ::print -t shows them.
 */
import type { Machine } from '../machine/machine';
import type { CDebug } from '../machine/debug-api';
import { MODELLED, MUTEX_LAYOUT, CONDVAR_LAYOUT, type StructLayout } from '../machine/layout';
import { exactSymbol } from './format';
import { decodeValue } from './expr';

export type MType =
  | { k: 'int'; name: string; size: number; signed: boolean; char: boolean }
  | { k: 'enum'; name: string; size: number }
  | { k: 'ptr'; name: string; fn: boolean; char: boolean; to(): MType | undefined }
  | { k: 'array'; name: string; of: MType; n: number }
  | { k: 'sou'; name: string; size: number; union: boolean; fields(): MField[] }
  | { k: 'fwd'; name: string }
  /** A bit-field of a driver struct: its value comes from the interpreter (`get(its address)`). */
  | { k: 'bits'; name: string; size: number; get(addr: number): bigint | undefined }
  | { k: 'opaque'; name: string; size: number };

export interface MField {
  name: string;
  offset: number;
  type: MType;
}

export function sizeOf(t: MType): number {
  switch (t.k) {
    case 'int': case 'enum': case 'sou': case 'opaque': case 'bits': return t.size;
    case 'ptr': return 8;
    case 'array': return t.n * sizeOf(t.of);
    case 'fwd': return 0;
  }
}

/** The C base types and the kernel's integer typedefs: size, signedness. */
const INTS: Record<string, [number, boolean]> = {};
for (const [names, size, signed] of [
  ['char,signed char,int8_t', 1, true],
  ['unsigned char,uchar_t,uint8_t,u_char,_Bool,bool', 1, false],
  ['short,short int,signed short,int16_t,pri_t', 2, true],
  ['unsigned short,unsigned short int,ushort_t,uint16_t,u_short', 2, false],
  ['int,signed int,signed,int32_t,id_t,pid_t,processorid_t,major_t,minor_t,boolean_t', 4, true],
  ['unsigned,unsigned int,uint_t,uint32_t,u_int', 4, false],
  ['long,long int,long long,long long int,int64_t,ssize_t,hrtime_t,clock_t,time_t,off_t,intptr_t,longlong_t,offset_t', 8, true],
  ['unsigned long,unsigned long int,unsigned long long,unsigned long long int,ulong_t,u_longlong_t,uint64_t,size_t,uintptr_t,pgcnt_t,pfn_t,u_long', 8, false],
] as Array<[string, number, boolean]>) {
  for (const n of names.split(',')) INTS[n] = [size, signed];
}

/** Pointer typedefs of the kernel headers: name -> what they point to. */
const POINTER_TYPEDEFS: Record<string, string> = { caddr_t: 'char', kthread_id_t: 'kthread_t' };

/** Kernel variables and their types (driver globals have theirs from the interpreter). */
const KERNEL_VARS: Record<string, string> = { allthreads: 'kthread_t *', cpu: 'cpu_t', hz: 'int' };

function stripQualifiers(s: string): string {
  return s.replace(/\b(const|volatile|restrict)\s+/g, '').replace(/\s+(const|volatile)$/, '').replace(/\s+/g, ' ').trim();
}

/** `void (*)(void *)` -> `void (*)()`: CTF names a function pointer without its arguments. */
function ctfName(s: string): string {
  return s.replace(/\(\*\)\s*\(.*\)$/, '(*)()').replace(/\s+/g, ' ').trim();
}

const cache = new WeakMap<Machine, { prog: CDebug | null; types: Types }>();

export class Types {
  private readonly memo = new Map<string, MType | null>();
  constructor(readonly m: Machine) {}

  /** The machine's types, kept while its program stays the same (the probes of typedefs cost a parse). */
  static of(m: Machine): Types {
    const c = cache.get(m);
    if (c && c.prog === m.program) return c.types;
    const types = new Types(m);
    cache.set(m, { prog: m.program, types });
    return types;
  }

  private get prog(): CDebug | undefined {
    return this.m.program ?? undefined;
  }

  /**
   * The machine's layout of a kernel structure: kctx's own, or bound to a kernel tree's struct
   * (then the driver's program has the real type when it included its header).
   */
  private kernelLayout(n: string): StructLayout | undefined {
    const m = this.m;
    const table: Array<[string[], StructLayout]> = [];
    for (const s of MODELLED) {
      if (s.key === 'ctxopTemplate' && !m.era.hasTemplates) continue;
      table.push([s.names, m.L[s.key]]);
    }
    if (!m.L.tree) table.push([['kmutex_t', 'struct mutex'], MUTEX_LAYOUT], [['kcondvar_t', 'struct _kcondvar'], CONDVAR_LAYOUT]);
    for (const [names, l] of table) if (names.includes(n)) return l;
    return undefined;
  }

  private fromLayout(l: StructLayout, name: string): MType {
    let fields: MField[] | undefined;
    return {
      k: 'sou', name, size: l.tree?.size ?? l.size, union: false,
      fields: () => (fields ??= l.fields.filter((f) => !(l.tree && f.own)).map((f) => {
        let t: MType;
        const scalarSize = typeof f.kind === 'string' ? (f.kind === 'ptr' || f.kind.endsWith('64') ? 8 : f.kind.endsWith('32') ? 4 : f.kind.endsWith('16') ? 2 : 1) : f.kind.size;
        if (f.fnArgs !== undefined) t = { k: 'ptr', name: `${f.ctype} (*)()`, fn: true, char: false, to: () => undefined };
        else if (f.kind === 'ptr') {
          const pointee = f.ctype.replace(/\*\s*$/, '').trim();
          const elem = f.ctype.endsWith('*') ? this.ptr(f.ctype, pointee) : this.lookup(f.ctype) ?? this.ptr(f.ctype, 'void');
          t = elem;
        } else if (typeof f.kind !== 'string') {
          t = this.lookup(f.ctype) ?? { k: 'opaque', name: f.ctype, size: scalarSize };
        } else {
          const q = stripQualifiers(f.ctype);
          const signed = f.kind.startsWith('i');
          t = { k: 'int', name: f.ctype, size: scalarSize, signed: scalarSize === 1 && /^(signed )?char$/.test(q) ? true : signed, char: scalarSize === 1 && /^(signed )?char$|^int8_t$/.test(q) };
        }
        if (f.count !== undefined) t = { k: 'array', name: t.name.endsWith('*') ? `${t.name}[${f.count}]` : `${t.name} [${f.count}]`, of: t, n: f.count };
        return { name: f.name, offset: f.offset, type: t };
      })),
    };
  }

  private ptr(name: string, pointee: string): MType {
    const q = stripQualifiers(pointee);
    return { k: 'ptr', name, fn: false, char: q === 'char' || q === 'signed char' || q === 'int8_t', to: () => (q === 'void' ? undefined : this.lookup(pointee)) };
  }

  /** The type named by C type text (`kthread_t`, `struct vcpu *`, `char [16]`, `uint_t`). */
  lookup(text: string): MType | undefined {
    const key = text.replace(/\s+/g, ' ').trim();
    if (this.memo.has(key)) return this.memo.get(key) ?? undefined;
    this.memo.set(key, null); // a struct that contains a pointer to itself
    const t = this.resolve(key);
    this.memo.set(key, t ?? null);
    return t;
  }

  private resolve(s: string): MType | undefined {
    if (!s) return undefined;
    // Function pointers and pointers to arrays.
    if (/\(\s*\*\s*\)\s*\(/.test(s)) return { k: 'ptr', name: ctfName(s), fn: true, char: false, to: () => undefined };
    const pa = /^(.*?)\s*\(\s*\*\s*\)\s*(\[.*\])$/.exec(s);
    if (pa) return { k: 'ptr', name: s, fn: false, char: false, to: () => this.lookup(`${pa[1]} ${pa[2]}`) };
    // Arrays: the first dimension is the outermost.
    const ar = /^(.*?)\s*\[(\d+)\]((?:\s*\[\d+\])*)$/.exec(s);
    if (ar) {
      const of = this.lookup(ar[3] ? `${ar[1]} ${ar[3].trim()}` : ar[1]!);
      if (!of) return undefined;
      return { k: 'array', name: s, of, n: Number(ar[2]) };
    }
    if (s.endsWith('*')) return this.ptr(s, s.slice(0, -1).trim());
    const q = stripQualifiers(s);
    const kl = this.kernelLayout(q);
    // A kernel tree's struct: the driver's type when it has it, else the members kctx binds.
    if (kl) return (kl.tree ? this.layout(q, s) : undefined) ?? this.fromLayout(kl, s);
    const prog = this.prog;
    if (/^(struct|union) /.test(q)) {
      const l = this.layout(q);
      return l ?? { k: 'fwd', name: s };
    }
    if (/^enum /.test(q)) return { k: 'enum', name: s, size: 4 };
    if (q === 'void') return { k: 'opaque', name: s, size: 0 };
    const int = INTS[q];
    if (int) return { k: 'int', name: s, size: int[0], signed: int[1], char: int[0] === 1 && int[1] };
    if (POINTER_TYPEDEFS[q]) return { k: 'ptr', name: s, fn: false, char: false, to: () => this.lookup(POINTER_TYPEDEFS[q]!) };
    if (!prog || !/^[A-Za-z_]\w*$/.test(q)) return undefined;
    // A typedef of the driver: a struct, else ask the interpreter what a value of it is.
    const l = this.layout(q, s);
    if (l) return l;
    const zero = this.value(`(${q})0`);
    if (zero !== undefined) {
      if (zero.startsWith('0x')) return { k: 'ptr', name: s, fn: false, char: false, to: () => undefined };
      const size = Number(this.value(`sizeof (${q})`) ?? 0);
      if ([1, 2, 4, 8].includes(size)) {
        const signed = this.value(`(${q})~0 < 0`) === '1';
        return { k: 'int', name: s, size, signed, char: size === 1 && signed };
      }
    }
    const size = Number(this.value(`sizeof (${q})`) ?? NaN);
    if (Number.isFinite(size) && size > 0) return { k: 'opaque', name: s, size };
    return undefined;
  }

  /** A struct or union of the driver, by tag or typedef name. */
  private layout(q: string, display = q): MType | undefined {
    const prog = this.prog;
    if (!prog) return undefined;
    let l;
    try {
      l = prog.typeLayout(q);
    } catch {
      l = undefined;
    }
    if (!l) return undefined;
    const lay = l;
    const union = /^union /.test(lay.name);
    let fields: MField[] | undefined;
    return {
      k: 'sou', name: display, size: lay.size, union,
      fields: () => (fields ??= lay.fields.map((f) => {
        let type: MType = this.lookup(f.type) ?? { k: 'opaque', name: f.type, size: f.size };
        // Members that share their storage unit in a struct are bit-fields: the interpreter
        // extracts their bits (CTypeLayout has no bit offsets).
        if (!union && type.k === 'int' && lay.fields.some((g) => g !== f && g.offset === f.offset)) {
          const member = f.name;
          const off = f.offset;
          type = { k: 'bits', name: type.name, size: type.size, get: (a) => this.member(lay.name, a - off, member) };
        }
        return { name: f.name, offset: f.offset, type };
      })),
    };
  }

  /** `((struct s *)base)->member` as the interpreter reads it. */
  private member(structName: string, base: number, member: string): bigint | undefined {
    const v = this.value(`((${structName} *)0x${decodeValue(base).toString(16)})->${member}`);
    const mt = v === undefined ? null : /^(-?\d+)|^(true|false)$/.exec(v);
    if (!mt) return undefined;
    return mt[1] !== undefined ? BigInt(mt[1]) : mt[2] === 'true' ? 1n : 0n;
  }

  /** The display text of a C expression evaluated by the interpreter (globals only), or undefined. */
  private value(expr: string): string | undefined {
    try {
      return this.prog?.evaluate(this.m, undefined, undefined, expr).value;
    } catch {
      return undefined;
    }
  }

  /**
   * The type of the symbol that starts exactly at addr: `nosym` when none does, `notype` when
   * mdb would have no type data for it (a function, a kernel variable of unknown type).
   */
  symbolType(addr: number): { name: string; type: MType } | 'nosym' | { name: string; notype: true } {
    const name = exactSymbol(this.m, addr);
    if (!name) return 'nosym';
    const prog = this.prog;
    if (prog && this.m.sym.data.get(name)?.addr === addr) {
      let g;
      try {
        g = prog.globals(this.m).find((x) => x.name === name && x.addr === addr);
      } catch {
        g = undefined;
      }
      if (g) {
        const t = this.lookup(g.type);
        if (t) return { name, type: t };
      }
    }
    const kv = KERNEL_VARS[name];
    if (kv && this.m.sym.data.get(name)?.addr === addr) {
      const t = this.lookup(kv);
      if (t) return { name, type: t };
    }
    // The kernel's own templates (the built-in workloads' vmm_ctxop_tpl, ...).
    const d = this.m.sym.data.get(name);
    if (d && d.addr === addr && this.m.era.hasTemplates && d.size === this.m.L.ctxopTemplate.size && name.endsWith('_tpl')) {
      const t = this.m.L.ctxopTemplate.tree ? this.lookup('struct ctxop_template') : this.fromLayout(this.m.L.ctxopTemplate, 'const struct ctxop_template');
      if (t) return { name, type: t };
    }
    return { name, notype: true };
  }
}
