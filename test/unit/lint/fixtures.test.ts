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

for (const f of fixtures) {
  test(`fixture ${f.name}: findings match the expect: annotations`, async () => {
    const diags = await lintText(f.text, f.path, { era: f.era });
    const got = diags.filter((d) => d.code !== 'file-skipped').map((d) => `${d.range.start.line + 1}:${d.code}`).sort();
    const notes = diags.filter((d) => d.code === 'file-skipped').map((d) => d.message);
    assert.deepEqual(notes, [], 'no skipped/internal-error notes');
    assert.deepEqual(got, f.expected, diags.map((d) => `${d.range.start.line + 1}: [${d.code}] ${d.message}`).join('\n'));
  });
}
