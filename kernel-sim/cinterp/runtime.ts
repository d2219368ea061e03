/**
 * What compiled C calls at run time (generated code and the functions derived from it): the running thread,
 * watchpoint hits, statement stops, bit-field access, 64-bit memory helpers, string literals.
 */
import { KernelPanic, type Machine } from '../machine/machine';
import { MemoryFault } from '../machine/memory';
import { KMEM_UNINITIALIZED_PATTERN } from '../machine/kmem';
import type { KThread } from '../machine/thread';
import { type IntType, type Val, convInt, divideError, intToPtr, toWord } from './types';
import type { CFrame, CFunc } from './program';
import { vaAreaBytes, writeVaArea } from './varargs';


/**
 * A stop point raised by an instruction (a call's 'function' point, a hazard in a kernel
 * function it called) unwinds to the frame with nothing done at that instruction. When the
 * current statement began in this step, its cycle was already counted: the step gives it back
 * (the run before the stop uses exactly the cycles an unstopped run used before the statement,
 * so the budget, the slice and the schedule stay the same) and the frame owes it; the resumed
 * step counts it without checking the statement again, so the first check it makes is the one
 * that stopped (which `skipStopOnce` or the debugger's re-check skips). A step that gives back
 * its only cycle used none: the signal goes on to the run loop.
 */
export function stoppedInStatement(fr: CFrame, used: number, e: unknown): number {
  if (used === 0) throw e;
  fr.owed = true;
  if (used === 1) throw e;
  return used - 1;
}

const EMPTY: Val[] = [];

/**
 * A frame's temps, all 0, in an array of V8's generic elements kind from the start. A temp holds
 * a number or a BigInt (a callee's 64-bit value, cReturn); an array made of small integers would
 * change its kind at the first double or BigInt stored in it, and which change it makes depends
 * on the value: code optimized on one program's values (a double) would deoptimize on the next
 * program's (a BigInt), in the middle of its first run. `slice` keeps the template's kind.
 */
const ZEROS: Val[] = ((): Val[] => {
  const a: Val[] = new Array<Val>(64).fill(0n);
  return a.fill(0);
})();
function temps(n: number): Val[] {
  if (n <= ZEROS.length) return ZEROS.slice(0, n);
  const a: Val[] = new Array<Val>(n).fill(0n);
  return a.fill(0);
}

/**
 * A new frame running C function fn with the argument words args on thread t (the machine's
 * callC hook, and calls by name: calls.ts). `mayBeBig`: some argument may be a BigInt (a 64-bit
 * value), shown as its word among the frame's arguments.
 */
export function cFrame(m: Machine, t: KThread, fn: CFunc, args: number[], mayBeBig: boolean): CFrame {
  const sp0 = t.sp;
  const fp = framePointer(t, fn, args.length);
  if (fp < t.stackBase) {
    // On x86 the push past the stack's guard page faults again in the fault handler: a double fault.
    throw new KernelPanic(`BAD TRAP: type=8 (#df Double fault) rp=0 addr=0: kernel stack overflow: thread ${m.sym.format(t.addr)} (${t.name}) overflowed its ${t.stackSize}-byte stack calling ${fn.name}() (a ${fn.frameSize}-byte frame)`);
  }
  // A new frame holds whatever was on the stack: the uninitialized pattern, like kmem's.
  if (fn.frameSize) m.mem.fillPattern32(fp, fn.frameSize, KMEM_UNINITIALIZED_PATTERN);
  t.sp = fp;
  // A scenario thread's entry gets the scenario's "arg", an integer: (void *)(uintptr_t)arg.
  const scenarioEntry = t.role === 'scenario' && t.stack.length === 1 && t.stack[0]!.kind === 'thread_start';
  if (scenarioEntry && fn.type.params?.[0]?.k === 'ptr') args = [intToPtr(args[0] ?? 0)];
  const fr = frameObject(fn, fp, sp0, args, mayBeBig);
  fn.bind(fr, args as Val[]);
  if (fn.va >= 0) writeVaArea(m.mem, fp + fn.frameSize, args, fn.va);
  return fr;
}

/** Where a new frame of fn with nargs arguments starts, below t.sp (below t.stackBase: the stack overflows). */
export function framePointer(t: KThread, fn: CFunc, nargs: number): number {
  // A variadic function's frame also holds its variable arguments, above its locals (varargs.ts).
  const va = fn.va;
  return Math.floor((t.sp - fn.frameSize - (va < 0 ? 0 : vaAreaBytes(Math.max(0, nargs - va))) - 16) / 16) * 16;
}

