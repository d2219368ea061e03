/**
 * The kernel's memory and string functions (<sys/systm.h>, <sys/sunddi.h>): bzero, bcopy,
 * ovbcopy, the mem* and str* families, bcmp, and the copy-in/out family. Linked on first use, as
 * KAPI_VARARGS, so no address of a driver that does not call them moves; with a kernel tree its
 * headers declare them and these are what the declarations link against (never an auto stub).
 *
 * Semantics as illumos's (facts from usr/src/uts/intel/ia32/ml/copy.s, i86_subr.s, ovbcopy.s,
 * usr/src/common/util/string.c, memstr.c, bcmp.c, uts/common/os/sunddi.c):
 * - bcopy copies forward and is not overlap-safe (ovbcopy is; memmove is ovbcopy, memcpy is
 *   bcopy with the arguments swapped). An overlapping bcopy to a higher address repeats the
 *   source as a forward copy does.
 * - memset with a zero byte is bzero; memcmp, strcmp and strncmp return the difference of the
 *   first differing bytes as unsigned chars (not only its sign); bcmp returns 0 or 1.
 * - On a DEBUG kernel bzero, bcopy (with a non-zero count) and strlen panic on an argument below
 *   kernelbase (here: the unmapped page at 0, where NULL and small integers point), with the
 *   kernel's messages; otherwise a bad address is a page fault, the kernel's BAD TRAP at the first
 *   byte that is not mapped.
 * - kctx has no user address space: copyin/copyout (and ddi_copyin/ddi_copyout) copy within the
 *   one address space; a fault returns -1 as their lofault handler does (kcopy returns EFAULT).
 */
import { KernelPanic, type Machine } from '../machine/machine';
import { MemoryFault, NULL_GUARD } from '../machine/memory';
import type { KapiEntry } from './kapi';

const EFAULT = 14;

/**
 * Faults as a load or store of [a, a+n) would: at the first byte that is not mapped. A store is
 * reported to the memory's watch (data breakpoints: the stop comes after the call, as after a C
 * store); every caller writes what it touched for writing, or faults before.
 */
function touch(m: Machine, a: number, n: number, write: boolean): void {
  if (n <= 0) return;
  if (!m.mem.isMapped(a, n)) throw new MemoryFault(a < NULL_GUARD || a >= m.mem.top ? a : m.mem.top, 1, write);
  if (write) m.mem.stored(a, n);
}

/** A DEBUG kernel's check that an argument is a kernel address. */
function belowKernelbase(m: Machine, msg: string, ...addrs: number[]): void {
  if (m.cfg.debug && addrs.some((a) => a < NULL_GUARD)) throw new KernelPanic(msg);
}

function byte(m: Machine, a: number): number {
  touch(m, a, 1, false);
  return m.mem.u8[a]!;
}

/** Length of the string at a (its bytes are read one by one: a fault comes at the first unmapped one). */
function cstrlen(m: Machine, a: number, max = Infinity): number {
  let n = 0;
  while (n < max && byte(m, a + n) !== 0) n++;
  return n;
}

function bzero(m: Machine, a: number, n: number): void {
  belowKernelbase(m, 'bzero: arguments below kernelbase', a);
  touch(m, a, n, true);
  if (n > 0) m.mem.u8.fill(0, a, a + n);
}

function bcopy(m: Machine, from: number, to: number, n: number): void {
  if (n === 0) return;
  belowKernelbase(m, 'bcopy: arguments below kernelbase', from, to);
  touch(m, from, n, false);
  touch(m, to, n, true);
  const u8 = m.mem.u8;
  if (to > from && to < from + n) for (let i = 0; i < n; i++) u8[to + i] = u8[from + i]!;
  else u8.copyWithin(to, from, from + n);
}

function ovbcopy(m: Machine, from: number, to: number, n: number): void {
  touch(m, from, n, false);
  touch(m, to, n, true);
  if (n > 0) m.mem.u8.copyWithin(to, from, from + n);
}

