/** `kctx lint` as users run it: the bundled CLI, its three formats, exit codes and folder recursion. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, copyFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, FIXTURES } from './helpers';

const kctx = (...args: string[]) => spawnSync(process.execPath, [join(REPO, 'dist', 'kctx.js'), 'lint', ...args], { encoding: 'utf8', cwd: REPO });
const rel = (f: string) => join('test', 'fixtures', 'lint', f);

test('text format is FILE:LINE:COL: SEVERITY: MESSAGE [RULE]; exit 1 on errors; summary on stderr', () => {
  const r = kctx(rel('ring-walk.c'));
  assert.equal(r.status, 1);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^test\/fixtures\/lint\/ring-walk\.c:12:8: error: this walk of t_ctx stops only when 'ctx' is NULL.* \[ctx-ring-walk\]$/);
  assert.match(r.stderr, /1 file, \d+ lines, 2 findings \(ctx-ring-walk 2\), 2 errors/);
});

test('exit 0 when only warnings (and for a clean file)', () => {
  const r = kctx(rel('assert-side-effect.c'));
  assert.equal(r.status, 0, r.stdout);
  assert.match(r.stdout, /: warning: .*\[assert-side-effect\]/);
  const dir = mkdtempSync(join(tmpdir(), 'kctx-clean-'));
  writeFileSync(join(dir, 'ok.c'), 'int\nmain(void)\n{\n\treturn (0);\n}\n');
  const c = kctx(join(dir, 'ok.c'));
  assert.equal(c.status, 0);
  assert.equal(c.stdout, '');
});

test('json format: version 1, 1-based positions, fixes with edits', () => {
  const r = kctx('--format', 'json', '--era', '13917', rel('legacy-guarded.c'));
  assert.equal(r.status, 1);
  const j = JSON.parse(r.stdout);
  assert.equal(j.version, 1);
  const d = j.diagnostics.find((x: { rule: string; line: number }) => x.rule === 'legacy-ctxop-api' && x.line === 16);
  assert.deepEqual({ file: d.file, line: d.line, column: d.column, endLine: d.endLine, endColumn: d.endColumn, severity: d.severity }, { file: 'test/fixtures/lint/legacy-guarded.c', line: 16, column: 2, endLine: 17, endColumn: 21, severity: 'error' });
  assert.match(d.message, /does not exist on an illumos 13917 kernel/);
  assert.equal(d.fixes[0].title, 'Migrate installctx() to the ctxop_template API');
  assert.ok(d.fixes[0].edits.every((e: Record<string, unknown>) => typeof e.line === 'number' && typeof e.column === 'number' && typeof e.newText === 'string'));
});

test('sarif format: 2.1.0 with rules, levels, regions and fixes', () => {
  const r = kctx('--format=sarif', rel('template-rev.c'));
  assert.equal(r.status, 1);
  const s = JSON.parse(r.stdout);
  assert.equal(s.version, '2.1.0');
  const run = s.runs[0];
  assert.equal(run.tool.driver.name, 'kctx');
  const ids = run.tool.driver.rules.map((x: { id: string }) => x.id);
  for (const id of ['installctx-arity', 'ctxop-template-rev', 'curvnet-unbalanced']) assert.ok(ids.includes(id));
  const res = run.results.filter((x: { ruleId: string }) => x.ruleId === 'ctxop-template-rev');
  assert.equal(res.length, 5);
  assert.equal(res[0].level, 'error');
  assert.equal(ids[res[0].ruleIndex], 'ctxop-template-rev');
  assert.deepEqual(res[0].locations[0].physicalLocation.artifactLocation, { uri: 'test/fixtures/lint/template-rev.c', uriBaseId: '%SRCROOT%' });
  assert.equal(res[0].locations[0].physicalLocation.region.startLine, 12);
  assert.equal(res[0].fixes[0].artifactChanges[0].replacements[0].insertedContent.text, '\t.ct_rev\t\t= CTXOP_TPL_REV,\n');
});

test('folders are linted recursively over *.c and *.h only', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kctx-tree-'));
  mkdirSync(join(dir, 'sub', 'deeper'), { recursive: true });
  copyFileSync(join(FIXTURES, 'ring-walk.c'), join(dir, 'sub', 'deeper', 'walk.h'));
  copyFileSync(join(FIXTURES, 'template-rev.c'), join(dir, 'a.c'));
  copyFileSync(join(FIXTURES, 'ring-walk.c'), join(dir, 'sub', 'notes.txt'));
  const r = kctx('--format', 'json', dir);
  assert.equal(r.status, 1);
  const files = new Set(JSON.parse(r.stdout).diagnostics.map((d: { file: string }) => d.file.slice(dir.length + 1)));
  assert.deepEqual([...files].sort(), ['a.c', join('sub', 'deeper', 'walk.h')]);
  assert.match(r.stderr, /2 files/);
});

test('usage errors exit 2 with a clear message', () => {
  let r = kctx('--frobnicate', rel('ring-walk.c'));
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown option '--frobnicate'/);
  r = kctx();
  assert.equal(r.status, 2);
  assert.match(r.stderr, /no PATH given/);
  r = kctx('--format', 'xml', rel('ring-walk.c'));
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown format 'xml'/);
  r = kctx('--era', '9999', rel('ring-walk.c'));
  assert.equal(r.status, 2);
  r = kctx(join(REPO, 'no', 'such', 'file.c'));
  assert.equal(r.status, 2);
  assert.match(r.stderr, /cannot read .*no such file or directory/);
  if (process.getuid?.() !== 0) {
    const dir = mkdtempSync(join(tmpdir(), 'kctx-perm-'));
    writeFileSync(join(dir, 'x.c'), 'int x;\n');
    chmodSync(join(dir, 'x.c'), 0);
    r = kctx(join(dir, 'x.c'));
    assert.equal(r.status, 2);
    assert.match(r.stderr, /permission denied/);
  }
});

test('--era changes the verdict: 13915 wants 9 arguments, 13917 has no installctx', () => {
  const f = rel('arity-pre13915.c');
  const a = kctx('--format', 'json', '--era', '13915', f);
  const b = kctx('--format', 'json', '--era', '13917', f);
  const rules = (r: ReturnType<typeof kctx>) => JSON.parse(r.stdout).diagnostics.map((d: { rule: string; line: number }) => `${d.line}:${d.rule}`);
  assert.deepEqual(rules(a), ['10:installctx-arity']);
  assert.deepEqual(rules(b), ['10:legacy-ctxop-api', '11:legacy-ctxop-api', '12:legacy-ctxop-api']);
});

test('a big tree is linted by worker threads with the same results', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kctx-big-'));
  for (let i = 0; i < 24; i++) copyFileSync(join(FIXTURES, i % 2 ? 'sleeping-13917.c' : 'curvnet.c'), join(dir, `f${String(i).padStart(2, '0')}.c`));
  writeFileSync(join(dir, 'pad.c'), '/* padding */\nint pad;\n'.repeat(20000));
  const r = kctx('--format', 'json', dir);
  assert.match(r.stderr, /workers/);
  const j = JSON.parse(r.stdout);
  assert.equal(j.diagnostics.filter((d: { rule: string }) => d.rule === 'sleeping-alloc-preempt-disabled').length, 12 * 9);
  assert.equal(j.diagnostics.filter((d: { rule: string }) => d.rule === 'curvnet-unbalanced' || d.rule === 'curvnet-set-scope').length, 12 * 3);
});
