/**
 * Every fixture under test/fixtures/lint, linted: the reported (line, rule) pairs must be exactly
 * the inline `expect:` annotations, so true positives and the look-alikes that must stay silent
 * are both checked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lintText } from '../../../language-server/engine';
import { RULES } from '../../../language-server/rules/index';
import { loadFixtures } from './helpers';

const fixtures = loadFixtures();

test('there are fixtures, and every rule has a true positive in them', () => {
  assert.ok(fixtures.length >= 10);
  const covered = new Set(fixtures.flatMap((f) => f.expected.map((e) => e.split(':')[1])));
  for (const r of RULES) assert.ok(covered.has(r.id), `no fixture expects ${r.id}`);
});

// Every rule on, also those off by default (below the precision bar): the fixtures test each rule.
const ALL_ON = Object.fromEntries(RULES.map((r) => [r.id, r.severity]));

test('the defaults: rules below the precision bar are off, the rest at their level', async () => {
  const off = RULES.filter((r) => r.defaultOff).map((r) => r.id).sort();
  assert.deepEqual(off, ['assert-only-variable', 'assert-side-effect', 'lock-not-released', 'unlock-not-held']);
  assert.equal(RULES.find((r) => r.id === 'sleeping-alloc-preempt-disabled')!.severity, 'warning');
  // with the defaults, the fixtures of the rules that are off report nothing of theirs
  for (const f of fixtures) {
    const diags = await lintText(f.text, f.path, { era: f.era });
    const got = diags.map((d) => d.code).filter((c) => off.includes(c));
    assert.deepEqual(got, [], f.name);
    const on = await lintText(f.text, f.path, { era: f.era, rules: ALL_ON });
    assert.deepEqual(diags.map((d) => `${d.range.start.line}:${d.code}`), on.filter((d) => !off.includes(d.code)).map((d) => `${d.range.start.line}:${d.code}`), f.name);
  }
});

for (const f of fixtures) {
  test(`fixture ${f.name}: findings match the expect: annotations`, async () => {
    const diags = await lintText(f.text, f.path, { era: f.era, rules: ALL_ON });
    const got = diags.filter((d) => d.code !== 'file-skipped').map((d) => `${d.range.start.line + 1}:${d.code}`).sort();
    const notes = diags.filter((d) => d.code === 'file-skipped').map((d) => d.message);
    assert.deepEqual(notes, [], 'no skipped/internal-error notes');
    assert.deepEqual(got, f.expected, diags.map((d) => `${d.range.start.line + 1}: [${d.code}] ${d.message}`).join('\n'));
  });
}
