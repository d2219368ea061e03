/** The compiler, part 3 of 7: initialisers (static data written at load, locals at run time). */
import type { CNode as SyntaxNode } from './ctree';
import { type CType, type Val, INT, sizeOf, typeName } from './types';
import type { CFrame, E } from './program';
import { ScenarioError } from '../scenario';
import { decodeString, bitPut, bitUnitType, type BitField } from './runtime';
import { Declarations } from './declare';

/** One store of an initializer: a value of type t at offset off (into a bit-field when bits is set). */
export interface InitStore {
  off: number;
  t: CType;
  e: E;
  node: SyntaxNode;
  bits?: BitField;
}

/** Static and automatic initialisers. */
export abstract class Initialisers extends Declarations {
  /** The length of an array of unknown size from its initializer (C11 6.7.9 p22). */
  protected override initCount(init: SyntaxNode, t: CType & { k: 'array' }): number {
    if (init.type === 'initializer_list') {
      const items = this.initItems(init);
      let idx = 0;
      let max = 0;
      let pos = 0;
      while (pos < items.length) {
        const c = items[pos]!;
        if (c.type === 'initializer_pair') {
          const des = c.childrenForFieldName('designator')[0];
          if (des?.type === 'subscript_designator') idx = Number(this.constInt(des.namedChildren[0]!, this.scope));
          pos++;
        } else pos = this.skipElem(t.of, items, pos);
        idx++;
        max = Math.max(max, idx);
      }
      return max;
    }
    const s = this.stringLit(init);
    if (s !== null && t.of.k === 'int' && t.of.size === 1) return s.length + 1;
    return this.fail(init, 'invalid initializer for an array of unknown size');
  }

  /** The initializers of a braced list (comments left out). */
  protected initItems(list: SyntaxNode): SyntaxNode[] {
    return list.namedChildren.filter((c): c is SyntaxNode => !!c && c.type !== 'comment');
  }

  /** Whether `n` initialises an object of aggregate type `t` as a whole (no brace elision). */
  protected wholeInit(t: CType, n: SyntaxNode): boolean {
    if (n.type === 'initializer_list') return true;
    if (t.k === 'array') return this.stringLit(n) !== null && t.of.k === 'int' && t.of.size === 1;
    if (t.k !== 'struct') return true;
    // A struct or union expression of the same type; tried without keeping what it emitted.
    const before = this.code.length;
    const temps = this.ntemps;
    let same = false;
    try {
      same = this.expr(n).t === t;
    } catch (err) {
      if (!(err instanceof ScenarioError)) throw err;
    }
    this.code.length = before;
    this.loc.length = before;
    this.pos.length = Math.min(this.pos.length, before);
    this.ntemps = temps;
    return same;
  }

  /** The position after the initializers one element of type t takes from items[pos] (for counting). */
  protected skipElem(t: CType, items: SyntaxNode[], pos: number): number {
    const c = items[pos]!;
    if (t.k !== 'array' && t.k !== 'struct') return pos + 1;
    if (c.type === 'initializer_list' || (t.k === 'array' && this.wholeInit(t, c))) return pos + 1;
    if (t.k === 'struct' && c.type === 'identifier' && this.wholeInit(t, c)) return pos + 1;
    if (t.k === 'array') {
      for (let i = 0; (t.n === null || i < t.n) && pos < items.length && items[pos]!.type !== 'initializer_pair'; i++) pos = this.skipElem(t.of, items, pos);
      return pos;
    }
    for (const f of t.members ?? t.fields) {
      if (pos >= items.length || items[pos]!.type === 'initializer_pair') break;
      pos = this.skipElem(f.type, items, pos);
      if (t.union) break;
    }
    return pos;
  }

  // ------------------------------------------------------------------ static initializers

  /** Writes a constant initializer into static storage now. */
  protected override staticInit(addr: number, t: CType, init: SyntaxNode): void {
    const stores: InitStore[] = [];
    const before = this.code.length;
    this.collectInit(0, t, init, stores);
    if (this.code.length !== before) {
      this.code.length = before;
      this.loc.length = before;
      this.pos.length = Math.min(this.pos.length, before);
      this.fail(init, 'initializer element is not constant (it calls a function)');
    }
    for (const s of stores) {
      if (s.e.se) this.fail(s.node, 'initializer element is not constant');
      const v = this.constant(s.e.rv);
      if (s.t.k === 'struct' || s.t.k === 'array') this.mem.copy(addr + s.off, v as number, sizeOf(s.t));
      else if (s.bits && s.t.k === 'int') {
        const ut = bitUnitType(s.t);
        this.staticStore(ut)(addr + s.off, bitPut(this.loadFrom(ut, true)(addr + s.off), v, s.t, s.bits));
      } else this.staticStore(s.t)(addr + s.off, v);
    }
  }

