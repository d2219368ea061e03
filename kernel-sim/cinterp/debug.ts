/**
 * The debugger's view of the loaded driver (CDebug): statement lines, frames with their
 * parameters and locals read from the simulated stack, globals, C expressions evaluated in a
 * frame's scope (macros of the driver's headers included), struct layouts for ::print.
 */
import type { Parser } from 'web-tree-sitter';
import type { Machine, Frame } from '../machine/machine';
import type { KThread } from '../machine/thread';
import { formatAddr, MemoryFault, NULL_GUARD, WILD_BASE } from '../machine/memory';
import { ScenarioError, type Scenario } from '../scenario';
import type { CDebug, CValueView, CFrameInfo, CTypeLayout } from '../machine/debug-api';
import { Scope, bitGet, bitPut, bitUnitType, type BitField, type Compiler, type CFrame, type CFunc, type TU } from './compile';
import { PosMap, type Preprocessor } from './preprocess';
import { sizeOf, typeName, intConverter, LONG, type CType, type Val } from './types';
import { findVaArea, frameVaArea, type VaArea } from './varargs';
import { plainTree } from './ctree';
import { lateTypeNames } from './needed';
import { compiled, compileAll } from './compiled';

const MAX_CHILDREN = 256;

export function createDebug(m: Machine, c: Compiler, s: Scenario, pre: Preprocessor | null, parserOf?: () => Parser | undefined): CDebug {
  const funcs = (): CFunc[] => [...c.funcs.values()].map(compiled);
  const view = (name: string, t: CType, addr: number | undefined, value?: Val, bits?: BitField): CValueView => valueView(m, c, name, t, addr, value, evalIn, bits);

  /** A type by name: the load's, else one of the headers' types it did not declare (needed.ts). */
  function typeNamed(name: string): CType | undefined {
    // A type declared in a function body exists once the function is compiled (compiled.ts).
    return c.typeNames.get(name) ?? (compileAll(c), c.typeNames.get(name)) ?? lateTypeNames.get(c)?.().get(name);
  }

  function scopeFor(fn: CFunc | undefined, fr: CFrame | undefined): Scope {
    const base = fn ? fn.scope : (c.tus[0] ? c.fileScopeOf(c.tus[0]) : c.globalScope);
    const sc = new Scope(base);
    if (fn && fr) {
      for (const p of fn.params) sc.names.set(p.name, { k: 'var', name: p.name, type: p.type, global: false, addr: 0, off: p.off });
      for (const l of fn.locals) {
        if (fr.pc >= l.from && fr.pc < l.to) sc.names.set(l.name, { k: 'var', name: l.name, type: l.type, global: false, addr: 0, off: l.off });
      }
    }
    return sc;
  }

  function evalIn(t: KThread | undefined, frameIndex: number | undefined, text: string, allowSideEffects: boolean): { t: CType; v: Val; addr?: number; bits?: BitField } {
    const parser = parserOf?.();
    if (!parser) throw new Error('expressions are not available (no parser)');
    if (text.length > 4096) throw new Error('expression too long');
    let expanded = text;
    try {
      if (pre) expanded = pre.expandText(text);
    } catch (e) {
      throw new Error((e as Error).message.replace(/^.*?: /, ''));
    }
    const src = `void __kctx_eval__(void) { (${expanded}); }`;
    const tree = parser.parse(src);
    if (!tree || tree.rootNode.hasError) throw new Error(`cannot parse '${text}'`);
    const root = plainTree(tree, src);
    const body = root.namedChildren[0]!.childForFieldName('body')!;
    const stmt = body.namedChildren[0]!;
    const exprNode = stmt.namedChildren[0]!;
    let fr: CFrame | undefined;
    let fn: CFunc | undefined;
    if (t && frameIndex !== undefined) {
      const f = t.stack[frameIndex];
      if (f && f.kind === 'c') {
        fr = f as CFrame;
        fn = fr.fn;
      }
    }
    const tu: TU = {
      pp: { text: src, files: [{ path: '<expr>', display: '<expr>', text: src }], pos: PosMap.EMPTY, macros: new Map() },
      root,
      main: 0,
    };
    const r = c.evaluateNode(tu, exprNode, scopeFor(fn, fr));
    if (r.se && !allowSideEffects) throw new Error(`'${text}' has side effects; not evaluated`);
    const frame = (fr ?? { kind: 'c', pc: 0, fp: 0, tmp: [], wait: -1 }) as CFrame;
    try {
      const v = r.rv(frame);
      const addr = r.addr ? r.addr(frame) : undefined;
      return { t: r.t, v, addr, bits: addr !== undefined ? r.bits : undefined };
    } catch (e) {
      if (e instanceof MemoryFault) throw new Error(`cannot read memory at ${formatAddr(e.addr)}`);
      throw e;
    }
  }

  return {
    sources() {
      const out = new Set<string>();
      for (const fn of funcs()) out.add(fn.file);
      for (const tu of c.tus) for (const f of tu.pp.files) if (!f.path.startsWith('<')) out.add(f.path);
      return [...out];
    },
    statementLines(file) {
      const lines = new Set<number>();
      for (const fn of funcs()) for (const p of fn.pos) if (p && p.file === file) lines.add(p.line);
      return [...lines].sort((a, b) => a - b);
    },
    frameInfo(_m, _t, f: Frame): CFrameInfo {
      const fr = f as CFrame;
      const fn = fr.fn;
      const p = fn.loc[Math.min(fr.pc, fn.loc.length - 1)] ?? { file: fn.file, line: fn.line, col: fn.col };
      const params = fn.params.map((x) => view(x.name, x.type, fr.fp + x.off));
      // A variadic function's variable arguments, after its named parameters, as `...`.
      const va = frameVaArea(m.mem, fr);
      if (va) params.push(varargsView(m, c, va, evalIn));
      const locals = fn.locals.filter((l) => fr.pc >= l.from && fr.pc < l.to).map((l) => view(l.name, l.type, fr.fp + l.off));
      return { fn: fn.name, file: p.file, line: p.line, column: p.col, params, locals };
    },
    globals() {
      compileAll(c);
      return c.globals.filter((g) => !g.name.startsWith('__kctx')).map((g) => view(g.name, g.type, g.addr));
    },
    evaluate(_m, t, frameIndex, expr, allowSideEffects = false) {
      try {
        const r = evalIn(t, frameIndex, expr, allowSideEffects);
        return view(expr, r.t, r.addr, r.addr !== undefined && (r.t.k === 'int' || r.t.k === 'ptr') ? undefined : r.v, r.bits);
      } catch (e) {
        if (e instanceof ScenarioError) throw new Error(e.reason);
        throw e;
      }
    },
    typeLayout(name): CTypeLayout | undefined {
      const t = typeNamed(name.trim()) ?? typeNamed(name.trim().replace(/\s+/g, ' '));
      if (!t || t.k !== 'struct') return undefined;
      return { name: typeName(t), size: t.size, fields: t.fields.map((f) => ({ name: f.name, type: typeName(f.type), offset: f.offset, size: sizeOf(f.type) })) };
    },
    symbols() {
      compileAll(c);
      const late = lateTypeNames.get(c)?.();
      return [...c.funcs.keys(), ...c.globals.map((g) => g.name), ...c.typeNames.keys(), ...(late ? [...late.keys()].filter((n) => !c.typeNames.has(n)) : [])];
    },
  };
  void s;
}

