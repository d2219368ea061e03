/**
 * The illumos kernel's printf formatting (cmn_err, panic, vsnprintf, snprintf, sprintf), with
 * the behaviour of its common/util vsnprintf:
 *
 * - flags: `-` (left-align) and `0` (zero padding, before any `.`); no `#`, `+` or space;
 *   a field width and a `.precision`, either of which may be `*` (taken from an int argument);
 * - length: any number of `h` (one: short, more: char) and `l` (one: long, more: 64-bit);
 *   with neither the argument is an int; `z`, `j`, `t`, `q` and `L` are not modifiers;
 * - conversions `d` (signed), `u`, `x`, `o`, `p` (64-bit hex, no 0x), `b` (bits named by a
 *   second argument: `<base><bit>NAME...`), `c`, `s` (NULL prints `<null string>`), `%`;
 *   an upper-case letter is the lower-case conversion with upper-case digits (`%X`, `%D`);
 * - any other character ends the conversion and prints nothing (`%i` and `%#x` print `x`
 *   after nothing: the `#` ends it), consuming no argument;
 * - a negative value prints `-` and its magnitude, the precision pads digits with zeros, the
 *   width pads the whole with the pad character (the sign goes first when it pads with zeros).
 */
import type { Val } from '../cinterp/types';

/** Where a conversion's argument comes from: the next argument word read as an integer or a pointer. */
export interface FormatArgs {
  /** The next argument as an unsigned 64-bit word (an int is sign-extended). */
  word(): bigint;
  /** The next argument as a pointer (an internal address, for %s and %b's string). */
  ptr(): number;
}

/** Formats `fmt` as the illumos kernel's vsnprintf does; `str` reads a C string. */
export function kprintf(fmt: string, args: FormatArgs, str: (p: number) => string): string {
  let out = '';
  let i = 0;
  while (i < fmt.length) {
    let c = fmt[i++]!;
    if (c !== '%') {
      out += c;
      continue;
    }
    let width = 0;
    let prec = 0;
    let left = false;
    let pad = ' ';
    let hs = 0;
    let ls = 0;
    let dots = 0;
    let upper = false;
    let base = 0;
    let sign = false;
    for (;;) {
      if (i >= fmt.length) return out;
      c = fmt[i++]!;
      if (c >= 'A' && c <= 'Z') {
        c = c.toLowerCase();
        upper = true;
      }
      if (c === '-') {
        left = true;
        continue;
      }
      if (c >= '0' && c <= '9') {
        if (c === '0' && dots === 0) pad = '0';
        let num = c.charCodeAt(0) - 48;
        while (i < fmt.length && fmt[i]! >= '0' && fmt[i]! <= '9') num = 10 * num + fmt.charCodeAt(i++) - 48;
        if (dots > 0) prec = num;
        else width = num;
        continue;
      }
      if (c === '.') {
        dots++;
        continue;
      }
      if (c === '*') {
        const v = Number(BigInt.asIntN(32, args.word()));
        if (dots > 0) prec = v;
        else width = v;
        continue;
      }
      if (c === 'l') {
        ls++;
        continue;
      }
      if (c === 'h') {
        hs++;
        continue;
      }
      break;
    }
    switch (c) {
      case 'd':
        sign = true;
        base = 10;
        break;
      case 'u':
        base = 10;
        break;
      case 'p':
        ls = 1;
        base = 16;
        break;
      case 'x':
        base = 16;
        break;
      case 'o':
        base = 8;
        break;
      case 'b':
        ls = 0;
        base = 1;
        break;
      case 'c':
        out += String.fromCharCode(Number(args.word() & 0xffn));
        break;
      case 's': {
        const p = args.ptr();
        let s: string;
        if (p === 0) {
          s = '<null string>';
          prec = s.length;
        } else s = str(p);
        if (prec === 0 && width === 0) {
          out += s;
          break;
        }
        if (prec > 0) {
          if (s.length > prec) s = s.slice(0, prec);
          if (prec > width) width = prec;
        }
        const n = Math.max(0, width - s.length);
        out += left ? s + ' '.repeat(n) : ' '.repeat(n) + s;
        break;
      }
      case '%':
        out += '%';
        break;
    }
    if (base === 0) continue;
    const w = args.word();
    let v: bigint;
    if (hs === 0 && ls === 0) v = sign ? BigInt.asIntN(32, w) : BigInt.asUintN(32, w);
    else if (ls > 0) v = sign ? BigInt.asIntN(64, w) : BigInt.asUintN(64, w);
    else if (hs > 1) v = sign ? BigInt.asIntN(8, w) : BigInt.asUintN(8, w);
    else v = sign ? BigInt.asIntN(16, w) : BigInt.asUintN(16, w);
    let neg = false;
    if (sign && v < 0n) {
      neg = true;
      v = -v;
    }
    let bits = '';
    if (c === 'b') {
      // The second argument names the base and the bits: "\020\1ONE\2TWO" (bit numbers from 1).
      bits = str(args.ptr());
      base = bits.charCodeAt(0) || 10;
      bits = bits.slice(1);
    }
    let digits = v.toString(base);
    if (upper) digits = digits.toUpperCase();
    if (prec >= digits.length) width -= prec;
    else width -= digits.length;
    if (neg) width -= 1;
    if (neg && pad === '0') out += '-';
    if (!left && width > 0) out += pad.repeat(width);
    if (neg && pad !== '0') out += '-';
    if (prec > digits.length) out += '0'.repeat(prec - digits.length);
    out += digits;
    if (left && width > 0) out += ' '.repeat(width);
    if (c === 'b' && v !== 0n) {
      let any = false;
      let k = 0;
      while (k < bits.length) {
        const bit = bits.charCodeAt(k++);
        let name = '';
        while (k < bits.length && bits.charCodeAt(k) >= 32) name += bits[k++];
        // The kernel tests the bit with an int shift: bits past 32 wrap as the shift does.
        if ((Number(BigInt.asUintN(32, v)) & (1 << ((bit - 1) & 31))) !== 0) {
          out += (any ? ',' : '<') + name;
          any = true;
        }
      }
      if (any) out += '>';
    }
  }
  return out;
}

/** FormatArgs over argument words passed to a native (pointers tagged by `isPtr`). */
export function wordArgs(words: readonly Val[], isPtr: (k: number) => boolean, toInt: (p: number) => Val, toPtr: (v: Val) => number): FormatArgs {
  let k = 0;
  return {
    word(): bigint {
      const i = k++;
      const v = words[i] ?? 0;
      return BigInt.asUintN(64, BigInt(isPtr(i) ? toInt(v as number) : v));
    },
    ptr(): number {
      const i = k++;
      const v = words[i] ?? 0;
      return isPtr(i) ? (v as number) : toPtr(v);
    },
  };
}
