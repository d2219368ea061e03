/**
 * The language server against hostile input (issue 17): documents by URI that are devices or
 * FIFOs are refused at once, workspace diagnostics walk a folder full of symlink loops once and
 * do not hold up other requests, and a seeded stream of hostile documents and edits is answered
 * request by request with the server still serving at the end. Bounded by count.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ResponseError, createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { scratchDir } from '../scratch';

const REPO = resolve(__dirname, '..', '..', '..');
const ws = scratchDir('kctx-lsp-hostile-');
const C = '#include <sys/types.h>\nvoid f(void) { installctx(0, 0, 0, 0, 0, 0, 0, 0); }\n';
const N = 300;
mkdirSync(join(ws, 'd'));
for (let i = 0; i < N; i++) writeFileSync(join(ws, 'd', `f${String(i).padStart(3, '0')}.c`), C);
symlinkSync('.', join(ws, 'x'));
symlinkSync('.', join(ws, 'y'));
symlinkSync('..', join(ws, 'd', 'up'));
symlinkSync('/dev/zero', join(ws, 'zero.c'));
execFileSync('mkfifo', [join(ws, 'fifo.c')]);

let proc: ChildProcess;
let conn: MessageConnection;
let exitCode: number | null = null;

before(async () => {
  proc = spawn(process.execPath, [join(REPO, 'dist', 'kctx.js'), 'lsp', '--stdio'], { stdio: ['pipe', 'pipe', 'ignore'] });
  proc.on('exit', (c) => { exitCode = c; });
  conn = createMessageConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
  conn.onNotification('textDocument/publishDiagnostics', () => {});
  conn.onRequest('client/registerCapability', () => null);
  conn.onRequest('workspace/diagnostic/refresh', () => null);
  conn.listen();
  await conn.sendRequest('initialize', {
    processId: process.pid, rootUri: pathToFileURL(ws).href, workspaceFolders: [{ uri: pathToFileURL(ws).href, name: 'w' }],
    capabilities: { textDocument: { diagnostic: {} } }, initializationOptions: { debounceMs: 0, settings: { kctx: { kernelEra: '13917' } } },
  });
  await conn.sendNotification('initialized', {});
});

after(async () => {
  try { await conn.sendRequest('shutdown'); await conn.sendNotification('exit'); } catch { /* gone */ }
  conn.dispose();
  proc.kill();
});

const peakMb = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))![1]) / 1024;

test('pull diagnostics of file:///dev/zero, a symlink to it and a FIFO: an error response at once, bounded memory', async () => {
  for (const [uri, why] of [['file:///dev/zero', /a character device, not a file/], [pathToFileURL(join(ws, 'zero.c')).href, /a character device, not a file/], [pathToFileURL(join(ws, 'fifo.c')).href, /a FIFO \(named pipe\), not a file/]] as const) {
    await assert.rejects(conn.sendRequest('textDocument/diagnostic', { textDocument: { uri } }), (e: unknown) => {
      assert.ok(e instanceof ResponseError);
      assert.match(e.message, why);
      return true;
    });
  }
  // Before: 17 GB read from /dev/zero and no answer.
  assert.ok(peakMb() < 400, `peak ${peakMb()} MB`);
});

test('workspace diagnostics: each real file once through two self links and a link up; a request sent after it is answered first', async () => {
  const order: string[] = [];
  const wsReq = conn.sendRequest('workspace/diagnostic', { previousResultIds: [] }).then((r) => { order.push('workspace'); return r as { items: Array<{ uri: string; items: unknown[] }> }; });
  const hover = conn.sendRequest('textDocument/hover', { textDocument: { uri: 'file:///nonexistent.c' }, position: { line: 0, character: 0 } }).then(() => order.push('hover'));
  const [r] = await Promise.all([wsReq, hover]);
  assert.deepEqual(order, ['hover', 'workspace'], 'the walk and the lint yield between files');
  const uris = r.items.map((i) => i.uri);
  assert.equal(uris.length, N, 'every real file once (no x/, y/, d/up/ copies, no device, no FIFO)');
  assert.equal(new Set(uris).size, N);
  assert.ok(uris.every((u) => /\/d\/f\d{3}\.c$/.test(u)));
  assert.ok(r.items.every((i) => i.items.length > 0), 'each file has its finding');
});

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 0x100000000; };
}

test('60 seeded hostile documents and 200 random edits: every request answered, the server still serving', async () => {
  const r = rng(0x15a);
  const TOKENS = ['installctx(', 'ctxop_allocate(', '{', '}', '(', ')', ';', 'kpreempt_disable();', 'if (x)', '#if 1\n', '#endif\n', '/*', '*/', '"', "'", '\\\n', 'int', 'struct ctxop_template t = {', '.ct_rev =', ',', '\n', 'ASSERT(x++);', 'CURVNET_SET(v);', '\u0000', '\u00ff', '\ud800'];
  const docs: string[] = [];
  for (let i = 0; i < 60; i++) {
    const k = Math.floor(r() * 6);
    let text: string;
    if (k === 0) text = '('.repeat(Math.floor(r() * 20000));
    else if (k === 1) text = 'x'.repeat(Math.floor(r() * 1_000_000));
    else if (k === 2) text = Array.from({ length: Math.floor(r() * 2000) }, () => String.fromCharCode(Math.floor(r() * 65536))).join('');
    else if (k === 3) text = '#define A(x) A(x) A(x)\n'.repeat(50) + 'A(1)\n';
    else text = Array.from({ length: Math.floor(r() * 3000) }, () => TOKENS[Math.floor(r() * TOKENS.length)]!).join(' ');
    const uri = `file:///tmp/kctx-hostile-${i}.c`;
    docs.push(uri);
    await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'c', version: 1, text } });
  }
  let answered = 0;
  for (let i = 0; i < 200; i++) {
    const uri = docs[Math.floor(r() * docs.length)]!;
    const line = Math.floor(r() * 50) - 5;
    const ch = Math.floor(r() * 200) - 5;
    await conn.sendNotification('textDocument/didChange', {
      textDocument: { uri, version: i + 2 },
      contentChanges: [{ range: { start: { line, character: ch }, end: { line: line + Math.floor(r() * 3), character: Math.floor(r() * 80) } }, text: TOKENS[Math.floor(r() * TOKENS.length)]!.repeat(Math.floor(r() * 50)) }],
    });
    if (i % 4 === 0) {
      try {
        await conn.sendRequest('textDocument/diagnostic', { textDocument: { uri } });
      } catch (e) {
        assert.ok(e instanceof ResponseError, String(e));
      }
      answered++;
    }
    if (i % 10 === 0) {
      try { await conn.sendRequest('textDocument/codeAction', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 3, character: 0 } }, context: { diagnostics: [], only: ['source.fixAll.kctx'] } }); } catch (e) { assert.ok(e instanceof ResponseError); }
    }
  }
  assert.equal(answered, 50);
  const h = await conn.sendRequest('textDocument/hover', { textDocument: { uri: docs[0]! }, position: { line: 0, character: 1 } });
  assert.ok(h === null || typeof h === 'object');
  assert.equal(exitCode, null, 'the server is alive');
  assert.ok(peakMb() < 1500, `peak ${peakMb()} MB`);
});
