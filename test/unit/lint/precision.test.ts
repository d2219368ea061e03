/**
 * The precision table (docs/rules/README.md#precision) against the registry and the classification
 * files beside this test: every rule has a row, a rule ships at its level only when every row that
 * classified findings reaches that level's bar (error >= 95%, warning >= 80%; below that it must be
 * off by default), and each classified row's count of true findings is the one its classification
 * file records. The table, the files and the registry are written apart; this keeps them one fact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RULES } from '../../../language-server/rules/index';

const ROOT = join(__dirname, '..', '..', '..', '..');
const DOC = join(ROOT, 'docs', 'rules', 'README.md');
const DIR = join(ROOT, 'test', 'unit', 'lint', 'precision');
const BAR = { error: 0.95, warning: 0.8 } as const;

/** A row; its rule cell may list several rules ("a, b") when none of them found anything. */
interface Row { line: number; tree: string; commit: string; rule: string; rules: string[]; sampled: number | null; true_: number | null }

/** The leading whole number of a cell ("30 (seed 14)" is 30), or null ("-", "0 (...)" counts as 0). */
function count(cell: string): number | null {
  const m = /^\s*(\d+)/.exec(cell);
  return m ? Number(m[1]) : null;
}

function table(): Row[] {
  const lines = readFileSync(DOC, 'utf8').split('\n');
  const start = lines.findIndex((l) => /^## Precision\b/.test(l));
  assert.ok(start >= 0, 'docs/rules/README.md has no "## Precision" section');
  const head = lines.findIndex((l, i) => i > start && /^\|\s*tree\s*\|\s*commit\s*\|\s*rule\s*\|\s*findings\s*\|\s*sampled\s*\|\s*true\s*\|\s*precision\s*\|/.test(l));
  assert.ok(head > start, 'the precision section has no (tree, commit, rule, findings, sampled, true, precision) table');
  const rows: Row[] = [];
  for (let i = head + 2; i < lines.length && lines[i].startsWith('|'); i++) {
    const c = lines[i].split('|').slice(1, -1).map((s) => s.trim());
    assert.equal(c.length, 7, `docs/rules/README.md:${i + 1}: a precision row has 7 cells`);
    const rules = c[2].split(',').map((s) => s.trim());
    const r: Row = { line: i + 1, tree: c[0], commit: c[1], rule: rules[0], rules, sampled: count(c[4]), true_: count(c[5]) };
    assert.ok(rules.length === 1 || !r.sampled, `docs/rules/README.md:${i + 1}: a row that classified findings names one rule`);
    rows.push(r);
  }
  return rows;
}

const rows = table();

test('every rule in the registry has a row in the precision table, and every row names a rule', () => {
  const ids = new Set(RULES.map((r) => r.id));
  for (const r of rows) for (const id of r.rules) assert.ok(ids.has(id), `docs/rules/README.md:${r.line}: unknown rule '${id}'`);
  const listed = new Set(rows.flatMap((r) => r.rules));
  for (const r of RULES) assert.ok(listed.has(r.id), `${r.id} has no row in the precision table (docs/rules/README.md#precision)`);
});

test('a rule on by default reaches its level\'s bar in every row that classified findings', () => {
  for (const rule of RULES) {
    if (rule.defaultOff) continue;
    const bar = BAR[rule.severity as keyof typeof BAR];
    if (bar === undefined) continue;
    for (const r of rows.filter((x) => x.rule === rule.id && x.sampled)) {
      assert.ok(r.true_ !== null, `docs/rules/README.md:${r.line}: no count of true findings`);
      const p = r.true_ / r.sampled!;
      assert.ok(p >= bar, `${rule.id} ships as ${rule.severity} but docs/rules/README.md:${r.line} measures ${(100 * p).toFixed(0)}% (${r.tree} ${r.commit}); the bar is ${100 * bar}%`);
    }
  }
});

/** The classification file of a row: named by tree, the row's first commit and the rule. */
function fileOf(r: Row, files: string[]): string | undefined {
  const commit = /[0-9a-f]{7,12}/.exec(r.commit)?.[0];
  const tree = /freebsd/i.test(r.tree) ? 'freebsd' : /kvm/i.test(r.tree) ? 'illumos-kvm' : 'illumos-gate';
  if (tree === 'freebsd') return files.find((f) => f.startsWith('freebsd') && (f.includes(r.rule) || f.includes('vnet-rules')));
  return files.find((f) => f === `${tree}-${commit}.${r.rule}.md`);
}

test('each row that classified findings has its classification file, with the same count of true ones', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.md') && f !== 'README.md');
  for (const r of rows.filter((x) => x.sampled)) {
    const f = fileOf(r, files);
    assert.ok(f, `docs/rules/README.md:${r.line}: no classification file for ${r.rule} on ${r.tree} ${r.commit} in test/unit/lint/precision/`);
    if (f.startsWith('freebsd')) continue; // one file for the five VNET rules: its counts are per rule in prose
    const text = readFileSync(join(DIR, f), 'utf8');
    const m = /True: (\d+)(?: of (\d+))?/.exec(text);
    assert.ok(m, `${f}: no "True: N of M" line`);
    assert.equal(Number(m[1]), r.true_, `${f} counts ${m[1]} true, docs/rules/README.md:${r.line} says ${r.true_}`);
    if (m[2] !== undefined) assert.equal(Number(m[2]), r.sampled, `${f} classified ${m[2]}, docs/rules/README.md:${r.line} says ${r.sampled}`);
  }
});