  /** The checked storer of type t for static initialisers, made once per type. */
  private staticStore(t: CType): (a: number, v: Val) => void {
    let st = this.staticStores.get(t);
    if (st === undefined) this.staticStores.set(t, (st = this.storeTo(t, true)));
    return st;
  }
  private readonly staticStores = new Map<CType, (a: number, v: Val) => void>();

  /**
   * Flattens an initializer into (offset, type, expression) stores, as C11 6.7.9 says: braces
   * may be left out around a subaggregate (it then takes as many initializers from the list as
   * it has members), an anonymous struct or union member is one member, unnamed bit-fields are
   * none, a designator sets the position in its braced list.
   */
  protected collectInit(off: number, t: CType, init: SyntaxNode, out: InitStore[]): void {
    if (init.type === 'initializer_list') {
      const items = this.initItems(init);
      if (t.k !== 'array' && t.k !== 'struct') {
        // A scalar in braces.
        if (!items[0]) this.fail(init, 'empty scalar initializer');
        this.collectInit(off, t, items[0], out);
        if (items.length > 1) this.fail(items[1]!, 'excess elements in scalar initializer');
        return;
      }
      const pos = this.fillAggregate(off, t, items, 0, out, true);
      if (pos < items.length) this.fail(items[pos]!, `excess elements in ${t.k === 'array' ? 'array' : t.union ? 'union' : 'struct'} initializer`);
      return;
    }
    if (t.k === 'array') {
      const s = this.stringLit(init);
      if (s !== null && t.of.k === 'int' && t.of.size === 1) {
        const n = t.n ?? s.length + 1;
        for (let i = 0; i < n && i < s.length + 1; i++) {
          const v = i < s.length ? s.charCodeAt(i) : 0;
          out.push({ off: off + i, t: t.of, e: { t: INT, rv: this.K(v), cst: v }, node: init });
        }
        return;
      }
      this.fail(init, `invalid initializer for an array ('${this.text(init)}')`);
    }
    const e = this.expr(init);
    if (t.k === 'struct') {
      if (e.t.k !== 'struct' || e.t !== t) this.fail(init, `incompatible types when initializing '${typeName(t)}' from '${typeName(e.t)}'`);
      out.push({ off, t, e, node: init });
      return;
    }
    out.push({ off, t, e: this.convertE(e, t, init), node: init });
  }

  /**
   * Initialises the members (or elements) of aggregate t from items[pos]...: all of them when
   * `braced` (the list is t's own), else as many as t has, stopping at a designator (it belongs
   * to the enclosing list). Returns the position after the last initializer taken.
   */
  protected fillAggregate(off: number, t: CType & { k: 'array' | 'struct' }, items: SyntaxNode[], pos: number, out: InitStore[], braced: boolean): number {
    const members = t.k === 'struct' ? (t.members ?? t.fields) : null;
    let idx = 0;
    while (pos < items.length) {
      const c = items[pos]!;
      if (c.type === 'initializer_pair') {
        if (!braced) return pos;
        const des = c.childrenForFieldName('designator').filter((x): x is SyntaxNode => !!x);
        const first = des[0]!;
        let cur: { off: number; t: CType; bits?: BitField };
        if (first.type === 'subscript_designator') {
          if (t.k !== 'array') this.fail(first, 'array index in a non-array initializer');
          idx = Number(this.constInt(first.namedChildren[0]!, this.scope));
          if (idx < 0 || (t.n !== null && idx >= t.n)) this.fail(first, 'array index in initializer exceeds array bounds');
          cur = { off: off + idx * sizeOf(t.of), t: t.of };
        } else if (first.type === 'field_designator') {
          if (t.k !== 'struct') this.fail(first, 'field designator in a non-struct initializer');
          const fname = first.namedChildren[0]!.text;
          const f = t.fields.find((x) => x.name === fname);
          if (!f) this.fail(first, `'${typeName(t)}' has no member named '${fname}'`);
          // The position moves to the member holding it (an anonymous member holds its fields).
          idx = members!.findIndex((m) => m === f || (m.name === '' && m.offset <= f.offset && f.offset < m.offset + sizeOf(m.type) && m.type.k === 'struct' && m.type.fields.some((x) => x.name === fname)));
          if (idx < 0) idx = members!.length;
          cur = { off: off + f.offset, t: f.type, bits: f.bits };
        } else return this.fail(first, `unsupported designator '${first.text}'`);
        for (const d of des.slice(1)) {
          if (d.type === 'field_designator') {
            if (cur.t.k !== 'struct') this.fail(d, 'field designator in a non-struct initializer');
            const fname = d.namedChildren[0]!.text;
            const ct = cur.t;
            const f = ct.fields.find((x) => x.name === fname);
            if (!f) this.fail(d, `'${typeName(ct)}' has no member named '${fname}'`);
            cur = { off: cur.off + f.offset, t: f.type, bits: f.bits };
          } else if (d.type === 'subscript_designator') {
            if (cur.t.k !== 'array') this.fail(d, 'array index in a non-array initializer');
            const i = Number(this.constInt(d.namedChildren[0]!, this.scope));
            cur = { off: cur.off + i * sizeOf(cur.t.of), t: cur.t.of };
          } else this.fail(d, `unsupported designator '${d.text}'`);
        }
        const valNode = c.childForFieldName('value')!;
        this.elem(cur.off, cur.t, cur.bits, [valNode], 0, out);
        pos++;
        idx++;
        if (t.k === 'struct' && t.union) idx = members!.length;
        continue;
      }
      if (t.k === 'array') {
        if (t.n !== null && idx >= t.n) {
          if (braced) this.fail(c, 'excess elements in array initializer');
          return pos;
        }
        pos = this.elem(off + idx * sizeOf(t.of), t.of, undefined, items, pos, out);
        idx++;
        continue;
      }
      const f = members![idx];
      if (!f) {
        if (braced) this.fail(c, `excess elements in ${t.union ? 'union' : 'struct'} initializer`);
        return pos;
      }
      pos = this.elem(off + f.offset, f.type, f.bits, items, pos, out);
      idx = t.union ? members!.length : idx + 1;
    }
    return pos;
  }

