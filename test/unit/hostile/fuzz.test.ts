/**
 * Issue 17's fuzzers, bounded by count (seeded, the same inputs every run): a hostile driver and
 * scenario corpus through `kctx run`, and random mdb command lines through `kctx mdb` from a
 * pipe. The exit codes 0/2/3/4 are the contract: an exit 70 (internal error) or a hang anywhere
 * fails them, and so does host memory past a bound where memory was the failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { kctx, scenario, tempDir } from './helpers';
import { loadScenarioFile, ScenarioError } from '../../../kernel-sim/scenario';
import { createKernel } from '../../../kernel-sim/kernel';
import { loadDriver } from '../../../kernel-sim/cinterp/index';

/** xorshift32: the same sequence every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 0x100000000;
  };
}

const CONTRACT = new Set([0, 2, 3, 4]);
const dir = tempDir('hostile-fuzz');
const H = '#include <sys/types.h>\n#include <sys/kmem.h>\n#include <sys/cmn_err.h>\n#include <sys/systm.h>\n';

/** Drivers an attacker or a careless repository would write (each a thread entry t). */
const DRIVERS: Record<string, string> = {
  spin: H + 'void t(void *a) { for (;;) ; }\n',
  recurse: H + 'static int r(int n) { return r(n + 1) + 1; }\nvoid t(void *a) { (void) r(0); }\n',
  wild: H + 'void t(void *a) { *(volatile int *)0xdeadbeef00ULL = 1; }\n',
  nullcall: H + 'void t(void *a) { void (*f)(void) = 0; f(); }\n',
  hoard: H + 'void t(void *a) { for (;;) (void) kmem_zalloc(131072, KM_SLEEP); }\n',
  nosleep: H + 'void t(void *a) { while (kmem_alloc(65536, KM_NOSLEEP) != NULL) ; cmn_err(CE_NOTE, "out"); }\n',
  oversize: H + 'void t(void *a) { void *p = kmem_alloc(0x7fffffffffffffffULL, KM_NOSLEEP); cmn_err(CE_NOTE, "%p", p); kmem_free(p, 0); }\n',
  bigsleep: H + 'void t(void *a) { (void) kmem_alloc(1ULL << 40, KM_SLEEP); }\n',
  doublefree: H + 'void t(void *a) { void *p = kmem_alloc(64, KM_SLEEP); kmem_free(p, 64); kmem_free(p, 64); }\n',
  overrun: H + 'void t(void *a) { char *p = kmem_alloc(16, KM_SLEEP); int i; for (i = 0; i < 1 << 20; i++) p[i] = 1; }\n',
  bigcopy: H + 'static char s[64];\nvoid t(void *a) { bcopy(s, s + 1, (size_t)-1); }\n',
  divzero: H + 'volatile int z;\nvoid t(void *a) { cmn_err(CE_NOTE, "%d", 1 / z); }\n',
  intmin: H + 'volatile long long m = -9223372036854775807LL - 1, d = -1;\nvoid t(void *a) { cmn_err(CE_NOTE, "%lld", m % d); }\n',
  bigstack: H + 'void t(void *a) { volatile char b[1 << 24]; b[0] = 1; }\n',
  bigstatic: H + 'static char huge[1ULL << 33];\nvoid t(void *a) { huge[0] = 1; }\n',
  chatty: H + 'void t(void *a) { for (;;) cmn_err(CE_NOTE, "%s", "spam spam spam spam spam spam spam spam"); }\n',
  deadlock: H + '#include <sys/mutex.h>\nstatic kmutex_t m;\nvoid t(void *a) { mutex_enter(&m); mutex_enter(&m); }\n',
  nested: H + `void t(void *a) { int x = ${'('.repeat(3000)}1${')'.repeat(3000)}; }\n`,
  macrobomb: H + '#define A(x) x x x x x x x x\n#define B(x) A(A(A(A(A(A(A(A(x))))))))\nint v = sizeof(#B(1));\nvoid t(void *a) { }\n',
  unterminated: H + 'void t(void *a) { /* never closed\n',
  notc: 'root:x:0:0:root:/root:/bin/bash\n\u0001\u0002\u0003',
  binary: 'int x;\u0000\u0000\u0000',
  longline: H + `void t(void *a) { int x = 0${' + 1'.repeat(200000)}; }\n`,
  badentry: H + 'int t;\n',
};

test('hostile driver corpus: every program ends in 0, 2, 3 or 4 with bounded host memory', () => {
  for (const [name, text] of Object.entries(DRIVERS)) {
    writeFileSync(join(dir, `${name}.c`), text);
    const r = kctx(['run', scenario(dir, `${name}.ksim.json`, [`${name}.c`], { memory: '64M' }), '--trace', 'none', '--max-steps', '2000000'], { timeoutMs: 240_000 });
    assert.ok(r.code !== null && CONTRACT.has(r.code), `${name}: exit ${r.code}: ${r.err.slice(0, 500)}`);
    assert.doesNotMatch(r.err, /internal error/, name);
    assert.ok(r.peakMb < 500, `${name}: peak ${r.peakMb} MB`);
  }
});

