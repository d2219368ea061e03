/** The compiler, part 2 of 7: types, declarators, constant expressions, declarations. */
import type { CNode as SyntaxNode } from './ctree';
import { ScenarioError } from '../scenario';
import { OutOfMemory } from '../machine/memory';
import {
  type CType, type IntType, type StructType, type FuncType, type Val, type StructField, VOID, CHAR, SCHAR, UCHAR, SHORT, USHORT, INT, UINT, LONG, ULONG, LLONG, ULLONG, BOOL, VA_LIST, ptr, sizeOf, alignOf, typeName, withName,
} from './types';
import { Scope, type LocalInfo, type Ent, type EnumTag, type GlobalInfo, type TU } from './program';
import { Emitter } from './emit';
import { TYPEOF_TAG } from './gnu-tokens';

/** Where each struct or union with a body was defined (the file of a kernel tree's header, its line). */
export const structOrigins = new WeakMap<StructType, { file: string; line: number; col: number }>();

/** Types, declarators, constants, file-scope and block declarations. */
export abstract class Declarations extends Emitter {
  // ------------------------------------------------------------------ types

  protected baseType(n: SyntaxNode, scope: Scope): CType {
    switch (n.type) {
      case 'primitive_type':
      case 'type_identifier': {
        const name = n.text;
        const e = scope.find(name);
        if (e && e.k === 'typedef') return e.type;
        const p = primitive(name);
        if (p) return p;
        if ((name === 'float' || name === 'double') && this.opaqueFloats) return opaqueFloat(name, name === 'float' ? 4 : 8);
        if (name === 'float' || name === 'double') this.fail(n, `floating-point type '${name}' is not supported: kernel code does not use the FPU`);
        return this.fail(n, `unknown type name '${name}'`);
      }
      case 'sized_type_specifier': {
        let longs = 0, shorts = 0, uns = false;
        let base = '';
        for (const c of n.children) {
          if (!c) continue;
          if (c.type === 'long') longs++;
          else if (c.type === 'short') shorts++;
          else if (c.type === 'unsigned') uns = true;
          else if (c.type === 'signed') uns = false;
          else if (c.type === 'primitive_type') base = c.text;
          else if (c.text === 'long') longs++;
          else if (c.text === 'short') shorts++;
          else if (c.text === 'unsigned') uns = true;
        }
        if ((base === 'double' || base === 'float') && this.opaqueFloats) return opaqueFloat(longs ? 'long double' : base, longs ? 16 : base === 'float' ? 4 : 8);
        if (base === 'double' || base === 'float') this.fail(n, 'floating-point types are not supported: kernel code does not use the FPU');
        if (base === 'char') return uns ? UCHAR : n.text.includes('signed') ? SCHAR : CHAR;
        if (shorts) return uns ? USHORT : SHORT;
        if (longs >= 2) return uns ? ULLONG : LLONG;
        if (longs === 1) return uns ? ULONG : LONG;
        return uns ? UINT : INT;
      }
      case 'struct_specifier':
      case 'union_specifier':
        return this.structType(n, scope);
      case 'enum_specifier':
        return this.enumType(n, scope);
      case 'macro_type_specifier':
        return this.fail(n, `unknown type or macro '${n.childForFieldName('name')?.text ?? n.text}'`);
      default:
        return this.fail(n, `unsupported type specifier '${this.text(n)}'`);
    }
  }

  protected structType(n: SyntaxNode, scope: Scope): CType {
    const union = n.type === 'union_specifier';
    const nameNode = n.childForFieldName('name');
    if (nameNode?.text === TYPEOF_TAG) return this.typeofType(n, scope);
    const body = n.childForFieldName('body');
    const tag = nameNode?.text ?? `<anonymous@${this.posOf(n).line}>`;
    let st: StructType | undefined;
    if (nameNode) {
      const found = body ? scope.tags.get(tag) : scope.findTag(tag);
      if (found && found.k === 'struct') {
        if (found.union !== union) this.fail(nameNode, `'${tag}' defined as wrong kind of tag`);
        st = found;
      }
    }
    if (!st) {
      st = { k: 'struct', union, tag, fields: [], size: 0, align: 1, complete: false };
      if (nameNode) scope.tags.set(tag, st);
    }
    if (body) {
      if (st.complete) this.fail(nameNode ?? n, `redefinition of '${union ? 'union' : 'struct'} ${tag}'`);
      // __attribute__((packed)) before the tag or after the body: members at byte offsets, alignment 1.
      const packed = n.children.some((c) => c?.type === 'attribute_specifier' && /\b(__)?packed(__)?\b/.test(c.text));
      this.layout(st, body, scope, packed);
      const at = this.posOf(nameNode ?? n);
      structOrigins.set(st, { file: at.file, line: at.line, col: at.col });
      this.typeNames.set(`${union ? 'union' : 'struct'} ${tag}`, st);
    }
    return st;
  }

