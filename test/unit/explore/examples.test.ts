/**
 * The explore examples: each has a ctxop race an ordinary run never hits; explore finds it within
 * the budget its docs state, and its schedule replays to the same panic.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { scratchDir } from '../../scratch';

const KCTX = join(process.cwd(), 'dist', 'kctx.js');
function kctx(...args: string[]) {
  const r = spawnSync(process.execPath, [KCTX, ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const dir = scratchDir('kctx-explore-ex-');

const EXAMPLES = [
  { file: 'attach-race', budget: 1000, kind: 'panic', signature: 'panic: vcpu_save < savectx < resume < swtch < preempt < kpreempt', message: /^BAD TRAP: type=e \(#pf Page fault\) rp=\w+ addr=0$/ },
  { file: 'free-attached', budget: 300, kind: 'panic', signature: 'panic: vcpu_restore < restorectx < _resume_from_idle < swtch < preempt < kpreempt', message: /^BAD TRAP: type=e \(#pf Page fault\) rp=\w+ addr=deadbeefdeadbeef$/ },
  { file: 'half-init', budget: 100, kind: 'assert', signature: 'assert: assfail3 < vm_restore < restorectx < _resume_from_idle < swtch < preempt', message: /^assertion failed: vm->vm_magic == 0x766d6d00 \(0x0 == 0x766d6d00\), file: half-init\.c, line: \d+$/ },
];

for (const ex of EXAMPLES) {
  test(`examples/explore/${ex.file}: clean ordinarily; explore finds the ${ex.kind} within ${ex.budget} schedules; its schedule replays to the same panic`, () => {
    const scenario = `examples/explore/${ex.file}.ksim.json`;
    assert.equal(kctx('run', scenario, '--trace', 'none').code, 0, 'an ordinary run ends cleanly');
    const out = join(dir, ex.file);
    const r = kctx('explore', scenario, '--budget', String(ex.budget), '--out', out, '--format', 'json');
    assert.equal(r.code, 1, r.err);
    const rep = JSON.parse(r.out) as { failures: Array<{ kind: string; signature: string; message: string; schedule: string; preemptions: number }> };
    assert.deepEqual(rep.failures.map((f) => [f.kind, f.signature]), [[ex.kind, ex.signature]]);
    const f = rep.failures[0]!;
    assert.match(f.message, ex.message);
    assert.equal(f.preemptions, 1);
    const replay = kctx('run', scenario, '--schedule', f.schedule, '--trace', 'none');
    assert.equal(replay.code, 3);
    assert.match(replay.out.split('\n')[0]!, new RegExp(`^panic\\[cpu0\\]/thread=[0-9a-f]{16}: ${f.message.replace(/[()[\].*+?^$|\\]/g, '\\$&')}$`));
  });
}
