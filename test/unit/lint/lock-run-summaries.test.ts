/**
 * Summaries across the files of one `kctx lint` run (lockpass.ts): a first pass collects what each
 * function that other files can call (not `static`) does to locks; a name's summary is used only when
 * every definition of it in the run agrees. A caller in another file whose callee drops the lock is no
 * leak, and its release after such a callee is a double unlock. A `static` function of another file, or
 * a name whose definitions disagree, gives no summary: those findings stay. The first pass ends before
 * any file is linted: --jobs 1, --jobs 2 and another file order give the same findings. One file alone
 * (the language server) has same-file summaries only. Exact rule ids and ranges.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, REPO, lockFindings } from './helpers';
import { scratchDir } from '../../scratch';
import { lintText } from '../../../language-server/engine';
import { runDefinitionsOfText } from '../../../language-server/lockpass';
import { mergeRunDefinitions } from '../../../language-server/locks';

const NOTIFY = [
  '#include <sys/mutex.h>',
  'struct sonode { kmutex_t so_lock; int so_state; };',
  'struct syncq { kmutex_t sq_lock; int sq_n; };',
  'kmutex_t dev_list_mutex;',
  '',
  'void',
  'so_notify_data(struct sonode *so, int n)',
  '{',
  '\tso->so_state |= n;',
  '\tmutex_exit(&so->so_lock);',
  '}',
  '',
  'static void',
  'sq_finish(struct syncq *sq)',
  '{',
  '\tmutex_exit(&sq->sq_lock);',
  '}',
  '',
  'void',
  'dev_list_relock(void)',
  '{',
  '\tmutex_enter(&dev_list_mutex);',
  '}',
  '',
  'int',
  'port_send(struct sonode *pp)',
  '{',
  '\tmutex_exit(&pp->so_lock);',
  '\treturn (0);',
  '}',
  '',
  'static int',
  'so_lookup_locked(struct sonode *so)',
  '{',
  '\treturn (so->so_state);',
  '}',
  '',
  'int',
  'so_lookup(struct sonode *so)',
  '{',
  '\tint v;',
  '',
  '\tmutex_enter(&so->so_lock);',
  '\tv = so_lookup_locked(so);',
  '\tmutex_exit(&so->so_lock);',
  '\treturn (v);',
  '}',
  '',
].join('\n');

/** Another definition of port_send that takes and drops the lock (no summary): the run's two definitions disagree. */
const PORT2 = [
  'struct sonode { kmutex_t so_lock; int so_state; };',
  '',
  'int',
  'port_send(struct sonode *pp)',
  '{',
  '\tmutex_enter(&pp->so_lock);',
  '\tpp->so_state = 0;',
  '\tmutex_exit(&pp->so_lock);',
  '\treturn (0);',
  '}',
  '',
].join('\n');

const USER = [
  '#include <sys/mutex.h>',
  'struct sonode { kmutex_t so_lock; int so_state; };',
  'struct syncq { kmutex_t sq_lock; int sq_n; };',
  'extern kmutex_t dev_list_mutex;',
  '',
  'void',
  'so_queue(struct sonode *so, int err)',
  '{',
  '\tmutex_enter(&so->so_lock);',
  '\tif (err) {',
  '\t\tmutex_exit(&so->so_lock);',
  '\t\treturn;',
  '\t}',
  '\tso_notify_data(so, 1);',
  '}',
  '',
  'void',
  'so_twice(struct sonode *so)',
  '{',
  '\tmutex_enter(&so->so_lock);',
  '\tso_notify_data(so, 2);',
  '\tmutex_exit(&so->so_lock);',
  '}',
  '',
  'void',
  'sq_drain(struct syncq *sq)',
  '{',
  '\tmutex_enter(&sq->sq_lock);',
  '\tif (sq->sq_n == 0) {',
  '\t\tmutex_exit(&sq->sq_lock);',
  '\t\treturn;',
  '\t}',
  '\tsq_finish(sq);',
  '}',
  '',
  'void',
  'dev_detach(int busy)',
  '{',
  '\tmutex_enter(&dev_list_mutex);',
  '\tif (busy) {',
  '\t\tmutex_exit(&dev_list_mutex);',
  '\t\tdelay(1);',
  '\t\tdev_list_relock();',
  '\t}',
  '\tmutex_exit(&dev_list_mutex);',
  '}',
  '',
  'void',
  'port_close(struct sonode *pp)',
  '{',
  '\tmutex_enter(&pp->so_lock);',
  '\tif (pp->so_state) {',
  '\t\tmutex_exit(&pp->so_lock);',
  '\t\treturn;',
  '\t}',
  '\t(void) port_send(pp);',
  '}',
  '',
  'void',
  'so_peek(struct sonode *so)',
  '{',
  '\t(void) so_lookup(so);',
  '\tmutex_exit(&so->so_lock);',
  '}',
  '',
].join('\n');

const RULES = { 'lock-not-released': 'warning', 'unlock-not-held': 'warning' } as const;

/** With every summary of the run: so_queue is no leak, so_twice's second release is a double unlock,
 * dev_detach's release after dev_list_relock() is not; sq_drain (a static of another file) and port_close
 * (port_send defined twice, differently) keep their findings. */
