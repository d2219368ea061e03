/** The compiler, part 7 of 7: calls (lowered out of expressions) and the va_* builtins. */
import type { CNode as SyntaxNode } from './ctree';
import { KernelPanic, PUSHED, StopSignal, type Machine } from '../machine/machine';
import { type FuncType, type Val, VOID, INT, VA_LIST, promote, typeName, intConverter, toWord, compatible } from './types';
import { TYPES_COMPATIBLE } from './gnu-tokens';
import { vaCheck, type VaArgs, VA_MACROS, VA_BUILTINS } from './varargs';
import { YIELD, type CFrame, type CFunc, type E } from './program';
import { Expressions } from './expr';
import { compiled } from './compiled';
import { structWord, cFrame, framePointer, frameObject, setLeafFault, LEAF_FAULT, LEAF_GO, LEAF_STOP } from './runtime';
import { leafOf, type Leaf, type PureCall, type PureFault, type StepFn } from './codegen';
import { INT_BUILTINS, operandBits, type IntBuiltin } from './builtins';
import type { KThread } from '../machine/thread';

export abstract class Calls extends Expressions {
  // ------------------------------------------------------------------ calls

  protected override call(n: SyntaxNode): E {
    const fnRaw = n.childForFieldName('function')!;
    const fnNode = this.castOperand.get(fnRaw) ?? fnRaw; // `(T)(f)(x)`: the chain's base stands for f
    const argNodes = n.childForFieldName('arguments')!.namedChildren.filter((c): c is SyntaxNode => !!c && c.type !== 'comment');
    const castTo = this.castCallType(n);
    if (castTo) {
      // (type_t)(expr) parsed as a call.
      if (argNodes.length !== 1) this.fail(n, `expected an expression after the cast to '${typeName(castTo)}'`);
      if (castTo.k === 'struct' || castTo.k === 'array') this.fail(n, `cast to '${typeName(castTo)}' is not a scalar type`);
      return this.convertE(this.expr(argNodes[0]!), castTo, n, true);
    }
    if (fnNode.type === 'identifier') {
      const name = fnNode.text;
      if (name === '__builtin_expect') return this.expr(argNodes[0]!);
      if (name === '__builtin_unreachable') return { t: VOID, rv: this.V(`${this.g.ref(unreachable)}()`) };
      if (name === TYPES_COMPATIBLE && !this.scope.find(name)) {
        // Two type names (gnu-tokens.ts made each the cast `(T)0`): 1 when they are compatible.
        const castOf = (a: SyntaxNode | null | undefined): SyntaxNode | null => (a?.type === 'parenthesized_expression' ? castOf(a.namedChildren[0]) : a?.type === 'cast_expression' ? a.childForFieldName('type') : null);
        const ts = argNodes.map(castOf);
        if (ts.length !== 2 || !ts[0] || !ts[1]) return this.fail(n, `${name} expects two type names`);
        const v = compatible(this.typeOfDescriptor(ts[0], this.scope), this.typeOfDescriptor(ts[1], this.scope)) ? 1 : 0;
        return { t: INT, rv: this.K(v), cst: v };
      }
      if (name === '__builtin_constant_p') {
        // 1 for an operand the compiler folds to a constant (nothing of it is evaluated).
        const v = argNodes.length === 1 && this.typeOnly(argNodes[0]!).cst !== undefined ? 1 : 0;
        return { t: INT, rv: this.K(v), cst: v };
      }
      const ib = INT_BUILTINS.get(name);
      if (ib && !this.scope.find(name)) return this.intBuiltin(name, ib, n, argNodes);
      if (['setjmp', 'longjmp', '_setjmp', '_longjmp', 'sigsetjmp', 'siglongjmp', '__builtin_setjmp', '__builtin_longjmp'].includes(name)) {
        this.fail(fnNode, `${name}() is not supported: non-local jumps cannot be simulated`);
      }
      if (name.startsWith('__builtin_va_') && !this.scope.find(name)) return this.vaBuiltin(name, n, argNodes);
      if (VA_MACROS.has(name) && !this.scope.find(name)) this.fail(fnNode, `'${name}' is a macro of <sys/varargs.h> (or <stdarg.h>): include it`);
      if (!this.scope.find(name)) this.fail(fnNode, `implicit declaration of function '${name}'`);
    }
    const callee = this.rvalue(this.expr(fnNode));
    let ft: FuncType;
    if (callee.t.k === 'ptr' && callee.t.to.k === 'func') ft = callee.t.to;
    else return this.fail(fnNode, `called object '${this.text(fnNode)}' is not a function or function pointer`);
    if (fnNode.type === 'identifier' && ft.params !== null) {
      // Called where only a declaration without a prototype is in scope (`static void f();`,
      // prototyped later): as C there, no argument count is checked and arguments are promoted.
      const ent = this.scope.find(fnNode.text);
      if (ent && ent.k === 'func' && ent.protoAt !== undefined && n.startIndex < ent.protoAt) ft = { ...ft, params: null, variadic: false };
    }
    const fname = callee.fname ?? this.text(fnNode);
    if (ft.params !== null) {
      if (argNodes.length < ft.params.length) this.fail(n, `too few arguments to function '${fname}' (expected ${ft.params.length}, have ${argNodes.length})`);
      if (argNodes.length > ft.params.length && !ft.variadic) this.fail(n, `too many arguments to function '${fname}' (expected ${ft.params.length}, have ${argNodes.length})`);
    }
    // Arguments: pure ones are computed in the call instruction, others into temps first.
    const argFns: Array<(fr: CFrame) => Val> = [];
    let has64 = false;
    // Through a variadic prototype: which argument words are pointers (varargs.ts).
    const vaPtr: boolean[] | null = ft.variadic ? [] : null;
    for (let i = 0; i < argNodes.length; i++) {
      const an = argNodes[i]!;
      let e = this.rvalue(this.expr(an));
      const pt = ft.params && i < ft.params.length ? ft.params[i]! : null;
      // A struct or union passes as the address of its bytes; the callee copies them into its
      // parameter when the call binds its frame (the bytes do not change in between).
      if (pt) e = this.convertE(e, pt, an);
      else if (e.t.k === 'int') e = this.convertE(e, promote(e.t), an);
      else if (e.t.k === 'struct') {
        if (vaPtr === null) this.fail(an, `passing ${e.t.union ? 'a union' : 'a struct'} ('${typeName(e.t)}') to a function without a prototype is not supported`);
        // Through '...': its bytes as words (amd64 passes it by value, in words), which
        // va_arg(ap, struct S) reads back (varargs.ts).
        const size = e.t.size;
        const a = e.se ? this.toTemp(e.rv) : e.rv;
        for (let w = 0; w * 8 < size; w++) {
          argFns.push(this.V(`${this.g.ref(structWord)}(${this.g.ref(this.mem)}, ${this.jsf(a)} + ${w * 8}, ${Math.min(8, size - w * 8)})`));
          vaPtr.push(false);
        }
        has64 = true;
        continue;
      }
      if ((e.t.k === 'int' && e.t.size === 8)) has64 = true;
      if (vaPtr !== null) vaPtr.push(e.t.k === 'ptr');
      argFns.push(e.se ? this.toTemp(e.rv) : e.rv);
    }
    const calleeFn = callee.se ? this.toTemp(callee.rv) : callee.rv;
    const ret = ft.ret;
    const isVoid = ret.k === 'void';
    if (ret.k === 'struct' && !ret.complete) this.fail(n, `calling a function that returns an incomplete type '${typeName(ret)}'`);
    const slot = this.temp();
    const conv: (v: Val) => Val = ret.k === 'int' ? intConverter(ret) : (v) => v;
    const m = this.m;
    const nargs = argFns.length;
    const named = ft.variadic && ft.params ? Math.min(nargs, ft.params.length) : nargs;
    const convName = ret.k === 'int' ? ret : null;
    const invoke = (fr: CFrame, t: KThread, f: number, args: number[]): number => {
      if (vaPtr !== null) (args as VaArgs).vaPtr = vaPtr;
      if (has64) {
        const s = m.sym.atAddr(f);
        // Named arguments as the kernel function's words; its variable ones keep their 64 bits (kprintf).
        if (s && s.kind === 'native') for (let k = 0; k < named; k++) args[k] = toWord(args[k]!);
      }
      const base = t.stack.length;
      let r: ReturnType<Machine['callFunction']>;
      try {
        r = m.callFunction(t, f, args);
      } catch (e) {
        // A kernel function that panicked inline: show it on the panic stack, as illumos does.
        if (!(e instanceof StopSignal) && t.stack.length === base) {
          const s = m.sym.atAddr(f);
          if (s && s.kind === 'native') t.stack.push({ kind: 'cnative', pc: 0, name: s.name, args: args.slice(0, 6) });
        }
        throw e;
      }
      if (r === PUSHED) {
        const s = m.sym.atAddr(f)!;
        const direct = s.kind === 'c' && t.stack[base] !== undefined && (t.stack[base] as CFrame).kind === 'c';
        if (direct && m.sink) {
          // fbt-style entry/return probes for the driver's own functions.
          (t.stack[base] as CFrame).traced = true;
          m.entry(t, s.name);
        }
        if (!isVoid) {
          if (direct) fr.wait = slot;
          else t.stack.splice(base, 0, { kind: 'cret', pc: 0, slot, conv: convName });
        }
        return YIELD;
      }
      fr.tmp[slot] = isVoid ? 0 : conv(r);
      return -2;
    };
    const argList = `[${argFns.map((a) => this.jsf(a)).join(', ')}]`;
    if (typeof callee.cst === 'number' && vaPtr === null) {
      // A call by name: when the name is a C function of the program and no debugger is
      // attached, what invoke and m.callFunction come to is pushing its frame (m.hooks.callC).
      const site: DirectCall = { m, addr: callee.cst, target: undefined, leaf: undefined, pure: notPure, slot: isVoid ? -1 : slot, invoke, has64, args: new Array<number>(nargs).fill(0) };
      const S = this.g.ref(site);
      // Without a debugger the arguments are a pure leaf's call's parameters, or (when that gives
      // -1) go into the site's own array (no array made per call).
      const into = `(${argFns.map((a, i) => `${S}.args[${i}] = ${this.jsf(a)}, `).join('')}${S}.args)`;
      this.emit({
        k: 'ins', code: `${this.g.ref(callDirect)}(${S}, fr, t, ${argList})`,
        leaf: ret.k === 'struct' ? undefined : `${this.g.ref(callLeaf)}(${S}, fr, t, ${into}, used || 1, budget)`,
        pure: ret.k === 'struct' ? undefined : `${S}.pure(${S}, fr, t, used || 1, budget${argFns.map((a) => `, ${this.jsf(a)}`).join('')})`,
        inl: ret.k === 'struct' ? undefined : {
          site: S, args: argFns.map((a) => this.jsf(a)), slot: isVoid ? -1 : slot,
          leaf: () => inlineLeaf(site), out: this.g.ref(LEAF_OUT), fault: this.g.ref(leafFault),
        },
      });
    } else this.emit({ k: 'ins', code: `${this.g.ref(invoke)}(fr, t, ${this.jsf(calleeFn)}, ${argList})` });
    if (ret.k === 'struct') {
      // The callee returned the address of its value (in its popped frame, intact until the
      // thread runs on): copy it into this frame before anything else runs.
      const off = this.allocLocal(ret);
      this.emit({ k: 'stmt', code: `${this.g.ref(this.mem)}.copy(fp + ${off}, fr.tmp[${slot}], ${ret.size})` });
      return { t: ret, rv: this.A(this.slotAddr(off)), se: true };
    }
    return { t: isVoid ? VOID : ret, rv: this.V(`fr.tmp[${slot}]`), se: true };
  }

