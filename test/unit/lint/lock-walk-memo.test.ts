/**
 * The lock walk can memoize statements that no jump leaves (flow.ts WalkOptions.memo; off by default,
 * KCTX_LOCK_MEMO=1): a nested loop's next round and a backward goto's re-run meet the same entry
 * states again and take the first run's result.
 * It must be exact: the same exits, double releases and trails as the walk without it, the same path
 * steps (memo hits count the steps of the run they replay), so the work budget stops the same functions
 * at every budget, with the same partial result every time, and the lint says so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCParser } from '../../../core/cparser';
import { FileModel } from '../../../language-server/model';
import { analyze } from '../../../language-server/locks';
import type { LockResult, WalkStats } from '../../../language-server/locks';
import { WorkBudget, WorkBudgetExceeded } from '../../../language-server/flow';
import type { Step } from '../../../language-server/flow';
import { lintText } from '../../../language-server/engine';
import { lockFindings } from './helpers';

// A scan that takes the lock for each element of a list and walks the element's entries under it: the
// inner loop's second run (the outer loop's second round: the lock released and taken again, a longer
// trail) meets the entry state of its first run. An error return keeps the lock; the release after the
// loop is a double one once the loop has run.
const SRC = [
  'int',
  'tbl_scan(struct tbl *t)',
  '{',
  '\tstruct tbl_ent *e;',
  '\tstruct tbl *p;',
  '',
  '\tfor (p = t->t_next; p != NULL; p = p->t_next) {',
  '\t\tmutex_enter(&t->t_lock);',
  '\t\tfor (e = p->t_ent; e != NULL; e = e->e_next) {',
  '\t\t\tif (e->e_busy)',
  '\t\t\t\tt->t_cnt++;',
  '\t\t}',
  '\t\tif (p->t_err)',
  '\t\t\treturn (EIO);',
  '\t\tmutex_exit(&t->t_lock);',
  '\t}',
  '\tmutex_exit(&t->t_lock);',
  '\treturn (0);',
  '}',
  '',
].join('\n');

/** A whole trail, step by step. */
const full = (t: readonly Step[]) => t.map((x) => `${x.line}:${x.text}`).join(' -> ');

/** Everything the lock rules read of a walk, with node ids and whole trails. */
function shape(r: LockResult): unknown {
  return {
    exits: r.exits.map((e) => ({ at: e.node.id, how: e.how, value: e.value, held: [...e.held].map(([k, h]) => [k, h.at.id, full(h.trail)]), released: [...e.released] })),
    doubles: r.doubles.map((d) => ({ at: d.node.id, key: d.key, first: d.first.id, via: d.via, trail: full(d.trail) })),
    acquires: [...r.acquires].map(([k, l]) => [k, l.map((n) => n.id)]),
    untracked: [...r.untracked],
    callerHeld: [...r.callerHeld],
  };
}

let parsed: Promise<{ tree: import('web-tree-sitter').Tree }> | undefined;

async function walk(budget: number, memo: boolean): Promise<{ result: unknown; stats: WalkStats }> {
  parsed ??= createCParser().then((p) => ({ tree: p.parse(SRC)! }));
  const { tree } = await parsed;
  const m = new FileModel(SRC, tree, 't.c', '13917', new WorkBudget(budget));
  const fn = m.fnByName.get('tbl_scan')!;
  const stats: WalkStats = { steps: 0, memoHits: 0, memoSteps: 0 };
  try {
    return { result: shape(analyze(m, fn, 0, memo, stats)), stats };
  } catch (e) {
    if (!(e instanceof WorkBudgetExceeded)) throw e;
    return { result: `over ${e.steps}`, stats };
  }
}

test('the memoized lock walk gives the walk\'s result, trails included, and counts the same path steps', async () => {
  const plain = await walk(Number.POSITIVE_INFINITY, false);
  const memo = await walk(Number.POSITIVE_INFINITY, true);
  assert.deepEqual(memo.result, plain.result);
  assert.equal(plain.stats.memoHits, 0);
  assert.ok(memo.stats.memoHits > 0, 'the inner loop\'s second run hits the memo');
  assert.ok(memo.stats.memoSteps > 0);
  assert.equal(memo.stats.steps, plain.stats.steps);
  // the findings: the lock kept at the error return, the release after the loop a double one
  assert.deepEqual(await lockFindings(SRC, '/x/tbl.c'), ['lock-not-released 8:3-8:26', 'unlock-not-held 17:2-17:24']);
});

test('at every work budget, the memoized walk stops where the walk does, with the same partial result every time', async () => {
  const total = (await walk(Number.POSITIVE_INFINITY, false)).stats.steps;
  for (let b = Math.max(1, total - 60); b <= total + 2; b++) {
    const plain = await walk(b, false);
    const memo = await walk(b, true);
    assert.deepEqual(memo.result, plain.result, `budget ${b}`);
    assert.equal(typeof memo.result === 'string', b < total, `budget ${b} of ${total}`);
  }
  // the lint over the budget says so, the same way twice (both lock rules; the walk is not run again for the second)
  const opts = { era: '13917' as const, workBudget: total - 1, rules: { 'lock-not-released': 'warning', 'unlock-not-held': 'warning' } as const };
  const a = await lintText(SRC, 't.c', opts);
  assert.deepEqual(a, await lintText(SRC, 't.c', opts));
  assert.deepEqual(a.map((d) => [d.code, d.range.start.line, d.message]), [
    ['file-skipped', 0, `rule lock-not-released: tbl_scan() is over the work budget (${total - 1} path steps); no findings from it for this function`],
    ['file-skipped', 0, `rule unlock-not-held: tbl_scan() is over the work budget (${total - 1} path steps); no findings from it for this function`],
  ]);
});