  /** `typeof (X)`, as gnu-tokens.ts rewrote it: the type of the bracketed expression, which is not evaluated. */
  protected typeofType(n: SyntaxNode, scope: Scope): CType {
    const size = n.childForFieldName('body')?.namedChildren.find((c) => c?.type === 'field_declaration')?.childForFieldName('declarator')?.childForFieldName('size');
    if (!size) return this.fail(n, 'typeof: expected an expression or a type name');
    const saved = { scope: this.scope, code: this.code.length, pos: this.pos.length, ntemps: this.ntemps };
    this.scope = scope;
    try {
      const td = this.typedefInParens(size);
      if (td) return td;
      const inner = size.type === 'parenthesized_expression' ? size.namedChildren.find((c) => c && c.type !== 'comment') ?? size : size;
      // A type name (gnu-tokens.ts wrote it as the cast `(T)0`), or any cast: its type name.
      const desc = inner.type === 'cast_expression' ? inner.childForFieldName('type') : null;
      if (desc) return this.typeOfDescriptor(desc, scope);
      return this.expr(inner).t;
    } finally {
      this.scope = saved.scope;
      this.code.length = saved.code;
      this.loc.length = saved.code;
      this.pos.length = Math.min(this.pos.length, saved.code);
      this.ntemps = saved.ntemps;
    }
  }

