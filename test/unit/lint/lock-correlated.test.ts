/**
 * The lock rules over test/fixtures/lint/lock-correlated.c: exact rule ids and ranges. The silent
 * shapes (conditions correlated through flags, assignments, pointers and switch cases; exclusive
 * values; a lock retaken by code the walk does not see; a lock destroyed with its object) each have a
 * twin that breaks the correlation and is reported, and the true positives stay.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lintText } from '../../../language-server/engine';
import { FIXTURES } from './helpers';

const PATH = join(FIXTURES, 'lock-correlated.c');
const RULES = { 'lock-not-released': 'warning', 'unlock-not-held': 'warning' } as const;

test('lock-correlated.c: exactly the twins and the true positives, with their ranges', async () => {
  const text = readFileSync(PATH, 'utf8');
  const diags = await lintText(text, PATH, { era: 'auto', rules: { ...RULES } });
  const got = diags.map((d) => `${d.code} ${d.range.start.line + 1}:${d.range.start.character + 1}-${d.range.end.line + 1}:${d.range.end.character + 1}`);
  assert.deepEqual(got, [
    // node_io2: the exit is under another flag
    'lock-not-released 59:3-59:33',
    // node_cmd2: dropped in a case the first switch did not take it in
    'lock-not-released 142:3-142:27',
    // node_unlock_mode2: the second release is under another variable
    'unlock-not-held 177:3-177:21',
    // blk_send: blk_free() does not touch locks, so the state after it is known: a double unlock at fail:
    'unlock-not-held 245:2-245:25',
    // node_wait_ready: retaken in the loop, then returns with it held
    'lock-not-released 283:3-283:27',
  ]);
  const line = (n: number) => text.split('\n')[n - 1]!;
  assert.match(line(59), /rw_enter\(&np->n_rw, RW_READER\)/);
  assert.match(line(245), /mutex_exit\(&bp->b_lock\)/);
  assert.match(line(283), /mutex_enter\(&np->n_lock\)/);
  const wait = diags.find((d) => d.range.start.line === 282)!;
  assert.match(wait.message, /still held at the return at line 285/);
});

test('a correlation broken by a write to its variable is reported again', async () => {
  const src = [
    'int',
    'f(struct node *np, int dolock)',
    '{',
    '\tif (dolock)',
    '\t\tmutex_enter(&np->n_lock);',
    '\tdolock = node_read(np, 0);',
    '\tif (dolock)',
    '\t\tmutex_exit(&np->n_lock);',
    '\treturn (0);',
    '}',
    '',
  ].join('\n');
  const diags = await lintText(src, '/x/f.c', { era: 'auto', rules: { ...RULES } });
  assert.deepEqual(diags.map((d) => `${d.code} ${d.range.start.line + 1}:${d.range.start.character + 1}`), ['lock-not-released 5:3']);
  const ok = await lintText(src.replace('\tdolock = node_read(np, 0);\n', '\t(void) node_read(np, 0);\n'), '/x/f.c', { era: 'auto', rules: { ...RULES } });
  assert.deepEqual(ok.map((d) => d.code), []);
});

test('paths merged over unread conditions keep a condition a later switch reads through its case labels', async () => {
  // the shape of a bind function: a lock taken under `if (idtype == P_PROJID)`, released in the
  // matching case of a switch on idtype at the end, with unrelated branches between (merged away)
  const src = [
    'int',
    'f(struct node *np, int idtype, int a, int b, int c)',
    '{',
    '\tint rv = 0;',
    '',
    '\tif (idtype == P_PROJID)',
    '\t\tmutex_enter(&np->n_lock);',
    '\tif (a)',
    '\t\trv = node_read(np, 1);',
    '\tif (b)',
    '\t\trv = node_read(np, 2);',
    '\tif (c)',
    '\t\trv = node_read(np, 3);',
    '\tswitch (idtype) {',
    '\tcase P_PROJID:',
    '\t\tmutex_exit(&np->n_lock);',
    '\t\tbreak;',
    '\tcase P_ZONEID:',
    '\t\tmutex_enter(&cpu_lock);',
    '\t\tmutex_exit(&cpu_lock);',
    '\t\tbreak;',
    '\t}',
    '\treturn (rv);',
    '}',
    '',
  ].join('\n');
  const diags = await lintText(src, '/x/f.c', { era: 'auto', rules: { ...RULES } });
  assert.deepEqual(diags.map((d) => `${d.code} ${d.range.start.line + 1}:${d.range.start.character + 1}`), []);
  // the twin: the release under another label is reported
  const twin = await lintText(src.replace('\tcase P_PROJID:\n\t\tmutex_exit(&np->n_lock);', '\tcase P_POOLID:\n\t\tmutex_exit(&np->n_lock);'), '/x/f.c', { era: 'auto', rules: { ...RULES } });
  assert.deepEqual(twin.map((d) => `${d.code} ${d.range.start.line + 1}:${d.range.start.character + 1}`), ['lock-not-released 7:3']);
});
