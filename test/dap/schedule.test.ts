/** The "schedule" launch attribute: the run replays an explored schedule, stops at its panic, and steps back to the cause. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inProc, ROOT } from './helpers';
import { scratchDir } from '../scratch';

const RACE = join(ROOT, 'examples', 'explore', 'attach-race.ksim.json');
const dir = scratchDir('kctx-dap-sched-');

test('launch with "schedule": stopped at the panic in vcpu_save, a step back is in vcpu_run before the store of v_fpu', async () => {
  const sched = join(dir, 'race.schedule.json');
  writeFileSync(sched, '{"version":1,"decisions":[{"step":222,"preempt":true}]}\n');
  const c = inProc();
  try {
    const m = c.mark();
    // The editor sends the default filters (panic among them) before configurationDone.
    await c.launchWith({ scenario: RACE, schedule: sched }, (cl) => cl.setExceptionBreakpointsRequest({ filters: ['panic'] }));
    const st = await c.stopAfter(m);
    assert.equal(st.body.reason, 'exception');
    assert.match(st.body.text ?? st.body.description ?? '', /BAD TRAP/);
    const tid = st.body.threadId!;
    const names = await c.frameNames(tid);
    assert.equal(names[0], 'vcpu_save');
    assert.ok(names.includes('savectx') && names.includes('vcpu_run'), names.join(' '));
    // Backwards, out of the switch, to the C statement the preemption interrupted.
    let back = await c.back(tid);
    for (let i = 0; i < 50 && (await c.frameNames(back.body.threadId!))[0] !== 'vcpu_run'; i++) back = await c.back(back.body.threadId!);
    const top = (await c.frames(back.body.threadId!))[0]!;
    assert.equal(top.name.replace(/\(.*$/, ''), 'vcpu_run');
    assert.match(top.source?.path ?? '', /attach-race\.c$/);
  } finally {
    await c.close();
  }
});

test('a bad schedule is a launch error naming the file and the decision', async () => {
  const bad = join(dir, 'bad.schedule.json');
  writeFileSync(bad, '{"version":1,"decisions":[{"step":"x","preempt":true}]}');
  const c = inProc();
  try {
    await c.init();
    await assert.rejects(c.launchRequest({ scenario: RACE, schedule: bad } as never), /bad\.schedule\.json: decisions\[0\]\.step: expected a non-negative integer/);
  } finally {
    await c.close();
  }
});

test('launch with "dump": a post-mortem session stopped at the panic: threads, stacks, variables and mdb; no stepping', async () => {
  const { spawnSync } = await import('node:child_process');
  const sched = join(dir, 'pm.schedule.json');
  writeFileSync(sched, '{"version":1,"decisions":[{"step":222,"preempt":true}]}\n');
  const dump = join(dir, 'pm.dump');
  const run = spawnSync(process.execPath, [join(ROOT, 'dist', 'kctx.js'), 'run', RACE, '--schedule', sched, '--trace', 'none', '--dump', dump, '--mdb', '::panicinfo', '--mdb', '::ctxops'], { encoding: 'utf8' });
  assert.equal(run.status, 3, run.stderr);
  const live = run.stdout.slice(run.stdout.indexOf('> ::panicinfo\n'));
  const c = inProc();
  try {
    const m = c.mark();
    await c.launchWith({ dump });
    const st = await c.stopAfter(m);
    assert.equal(st.body.reason, 'exception');
    assert.equal(st.body.text, (/BAD TRAP.*/.exec(live) ?? [''])[0]);
    const threads = await c.threadsByName();
    assert.ok(threads.has('vcpu0') && threads.has('vcpu1'), [...threads.keys()].join(' '));
    const names = await c.frameNames(st.body.threadId!);
    assert.deepEqual(names.slice(0, 3), ['vcpu_save', 'savectx', 'resume']);
    const frames = await c.frames(st.body.threadId!);
    const scopes = (await c.scopesRequest({ frameId: frames[0]!.id })).body.scopes;
    assert.ok(scopes.length > 0);
    const vars = (await c.variablesRequest({ variablesReference: scopes[0]!.variablesReference })).body.variables;
    assert.ok(vars.length > 0);
    const info = await c.exceptionInfoRequest({ threadId: st.body.threadId! });
    assert.equal(info.body.exceptionId, 'panic');
    assert.equal(await c.repl('::panicinfo') + '\n', live.slice(14, live.indexOf('> ::ctxops')).replace(/\n$/, '') + '\n');
    assert.equal((await c.repl('::ctxops')).trimEnd(), live.slice(live.indexOf('> ::ctxops\n') + 11).trimEnd());
    await assert.rejects(c.nextRequest({ threadId: st.body.threadId! }), /crash dump \(post-mortem\)/);
    await assert.rejects(c.continueRequest({ threadId: st.body.threadId! }), /crash dump/);
    await assert.rejects(c.stepBackRequest({ threadId: st.body.threadId! }), /crash dump/);
  } finally {
    await c.close();
  }
});