  protected layout(st: StructType, body: SyntaxNode, scope: Scope, packed = false): void {
    const fields: StructField[] = [];
    // The members as declared, for initialisers: an anonymous struct or union is one member.
    const members: StructField[] = [];
    let off = 0;
    let size = 0;
    let align = 1;
    let bitOff = -1; // current bitfield unit position in bits from `bitUnit`
    let bitUnit = 0;
    let bitUnitSize = 0;
    const place = (name: string, t: CType, at: SyntaxNode) => {
      if (t.k === 'func') this.fail(at, `field '${name}' declared as a function`);
      if (t.k === 'void') this.fail(at, `field '${name}' has incomplete type 'void'`);
      if (t.k === 'struct' && !t.complete) this.fail(at, `field '${name}' has incomplete type '${typeName(t)}'`);
      const a = packed ? 1 : alignOf(t);
      const s = sizeOf(t);
      if (t.k === 'array' && t.n === null) {
        // Flexible array member.
      }
      align = Math.max(align, a);
      bitOff = -1;
      if (st.union) {
        fields.push({ name, type: t, offset: 0 });
        members.push(fields[fields.length - 1]!);
        size = Math.max(size, s);
      } else {
        off = Math.ceil(off / a) * a;
        fields.push({ name, type: t, offset: off });
        members.push(fields[fields.length - 1]!);
        off += s;
        size = off;
      }
    };
    for (const fd of body.namedChildren) {
      if (!fd) continue;
      if (fd.type === 'comment') continue;
      if (fd.type !== 'field_declaration') this.fail(fd, `unsupported member declaration '${this.text(fd)}'`);
      const tn = fd.childForFieldName('type');
      if (!tn) this.fail(fd, 'member without a type');
      const base = this.baseType(tn, scope);
      const decls = fd.childrenForFieldName('declarator').filter((x): x is SyntaxNode => !!x);
      const bf = fd.namedChildren.find((c) => c?.type === 'bitfield_clause');
      if (!decls.length && !bf) {
        // Anonymous struct/union member (C11): its fields join this one.
        if (base.k !== 'struct') continue;
        const a = packed ? 1 : base.align;
        const at = st.union ? 0 : Math.ceil(off / a) * a;
        for (const f of base.fields) fields.push({ ...f, offset: f.offset + at });
        members.push({ name: '', type: base, offset: at });
        align = Math.max(align, a);
        if (st.union) size = Math.max(size, base.size);
        else {
          off = at + base.size;
          size = off;
        }
        bitOff = -1;
        continue;
      }
      // Each declarator with its bit-field clause, if any, in order: `uchar_t a : 6, : 1, b : 1, c;`
      // (tree-sitter gives the unnamed one a missing declarator, or none).
      const items: Array<{ d?: SyntaxNode; bf?: SyntaxNode }> = [];
      for (const c of fd.children) {
        if (!c) continue;
        if (c.type === 'bitfield_clause') {
          const last = items[items.length - 1];
          if (last && last.d && !last.bf) last.bf = c;
          else items.push({ bf: c });
        } else if (decls.includes(c)) items.push({ d: c }); // a tree's nodes are one object each
      }
      for (const { d, bf } of items) {
        if (bf) {
          // Bit-field: packed into units of the declared type, as the SysV ABI does.
          if (base.k !== 'int') this.fail(bf, 'bit-field has non-integral type');
          const wNode = bf.namedChildren[0]!;
          const width = Number(this.constInt(wNode, scope));
          const name = d && !d.isMissing ? this.declarator(d, base, scope).name : '';
          const usz = base.size * 8;
          if (width < 0 || width > usz) this.fail(bf, `width of bit-field '${name}' (${width} bits) exceeds its type (${usz} bits)`);
          if (st.union) {
            if (name) {
              fields.push({ name, type: base, offset: 0, bits: { width, shift: 0 } });
              members.push(fields[fields.length - 1]!);
            }
            size = Math.max(size, base.size);
            if (!packed) align = Math.max(align, base.size);
            continue;
          }
          if (width === 0) {
            bitOff = -1;
            off = Math.ceil(off / base.size) * base.size;
            continue;
          }
          // SysV ABI: the field takes the next bits, even in the bytes of the member before it,
          // unless it would straddle a boundary of its declared type's units (then it starts one).
          let pos = bitOff >= 0 ? bitUnit * 8 + bitOff : off * 8;
          if (packed) {
            // Packed (gcc): the next bits, whatever the unit; read through a unit at the byte it starts in.
            if ((pos % 8) + width > usz) this.fail(bf, `bit-field '${name}' of a packed structure spans more than one '${typeName(base)}': not supported`);
            bitUnit = Math.floor(pos / 8);
          } else if (Math.floor(pos / usz) !== Math.floor((pos + width - 1) / usz)) pos = Math.ceil(pos / usz) * usz;
          if (!packed) bitUnit = Math.floor(pos / usz) * (usz / 8);
          bitOff = pos - bitUnit * 8;
          bitUnitSize = base.size;
          if (name) {
            fields.push({ name, type: base, offset: bitUnit, bits: { width, shift: bitOff } });
            members.push(fields[fields.length - 1]!);
          }
          bitOff += width;
          off = Math.max(off, bitUnit + Math.ceil(bitOff / 8));
          size = off;
          // An unnamed bit-field's type does not affect the alignment of the structure (SysV ABI).
          if (name && !packed) align = Math.max(align, base.size);
          continue;
        }
        const r = this.declarator(d!, base, scope);
        place(r.name, r.type, d!);
      }
    }
    st.fields = fields;
    st.members = members;
    st.align = align;
    st.size = Math.ceil(size / align) * align;
    st.complete = true;
  }

