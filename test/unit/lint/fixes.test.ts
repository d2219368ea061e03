/**
 * Every quick fix on every fixture finding, applied and re-linted: the finding it fixes is gone,
 * the result still parses as well as before, and a code fix (not a suppression) brings no new
 * error-severity finding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lintText } from '../../../language-server/engine';
import type { KctxDiagnostic } from '../../../language-server/engine';
import { applyEdits } from '../../../language-server/fixes/edits';
import { createCParser } from '../../../core/cparser';
import { loadFixtures } from './helpers';

const count = (ds: KctxDiagnostic[], rule: string) => ds.filter((d) => d.code === rule).length;

async function parseErrors(text: string): Promise<number> {
  const p = await createCParser();
  const t = p.parse(text)!;
  let n = 0;
  const c = t.walk();
  const visit = (): void => {
    if (c.currentNode.isError || c.currentNode.isMissing) n++;
    if (c.gotoFirstChild()) { do visit(); while (c.gotoNextSibling()); c.gotoParent(); }
  };
  visit();
  t.delete();
  p.delete();
  return n;
}

for (const f of loadFixtures()) {
  test(`fixes on ${f.name}: each applied fix re-lints clean for its finding`, async () => {
    const before = await lintText(f.text, f.path, { era: f.era });
    const errs0 = await parseErrors(f.text);
    let applied = 0;
    for (const d of before) {
      for (const fix of d.data.fixes) {
        const after = applyEdits(f.text, fix.edits);
        assert.notEqual(after, f.text, `${fix.title} changes nothing`);
        const ds = await lintText(after, f.path, { era: f.era });
        const ctx = `${f.name}:${d.range.start.line + 1} [${d.code}] fix "${fix.title}"\n--- result ---\n${after}`;
        assert.ok(count(ds, d.code) < count(before, d.code), `finding not gone: ${ctx}`);
        assert.ok((await parseErrors(after)) <= errs0, `fix broke the syntax: ${ctx}`);
        if (!fix.title.startsWith('Suppress')) {
          const newErrors = ds.filter((x) => x.severity === 1 && x.code !== d.code && count(ds, x.code) > count(before, x.code));
          assert.deepEqual(newErrors.map((x) => `${x.range.start.line + 1}:${x.code}: ${x.message}`), [], `new errors: ${ctx}`);
        }
        applied++;
      }
    }
    assert.ok(applied >= before.length, 'every finding offers at least its suppressions');
  });
}
