/** The compiler, part 3 of 7: initialisers (static data written at load, locals at run time). */
import type { Node as SyntaxNode } from 'web-tree-sitter';
import { lit } from './codegen';
import { type CType, INT, sizeOf, typeName } from './types';
import type { CFrame, E } from './program';
import { decodeString } from './runtime';
import { Declarations } from './declare';

/** Static and automatic initialisers. */
export abstract class Initialisers extends Declarations {
  protected override initCount(init: SyntaxNode, t: CType & { k: 'array' }): number {
    if (init.type === 'initializer_list') {
      let idx = 0;
      let max = 0;
      for (const c of init.namedChildren) {
        if (!c || c.type === 'comment') continue;
        if (c.type === 'initializer_pair') {
          const des = c.childrenForFieldName('designator')[0];
          if (des?.type === 'subscript_designator') idx = Number(this.constInt(des.namedChildren[0]!, this.scope));
        }
        idx++;
        max = Math.max(max, idx);
      }
      return max;
    }
    const s = this.stringLit(init);
    if (s !== null && t.of.k === 'int' && t.of.size === 1) return s.length + 1;
    return this.fail(init, 'invalid initializer for an array of unknown size');
  }


  // ------------------------------------------------------------------ static initializers

  /** Writes a constant initializer into static storage now. */
  protected override staticInit(addr: number, t: CType, init: SyntaxNode): void {
    const stores: Array<{ off: number; t: CType; e: E; node: SyntaxNode }> = [];
    const before = this.code.length;
    this.collectInit(0, t, init, stores);
    if (this.code.length !== before) {
      this.code.length = before;
      this.loc.length = before;
      this.insJs.length = before;
      this.pos.length = Math.min(this.pos.length, before);
      this.fail(init, 'initializer element is not constant (it calls a function)');
    }
    for (const s of stores) {
      if (s.e.se) this.fail(s.node, 'initializer element is not constant');
      const v = s.e.rv(null as unknown as CFrame);
      if (s.t.k === 'struct' || s.t.k === 'array') this.mem.copy(addr + s.off, v as number, sizeOf(s.t));
      else this.storeTo(s.t, true)(addr + s.off, v);
    }
  }

  /** Flattens an initializer into (offset, type, expression) stores. */
  protected collectInit(off: number, t: CType, init: SyntaxNode, out: Array<{ off: number; t: CType; e: E; node: SyntaxNode }>): void {
    if (init.type === 'initializer_list') {
      if (t.k === 'array') {
        let idx = 0;
        for (const c of init.namedChildren) {
          if (!c || c.type === 'comment') continue;
          let valNode = c;
          if (c.type === 'initializer_pair') {
            const des = c.childrenForFieldName('designator').filter((x): x is SyntaxNode => !!x);
            if (des.length !== 1 || des[0]!.type !== 'subscript_designator') this.fail(c, 'nested designators are not supported');
            idx = Number(this.constInt(des[0]!.namedChildren[0]!, this.scope));
            valNode = c.childForFieldName('value')!;
          }
          if (t.n !== null && idx >= t.n) this.fail(c, 'excess elements in array initializer');
          this.collectInit(off + idx * sizeOf(t.of), t.of, valNode, out);
          idx++;
        }
        return;
      }
      if (t.k === 'struct') {
        let fi = 0;
        const named = t.fields;
        for (const c of init.namedChildren) {
          if (!c || c.type === 'comment') continue;
          let valNode = c;
          if (c.type === 'initializer_pair') {
            const des = c.childrenForFieldName('designator').filter((x): x is SyntaxNode => !!x);
            let cur: { off: number; t: CType } = { off, t };
            for (const d of des) {
              if (d.type === 'field_designator') {
                if (cur.t.k !== 'struct') this.fail(d, 'field designator in a non-struct initializer');
                const fname = d.namedChildren[0]!.text;
                const f = cur.t.fields.find((x) => x.name === fname);
                if (!f) this.fail(d, `'${typeName(cur.t)}' has no member named '${fname}'`);
                if (cur.t === t) fi = t.fields.indexOf(f) + 1;
                cur = { off: cur.off + f.offset, t: f.type };
                if (f.bits) this.fail(d, 'initializing bit-fields by designator is not supported');
              } else if (d.type === 'subscript_designator') {
                if (cur.t.k !== 'array') this.fail(d, 'array index in a non-array initializer');
                const i = Number(this.constInt(d.namedChildren[0]!, this.scope));
                cur = { off: cur.off + i * sizeOf(cur.t.of), t: cur.t.of };
              } else this.fail(d, `unsupported designator '${d.text}'`);
            }
            valNode = c.childForFieldName('value')!;
            this.collectInit(cur.off, cur.t, valNode, out);
            continue;
          }
          const f = named[fi++];
          if (!f) this.fail(c, `excess elements in ${t.union ? 'union' : 'struct'} initializer`);
          if (f.bits) this.fail(c, 'initializing bit-fields is not supported');
          this.collectInit(off + f.offset, f.type, valNode, out);
          if (t.union) break;
        }
        return;
      }
      // Scalar in braces.
      const first = init.namedChildren.find((c) => c && c.type !== 'comment');
      if (!first) return;
      this.collectInit(off, t, first, out);
      return;
    }
    if (t.k === 'array') {
      const s = this.stringLit(init);
      if (s !== null && t.of.k === 'int' && t.of.size === 1) {
        const n = t.n ?? s.length + 1;
        for (let i = 0; i < n && i < s.length + 1; i++) {
          const v = i < s.length ? s.charCodeAt(i) : 0;
          out.push({ off: off + i, t: t.of, e: { t: INT, rv: this.J(() => v, lit(v)), cst: v }, node: init });
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
    const mem = this.mem;
    if (t.k === 'struct' || t.k === 'array') {
      const stores: Array<{ off: number; t: CType; e: E; node: SyntaxNode }> = [];
      const size = sizeOf(t);
      // Single struct expression: copy.
      if (t.k === 'struct' && init.type !== 'initializer_list') {
        const e = this.expr(init);
        if (e.t !== t) this.fail(init, `incompatible types when initializing '${typeName(t)}' from '${typeName(e.t)}'`);
        this.emit((fr) => {
          mem.copy(fr.fp + off, e.rv(fr) as number, size);
          return -2;
        });
        return;
      }
      this.emit((fr) => {
        mem.u8.fill(0, fr.fp + off, fr.fp + off + size);
        return -2;
      });
      this.collectInit(0, t, init, stores);
      for (const s of stores) {
        const e = s.e;
        const sz = sizeOf(s.t);
        const o = off + s.off;
        if (s.t.k === 'struct' || s.t.k === 'array') {
          this.emit((fr) => {
            mem.copy(fr.fp + o, e.rv(fr) as number, sz);
            return -2;
          });
        } else {
          const st = this.storeTo(s.t, false);
          this.emit((fr) => {
            st(fr.fp + o, e.rv(fr));
            return -2;
          });
        }
      }
      return;
    }
    const e = this.convertE(this.expr(init), t, init);
    const st = this.storeTo(t, false);
    this.emit((fr) => {
      st(fr.fp + off, e.rv(fr));
      return -2;
    });
  }
}
