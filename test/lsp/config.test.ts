/**
 * A workspace .kctx.json over the wire: the language server applies its rule levels to what it
 * publishes (push) and answers (pull), and follows the file when it changes on disk: the server
 * asks the client to watch `**\/.kctx.json` (dynamic registration) and, on
 * workspace/didChangeWatchedFiles, re-lints, pushes again and asks a pulling client to refresh.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import type { MessageConnection } from 'vscode-jsonrpc/node';
import { scratchDir } from '../scratch';

const REPO = resolve(__dirname, '..', '..', '..');

// A driver written for this test: a template without ct_rev, and a legacy call next to it.
const DRIVER = [
  '#include <sys/thread.h>',
  '',
  'static void drv_save(void *);',
  'static void drv_restore(void *);',
  '',
  'static const struct ctxop_template drv_tpl = {',
  '\t.ct_save = drv_save,',
  '\t.ct_restore = drv_restore,',
  '};',
  '',
  'void',
  'drv_attach(kthread_t *t, void *arg)',
  '{',
  '\tinstallctx(t, arg, drv_save, drv_restore, NULL, NULL, NULL, NULL);',
  '}',
  '',
].join('\n');

interface Diag { range: { start: { line: number } }; code: string; severity: number }
interface Pulled { kind: string; items: Diag[] }
interface Registration { id: string; method: string; registerOptions?: { watchers?: { globPattern: string }[] } }

let dir: string;
let uri: string;
let cfgUri: string;
let proc: ChildProcess;
let conn: MessageConnection;
const registrations: Registration[] = [];
let refreshes = 0;
let pushWaiter: ((d: Diag[]) => void) | null = null;

/** The next push for the driver (diagnostics of the current version). */
function nextPush(): Promise<Diag[]> {
  return new Promise((res) => { pushWaiter = res; });
}
const summary = (ds: Diag[]) => ds.map((d) => `${d.range.start.line + 1}:${d.code}:${d.severity}`).sort();

function writeConfig(obj: unknown): void {
  writeFileSync(join(dir, '.kctx.json'), JSON.stringify(obj, null, 2) + '\n');
}

before(async () => {
  dir = scratchDir('kctx-lsp-config-');
  writeFileSync(join(dir, 'drv.c'), DRIVER);
  // ctxop-template-rev off; legacy-ctxop-api down to a warning.
  writeConfig({ lint: { rules: { 'ctxop-template-rev': 'off', 'legacy-ctxop-api': 'warning' } } });
  uri = pathToFileURL(join(dir, 'drv.c')).href;
  cfgUri = pathToFileURL(join(dir, '.kctx.json')).href;
  proc = spawn(process.execPath, [join(REPO, 'dist', 'kctx.js'), 'lsp', '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
  conn = createMessageConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
  conn.onNotification('textDocument/publishDiagnostics', (p: { uri: string; diagnostics: Diag[] }) => {
    if (p.uri !== uri) return;
    const w = pushWaiter; pushWaiter = null; w?.(p.diagnostics);
  });
  conn.onRequest('workspace/diagnostic/refresh', () => { refreshes++; return null; });
  conn.onRequest('client/registerCapability', (p: { registrations: Registration[] }) => { registrations.push(...p.registrations); return null; });
  conn.listen();
  await conn.sendRequest('initialize', {
    processId: process.pid,
    rootUri: pathToFileURL(dir).href,
    workspaceFolders: [{ uri: pathToFileURL(dir).href, name: 'ws' }],
    capabilities: {
      textDocument: { diagnostic: { dynamicRegistration: false } },
      workspace: { didChangeWatchedFiles: { dynamicRegistration: true } },
    },
    // Pull and push both: the pushed and the pulled diagnostics must agree.
    initializationOptions: { debounceMs: 0, pushDiagnostics: true },
  });
  await conn.sendNotification('initialized', {});
});

after(async () => {
  try { await conn.sendRequest('shutdown'); await conn.sendNotification('exit'); } catch { /* gone */ }
  conn.dispose();
  proc.kill();
});

test('the server asks the client to watch .kctx.json files', { timeout: 60_000 }, async () => {
  // registration is sent during `initialized`; a round trip later it has arrived
  await conn.sendRequest('textDocument/diagnostic', { textDocument: { uri } }).catch(() => undefined);
  const w = registrations.filter((r) => r.method === 'workspace/didChangeWatchedFiles');
  assert.equal(w.length, 1, JSON.stringify(registrations));
  assert.deepEqual(w[0]!.registerOptions?.watchers?.map((x) => x.globPattern), ['**/.kctx.json']);
});

test('.kctx.json: the disabled rule is absent and the other is at its level, pushed and pulled; a change on disk is followed', { timeout: 60_000 }, async () => {
  const pushed = nextPush();
  await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'c', version: 1, text: DRIVER } });
  assert.deepEqual(summary(await pushed), ['14:legacy-ctxop-api:2']);
  const pulled = await conn.sendRequest('textDocument/diagnostic', { textDocument: { uri } }) as Pulled;
  assert.equal(pulled.kind, 'full');
  assert.deepEqual(summary(pulled.items), ['14:legacy-ctxop-api:2']);

  // The file changes on disk: template-rev back on (as an error), legacy-ctxop-api off.
  writeConfig({ lint: { rules: { 'legacy-ctxop-api': 'off' } } });
  const refreshesBefore = refreshes;
  const pushedAgain = nextPush();
  await conn.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: cfgUri, type: 2 }] });
  assert.deepEqual(summary(await pushedAgain), ['6:ctxop-template-rev:1']);
  const pulledAgain = await conn.sendRequest('textDocument/diagnostic', { textDocument: { uri } }) as Pulled;
  assert.deepEqual(summary(pulledAgain.items), ['6:ctxop-template-rev:1']);
  assert.ok(refreshes > refreshesBefore, 'a pulling client is asked to refresh');

  // Deleted: the defaults (both rules, errors).
  rmSync(join(dir, '.kctx.json'));
  const pushedDefaults = nextPush();
  await conn.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: cfgUri, type: 3 }] });
  assert.deepEqual(summary(await pushedDefaults), ['14:legacy-ctxop-api:1', '6:ctxop-template-rev:1']);
  const pulledDefaults = await conn.sendRequest('textDocument/diagnostic', { textDocument: { uri } }) as Pulled;
  assert.deepEqual(summary(pulledDefaults.items), ['14:legacy-ctxop-api:1', '6:ctxop-template-rev:1']);
});

