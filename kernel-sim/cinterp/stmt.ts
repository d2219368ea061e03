/** The compiler, part 4 of 7: function bodies, statements, control flow, returns. */
import type { CNode as SyntaxNode } from './ctree';
import { StopSignal, type Machine } from '../machine/machine';
import { LITTLE_ENDIAN } from '../machine/memory';
import { Gen, buildStep, lazyFn, type StepFn } from './codegen';
import type { KThread } from '../machine/thread';
import { type CType, type FuncType, type Val, promote, typeName, intConverter, VOID as VOID_T } from './types';
import { MAX_NESTING, YIELD, Scope, type LocalInfo, type CFunc, type CFrame, type E, type Label, type TU } from './program';
import { stoppedInStatement, runCalleeInline, type BitField } from './runtime';
import { Initialisers } from './init';
import { CASE_RANGE } from './gnu-tokens';
import { switchHead } from './syntax-errors';

export { switchHead };

/** A switch's GNU case ranges (`case LO ... HI:`): [lo, hi, pc], tried after its table. */
const caseRanges = new WeakMap<object, Array<[Val, Val, number]>>();

/** Function bodies and statements. */
export abstract class Statements extends Initialisers {
  /** Compiles a debugger expression in `scope`; calls are refused (they would need frames). */
  evaluateNode(tu: TU, node: SyntaxNode, scope: Scope): { t: CType; rv: (fr: CFrame) => Val; addr?: (fr: CFrame) => number; se: boolean; bits?: BitField } {
    const saved = { tu: this.tu, scope: this.scope, code: this.code, pos: this.pos, loc: this.loc, g: this.g, fnType: this.fnType, ntemps: this.ntemps, frameSize: this.frameSize, frameTop: this.frameTop };
    this.g = new Gen(this.m, this.mem, this.makers);
    this.tu = tu;
    this.scope = scope;
    this.code = [];
    this.pos = [];
    this.loc = [];
    this.fnType = null;
    this.evaluating = true;
    try {
      const e = this.expr(node);
      if (this.code.length) this.fail(node, 'function calls and && / || / ?: around calls cannot be evaluated in the debugger');
      const r = this.rvalue(e);
      return { t: e.t.k === 'array' || e.t.k === 'struct' ? e.t : r.t, rv: e.t.k === 'array' || e.t.k === 'struct' ? e.rv : r.rv, addr: e.addr, se: !!e.se, bits: (e as E & { bits?: BitField }).bits };
    } finally {
      this.evaluating = false;
      Object.assign(this, saved);
    }
  }

  // ------------------------------------------------------------------ function bodies

  compileFunction(node: SyntaxNode, scope: Scope, tu: TU): CFunc {
    this.inBody = true;
    try {
      return this.compileBody(node, scope, tu);
    } finally {
      this.inBody = false;
    }
  }

  /**
   * The functions a body declares in its blocks (`extern void __dtrace_probe_x(void);`, which
   * makes the name file-wide here, as compileFunction's declaration does), without compiling the
   * body: a warm load (compiled.ts) declares them at its start. False when one is not a plain
   * prototype of types the file scope knows (then the caller compiles the body instead).
   */
  declareBodyFunctions(node: SyntaxNode, scope: Scope, tu: TU): boolean {
    const found: SyntaxNode[] = [];
    const walk = (n: SyntaxNode): void => {
      for (const c of n.namedChildren) {
        if (!c) continue;
        if (c.type === 'declaration') found.push(c);
        else walk(c);
      }
    };
    walk(node.childForFieldName('body')!);
    const saved = { tu: this.tu, scope: this.scope, inBody: this.inBody };
    this.tu = tu;
    this.scope = new Scope(scope);
    try {
      for (const d of found) {
        const tn = d.childForFieldName('type');
        const decls = d.childrenForFieldName('declarator').filter((x): x is SyntaxNode => !!x);
        const funcs = decls.filter((x) => x.type === 'function_declarator');
        if (!funcs.length) continue;
        if (!tn || tn.childForFieldName('body') || funcs.length !== decls.length) return false;
        const base = this.baseType(tn, this.scope);
        for (const x of funcs) {
          const r = this.declarator(x, base, this.scope);
          // A function pointer (`int (*fn)(void);`) is a local, not a declaration of a function.
          if (r.type.k === 'func') this.declareFunc(r.name, r.type, this.scope, x);
        }
      }
      return true;
    } catch {
      return false;
    } finally {
      Object.assign(this, saved);
    }
  }

