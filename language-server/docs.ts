/** Where a rule's documentation lives: docs/rules/ID.md in this repository. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

let root: string | null | undefined;
let repoUrl: string | null | undefined;

/** The package root (the folder with kctx's package.json), from the running code's location. */
export function packageRoot(): string | null {
  if (root !== undefined) return root;
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      try {
        const pkg = JSON.parse(readFileSync(p, 'utf8'));
        if (pkg.name === 'kctx') {
          root = dir;
          const r = pkg.repository;
          const url = typeof r === 'string' ? r : r?.url;
          if (typeof url === 'string') {
            const m = /github\.com[/:]([^/]+)\/([^/.]+)/.exec(url);
            repoUrl = m ? `https://github.com/${m[1]}/${m[2]}/blob/HEAD` : null;
          } else repoUrl = null;
          return root;
        }
      } catch { /* keep looking */ }
    }
    dir = dirname(dir);
  }
  root = null;
  repoUrl = null;
  return root;
}

/** A valid URI for docs/rules/ID.md: the repository's web page when package.json names one, else a file URI. */
export function ruleDocUri(id: string): string {
  const r = packageRoot();
  if (repoUrl) return `${repoUrl}/docs/rules/${id}.md`;
  if (r) return pathToFileURL(join(r, 'docs', 'rules', `${id}.md`)).href;
  return `https://www.illumos.org/issues/13917#kctx-${id}`;
}