  /**
   * An enumerated type as gcc makes it: the first of unsigned int, unsigned long (no negative
   * enumerator) or int, long (one negative) that holds every value; the value arithmetic is that
   * type's. A constant is an `int` when its value fits int, else of the enumeration's type.
   */
  protected enumType(n: SyntaxNode, scope: Scope): CType {
    const body = n.childForFieldName('body');
    const name = n.childForFieldName('name');
    const tag: EnumTag = { k: 'enum' };
    if (name && (body || !scope.findTag(name.text))) scope.tags.set(name.text, tag);
    const wide: Array<Ent & { k: 'enum' }> = [];
    if (body) {
      let next = 0;
      let lo = 0, hi = 0;
      for (const en of body.namedChildren) {
        if (!en || en.type !== 'enumerator') continue;
        const v = en.childForFieldName('value');
        if (v) next = Number(this.constInt(v, scope));
        lo = Math.min(lo, next);
        hi = Math.max(hi, next);
        const ent: Ent & { k: 'enum' } = { k: 'enum', value: next };
        if (next < -0x80000000 || next > 0x7fffffff) wide.push(ent);
        scope.names.set(en.childForFieldName('name')!.text, ent);
        next++;
      }
      tag.base = lo < 0 ? (lo >= -0x80000000 && hi <= 0x7fffffff ? INT : LONG) : hi <= 0xffffffff ? UINT : ULONG;
    }
    const known = body ? tag : name ? scope.findTag(name.text) : undefined;
    const base = known?.k === 'enum' ? known.base : undefined;
    const t: IntType = !base ? INT : name ? { ...base, name: `enum ${name.text}`, kind: `enum ${name.text}`, enumBase: base.name } : base;
    for (const ent of wide) ent.type = t;
    return t;
  }

  /** Applies a declarator to a base type; returns the declared name and type. */
  declarator(n: SyntaxNode | null, base: CType, scope: Scope): { name: string; type: CType; node: SyntaxNode | null; params?: SyntaxNode } {
    if (!n) return { name: '', type: base, node: null };
    switch (n.type) {
      case 'identifier':
      case 'field_identifier':
      case 'type_identifier':
      case 'primitive_type':
        return { name: n.text, type: base, node: n };
      case 'pointer_declarator':
      case 'abstract_pointer_declarator':
        return this.declarator(n.childForFieldName('declarator'), ptr(base), scope);
      case 'array_declarator':
      case 'abstract_array_declarator': {
        const sz = n.childForFieldName('size');
        let len: number | null = null;
        if (sz) {
          const e = this.tryConst(sz, scope);
          if (e === undefined) this.fail(sz, `variable-length array '${this.text(n)}' is not supported (its size is not a constant)`);
          len = Number(e);
          if (len < 0) this.fail(sz, `size of array is negative`);
        }
        if (base.k === 'func') this.fail(n, 'declaration of an array of functions');
        return this.declarator(n.childForFieldName('declarator'), { k: 'array', of: base, n: len }, scope);
      }
      case 'function_declarator':
      case 'abstract_function_declarator': {
        const pl = n.childForFieldName('parameters')!;
        const named = this.parenthesizedName(n, scope);
        if (named) return { name: named.text, type: this.funcType(pl, base, scope), node: named, params: pl };
        const ft = this.funcType(pl, base, scope);
        const r = this.declarator(n.childForFieldName('declarator'), ft, scope);
        return { ...r, params: r.params ?? pl };
      }
      case 'parenthesized_declarator':
      case 'abstract_parenthesized_declarator': {
        const inner = n.namedChildren.find((c) => c && c.type !== 'comment' && !c.type.startsWith('ms_') && c.type !== 'type_qualifier');
        return this.declarator(inner ?? null, base, scope);
      }
      case 'attributed_declarator':
        return this.declarator(n.namedChildren[0] ?? null, base, scope);
      case 'init_declarator':
        return this.declarator(n.childForFieldName('declarator'), base, scope);
      default:
        return this.fail(n, `unsupported declarator '${this.text(n)}'`);
    }
  }

  /**
   * `bool_t (compare)(entry_t, void *)` as a parameter (illumos nfs4_db.c): tree-sitter reads the
   * parenthesised name as the parameter list of an abstract function declarator, `(compare)`, a
   * parameter whose type is the name. A name in scope that is no type is the declarator's name.
   */
  private parenthesizedName(n: SyntaxNode, scope: Scope): SyntaxNode | undefined {
    if (n.type !== 'abstract_function_declarator') return undefined;
    const d = n.childForFieldName('declarator');
    if (d?.type !== 'abstract_function_declarator' || d.childForFieldName('declarator')) return undefined;
    const ps = d.childForFieldName('parameters')?.namedChildren.filter((c) => c && c.type !== 'comment') ?? [];
    const p = ps.length === 1 && ps[0]!.type === 'parameter_declaration' && !ps[0]!.childForFieldName('declarator') ? ps[0]!.childForFieldName('type') : null;
    if (p?.type !== 'type_identifier') return undefined;
    const e = scope.find(p.text);
    return e?.k === 'typedef' || primitive(p.text) ? undefined : p;
  }

