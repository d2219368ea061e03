/**
 * A loop whose condition the path knows: `while (sp == NULL) { ... sp = NULL; }` goes round again, so
 * the only way out of it is the `break` that holds the lock; the release after the loop is no double
 * unlock. A twin that does not reset sp (the condition is unknown there) leaves the loop with the lock
 * released, and the release after it is reported. Exact rule ids and ranges.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lockFindings } from './helpers';

const lint = (src: string) => lockFindings(src, '/x/snap.c');

const SRC = [
  'int',
  'snap_take(struct snap **spp)',
  '{',
  '\tstruct snap *sp = NULL;',
  '\tsize_t size;',
  '\tint gen;',
  '',
  '\twhile (sp == NULL) {',
  '\t\tmutex_enter(&snap_lock);',
  '\t\tgen = snap_gen;',
  '\t\tsize = snap_size;',
  '\t\tmutex_exit(&snap_lock);',
  '\t\tsp = kmem_zalloc(size, KM_NOSLEEP);',
  '\t\tif (sp == NULL)',
  '\t\t\treturn (ENOMEM);',
  '\t\tmutex_enter(&snap_lock);',
  '\t\tif (snap_gen == gen)',
  '\t\t\tbreak;',
  '\t\tmutex_exit(&snap_lock);',
  '\t\tkmem_free(sp, size);',
  '\t\tsp = NULL;',
  '\t}',
  '\tsnap_fill(sp);',
  '\tmutex_exit(&snap_lock);',
  '\t*spp = sp;',
  '\treturn (0);',
  '}',
  '',
].join('\n');

test('a loop condition the path knows to be true does not end the loop', async () => {
  assert.deepEqual(await lint(SRC), []);
});

test('a loop condition the path does not know may end it', async () => {
  assert.deepEqual(await lint(SRC.replace('\t\tsp = NULL;\n', '')), ['unlock-not-held 23:2-23:24']);
});
