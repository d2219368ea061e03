/**
 * Issue 17, cases 2, 6 and 8: the simulated machine has a physical memory size (scenario
 * `memory`) and behaves as illumos when it runs out; `kctx mdb` from a pipe survives huge
 * outputs and hostile input; INT_MIN / -1 traps (#DE) in both code paths.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kctx, scenario, tempDir } from './helpers';

const dir = tempDir('hostile-m');
const HDR = '#include <sys/types.h>\n#include <sys/kmem.h>\n#include <sys/cmn_err.h>\n';
const src = (name: string, body: string) => writeFileSync(join(dir, name), HDR + body);

test('for (;;) kmem_alloc(4096, KM_SLEEP) fills the machine\'s memory, then waits for ever: a hang (exit 4), bounded host memory', () => {
  src('loop.c', 'void t(void *a) { for (;;) (void) kmem_alloc(4096, KM_SLEEP); }\n');
  const r = kctx(['run', scenario(dir, 'loop.ksim.json', ['loop.c'], { memory: '32M' }), '--trace', 'none', '--stats'], { timeoutMs: 300_000 });
  assert.equal(r.code, 4, r.err + r.out);
  assert.match(r.out, /^kctx: the kernel hung: every thread is blocked: t on kmem_alloc\(4096, KM_SLEEP\): waiting for free memory$/m);
  const stats = JSON.parse(r.out.trimEnd().split('\n').at(-1)!);
  // 32 MB of 4 KB buffers (with redzones and the kernel's own), no more.
  assert.ok(stats.allocs > 7000 && stats.allocs < 8192, `allocs ${stats.allocs}`);
  // Before: 4.7 GB and exit 70 (Invalid typed array length).
  assert.ok(r.peakMb > 0 && r.peakMb < 300, `peak ${r.peakMb} MB`);
});

test('KM_NOSLEEP returns NULL when memory is out (and for 1 TB); a free lets a waiting KM_SLEEP through', () => {
  src('nosleep.c', `
static void *bufs[20000];
void t(void *a) {
  int i, n = 0;
  void *big = kmem_alloc(1ULL << 40, KM_NOSLEEP);
  cmn_err(CE_NOTE, "1 TB: %p", big);
  for (i = 0; i < 20000; i++) { bufs[i] = kmem_alloc(4096, KM_NOSLEEP); if (bufs[i] == NULL) break; n++; }
  cmn_err(CE_NOTE, "got %d, then NULL: %d", n, i < 20000 && bufs[i] == NULL);
  kmem_free(bufs[0], 4096);
  bufs[0] = kmem_alloc(4096, KM_SLEEP);
  cmn_err(CE_NOTE, "after a free: %d", bufs[0] != NULL);
  void *one_mb = kmem_alloc(1 << 20, KM_NOSLEEP);
  cmn_err(CE_NOTE, "1 MB when full: %p", one_mb);
}
`);
  const r = kctx(['run', scenario(dir, 'nosleep.ksim.json', ['nosleep.c'], { memory: '32M' }), '--trace', 'none'], { timeoutMs: 300_000 });
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(r.out, /^NOTICE: 1 TB: 0$/m);
  const got = Number(/got (\d+), then NULL: 1/.exec(r.out)?.[1]);
  assert.ok(got > 7000 && got < 8192, r.out);
  assert.match(r.out, /^NOTICE: after a free: 1$/m);
  assert.match(r.out, /^NOTICE: 1 MB when full: 0$/m);
});

test('a thread waiting for memory is woken by another thread\'s kmem_free', () => {
  src('wake.c', `
static void *held[20000];
static int filled;
void hog(void *a) {
  int i;
  for (i = 0; i < 20000; i++) if ((held[i] = kmem_alloc(4096, KM_NOSLEEP)) == NULL) break;
  filled = 1;
  delay(10);
  kmem_free(held[0], 4096);
  cmn_err(CE_NOTE, "hog freed one");
}
void waiter(void *a) {
  while (!filled) delay(1);
  void *p = kmem_alloc(4096, KM_SLEEP);
  cmn_err(CE_NOTE, "waiter got %d", p != NULL);
}
`);
  const p = join(dir, 'wake.ksim.json');
  writeFileSync(p, JSON.stringify({ kernel: 'illumos-13917', memory: '32M', sources: ['wake.c'], threads: [{ name: 'hog', entry: 'hog' }, { name: 'waiter', entry: 'waiter' }] }));
  const r = kctx(['run', p, '--trace', 'none'], { timeoutMs: 300_000 });
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(r.out, /NOTICE: hog freed one\nNOTICE: waiter got 1/);
});

test('a huge local array is a kernel stack overflow panic; a huge static is a load error; a bad "memory" is a scenario error', () => {
  writeFileSync(join(dir, 'local.c'), '#include <sys/types.h>\nvoid t(void *a) { char b[1 << 30]; b[5] = 1; }\n');
  const l = kctx(['run', scenario(dir, 'local.ksim.json', ['local.c']), '--trace', 'none']);
  assert.equal(l.code, 3, l.err + l.out);
  assert.match(l.out, /^panic\[cpu0\]\/thread=[0-9a-f]+: BAD TRAP: type=8 \(#df Double fault\) rp=0 addr=0: kernel stack overflow: thread [0-9a-f]+ \(t\) overflowed its 16384-byte stack calling t\(\)/m);
  // The same one call deeper (not the entry).
  writeFileSync(join(dir, 'local2.c'), '#include <sys/types.h>\nstatic void f(void) { char b[1 << 20]; b[1] = 1; }\nvoid t(void *a) { f(); }\n');
  const l2 = kctx(['run', scenario(dir, 'local2.ksim.json', ['local2.c']), '--trace', 'none']);
  assert.equal(l2.code, 3, l2.err + l2.out);
  assert.match(l2.out, /kernel stack overflow: .* calling f\(\)/);
  writeFileSync(join(dir, 'static.c'), '#include <sys/types.h>\nstatic char big[1UL << 40];\nvoid t(void *a) { big[3] = 1; }\n');
  const s = kctx(['run', scenario(dir, 'static.ksim.json', ['static.c']), '--trace', 'none']);
  assert.equal(s.code, 2, s.err);
  assert.match(s.err, /static\.c:2:13: 'big' needs 1099511627776 bytes: more than the machine's 256 MB of memory \(the scenario's "memory"\)/);
  const b = kctx(['run', scenario(dir, 'badmem.ksim.json', ['static.c'], { memory: '1T' })]);
  assert.equal(b.code, 2);
  assert.match(b.err, /"memory": expected the machine's physical memory from 16M to 2G/);
});

test('INT_MIN / -1 and INT_MIN % -1 trap (#DE) like a division by zero; 64-bit too', () => {
  const body = (op: string, ty: string, min: string) => `#include <sys/types.h>\n#include <sys/cmn_err.h>\nvolatile ${ty} m = ${min}; volatile ${ty} d = -1;\nvoid t(void *a) { ${ty} q = m ${op} d; cmn_err(CE_NOTE, "q=%lld", (long long)q); }\n`;
  const cases: Array<[string, string, string]> = [['/', 'int', '-2147483647 - 1'], ['%', 'int', '-2147483647 - 1'], ['/', 'long', '-9223372036854775807L - 1'], ['%', 'int64_t', '-9223372036854775807LL - 1']];
  cases.forEach(([op, ty, min], i) => {
    writeFileSync(join(dir, `div${i}.c`), body(op, ty, min));
    const r = kctx(['run', scenario(dir, `div${i}.ksim.json`, [`div${i}.c`]), '--trace', 'none']);
    assert.equal(r.code, 3, `${ty} ${op}: ${r.out}${r.err}`);
    assert.match(r.out, /^panic\[cpu0\]\/thread=[0-9a-f]+: BAD TRAP: type=0 \(#de Divide error\) rp=0 addr=0: integer divide overflow$/m);
  });
  // Not a trap: INT_MIN / 1, -INT_MAX / -1, unsigned, and a compound /= by -1 of INT_MIN is one.
  writeFileSync(join(dir, 'divok.c'), '#include <sys/types.h>\n#include <sys/cmn_err.h>\nvolatile int m = -2147483647 - 1; volatile int one = 1, mone = -1; volatile unsigned u = 0x80000000u;\nvoid t(void *a) { int x = m; cmn_err(CE_NOTE, "%d %d %u", m / one, (m + 1) / mone, u / (unsigned)mone); x /= mone; cmn_err(CE_NOTE, "not reached %d", x); }\n');
  const ok = kctx(['run', scenario(dir, 'divok.ksim.json', ['divok.c']), '--trace', 'none']);
  assert.equal(ok.code, 3, ok.out + ok.err);
  assert.match(ok.out, /^NOTICE: -2147483648 2147483647 0$/m);
  assert.match(ok.out, /integer divide overflow/);
  assert.doesNotMatch(ok.out, /not reached/);
});

test('kctx mdb from a pipe: addr,100000/X z prints 100,000 values, no stack overflow; garbage and /dev/zero-like input end with a clear error', () => {
  const scen = join(__dirname, '..', '..', '..', '..', 'examples', 'leaky', 'leaky.ksim.json');
  const r = kctx(['mdb', scen], { input: '0xfffffe00f0000000,100000/X z\n::threadlist ! true\n$q\n', timeoutMs: 300_000 });
  assert.equal(r.code, 0, r.err.slice(0, 2000));
  assert.doesNotMatch(r.err, /internal error|Maximum call stack/);
  assert.ok(r.out.split('\n').length > 20000, `${r.out.split('\n').length} lines`);
  assert.match(r.out, /mdb: shell escapes \(!\) are not available in the simulator/);
  // A line without end (NUL bytes, as from /dev/zero): refused once it passes 64 KB, nothing more is read.
  const z = kctx(['mdb', scen], { input: Buffer.alloc(4 * 1024 * 1024) });
  assert.equal(z.code, 2, z.err);
  assert.match(z.err, /^kctx mdb: input line 1 is longer than 64 KB: not mdb commands$/m);
  assert.ok(z.peakMb < 200, `peak ${z.peakMb} MB`);
});