  protected funcType(pl: SyntaxNode, ret: CType, scope: Scope): FuncType {
    const params: CType[] = [];
    const names: string[] = [];
    let variadic = false;
    let sawAny = false;
    for (const p of pl.namedChildren) {
      if (!p || p.type === 'comment') continue;
      sawAny = true;
      if (p.type === 'variadic_parameter') {
        variadic = true;
        continue;
      }
      if (p.type !== 'parameter_declaration') this.fail(p, `K&R-style parameter lists are not supported ('${this.text(p)}')`);
      const tn = p.childForFieldName('type')!;
      const base = this.baseType(tn, scope);
      const r = this.declarator(p.childForFieldName('declarator'), base, scope);
      let t = r.type;
      if (t.k === 'void' && !r.name && pl.namedChildren.filter((x) => x && x.type !== 'comment').length === 1) return { k: 'func', ret, params: [], names: [], variadic: false };
      if (t.k === 'array') t = ptr(t.of);
      else if (t.k === 'func') t = ptr(t);
      params.push(t);
      names.push(r.name);
    }
    if (ret.k === 'array') this.fail(pl, 'function returning an array');
    return { k: 'func', ret, params: sawAny ? params : null, names, variadic };
  }

  typeOfDescriptor(n: SyntaxNode, scope: Scope): CType {
    const base = this.baseType(n.childForFieldName('type')!, scope);
    return this.declarator(n.childForFieldName('declarator'), base, scope).type;
  }

  // ------------------------------------------------------------------ constants

  protected tryConst(n: SyntaxNode, scope: Scope): Val | undefined {
    const saved = this.scope;
    const savedCode = this.code.length;
    const savedTemps = this.ntemps;
    this.scope = scope;
    try {
      const e = this.expr(n);
      if (this.code.length !== savedCode) {
        this.code.length = savedCode;
        this.loc.length = savedCode;
        this.pos.length = Math.min(this.pos.length, savedCode);
        this.ntemps = savedTemps;
        return undefined;
      }
      return e.cst;
    } catch (err) {
      if (err instanceof ScenarioError) return undefined;
      throw err;
    } finally {
      this.scope = saved;
    }
  }

  constInt(n: SyntaxNode, scope: Scope): Val {
    const v = this.tryConst(n, scope);
    if (v === undefined) this.fail(n, `expression '${this.text(n)}' is not an integer constant`);
    return v;
  }

  // ------------------------------------------------------------------ top level

  /** Pass 1 over a translation unit: types, globals, prototypes. Function bodies are queued. */
  /** Declares a translation unit's top level; `guard` runs each construct (the load collects errors). */
  declareTU(tu: TU, bodies: Array<{ tu: TU; node: SyntaxNode; scope: Scope }>, inits: Array<() => void>, guard: (n: SyntaxNode, f: () => void) => void = (_n, f) => f()): void {
    this.tu = tu;
    this.tus.push(tu);
    const fileScope = new Scope(this.globalScope);
    this.fileScopes.set(tu, fileScope);
    this.scope = fileScope;
    for (const n of tu.root.namedChildren) {
      if (!n) continue;
      guard(n, () => {
        this.tu = tu;
        this.scope = fileScope;
        this.topLevel(n, fileScope, bodies, inits);
      });
    }
  }

  /**
   * Only the types of a translation unit (typedefs, struct, union and enum definitions): no
   * variable, no function. For reading a kernel tree's layouts from its headers. `also`: other
   * top-level constructs to declare too (declarations that place nothing: prototypes, externs).
   */
  declareTypes(tu: TU, guard: (n: SyntaxNode, f: () => void) => void, also?: (n: SyntaxNode) => boolean): void {
    this.tu = tu;
    this.tus.push(tu);
    const fileScope = new Scope(this.globalScope);
    this.fileScopes.set(tu, fileScope);
    for (const n of tu.root.namedChildren) {
      if (!n) continue;
      const typeOnly = n.type === 'type_definition' || n.type === 'struct_specifier' || n.type === 'union_specifier' || n.type === 'enum_specifier' ||
        (n.type === 'declaration' && !n.childrenForFieldName('declarator').some((d) => d));
      if (!typeOnly && !also?.(n)) continue;
      guard(n, () => {
        this.tu = tu;
        this.scope = fileScope;
        this.topLevel(n, fileScope, [], []);
      });
    }
  }

