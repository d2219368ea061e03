/**
 * The DDI soft state functions as illumos's sunddi.c: a driver's _init() makes its state, attach
 * allocates an instance's, detach frees it, _fini tears the state down. Every buffer is kmem's,
 * so ::findleaks sees what a driver loses and nothing when it cleans up.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { runC } from '../cinterp/helpers';
import { findLeaks } from '../../../kernel-sim/mdb/index';

const DRIVER = (fini: boolean) => `
#include <sys/types.h>
#include <sys/cmn_err.h>
#include <sys/sunddi.h>
struct inst { int i_unit; long i_word[5]; };
static void *statep;
static void *keep;
void entry(void *arg) {
  struct inst *a, *b;
  cmn_err(CE_CONT, "init %d %d %d\\n", ddi_soft_state_init(&statep, sizeof (struct inst), 2), ddi_soft_state_init(NULL, 8, 1), ddi_soft_state_init(&keep, 0, 1));
  cmn_err(CE_CONT, "zalloc %d %d %d %d\\n", ddi_soft_state_zalloc(statep, 0), ddi_soft_state_zalloc(statep, 0), ddi_soft_state_zalloc(statep, 19), ddi_soft_state_zalloc(statep, -1));
  a = ddi_get_soft_state(statep, 0);
  b = ddi_get_soft_state(statep, 19);
  a->i_unit = 7;
  cmn_err(CE_CONT, "get %d %d %d %d %d %d\\n", a != NULL, b != NULL, a != b, b->i_unit, (int)b->i_word[4], ddi_get_soft_state(statep, 3) == NULL);
  cmn_err(CE_CONT, "past %d %d %d\\n", ddi_get_soft_state(statep, 64) == NULL, ddi_get_soft_state(statep, -2) == NULL, ((struct inst *)ddi_get_soft_state(statep, 0))->i_unit);
  ddi_soft_state_free(statep, 19);
  ddi_soft_state_free(statep, 19);
  cmn_err(CE_CONT, "freed %d %d\\n", ddi_get_soft_state(statep, 19) == NULL, ddi_soft_state_zalloc(statep, 19));
  ${fini ? 'ddi_soft_state_fini(&statep);\n  ddi_soft_state_fini(&statep);\n  cmn_err(CE_CONT, "fini %d\\n", statep == NULL);' : 'statep = NULL;'}
}
`;

test('ddi_soft_state_*: init, zalloc (a second time fails, an item past the array grows it), get, free, fini; a driver that cleans up leaks nothing, one that drops its state leaks every buffer', async () => {
  const r = await runC(DRIVER(true));
  assert.equal(r.outcome.kind, 'end', JSON.stringify(r.outcome));
  assert.deepEqual(r.console, ['init 0 22 22\n', 'zalloc 0 -1 0 -1\n', 'get 1 1 1 0 0 1\n', 'past 1 1 7\n', 'freed 1 0\n', 'fini 1\n']);
  assert.deepEqual(findLeaks(r.m).leaks, []);
  // Dropping the state pointer loses the state, its array, the dirty (pre-growth) array and its
  // holder, and both instances, each a kmem buffer ::findleaks reports.
  const d = await runC(DRIVER(false));
  assert.equal(d.outcome.kind, 'end', JSON.stringify(d.outcome));
  const leaks = findLeaks(d.m);
  assert.equal(leaks.totalBuffers, 6);
  const byCaller = new Map<string, number>();
  for (const l of leaks.leaks) byCaller.set(l.caller.replace(/\+0x[0-9a-f]+$/, ''), (byCaller.get(l.caller.replace(/\+0x[0-9a-f]+$/, '')) ?? 0) + l.count);
  assert.deepEqual([...byCaller].sort(), [['ddi_soft_state_init', 2], ['ddi_soft_state_zalloc', 4]]);
});