/** The first differing bytes' difference over n bytes (at a NUL too when `str`), as illumos's memcmp/strncmp. */
function compare(m: Machine, s1: number, s2: number, n: number, str: boolean): number {
  if (s1 === s2) return 0;
  for (let i = 0; i < n; i++) {
    const a = byte(m, s1 + i);
    const b = byte(m, s2 + i);
    if (a !== b) return a - b;
    if (str && a === 0) return 0;
  }
  return 0;
}

const memcmp = (m: Machine, s1: number, s2: number, n: number): number => compare(m, s1, s2, n, false);
const strncmp = (m: Machine, s1: number, s2: number, n: number): number => compare(m, s1, s2, n, true);

/** Copies the string at src with its NUL to dst; returns its length. */
function putString(m: Machine, dst: number, src: number, len: number): void {
  touch(m, dst, len + 1, true);
  m.mem.u8.copyWithin(dst, src, src + len);
  m.mem.u8[dst + len] = 0;
}

/** Copy with a lofault handler: true when it faulted (nothing is panicked). */
function faultingCopy(m: Machine, from: number, to: number, n: number): boolean {
  try {
    touch(m, from, n, false);
    touch(m, to, n, true);
  } catch (e) {
    if (e instanceof MemoryFault) return true;
    throw e;
  }
  if (n > 0) m.mem.u8.copyWithin(to, from, from + n);
  return false;
}

