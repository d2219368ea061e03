/** The mdb engine beyond the goldens: leaks, corruption, expressions, pipelines, completion, the CLI. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { machine, ROOT, FIXTURES } from './helpers';
import { createMdb, findLeaks, complete, DCMD_NAMES, dcmdInfo } from '../../../kernel-sim/mdb/index';
import { formatAddr } from '../../../kernel-sim/machine/memory';

test('findLeaks: a buffer whose only pointer is dropped is a leak, grouped by caller', async () => {
  const m = await machine('bhyve-13917', 400, false);
  assert.equal(findLeaks(m).leaks.length, 0);
  const t = m.threadByName('vcpu0')!;
  // Two buffers from the same stack and one reachable from a C global (a data root).
  const a = m.kmem.alloc(40, true, t.addr, m.lbolt, ['kmem_zalloc', 'mydrv_attach+0x24', 'thread_start+0x8']);
  const b = m.kmem.alloc(40, true, t.addr, m.lbolt + 1, ['kmem_zalloc', 'mydrv_attach+0x24', 'thread_start+0x8']);
  const kept = m.kmem.alloc(40, true, t.addr, m.lbolt, ['kmem_zalloc', 'mydrv_keep+0x10']);
  const root = m.mem.map(16, 8);
  m.mem.writePtr(root, kept);
  m.dataRoots.push([root, 16]);
  const r = findLeaks(m);
  assert.equal(r.leaks.length, 1);
  const l = r.leaks[0]!;
  assert.equal(l.cache, 'kmem_alloc_48');
  assert.equal(l.count, 2);
  assert.equal(l.buf, a);
  assert.deepEqual(l.buffers, [a, b]);
  assert.equal(l.caller, 'mydrv_attach+0x24');
  assert.equal(r.totalBytes, 96);
  // A leaked buffer pointing at another keeps nothing alive: the pointee leaks too unless rooted.
  const out = createMdb(m).execute('::findleaks');
  const cache = formatAddr(m.kmem.caches.get('kmem_alloc_48')!.addr);
  assert.equal(out, [
    'CACHE             LEAKED           BUFCTL CALLER',
    `${cache}       2 ${formatAddr(l.bufctl)} mydrv_attach+0x24`,
    '-'.repeat(72),
    '           Total       2 buffers, 96 bytes',
    '',
  ].join('\n'));
  const d = createMdb(m).execute('::findleaks -d');
  assert.match(d, /kmem_alloc_48 leak: 2 buffers, 48 bytes each, 96 bytes total/);
  assert.match(d, /mydrv_attach\+0x24\n/);
  // The leak walker and a function filter.
  const mdb = createMdb(m);
  mdb.execute('::findleaks');
  assert.equal(mdb.execute('::walk leak').trim().split('\n').length, 2);
  assert.match(mdb.execute('mydrv_attach::findleaks'), /findleaks: no memory leaks matching mydrv_attach found|unknown symbol/);
  // Freeing the kept buffer's root pointer makes it leak as well.
  m.mem.writePtr(root, 0);
  assert.equal(findLeaks(m).totalBuffers, 3);
});

test('findLeaks: roots held only by a frame (a builtin\'s variables) keep buffers alive', async () => {
  const m = await machine('bhyve-13917', 400, false);
  // vcpu0's vcpu structure is held in the builtin frame's vars (and in its ctxop arg).
  const t = m.threadByName('vcpu0')!;
  const vars = (t.stack.find((f) => f.kind === 'builtin')!.vars) as Record<string, number>;
  assert.ok(vars.vcpu);
  assert.equal(findLeaks(m).leaks.length, 0);
});

test('::kmem_verify reports a buffer modified after free, with per-buffer detail', async () => {
  const m = await machine('bhyve-13917', 400, false);
  const t = m.threadByName('vcpu0')!;
  const buf = m.kmem.alloc(100, false, t.addr, m.lbolt, ['kmem_alloc', 'mydrv_io+0x40']);
  m.kmem.free(buf, 100, t.addr, m.lbolt, ['kmem_free', 'mydrv_io+0x80']);
  m.mem.writeU32(buf + 8, 0x12345678);
  const mdb = createMdb(m);
  const cache = m.kmem.caches.get('kmem_alloc_112')!;
  assert.match(mdb.execute('::kmem_verify'), new RegExp(`kmem_alloc_112 +${formatAddr(cache.addr)} 1 corrupt buffer\\n`));
  assert.equal(mdb.execute(`${formatAddr(cache.addr)}::kmem_verify`),
    `Summary for cache 'kmem_alloc_112'\n  buffer ${formatAddr(buf)} (free) seems corrupted, at ${formatAddr(buf + 8)}\n`);
  assert.match(mdb.execute(`${formatAddr(buf + 8)}::whatis`), /is .*\+8, bufctl [0-9a-f]+ freed from kmem_alloc_112/);
});

test('expressions, dot, counts and pipelines', async () => {
  const m = await machine('bhyve-13917', 400, false);
  const mdb = createMdb(m);
  const v0 = formatAddr(m.threadByName('vcpu0')!.addr);
  // `=` prints on mdb's 16-column margin, each value in its printf field (%-16x, %-16d, ...);
  // K is 17 wide when the top nibble is set.
  const eq = (v: string, w: number) => `${' '.repeat(16)}${v.padEnd(w)}\n`;
  assert.equal(mdb.execute('0t16=X'), eq('10', 16));
  assert.equal(mdb.execute('10%4=D'), eq('4', 16));
  assert.equal(mdb.execute('0x11#0t5=D'), eq('2', 16));
  assert.equal(mdb.execute('(1<<4|1)=X'), eq('11', 16));
  assert.equal(mdb.execute(`${v0}+0x10-0x10=K`), eq(v0, 17));
  // Dot: a bare address sets it, `.` reads it.
  mdb.execute(v0);
  assert.equal(mdb.execute('.=K'), eq(v0, 17));
  // curthread is the thread on CPU 0.
  assert.equal(mdb.execute('curthread=K'), eq(formatAddr(m.cpus[0]!.thread.addr), 17));
  // addr,count runs the dcmd count times (one header).
  const rows = mdb.execute(`${v0},3::thread`).trim().split('\n');
  assert.equal(rows.length, 4);
  // Only the rightmost dcmd prints; each line of the left side becomes dot.
  const tl = mdb.execute('::walk thread | ::threadlist').trim().split('\n');
  assert.equal(tl.length, m.threads.length + 1);
  assert.equal(mdb.execute(`${v0}::walk ctxop | ::walk ctxop`).split('\n').length > 1, true);
  // An empty left side runs nothing on the right.
  assert.equal(mdb.execute(`${formatAddr(m.threadByName('spin')!.addr)}::walk ctxop | ::print ctxop_t`), '');
  // Several commands on a line.
  assert.equal(mdb.execute('1=D; 2=D'), eq('1', 16) + eq('2', 16));
  // Unmapped addresses read as mdb says.
  assert.equal(mdb.execute('*0=K'), 'mdb: failed to read pointer at 0: no mapping for address\n');
});

test('completion and the dcmd list for the console and the palette', () => {
  assert.ok(DCMD_NAMES().includes('threadlist'));
  assert.deepEqual(complete('::threadl'), ['::threadlist']);
  assert.deepEqual(complete('::walk th'), ['::walk thread']);
  assert.ok(complete('$').includes('$c'));
  const info = dcmdInfo().find((d) => d.name === 'findstack')!;
  assert.equal(info.synopsis, 'addr ::findstack [-v]');
  assert.equal(info.description, 'find kernel thread stack');
});

test('kctx run --mdb prints each command after "> CMD"', () => {
  const r = spawnSync(process.execPath, [resolve(ROOT, 'dist/kctx.js'), 'run', resolve(FIXTURES, 'bhyve-13917.ksim.json'), '--trace', 'none',
    '--mdb', '::threadlist', '--mdb', '::walk thread | ::findstack', '--mdb', '::ctxtrace -n 1', '--mdb', '::nope'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout;
  assert.match(out, /^> ::threadlist\n {12}ADDR {13}PROC {14}LWP CMD\/LWPID\n/m);
  assert.match(out, /\n> ::walk thread \| ::findstack\nstack pointer for thread [0-9a-f]{16} \(idle\/0\): [0-9a-f]{16}\n/);
  assert.match(out, /\n> ::ctxtrace -n 1\nCPU FUNCTION\n/);
  assert.match(out, /\n> ::nope\nmdb: invalid command '::nope': unknown dcmd name\n/);
  // Plain text: colour is only for the Debug Console (the adapter), never on a pipe.
  assert.ok(!out.includes('\x1b'), 'no ANSI sequences in the CLI output');
});

test('kctx mdb reads commands from a pipe and quits on $q', () => {
  const r = spawnSync(process.execPath, [resolve(ROOT, 'dist/kctx.js'), 'mdb', resolve(FIXTURES, 'bhyve-13917.ksim.json')], {
    input: '::cpuinfo\n\n::ctxtrace -n 1\n$q\n::threadlist\n', encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ ID ADDR {13}FLG NRUN BSPL PRI RNRN KRNRN SWITCH THREAD {11}PROC\n/m);
  assert.match(r.stdout, /CPU FUNCTION\n/);
  assert.doesNotMatch(r.stdout, /CMD\/LWPID/);
  assert.doesNotMatch(r.stdout, /^> /m);
});

test('::ctxops fits a normal-width panel: columns as wide as their contents, every line under 100 columns', () => {
  const r = spawnSync(process.execPath, [resolve(ROOT, 'dist/kctx.js'), 'run', resolve(FIXTURES, 'bhyve-13917.ksim.json'), '--trace', 'none', '--max-steps', '400',
    '--mdb', '::ctxops', '--mdb', '::ctxops -v'], { encoding: 'utf8' });
  assert.equal(r.status, 4, r.stderr);
  const out = r.stdout.slice(r.stdout.indexOf('> ::ctxops\n'));
  const long = out.split('\n').filter((l) => l.length >= 100);
  assert.deepEqual(long, []);
  assert.match(out, /\n {3}# CTXOP {12}SAVE_OP {10}RESTORE_OP {10}ARG {14}SAVE_TS RESTORE_TS\n/);
  assert.match(out, /\n {3}2 [0-9a-f]{16} lwp_segregs_save lwp_segregs_restore [0-9a-f]{16} +[0-9a-f]+ +[0-9a-f]+\n/);
  assert.match(out, /\n {2}save order \(newest first\): {4}vmm_savectx -> fpsave_ctxt -> lwp_segregs_save\n {2}restore order \(oldest first\): lwp_segregs_restore -> fprestore_ctxt -> vmm_restorectx\n/);
});
