/** `kctx run` end to end: the bundled CLI, exit codes, --stats, panic form, trace export. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from '../../scratch';

const KCTX = join(process.cwd(), 'dist', 'kctx.js');
function kctx(...args: string[]) {
  const r = spawnSync(process.execPath, [KCTX, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const dir = scratchDir('kctx-cli-');
function scenario(name: string, obj: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify(obj, null, 2));
  return p;
}

test('kctx run on the bundled example: dtrace -F flow with save newest-first, restore oldest-first; --stats last', () => {
  const r = kctx('run', 'examples/bhyve-vcpus.ksim.json', '--stats');
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trimEnd().split('\n');
  assert.equal(lines[0], 'CPU FUNCTION');
  const stats = JSON.parse(lines.at(-1)!);
  assert.deepEqual(Object.keys(stats), ['switches', 'hooks', 'steps', 'ticks', 'allocs', 'frees']);
  assert.ok(stats.switches > 2 && stats.hooks > 10);
  const save = lines.findIndex((l) => /-> vmm_savectx\s+vcpu0 save/.test(l));
  assert.ok(save > 0);
  assert.match(lines[save + 2]!, /-> fpsave_ctxt/);
  assert.match(lines[save + 4]!, /-> lwp_segregs_save/);
  const restore = lines.findIndex((l, i) => i > save && /-> restorectx/.test(l) && /vcpu1|vcpu0/.test(l) && /-> lwp_segregs_restore/.test(lines[i + 1]!) && /vmm_restorectx/.test(lines[i + 5] ?? ''));
  assert.ok(restore > 0, 'a restore with segregs, fpu, vmm in that order');
  assert.match(lines[save]!, /^ {2}0 +-> vmm_savectx +vcpu0 save fffffe00f[0-9a-f]{7}$/);
});

test('same seed, same bytes; --trace none prints only the stats', () => {
  const a = kctx('run', 'examples/bhyve-vcpus.ksim.json', '--seed', '4');
  const b = kctx('run', 'examples/bhyve-vcpus.ksim.json', '--seed=4');
  assert.equal(a.out, b.out);
  const n = kctx('run', 'examples/bhyve-vcpus.ksim.json', '--trace', 'none', '--stats');
  assert.equal(n.out.trim().split('\n').length, 1);
});

test('a bad scenario exits 2 with file:line:col and the reason', () => {
  const p = scenario('bad.ksim.json', { kernel: 'illumos-13917', threads: [{ name: 'a', entry: 'builtin:nope' }] });
  const r = kctx('run', p);
  assert.equal(r.code, 2);
  assert.match(r.err, /bad\.ksim\.json:1:1: threads\[0\]\.entry: unknown built-in workload 'builtin:nope' \(known: builtin:bhyve-vcpu, builtin:kvm-vcpu, builtin:kfpu, builtin:spin\)/);
  const missing = kctx('run', join(dir, 'nope.ksim.json'));
  assert.equal(missing.code, 2);
  assert.match(missing.err, /nope\.ksim\.json:1:1: cannot read the scenario: no such file/);
});

test('usage errors exit 2', () => {
  assert.equal(kctx('run').code, 2);
  assert.equal(kctx('run', 'x.json', '--trace', 'json').code, 2);
  assert.equal(kctx('run', 'x.json', '--bogus').code, 2);
  assert.equal(kctx('frobnicate').code, 2);
});


test('--max-steps stops a run that does not end: exit 4 with a message', () => {
  const p = scenario('long.ksim.json', { kernel: 'illumos-13917', threads: [{ name: 's', entry: 'builtin:spin', arg: 100000 }] });
  const r = kctx('run', p, '--trace', 'none', '--max-steps', '5000', '--stats');
  assert.equal(r.code, 4);
  assert.match(r.out, /stopped at the step limit \(5000 steps\)/);
  assert.equal(JSON.parse(r.out.trim().split('\n').at(-1)!).steps, 5000);
});

test('--export-trace writes Chrome trace events: one track per CPU, slices, hook instants', () => {
  const out = join(dir, 'trace.json');
  const r = kctx('run', 'examples/bhyve-vcpus.ksim.json', '--trace', 'none', '--export-trace', out);
  assert.equal(r.code, 0, r.err);
  const t = JSON.parse(readFileSync(out, 'utf8'));
  const ev = t.traceEvents as Array<{ ph: string; name: string; tid: number; ts?: number }>;
  assert.ok(ev.some((e) => e.ph === 'M' && e.name === 'thread_name'));
  const begins = ev.filter((e) => e.ph === 'B').length;
  const ends = ev.filter((e) => e.ph === 'E').length;
  assert.equal(begins, ends);
  assert.ok(ev.some((e) => e.ph === 'i' && e.name === 'save vmm_savectx'));
  const ts = ev.filter((e) => e.ts !== undefined).map((e) => e.ts!);
  assert.deepEqual(ts, [...ts].sort((a, b) => a - b), 'timestamps never go back');
});

test('--export-trace into a folder that does not exist is a usage error naming the file', () => {
  const out = join(dir, 'no-such-folder', 'trace.json');
  const r = kctx('run', 'examples/bhyve-vcpus.ksim.json', '--trace', 'none', '--export-trace', out);
  assert.equal(r.code, 2, r.out + r.err);
  assert.equal(r.err, `kctx: ${out}: no such file or directory\n`);
});
