/**
 * The language server over stdio (dist/kctx.js lsp --stdio), driven with vscode-jsonrpc:
 * initialize, push diagnostics, code actions (quick fix, stale refusal, fix-all), hover,
 * configuration changes, pull and workspace diagnostics, incremental edits, cancellation,
 * garbage input, and a 5 MB file.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CancellationTokenSource, ResponseError, createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import type { MessageConnection } from 'vscode-jsonrpc/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { lintText } from '../../language-server/engine';

const REPO = resolve(__dirname, '..', '..', '..');
const FIX = join(REPO, 'test', 'fixtures', 'lint');
const legacyPath = join(FIX, 'legacy-guarded.c');
const legacyUri = pathToFileURL(legacyPath).href;
const legacyText = readFileSync(legacyPath, 'utf8');

interface Published { uri: string; version?: number; diagnostics: { range: { start: { line: number; character: number }; end: { line: number; character: number } }; severity: number; code: string; message: string; codeDescription?: { href: string }; data?: { version: number } }[] }

let proc: ChildProcess;
let conn: MessageConnection;
const published = new Map<string, Published[]>();
const waiters: { uri: string; pred: (p: Published) => boolean; resolve: (p: Published) => void }[] = [];
let stderr = '';

function nextDiagnostics(uri: string, pred: (p: Published) => boolean = () => true, ms = 5000): Promise<Published> {
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`no publishDiagnostics for ${uri} within ${ms} ms; stderr: ${stderr}`)), ms);
    waiters.push({ uri, pred, resolve: (p) => { clearTimeout(t); res(p); } });
  });
}

async function open(uri: string, text: string, version = 1): Promise<void> {
  await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'c', version, text } });
}

before(async () => {
  proc = spawn(process.execPath, [join(REPO, 'dist', 'kctx.js'), 'lsp', '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
  proc.stderr!.on('data', (d) => { stderr += d; });
  conn = createMessageConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
  conn.onNotification('textDocument/publishDiagnostics', (p: Published) => {
    const l = published.get(p.uri) ?? [];
    l.push(p);
    published.set(p.uri, l);
    for (let i = 0; i < waiters.length; i++) {
      const w = waiters[i]!;
      if (w.uri === p.uri && w.pred(p)) { waiters.splice(i, 1); w.resolve(p); i--; }
    }
  });
  conn.onRequest('client/registerCapability', () => null);
  conn.onRequest('workspace/diagnostic/refresh', () => null);
  conn.listen();
  const init = await conn.sendRequest('initialize', {
    processId: process.pid,
    rootUri: pathToFileURL(FIX).href,
    workspaceFolders: [{ uri: pathToFileURL(FIX).href, name: 'lint' }],
    capabilities: {},
    initializationOptions: { debounceMs: 10, settings: { kctx: { kernelEra: '13917' } } },
  }) as { capabilities: Record<string, unknown> };
  assert.ok(init.capabilities.diagnosticProvider, 'pull diagnostics advertised');
  assert.ok(init.capabilities.codeActionProvider);
  assert.equal(init.capabilities.hoverProvider, true);
  await conn.sendNotification('initialized', {});
});

after(async () => {
  try {
    await conn.sendRequest('shutdown');
    await conn.sendNotification('exit');
  } catch { /* the process may be gone */ }
  conn.dispose();
  proc.kill();
});

test('didOpen publishes diagnostics with rule codes, exact ranges and doc links', async () => {
  const wait = nextDiagnostics(legacyUri);
  await open(legacyUri, legacyText);
  const p = await wait;
  assert.equal(p.version, 1);
  const codes = p.diagnostics.map((d) => `${d.range.start.line + 1}:${d.code}`).sort();
  assert.deepEqual(codes, ['16:legacy-ctxop-api', '16:sleeping-alloc-preempt-disabled', '28:legacy-ctxop-api', '33:legacy-ctxop-api', '43:legacy-ctxop-api']);
  const first = p.diagnostics.find((d) => d.code === 'legacy-ctxop-api')!;
  // installctx( ... ) spans two lines: from its name to the closing parenthesis.
  assert.deepEqual(first.range, { start: { line: 15, character: 1 }, end: { line: 16, character: 20 } });
  assert.equal(first.severity, 1);
  assert.ok(new URL(first.codeDescription!.href).href.endsWith('/docs/rules/legacy-ctxop-api.md'));
});

test('hover on installctx shows the era signature, the history and the illumos issues', async () => {
  const h = await conn.sendRequest('textDocument/hover', { textDocument: { uri: legacyUri }, position: { line: 15, character: 4 } }) as { contents: { kind: string; value: string } };
  assert.equal(h.contents.kind, 'markdown');
  assert.match(h.contents.value, /does not exist on a 13917 kernel/);
  assert.match(h.contents.value, /illumos\.org\/issues\/13915/);
  assert.match(h.contents.value, /illumos\.org\/issues\/13917/);
  const h2 = await conn.sendRequest('textDocument/hover', { textDocument: { uri: legacyUri }, position: { line: 0, character: 0 } });
  assert.equal(h2, null);
});

