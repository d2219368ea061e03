/**
 * A same-file callee that releases its caller's lock through a local that only names a member of its
 * parameter (`struct vcache *vc = &vhc->vhc_cache;` ... `rw_exit(&vc->vc_lock)`) summarises that release in
 * the parameter's words, and the caller applies it to its own alias of the same member: the lock is
 * released there, so a later release on that path is a double unlock and no lock is left held.
 * Exact rule ids and ranges.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lockFindings } from './helpers';

const lint = (src: string) => lockFindings(src, '/x/vcache.c');

const SRC = [
  'static void',
  'vcache_config_paths(struct vhc *vhc, char *name)',
  '{',
  '\tstruct vcache *vc = &vhc->vhc_cache;',
  '',
  '\tif (name == NULL || vcache_lookup(vc, name) == NULL) {',
  '\t\trw_exit(&vc->vc_lock);',
  '\t\treturn;',
  '\t}',
  '\trw_exit(&vc->vc_lock);',
  '\tvcache_config_one(vhc, name);',
  '}',
  '',
  'int',
  'vcache_bus_config(struct vh *vh, int op, char *name)',
  '{',
  '\tstruct vhc *vhc = vh->vh_config;',
  '\tstruct vcache *vcache = &vhc->vhc_cache;',
  '',
  '\trw_enter(&vcache->vc_lock, RW_READER);',
  '\tswitch (op) {',
  '\tcase OP_ONE:',
  '\t\tif (name != NULL) {',
  '\t\t\tvcache_config_paths(vhc, name);',
  '\t\t\t/* vcache_config_paths() releases vc_lock */',
  '\t\t\treturn (0);',
  '\t\t}',
  '\t\tbreak;',
  '\tdefault:',
  '\t\tbreak;',
  '\t}',
  '\trw_exit(&vcache->vc_lock);',
  '\treturn (0);',
  '}',
  '',
].join('\n');

test('a release through the callee\'s alias of its parameter\'s member is the caller\'s release', async () => {
  assert.deepEqual(await lint(SRC), []);
});

test('after the summarised release, a release of the same lock is a double unlock', async () => {
  const twin = SRC.replace('\t\t\t/* vcache_config_paths() releases vc_lock */\n', '\t\t\trw_exit(&vcache->vc_lock);\n');
  assert.deepEqual(await lint(twin), ['unlock-not-held 25:4-25:29']);
});

test('an alias the callee assigns again is not the parameter\'s member', async () => {
  const twin = SRC.replace('\trw_exit(&vc->vc_lock);\n\tvcache_config_one', '\trw_exit(&vc->vc_lock);\n\tvc = vcache_next(vc);\n\tvcache_config_one');
  assert.deepEqual(await lint(twin), ['lock-not-released 21:2-21:39']);
});
