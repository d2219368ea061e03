/** `kctx explore` end to end: finds the race, replays it, shards merge into the unsharded result, jobs agree. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from '../../scratch';

const KCTX = join(process.cwd(), 'dist', 'kctx.js');
function kctx(...args: string[]) {
  const r = spawnSync(process.execPath, [KCTX, ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const dir = scratchDir('kctx-explore-');
const RACE = 'examples/explore/attach-race.ksim.json';

interface Report { version: number; schedules: number; failures: Array<{ kind: string; message: string; signature: string; schedule: string; dump: string | null; preemptions: number; found: { index: number } }> }

test('the attach race: an ordinary run ends cleanly; explore finds the page fault in vcpu_save with one preemption; the schedule replays to it', () => {
  assert.equal(kctx('run', RACE, '--trace', 'none').code, 0, 'ordinary runs never hit the window');
  const out = join(dir, 'race');
  const r = kctx('explore', RACE, '--budget', '1000', '--out', out, '--format', 'json');
  assert.equal(r.code, 1, r.err);
  const rep = JSON.parse(r.out) as Report;
  assert.equal(rep.version, 1);
  assert.equal(rep.schedules, 1000);
  assert.equal(rep.failures.length, 1);
  const f = rep.failures[0]!;
  assert.equal(f.kind, 'panic');
  assert.equal(f.signature, 'panic: vcpu_save < savectx < resume < swtch < preempt < kpreempt');
  assert.match(f.message, /^BAD TRAP: type=e \(#pf Page fault\) rp=[0-9a-f]{16} addr=0$/);
  assert.equal(f.preemptions, 1);
  assert.deepEqual(Object.keys(f).slice(0, 6), ['kind', 'message', 'signature', 'schedule', 'dump', 'preemptions']);
  const sched = JSON.parse(readFileSync(f.schedule, 'utf8'));
  assert.equal(sched.decisions.length, 1, 'minimised to the one preemption');
  const replay = kctx('run', RACE, '--schedule', f.schedule, '--trace', 'none');
  assert.equal(replay.code, 3);
  const lines = replay.out.split('\n');
  assert.equal(lines[0], `panic[cpu0]/thread=${lines[0]!.slice(19, 35)}: ${f.message}`);
  assert.match(lines[2]!, / vcpu_save\+0x[0-9a-f]+\(/);
  // The dump beside the schedule opens post-mortem at the panic.
  assert.equal(f.dump, join(out, '1-panic.dump'));
  const pm = kctx('mdb', f.dump!, '--mdb', '::panicinfo', '--mdb', '$c');
  assert.equal(pm.code, 3, pm.err);
  assert.match(pm.out, new RegExp(`message ${f.message.replace(/[()[\].*+?^$|\\]/g, '\\$&')}\n`));
  assert.match(pm.out, /> \$c\nvpanic\(\)\nvcpu_save\+0x[0-9a-f]+\(/);
  // The same search with text output: the summary table.
  const t = kctx('explore', RACE, '--budget', '1000');
  assert.equal(t.code, 1);
  assert.match(t.out, /^kctx explore: examples\/explore\/attach-race\.ksim\.json \(pct, depth 2\): 1000 schedules, 1 distinct failure\n\n#  KIND   PREEMPTIONS  FOUND +SIGNATURE\n1  panic  1 +#\d+ +panic: vcpu_save < savectx/);
});

test('two shards merged equal one unsharded run; --jobs 2 equals --jobs 1', () => {
  const args = ['explore', RACE, '--budget', '400', '--strategy', 'random', '--depth', '3', '--format', 'json'];
  const whole = kctx(...args, '--out', join(dir, 'whole'));
  const s0 = kctx(...args, '--shard', '0/2', '--out', join(dir, 's0'));
  const s1 = kctx(...args, '--shard', '1/2', '--out', join(dir, 's1'));
  assert.equal(whole.code, 1, whole.err);
  const w = JSON.parse(whole.out) as Report;
  const a = JSON.parse(s0.out) as Report;
  const b = JSON.parse(s1.out) as Report;
  assert.equal(a.schedules + b.schedules, 400);
  assert.equal(a.schedules, 200);
  const merged = kctx('explore', '--merge', join(dir, 's0'), join(dir, 's1'), '--format', 'json');
  assert.equal(merged.code, 1, merged.err);
  const mg = JSON.parse(merged.out) as Report;
  const strip = (r: Report) => ({ ...r, failures: r.failures.map((f) => ({ ...f, schedule: readFileSync(f.schedule, 'utf8'), dump: null })) });
  assert.deepEqual(strip(mg), strip(w));
  const jobs = kctx(...args, '--jobs', '2');
  const one = kctx(...args);
  assert.equal(jobs.code, 1, jobs.err);
  assert.equal(jobs.out, one.out, 'worker threads give the same bytes');
});

test('usage and load errors exit 2', () => {
  const bad = kctx('explore', RACE, '--strategy', 'dfs');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--strategy expects pct, random or preempt-bound, got 'dfs'/);
  assert.equal(kctx('explore', RACE, '--shard', '2/2').code, 2);
  assert.match(kctx('explore', RACE, '--until', 'panic,oops').err, /unknown kind 'oops'/);
  assert.equal(kctx('explore').code, 2);
  const missing = kctx('explore', join(dir, 'nope.ksim.json'));
  assert.equal(missing.code, 2);
  assert.match(missing.err, /nope\.ksim\.json/);
  const merge = kctx('explore', '--merge', join(dir, 'nowhere'));
  assert.equal(merge.code, 2);
  assert.match(merge.err, /nowhere[/\\]explore\.json: cannot read: no such file/);
});