test('FreeBSD: VNET diagnostics are pushed, and hover on V_ names and VNET_SYSINIT shows both VIMAGE expansions', async () => {
  const path = join(FIX, 'freebsd-vnet-abi.c');
  const uri = pathToFileURL(path).href;
  const text = readFileSync(path, 'utf8');
  const modPath = join(FIX, 'freebsd-vnet-module.c');
  const modUri = pathToFileURL(modPath).href;
  const got = nextDiagnostics(modUri);
  await open(modUri, readFileSync(modPath, 'utf8'));
  const p = await got;
  assert.ok(p.diagnostics.some((d) => d.code === 'vnet-access-without-curvnet' && d.range.start.line === 36));
  await open(uri, text);
  const line = text.split('\n').findIndex((l) => l.includes('&V_ifnet'));
  const col = text.split('\n')[line]!.indexOf('V_ifnet') + 2;
  const h = await conn.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line, character: col } }) as { contents: { kind: string; value: string } };
  assert.equal(h.contents.kind, 'markdown');
  assert.match(h.contents.value, /with VIMAGE: .*vnet_entry_ifnet/);
  assert.match(h.contents.value, /link_elf_obj: symbol ifnet undefined/);
  const sl = text.split('\n').findIndex((l) => l.startsWith('VNET_SYSINIT('));
  const h2 = await conn.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: sl, character: 3 } }) as { contents: { value: string } };
  assert.match(h2.contents.value, /link_elf_obj: symbol vnet_register_sysinit undefined/);
});