  private compileBody(node: SyntaxNode, scope: Scope, tu: TU): CFunc {
    this.tu = tu;
    const tn = node.childForFieldName('type')!;
    const base = this.baseType(tn, scope);
    const r = this.declarator(node.childForFieldName('declarator'), base, scope);
    const ft = (this.globalScope.names.get(r.name) as { type: FuncType }).type;
    const type = r.type as FuncType;
    this.code = [];
    this.pos = [];
    this.loc = [];
    this.frameSize = 0;
    this.frameTop = 0;
    this.ntemps = 0;
    this.fnName = r.name;
    this.fnType = type;
    this.g = new Gen(this.m, this.mem, this.makers);
    this.labels = new Map();
    this.gotos = [];
    this.loops = [];
    this.switches = [];
    this.locals = [];
    this.depth = 0;
    const fscope = new Scope(scope);
    this.scope = fscope;
    // Parameters.
    const params: LocalInfo[] = [];
    const pl = r.params!;
    let i = 0;
    // The stores of the incoming argument words (the array named a) into the parameters.
    const binds: Array<(a: string) => string> = [];
    for (const p of pl.namedChildren) {
      if (!p || p.type !== 'parameter_declaration') continue;
      const pt = type.params![i];
      if (!pt) break;
      const name = type.names[i] ?? '';
      const off = this.allocLocal(pt);
      if (pt.k === 'struct' && !pt.complete) this.fail(p, `parameter '${name}' has incomplete type '${typeName(pt)}'`);
      const x = this.g.tmp();
      // A number fits a 4-byte parameter's store as it is (the store keeps its low 32 bits, as
      // the conversion would); anything else is converted to the parameter's type first.
      const k = i;
      const conv = pt.k === 'int' ? this.g.ref(intConverter(pt)) : '';
      const v = (a: string): string => (pt.k !== 'int' ? `(${a}[${k}] ?? 0)`
        : pt.size === 4 && !pt.bool ? `(typeof (${x} = ${a}[${k}] ?? 0) === 'number' ? ${x} : ${conv}(${x}))`
          : `${conv}(${a}[${k}] ?? 0)`);
      const st = this.stJs(pt, false, this.slotAddr(off), x, true);
      binds.push((a) => `(${x} = ${v(a)}, ${st})`);
      if (name) {
        fscope.names.set(name, { k: 'var', name, type: pt, global: false, addr: 0, off });
        params.push({ name, type: pt, off, from: 0, to: Number.MAX_SAFE_INTEGER });
      }
      i++;
    }
    void ft;
    const body = node.childForFieldName('body')!;
    this.block(body, fscope, true);
    // Implicit return at the closing brace.
    const close = body.lastChild!;
    this.stmtStart(close);
    const start = this.code.length;
    this.emitReturn(null, close);
    this.markStmt(start, close);
    for (const g of this.gotos) {
      const l = this.labels.get(g.name);
      if (!l || l.pc < 0) this.fail(g.node, `label '${g.name}' used but not defined`);
    }
    for (const l of this.locals) if (l.to < 0) l.to = this.code.length;
    const p = this.posOf(node.childForFieldName('declarator')!);
    const sym = this.definedFns.get(r.name)!;
    const frameSize = Math.ceil(this.frameSize / 16) * 16;
    const g = this.g;
    let made: StepFn | undefined;
    const make = (): StepFn => (made ??= (fn.run = this.generate(fn, g)));
    const fn: CFunc = {
      // Built on the function's first step: a load compiles no JavaScript for what never runs.
      run: (m, t, fr, budget) => make()(m, t, fr, budget),
      make,
      env: g.env,
      name: r.name, type, sym, code: this.code, pos: this.pos, loc: this.loc, frameSize, ntemps: this.ntemps,
      params, locals: this.locals.map((l) => ({ name: l.name, type: l.type, off: l.off, from: l.from, to: l.to, addr: l.addr })),
      // The bind's arguments are its second parameter, t.
      bind: lazyFn<unknown>(g, binds.length ? `(${binds.map((b) => b('t')).join(', ')}, 0)` : '0') as unknown as CFunc['bind'],
      bindJs: (a) => binds.map((b) => `${b(a)};`).join(' '),
      file: p.file, line: p.line, col: p.col, scope,
      va: type.variadic ? type.params!.length : -1,
    };
    // Fill missing positions.
    for (let k = 0; k < fn.loc.length; k++) if (!fn.loc[k]) fn.loc[k] = fn.loc[k - 1] ?? { file: p.file, line: p.line, col: p.col };
    this.g = new Gen(this.m, this.mem, this.makers);
    return fn;
  }

