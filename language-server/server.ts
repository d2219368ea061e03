/**
 * The kctx language server (vscode-languageserver): push diagnostics with a debounce (for clients
 * without pull support), pull and workspace diagnostics, quick fixes and source.fixAll.kctx,
 * hover on the ctxop API, configuration (kctx.kernelEra, kctx.lint.rules, kctx.lint.exclude),
 * the project's .kctx.json (re-read when the client reports it changed: workspace/didChangeWatchedFiles),
 * cancellation and a work budget per function. Documents are kept parsed and re-parsed incrementally.
 */
import type { WorkspaceFullDocumentDiagnosticReport, Connection, InitializeParams, InitializeResult, CodeAction, Diagnostic, TextDocumentContentChangeEvent } from 'vscode-languageserver';
import { CodeActionKind, DidChangeWatchedFilesNotification, DocumentDiagnosticReportKind, ErrorCodes, LSPErrorCodes, ResponseError, TextDocumentSyncKind, MarkupKind } from 'vscode-languageserver';
import { statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { relative } from 'node:path';
import type { EraSetting, KctxDiagnostic, LintOptions, RuleSetting } from './engine';
import { LintCancelled, LintDocument, fixAllEdits, lintText, skipReason, DEFAULT_MAX_SIZE, DEFAULT_WORK_BUDGET } from './engine';
import { OFF_THREAD_SIZE, OffThreadLinter } from './offthread';
import { CONFIG_NAME, ConfigError, ConfigFinder, excludedBy } from './config';
import { kernelTreeOf } from './kerneltree';
import type { ProjectConfig } from './config';
import { RULES_BY_ID } from './rules/index';
import type { Fix } from './rules/types';
import { hoverMarkdown } from './ctxapi';
import { readForLint } from './files';
import { walkSources, WalkError } from './walk';
import { globToRegExp } from './glob';
import { API_ERAS } from '../core/eras';

export interface Settings {
  kernelEra: EraSetting;
  lint: { rules: Record<string, RuleSetting>; exclude: string[]; workBudget: number; maxFileSize: number };
}

const DEFAULTS: Settings = { kernelEra: 'auto', lint: { rules: {}, exclude: [], workBudget: DEFAULT_WORK_BUDGET, maxFileSize: DEFAULT_MAX_SIZE } };
const ERAS = new Set<string>(['auto', ...API_ERAS]);
const SEVERITIES = new Set(['error', 'warning', 'information', 'hint', 'off']);

/** Accepts what a client sends for the `kctx` section; anything malformed falls back to the default. */
export function normalizeSettings(raw: unknown): Settings {
  const r = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const lint = (r.lint && typeof r.lint === 'object' ? r.lint : {}) as Record<string, unknown>;
  const rules: Record<string, RuleSetting> = {};
  if (lint.rules && typeof lint.rules === 'object') {
    for (const [k, v] of Object.entries(lint.rules as Record<string, unknown>)) if (typeof v === 'string' && SEVERITIES.has(v)) rules[k] = v as RuleSetting;
  }
  const era = typeof r.kernelEra === 'string' && ERAS.has(r.kernelEra) ? (r.kernelEra as EraSetting) : DEFAULTS.kernelEra;
  const exclude = Array.isArray(lint.exclude) ? lint.exclude.filter((x): x is string => typeof x === 'string') : [];
  const num = (v: unknown, d: number) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : d);
  return { kernelEra: era, lint: { rules, exclude, workBudget: num(lint.workBudget, DEFAULTS.lint.workBudget), maxFileSize: num(lint.maxFileSize, DEFAULTS.lint.maxFileSize) } };
}

interface Entry {
  uri: string;
  version: number;
  /**
   * The parsed document. Opening one is asynchronous (the parser loads), and a pulling client sends
   * its first textDocument/diagnostic right after didOpen: every use awaits this promise, and edits
   * chain onto it, so a request never falls back to the file on disk (version 0) for an open document.
   */
  doc: Promise<LintDocument>;
  timer?: NodeJS.Timeout;
  last?: { version: number; diags: KctxDiagnostic[] };
  seq: number;
}

const yieldNow = () => new Promise<void>((r) => setImmediate(r));

function toLsp(d: KctxDiagnostic, version: number): Diagnostic {
  return { range: d.range, severity: d.severity, code: d.code, codeDescription: d.codeDescription, source: d.source, message: d.message, data: { rule: d.code, version } };
}