  /** An expression compiled for its type and constant value only: what it emitted is dropped. */
  protected typeOnly(n: SyntaxNode): E {
    const saved = { code: this.code.length, ntemps: this.ntemps };
    try {
      return this.expr(n);
    } finally {
      this.code.length = saved.code;
      this.loc.length = saved.code;
      this.pos.length = Math.min(this.pos.length, saved.code);
      this.ntemps = saved.ntemps;
    }
  }

  /** `__builtin_clz(x)` and the other bit builtins (builtins.ts): folded when x is a constant. */
  protected intBuiltin(name: string, ib: IntBuiltin, n: SyntaxNode, argNodes: SyntaxNode[]): E {
    if (argNodes.length !== 1) this.fail(n, `${argNodes.length < 1 ? 'too few' : 'too many'} arguments to function '${name}'`);
    const a = this.convertE(this.rvalue(this.expr(argNodes[0]!)), ib.arg, argNodes[0]!);
    const { fn, arg } = ib;
    const rv = this.V(`${this.g.ref((v: Val) => fn(operandBits(v, arg)))}(${this.jsv(a)})`);
    if (a.cst !== undefined) {
      const v = rv(null as unknown as CFrame);
      return { t: ib.ret, rv: this.K(v), cst: v };
    }
    return { t: ib.ret, rv, se: a.se };
  }

