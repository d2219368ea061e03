/**
 * The lock walk correlates conditions that read a macro (`if (!NODE_QUIESCED(np))`) or a call without
 * arguments (`if (parent == node_root())`) around both the enter and the exit: the same text with
 * nothing written to its identifiers in between is the same condition. A twin that writes one of
 * them in between, or tests another text, is reported. Exact rule ids and ranges.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lockFindings } from './helpers';

const lint = (src: string) => lockFindings(src, '/x/node.c');

const ROOT = [
  'int',
  'node_unlink(struct node *parent, struct node *np)',
  '{',
  '\tif (np->n_ref != 0)',
  '\t\treturn (EBUSY);',
  '\tif (parent == node_root())',
  '\t\tmutex_enter(&node_global_lock);',
  '\tnode_list_remove(&parent->n_children, np);',
  '\tif (parent == node_root())',
  '\t\tmutex_exit(&node_global_lock);',
  '\treturn (0);',
  '}',
  '',
].join('\n');

test('a condition on a call without arguments, around the enter and the exit, is one condition', async () => {
  assert.deepEqual(await lint(ROOT), []);
});

test('the same call condition after its identifier is written is another condition', async () => {
  const twin = ROOT.replace('\tnode_list_remove(&parent->n_children, np);\n', '\tparent = np->n_parent;\n');
  assert.deepEqual(await lint(twin), ['lock-not-released 7:3-7:33']);
});

const MACRO = [
  'int',
  'node_cmd(struct node *np, int cmd)',
  '{',
  '\tint count = 0;',
  '',
  '\tif (!NODE_QUIESCED(np)) {',
  '\t\tmutex_enter(&np->n_cmd_lock);',
  '\t}',
  '\tfor (;;) {',
  '\t\tif (node_reg_read(np) == 0)',
  '\t\t\tbreak;',
  '\t\tif (++count > NODE_POLL_MAX) {',
  '\t\t\tif (!NODE_QUIESCED(np)) {',
  '\t\t\t\tmutex_exit(&np->n_cmd_lock);',
  '\t\t\t}',
  '\t\t\treturn (ETIMEDOUT);',
  '\t\t}',
  '\t\tdelay_us(np->n_poll_delay);',
  '\t}',
  '\tnode_reg_write(np, cmd);',
  '\tif (!NODE_QUIESCED(np)) {',
  '\t\tmutex_exit(&np->n_cmd_lock);',
  '\t}',
  '\treturn (0);',
  '}',
  '',
].join('\n');

test('a macro condition around the enter and both exits is one condition', async () => {
  assert.deepEqual(await lint(MACRO), []);
});

test('a macro condition that tests another text does not correlate', async () => {
  const twin = MACRO.replace('\t\t\tif (!NODE_QUIESCED(np)) {\n\t\t\t\tmutex_exit', '\t\t\tif (!NODE_QUIESCED(np->n_peer)) {\n\t\t\t\tmutex_exit');
  assert.deepEqual(await lint(twin), ['lock-not-released 7:3-7:31']);
});
