/**
 * Robustness: malformed and out-of-order requests get error responses and the adapter keeps
 * serving (in-process and over stdio of the bundled adapter). Bounded, seeded, deterministic.
 */
import { describe, it, afterEach } from 'node:test';
import * as assert from 'node:assert/strict';
import { inProc, stdio, fixture, Client } from './helpers';

let dc: Client | null = null;
afterEach(async () => {
  await dc?.close();
  dc = null;
});

const COMMANDS = [
  'initialize', 'launch', 'attach', 'configurationDone', 'setBreakpoints', 'setFunctionBreakpoints', 'setExceptionBreakpoints',
  'dataBreakpointInfo', 'setDataBreakpoints', 'breakpointLocations', 'continue', 'next', 'stepIn', 'stepOut', 'stepBack', 'reverseContinue',
  'pause', 'stackTrace', 'scopes', 'variables', 'setVariable', 'source', 'threads', 'evaluate', 'completions', 'exceptionInfo',
  'readMemory', 'restart', 'kctx/mdb', 'kctx/state', 'kctx/timeline', 'goto', 'modules', 'nonesuch',
];

/** xorshift32: the same garbage every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

function garbage(r: () => number, depth = 0): unknown {
  const k = Math.floor(r() * 9);
  switch (k) {
    case 0: return null;
    case 1: return Math.floor(r() * 2 ** 31) - 2 ** 30;
    case 2: return r() < 0.5 ? -1 : 1e300;
    case 3: return 'x'.repeat(Math.floor(r() * 40));
    case 4: return r() < 0.5;
    case 5: return depth > 2 ? {} : { threadId: garbage(r, depth + 1), frameId: garbage(r, depth + 1), variablesReference: garbage(r, depth + 1), name: garbage(r, depth + 1) };
    case 6: return depth > 2 ? [] : [garbage(r, depth + 1), garbage(r, depth + 1)];
    case 7: return { source: { path: garbage(r, depth + 1) }, breakpoints: [{ line: garbage(r, depth + 1) }], expression: garbage(r, depth + 1), filters: garbage(r, depth + 1) };
    default: return undefined;
  }
}

async function stillServing(c: Client): Promise<void> {
  const t = await c.threadsRequest();
  assert.ok(Array.isArray(t.body.threads));
}

describe('malformed and out-of-order requests', () => {
  it('requests before launch answer with errors (or empty results) and the session still launches', async () => {
    dc = inProc();
    await dc.init();
    for (const cmd of ['continue', 'next', 'stepBack', 'reverseContinue', 'stackTrace', 'scopes', 'variables', 'evaluate', 'exceptionInfo', 'readMemory', 'kctx/mdb', 'kctx/state', 'kctx/timeline', 'restart', 'pause']) {
      const r = await dc.raw(cmd, { threadId: 1, frameId: 1, variablesReference: 1, expression: '1', command: '::threadlist' });
      assert.equal(r.success, false, `${cmd} before launch`);
      assert.ok(r.message && r.message.length > 0, `${cmd}: a message`);
    }
    assert.deepEqual((await dc.threadsRequest()).body.threads, []);
    const at = await dc.raw('attach', {});
    assert.equal(at.success, false);
    assert.match(at.message ?? '', /use "request": "launch"/);
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('bhyve.ksim.json'), stopOnEntry: true });
    assert.equal((await dc.stopAfter(m)).body.reason, 'entry');
  });

  it('bad arguments on a live session: error responses, no crash, same state after', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('drv.ksim.json'), stopOnEntry: true });
    await dc.stopAfter(m);
    const before = JSON.stringify((await dc.customRequest('kctx/state')).body);
    const bad: Array<[string, unknown]> = [
      ['stackTrace', { threadId: 'one' }], ['scopes', { frameId: 999999 }], ['variables', { variablesReference: 424242 }],
      ['setVariable', { variablesReference: 1, name: 'x', value: '1' }], ['source', { sourceReference: 77 }],
      ['evaluate', { expression: '((((', context: 'watch' }], ['evaluate', { expression: '::nosuchdcmd', context: 'repl' }],
      ['setBreakpoints', { source: { path: fixture('drv.c') }, breakpoints: [{ line: 'ten' }] }], ['next', { threadId: 987654 }],
      ['setExceptionBreakpoints', { filters: ['swtch'], filterOptions: [{ filterId: 'ctxop', condition: '"unterminated' }] }],
      ['readMemory', { memoryReference: 'zz', count: 4 }], ['exceptionInfo', { threadId: 2 }], ['launch', { scenario: fixture('bhyve.ksim.json') }],
      ['setDataBreakpoints', { breakpoints: [{ dataId: 'nonsense' }] }], ['goto', { threadId: 2, targetId: 1 }],
    ];
    for (const [cmd, args] of bad) {
      const r = await dc.raw(cmd, args);
      if (r.success) {
        // Only requests that can succeed with partial results may (unverified breakpoints, mdb's own error text).
        assert.ok(['setExceptionBreakpoints', 'setDataBreakpoints', 'evaluate', 'stackTrace'].includes(cmd), `${cmd} should fail`);
      } else assert.ok(r.message, `${cmd}: message`);
    }
    assert.equal(JSON.stringify((await dc.customRequest('kctx/state')).body), before);
    await stillServing(dc);
  });

  it('garbage bytes and non-request messages are ignored; the adapter keeps serving (stdio)', async () => {
    dc = stdio();
    await dc.init();
    const frame = (body: string) => `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    for (const body of ['{"broken"', 'null', '[]', '{"type":"request","seq":"x"}', '{"type":"request","seq":5,"command":"threads","arguments":"no"}',
      '{"type":"response","seq":9,"success":1}', '{"type":"event","event":"stopped"}', '\u0000\u0001binary', '{"type":"request","seq":6,"command":{"a":1}}']) {
      dc.writeRaw(frame(body));
      const t = await dc.raw('threads', {}, 5000);
      assert.equal(t.success, true, `still serving after ${body}`);
    }
    // A header without a length, then a valid message: the stream resynchronises on the next header.
    dc.writeRaw('X-Junk: 1\r\n\r\n');
    assert.equal((await dc.raw('threads', {}, 5000)).success, true);
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('bhyve.ksim.json'), stopOnEntry: true });
    assert.equal((await dc.stopAfter(m)).body.reason, 'entry');
    await stillServing(dc);
  });

  it('300 seeded random requests with random arguments: every one answered, the session survives', async () => {
    dc = inProc();
    const m = dc.mark();
    await dc.launchWith({ scenario: fixture('drv.ksim.json'), stopOnEntry: true }, (c) => c.setExceptionBreakpointsRequest({ filters: ['swtch'] }));
    await dc.stopAfter(m);
    const r = rng(0xc0ffee);
    let answered = 0;
    for (let i = 0; i < 300; i++) {
      const cmd = COMMANDS[Math.floor(r() * COMMANDS.length)]!;
      if (cmd === 'restart' || cmd === 'launch') continue;
      const args = garbage(r);
      const mk = dc.mark();
      const resp: { command: string; success: boolean } = await dc.raw(cmd, args);
      assert.equal(resp.command, cmd);
      answered++;
      // A request that started the kernel: wait until it stops again (or the run is over).
      if (resp.success && ['continue', 'next', 'stepIn', 'stepOut', 'stepBack', 'reverseContinue'].includes(cmd)) {
        const deadline = Date.now() + 20000;
        while (Date.now() < deadline && !dc.names(mk).some((n) => n === 'stopped' || n === 'terminated')) {
          await new Promise((res) => setTimeout(res, 5));
          if (dc.names(m).includes('terminated')) break;
        }
      }
    }
    assert.ok(answered > 250, `answered ${answered}`);
    await stillServing(dc);
  });
});
