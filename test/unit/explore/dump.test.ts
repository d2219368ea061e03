/** Crash dumps: mdb on a dump prints what it printed on the live machine at the same point. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { scratchDir } from '../../scratch';

const KCTX = join(process.cwd(), 'dist', 'kctx.js');
function kctx(args: string[], input = '') {
  const r = spawnSync(process.execPath, [KCTX, ...args], { encoding: 'utf8', timeout: 120_000, input });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const dir = scratchDir('kctx-dump-');
const CMDS = ['::status', '::msgbuf', '::panicinfo', '$c', '::stacks', '::findleaks', '::ctxops', '::threadlist', '::walk thread', '::cpuinfo', '::kmem_verify'];

/** The mdb part of a run's output: from the first `> ` line on. */
function mdbPart(out: string): string {
  const i = out.indexOf('\n> ');
  return out.startsWith('> ') ? out : out.slice(i + 1);
}

test('a dump of the panicked attach race: ::status, ::msgbuf, ::panicinfo, $c, ::stacks, ::findleaks, ::ctxops and more print what the live machine printed', () => {
  const sched = join(dir, 'race.schedule.json');
  writeFileSync(sched, '{"version":1,"decisions":[{"step":222,"preempt":true}]}\n');
  const dump = join(dir, 'race.dump');
  const mdbArgs = CMDS.flatMap((c) => ['--mdb', c]);
  const live = kctx(['run', 'examples/explore/attach-race.ksim.json', '--schedule', sched, '--trace', 'none', '--dump', dump, ...mdbArgs]);
  assert.equal(live.code, 3, live.err);
  const post = kctx(['mdb', dump, ...mdbArgs]);
  assert.equal(post.code, 3, post.err);
  const a = mdbPart(live.out);
  const b = mdbPart(post.out);
  assert.match(a, /> ::panicinfo\n +cpu +0\n/);
  assert.match(a, /> \$c\nvpanic\(\)\nvcpu_save\+0x[0-9a-f]+\(/);
  assert.match(a, /vcpu_save/);
  assert.equal(b, a);
  // Commands typed at the prompt (standard input) too.
  const typed = kctx(['mdb', dump], '::panicinfo\n$c\n');
  assert.equal(typed.out, a.slice(a.indexOf('> ::panicinfo\n') + 14, a.indexOf('> ::stacks')).replace(/> \$c\n/, ''));
});

test('a dump at the end of a leaky run: ::findleaks finds the same leaks; the file is versioned gzip and smaller than the memory', () => {
  const dump = join(dir, 'leaky.dump');
  const cmds = ['::findleaks', '::findleaks -dv', '::status', '::msgbuf', '::stacks'].flatMap((c) => ['--mdb', c]);
  const live = kctx(['run', 'examples/leaky/leaky.ksim.json', '--trace', 'none', '--dump', dump, ...cmds]);
  assert.equal(live.code, 0, live.err);
  const post = kctx(['mdb', dump, ...cmds]);
  assert.equal(post.code, 0, post.err);
  assert.match(mdbPart(live.out), /kmem_alloc_96/);
  assert.equal(mdbPart(post.out), mdbPart(live.out));
  const bytes = readFileSync(dump);
  assert.deepEqual([...bytes.subarray(0, 2)], [0x1f, 0x8b]);
  const d = JSON.parse(gunzipSync(bytes).toString('utf8'));
  assert.equal(d.format, 'kctx-dump');
  assert.equal(d.version, 1);
  assert.ok(statSync(dump).size < d.mem.top / 4, `compressed: ${statSync(dump).size} bytes for ${d.mem.top} bytes of memory`);
});

test('a damaged or foreign dump is a clear error (exit 2)', () => {
  const bad = join(dir, 'bad.dump');
  writeFileSync(bad, Buffer.from([0x1f, 0x8b, 1, 2, 3]));
  const r = kctx(['mdb', bad]);
  assert.equal(r.code, 2);
  assert.match(r.err, /bad\.dump: a damaged crash dump/);
});
