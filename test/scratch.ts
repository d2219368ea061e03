/**
 * Scratch folders for tests and benchmarks. Every folder a process asks for lives under one root in
 * the system's temporary folder, and the root is removed when the process exits, so a test run leaves
 * nothing behind (node's runner gives each test file its own process).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let root: string | undefined;

export function scratchDir(prefix: string): string {
  if (root === undefined) {
    const r = mkdtempSync(join(tmpdir(), 'kctx-test-'));
    root = r;
    process.on('exit', () => {
      try { rmSync(r, { recursive: true, force: true }); } catch { /* already gone */ }
    });
  }
  return mkdtempSync(join(root, prefix));
}