test('hostile scenario corpus: 80 seeded mutations of a valid scenario load or fail as scenario errors, in process', async () => {
  // In process (the same steps and error mapping as kctx run): a crash here is an exit 70 there.
  writeFileSync(join(dir, 'ok.c'), H + 'void t(void *a) { void *p = kmem_alloc(32, KM_SLEEP); kmem_free(p, 32); }\n');
  const base: Record<string, unknown> = { kernel: 'illumos-13917', cpus: 2, seed: 1, sources: ['ok.c'], threads: [{ name: 't', entry: 't', arg: 1 }] };
  const r = rng(0x5ce7a);
  const values: unknown[] = [null, -1, 0, 1e300, 2 ** 53, '', 'x'.repeat(5000), [], {}, [[[]]], true, '/dev/zero', '../../../../etc/passwd', '${env:HOME}', '\u0000', 'unix:/tmp/x', '16M', '3G', -0.5, dir, 'ok.c'];
  const keys = ['kernel', 'cpus', 'seed', 'sources', 'threads', 'defines', 'quantum', 'tickCycles', 'slice', 'memory', 'memoryPressure', 'gate', 'includePaths', 'stubs', 'replaces', 'builtFor', 'kernelDebug', 'nonsense'];
  let ran = 0;
  let refused = 0;
  for (let i = 0; i < 80; i++) {
    const s: Record<string, unknown> = JSON.parse(JSON.stringify(base));
    const n = 1 + Math.floor(r() * 3);
    for (let j = 0; j < n; j++) {
      const k = keys[Math.floor(r() * keys.length)]!;
      const v = values[Math.floor(r() * values.length)];
      if (r() < 0.2) delete s[k];
      else if (k === 'threads' && r() < 0.5) s.threads = [{ name: v, entry: 't' }];
      else if (k === 'sources' && r() < 0.5) s.sources = [v];
      else s[k] = v;
    }
    // Some are not even JSON: cut short, or garbage appended.
    let text = JSON.stringify(s);
    if (r() < 0.15) text = text.slice(0, Math.floor(r() * text.length));
    else if (r() < 0.1) text += '\u0000}}]]';
    const p = join(dir, `mut${i}.ksim.json`);
    writeFileSync(p, text);
    try {
      const m = await createKernel(loadScenarioFile(p), { loadDriver });
      m.run(200_000);
      ran++;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const ok = e instanceof ScenarioError || (e as { kctxLoadError?: boolean }).kctxLoadError || (typeof code === 'string' && /^E[A-Z]+$/.test(code));
      assert.ok(ok, `mutation ${i} (${text.slice(0, 200)}): ${(e as Error).stack}`);
      refused++;
    }
  }
  assert.equal(ran + refused, 80);
  assert.ok(ran > 5 && refused > 20, `ran ${ran}, refused ${refused}`);
});

test('random mdb command lines from a pipe (400, seeded): exit 0, no internal error, bounded memory', () => {
  const DCMDS = ['::threadlist', '::findstack', '$c', '::walk thread', '::walk ctxop', '::walk kmem_cache', '::findleaks', '::kmem_verify', '::kmem_cache',
    '::status', '::panicinfo', '::cpuinfo', '::ps', '::stacks', '::msgbuf', '::ctxtrace', '::dcmds', '::walkers', '::formats', '::nm', '::whatis', '::bufctl', '::print',
    '::sizeof', '::offsetof', '::ctxops', '::thread', '::help', '/X', '/K', '/s', '/c', '/i', '=X', '=D', '/nap', '::nosuch', '$<macro', '!ls', '$q'];
  const r = rng(0xdb9);
  const atom = () => {
    const k = Math.floor(r() * 8);
    switch (k) {
      case 0: return '0x' + Math.floor(r() * 2 ** 32).toString(16) + Math.floor(r() * 2 ** 32).toString(16).padStart(8, '0');
      case 1: return 'fffffe00f' + Math.floor(r() * 2 ** 28).toString(16).padStart(7, '0');
      case 2: return String(Math.floor(r() * 100000));
      case 3: return '.';
      case 4: return 'leaky_thread';
      case 5: return '(' + 'ffffffff+'.repeat(Math.floor(r() * 4)) + '1)';
      case 6: return "'ab'";
      default: return '';
    }
  };
  const lines: string[] = [];
  for (let i = 0; i < 400; i++) {
    let d = DCMDS[Math.floor(r() * DCMDS.length)]!;
    if (d === '$q') d = '::quit -x'; // not the real quit: keep reading
    const addr = r() < 0.6 ? atom() : '';
    const count = r() < 0.3 ? ',' + Math.floor(r() * 300) : '';
    const args = r() < 0.4 ? ' ' + ['-v', '-a', '-t', 'kthread_t', 'struct ctxop', '-x', '-n', atom()][Math.floor(r() * 8)] : '';
    let line = `${addr}${count}${d}${args}`;
    if (r() < 0.2) line += ' | ' + DCMDS[Math.floor(r() * DCMDS.length)]!.replace('$q', '::ps');
    if (r() < 0.05) line = line.slice(0, Math.floor(r() * line.length));
    if (r() < 0.03) line += '\u0000\u00ff';
    lines.push(line);
  }
  const scen = resolve(__dirname, '..', '..', '..', '..', 'examples', 'leaky', 'leaky.ksim.json');
  const out = kctx(['mdb', scen], { input: lines.join('\n') + '\n', timeoutMs: 600_000 });
  assert.equal(out.code, 0, out.err.slice(0, 2000));
  assert.doesNotMatch(out.err, /internal error|Maximum call stack/);
  assert.ok(out.peakMb < 600, `peak ${out.peakMb} MB`);
});
