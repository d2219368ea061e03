/**
 * The debugger on a warm load: a second session over the same driver and kernel tree, its cache
 * filled by the first (a private cache folder; the in-process unit cache cleared, as in a new
 * process), compiles the driver's functions on first need (cinterp/compiled.ts) and must show
 * exactly what the first showed: the breakpoints' lines, the stack, the variables of every scope,
 * an expression evaluated in a frame, a step.
 */
import { describe, it, afterEach } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inProc, ROOT, Client } from './helpers';
import { scratchDir } from '../scratch';
import { clearUnitCache } from '../../kernel-sim/cinterp/unit-cache';
import { compiledStats } from '../../kernel-sim/cinterp/compiled';

let dc: Client | null = null;
afterEach(async () => {
  await dc?.close();
  dc = null;
});

const HEADER = '#include <sys/types.h>\nstatic inline int mydev_twice(int x) { return (x * 2); }\n';
const DRV = [
  '#include <sys/types.h>',
  '#include <sys/proc.h>',
  '#include <sys/cmn_err.h>',
  '#include "mydev.h"',
  'static int total;',
  'static const char *',
  'never_called(void)',
  '{',
  '\tstatic int seen = 3;',
  '\treturn ("never run");',
  '}',
  'static int',
  'counter(int by)',
  '{',
  '\tstatic int n = 40;',
  '\tint local = by * 3;',
  '\tn += by;', // line 17
  '\treturn (n + local);',
  '}',
  'static void',
  'note(const char *what, int v)',
  '{',
  '\tcmn_err(CE_NOTE, "%s %d", what, v);', // line 23
  '}',
  'void',
  'entry(void *arg)',
  '{',
  '\ttotal = counter(mydev_twice(1));',
  '\tnote("total", total);',
  '}',
  '',
].join('\n');

/** Everything one session shows at its two breakpoints. */
async function session(scen: string, drv: string): Promise<unknown[]> {
  dc = inProc();
  const seen: unknown[] = [];
  const m = dc.mark();
  await dc.launchWith({ scenario: scen }, async (c) => {
    const r = await c.setBreakpointsRequest({ source: { path: drv }, breakpoints: [{ line: 16 }, { line: 23 }, { line: 9 }] });
    seen.push(r.body.breakpoints.map((b) => [b.verified, b.line]));
  });
  const show = async (tid: number): Promise<void> => {
    const frames = await dc!.frames(tid);
    seen.push(frames.map((f) => [f.name, f.line, f.column, f.source?.path]));
    for (const s of (await dc!.scopesRequest({ frameId: frames[0]!.id })).body.scopes) {
      const vars = (await dc!.variablesRequest({ variablesReference: s.variablesReference })).body.variables;
      seen.push([s.name, vars.map((v) => [v.name, v.value, v.type])]);
    }
    for (const e of ['total + 1', 'by * 2', 'what[0]']) seen.push(await dc!.repl(e, frames[0]!.id).catch((x: Error) => x.message));
  };
  let st = await dc.stopAfter(m);
  seen.push([st.body.reason, st.body.description]);
  await show(st.body.threadId!);
  st = await dc.next(st.body.threadId!);
  await show(st.body.threadId!);
  st = await dc.cont(st.body.threadId!);
  seen.push([st.body.reason, st.body.description]);
  await show(st.body.threadId!);
  await dc.close();
  dc = null;
  return seen;
}

describe('a warm load in the debugger', () => {
  it('shows the same breakpoints, stack, variables and values as the cold session that filled the cache', async () => {
    const dir = scratchDir('kctx-dap-warm-');
    mkdirSync(join(dir, 'inc'));
    writeFileSync(join(dir, 'inc', 'mydev.h'), HEADER);
    const drv = join(dir, 'drv.c');
    writeFileSync(drv, DRV);
    const scen = join(dir, 'drv.ksim.json');
    writeFileSync(scen, JSON.stringify({ kernel: 'illumos-13917', gate: join(ROOT, 'test/fixtures/gate'), includePaths: ['inc'], cpus: 1, sources: ['drv.c'], threads: [{ name: 't0', entry: 'entry' }] }));
    const was = { dir: process.env.KCTX_CACHE_DIR, on: process.env.KCTX_CACHE };
    process.env.KCTX_CACHE_DIR = join(dir, 'cache');
    delete process.env.KCTX_CACHE;
    try {
      clearUnitCache();
      const s0 = compiledStats();
      const cold = await session(scen, drv);
      const s1 = compiledStats();
      assert.equal(s1.stored, s0.stored + 1, 'the cold session records its compile');
      clearUnitCache();
      const warm = await session(scen, drv);
      const s2 = compiledStats();
      assert.equal(s2.replayed, s1.replayed + 1, 'the warm session replays it');
      assert.equal(s2.pending, s1.pending + 5, 'with every function pending at load');
      assert.deepEqual(warm, cold);
      // What the sessions saw (not only that they agree).
      assert.deepEqual(cold[0], [[true, 16], [true, 23], [true, 10]]);
      assert.match(JSON.stringify(cold), /\["counter",16,\d+,"[^"]*drv\.c"\],\["entry",28,/);
      assert.match(JSON.stringify(cold), /\["Globals",\[\["total","0","int"\],\["never_called.seen","3","int"\],\["counter.n","40","int"\]\]\]/);
      assert.match(JSON.stringify(cold), /\["Globals",\[\["total","48","int"\],\["never_called.seen","3","int"\],\["counter.n","42","int"\]\]\]/);
      assert.match(JSON.stringify(cold), /\["Locals",\[\["by","2","int"\],\["local","6","int"\]\]\],/);
      assert.match(JSON.stringify(cold), /"1","4","'what' undeclared"/);
    } finally {
      if (was.dir === undefined) delete process.env.KCTX_CACHE_DIR;
      else process.env.KCTX_CACHE_DIR = was.dir;
      if (was.on === undefined) delete process.env.KCTX_CACHE;
      else process.env.KCTX_CACHE = was.on;
    }
  });
});
