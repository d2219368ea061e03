/**
 * Two guards around a release that the lock walk reads: `if (MUTEX_HELD(&k))` (the branch says the lock
 * is held: taken back by something the walk does not see) and a flag inside an `&&` condition that the
 * path knows false (`if (err == ENOSPC && haverw)` after `haverw = 0` where the lock was dropped).
 * Twins without the guard, or with `||`, are reported. Exact rule ids and ranges.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lockFindings } from './helpers';

const lint = (src: string) => lockFindings(src, '/x/guard.c');

const HELD = [
  'int',
  'job_get(struct job *jp, struct proc *pp)',
  '{',
  '\tmutex_enter(&pp->p_lock);',
  '\tif (jp->j_proc != pp)',
  '\t\tmutex_exit(&pp->p_lock);',
  '\tjob_scan(jp);',
  '\tif (MUTEX_HELD(&pp->p_lock))',
  '\t\tmutex_exit(&pp->p_lock);',
  '\treturn (0);',
  '}',
  '',
].join('\n');

test('a release under `if (MUTEX_HELD(&k))` is no double unlock', async () => {
  assert.deepEqual(await lint(HELD), []);
  assert.deepEqual(await lint(HELD.replace('if (MUTEX_HELD(&pp->p_lock))', 'if (jp->j_flags != 0)')), ['lock-not-released 4:2-4:26', 'unlock-not-held 9:3-9:26']);
});

const FLAG = [
  'int',
  'node_setattr(struct vnode *vp, struct inode *ip, int err)',
  '{',
  '\tint haverw = 1;',
  '',
  '\trw_enter(&ip->i_rwlock, RW_WRITER);',
  '\tif (vp->v_type == VDIR) {',
  '\t\trw_exit(&ip->i_rwlock);',
  '\t\thaverw = 0;',
  '\t}',
  '\tnode_flush(vp);',
  '\tif (err == ENOSPC && haverw) {',
  '\t\trw_exit(&ip->i_rwlock);',
  '\t\thaverw = 0;',
  '\t}',
  '\tif (haverw)',
  '\t\trw_exit(&ip->i_rwlock);',
  '\treturn (err);',
  '}',
  '',
].join('\n');

test('an `&&` condition with a part the path knows false is false', async () => {
  assert.deepEqual(await lint(FLAG), []);
  assert.deepEqual(await lint(FLAG.replace('err == ENOSPC && haverw', 'err == ENOSPC || haverw')), ['unlock-not-held 13:3-13:25']);
});