/**
 * The view of a value of type t at addr (or the value itself). A bit-field (`bits`) lives in a
 * storage unit of its declared type at addr: reads extract its bits (sign-extended when the
 * type is signed), assignments change only its bits.
 */
function valueView(
  m: Machine, c: Compiler, name: string, t: CType, addr: number | undefined, value: Val | undefined,
  evalIn: (t: KThread | undefined, fi: number | undefined, text: string, se: boolean) => { t: CType; v: Val },
  bits?: BitField,
): CValueView {
  const type = typeName(t);
  const size = sizeOf(t);
  const bf = bits !== undefined && t.k === 'int' ? bits : undefined;
  const read = (): Val | undefined => {
    if (value !== undefined) return value;
    if (addr === undefined) return undefined;
    try {
      if (bf && t.k === 'int') return bitGet(c.loadFrom(bitUnitType(t), true)(addr), t, bf);
      return c.loadFrom(t, true)(addr);
    } catch {
      return undefined;
    }
  };
  const v: CValueView = { name, type, value: '', addr, size };
  if (t.k === 'int') {
    const x = read();
    v.value = x === undefined ? '<unreadable>' : t.bool ? (x ? 'true' : 'false') : t.size === 1 && t.name === 'char' && (x as number) >= 32 && (x as number) < 127 ? `${x} '${String.fromCharCode(x as number)}'` : String(x);
  } else if (t.k === 'ptr') {
    const x = read() as number | undefined;
    if (x === undefined) v.value = '<unreadable>';
    else {
      v.value = x === 0 ? '0x0' : `0x${formatAddr(x)}`;
      const fnSym = x ? m.sym.containing(x) : undefined;
      if (t.va) v.value += vaListNote(m, x);
      else if (t.to.k === 'func' && fnSym) v.value += ` <${m.sym.format(x)}>`;
      else if (t.to.k === 'int' && t.to.size === 1 && x) {
        try {
          v.value += ` "${escape(m.mem.readCString(x, 128))}"`;
        } catch { /* unreadable */ }
      } else if (t.to.k === 'struct' && t.to.complete && x) {
        const st = t.to;
        v.children = () => st.fields.map((f) => valueView(m, c, f.name, f.type, x + f.offset, undefined, evalIn, f.bits));
      }
    }
  } else if (t.k === 'struct') {
    v.value = '{...}';
    const base = (value as number | undefined) ?? addr;
    if (base !== undefined) v.children = () => t.fields.map((f) => valueView(m, c, f.name, f.type, base + f.offset, undefined, evalIn, f.bits));
  } else if (t.k === 'array') {
    const base = (value as number | undefined) ?? addr;
    const n = t.n ?? 0;
    if (t.of.k === 'int' && t.of.size === 1 && base !== undefined) {
      try {
        v.value = `"${escape(m.mem.readCString(base, Math.max(1, n)))}"`;
      } catch {
        v.value = '<unreadable>';
      }
    } else v.value = `[${n}]`;
    const el = t.of;
    const es = sizeOf(el);
    if (base !== undefined) v.children = () => Array.from({ length: Math.min(n, MAX_CHILDREN) }, (_, i) => valueView(m, c, `[${i}]`, el, base + i * es, undefined, evalIn));
  } else if (t.k === 'func') {
    v.value = addr !== undefined ? m.sym.format(addr) : String(value);
  } else v.value = 'void';
  if (addr !== undefined && (t.k === 'int' || t.k === 'ptr')) {
    v.set = (text: string) => {
      const r = evalIn(undefined, undefined, text, false);
      let nv: Val = r.v;
      if (t.k === 'int') {
        if (r.t.k !== 'int') throw new Error(`cannot assign '${typeName(r.t)}' to '${type}'`);
        nv = intConverter(t)(nv);
      } else if (r.t.k === 'int') {
        if (nv !== 0) throw new Error(`cannot assign an integer to '${type}'`);
      } else if (r.t.k !== 'ptr' && r.t.k !== 'array' && r.t.k !== 'func') throw new Error(`cannot assign '${typeName(r.t)}' to '${type}'`);
      if (bf && t.k === 'int') {
        const ut = bitUnitType(t);
        c.storeTo(ut, true)(addr, bitPut(c.loadFrom(ut, true)(addr), nv, t, bf));
      } else c.storeTo(t, true)(addr, nv);
      return valueView(m, c, name, t, addr, undefined, evalIn, bf);
    };
  }
  return v;
}