  /** The generated step function of `fn` (see codegen.ts), from its generation context and instructions' forms. */
  protected generate(fn: CFunc, g: Gen): StepFn {
    const pos = fn.pos;
    const stop = (m: Machine, t: KThread, pc: number): boolean => {
      const p = pos[pc]!;
      return m.checkStop({ kind: 'statement', thread: t, cpu: t.cpu, detail: { file: p.file, line: p.line, column: p.col, frameIndex: t.stack.length - 1 } });
    };
    return buildStep(g, {
      name: fn.name, isStmt: (pc) => pos[pc] !== undefined, ins: fn.code, stop,
      stopSignal: StopSignal, stoppedInStatement, runCalleeInline, mem: this.mem, littleEndian: LITTLE_ENDIAN,
      ntemps: fn.ntemps, variadic: fn.va >= 0, frameSize: fn.frameSize, bind: fn.bindJs,
    });
  }


  protected block(n: SyntaxNode, scope: Scope, isFnBody = false): void {
    const s = isFnBody ? scope : new Scope(scope);
    const firstLocal = this.locals.length;
    const top = this.frameTop;
    this.stmts(n.namedChildren, s);
    // The block's locals (and those of a for header in it) go out of scope here...
    for (let i = firstLocal; i < this.locals.length; i++) {
      const l = this.locals[i]!;
      if (l.to < 0) l.to = this.code.length;
    }
    // ...and their space is free for the next block, as compilers share the stack space of
    // blocks that cannot be live together (gcc -O0 too).
    this.frameTop = top;
  }

  /**
   * A GNU statement expression `({ ... })`: its statements become instructions before the
   * enclosing expression's (as a call's do); its value is the last expression statement's, kept
   * in a temp (void when the block ends otherwise).
   */
  protected stmtExpr(n: SyntaxNode, block: SyntaxNode): E {
    if (this.evaluating) this.fail(n, 'statement expressions cannot be evaluated in the debugger');
    if (!this.fnType) this.fail(n, 'braced-group within expression allowed only inside a function');
    const s = new Scope(this.scope);
    const saved = { scope: this.scope, cur: this.cur };
    const firstLocal = this.locals.length;
    const kids = block.namedChildren.filter((c): c is SyntaxNode => !!c && c.type !== 'comment');
    const last = kids[kids.length - 1];
    let r: E = { t: VOID_T, rv: this.K(0), se: true };
    try {
      for (const c of kids.slice(0, -1)) this.stmt(c, s);
      const le = last?.type === 'expression_statement' ? last.namedChildren[0] : null;
      if (last && !le) this.stmt(last, s);
      else if (le) {
        this.scope = s;
        this.stmtStart(last!);
        const e = this.expr(le);
        if (e.t.k === 'struct') {
          // A struct or union: its bytes are copied into the enclosing function's frame (the
          // block's own variables may be gone when the value is used); the value is their address.
          if (!e.t.complete) this.fail(le, `statement expression has incomplete type '${typeName(e.t)}'`);
          const off = this.allocLocal(e.t);
          const start = this.code.length;
          this.emit({ k: 'stmt', code: `${this.g.ref(this.mem)}.copy(fp + ${off}, ${this.jsf(e.rv)}, ${e.t.size})` });
          this.markStmt(start, last!);
          return { t: e.t, rv: this.A(this.slotAddr(off)), se: true };
        }
        const v = e.t.k === 'void' ? e : this.rvalue(e);
        const slot = this.temp();
        const start = this.code.length;
        this.emit({ k: 'stmt', code: `fr.tmp[${slot}] = ${this.jsf(v.rv)}` });
        this.markStmt(start, last!);
        if (v.t.k !== 'void') r = { t: v.t, rv: this.V(`fr.tmp[${slot}]`), se: true };
      }
    } finally {
      this.scope = saved.scope;
      this.cur = saved.cur;
    }
    for (let i = firstLocal; i < this.locals.length; i++) {
      const l = this.locals[i]!;
      if (l.to < 0) l.to = this.code.length;
    }
    return r;
  }