  /** Computes a value into a new temp slot (an instruction); returns the slot's reader. */
  protected toTemp(rv: (fr: CFrame) => Val): (fr: CFrame) => Val {
    const slot = this.temp();
    this.emit({ k: 'stmt', code: `fr.tmp[${slot}] = ${this.jsf(rv)}` });
    return this.V(`fr.tmp[${slot}]`);
  }

  // ------------------------------------------------------------------ variable arguments

  /**
   * `__builtin_va_start`, `__builtin_va_arg`, `__builtin_va_copy`, `__builtin_va_end`: what the
   * macros of <sys/varargs.h> and <stdarg.h> expand to (`va_arg(ap, T)` becomes
   * `__builtin_va_arg(ap, (T *)0)`, so that any type name parses). The model is in varargs.ts.
   */
  protected vaBuiltin(name: string, n: SyntaxNode, argNodes: SyntaxNode[]): E {
    const what = name.slice('__builtin_'.length);
    const want = VA_BUILTINS.get(name);
    if (want === undefined) return this.fail(n, `unknown builtin '${name}'`);
    if (argNodes.length !== want) this.fail(n, `${what} takes ${want} argument${want === 1 ? '' : 's'}, not ${argNodes.length}`);
    const ft = this.fnType;
    if (!ft) return this.fail(n, `${what} cannot be evaluated in the debugger`);
    const vaLvalue = (an: SyntaxNode): { addr: (fr: CFrame) => number } => {
      const e = this.expr(an);
      if (!(e.t.k === 'ptr' && e.t.va)) this.fail(an, `${what}: '${this.text(an)}' is not a va_list (it is '${typeName(this.rvalue(e).t)}')`);
      if (!e.addr) this.fail(an, `${what}: '${this.text(an)}' is not an lvalue`);
      return { addr: e.addr };
    };
    const mem = this.mem;
    const m = this.m;
    const g = this.g;
    switch (what) {
      case 'va_start': {
        const ap = vaLvalue(argNodes[0]!);
        if (!ft.variadic) this.fail(n, `va_start used in '${this.fnName}', a function with fixed arguments (no '...')`);
        const np = ft.params!.length;
        if (np === 0) this.fail(n, `va_start in '${this.fnName}', which has no named parameter before '...'`);
        const last = ft.names[np - 1] ?? '';
        const ln = argNodes[1]!;
        if (ln.type !== 'identifier' || ln.text !== last) {
          this.fail(ln, `va_start's second argument must be the last named parameter of '${this.fnName}' ('${last}'), not '${this.text(ln)}'`);
        }
        // The first variable argument: past the count word of the frame's area (varargs.ts).
        const a = g.tmp();
        return { t: VOID, rv: this.V(`(${a} = ${this.jsf(ap.addr)}, ${this.stJs(VA_LIST, true, a, '(fp + fr.fn.frameSize + 8)')}, 0)`), se: true };
      }
      case 'va_arg': {
        const ap = vaLvalue(argNodes[0]!);
        const tn = argNodes[1]!;
        const desc = tn.type === 'cast_expression' ? tn.childForFieldName('type') : null;
        if (!desc) return this.fail(tn, `va_arg: expected a type name, found '${this.text(tn)}'`);
        const base = desc.childForFieldName('type');
        if (base && (base.type === 'primitive_type' || base.type === 'sized_type_specifier') && /\b(double|float)\b/.test(base.text)) {
          this.fail(tn, `va_arg of floating type '${base.text}' is not supported: kernel code does not use the FPU`);
        }
        const pt = this.typeOfDescriptor(desc, this.scope);
        if (pt.k !== 'ptr') return this.fail(tn, `va_arg: expected a type name, found '${this.text(tn)}'`);
        const T = pt.to;
        const tname = typeName(T);
        if (T.k === 'struct' && !T.complete) this.fail(n, `va_arg of incomplete type '${tname}'`);
        if (T.k !== 'int' && T.k !== 'ptr' && T.k !== 'struct') this.fail(n, `va_arg of type '${tname}' is not valid`);
        if (T.k === 'int' && (T.size < 4 || T.bool)) this.fail(n, `va_arg of type '${tname}': '${tname}' is promoted to 'int' when passed through '...' (use va_arg(ap, int))`);
        const o = this.origin(n);
        const where = `va_arg at ${this.tu.pp.files[o.file]!.display}:${o.line}`;
        const st = this.storeTo(VA_LIST, true);
        if (T.k === 'struct') {
          // A struct or union: its bytes are the next words; its value is their address.
          const nw = Math.max(1, Math.ceil(T.size / 8));
          const vaStruct = (a: number): number => {
            const w = mem.readPtr(a);
            vaCheck(mem, m.cThread, w, where);
            vaCheck(mem, m.cThread, w + 8 * (nw - 1), where);
            st(a, w + 8 * nw);
            return w;
          };
          return { t: T, se: true, rv: this.V(`${g.ref(vaStruct)}(${this.jsf(ap.addr)})`) };
        }
        const ld = this.loadFrom(T, true);
        // The argument at the va_list's position, which moves on a word.
        const vaArg = (a: number): Val => {
          const w = mem.readPtr(a);
          vaCheck(mem, m.cThread, w, where);
          const v = ld(w);
          st(a, w + 8);
          return v;
        };
        return { t: T, se: true, rv: this.V(`${g.ref(vaArg)}(${this.jsf(ap.addr)})`) };
      }
      case 'va_copy': {
        const d = vaLvalue(argNodes[0]!);
        const sn = argNodes[1]!;
        const src = this.rvalue(this.expr(sn));
        if (!(src.t.k === 'ptr' && src.t.va)) this.fail(sn, `va_copy: '${this.text(sn)}' is not a va_list (it is '${typeName(src.t)}')`);
        const v = g.tmp(), a = g.tmp();
        return { t: VOID, rv: this.V(`(${v} = ${this.jsv(src)}, ${a} = ${this.jsf(d.addr)}, ${this.stJs(VA_LIST, true, a, v)}, 0)`), se: true };
      }
      default: {
        // va_end: nothing to undo.
        vaLvalue(argNodes[0]!);
        return { t: VOID, rv: this.K(0), se: true };
      }
    }
  }
}

