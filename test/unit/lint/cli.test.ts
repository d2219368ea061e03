/** `kctx lint` as users run it: the bundled CLI, its three formats, exit codes and folder recursion. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdirSync, copyFileSync, chmodSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, FIXTURES } from './helpers';
import { scratchDir } from '../../scratch';

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
  const r = kctx('--rule', 'assert-side-effect', rel('assert-side-effect.c'));
  assert.equal(r.status, 0, r.stdout);
  assert.match(r.stdout, /: warning: .*\[assert-side-effect\]/);
  const dir = scratchDir('kctx-clean-');
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
  const dir = scratchDir('kctx-tree-');
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
    const dir = scratchDir('kctx-perm-');
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
  const dir = scratchDir('kctx-big-');
  for (let i = 0; i < 24; i++) copyFileSync(join(FIXTURES, i % 2 ? 'sleeping-13917.c' : 'curvnet.c'), join(dir, `f${String(i).padStart(2, '0')}.c`));
  writeFileSync(join(dir, 'pad.c'), '/* padding */\nint pad;\n'.repeat(20000));
  const r = kctx('--format', 'json', dir);
  // 25 files, 640 KB: the files with a trigger (the 24 fixtures) go to one worker
  assert.match(r.stderr, /25 files, .*, 1 worker\n/);
  const j = JSON.parse(r.stdout);
  assert.equal(j.diagnostics.filter((d: { rule: string }) => d.rule === 'sleeping-alloc-preempt-disabled').length, 12 * 9);
  assert.equal(j.diagnostics.filter((d: { rule: string }) => d.rule === 'curvnet-unbalanced' || d.rule === 'curvnet-set-scope').length, 12 * 3);
});

test('files sent to a worker while the folders are still walked: the same bytes as one thread', () => {
  const dir = scratchDir('kctx-stream-');
  const fx = readdirSync(FIXTURES).filter((f) => f.endsWith('.c')).sort();
  // 100 files in 5 folders: batches go out during the walk, the rest after it
  for (let i = 0; i < 100; i++) {
    const sub = join(dir, `d${i % 5}`);
    mkdirSync(sub, { recursive: true });
    copyFileSync(join(FIXTURES, fx[i % fx.length]!), join(sub, `f${String(i).padStart(3, '0')}.c`));
  }
  const one = kctx('--format', 'json', '--jobs', '1', dir);
  const two = kctx('--format', 'json', '--jobs', '2', dir);
  // (a second worker starts only past 16 MB of text to lint)
  assert.match(two.stderr, /100 files, .*, 1 worker\n/);
  assert.doesNotMatch(one.stderr, /worker/);
  assert.ok(JSON.parse(one.stdout).diagnostics.length > 50);
  assert.equal(two.stdout, one.stdout);
  assert.equal(two.status, one.status);
});

const findings = (r: ReturnType<typeof kctx>, base = '') => JSON.parse(r.stdout).diagnostics.map((d: { file: string; line: number; rule: string; severity: string }) => `${d.file.slice(base.length)}:${d.line}:${d.rule}:${d.severity}`);

test('--rule, --disable and --severity select and grade rules as eslint and clang-tidy users expect', () => {
  const f = rel('legacy-13917.c');
  const all = findings(kctx('--format', 'json', '--era', '13917', f));
  assert.deepEqual(all, [`${f}:16:legacy-ctxop-api:error`, `${f}:17:ctxop-handler-signature:warning`, `${f}:23:legacy-ctxop-api:error`]);
  assert.deepEqual(findings(kctx('--format', 'json', '--era', '13917', '--rule', 'ctxop-handler-signature', f)), [`${f}:17:ctxop-handler-signature:warning`]);
  assert.deepEqual(findings(kctx('--format', 'json', '--era', '13917', '--rule=ctxop-handler-signature,legacy-ctxop-api', '--disable', 'legacy-ctxop-api', f)), [`${f}:17:ctxop-handler-signature:warning`]);
  const r = kctx('--format', 'json', '--era', '13917', '--severity', 'legacy-ctxop-api=warning', '--severity=ctxop-handler-signature=off', f);
  assert.deepEqual(findings(r), [`${f}:16:legacy-ctxop-api:warning`, `${f}:23:legacy-ctxop-api:warning`]);
  assert.equal(r.status, 0, 'no error-severity finding left');
  let bad = kctx('--rule', 'no-such-rule', f);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--rule: unknown rule 'no-such-rule'/);
  bad = kctx('--severity', 'legacy-ctxop-api=fatal', f);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /level 'fatal'/);
});