/** The frame object of fn at fp (cFrame; a leaf call's when its callee faults: calls.ts callLeaf). */
export function frameObject(fn: CFunc, fp: number, sp0: number, args: number[], mayBeBig: boolean): CFrame {
  return {
    kind: 'c', pc: 0, fn, fp, sp0,
    tmp: fn.ntemps ? temps(fn.ntemps) : EMPTY,
    args: args.length <= 6 && !(mayBeBig && hasBig(args)) ? args : args.slice(0, 6).map((a) => toWord(a as Val)),
    wait: -1,
    traced: false,
    owed: false,
  };
}

/**
 * A call by name run without a frame object (calls.ts callLeaf), as the caller's instruction's
 * value: the caller goes on at its next instruction (its step charged, as after a callee run
 * inline), or throws the callee's fault (takeLeafFault) from there, or its step ends there
 * having used u cycles (LEAF_STOP - u).
 */
export const LEAF_GO = -3;
export const LEAF_FAULT = -4;
export const LEAF_STOP = -5;
let leafFault: unknown;
/** Sets the fault a leaf callee raised (its frame already on the stack). */
export function setLeafFault(e: unknown): void {
  leafFault = e;
}
/** The fault a leaf callee raised (LEAF_FAULT). */
export function takeLeafFault(): unknown {
  const e = leafFault;
  leafFault = undefined;
  return e;
}

function hasBig(args: unknown[]): boolean {
  for (let i = 0; i < args.length; i++) if (typeof args[i] === 'bigint') return true;
  return false;
}

/**
 * After an instruction of frame fr pushed a C callee (its frame right above fr), fr's step having
 * used `spent` cycles of its `budget`: when run() would make the callee's step next anyway
 * (Machine.mayRunInline), ends fr's step here (charged as run() charges it) and runs the
 * callee's step inline, so a call costs no trip through the run loop. Returns:
 *  - -1: nothing done; fr's step returns as usual;
 *  - >= 0: the callee returned and fr is on top again, its next step may go on at once (charged
 *    as well): the budget it has;
 *  - -2 - u: the callee's step used u cycles and did not end so: fr's step returns u.
 */
export function runCalleeInline(m: Machine, t: KThread, fr: CFrame, spent: number, budget: number): number {
  if (spent >= budget || !m.mayRunInline(t, spent)) return -1;
  const top = t.stack[t.stack.length - 1] as CFrame;
  if (top.kind !== 'c' || t.stack[t.stack.length - 2] !== fr || top.fn.run === undefined) return -1;
  // The machine's budget is the truth: steps run inline inside the callee's charged their own.
  const u = top.fn.run(m, t, top, m.chargeStep(spent));
  if (t.stack[t.stack.length - 1] === fr && u < m.budget && m.mayRunInline(t, u)) return m.chargeStep(u);
  return -2 - u;
}

/** A bit-field's position in its storage unit (a unit of its declared type). */
export type BitField = { width: number; shift: number };

/** The type a bit-field's storage unit is loaded and stored as: unsigned, of the declared size. */
export function bitUnitType(t: IntType): IntType {
  let u = unitTypes.get(t);
  if (u === undefined) unitTypes.set(t, (u = { ...t, signed: false, bool: false }));
  return u;
}
const unitTypes = new WeakMap<IntType, IntType>();

/**
 * A bit-field's value from its storage unit: the field's bits, sign-extended when the declared
 * type is signed (`int bf : 5` holding 11100 is -4), as the value of the declared type.
 */
export function bitGet(unit: Val, t: IntType, bits: BitField): Val {
  const { width, shift } = bits;
  if (width === 0) return 0;
  let v = (BigInt(unit) >> BigInt(shift)) & ((1n << BigInt(width)) - 1n);
  if (t.bool) return v !== 0n ? 1 : 0;
  if (t.signed && (v >> BigInt(width - 1)) & 1n) v -= 1n << BigInt(width);
  return convInt(v, t);
}

/** The storage unit with the bit-field set to (the low `width` bits of) v. */
export function bitPut(unit: Val, v: Val, t: IntType, bits: BitField): Val {
  const mask = ((1n << BigInt(bits.width)) - 1n) << BigInt(bits.shift);
  const x = t.bool ? (v !== 0 && v !== 0n ? 1n : 0n) : BigInt(v);
  return convInt((BigInt(unit) & ~mask) | ((x << BigInt(bits.shift)) & mask), bitUnitType(t));
}