test('quick fix migrates one call; applied and re-linted, that call is clean', async () => {
  const diags = published.get(legacyUri)!.at(-1)!.diagnostics;
  const d = diags.find((x) => x.code === 'legacy-ctxop-api' && x.range.start.line === 15)!;
  const actions = await conn.sendRequest('textDocument/codeAction', { textDocument: { uri: legacyUri }, range: d.range, context: { diagnostics: [d], only: ['quickfix'] } }) as { title: string; kind: string; isPreferred?: boolean; edit: { documentChanges: { textDocument: { uri: string; version: number }; edits: { range: Published['diagnostics'][0]['range']; newText: string }[] }[] } }[];
  const mig = actions.find((a) => a.title.startsWith('Migrate installctx()'));
  assert.ok(mig, actions.map((a) => a.title).join('\n'));
  assert.equal(mig.kind, 'quickfix');
  assert.equal(mig.isPreferred, true);
  const change = mig.edit.documentChanges[0]!;
  assert.equal(change.textDocument.version, 1, 'edits are tied to the version they were computed for');
  const doc = TextDocument.create(legacyUri, 'c', 1, legacyText);
  const fixed = TextDocument.applyEdits(doc, change.edits);
  assert.match(fixed, /ctxop_attach\(curthread, ctx\);/);
  assert.match(fixed, /static const struct ctxop_template iopl_ctxop_tpl = \{/);
  const again = await lintText(fixed, legacyPath, { era: '13917' });
  assert.equal(again.filter((x) => x.code === 'legacy-ctxop-api').length, 3);
  assert.equal(again.filter((x) => x.code === 'sleeping-alloc-preempt-disabled').length, 0);
  assert.ok(actions.some((a) => a.title === 'Suppress legacy-ctxop-api on this line'));
});

test('source.fixAll.kctx migrates the whole file; the result re-lints clean of legacy calls', async () => {
  const actions = await conn.sendRequest('textDocument/codeAction', { textDocument: { uri: legacyUri }, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, context: { diagnostics: [], only: ['source.fixAll.kctx'] } }) as { kind: string; edit: { documentChanges: { edits: { range: Published['diagnostics'][0]['range']; newText: string }[] }[] } }[];
  assert.equal(actions.length, 1);
  assert.equal(actions[0]!.kind, 'source.fixAll.kctx');
  const fixed = TextDocument.applyEdits(TextDocument.create(legacyUri, 'c', 1, legacyText), actions[0]!.edit.documentChanges[0]!.edits);
  const again = await lintText(fixed, legacyPath, { era: '13917' });
  assert.deepEqual(again.map((x) => x.code), []);
  assert.equal((fixed.match(/static const struct ctxop_template seg_ctxop_tpl/g) ?? []).length, 1, 'one template per handler set');
});

test('incremental edit: diagnostics follow the edit; fixes for the old version are refused', async () => {
  const oldDiag = published.get(legacyUri)!.at(-1)!.diagnostics.find((x) => x.range.start.line === 42)!;
  // Insert a removectx() call on a new line 44 (0-based 43, after seg_remove's call).
  const wait = nextDiagnostics(legacyUri, (p) => p.version === 2);
  await conn.sendNotification('textDocument/didChange', {
    textDocument: { uri: legacyUri, version: 2 },
    contentChanges: [{ range: { start: { line: 43, character: 0 }, end: { line: 43, character: 0 } }, text: '\t(void) removectx(t, lwp, seg_save, NULL, NULL, NULL, NULL, NULL);\n' }],
  });
  const p = await wait;
  const lines = p.diagnostics.filter((d) => d.code === 'legacy-ctxop-api').map((d) => d.range.start.line + 1);
  assert.deepEqual(lines, [16, 28, 33, 43, 44]);
  assert.ok(p.diagnostics.some((d) => d.code === 'ctxop-remove-mismatch' && d.range.start.line === 43));
  // The client asks for fixes with a diagnostic from version 1: refused.
  const stale = await conn.sendRequest('textDocument/codeAction', { textDocument: { uri: legacyUri }, range: oldDiag.range, context: { diagnostics: [oldDiag] } });
  assert.deepEqual(stale, []);
  const fresh = p.diagnostics.find((d) => d.range.start.line === 42)!;
  const ok = await conn.sendRequest('textDocument/codeAction', { textDocument: { uri: legacyUri }, range: fresh.range, context: { diagnostics: [fresh] } }) as { edit: { documentChanges: { textDocument: { version: number } }[] } }[];
  assert.ok(ok.length > 0);
  assert.equal(ok[0]!.edit.documentChanges[0]!.textDocument.version, 2);
});

test('didChangeConfiguration changes a rule severity, then turns it off', async () => {
  let wait = nextDiagnostics(legacyUri, (p) => p.diagnostics.some((d) => d.code === 'legacy-ctxop-api' && d.severity === 2));
  await conn.sendNotification('workspace/didChangeConfiguration', { settings: { kctx: { kernelEra: '13917', lint: { rules: { 'legacy-ctxop-api': 'warning' } } } } });
  let p = await wait;
  assert.ok(p.diagnostics.filter((d) => d.code === 'legacy-ctxop-api').every((d) => d.severity === 2));
  wait = nextDiagnostics(legacyUri, (q) => !q.diagnostics.some((d) => d.code === 'legacy-ctxop-api'));
  await conn.sendNotification('workspace/didChangeConfiguration', { settings: { kctx: { kernelEra: '13917', lint: { rules: { 'legacy-ctxop-api': 'off' } } } } });
  p = await wait;
  assert.ok(p.diagnostics.some((d) => d.code === 'ctxop-remove-mismatch'), 'other rules still run');
  wait = nextDiagnostics(legacyUri, (q) => q.diagnostics.some((d) => d.code === 'legacy-ctxop-api' && d.severity === 1));
  await conn.sendNotification('workspace/didChangeConfiguration', { settings: { kctx: { kernelEra: '13917' } } });
  await wait;
});

test('pull diagnostics for a document, and workspace diagnostics for the folder (with exclude)', async () => {
  const r = await conn.sendRequest('textDocument/diagnostic', { textDocument: { uri: legacyUri } }) as { kind: string; items: { code: string }[] };
  assert.equal(r.kind, 'full');
  assert.ok(r.items.some((d) => d.code === 'legacy-ctxop-api'));
  const closedUri = pathToFileURL(join(FIX, 'ring-walk.c')).href;
  const r2 = await conn.sendRequest('textDocument/diagnostic', { textDocument: { uri: closedUri } }) as { items: { code: string }[] };
  assert.deepEqual(r2.items.map((d) => d.code), ['ctx-ring-walk', 'ctx-ring-walk']);
  const ws = await conn.sendRequest('workspace/diagnostic', { previousResultIds: [] }) as { items: { uri: string; items: { code: string }[] }[] };
  const uris = ws.items.map((i) => i.uri.split('/').pop());
  assert.ok(uris.includes('ring-walk.c') && uris.includes('curvnet.c'), uris.join(' '));
  await conn.sendNotification('workspace/didChangeConfiguration', { settings: { kctx: { kernelEra: '13917', lint: { exclude: ['**/ring-*.c'] } } } });
  const ws2 = await conn.sendRequest('workspace/diagnostic', { previousResultIds: [] }) as { items: { uri: string }[] };
  assert.ok(!ws2.items.some((i) => i.uri.endsWith('ring-walk.c')));
  assert.ok(ws2.items.some((i) => i.uri.endsWith('curvnet.c')));
  await conn.sendNotification('workspace/didChangeConfiguration', { settings: { kctx: { kernelEra: '13917' } } });
});

function bigC(lines: number): string {
  const parts: string[] = [];
  for (let i = 0; parts.length < lines; i++) {
    parts.push(`static int\nfn${i}(int *p, kthread_t *t)\n{`, `\tint x = p[${i % 7}];`, '\tkpreempt_disable();', `\tif (x > ${i})`, '\t\tx = x * 2 + 1;', '\tkpreempt_enable();', '\treturn (x);', '}', '');
  }
  return parts.join('\n') + '\n';
}

test('a cancelled request gets RequestCancelled and the server keeps serving', async () => {
  const uri = 'file:///tmp/kctx-cancel-test.c';
  await open(uri, bigC(60000));
  await conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: 2 }, contentChanges: [{ range: { start: { line: 3, character: 0 }, end: { line: 3, character: 0 } }, text: '\tint y;\n' }] });
  const cts = new CancellationTokenSource();
  const req = conn.sendRequest('textDocument/diagnostic', { textDocument: { uri } }, cts.token);
  cts.cancel();
  await assert.rejects(req, (e: unknown) => e instanceof ResponseError && e.code === -32800);
  const h = await conn.sendRequest('textDocument/hover', { textDocument: { uri: legacyUri }, position: { line: 15, character: 4 } });
  assert.ok(h);
});