function unreachable(): never {
  throw new KernelPanic('__builtin_unreachable() reached');
}

/** A call by name (calls.ts): the same code for every site, its data per site. */
interface DirectCall {
  m: Machine;
  addr: number;
  /** The C function at addr (null: something else, or one with no code), found on the first call. */
  target: CFunc | null | undefined;
  /** The target's leaf form (codegen.ts leafOf; null: none), found once its step function is made. */
  leaf: Leaf | null | undefined;
  /** The call of the target's pure leaf form (codegen.ts Leaf.pureCall), or notPure. */
  pure: PureCall;
  /** The arguments of a call from the form without a debugger (callLeaf): copied for anything that keeps them. */
  args: number[];
  /** Some argument is 64-bit (may be a BigInt). */
  has64: boolean;
  /** The temp awaiting the value, or -1 (void). */
  slot: number;
  /** The general call (a debugger attached, or not a C function). */
  invoke: (fr: CFrame, t: KThread, f: number, args: number[]) => number;
}

/**
 * A call by name: when the name is a C function of the program and no debugger is attached,
 * what invoke and m.callFunction come to is pushing its frame (m.hooks.callC).
 */
function callDirect(d: DirectCall, fr: CFrame, t: KThread, args: number[]): number {
  const m = d.m;
  let target = d.target;
  if (target === undefined) {
    const s = m.sym.atAddr(d.addr);
    target = d.target = s !== undefined && s.kind === 'c' && s.cfunc !== undefined && m.hooks.callC !== undefined ? compiled(s.cfunc as CFunc) : null;
  }
  if (target === null || m.policy !== null) return d.invoke(fr, t, d.addr, args);
  const cf = cFrame(m, t, target, args, d.has64);
  t.stack.push(cf);
  if (m.sink) {
    cf.traced = true;
    m.entry(t, target.name);
  }
  if (d.slot >= 0) fr.wait = d.slot;
  return YIELD;
}