export const KAPI_STRINGS: KapiEntry[] = [
  { name: 'bzero', proto: 'void bzero(void *, size_t);', impl: (m, _t, a) => (bzero(m, a[0]!, a[1]!), 0) },
  { name: 'bcopy', proto: 'void bcopy(const void *, void *, size_t);', impl: (m, _t, a) => (bcopy(m, a[0]!, a[1]!, a[2]!), 0) },
  { name: 'ovbcopy', proto: 'void ovbcopy(const void *, void *, size_t);', impl: (m, _t, a) => (ovbcopy(m, a[0]!, a[1]!, a[2]!), 0) },
  { name: 'bcmp', proto: 'int bcmp(const void *, const void *, size_t);', impl: (m, _t, a) => (memcmp(m, a[0]!, a[1]!, a[2]!) === 0 ? 0 : 1) },
  {
    name: 'memset', proto: 'void *memset(void *, int, size_t);',
    impl: (m, _t, a) => {
      const c = a[1]! & 0xff;
      if (c === 0) bzero(m, a[0]!, a[2]!);
      else {
        touch(m, a[0]!, a[2]!, true);
        if (a[2]! > 0) m.mem.u8.fill(c, a[0]!, a[0]! + a[2]!);
      }
      return a[0]!;
    },
  },
  { name: 'memcpy', proto: 'void *memcpy(void *, const void *, size_t);', impl: (m, _t, a) => (bcopy(m, a[1]!, a[0]!, a[2]!), a[0]!) },
  { name: 'memmove', proto: 'void *memmove(void *, const void *, size_t);', impl: (m, _t, a) => (ovbcopy(m, a[1]!, a[0]!, a[2]!), a[0]!) },
  { name: 'memcmp', proto: 'int memcmp(const void *, const void *, size_t);', impl: (m, _t, a) => memcmp(m, a[0]!, a[1]!, a[2]!) },
  {
    name: 'memchr', proto: 'void *memchr(const void *, int, size_t);',
    impl: (m, _t, a) => {
      const c = a[1]! & 0xff;
      for (let i = 0; i < a[2]!; i++) if (byte(m, a[0]! + i) === c) return a[0]! + i;
      return 0;
    },
  },
  {
    name: 'strlen', proto: 'size_t strlen(const char *);',
    impl: (m, _t, a) => {
      belowKernelbase(m, 'strlen: argument below kernelbase', a[0]!);
      return cstrlen(m, a[0]!);
    },
  },
  { name: 'strnlen', proto: 'size_t strnlen(const char *, size_t);', impl: (m, _t, a) => cstrlen(m, a[0]!, a[1]!) },
  { name: 'strcmp', proto: 'int strcmp(const char *, const char *);', impl: (m, _t, a) => strncmp(m, a[0]!, a[1]!, Infinity) },
  { name: 'strncmp', proto: 'int strncmp(const char *, const char *, size_t);', impl: (m, _t, a) => strncmp(m, a[0]!, a[1]!, a[2]!) },
  { name: 'strcpy', proto: 'char *strcpy(char *, const char *);', impl: (m, _t, a) => (putString(m, a[0]!, a[1]!, cstrlen(m, a[1]!)), a[0]!) },
  {
    name: 'strncpy', proto: 'char *strncpy(char *, const char *, size_t);',
    impl: (m, _t, a) => {
      // At most n bytes; the rest of the n is NUL-padded (no NUL when the source is n or longer).
      const n = a[2]!;
      const len = cstrlen(m, a[1]!, n);
      touch(m, a[0]!, n, true);
      m.mem.u8.copyWithin(a[0]!, a[1]!, a[1]! + len);
      if (n > len) m.mem.u8.fill(0, a[0]! + len, a[0]! + n);
      return a[0]!;
    },
  },
  {
    name: 'strcat', proto: 'char *strcat(char *, const char *);',
    impl: (m, _t, a) => (putString(m, a[0]! + cstrlen(m, a[0]!), a[1]!, cstrlen(m, a[1]!)), a[0]!),
  },
  {
    name: 'strlcpy', proto: 'size_t strlcpy(char *, const char *, size_t);',
    impl: (m, _t, a) => {
      const len = cstrlen(m, a[1]!);
      if (a[2]! > 0) putString(m, a[0]!, a[1]!, Math.min(len, a[2]! - 1));
      return len;
    },
  },
  {
    name: 'strlcat', proto: 'size_t strlcat(char *, const char *, size_t);',
    impl: (m, _t, a) => {
      // The length it tried to create: min(strlen(dst), size) + strlen(src).
      const size = a[2]!;
      const dl = cstrlen(m, a[0]!, size);
      const sl = cstrlen(m, a[1]!);
      if (dl < size) putString(m, a[0]! + dl, a[1]!, Math.min(sl, size - dl - 1));
      return dl + sl;
    },
  },
  {
    name: 'strchr', proto: 'char *strchr(const char *, int);',
    impl: (m, _t, a) => {
      const c = a[1]! & 0xff;
      for (let p = a[0]!; ; p++) {
        const b = byte(m, p);
        if (b === c) return p;
        if (b === 0) return 0;
      }
    },
  },
  {
    name: 'strrchr', proto: 'char *strrchr(const char *, int);',
    impl: (m, _t, a) => {
      const c = a[1]! & 0xff;
      let r = 0;
      for (let p = a[0]!; ; p++) {
        const b = byte(m, p);
        if (b === c) r = p;
        if (b === 0) return r;
      }
    },
  },
  {
    name: 'strstr', proto: 'char *strstr(const char *, const char *);',
    impl: (m, _t, a) => {
      const nl = cstrlen(m, a[1]!);
      if (nl === 0) return a[0]!;
      const hl = cstrlen(m, a[0]!);
      for (let i = 0; i + nl <= hl; i++) if (strncmp(m, a[0]! + i, a[1]!, nl) === 0) return a[0]! + i;
      return 0;
    },
  },
  { name: 'kcopy', proto: 'int kcopy(const void *, void *, size_t);', impl: (m, _t, a) => (faultingCopy(m, a[0]!, a[1]!, a[2]!) ? EFAULT : 0) },
  { name: 'copyin', proto: 'int copyin(const void *, void *, size_t);', impl: (m, _t, a) => (faultingCopy(m, a[0]!, a[1]!, a[2]!) ? -1 : 0) },
  { name: 'copyout', proto: 'int copyout(const void *, void *, size_t);', impl: (m, _t, a) => (faultingCopy(m, a[0]!, a[1]!, a[2]!) ? -1 : 0) },
  { name: 'ddi_copyin', proto: 'int ddi_copyin(const void *, void *, size_t, int);', impl: (m, _t, a) => (faultingCopy(m, a[0]!, a[1]!, a[2]!) ? -1 : 0) },
  { name: 'ddi_copyout', proto: 'int ddi_copyout(const void *, void *, size_t, int);', impl: (m, _t, a) => (faultingCopy(m, a[0]!, a[1]!, a[2]!) ? -1 : 0) },
];
