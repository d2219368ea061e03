/**
 * The lock walk of a function runs once per file model for both lock rules, including a walk over the
 * work budget: the budget counts path steps, so a second walk would stop at the same step with the same
 * empty result. The second rule gets the remembered WorkBudgetExceeded; (the lint then says both stopped).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCParser } from '../../../core/cparser';
import { FileModel } from '../../../language-server/model';
import { lockResult } from '../../../language-server/locks';
import { WorkBudget, WorkBudgetExceeded } from '../../../language-server/flow';

const SRC = [
  'int',
  'tbl_scan(struct tbl *t)',
  '{',
  '\tstruct tbl *p;',
  '',
  '\tfor (p = t->t_next; p != NULL; p = p->t_next) {',
  '\t\tmutex_enter(&t->t_lock);',
  '\t\tif (p->t_err)',
  '\t\t\treturn (EIO);',
  '\t\tmutex_exit(&t->t_lock);',
  '\t}',
  '\treturn (0);',
  '}',
  '',
].join('\n');

test('a lock walk over the work budget is walked once per model: both lock rules get the same WorkBudgetExceeded; within the budget, the same result object', async () => {
  const tree = (await createCParser()).parse(SRC)!;
  const over = new FileModel(SRC, tree, 't.c', '13917', new WorkBudget(5));
  const fn = over.fnByName.get('tbl_scan')!;
  let first: unknown;
  assert.throws(() => lockResult(over, fn), (e: unknown) => { first = e; return e instanceof WorkBudgetExceeded && e.steps === 5; });
  assert.throws(() => lockResult(over, fn), (e: unknown) => e === first);
  const within = new FileModel(SRC, tree, 't.c', '13917', new WorkBudget(100_000));
  const r = lockResult(within, within.fnByName.get('tbl_scan')!);
  assert.equal(lockResult(within, within.fnByName.get('tbl_scan')!), r);
  // The loop's first and second rounds: the error return keeps the lock, the last return holds nothing.
  assert.deepEqual(r.exits.map((e) => [e.node.startPosition.row + 1, e.how, e.value, [...e.held.keys()]]), [
    [9, 'return', 'EIO', ['t->t_lock']], [9, 'return', 'EIO', ['t->t_lock']], [12, 'return', '0', []], [12, 'return', '0', []],
  ]);
});
