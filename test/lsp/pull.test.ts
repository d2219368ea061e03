/**
 * A client that pulls diagnostics (textDocument/diagnostic, as Neovim and Helix do) and passes them
 * back: each pulled diagnostic carries the version of the open document it was computed on, so
 * source.fixAll.kctx and quick fixes given the pulled diagnostics answer with edits.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import type { MessageConnection } from 'vscode-jsonrpc/node';
import { TextDocument } from 'vscode-languageserver-textdocument';

const REPO = resolve(__dirname, '..', '..', '..');
const FIX = join(REPO, 'test', 'fixtures', 'lint');
const path = join(FIX, 'legacy-13917.c');
const uri = pathToFileURL(path).href;
// The open text differs from the file on disk (an unsaved edit above everything).
const text = '/* unsaved */\n' + readFileSync(path, 'utf8');

type Range = { start: { line: number; character: number }; end: { line: number; character: number } };
interface Pulled { kind: string; items: { range: Range; code: string; source: string; message: string; data?: { version?: number } }[] }
interface Action { title: string; kind: string; edit: { documentChanges: { textDocument: { uri: string; version: number }; edits: { range: Range; newText: string }[] }[] } }

let proc: ChildProcess;
let conn: MessageConnection;
let pushed = 0;

before(async () => {
  proc = spawn(process.execPath, [join(REPO, 'dist', 'kctx.js'), 'lsp', '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
  conn = createMessageConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
  conn.onNotification('textDocument/publishDiagnostics', () => { pushed++; });
  conn.onRequest('workspace/diagnostic/refresh', () => null);
  conn.listen();
  await conn.sendRequest('initialize', {
    processId: process.pid,
    rootUri: pathToFileURL(FIX).href,
    capabilities: { textDocument: { diagnostic: { dynamicRegistration: false } } },
    initializationOptions: { debounceMs: 0, settings: { kctx: { kernelEra: '13917' } } },
  });
  await conn.sendNotification('initialized', {});
});

after(async () => {
  try { await conn.sendRequest('shutdown'); await conn.sendNotification('exit'); } catch { /* gone */ }
  conn.dispose();
  proc.kill();
});

test('pull right after didOpen: the diagnostics carry version 1 and the open text\'s ranges; fix-all and quick fixes with them answer', async () => {
  // No await between the notification and the request: a pulling client sends them back to back.
  void conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'c', version: 1, text } });
  const r = await conn.sendRequest('textDocument/diagnostic', { textDocument: { uri } }) as Pulled;
  assert.equal(r.kind, 'full');
  const legacy = r.items.filter((d) => d.code === 'legacy-ctxop-api');
  assert.equal(legacy.length, 2);
  assert.deepEqual(r.items.map((d) => d.data?.version), r.items.map(() => 1));
  // the lines of the open text (one line below the file on disk)
  const lines = text.split('\n');
  assert.deepEqual(legacy.map((d) => lines[d.range.start.line]!.slice(d.range.start.character).replace(/\(.*/, '')), ['installctx', 'removectx'], JSON.stringify(legacy.map((d) => d.range)));

  const all = await conn.sendRequest('textDocument/codeAction', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, context: { diagnostics: r.items, only: ['source.fixAll.kctx'] } }) as Action[];
  assert.equal(all.length, 1);
  assert.equal(all[0]!.kind, 'source.fixAll.kctx');
  const dc = all[0]!.edit.documentChanges[0]!;
  assert.equal(dc.textDocument.version, 1);
  const fixed = TextDocument.applyEdits(TextDocument.create(uri, 'c', 1, text), dc.edits);
  assert.doesNotMatch(fixed, /\b(installctx|removectx)\s*\(lwptot/); // (the #else branch for older kernels stays)
  assert.match(fixed, /ctxop_template/);

  const quick = await conn.sendRequest('textDocument/codeAction', { textDocument: { uri }, range: legacy[0]!.range, context: { diagnostics: [legacy[0]], only: ['quickfix'] } }) as Action[];
  assert.ok(quick.length > 0, 'quick fixes for a pulled diagnostic');
  assert.ok(quick.every((a) => a.edit.documentChanges[0]!.textDocument.version === 1));
});

test('after an edit the pull carries the new version; diagnostics of the old version are refused', async () => {
  const before = await conn.sendRequest('textDocument/diagnostic', { textDocument: { uri } }) as Pulled;
  void conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: 2 }, contentChanges: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: '\n' }] });
  const r = await conn.sendRequest('textDocument/diagnostic', { textDocument: { uri } }) as Pulled;
  assert.ok(r.items.length > 0);
  assert.deepEqual(r.items.map((d) => d.data?.version), r.items.map(() => 2));
  assert.deepEqual(r.items.map((d) => d.range.start.line), before.items.map((d) => d.range.start.line + 1));
  const stale = await conn.sendRequest('textDocument/codeAction', { textDocument: { uri }, range: before.items[0]!.range, context: { diagnostics: before.items, only: ['source.fixAll.kctx'] } }) as Action[];
  assert.deepEqual(stale, []);
  const fresh = await conn.sendRequest('textDocument/codeAction', { textDocument: { uri }, range: r.items[0]!.range, context: { diagnostics: r.items, only: ['source.fixAll.kctx'] } }) as Action[];
  assert.equal(fresh[0]!.edit.documentChanges[0]!.textDocument.version, 2);
  assert.equal(pushed, 0, 'a pulling client gets no pushed diagnostics');
});