/** Helpers the generated code calls (codegen.ts). */
export function fault(a: number, n: number, w: boolean): never {
  throw new MemoryFault(a, n, w);
}
export function rd64u(dv: DataView, a: number): Val {
  const lo = dv.getUint32(a, true);
  const hi = dv.getUint32(a + 4, true);
  if (hi < 2097152) return hi * 4294967296 + lo;
  return (BigInt(hi) << 32n) + BigInt(lo);
}
export function rd64s(dv: DataView, a: number): Val {
  const lo = dv.getUint32(a, true);
  const hi = dv.getInt32(a + 4, true);
  if (hi > -2097152 && hi < 2097152) return hi * 4294967296 + lo;
  return join64(hi, lo, true); // canonical: a number down to -(2^53 - 1)
}
export function wr64big(dv: DataView, a: number, v: Val): void {
  dv.setBigUint64(a, BigInt.asUintN(64, BigInt(v)), true);
}

/**
 * A C store straight into the memory's arrays, with a watchpoint armed: ask the debugger (the
 * stop comes after the write). Stores through the memory's methods (writePtr, copy) are
 * reported by the memory itself (Machine.setWatchpoints).
 */
export function watchHit(m: Machine, a: number, size: number): void {
  m.watchStore(a, size);
}

export function decodeString(lit: string): string {
  const body = lit.slice(1, -1);
  let s = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      s += c;
      continue;
    }
    const e = body[++i]!;
    switch (e) {
      case 'n': s += '\n'; break;
      case 't': s += '\t'; break;
      case 'r': s += '\r'; break;
      case 'a': s += '\x07'; break;
      case 'b': s += '\b'; break;
      case 'f': s += '\f'; break;
      case 'v': s += '\v'; break;
      case 'e': s += '\x1b'; break;
      case 'x': {
        let h = '';
        while (/[0-9a-fA-F]/.test(body[i + 1] ?? '')) h += body[++i];
        s += String.fromCharCode(parseInt(h || '0', 16) & 0xff);
        break;
      }
      default:
        if (/[0-7]/.test(e)) {
          let o = e;
          while (o.length < 3 && /[0-7]/.test(body[i + 1] ?? '')) o += body[++i];
          s += String.fromCharCode(parseInt(o, 8) & 0xff);
        } else s += e;
    }
  }
  return s;
}

// ---------------------------------------------------------------- 64-bit values as two words
// The generated code computes 64-bit integer operators on two 32-bit words (hi and lo, both as
// int32), exactly, with no BigInt: emit.ts pairJs/joinJs, operators.ts. These are its helpers.

/** The high word (int32) of a 64-bit BigInt value. */
export function hiOfBig(v: bigint): number {
  return Number(BigInt.asIntN(32, v >> 32n));
}
/** The low word (as int32) of a 64-bit BigInt value. */
export function loOfBig(v: bigint): number {
  return Number(BigInt.asIntN(32, v));
}
/** The value of the words (l's bits as int32 or uint32), canonical (a number when it is within ±(2^53 - 1)); signed or unsigned. */
export function join64(h: number, l0: number, s: boolean): Val {
  const hi = s ? h | 0 : h >>> 0;
  const l = l0 >>> 0;
  if (hi >= -2097152 && hi <= 2097151) {
    const v = hi * 4294967296 + l;
    if (v >= -9007199254740991) return v;
  }
  return (BigInt(hi) << 32n) + BigInt(l);
}

/** 32-bit division and remainder as the generated code calls them: idiv traps on a zero divisor and on INT_MIN / -1 (and %). */
export function div32(x: number, d: number, s: boolean, rem: boolean): number {
  if (d === 0) throw divideError();
  if (s) {
    if (d === -1 && x === -2147483648) throw divideError(true);
    return rem ? (x % d) | 0 : (x / d) | 0;
  }
  return rem ? (x % d) >>> 0 : Math.floor(x / d) >>> 0;
}

/** The n (1 to 8) bytes at a as an unsigned little-endian word (a struct's bytes passed through `...`). */
export function structWord(mem: { u8: Uint8Array }, a: number, n: number): Val {
  const b = mem.u8;
  let lo = 0, hi = 0;
  for (let i = 0; i < n; i++) {
    if (i < 4) lo += b[a + i]! * 2 ** (8 * i);
    else hi += b[a + i]! * 2 ** (8 * (i - 4));
  }
  return join64(hi, lo, false);
}