/** What a leaf callee's form reports (codegen.ts Leaf): its cycles, and the pc of its fault; the calls made so (leafCalls). */
const LEAF_OUT = { used: 0, pc: 0, calls: 0, pure: 0, inlined: 0 };
/** How many calls in this process ran their callee without a frame object through callLeaf (for tests). */
export function leafCalls(): number {
  return LEAF_OUT.calls;
}
/** How many ran a pure leaf's own call (Leaf.pureCall) or its body in the caller's text (Leaf.inline), for tests. */
export function pureCalls(): number {
  return LEAF_OUT.pure;
}
/** How many of those ran the pure leaf's body in the caller's text (Leaf.inline, for tests). */
export function inlinedCalls(): number {
  return LEAF_OUT.inlined;
}

/**
 * A call by name from a step without a debugger (codegen.ts buildStep, the `leaf` form of the
 * call): when its callee has a leaf form (codegen.ts Leaf) and the call would run it inline to its
 * end anyway (runtime.ts runCalleeInline: the machine allows it, the budget holds all of its
 * statements), it runs the callee without a frame object or a trip
 * through the callee's step, with the same effects: the caller's step is charged `spent`, the
 * callee's frame is made in the stack's memory as cFrame makes it (the pattern, the parameters)
 * and holds its locals when it returns (::findleaks scans dead frames), its cycles are charged
 * as its step's, the value is delivered as cReturn delivers it. A fault in the callee puts its
 * frame on the thread's stack at the faulting pc, as its step would have left it. Anything
 * else: callDirect.
 */