test('.kctx.json found by walking up: era, rule levels, exclude globs; flags come on top; a malformed one is an error with file:line', () => {
  const dir = scratchDir('kctx-cfg-');
  mkdirSync(join(dir, 'drv', 'sub'), { recursive: true });
  mkdirSync(join(dir, 'gen'));
  copyFileSync(join(FIXTURES, 'legacy-13917.c'), join(dir, 'drv', 'sub', 'lx.c'));
  copyFileSync(join(FIXTURES, 'legacy-13917.c'), join(dir, 'gen', 'lx.c'));
  writeFileSync(join(dir, '.kctx.json'), '{\n\t// the project\n\t"kernelEra": "13917",\n\t"lint": { "rules": { "ctxop-handler-signature": "off", "legacy-ctxop-api": "warning" }, "exclude": ["gen/**"] }\n}\n');
  let r = kctx('--format', 'json', dir);
  assert.deepEqual(findings(r, dir), ['/drv/sub/lx.c:16:legacy-ctxop-api:warning', '/drv/sub/lx.c:23:legacy-ctxop-api:warning']);
  assert.match(r.stderr, /1 file,/);
  assert.equal(r.status, 0);
  // flags over the file
  r = kctx('--format', 'json', '--severity', 'legacy-ctxop-api=error', '--era', '13915', dir);
  assert.deepEqual(findings(r, dir), ['/drv/sub/lx.c:16:installctx-arity:error'], 'on 13915 the calls exist, with 9 arguments');
  r = kctx('--format', 'json', '--severity', 'legacy-ctxop-api=error', dir);
  assert.equal(r.status, 1);
  // a nearer file wins, with the VS Code settings' own dotted keys
  writeFileSync(join(dir, 'drv', '.kctx.json'), '{ "kctx.kernelEra": "13917", "kctx.lint.rules": {} }');
  assert.deepEqual(findings(kctx('--format', 'json', join(dir, 'drv')), dir), ['/drv/sub/lx.c:16:legacy-ctxop-api:error', '/drv/sub/lx.c:17:ctxop-handler-signature:warning', '/drv/sub/lx.c:23:legacy-ctxop-api:error']);
  assert.equal(kctx('--format', 'json', '--no-config', '--era', '13915', join(dir, 'drv')).stdout.includes('legacy-ctxop-api'), false);
  writeFileSync(join(dir, 'drv', '.kctx.json'), '{\n  "lint": {\n    "rules": { "no-such-rule": "off" }\n  }\n}\n');
  r = kctx(join(dir, 'drv'));
  assert.equal(r.status, 2);
  assert.equal(r.stderr, `kctx lint: ${join(dir, 'drv', '.kctx.json')}:3: unknown rule 'no-such-rule'\n`);
  writeFileSync(join(dir, 'drv', '.kctx.json'), '{\n  "kernelEra": 13917,\n}\n');
  r = kctx(join(dir, 'drv'));
  assert.equal(r.status, 2);
  assert.match(r.stderr, /\.kctx\.json:2: kernelEra must be one of auto, 12477, 13915, 13917/);
  writeFileSync(join(dir, 'drv', '.kctx.json'), '{\n  "kernelEra": \n');
  assert.match(kctx(join(dir, 'drv')).stderr, /\.kctx\.json:\d+: ValueExpected/);
});

test('--baseline: only findings not in an earlier JSON or SARIF output; lines that moved still match; SARIF says baselineState new', () => {
  const dir = scratchDir('kctx-base-');
  const c = join(dir, 'lx.c');
  const src = readFileSync(join(FIXTURES, 'legacy-13917.c'), 'utf8');
  writeFileSync(c, src);
  const j1 = kctx('--format', 'json', '--era', '13917', c);
  const s1 = kctx('--format', 'sarif', '--era', '13917', c);
  writeFileSync(join(dir, 'base.json'), j1.stdout);
  writeFileSync(join(dir, 'base.sarif'), s1.stdout);
  // Three lines added on top (everything moves), and one new legacy call at the end.
  writeFileSync(c, '/* a */\n/* b */\n/* c */\n' + src + '\nvoid\nlx_more(void *a)\n{\n\t(void) removectx(curthread, a, lxb_save, lxb_restore, NULL, NULL, lxb_save, NULL);\n}\n');
  const last = readFileSync(c, 'utf8').split('\n').findIndex((l) => l.includes('removectx(curthread')) + 1;
  for (const b of ['base.json', 'base.sarif']) {
    const r = kctx('--format', 'json', '--era', '13917', '--baseline', join(dir, b), c);
    assert.deepEqual(findings(r, dir), [`/lx.c:${last}:legacy-ctxop-api:error`], b);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /3 in the baseline not shown/);
  }
  const s = JSON.parse(kctx('--format', 'sarif', '--era', '13917', '--baseline', join(dir, 'base.sarif'), c).stdout);
  assert.deepEqual(s.runs[0].results.map((x: { ruleId: string; baselineState: string }) => [x.ruleId, x.baselineState]), [['legacy-ctxop-api', 'new']]);
  // the unchanged file against its own baseline: nothing, exit 0
  writeFileSync(c, src);
  const same = kctx('--era', '13917', '--baseline', join(dir, 'base.json'), c);
  assert.equal(same.stdout, '');
  assert.equal(same.status, 0);
  writeFileSync(join(dir, 'bad.json'), '{"x": 1}');
  const bad = kctx('--baseline', join(dir, 'bad.json'), c);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /neither kctx JSON \(version 1\) nor SARIF/);
});