  /** Statements in a row (a block's, a case's). */
  protected stmts(kids: ReadonlyArray<SyntaxNode | null>, scope: Scope): void {
    for (let i = 0; i < kids.length; i++) {
      const c = kids[i];
      if (!c) continue;
      if (c.type === 'ERROR' && switchHead(c)) i = this.bracelessSwitch(c, kids, i + 1, scope) - 1;
      else this.stmt(c, scope);
    }
  }

  protected stmt(n: SyntaxNode, scope: Scope): void {
    const saved = this.scope;
    this.scope = scope;
    if (++this.depth > MAX_NESTING) this.fail(n, `statements nested too deeply (more than ${MAX_NESTING} levels)`);
    try {
      this.stmtInner(n, scope);
    } finally {
      this.scope = saved;
      this.depth--;
    }
  }

  protected stmtInner(n: SyntaxNode, scope: Scope): void {
    const start = this.code.length;
    switch (n.type) {
      case 'comment':
        return;
      case 'compound_statement':
        this.block(n, scope);
        return;
      case 'declaration':
        this.declaration(n, scope, false, this.pendingInits);
        this.flushStaticInits();
        return;
      case 'type_definition':
        this.typedef(n, scope);
        return;
      case 'struct_specifier':
      case 'union_specifier':
      case 'enum_specifier':
        // A tag declared in a block (`struct T { ... };`): its scope is the block.
        this.baseType(n, scope);
        return;
      case 'expression_statement': {
        const e = n.namedChildren[0];
        if (!e || this.staticAssert(n)) return;
        this.stmtStart(n);
        const ce = this.expr(e);
        this.emit({ k: 'stmt', code: this.jsx(ce.rv) });
        this.markStmt(start, n);
        return;
      }
      case 'if_statement':
      case 'while_statement':
      case 'do_statement':
      case 'for_statement':
        this.branchStmt(n, scope, start);
        return;
      case 'return_statement': {
        this.stmtStart(n);
        const e = n.namedChildren.find((c) => c && c.type !== 'comment') ?? null;
        this.emitReturn(e, n);
        this.markStmt(start, n);
        return;
      }
      case 'break_statement': {
        this.stmtStart(n);
        const l = this.loops[this.loops.length - 1];
        if (!l) this.fail(n, "break statement not within loop or switch");
        this.jump(l.brk);
        this.markStmt(start, n);
        return;
      }
      case 'continue_statement': {
        this.stmtStart(n);
        const l = [...this.loops].reverse().find((x) => x.cont);
        if (!l) this.fail(n, 'continue statement not within a loop');
        this.jump(l.cont!);
        this.markStmt(start, n);
        return;
      }
      case 'goto_statement': {
        this.stmtStart(n);
        const name = n.childForFieldName('label')!.text;
        let l = this.labels.get(name);
        if (!l) this.labels.set(name, (l = this.label()));
        this.gotos.push({ name, node: n });
        const L = l;
        this.emit({ k: 'jmp', to: L });
        this.markStmt(start, n);
        return;
      }
      case 'labeled_statement': {
        const name = n.childForFieldName('label')!.text;
        let l = this.labels.get(name);
        if (!l) this.labels.set(name, (l = this.label()));
        if (l.pc >= 0) this.fail(n, `duplicate label '${name}'`);
        this.place(l);
        const inner = n.namedChildren.filter((c) => c && c.type !== 'statement_identifier' && c.type !== 'comment');
        for (const c of inner) this.stmt(c!, scope);
        return;
      }
      case 'switch_statement':
        this.switchStmt(n, n.childForFieldName('condition')!, () => this.stmt(n.childForFieldName('body')!, scope));
        return;
      case 'case_statement': {
        const v = this.caseLabel(n, scope);
        this.stmts(n.namedChildren.filter((c) => c && c !== v && c.type !== 'comment'), scope);
        return;
      }
      case 'attributed_statement': {
        const inner = n.namedChildren.find((c) => c && c.type !== 'attribute_declaration');
        if (inner) this.stmt(inner, scope);
        return;
      }
      case 'seh_try_statement':
      case 'seh_leave_statement':
        return this.fail(n, 'structured exception handling (__try/__leave) is not C');
      case 'function_definition':
        return this.fail(n, 'nested function definitions are not supported');
      default:
        if (n.type.startsWith('preproc')) return this.fail(n, 'unexpected preprocessor construct');
        return this.fail(n, `unsupported statement '${this.text(n)}'`);
    }
  }