function callLeaf(d: DirectCall, fr: CFrame, t: KThread, args: number[], spent: number, budget: number): number {
  const m = d.m;
  const lf = d.leaf;
  if (lf == null || m.policy !== null || spent >= budget || spent + lf.max > m.budget || !m.mayRunInline(t, spent)) return lf === undefined ? leafFirst(d, fr, t, args) : callDirect(d, fr, t, args.slice());
  const fn = d.target!;
  const sp0 = t.sp;
  const fp = framePointer(t, fn, args.length);
  if (fp < t.stackBase) return callDirect(d, fr, t, args.slice());
  // Its entry event, as callDirect records it (the caller's cycle: codegen.ts CYCLE).
  const ev = m.sink !== null;
  if (ev) m.entry(t, fn.name);
  m.chargeStep(spent);
  LEAF_OUT.calls++;
  let v: Val;
  try {
    v = lf.run(m, t, fn, fp, LEAF_OUT, args) as Val;
  } catch (e) {
    return leafFault(d, fr, t, args, fp, sp0, e);
  }
  // cReturn: its return event at the callee's cycle, the value to the caller.
  if (ev) {
    m.phaseUsed = LEAF_OUT.used > 0 ? LEAF_OUT.used - 1 : 0;
    m.exit(t, fn.name);
  }
  if (d.slot >= 0) fr.tmp[d.slot] = v;
  t.retval = v as number;
  const u = LEAF_OUT.used === 0 ? 1 : LEAF_OUT.used;
  if (u < m.budget && m.mayRunInline(t, u)) {
    m.chargeStep(u);
    return LEAF_GO;
  }
  return LEAF_STOP - u;
}

