/**
 * The per-function cache of LintDocument (language-server/fncache.ts) must not change a single
 * diagnostic: every fixture is linted from scratch (lintText) and through one long-lived document
 * after each of a series of random single-line edits (seeded), and the results must be equal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RULES } from '../../../language-server/rules/index';
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

/** Every rule on, also those off by default. */
const ALL_ON = Object.fromEntries(RULES.map((r) => [r.id, r.severity]));

/** Edits of one function that change another function's verdict: the dependent must be re-run. */
const DEPENDENTS: { name: string; text: string; edits: { from: string; to: string }[] }[] = [
  {
    name: 'a callee that stops releasing the lock (unlock-not-held in the caller)',
    text: 'static void\ndrv_rele(struct drv *sc)\n{\n\tmutex_exit(&sc->sc_lock);\n}\n\nstatic void\ndrv_op(struct drv *sc)\n{\n\tmutex_enter(&sc->sc_lock);\n\tdrv_rele(sc);\n\tmutex_exit(&sc->sc_lock);\n}\n',
    edits: [{ from: '\tmutex_exit(&sc->sc_lock);\n}\n\nstatic void\ndrv_op', to: '\tsc->sc_n++;\n}\n\nstatic void\ndrv_op' }, { from: '\tsc->sc_n++;\n}', to: '\tmutex_exit(&sc->sc_lock);\n}' }],
  },
  {
    name: 'a callee that becomes impure (assert-side-effect in the caller)',
    text: 'static int\ndrv_ok(struct drv *sc)\n{\n\treturn (sc->sc_n > 0);\n}\n\nstatic void\ndrv_op(struct drv *sc)\n{\n\tASSERT(drv_ok(sc));\n\tsc->sc_m = 1;\n}\n',
    edits: [{ from: '\treturn (sc->sc_n > 0);', to: '\tdrv_count++;\n\treturn (sc->sc_n > 0);' }, { from: '\tdrv_count++;\n', to: '' }],
  },
  {
    name: 'a callee that starts to sleep (sleeping-alloc-preempt-disabled in the caller)',
    text: 'static void\ndrv_get(struct drv *sc)\n{\n\tsc->sc_buf = NULL;\n}\n\nstatic void\ndrv_op(struct drv *sc)\n{\n\tkpreempt_disable();\n\tdrv_get(sc);\n\tkpreempt_enable();\n}\n',
    edits: [{ from: '\tsc->sc_buf = NULL;', to: '\tsc->sc_buf = kmem_alloc(64, KM_SLEEP);' }, { from: 'kmem_alloc(64, KM_SLEEP)', to: 'NULL' }],
  },
];

for (const c of DEPENDENTS) {
  test(`incremental lint re-runs dependents: ${c.name}`, async () => {
    const doc = await LintDocument.create(c.text);
    try {
      const counts: number[] = [doc.lint('dep.c', { rules: ALL_ON }).length];
      assert.deepEqual(doc.lint('dep.c', { rules: ALL_ON }), await lintText(doc.text, 'dep.c', { rules: ALL_ON }));
      for (const e of c.edits) {
        const at = doc.text.indexOf(e.from);
        assert.ok(at >= 0, e.from);
        const pos = (off: number) => { const before = doc.text.slice(0, off).split('\n'); return { line: before.length - 1, character: before[before.length - 1]!.length }; };
        doc.applyChanges([{ range: { start: pos(at), end: pos(at + e.from.length) }, text: e.to }]);
        const inc = doc.lint('dep.c', { rules: ALL_ON });
        assert.deepEqual(inc, await lintText(doc.text, 'dep.c', { rules: ALL_ON }));
        counts.push(inc.length);
      }
      assert.notEqual(counts[0], counts[1], `the edit changes the caller's findings (${counts.join(', ')})`);
      assert.equal(counts[0], counts[2]);
    } finally {
      doc.dispose();
    }
  });
}