export function startServer(connection: Connection): void {
  const docs = new Map<string, Entry>();
  let settings: Settings = DEFAULTS;
  let canPull = false;
  let canConfig = false;
  let canWatch = false;
  let pushAlways = false;
  let debounceMs = 200;
  let roots: string[] = [];
  let resultSeq = 0;
  const offThread = new OffThreadLinter();

  const fileOf = (uri: string) => { try { return uri.startsWith('file:') ? fileURLToPath(uri) : uri; } catch { return uri; } };
  const excluded = (uri: string) => {
    if (excludedBy(projectConfig(fileOf(uri)), fileOf(uri))) return true;
    if (!settings.lint.exclude.length) return false;
    const abs = fileOf(uri);
    const rels = roots.map((r) => relative(r, abs)).filter((p) => !p.startsWith('..'));
    return settings.lint.exclude.some((g) => { const re = globToRegExp(g); return re.test(abs) || rels.some((p) => re.test(p)); });
  };
  // The project's .kctx.json (nearest above the file) under the editor's settings: the editor's
  // rule levels win, its era wins unless 'auto', the exclude globs of both apply.
  let finder = new ConfigFinder();
  const projectConfig = (file: string): ProjectConfig | null => {
    try { return finder.forFile(file); } catch (err) {
      if (err instanceof ConfigError) { connection.console.error(`kctx: ${err.message}`); return null; }
      throw err;
    }
  };
  const options = (file: string, isCancelled?: () => boolean): LintOptions => {
    const cfg = projectConfig(file);
    const o: LintOptions = { era: settings.kernelEra !== 'auto' ? settings.kernelEra : cfg?.kernelEra ?? 'auto', rules: { ...(cfg?.rules ?? {}), ...settings.lint.rules }, workBudget: settings.lint.workBudget, maxSize: settings.lint.maxFileSize, isCancelled };
    if (cfg?.gate) o.gate = cfg.gate;
    if (o.era === 'auto') { const t = kernelTreeOf(file, cfg?.gate); if (t) o.treeEra = t.era; }
    return o;
  };

  async function refreshSettings(fromNotification?: unknown): Promise<void> {
    if (canConfig) {
      try {
        const [s] = await connection.workspace.getConfiguration([{ section: 'kctx' }]);
        settings = normalizeSettings(s);
        return;
      } catch { /* fall through */ }
    }
    if (fromNotification !== undefined) settings = normalizeSettings((fromNotification as { kctx?: unknown })?.kctx ?? fromNotification);
  }

  /** Lints the current version of a document (cached per version). */
  async function lintEntry(e: Entry, isCancelled?: () => boolean): Promise<KctxDiagnostic[]> {
    if (excluded(e.uri)) return [];
    if (e.last && e.last.version === e.version) return e.last.diags;
    const version = e.version;
    await yieldNow();
    if (isCancelled?.()) throw new LintCancelled('cancelled');
    const doc = await e.doc;
    if (e.version !== version) return lintEntry(e, isCancelled); // an edit arrived meanwhile
    // A big document is linted on a worker thread (seconds of work must not hold up other requests).
    const diags = doc.text.length > OFF_THREAD_SIZE && !skipReason(doc.text, settings.lint.maxFileSize)
      ? await offThread.lint(doc.text, fileOf(e.uri), { ...options(fileOf(e.uri)), suppressionFixes: true }, isCancelled)
      : doc.lint(fileOf(e.uri), options(fileOf(e.uri), isCancelled));
    if (e.version !== version) return lintEntry(e, isCancelled);
    for (const d of diags) d.data.version = version;
    if (e.version === version) e.last = { version, diags };
    return diags;
  }

  function schedulePush(e: Entry): void {
    if (canPull && !pushAlways) return;
    clearTimeout(e.timer);
    const seq = ++e.seq;
    e.timer = setTimeout(async () => {
      try {
        const diags = await lintEntry(e, () => e.seq !== seq);
        if (e.seq !== seq || !docs.has(e.uri)) return; // superseded by a later edit
        await connection.sendDiagnostics({ uri: e.uri, version: e.version, diagnostics: diags.map((d) => toLsp(d, e.version)) });
      } catch (err) {
        if (!(err instanceof LintCancelled)) connection.console.error(`kctx: lint of ${e.uri} failed: ${err instanceof Error ? err.stack : err}`);
      }
    }, debounceMs);
  }

  function relintAll(): void {
    finder = new ConfigFinder(); // a .kctx.json may have changed
    for (const e of docs.values()) { e.last = undefined; schedulePush(e); }
    if (canPull) connection.languages.diagnostics.refresh().catch(() => undefined);
  }

  connection.onInitialize((params: InitializeParams): InitializeResult => {
    const caps = params.capabilities ?? {};
    canPull = !!caps.textDocument?.diagnostic;
    canConfig = !!caps.workspace?.configuration;
    canWatch = !!caps.workspace?.didChangeWatchedFiles?.dynamicRegistration;
    const init = (params.initializationOptions ?? {}) as { pushDiagnostics?: boolean; debounceMs?: number; settings?: unknown };
    pushAlways = init.pushDiagnostics === true;
    if (typeof init.debounceMs === 'number' && init.debounceMs >= 0) debounceMs = init.debounceMs;
    if (init.settings) settings = normalizeSettings((init.settings as { kctx?: unknown }).kctx ?? init.settings);
    roots = (params.workspaceFolders ?? []).map((f) => fileOf(f.uri));
    if (!roots.length && params.rootUri) roots = [fileOf(params.rootUri)];
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        diagnosticProvider: { identifier: 'kctx', interFileDependencies: false, workspaceDiagnostics: true },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, CodeActionKind.SourceFixAll + '.kctx'] },
        hoverProvider: true,
      },
      serverInfo: { name: 'kctx', version: '0.1.0' },
    };
  });

  connection.onInitialized(async () => {
    // The client watches the project's .kctx.json files for us (when it can) and tells us of changes.
    if (canWatch) await connection.client.register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: `**/${CONFIG_NAME}` }] }).catch(() => undefined);
    await refreshSettings();
    relintAll();
  });

  connection.onDidChangeWatchedFiles((p) => {
    if ((p?.changes ?? []).some((c) => typeof c?.uri === 'string' && c.uri.endsWith(`/${CONFIG_NAME}`))) relintAll();
  });

  connection.onDidChangeConfiguration(async (p) => {
    await refreshSettings(p?.settings ?? {});
    relintAll();
  });

  connection.onDidOpenTextDocument((p) => {
    const td = p?.textDocument;
    if (!td || typeof td.uri !== 'string' || typeof td.text !== 'string') return;
    const old = docs.get(td.uri);
    void old?.doc.then((d) => d.dispose());
    const e: Entry = { uri: td.uri, version: td.version ?? 0, doc: LintDocument.create(td.text), seq: 0 };
    docs.set(td.uri, e);
    schedulePush(e);
  });

  connection.onDidChangeTextDocument((p) => {
    const e = docs.get(p?.textDocument?.uri);
    if (!e || !Array.isArray(p.contentChanges)) return;
    const changes = p.contentChanges as (TextDocumentContentChangeEvent & { range?: KctxDiagnostic['range'] })[];
    e.doc = e.doc.then((d) => { d.applyChanges(changes); return d; });
    e.version = p.textDocument.version ?? e.version + 1;
    e.last = undefined;
    schedulePush(e);
  });

  connection.onDidCloseTextDocument((p) => {
    const e = docs.get(p?.textDocument?.uri);
    if (!e) return;
    clearTimeout(e.timer);
    e.seq++;
    void e.doc.then((d) => d.dispose());
    docs.delete(e.uri);
    if (!canPull || pushAlways) void connection.sendDiagnostics({ uri: e.uri, diagnostics: [] });
  });

  const need = (ok: unknown, what: string) => {
    if (!ok) throw new ResponseError(ErrorCodes.InvalidParams, `kctx: ${what}`);
  };
  const cancelled = () => new ResponseError(LSPErrorCodes.RequestCancelled, 'kctx: request cancelled');

  async function lintUri(uri: string, isCancelled: () => boolean): Promise<{ diags: KctxDiagnostic[]; version: number | null }> {
    const e = docs.get(uri);
    if (e) return { diags: await lintEntry(e, isCancelled), version: e.version };
    if (excluded(uri)) return { diags: [], version: null };
    const file = fileOf(uri);
    const r = readForLint(file);
    if ('error' in r) throw new ResponseError(ErrorCodes.InvalidParams, `kctx: ${r.error}`);
    if ('skipped' in r) return { diags: [r.skipped], version: null };
    const text = r.buf.toString('utf8');
    await yieldNow();
    if (isCancelled()) throw new LintCancelled('cancelled');
    return { diags: await lintText(text, file, options(file, isCancelled)), version: null };
  }

  connection.languages.diagnostics.on(async (p, token) => {
    need(p?.textDocument && typeof p.textDocument.uri === 'string', 'textDocument.uri is required');
    try {
      const { diags, version } = await lintUri(p.textDocument.uri, () => token.isCancellationRequested);
      if (token.isCancellationRequested) throw cancelled();
      return { kind: DocumentDiagnosticReportKind.Full, resultId: String(++resultSeq), items: diags.map((d) => toLsp(d, version ?? 0)) };
    } catch (err) {
      if (err instanceof LintCancelled) throw cancelled();
      throw err;
    }
  });

  connection.languages.diagnostics.onWorkspace(async (_p, token) => {
    const items: WorkspaceFullDocumentDiagnosticReport[] = [];
    const folders = roots.filter((r) => { try { return statSync(r).isDirectory(); } catch { return false; } });
    // The walk pauses every 64 entries and each file yields before it is linted, so other
    // requests are answered meanwhile and a cancellation stops it; symlinked folders are not followed.
    let n = 0;
    try {
      for (const f of walkSources(folders)) {
        if ((++n & 63) === 0) await yieldNow();
        if (token.isCancellationRequested) throw cancelled();
        if (f === null) continue;
        const uri = pathToFileURL(f).href;
        if (excluded(uri)) continue;
        try {
          const { diags, version } = await lintUri(uri, () => token.isCancellationRequested);
          items.push({ kind: DocumentDiagnosticReportKind.Full, uri, version, items: diags.map((d) => toLsp(d, version ?? 0)) });
        } catch (err) {
          if (err instanceof LintCancelled) throw cancelled();
          if (!(err instanceof ResponseError)) throw err;
        }
      }
    } catch (err) {
      if (err instanceof WalkError) connection.console.warn(`kctx: workspace diagnostics stopped: ${err.message}`);
      else throw err;
    }
    return { items };
  });

  connection.onCodeAction(async (p, token) => {
    need(p?.textDocument && typeof p.textDocument.uri === 'string' && p.range && p.context, 'textDocument, range and context are required');
    const e = docs.get(p.textDocument.uri);
    if (!e) return [];
    const sent = (p.context.diagnostics ?? []).filter((d) => d.source === 'kctx');
    // Fixes were computed for one version of the document: refuse diagnostics from an older one.
    const stale = sent.filter((d) => typeof (d.data as { version?: number })?.version === 'number' && (d.data as { version: number }).version !== e.version);
    if (sent.length && stale.length === sent.length) return [];
    let diags: KctxDiagnostic[];
    try { diags = await lintEntry(e, () => token.isCancellationRequested); } catch (err) { if (err instanceof LintCancelled) throw cancelled(); throw err; }
    const version = e.version;
    const only = p.context.only;
    const wants = (k: string) => !only || only.some((o) => k === o || k.startsWith(o + '.'));
    const actions: CodeAction[] = [];
    const edit = (fix: Fix) => ({ documentChanges: [{ textDocument: { uri: e.uri, version }, edits: fix.edits }] });
    const overlaps = (d: KctxDiagnostic) => !(d.range.end.line < p.range.start.line || d.range.start.line > p.range.end.line);
    if (wants(CodeActionKind.QuickFix)) {
      for (const d of diags) {
        if (!overlaps(d)) continue;
        const lspDiag = toLsp(d, version);
        for (const f of d.data.fixes) actions.push({ title: f.title, kind: CodeActionKind.QuickFix, diagnostics: [lspDiag], isPreferred: !!f.preferred, edit: edit(f) });
      }
    }
    const fixAllKind = CodeActionKind.SourceFixAll + '.kctx';
    if (only && wants(fixAllKind)) {
      const m = (await e.doc).model(fileOf(e.uri), options(fileOf(e.uri)));
      if (m && e.version === version) {
        const edits = fixAllEdits(m, diags);
        if (edits.length) actions.push({ title: 'Fix all kctx findings (13917 migration and preferred fixes)', kind: fixAllKind, edit: { documentChanges: [{ textDocument: { uri: e.uri, version }, edits }] } });
      }
    }
    return actions;
  });

  connection.onHover(async (p) => {
    need(p?.textDocument && p.position && typeof p.position.line === 'number', 'textDocument and position are required');
    const e = docs.get(p.textDocument.uri);
    if (!e) return null;
    const m = (await e.doc).model(fileOf(e.uri), options(fileOf(e.uri)));
    if (!m) return null;
    const node = m.root.descendantForPosition({ row: p.position.line, column: p.position.character });
    if (!node || !/identifier$/.test(node.type)) return null;
    const name = node.text;
    const md = hoverMarkdown(name, m.era) ?? ((await import('./vnet-abi')).vnetHover(m, name));
    if (!md) return null;
    const rule = RULES_BY_ID.get(name === 'installctx' || name === 'removectx' || name === 'installctx_preallocate' ? 'legacy-ctxop-api' : '');
    return {
      contents: { kind: MarkupKind.Markdown, value: md + (rule ? `\n\nkctx rule: [${rule.id}](${(await import('./docs')).ruleDocUri(rule.id)})` : '') },
      range: { start: { line: node.startPosition.row, character: node.startPosition.column }, end: { line: node.endPosition.row, character: node.endPosition.column } },
    };
  });

  connection.onShutdown(() => {
    for (const e of docs.values()) { clearTimeout(e.timer); void e.doc.then((d) => d.dispose()); }
    offThread.dispose();
    docs.clear();
  });

  connection.listen();
}