/**
 * A call by name from a step without a debugger, before callLeaf (codegen.ts buildStep): -1
 * until the site's callee is known to have a pure leaf form (codegen.ts Leaf), then the leaf's
 * own call (Leaf.pureCall): its body cannot change anything mayRunInline reads, nor the caller's
 * frame, and its cycles are known, so the checks callLeaf makes before and after it are made at
 * once, as both would answer, and the caller keeps its words in its variables across the call
 * (nothing can read or write them in between). -1 from it: the caller calls callLeaf, which
 * decides as before.
 */
function notPure(): number {
  return -1;
}

/** The most instructions a callee has for a caller's step to have its step made (inlineLeaf). */
const MAX_INLINE_INS = 8;

/**
 * The pure leaf form of a site's callee when the caller's step is made (codegen.ts buildStep),
 * for the caller to run its body in its own text (Leaf.inline): its target found as callDirect
 * finds it, its step made first when it is small and straight-line (what a pure leaf is), null
 * otherwise. The same site runs the same target on every call (callDirect keeps it).
 */
function inlineLeaf(d: DirectCall): Leaf | null {
  if (d.target === undefined) {
    const s = d.m.sym.atAddr(d.addr);
    d.target = s !== undefined && s.kind === 'c' && s.cfunc !== undefined && d.m.hooks.callC !== undefined ? s.cfunc as CFunc : null;
  }
  const fn = d.target;
  // A warm load's function not compiled yet (compiled.ts PendingFunc) has no make: it is left to compile on its first call.
  if (fn === null || fn.make === undefined || fn.va >= 0 || fn.ntemps !== 0 || fn.code.length > MAX_INLINE_INS || !fn.code.every((x) => x.k === 'stmt' || (x.k === 'ins' && x.ret === true))) return null;
  const lf = leafOf(fn.make());
  return lf != null && lf.inline !== undefined && lf.nparams === d.args.length ? lf : null;
}

/** A site's first calls (callLeaf): its target, then its target's leaf form once its step function is made (stmt.ts). */
function leafFirst(d: DirectCall, fr: CFrame, t: KThread, args: number[]): number {
  if (d.target !== undefined) {
    if (d.target === null || d.target.va >= 0) d.leaf = null;
    else d.leaf = leafOf(d.target.run as StepFn);
    const lf = d.leaf;
    // A site with as many arguments as the leaf has parameters (its fault path's frame keeps the site's arguments).
    if (lf != null && lf.pureCall !== undefined && lf.nparams === d.args.length) d.pure = (lf.call ??= lf.pureCall(LEAF_OUT, leafFault as PureFault));
  }
  return callDirect(d, fr, t, args.slice());
}

/** A fault in a leaf callee (callLeaf): its frame on the stack at the faulting instruction, as its step leaves it. */
function leafFault(d: DirectCall, fr: CFrame, t: KThread, args: number[], fp: number, sp0: number, e: unknown): number {
  const cf = frameObject(d.target!, fp, sp0, args.slice(), d.has64);
  cf.pc = LEAF_OUT.pc;
  cf.traced = d.m.sink !== null;
  t.sp = fp;
  t.stack.push(cf);
  if (d.slot >= 0) fr.wait = d.slot;
  d.m.dataStop = false;
  setLeafFault(e);
  return LEAF_FAULT;
}