  protected topLevel(n: SyntaxNode, scope: Scope, bodies: Array<{ tu: TU; node: SyntaxNode; scope: Scope }>, inits: Array<() => void>): void {
    switch (n.type) {
      case 'comment':
      case ';':
        return;
      case 'function_definition': {
        this.checkUnsupportedDecl(n);
        const tn = n.childForFieldName('type')!;
        const base = this.baseType(tn, scope);
        const r = this.declarator(n.childForFieldName('declarator'), base, scope);
        if (r.type.k !== 'func') this.fail(n, 'function definition without a function declarator');
        if (r.type.params === null) r.type = { ...r.type, params: [] };
        this.declareFunc(r.name, r.type, scope, n);
        bodies.push({ tu: this.tu, node: n, scope });
        return;
      }
      case 'declaration':
        this.declaration(n, scope, true, inits);
        return;
      case 'type_definition':
        this.typedef(n, scope);
        return;
      case 'struct_specifier':
      case 'union_specifier':
      case 'enum_specifier':
        this.baseType(n, scope);
        return;
      case 'expression_statement':
        if (n.text.trim() === ';') return;
        // File-scope assembly (`__asm__(".globl __start_set_x");` of a linker set): directives to
        // the assembler, which kctx does not have; nothing for C.
        if (n.namedChildren.length === 1 && n.namedChildren[0]!.type === 'gnu_asm_expression') return;
        if (this.staticAssert(n)) return;
        return this.fail(n, `expected a declaration, found '${this.text(n)}'`);
      case 'linkage_specification':
        return this.fail(n, 'extern "C" blocks are C++');
      default:
        if (n.type.startsWith('preproc')) return this.fail(n, 'unexpected preprocessor construct after preprocessing');
        return this.fail(n, `unsupported top-level construct '${this.text(n)}'`);
    }
  }

  /**
   * `_Static_assert(expr, "message");` (C11; `static_assert` too), which the parser takes as a
   * call statement: checked at compile time as gcc does. True when n is one.
   */
  protected staticAssert(n: SyntaxNode): boolean {
    const call = n.namedChildren[0];
    const name = call?.type === 'call_expression' ? call.childForFieldName('function')?.text : undefined;
    if (name !== '_Static_assert' && name !== 'static_assert') return false;
    if (this.scope.find(name)) return false;
    const args = call!.childForFieldName('arguments')!.namedChildren.filter((c): c is SyntaxNode => !!c && c.type !== 'comment');
    if (args.length < 1 || args.length > 2) this.fail(call!, `expected a constant expression and a message in '${name}'`);
    const e = this.expr(args[0]!);
    if (e.cst === undefined) this.fail(args[0]!, 'expression in static assertion is not constant');
    const zero = e.cst === 0 || e.cst === 0n;
    if (zero) this.fail(call!, args[1] ? `static assertion failed: ${args[1].text}` : 'static assertion failed');
    return true;
  }

  protected checkUnsupportedDecl(n: SyntaxNode): void {
    for (const c of n.children) {
      if (c && c.type === 'attribute_specifier' && /\bnaked\b/.test(c.text)) this.fail(c, '__attribute__((naked)) functions are not supported');
    }
  }

  protected declareFunc(name: string, type: FuncType, scope: Scope, at: SyntaxNode): void {
    const prev = this.globalScope.names.get(name) ?? scope.names.get(name);
    if (this.inBody) {
      // A function declared in a body is file-wide from then on: compiled.ts compiles such a
      // body at a warm load's start, and records nothing if it changed an earlier declaration.
      this.bodyDeclares.any = true;
      if (prev && prev.k === 'func' && (typeName(prev.type) !== typeName(type) || (prev.type.params === null && type.params !== null))) this.bodyDeclares.changed = true;
    }
    if (prev && prev.k === 'func') {
      if (prev.type.params === null && type.params !== null && prev.protoAt === Infinity) prev.protoAt = at.startIndex;
      if (prev.type.params === null || (type.params !== null && type.params.length > 0)) prev.type = type.params === null ? prev.type : type;
      scope.names.set(name, prev);
      return;
    }
    if (prev && prev.k === 'var') this.fail(at, `'${name}' redeclared as a different kind of symbol`);
    const e: Ent = { k: 'func', name, type };
    if (type.params === null) e.protoAt = Infinity;
    this.globalScope.names.set(name, e);
  }