test('--era auto reads the era the file\'s kernel tree declares (walking up to uts, or the gate of .kctx.json)', () => {
  const root = scratchDir('kctx-trees-');
  const PROTO = {
    legacy: 'extern\tvoid\tinstallctx(kthread_t *, void *, void (*)(), void (*)(),\n    void (*)(), void (*)(), void (*)(), void (*)());\nextern\tint\tremovectx(kthread_t *, void *, void (*)(), void (*)(),\n    void (*)(), void (*)(), void (*)(), void (*)());\n',
    prealloc: 'extern\tstruct ctxop *installctx_preallocate(void);\nextern\tvoid\tinstallctx(kthread_t *, void *, void (*)(), void (*)(),\n    void (*)(), void (*)(), void (*)(), void (*)(), struct ctxop *);\n',
    template: 'struct ctxop_template {\n\tuint32_t ct_rev;\n};\nextern void ctxop_install(kthread_t *, const struct ctxop_template *, void *);\n',
  };
  const drv = readFileSync(join(FIXTURES, 'legacy-13917.c'), 'utf8');
  for (const [name, proto] of Object.entries(PROTO)) {
    mkdirSync(join(root, name, 'usr', 'src', 'uts', 'common', 'sys'), { recursive: true });
    mkdirSync(join(root, name, 'usr', 'src', 'uts', 'common', 'io', 'lx'), { recursive: true });
    writeFileSync(join(root, name, 'usr', 'src', 'uts', 'common', 'sys', 'proc.h'), `#ifndef _SYS_PROC_H\n#define _SYS_PROC_H\n${proto}#endif\n`);
    writeFileSync(join(root, name, 'usr', 'src', 'uts', 'common', 'io', 'lx', 'lx.c'), drv);
  }
  const rules = (r: ReturnType<typeof kctx>) => JSON.parse(r.stdout).diagnostics.filter((d: { file: string }) => d.file.endsWith('lx.c')).map((d: { line: number; rule: string }) => `${d.line}:${d.rule}`);
  // Only the legacy API in the tree's headers: the legacy calls are right there.
  assert.deepEqual(rules(kctx('--format', 'json', join(root, 'legacy'))), ['17:ctxop-handler-signature']);
  assert.equal(kctx(join(root, 'legacy')).status, 0);
  // A 13915 tree: installctx() wants 9 arguments.
  assert.deepEqual(rules(kctx('--format', 'json', join(root, 'prealloc'))), ['16:installctx-arity', '17:ctxop-handler-signature']);
  // A 13917 tree: they do not exist.
  assert.deepEqual(rules(kctx('--format', 'json', join(root, 'template'))), ['16:legacy-ctxop-api', '17:ctxop-handler-signature', '23:legacy-ctxop-api']);
  // --era wins over the tree.
  assert.deepEqual(rules(kctx('--format', 'json', '--era', '13917', join(root, 'legacy'))), ['16:legacy-ctxop-api', '17:ctxop-handler-signature', '23:legacy-ctxop-api']);
  // A driver outside the tree names it as its gate.
  mkdirSync(join(root, 'outside'));
  writeFileSync(join(root, 'outside', 'lx.c'), drv);
  writeFileSync(join(root, 'outside', '.kctx.json'), '{ "gate": "../legacy" }');
  assert.deepEqual(rules(kctx('--format', 'json', join(root, 'outside'))), ['17:ctxop-handler-signature']);
  writeFileSync(join(root, 'outside', '.kctx.json'), '{ "gate": "../template/usr/src" }');
  assert.deepEqual(rules(kctx('--format', 'json', join(root, 'outside'))), ['16:legacy-ctxop-api', '17:ctxop-handler-signature', '23:legacy-ctxop-api']);
});

test('a tree walk says a file over the size limit was skipped only when an enabled rule could have reported on it', () => {
  const dir = scratchDir('kctx-big-');
  // 2.2 MB of table: a firmware blob, nothing any rule looks at.
  const table = 'static const unsigned char fw[] = {\n' + '\t0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,\n'.repeat(44_000) + '};\n';
  writeFileSync(join(dir, 'fw.c'), table);
  // The same table and a function that disables preemption: a rule had something to read.
  writeFileSync(join(dir, 'drv.c'), table + 'void\ndrv_load(void)\n{\n\tkpreempt_disable();\n\tkpreempt_enable();\n}\n');
  const r = kctx('--format', 'json', dir);
  const j = JSON.parse(r.stdout) as { diagnostics: { file: string; rule: string; message: string }[] };
  assert.deepEqual(j.diagnostics.map((d) => [d.file.split('/').pop(), d.rule]), [['drv.c', 'file-skipped']]);
  const size = readFileSync(join(dir, 'drv.c'), 'utf8').length;
  assert.equal(j.diagnostics[0]!.message, `file not linted: ${size.toLocaleString('en-US')} characters, over the limit of 2,097,152`);
});