/** Where a va_list points: ` <next: variable argument 2 of 3 of f()>` (any thread's running call). */
function vaListNote(m: Machine, p: number): string {
  for (const t of m.threads) {
    const a = findVaArea(m.mem, t, p);
    if (!a) continue;
    const k = (p - a.first) / 8;
    if (!Number.isInteger(k)) return '';
    return k < a.n ? ` <next: variable argument ${k + 1} of ${a.n} of ${a.fn}()>` : ` <past the ${a.n} variable argument${a.n === 1 ? '' : 's'} of ${a.fn}()>`;
  }
  return '';
}

/**
 * A variadic frame's variable arguments (`...`): one word each, shown as a kernel address when
 * it holds one, else as a long (the debugger does not know the types va_arg will read).
 */
function varargsView(
  m: Machine, c: Compiler, a: VaArea,
  evalIn: (t: KThread | undefined, fi: number | undefined, text: string, se: boolean) => { t: CType; v: Val },
): CValueView {
  const word = (k: number): CValueView => {
    const addr = a.first + 8 * k;
    const v = valueView(m, c, `[${k}]`, LONG, addr, undefined, evalIn);
    let p = 0;
    try {
      p = m.mem.readPtr(addr);
    } catch { /* unreadable: the long view says so */ }
    // A kernel address (a small integer reads back as itself: the long view shows it).
    if (p >= NULL_GUARD && p < WILD_BASE) v.value = `0x${formatAddr(p)}`;
    return v;
  };
  return {
    name: '...', type: `long [${a.n}]`, value: a.n === 0 ? '(none)' : `[${a.n}]`, addr: a.first, size: 8 * a.n,
    children: () => Array.from({ length: Math.min(a.n, MAX_CHILDREN) }, (_, k) => word(k)),
  };
}

function escape(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(/[\x00-\x1f\x7f-\xff]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