  /** if, while, do and for. (Out of stmtInner: its frame stays small for deep nesting.) */
  private branchStmt(n: SyntaxNode, scope: Scope, start: number): void {
    switch (n.type) {
      case 'if_statement': {
        this.stmtStart(n);
        const cond = this.condOf(n.childForFieldName('condition')!);
        const elseL = this.label();
        const end = this.label();
        this.emit({ k: 'br', cond: this.jsf(cond), t: null, f: elseL });
        this.markStmt(start, n);
        this.stmt(n.childForFieldName('consequence')!, scope);
        const alt = n.childForFieldName('alternative');
        if (alt) {
          this.jump(end);
          this.place(elseL);
          const body = alt.type === 'else_clause' ? alt.namedChildren.find((c) => c && c.type !== 'comment')! : alt;
          this.stmt(body, scope);
        } else this.place(elseL);
        this.place(end);
        return;
      }
      case 'while_statement': {
        const condNode = n.childForFieldName('condition')!;
        const top = this.label();
        const end = this.label();
        this.place(top);
        this.stmtStart(n);
        const cs = this.code.length;
        const cond = this.condOf(condNode);
        const simple = this.code.length === cs;
        const body = this.label();
        this.emit({ k: 'br', cond: this.jsf(cond), t: body, f: end });
        this.markStmt(cs, n);
        this.place(body);
        this.loops.push({ brk: end, cont: top });
        this.stmt(n.childForFieldName('body')!, new Scope(scope));
        this.loops.pop();
        if (simple) {
          // Loop back with the condition fused in (one instruction per iteration).
          this.stmtStart(n);
          const p = this.emit({ k: 'br', cond: this.jsf(cond), t: body, f: end });
          this.pos[p] = this.posOf(n);
        } else this.jump(top);
        this.place(end);
        return;
      }
      case 'do_statement': {
        const top = this.label();
        const end = this.label();
        const cont = this.label();
        this.place(top);
        this.loops.push({ brk: end, cont });
        this.stmt(n.childForFieldName('body')!, new Scope(scope));
        this.loops.pop();
        this.place(cont);
        const condNode = n.childForFieldName('condition')!;
        this.stmtStart(condNode);
        const cs = this.code.length;
        const cond = this.condOf(condNode);
        this.emit({ k: 'br', cond: this.jsf(cond), t: top, f: null });
        this.markStmt(cs, condNode);
        this.place(end);
        return;
      }
      case 'for_statement': {
        const fscope = new Scope(scope);
        this.scope = fscope;
        const init = n.childForFieldName('initializer');
        const condNode = n.childForFieldName('condition');
        const upd = n.childForFieldName('update');
        if (init) {
          if (init.type === 'declaration') this.declaration(init, fscope, false, this.pendingInits);
          else {
            this.stmtStart(init);
            const is = this.code.length;
            const e = this.expr(init);
            this.emit({ k: 'stmt', code: this.jsx(e.rv) });
            this.markStmt(is, init);
          }
        }
        const top = this.label();
        const end = this.label();
        const cont = this.label();
        const body = this.label();
        this.place(top);
        let cond: ((fr: CFrame) => boolean) | null = null;
        let condSimple = true;
        const condPos = condNode ?? n;
        if (condNode) {
          this.stmtStart(condNode);
          const cs = this.code.length;
          cond = this.condOf(condNode);
          condSimple = this.code.length === cs;
          const c = cond;
          this.emit({ k: 'br', cond: this.jsf(c), t: body, f: end });
          this.markStmt(cs, condPos);
        }
        this.place(body);
        this.loops.push({ brk: end, cont });
        this.stmt(n.childForFieldName('body')!, new Scope(fscope));
        this.loops.pop();
        this.place(cont);
        if (upd) {
          this.stmtStart(upd);
          const us = this.code.length;
          const ue = this.expr(upd);
          const urv = ue.rv;
          if (this.code.length === us && condSimple) {
            const c = cond;
            const p = this.emit(c ? { k: 'br', code: this.jsx(urv), cond: this.jsf(c), t: body, f: end } : { k: 'br', code: this.jsx(urv), cond: 'true', t: body, f: body });
            this.pos[p] = this.posOf(condPos);
            this.place(end);
            this.scope = scope;
            return;
          }
          this.emit({ k: 'stmt', code: this.jsx(urv) });
          this.markStmt(us, upd);
        }
        if (!condNode) {
          const p = this.emit({ k: 'jmp', to: body });
          this.pos[p] = this.posOf(n);
        } else this.jump(top);
        this.place(end);
        this.scope = scope;
        return;
      }
    }
  }

