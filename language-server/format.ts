/** Output formats of `kctx lint`: gcc-style text, JSON (version 1) and SARIF 2.1.0. All positions 1-based. */
import { pathToFileURL } from 'node:url';
import { isAbsolute } from 'node:path';
import type { KctxDiagnostic } from './engine';
import { RULES, SKIPPED_ID } from './rules/index';
import { ruleDocUri } from './docs';

export interface FileResult {
  file: string;
  diagnostics: KctxDiagnostic[];
}

const oneLine = (s: string) => s.replace(/\s*\n\s*/g, ' ');

export function formatText(results: FileResult[]): string {
  let out = '';
  for (const r of results) {
    for (const d of r.diagnostics) {
      out += `${r.file}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.data.severity}: ${oneLine(d.message)} [${d.code}]\n`;
    }
  }
  return out;
}

function edit1(e: { range: KctxDiagnostic['range']; newText: string }) {
  return { line: e.range.start.line + 1, column: e.range.start.character + 1, endLine: e.range.end.line + 1, endColumn: e.range.end.character + 1, newText: e.newText };
}

export function formatJson(results: FileResult[]): string {
  const diagnostics = results.flatMap((r) => r.diagnostics.map((d) => ({
    file: r.file,
    line: d.range.start.line + 1,
    column: d.range.start.character + 1,
    endLine: d.range.end.line + 1,
    endColumn: d.range.end.character + 1,
    severity: d.data.severity,
    rule: d.code,
    message: d.message,
    url: d.codeDescription.href,
    fixes: d.data.fixes.map((f) => ({ title: f.title, preferred: !!f.preferred, edits: f.edits.map(edit1) })),
  })));
  return JSON.stringify({ version: 1, diagnostics }, null, 2) + '\n';
}

const LEVEL = { error: 'error', warning: 'warning', information: 'note', hint: 'note' } as const;

function artifact(file: string) {
  return isAbsolute(file) ? { uri: pathToFileURL(file).href } : { uri: file.split('\\').join('/').replace(/^\.\//, ''), uriBaseId: '%SRCROOT%' };
}

/** SARIF; with a baseline, every result is one the baseline did not have: baselineState "new". */
export function formatSarif(results: FileResult[], version: string, againstBaseline = false): string {
  const rules = [...RULES.map((r) => ({
    id: r.id,
    name: r.title,
    shortDescription: { text: r.title },
    fullDescription: { text: r.rationale },
    helpUri: ruleDocUri(r.id),
    defaultConfiguration: { level: LEVEL[r.severity], ...(r.defaultOff ? { enabled: false } : {}) },
    properties: { precision: r.confidence === 'high' ? 'high' : r.confidence === 'medium' ? 'medium' : 'low', tags: ['illumos', 'ctxop'] },
  })), { id: SKIPPED_ID, name: 'File not linted', shortDescription: { text: 'File not linted (too large, binary), or a function over the work budget' }, defaultConfiguration: { level: 'note' } }];
  const index = new Map(rules.map((r, i) => [r.id, i]));
  const res = results.flatMap((r) => r.diagnostics.map((d) => ({
    ruleId: d.code,
    ruleIndex: index.get(d.code) ?? -1,
    level: LEVEL[d.data.severity],
    message: { text: d.message },
    ...(againstBaseline ? { baselineState: 'new' } : {}),
    locations: [{
      physicalLocation: {
        artifactLocation: artifact(r.file),
        region: { startLine: d.range.start.line + 1, startColumn: d.range.start.character + 1, endLine: d.range.end.line + 1, endColumn: d.range.end.character + 1 },
      },
    }],
    ...(d.data.fixes.some((f) => !f.title.startsWith('Suppress')) ? {
      fixes: d.data.fixes.filter((f) => !f.title.startsWith('Suppress')).map((f) => ({
        description: { text: f.title },
        artifactChanges: [{
          artifactLocation: artifact(r.file),
          replacements: f.edits.map((e) => ({
            deletedRegion: { startLine: e.range.start.line + 1, startColumn: e.range.start.character + 1, endLine: e.range.end.line + 1, endColumn: e.range.end.character + 1 },
            insertedContent: { text: e.newText },
          })),
        }],
      })),
    } : {}),
  })));
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: { driver: { name: 'kctx', informationUri: 'https://www.illumos.org/issues/13917', version, semanticVersion: version, rules } },
      originalUriBaseIds: { '%SRCROOT%': { uri: pathToFileURL(process.cwd() + '/').href } },
      columnKind: 'utf16CodeUnits',
      results: res,
    }],
  };
  return JSON.stringify(sarif, null, 2) + '\n';
}