  protected typedef(n: SyntaxNode, scope: Scope): void {
    const base = this.baseType(n.childForFieldName('type')!, scope);
    for (const d of n.childrenForFieldName('declarator')) {
      if (!d) continue;
      const r = this.declarator(d, base, scope);
      const t = r.type.k === 'struct' ? r.type : withName(r.type, r.name);
      scope.names.set(r.name, { k: 'typedef', type: t });
      this.typeNames.set(r.name, t);
    }
  }

  protected storage(n: SyntaxNode): { isStatic: boolean; isExtern: boolean } {
    let isStatic = false;
    let isExtern = false;
    for (const c of n.children) {
      if (c?.type === 'storage_class_specifier') {
        if (c.text === 'static') isStatic = true;
        if (c.text === 'extern') isExtern = true;
        if (c.text === 'register' || c.text === 'auto' || c.text === 'inline') continue;
        if (c.text === '_Thread_local' || c.text === '__thread') this.fail(c, 'thread-local storage is not supported in kernel code');
      }
    }
    return { isStatic, isExtern };
  }

  /** A declaration at file scope (`global`) or in a block. */
  protected declaration(n: SyntaxNode, scope: Scope, global: boolean, inits: Array<() => void>): void {
    const { isStatic, isExtern } = this.storage(n);
    const tn = n.childForFieldName('type');
    if (!tn) this.fail(n, `declaration without a type: '${this.text(n)}'`);
    const base = this.baseType(tn, scope);
    const declStart = this.code.length;
    if (!global) this.stmtStart(n);
    for (const d of n.childrenForFieldName('declarator')) {
      if (!d) continue;
      const r = this.declarator(d, base, scope);
      const init = d.type === 'init_declarator' ? d.childForFieldName('value') : null;
      if (r.type.k === 'func') {
        if (init) this.fail(d, `function '${r.name}' is initialized like a variable`);
        this.declareFunc(r.name, r.type, scope, d);
        continue;
      }
      let type = r.type;
      if (type.k === 'array' && type.n === null && init) {
        type = { ...type, n: this.initCount(init, type) };
      }
      if (global || isStatic || isExtern) {
        this.globalVar(r.name, type, scope, d, { isStatic, isExtern: isExtern && !init, global }, init, inits);
        continue;
      }
      // Automatic variable.
      if (type.k === 'void') this.fail(d, `variable '${r.name}' declared void`);
      if (type.k === 'struct' && !type.complete) this.fail(d, `storage size of '${r.name}' isn't known (incomplete '${typeName(type)}')`);
      if (type.k === 'array' && type.n === null) this.fail(d, `array size missing in '${r.name}'`);
      const off = this.allocLocal(type);
      const ent: Ent = { k: 'var', name: r.name, type, global: false, addr: 0, off };
      const info: LocalInfo = { name: r.name, type, off, from: this.code.length, to: -1 };
      this.locals.push(info);
      scope.names.set(r.name, ent);
      if (init) this.initLocal(off, type, init);
      info.from = this.code.length;
      (info as LocalInfo & { scope?: Scope }).scope = scope;
    }
    if (!global) this.markStmt(declStart, n);
  }


  protected globalVar(name: string, type: CType, scope: Scope, at: SyntaxNode, o: { isStatic: boolean; isExtern: boolean; global: boolean }, init: SyntaxNode | null, inits: Array<() => void>): void {
    if (type.k === 'void') this.fail(at, `variable '${name}' declared void`);
    const linkName = o.isStatic ? null : name;
    if (linkName) {
      const prev = this.linkVars.get(linkName);
      if (prev) {
        if (!o.isExtern && !prev.extern && init) {
          // A second definition with an initializer.
          const had = this.globals.find((g) => g.name === name && !g.isStatic);
          if (had && (had as GlobalInfo & { initialized?: boolean }).initialized) this.fail(at, `redefinition of '${name}'`);
        }
        if (!o.isExtern && prev.extern) {
          prev.extern = false;
          if (type.k === 'array' && prev.type.k === 'array' && prev.type.n === null) prev.type = type;
          this.allocGlobal(prev, name, o.isStatic, at);
        }
        scope.names.set(name, prev);
        if (init) this.queueInit(prev, init, inits, name);
        return;
      }
    }
    const ent = { k: 'var' as const, name, type, global: true, addr: 0, off: 0, extern: o.isExtern };
    if (linkName) this.linkVars.set(linkName, ent);
    (o.global ? scope : scope).names.set(name, ent);
    if (!o.isExtern) this.allocGlobal(ent, o.global ? name : `${this.fnName}.${name}`, o.isStatic, at);
    if (init) this.queueInit(ent, init, inits, name);
  }

