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