  /** A switch statement: its dispatch, then its body (`body`), inside which break leaves it. */
  private switchStmt(n: SyntaxNode, condNode: SyntaxNode, body: () => void): void {
    const start = this.code.length;
    this.stmtStart(n);
    const ce = this.rvalue(this.expr(condNode));
    if (ce.t.k !== 'int') this.fail(condNode, 'switch quantity not an integer');
    const conv = intConverter(promote(ce.t));
    const end = this.label();
    const sw = { table: new Map<Val, number>(), dflt: null as Label | null, conv, seen: new Set<Val>() };
    this.emitSwitch(sw, ce.rv, end);
    this.markStmt(start, n);
    this.switches.push(sw);
    this.loops.push({ brk: end, cont: null });
    body();
    this.loops.pop();
    this.switches.pop();
    this.place(end);
  }

  /**
   * A switch whose body has no braces, `switch (x) case 0: case 1: stmt;` (C allows any statement
   * there). tree-sitter parses `switch (x)` as an error, then case statements that take every
   * statement up to the next label. The body is the labels and the one statement after them;
   * the statements after that follow the switch. Returns the index in kids past what it used.
   */
  private bracelessSwitch(head: SyntaxNode, kids: ReadonlyArray<SyntaxNode | null>, j: number, scope: Scope): number {
    let next = j;
    let after: SyntaxNode[] = [];
    this.switchStmt(head, switchHead(head)!, () => {
      for (;;) {
        const k = kids[next];
        if (!k) this.fail(head, "expected a statement after 'switch (...)'");
        next++;
        if (k.type === 'comment') continue;
        if (k.type !== 'case_statement') {
          this.stmt(k, scope);
          return;
        }
        const v = this.caseLabel(k, scope);
        const inner = k.namedChildren.filter((c): c is SyntaxNode => !!c && c.type !== 'comment' && c !== v);
        if (inner.length) {
          this.stmt(inner[0]!, scope);
          after = inner.slice(1);
          return;
        }
      }
    });
    this.stmts(after, scope);
    return next;
  }

  /** A switch's dispatch: its table, then its GNU case ranges, then default or the end. (Out of stmtInner: its frame stays small for deep nesting.) */
  private emitSwitch(sw: { table: Map<Val, number>; dflt: Label | null; conv: (v: Val) => Val }, rv: (fr: CFrame) => Val, end: Label): void {
    const ranges: Array<[Val, Val, number]> = [];
    caseRanges.set(sw, ranges);
    const { table, conv } = sw;
    const dispatch = (v: Val): number => {
      const x = conv(v);
      const p = table.get(x);
      if (p !== undefined) return p;
      for (let i = 0; i < ranges.length; i++) {
        const r = ranges[i]!;
        if (x >= r[0] && x <= r[1]) return r[2];
      }
      return sw.dflt ? sw.dflt.pc : end.pc;
    };
    this.emit({ k: 'ins', code: `${this.g.ref(dispatch)}(${this.jsf(rv)})` });
  }