test('a 1.5 MB file does not hold up other requests: hovers keep being answered before its diagnostics', async () => {
  const uri = 'file:///tmp/kctx-big-order.c';
  const text = bigC(104000) + 'static void\nlast(void)\n{\n\tkpreempt_disable();\n\t(void) kmem_alloc(8, KM_SLEEP);\n\tkpreempt_enable();\n}\n';
  const lastLine = text.split('\n').length - 4; // the kmem_alloc, 0-based
  assert.ok(text.length > 1.5 * 1024 * 1024 && text.length < 2 * 1024 * 1024, String(text.length));
  const small = 'file:///tmp/kctx-small-hover.c';
  await open(small, 'void\nf(kthread_t *t)\n{\n\tinstallctx(t, NULL, NULL, NULL, NULL, NULL, NULL, NULL);\n}\n');
  await open(uri, text);
  let done = false;
  const diag = (conn.sendRequest('textDocument/diagnostic', { textDocument: { uri } }) as Promise<{ items: { code: string; range: { start: { line: number } } }[] }>).then((r) => { done = true; return r; });
  // one hover after another (each sent when the previous is answered) until the big file's diagnostics arrive
  let answered = 0;
  for (let k = 0; k < 40 && !done; k++) {
    const h = await conn.sendRequest('textDocument/hover', { textDocument: { uri: small }, position: { line: 3, character: 2 } }) as { contents: { value: string } } | null;
    assert.match(h!.contents.value, /installctx/);
    if (!done) answered++;
  }
  const r = await diag;
  assert.deepEqual(r.items.map((d) => `${d.range.start.line}:${d.code}`), [`${lastLine}:sleeping-alloc-preempt-disabled`]);
  // a lint on the server's thread answers at most the hover already queued when it starts
  assert.ok(answered >= 5, `${answered} hovers answered while the 1.5 MB file was linted`);
  await conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
});

test('garbage bytes, a broken frame and bad params: error responses, then a valid request is answered', async () => {
  proc.stdin!.write(Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0a, 0x0d, 0x41, 0x42]));
  proc.stdin!.write('this is not JSON-RPC\r\n\r\n');
  const body = '{"jsonrpc": "2.0", "id": 9999, "method": ';
  proc.stdin!.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  await assert.rejects(conn.sendRequest('textDocument/hover', {}), (e: unknown) => e instanceof ResponseError && e.code === -32602);
  await assert.rejects(conn.sendRequest('kctx/noSuchMethod', { x: 1 }), (e: unknown) => e instanceof ResponseError && e.code === -32601);
  const h = await conn.sendRequest('textDocument/hover', { textDocument: { uri: legacyUri }, position: { line: 15, character: 4 } }) as { contents: { value: string } };
  assert.match(h.contents.value, /installctx/);
});

test('a 5 MB file is answered with one information diagnostic (never linted)', async () => {
  const uri = 'file:///tmp/kctx-huge.c';
  const text = '/* filler */ int filler_variable_with_a_long_name = 1;\n'.repeat(Math.ceil(5 * 1024 * 1024 / 54));
  const wait = nextDiagnostics(uri);
  await open(uri, text);
  const p = await wait;
  assert.equal(p.diagnostics.length, 1);
  assert.equal(p.diagnostics[0]!.code, 'file-skipped');
  assert.equal(p.diagnostics[0]!.severity, 3);
  const binUri = 'file:///tmp/kctx-binary.c';
  const wb = nextDiagnostics(binUri);
  await open(binUri, 'int x;\u0000\u0001\u0002 binary');
  assert.equal((await wb).diagnostics[0]!.code, 'file-skipped');
});