  protected allocGlobal(ent: Ent & { k: 'var' }, name: string, isStatic: boolean, at: SyntaxNode): void {
    const t = ent.type;
    if (t.k === 'struct' && !t.complete) return; // completed later or never used
    const size = Math.max(1, sizeOf(t));
    if (this.replay && this.inBody) {
      // A static local of a warm load's function: where the cold load placed it (compiled.ts).
      const at = this.replay.statics.shift();
      if (at === undefined) throw new Error(`kctx: the warm compile of '${this.fnName}' placed a static its cold compile did not (compiled.ts)`);
      ent.addr = at;
      const info = { name, type: t, addr: at, file: this.posOf(this.tu.root).file, isStatic };
      let i = this.globals.length;
      while (i > 0 && this.globals[i - 1]!.addr > at) i--;
      this.globals.splice(i, 0, info);
      return;
    }
    let addr: number;
    try {
      addr = this.m.mem.map(size, Math.max(8, alignOf(t)));
    } catch (e) {
      // The kernel's loader cannot place it: a load error, not a crash of the host.
      if (e instanceof OutOfMemory) this.fail(at, `'${name}' needs ${size} bytes: more than the machine's ${e.limit / 1048576} MB of memory (the scenario's "memory")`);
      if (e instanceof Error && /address space exhausted/.test(e.message)) this.fail(at, `'${name}' needs ${size} bytes: larger than the kernel's address space`);
      throw e;
    }
    ent.addr = addr;
    this.m.dataRoots.push([addr, size]);
    if (!this.m.sym.data.has(name)) this.m.sym.defineData(name, addr, size, this.module);
    this.globals.push({ name, type: t, addr, file: this.posOf(this.tu.root).file, isStatic });
  }

  protected queueInit(ent: Ent & { k: 'var' }, init: SyntaxNode, inits: Array<() => void>, name: string): void {
    // A warm load's static local holds its initial value already (compiled.ts's memory image).
    if (this.replay && this.inBody) return;
    const tu = this.tu;
    const scope = this.scope;
    const g = this.globals.find((x) => x.addr === ent.addr);
    if (g) (g as GlobalInfo & { initialized?: boolean }).initialized = true;
    inits.push(() => {
      this.tu = tu;
      this.scope = scope;
      if (ent.addr === 0) this.fail(init, `storage size of '${name}' isn't known`);
      this.staticInit(ent.addr, ent.type, init);
    });
  }

  /** Resolves extern variables to kernel data; returns false for unresolved. */
  resolveExterns(): void {
    for (const [name, v] of this.linkVars) {
      if (!v.extern) continue;
      const d = this.m.sym.data.get(name);
      if (d) {
        v.addr = d.addr;
        v.extern = false;
      }
    }
  }
}

/** A basic type named by one keyword. */
export function primitive(name: string): CType | undefined {
  switch (name) {
    case 'void': return VOID;
    case 'char': return CHAR;
    case 'int': return INT;
    case 'short': return SHORT;
    case 'long': return LONG;
    case 'unsigned': return UINT;
    case 'signed': return INT;
    case '_Bool': return BOOL;
    case '__builtin_va_list': return VA_LIST;
    default: return undefined;
  }
}

const opaqueFloats = new Map<string, StructType>();

/** A floating type as storage only (a complete struct of its size and alignment, no members). */
function opaqueFloat(name: string, size: number): StructType {
  let t = opaqueFloats.get(name);
  if (!t) {
    t = { k: 'struct', union: false, tag: name, fields: [], size, align: size, complete: true };
    opaqueFloats.set(name, t);
  }
  return t;
}