  /** A case or default label of the innermost switch (a GNU range `case LO ... HI:` too); returns its value node. */
  private caseLabel(n: SyntaxNode, scope: Scope): SyntaxNode | null {
    const sw = this.switches[this.switches.length - 1];
    if (!sw) this.fail(n, "case label not within a switch statement");
    const v = n.childForFieldName('value');
    const range = v?.type === 'call_expression' && v.childForFieldName('function')?.text === CASE_RANGE ? v.childForFieldName('arguments')!.namedChildren : null;
    if (range) {
      const lo = sw.conv(this.constInt(range[0]!, scope));
      const hi = sw.conv(this.constInt(range[1]!, scope));
      if (hi < lo) this.fail(v!, 'empty range specified');
      const ranges = caseRanges.get(sw)!;
      for (const [a, b] of ranges) if (lo <= b && a <= hi) this.fail(v!, 'duplicate (or overlapping) case value');
      for (const x of sw.seen) if (x >= lo && x <= hi) this.fail(v!, 'duplicate (or overlapping) case value');
      ranges.push([lo, hi, this.code.length]);
    } else if (v) {
      const cv = sw.conv(this.constInt(v, scope));
      for (const [a, b] of caseRanges.get(sw)!) if (cv >= a && cv <= b) this.fail(v, `duplicate case value '${v.text}'`);
      if (sw.seen.has(cv)) this.fail(v, `duplicate case value '${v.text}'`);
      sw.seen.add(cv);
      sw.table.set(cv, this.code.length);
    } else {
      if (sw.dflt) this.fail(n, 'multiple default labels in one switch');
      sw.dflt = { pc: this.code.length };
    }
    return v;
  }

  protected flushStaticInits(): void {
    const list = this.pendingInits.splice(0);
    const save = { scope: this.scope };
    for (const f of list) f();
    this.scope = save.scope;
  }

  protected emitReturn(eNode: SyntaxNode | null, at: SyntaxNode): void {
    const ret = this.fnType!.ret;
    let rv: (fr: CFrame) => Val = this.K(0);
    if (eNode) {
      const e = this.expr(eNode);
      if (ret.k === 'void') {
        if (e.t.k !== 'void') this.fail(eNode, `'return' with a value, in function returning void`);
        rv = e.rv;
      } else {
        // A struct or union returns the address of its value (the caller copies it: calls.ts).
        rv = this.convertE(e, ret, eNode).rv;
      }
    } else if (ret.k !== 'void' && at.type === 'return_statement') {
      this.fail(at, `'return' with no value, in function returning '${typeName(ret)}'`);
    }
    // A void function's value is 0 (its return expression, if any, still runs).
    const v = ret.k === 'void' ? `(${this.jsf(rv)}, 0)` : this.jsf(rv);
    this.emit({ k: 'ins', code: `${this.g.ref(cReturn)}(${this.g.ref(this.m)}, fr, t, ${v})`, ret: true, value: v });
  }

  /** Compiles a condition to a boolean closure (emitting call lowering first). */
  protected condOf(n: SyntaxNode): (fr: CFrame) => boolean {
    const inner = n.type === 'parenthesized_expression' ? n.namedChildren[0]! : n;
    if (inner.type === 'declaration') this.fail(inner, 'declarations in conditions are C++');
    const e = this.rvalue(this.expr(inner));
    return this.truth(e, inner);
  }

  protected truth(e: E, n: SyntaxNode): (fr: CFrame) => boolean {
    if (e.cond) return e.cond;
    if (e.t.k !== 'int' && e.t.k !== 'ptr') this.fail(n, `used ${typeName(e.t)} value where a scalar is required`);
    if (e.cst !== undefined) {
      return this.KB(e.cst !== 0);
    }
    return this.B(`(${this.jsv(e)} !== 0)`);
  }
}

/** A return (emitReturn): pops the frame and delivers its value (0 for void) to the frame below. */
function cReturn(m: Machine, fr: CFrame, t: KThread, value: Val): number {
  t.sp = fr.sp0;
  if (fr.traced) m.exit(t, fr.fn.name);
  const st = t.stack;
  const below = st[st.length - 2] as CFrame | undefined;
  if (below && below.kind === 'c' && below.wait >= 0) {
    below.tmp[below.wait] = value;
    below.wait = -1;
    st.pop();
    t.retval = value as number;
    return YIELD;
  }
  m.ret(t, value as number);
  return YIELD;
}