const WITH_RUN = [
  'unlock-not-held 22:2-22:26',
  'lock-not-released 28:2-28:27',
  'lock-not-released 51:2-51:27',
];

test('the run\'s summaries: a callee of another file releases or takes the lock; statics and disagreeing definitions give none', async () => {
  const defs = [await runDefinitionsOfText(NOTIFY, '/x/notify.c', {}), await runDefinitionsOfText(PORT2, '/x/port.c', {}), await runDefinitionsOfText(USER, '/x/user.c', {})];
  assert.deepEqual(defs[0]!.map(([n, s]) => [n, s && [s.params, s.releases, s.acquires]]), [
    ['so_notify_data', [['so', 'n'], ['so->so_lock'], []]],
    ['dev_list_relock', [[], [], ['dev_list_mutex']]],
    ['port_send', [['pp'], ['pp->so_lock'], []]],
    // it takes the lock and drops it after a lock-ish call made the walk forget it: no summary (so_peek's release is no double unlock)
    ['so_lookup', null],
  ]);
  const merged = mergeRunDefinitions(defs);
  assert.deepEqual([...merged.keys()], ['dev_list_relock', 'so_notify_data', 'so_peek']);
  // the order the files come in changes nothing
  assert.deepEqual([...mergeRunDefinitions([...defs].reverse())], [...merged]);
  const diags = await lintText(USER, '/x/user.c', { rules: RULES, lockSummaries: merged });
  assert.deepEqual(diags.map((d) => `${d.code} ${d.range.start.line + 1}:${d.range.start.character + 1}-${d.range.end.line + 1}:${d.range.end.character + 1}`), WITH_RUN);
  assert.match(diags[0]!.message, /already released it in so_notify_data\(\) at line 21 \(it releases it on every path\): a double unlock/);
  // one file alone (the language server): no summaries of other files, the caller-holds reading
  assert.deepEqual(await lockFindings(USER, '/x/user.c'), [
    'lock-not-released 9:2-9:27',
    'lock-not-released 28:2-28:27',
    'unlock-not-held 45:2-45:29',
    'lock-not-released 51:2-51:27',
  ]);
});

const kctx = (...args: string[]) => spawnSync(process.execPath, [join(REPO, 'dist', 'kctx.js'), 'lint', ...args], { encoding: 'utf8', cwd: REPO });
const rows = (r: ReturnType<typeof kctx>, base: string) => (JSON.parse(r.stdout).diagnostics as { file: string; line: number; column: number; rule: string }[]).map((d) => `${d.file.slice(base.length + 1)}:${d.line}:${d.column}:${d.rule}`);

test('kctx lint: the first pass ends before any lint, so --jobs 1, --jobs 2 and the file order give the same findings', () => {
  const dir = scratchDir('kctx-runsum-');
  // files without a lock rule first (the walk sends them to a worker), then a folder whose .kctx.json turns the lock rules on
  const fx = readdirSync(FIXTURES).filter((f) => f.endsWith('.c')).sort();
  mkdirSync(join(dir, 'a'));
  for (let i = 0; i < 40; i++) copyFileSync(join(FIXTURES, fx[i % fx.length]!), join(dir, 'a', `f${String(i).padStart(2, '0')}.c`));
  mkdirSync(join(dir, 'z'));
  writeFileSync(join(dir, 'z', '.kctx.json'), JSON.stringify({ 'kctx.lint.rules': RULES }));
  writeFileSync(join(dir, 'z', 'notify.c'), NOTIFY);
  writeFileSync(join(dir, 'z', 'port.c'), PORT2);
  writeFileSync(join(dir, 'z', 'user.c'), USER);
  const one = kctx('--format', 'json', '--jobs', '1', dir);
  const two = kctx('--format', 'json', '--jobs', '2', dir);
  assert.match(two.stderr, /43 files, .*, 1 worker\n/);
  assert.equal(two.stdout, one.stdout);
  const z = rows(one, dir).filter((r) => r.startsWith('z/'));
  assert.deepEqual(z, ['z/user.c:22:2:unlock-not-held', 'z/user.c:28:2:lock-not-released', 'z/user.c:51:2:lock-not-released']);
  // the files named in another order: the same findings for each file
  const zf = (f: string) => join(dir, 'z', f);
  const fwd = kctx('--format', 'json', '--jobs', '1', zf('notify.c'), zf('port.c'), zf('user.c'));
  const rev = kctx('--format', 'json', '--jobs', '2', zf('user.c'), zf('port.c'), zf('notify.c'));
  assert.deepEqual(rows(rev, join(dir, 'z')).sort(), rows(fwd, join(dir, 'z')).sort());
  assert.deepEqual(rows(fwd, join(dir, 'z')), ['user.c:22:2:unlock-not-held', 'user.c:28:2:lock-not-released', 'user.c:51:2:lock-not-released']);
  // without the file that defines them, the same user.c gets the one-file findings
  assert.deepEqual(rows(kctx('--format', 'json', zf('user.c')), join(dir, 'z')), ['user.c:9:2:lock-not-released', 'user.c:28:2:lock-not-released', 'user.c:45:2:unlock-not-held', 'user.c:51:2:lock-not-released']);
});
