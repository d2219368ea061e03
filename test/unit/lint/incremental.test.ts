/**
 * The per-function cache of LintDocument (language-server/fncache.ts) must not change a single
 * diagnostic: every fixture is linted from scratch (lintText) and through one long-lived document
 * after each of a series of random single-line edits (seeded), and the results must be equal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LintDocument, lintText } from '../../../language-server/engine';
import type { LintOptions } from '../../../language-server/engine';
import { loadFixtures } from './helpers';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SNIPPETS = [' ', '\t', 'x', ';', '{', '}', '(', ')', '\n', '\n\n', 'mutex_exit(&sc->sc_lock);', 'return (EINVAL);', 'kpreempt_enable();', 'ASSERT(x);',
  '/* kctx-lint: disable=all */', '#ifdef DEBUG\n', '#endif\n', 'goto out;', 'ctxop_free(ctx);', 'if (err != 0)', 'static void', '0', 'err'];

for (const f of loadFixtures()) {
  test(`fixture ${f.name}: incremental lint after random single-line edits equals a lint from scratch`, async () => {
    const opts: LintOptions = { era: f.era };
    const doc = await LintDocument.create(f.text);
    try {
      const r = rng([...f.name].reduce((a, c) => a * 31 + c.charCodeAt(0), 7));
      assert.deepEqual(doc.lint(f.path, opts), await lintText(doc.text, f.path, opts), 'first lint');
      for (let k = 0; k < 40; k++) {
        const lines = doc.text.split('\n');
        const line = Math.floor(r() * lines.length);
        const len = lines[line]!.length;
        const a = Math.floor(r() * (len + 1));
        const kind = r();
        let b = a;
        let text = '';
        if (kind < 0.35) text = SNIPPETS[Math.floor(r() * SNIPPETS.length)]!; // insert
        else if (kind < 0.6) b = Math.min(len, a + 1 + Math.floor(r() * 8)); // delete a few characters
        else if (kind < 0.8) { b = Math.min(len, a + 1 + Math.floor(r() * 4)); text = SNIPPETS[Math.floor(r() * SNIPPETS.length)]!; } // replace
        else if (kind < 0.9) { doc.applyChanges([{ range: { start: { line, character: a }, end: { line, character: a } }, text: ' ' }]); text = ''; b = a + 1; } // type and undo
        // else: a no-op edit (re-lint of the same text)
        doc.applyChanges([{ range: { start: { line, character: a }, end: { line, character: b } }, text }]);
        const inc = doc.lint(f.path, opts);
        const scratch = await lintText(doc.text, f.path, opts);
        assert.deepEqual(inc, scratch, `after edit ${k} at line ${line + 1}:${a} (${JSON.stringify(text)}, deleting ${b - a})`);
        // and the edit undone now and then: the cache must give back the original findings
        if (k % 10 === 9) {
          doc.applyChanges([{ text: f.text }]);
          assert.deepEqual(doc.lint(f.path, opts), await lintText(f.text, f.path, opts), `after reverting at edit ${k}`);
        }
      }
    } finally {
      doc.dispose();
    }
  });
}
