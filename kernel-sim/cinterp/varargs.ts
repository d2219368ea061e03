/**
 * Variable arguments: functions defined with `...`, `<sys/varargs.h>` / `<stdarg.h>`, and the
 * kernel's `v*` functions (vcmn_err, vsnprintf, vsprintf, vpanic) that take a `va_list`.
 *
 * The model, in simulated memory, close enough to amd64 for what drivers do:
 *
 * - A call passes its arguments as words, named and variable alike; arguments past the named
 *   parameters get the default argument promotions (char, short and _Bool to int; there are no
 *   floating types). The caller tags each argument word as a pointer or an integer (`vaPtr` on
 *   the argument array; compile.ts), as the register would hold it.
 * - A variadic C function's frame has a *variable-argument area* just above its locals
 *   (`fp + frameSize`): one word with the count of variable arguments, then one 8-byte word per
 *   variable argument (pointers in their kernel form, integers sign- or zero-extended to 64 bits,
 *   as a register holds them). Like amd64's register save area, it is part of the callee's frame.
 *   A struct or union passed through `...` takes as many words as its bytes fill (amd64 passes
 *   it by value too); `va_arg(ap, struct S)` is the address of those bytes, and moves on past them.
 * - `va_list` (`__va_list`, `__builtin_va_list`) is a pointer to the next word of that area.
 *   `va_start(ap, last)` points it at the first word, `va_arg(ap, T)` reads the word (the low 4
 *   bytes for a 4-byte T) and advances it by 8, `va_copy(d, s)` copies the pointer, `va_end` does
 *   nothing. Passing `ap` to a function passes the pointer: the callee reads the caller's words.
 *   The debugger shows `ap` as a pointer, with the argument it points at (debug.ts).
 * - `va_arg` (and the formats of the v* functions) may read only the words that were passed:
 *   reading past the last one, or through a va_list that points into no running variadic
 *   function of the thread (never started, or its function returned), panics with what it read
 *   and where, instead of reading the garbage a real kernel would.
 *
 * Not supported (load-time errors at file:line): `va_arg` of an incomplete type, of a floating
 * type, of a type narrower than int (it was promoted: gcc makes that a trap),
 * `va_start` whose second argument is not the last named parameter, `va_start` in a function
 * without `...`, and the va_* macros in a debugger expression.
 */
import { KernelPanic, type Frame } from '../machine/machine';
import { formatAddr, type Memory } from '../machine/memory';
import type { KThread } from '../machine/thread';

/** An argument array tagged by a call through a variadic prototype: which words are pointers. */
export type VaArgs = number[] & { vaPtr?: readonly boolean[] };

/** Bytes of the variable-argument area for n words (the count word, the words, 16-aligned). */
export function vaAreaBytes(n: number): number {
  return Math.ceil((8 + 8 * n) / 16) * 16;
}

/** Writes the variable-argument area at `base`: the count, then args[named..] as words. */
export function writeVaArea(mem: Memory, base: number, args: VaArgs, named: number): void {
  const n = Math.max(0, args.length - named);
  const dv = mem.dv;
  dv.setUint32(base, n, true);
  dv.setUint32(base + 4, 0, true);
  const vp = args.vaPtr;
  for (let k = 0; k < n; k++) {
    const a = base + 8 + 8 * k;
    const v = args[named + k] as number | bigint;
    if (vp !== undefined && vp[named + k] === true) mem.writePtr(a, v as number);
    else if (typeof v === 'number') {
      const hi = Math.floor(v / 4294967296);
      dv.setUint32(a, (v - hi * 4294967296) >>> 0, true);
      dv.setInt32(a + 4, hi | 0, true);
    } else dv.setBigUint64(a, BigInt.asUintN(64, v), true);
  }
  // The rest of the last 16 bytes (alignment padding): zero, so a frame dump is stable.
  const end = base + 8 + 8 * n;
  if ((end & 15) !== 0) {
    dv.setUint32(end, 0, true);
    dv.setUint32(end + 4, 0, true);
  }
}

/** The variable arguments of one running call: its function, first word and count. */
export interface VaArea {
  fn: string;
  first: number;
  n: number;
}

interface VaFrame extends Frame {
  fp: number;
  sp0: number;
  fn: { name: string; va: number; frameSize: number };
}

/** The variable-argument area of a C frame, or undefined when its function is not variadic. */
export function frameVaArea(mem: Memory, f: Frame): VaArea | undefined {
  if (f.kind !== 'c') return undefined;
  const fr = f as VaFrame;
  if (!(fr.fn.va >= 0)) return undefined;
  const base = fr.fp + fr.fn.frameSize;
  // The count is frame data a wild store could change: never trust it past the frame's top.
  const room = Math.max(0, Math.floor((fr.sp0 - 16 - base - 8) / 8));
  return { fn: fr.fn.name, first: base + 8, n: Math.min(mem.dv.getUint32(base, true), room) };
}

/** The running call on t whose variable arguments contain p (one word past the last included). */
export function findVaArea(mem: Memory, t: KThread | null | undefined, p: number): VaArea | undefined {
  if (!t) return undefined;
  const st = t.stack;
  for (let i = st.length - 1; i >= 0; i--) {
    const a = frameVaArea(mem, st[i]!);
    if (a && p >= a.first && p <= a.first + 8 * a.n) return a;
  }
  return undefined;
}

function ordinal(k: number): string {
  const s = k % 100 >= 11 && k % 100 <= 13 ? 'th' : k % 10 === 1 ? 'st' : k % 10 === 2 ? 'nd' : k % 10 === 3 ? 'rd' : 'th';
  return `${k}${s}`;
}

/**
 * Checks that the word at p is a variable argument passed to a running call on t; panics
 * otherwise. `what` names the reader (`va_arg at drv.c:12`, `vcmn_err("%d %s")`).
 */
export function vaCheck(mem: Memory, t: KThread | null | undefined, p: number, what: string): void {
  const a = findVaArea(mem, t, p);
  if (a === undefined || (p - a.first) % 8 !== 0) {
    throw new KernelPanic(`${what}: the va_list does not point at the variable arguments of a function running on this thread (not set by va_start or va_copy, or that function has returned): ap = ${p === 0 ? 'NULL' : formatAddr(p)}`);
  }
  const k = (p - a.first) / 8;
  if (k >= a.n) {
    throw new KernelPanic(`${what}: reads a ${ordinal(k + 1)} variable argument, but ${a.fn}() was passed ${a.n === 0 ? 'none' : a.n === 1 ? 'only 1' : `only ${a.n}`}`);
  }
}

/** The macros of <sys/varargs.h> / <stdarg.h> (a use without the header gets a hint). */
export const VA_MACROS = new Set(['va_start', 'va_arg', 'va_copy', 'va_end', '__va_copy', '__va_start', '__va_arg', '__va_end']);
/** The builtins they expand to, with their argument counts. */
export const VA_BUILTINS = new Map([['__builtin_va_start', 2], ['__builtin_va_arg', 2], ['__builtin_va_copy', 2], ['__builtin_va_end', 1]]);
