/**
 * Acquire summaries: a same-file function that takes a lock and returns with it held on every path
 * (a lock wrapper) takes it in its caller too, in the caller's words. A caller that drops a global lock,
 * waits, and retakes it through such a wrapper holds it again: its release after that is no double
 * unlock. A wrapper that takes it on some paths only is no summary, and the release after it is
 * reported. Exact rule ids and ranges.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lockFindings } from './helpers';

const lint = (src: string) => lockFindings(src, '/x/devlist.c');

const SRC = [
  'static void',
  'dev_list_relock(struct dev *dp)',
  '{',
  '\tmutex_enter(&dev_list_mutex);',
  '\tdp->d_flags |= D_LISTED;',
  '}',
  '',
  'static void',
  'dev_hold(struct dev *dp)',
  '{',
  '\tmutex_enter(&dp->d_lock);',
  '\tdp->d_ref++;',
  '}',
  '',
  'int',
  'dev_detach(struct dev *dp)',
  '{',
  '\tmutex_enter(&dev_list_mutex);',
  '\tif (dp->d_busy) {',
  '\t\tmutex_exit(&dev_list_mutex);',
  '\t\tdev_wait_idle(dp);',
  '\t\tdev_list_relock(dp);',
  '\t}',
  '\tdp->d_state = 0;',
  '\tmutex_exit(&dev_list_mutex);',
  '\treturn (0);',
  '}',
  '',
  'int',
  'dev_set(struct dev *dp, int v)',
  '{',
  '\tdev_hold(dp);',
  '\tif (v < 0) {',
  '\t\tmutex_exit(&dp->d_lock);',
  '\t\treturn (EINVAL);',
  '\t}',
  '\tdp->d_value = v;',
  '\tmutex_exit(&dp->d_lock);',
  '\tmutex_exit(&dp->d_lock);',
  '\treturn (0);',
  '}',
  '',
].join('\n');

test('a wrapper that returns holding the lock takes it in the caller', async () => {
  // dev_detach: retaken through dev_list_relock(), released once: silent. dev_set: dev_hold() takes
  // dp->d_lock (in the caller's words), so the second release in a row is a double unlock
  assert.deepEqual(await lint(SRC), ['unlock-not-held 39:2-39:25']);
});

test('a function that takes the lock on some paths only is no acquire summary', async () => {
  const twin = SRC.replace('\tmutex_enter(&dev_list_mutex);\n\tdp->d_flags |= D_LISTED;', '\tif (dp->d_flags & D_LISTED)\n\t\tmutex_enter(&dev_list_mutex);\n\tdp->d_flags |= D_LISTED;');
  assert.deepEqual(await lint(twin), ['unlock-not-held 26:2-26:29', 'unlock-not-held 40:2-40:25']);
});
