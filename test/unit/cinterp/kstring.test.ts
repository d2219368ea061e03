/**
 * The kernel's memory and string functions (abi/kstring.ts) called from driver C through the
 * shipped <sys/systm.h> / <sys/sunddi.h>: the same program under `gcc -O0 -fno-builtin` with the C
 * library gives the recorded answers (where the C library's contract is the kernel's), and kctx
 * gives them too. What the kernel defines differently (byte differences from strcmp/memcmp, bcmp's
 * 0/1, strlcpy/strlcat, which this C library lacks) is checked against the kernel's facts.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runC } from './helpers';
import { scratchDir } from '../../scratch';
import { formatAddr } from '../../../kernel-sim/machine/memory';

function gcc(body: string): string | null {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  const dir = scratchDir('kctx-kstring-');
  writeFileSync(join(dir, 'p.c'), `#include <stdio.h>\n#include <string.h>\n#include <strings.h>\n#define PR(x) printf("%lld\\n", (long long)(x))\n${body}\nint main(void) { test(); return 0; }\n`);
  execFileSync('gcc', ['-w', '-O0', '-fno-builtin', '-o', join(dir, 'p'), join(dir, 'p.c')]);
  return execFileSync(join(dir, 'p'), { encoding: 'utf8' });
}

const PRELUDE = '#include <sys/types.h>\n#include <sys/systm.h>\n#include <sys/sunddi.h>\n#include <sys/cmn_err.h>\n#define PR(x) cmn_err(CE_CONT, "%lld\\n", (long long)(x))\n';

async function kctx(body: string, o: { kernelDebug?: boolean } = {}) {
  const r = await runC(`${PRELUDE}${body}\nvoid entry(void *arg) { test(); }\n`, { extra: o.kernelDebug === false ? { kernelDebug: false } : {} });
  return { ...r, out: r.console.map((l) => l.trim()).filter((l) => l !== '') };
}

const BODY = `
static char buf[32];
static char big[64];
static const char *hay = "ctxop_attach ctxop_detach";
void test(void) {
  char a[16], b[16];
  int i;
  memset(buf, 'x', sizeof (buf));
  bzero(buf + 4, 8);
  PR(buf[3]); PR(buf[4]); PR(buf[11]); PR(buf[12]);
  memset(a, 0, sizeof (a));
  memcpy(a, "vcpu0", 6);
  PR(strlen(a)); PR(strnlen(a, 3)); PR(strnlen(a, 10));
  bcopy(a, b, 6);
  PR(strcmp(a, b)); PR(memcmp(a, b, 6));
  b[3] = 'x';
  PR(strcmp(a, b) < 0); PR(strcmp(b, a) > 0); PR(strncmp(a, b, 3)); PR(strncmp(a, b, 4) != 0);
  PR(memcmp(a, b, 3)); PR(memcmp(a, b, 5) < 0); PR(bcmp(a, b, 3)); PR(bcmp(a, b, 5) != 0);
  a[0] = (char)0xe0;
  PR(strcmp(a, b) > 0); PR(memcmp(a, b, 1) > 0);
  for (i = 0; i < 16; i++) big[i] = 'a' + i;
  memmove(big + 2, big, 8);
  PR(big[2]); PR(big[9]); PR(big[10]);
  memmove(big, big + 4, 8);
  PR(big[0]); PR(big[7]); PR(big[8]);
  strcpy(a, "abc");
  strncpy(b, "de", 6);
  PR(b[0]); PR(b[1]); PR(b[2]); PR(b[5]);
  strncpy(b, "fghijk", 3);
  PR(b[2]); PR(b[3]);
  strcat(a, "xyz");
  PR(strlen(a)); PR(a[5]);
  PR(strchr(hay, '_') - hay); PR(strrchr(hay, '_') - hay); PR(strchr(hay, 'z') == 0);
  PR(strchr(hay, 0) - hay); PR(strrchr(hay, 0) - hay);
  PR(strstr(hay, "detach") - hay); PR(strstr(hay, "") - hay); PR(strstr(hay, "free") == 0);
  PR((const char *)memchr(hay, 'x', 10) - hay); PR(memchr(hay, 'x', 2) == 0);
  PR(memset(a, 'q', 2) == a); PR(a[1]); PR(memcpy(b, a, 1) == b); PR(memmove(b, a, 1) == b);
  PR(strcpy(b, a) == b); PR(strncpy(b, a, 1) == b); PR(strcat(b, "z") == b);
}`;

// What gcc -O0 -fno-builtin with glibc printed when this test was written.
const RECORDED = [120, 0, 0, 120, 5, 3, 5, 0, 0, 1, 1, 0, 1, 0, 1, 0, 1, 1, 1, 97, 104, 107, 99, 108, 103, 100, 101, 0, 0, 104, 0, 6, 122, 5, 18, 1, 25, 25, 19, 0, 1, 2, 1, 1, 113, 1, 1, 1, 1, 1];

test('bzero, bcopy, the mem* and str* functions from the shipped headers: the answers gcc gives with the C library', async () => {
  const g = gcc(BODY);
  if (g !== null) assert.deepEqual(g.trim().split('\n').map(Number), RECORDED, 'the recorded answer is what gcc prints');
  const r = await kctx(BODY);
  assert.equal(r.outcome.kind, 'end', JSON.stringify(r.outcome));
  assert.deepEqual(r.out.map(Number), RECORDED);
  // Kernel functions, linked on first use: none of them is a stub.
  assert.equal(r.m.sym.lookup('bzero')?.kind, 'native');
  assert.equal(r.m.sym.lookup('strstr')?.kind, 'native');
  assert.equal(r.m.sym.lookup('strlcpy'), undefined, 'a function the driver does not call is not linked');
});

test('what the kernel defines itself: byte differences from strcmp/strncmp/memcmp, bcmp 0 or 1, strlcpy/strlcat, bcopy copies forward (not overlap-safe), ovbcopy does not', async () => {
  const r = await kctx(`
void test(void) {
  char a[8] = "abc", b[8] = "abz", d[8];
  char o[16] = "0123456789";
  size_t n;
  PR(strcmp(a, b)); PR(strcmp(b, a)); PR(strncmp("ab\\xf0", "ab\\x10", 5)); PR(memcmp(b, a, 3)); PR(bcmp(a, b, 3)); PR(bcmp(b, a, 2));
  n = strlcpy(d, "context", sizeof (d)); PR(n); PR(strlen(d));
  n = strlcpy(d, "contextop", 4); PR(n); PR(strcmp(d, "con"));
  n = strlcpy(d, "x", 0); PR(n); PR(d[0]);
  n = strlcat(d, "text", sizeof (d)); PR(n); PR(strcmp(d, "context"));
  n = strlcat(d, "op", sizeof (d)); PR(n); PR(strcmp(d, "context"));
  n = strlcat(d, "op", 3); PR(n);
  bcopy(o, o + 2, 6);
  PR(strcmp(o, "0101010189"));
  ovbcopy("0123456789", o, 11);
  ovbcopy(o, o + 2, 6);
  PR(strcmp(o, "0101234589"));
}`);
  assert.equal(r.outcome.kind, 'end', JSON.stringify(r.outcome));
  assert.deepEqual(r.out.map(Number), [-23, 23, 0xf0 - 0x10, 23, 1, 0, 7, 7, 9, 0, 1, 'c'.charCodeAt(0), 7, 0, 9, 0, 5, 0, 0]);
});

test('a bad pointer: on a DEBUG kernel bzero, bcopy and strlen panic with the kernel\'s "below kernelbase" message; otherwise BAD TRAP at the first unmapped byte; copyin/ddi_copyin return -1 and kcopy EFAULT', async () => {
  const body = (call: string) => `
static char s[4];
void test(void) {
  char *p = (char *)kmem_alloc(16, KM_SLEEP);
  PR(copyin(p, s, 4)); PR(copyin((void *)8, s, 4)); PR(ddi_copyout(s, (void *)32, 4, FKIOCTL)); PR(kcopy(p, (void *)0, 1));
  ${call};
}`;
  const debug = await kctx(body('bzero((void *)0, 4)'));
  assert.equal(debug.outcome.kind, 'panic');
  assert.deepEqual(debug.out.slice(0, 4).map(Number), [0, -1, -1, 14]);
  assert.equal(debug.m.panicInfo?.message, 'bzero: arguments below kernelbase');
  assert.equal((await kctx(body('bcopy(s, (void *)16, 4)'))).m.panicInfo?.message, 'bcopy: arguments below kernelbase');
  assert.equal((await kctx(body('bcopy(s, (void *)16, 0)'))).outcome.kind, 'end', 'a zero count is not checked');
  assert.equal((await kctx(body('(void) strlen((char *)0)'))).m.panicInfo?.message, 'strlen: argument below kernelbase');
  const nd = await kctx(body('bzero((void *)0, 4)'), { kernelDebug: false });
  assert.equal(nd.m.panicInfo?.message.replace(/rp=\S+/, 'rp=R'), 'BAD TRAP: type=e (#pf Page fault) rp=R addr=0');
  // A copy running off the end of memory faults at the first byte past it, a write.
  const over = await kctx(body('memset(p, 1, 1 << 30)'));
  assert.equal(over.outcome.kind, 'panic');
  assert.equal(over.m.panicInfo?.fault?.write, true);
  assert.equal(over.m.panicInfo?.fault?.addr, over.m.mem.top);
  assert.match(over.m.panicInfo!.message, new RegExp(`addr=${formatAddr(over.m.mem.top)}$`));
});