  /** Initialises one object of type t from items[pos] (taking more when braces were left out). */
  protected elem(off: number, t: CType, bits: BitField | undefined, items: SyntaxNode[], pos: number, out: InitStore[]): number {
    const c = items[pos]!;
    if ((t.k === 'array' || t.k === 'struct') && !this.wholeInit(t, c)) return this.fillAggregate(off, t, items, pos, out, false);
    const before = out.length;
    this.collectInit(off, t, c, out);
    if (bits) for (let i = before; i < out.length; i++) out[i]!.bits = bits;
    return pos + 1;
  }

  protected stringLit(n: SyntaxNode): string | null {
    if (n.type === 'string_literal') return decodeString(n.text);
    if (n.type === 'concatenated_string') {
      let s = '';
      for (const c of n.namedChildren) if (c && c.type === 'string_literal') s += decodeString(c.text);
      return s;
    }
    if (n.type === 'parenthesized_expression') return this.stringLit(n.namedChildren[0]!);
    return null;
  }

  /** A local initializer: zero the object, then store each element (runtime instructions). */
  protected override initLocal(off: number, t: CType, init: SyntaxNode): void {
    const g = this.g;
    const MEM = g.ref(this.mem);
    // A store of the scalar e of type st at fp + o.
    const store = (o: number, st: CType, e: E): string => {
      const x = g.tmp();
      return `(${x} = ${this.jsv(e)}, ${this.stJs(st, false, this.slotAddr(o), x, o % sizeOf(st) === 0)})`;
    };
    if (t.k === 'struct' || t.k === 'array') {
      const stores: InitStore[] = [];
      const size = sizeOf(t);
      // Single struct expression: copy.
      if (t.k === 'struct' && init.type !== 'initializer_list') {
        const e = this.expr(init);
        if (e.t !== t) this.fail(init, `incompatible types when initializing '${typeName(t)}' from '${typeName(e.t)}'`);
        this.emit({ k: 'stmt', code: `${MEM}.copy(fp + ${off}, ${this.jsv(e)}, ${size})` });
        return;
      }
      this.emit({ k: 'stmt', code: `${MEM}.u8.fill(0, fp + ${off}, fp + ${off + size})` });
      this.collectInit(0, t, init, stores);
      for (const s of stores) {
        const e = s.e;
        const o = off + s.off;
        if (s.t.k === 'struct' || s.t.k === 'array') {
          this.emit({ k: 'stmt', code: `${MEM}.copy(fp + ${o}, ${this.jsv(e)}, ${sizeOf(s.t)})` });
        } else if (s.bits && s.t.k === 'int') {
          const ut = bitUnitType(s.t);
          const x = g.tmp();
          const unit = `${g.ref(bitPut)}(${this.ldJs(ut, false, this.slotAddr(o))}, ${this.jsv(e)}, ${g.ref(s.t)}, ${g.ref(s.bits)})`;
          this.emit({ k: 'stmt', code: `(${x} = ${unit}, ${this.stJs(ut, false, this.slotAddr(o), x)})` });
        } else {
          this.emit({ k: 'stmt', code: store(o, s.t, e) });
        }
      }
      return;
    }
    // A scalar, in braces or not (`uint64_t asq = { 0 };`, C11 6.7.9 p11): one store.
    const one: InitStore[] = [];
    this.collectInit(off, t, init, one);
    this.emit({ k: 'stmt', code: store(off, t, one[0]!.e) });
  }
}
