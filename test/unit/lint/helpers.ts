/** Shared helpers for the lint tests: fixture loading and inline expectations. */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EraSetting } from '../../../language-server/engine';
import { lintText } from '../../../language-server/engine';

export const REPO = resolve(__dirname, '..', '..', '..', '..');
export const FIXTURES = join(REPO, 'test', 'fixtures', 'lint');

export interface Fixture {
  name: string;
  path: string;
  text: string;
  era: EraSetting;
  expected: string[]; // "LINE:RULE", 1-based lines, sorted
}

export function loadFixtures(): Fixture[] {
  return readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.c') || f.endsWith('.h'))
    .sort()
    .map((name) => {
      const path = join(FIXTURES, name);
      const text = readFileSync(path, 'utf8');
      const era = (/fixture:\s*era=(\w+)/.exec(text)?.[1] ?? 'auto') as EraSetting;
      return { name, path, text, era, expected: expectations(text) };
    });
}

/** `/* expect: RULE[, RULE] *\/` on a line: those rules must be reported starting on that line. */
export function expectations(text: string): string[] {
  const out: string[] = [];
  text.split('\n').forEach((line, i) => {
    const m = /\/\*\s*expect:\s*([a-z0-9, -]+?)\s*\*\//.exec(line);
    if (m) for (const r of m[1]!.split(',').map((x) => x.trim()).filter(Boolean)) out.push(`${i + 1}:${r}`);
  });
  return out.sort();
}

/** The two lock rules' findings on a source as `RULE line:col-line:col` (1-based), in the order reported. */
export async function lockFindings(src: string, file: string): Promise<string[]> {
  const diags = await lintText(src, file, { era: 'auto', rules: { 'lock-not-released': 'warning', 'unlock-not-held': 'warning' } });
  return diags.map((d) => `${d.code} ${d.range.start.line + 1}:${d.range.start.character + 1}-${d.range.end.line + 1}:${d.range.end.character + 1}`);
}
