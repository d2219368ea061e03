/**
 * The FreeBSD personality end to end through the bundled CLI: each cell of the VIMAGE matrix
 * and its failure text, the matrix table, `kctx diff` (first differing event with both stacks,
 * the aliased instance), the CURVNET_SET check, the Minix lessons (lock order, unheld unlock,
 * the no-asserts diff) and the mdb dcmds against golden text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync, readFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from '../../scratch';

const KCTX = join(process.cwd(), 'dist', 'kctx.js');
const FIX = join(process.cwd(), 'test', 'fixtures', 'freebsd');
const EX = join(process.cwd(), 'examples', 'freebsd');
function kctx(...args: string[]) {
  const r = spawnSync(process.execPath, [KCTX, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const dir = scratchDir('kctx-freebsd-');
copyFileSync(join(EX, 'vnstat.c'), join(dir, 'vnstat.c'));
const base = JSON.parse(readFileSync(join(EX, 'vnstat.ksim.json'), 'utf8'));
function cell(kernel: boolean, module: boolean, extra: Record<string, unknown> = {}): string {
  const p = join(dir, `cell-${kernel}-${module}-${Object.keys(extra).join('')}.ksim.json`);
  writeFileSync(p, JSON.stringify({ ...base, options: kernel ? ['VIMAGE', 'INVARIANTS'] : ['INVARIANTS'], built: module ? ['VIMAGE', 'INVARIANTS'] : ['INVARIANTS'], ...extra }));
  return p;
}
const golden = (name: string) => readFileSync(join(FIX, 'golden', name), 'utf8');

test('VIMAGE kernel, module built with VIMAGE: each vnet has its own counter, constructors and destructors run per vnet', () => {
  const r = kctx('run', cell(true, true), '--trace', 'none');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'vnstat: input 42, now 42 packets\nvnstat: 0 packets, ttl 64\nvnstat: vnet teardown, 0 packets\nvnstat: vnet teardown, 42 packets\n');
});

test('VIMAGE kernel, module built without VIMAGE: the jail reads the host counter, and the callout faults at 0x28 in ifunit()', () => {
  const r = kctx('run', cell(true, false), '--trace', 'none');
  assert.equal(r.code, 3);
  assert.equal(r.out, [
    'vnstat: input 42, now 42 packets',
    'vnstat: 42 packets, ttl 64',
    'Fatal trap 12: page fault while in kernel mode',
    'cpuid = 0; apic id = 00',
    'fault virtual address\t= 0x28',
    'fault code\t\t= supervisor read data, page not present',
    'current thread\t\t= callout (tid 100005)',
    'trap number\t\t= 12',
    'panic: page fault',
    'cpuid = 0',
    'time = 0',
    'KDB: stack backtrace:',
  ].join('\n') + '\n' + r.out.split('KDB: stack backtrace:\n')[1]);
  assert.match(r.out, /#0 0x\w+ at ifunit\+0x4a\n#1 0x\w+ at vnstat_tick\+0x\w+\n/);
});

test('non-VIMAGE kernel, module built with VIMAGE: kldload fails naming the first undefined symbol and leaves nothing behind', () => {
  const r = kctx('run', cell(false, true), '--trace', 'none', '--mdb', '::vnets', '--mdb', 'vnstat_input::whatis');
  assert.equal(r.code, 2);
  assert.equal(r.out, [
    "kctx: jail j1: this kernel has no options VIMAGE, so the jail shares the host's network stack",
    'link_elf_obj: symbol vnet0 undefined',
    "kldload: can't load vnstat.ko: No such file or directory",
    'kctx: thread host not started: its entry vnstat_input() is not in the kernel (vnstat.ko did not load)',
    'kctx: thread jailed not started: its entry vnstat_report() is not in the kernel (vnstat.ko did not load)',
    'kctx: thread callout not started: its entry vnstat_tick() is not in the kernel (vnstat.ko did not load)',
    '> ::vnets',
    'no vnets: this kernel was built without options VIMAGE',
    '> vnstat_input::whatis',
    'mdb: failed to dereference symbol: unknown symbol name',
  ].join('\n') + '\n');
});

test('non-VIMAGE kernel, module built without VIMAGE: one instance, as on a single-stack system', () => {
  const r = kctx('run', cell(false, false), '--trace', 'none');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, "kctx: jail j1: this kernel has no options VIMAGE, so the jail shares the host's network stack\nvnstat: input 42, now 42 packets\nvnstat: 42 packets, ttl 64\nvnstat: vnet teardown, 42 packets\n");
});

test('"matrix": true runs the four cells and ends with a table', () => {
  const r = kctx('run', cell(true, true, { matrix: true }), '--trace', 'none');
  assert.equal(r.code, 3);
  assert.equal(r.out.slice(r.out.indexOf('=== matrix ===')), golden('matrix.txt'));
  assert.equal((r.out.match(/^=== .* ===$/gm) ?? []).length, 5);
});

test('kctx diff of the two VIMAGE-kernel cells: first differing event with both stacks, and the aliased instance', () => {
  const p = cell(true, true);
  const r = kctx('diff', `${p}@vimage/vimage`, `${p}@vimage/novimage`);
  assert.equal(r.code, 1, r.err);
  assert.equal(r.out.replaceAll(p.replace(/^.*\//, ''), 'S'), golden('diff-vimage.txt'));
});

test('kctx diff of a configuration with itself: no difference, exit 0', () => {
  const p = cell(true, true);
  const r = kctx('diff', p, p);
  assert.equal(r.code, 0);
  assert.match(r.out, /^no difference: \d+ events, the same in both runs$/m);
});

test('CURVNET_SET of a NULL vnet in a module built with INVARIANTS panics with the vnet.h message', () => {
  const r = kctx('run', join(FIX, 'curvnet.ksim.json'), '--trace', 'none');
  assert.equal(r.code, 3);
  assert.equal(r.out.split('\n')[0], 'panic: CURVNET_SET at curvnet.c:11 stale_tick() curvnet=0 vnet=0');
});

test('lock order: reported the first time two locks are taken in opposite orders, and the run ends (no hang)', () => {
  const r = kctx('run', join(EX, 'bsf.ksim.json'));
  assert.equal(r.code, 0, r.err);
  const lines = r.out.split('\n');
  const hz = lines.findIndex((l) => l.includes('hazard:lock-order'));
  assert.ok(hz > 0);
  assert.match(lines[hz]!, /\| hazard:lock-order\s+gc lock order reversal: gc takes vmnt_lock while holding vnode_lock, but vfs took vnode_lock while holding vmnt_lock: potential deadlock$/);
  assert.equal(lines.filter((l) => l.includes('hazard:')).length, 1);
  assert.ok(lines.findIndex((l) => /-> thread_exit\s+gc/.test(l)) > hz);
});

test('asserts compiled out: the trylock vanishes, the unlock finds the mutex unheld, and the diff points at the assert', () => {
  const run = kctx('run', join(EX, 'bsf.ksim.json'), '--no-asserts');
  assert.equal(run.code, 3);
  assert.match(run.out, /\| hazard:unlock-unheld\s+bsf unlock of unheld mutex bsf_lock by bsf\n/);
  assert.match(run.out, /^panic: failed to unlock block special file lock$/m);
  const r = kctx('diff', join(EX, 'bsf.ksim.json'), '--no-asserts');
  assert.equal(r.code, 1);
  assert.equal(r.out, golden('diff-no-asserts.txt'));
});

test('mdb: ::vnets, ::vnet_sysinit and ::whatis (instance, master copy, ordinary global) mid-run', () => {
  // The live scenario runs the example's vnstat.c (copied beside it in the work folder).
  const live = join(dir, 'vnstat-live.ksim.json');
  copyFileSync(join(FIX, 'vnstat-live.ksim.json'), live);
  const r = kctx('run', live, '--trace', 'none', '--mdb', '::vnets', '--mdb', '::vnet_sysinit', '--mdb', '::vnet_sysinit -u',
    '--mdb', 'vnet_entry_vnstat_packets::whatis', '--mdb', 'fffffe00f002dcc8::whatis', '--mdb', 'fffffe00f001b490::whatis', '--mdb', 'vnet_entry_ip_defttl::whatis');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, golden('mdb-live.txt'));
  const plain = kctx('run', cell(true, false, { teardown: false }), '--trace', 'none', '--mdb', 'vnstat_packets::whatis', '--mdb', '::vnet_sysinit');
  assert.equal(plain.out.slice(plain.out.indexOf('> vnstat_packets::whatis')), golden('mdb-plain.txt'));
});

test('scenario errors name the key', () => {
  const bad = join(dir, 'bad.ksim.json');
  writeFileSync(bad, JSON.stringify({ kernel: 'freebsd-14', options: ['VIMAGE', 'SMP'], sources: ['vnstat.c'], threads: [{ name: 'a', entry: 'vnstat_input' }] }));
  const r = kctx('run', bad);
  assert.equal(r.code, 2);
  assert.equal(r.err, `kctx: ${bad}:1:44: "options": unknown option "SMP" (known: VIMAGE, INVARIANTS, VNET_DEBUG)\n`);
  writeFileSync(bad, JSON.stringify({ kernel: 'illumos-13917', jails: [], threads: [{ name: 'a', entry: 'builtin:spin' }] }));
  assert.match(kctx('run', bad).err, /"jails" is a key of "kernel": "freebsd-14" scenarios/);
});

test('the classic mistakes on the right configuration: vnet0-only SYSINIT, goto past CURVNET_RESTORE, callout without CURVNET_SET', () => {
  const r = kctx('run', join(EX, 'vnstat_bad.ksim.json'));
  assert.equal(r.code, 3);
  assert.match(r.out, /\| kernel:cmn_err\s+jailed vnstat: 0 packets, ttl 0\n/);
  assert.match(r.out, /\| vnet:curvnet-set\s+rx vnet 0 \(was NULL\) in vnstat_rx\(\)\n/);
  assert.doesNotMatch(r.out, /vnet:curvnet-restore\s+rx/);
  assert.match(r.out, /\nfault virtual address\t= 0x28\n[^]*\n#0 0x\w+ at vnstat_tick\+0xc\n/);
});
