/**
 * The boundaries ARCHITECTURE.md draws, checked on the sources: every import of every .ts file
 * (static, `import type`, `import()` and `require()`) is parsed and the rules below hold. A
 * change that crosses a boundary fails here, not in review.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..', '..');
const PARTS = ['kctx.ts', 'core', 'kernel-sim', 'debug-adapter', 'language-server', 'extension'];
const MAX_LINES = 1500;

export interface Edge { from: string; to: string; typeOnly: boolean; kind: 'static' | 'dynamic' | 'require' }

function sources(root: string): string[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    if (statSync(p).isDirectory()) {
      for (const e of readdirSync(p).sort()) if (e !== 'node_modules' && e !== 'fixtures') walk(join(p, e));
    } else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  };
  for (const part of PARTS) if (existsSync(join(root, part))) walk(join(root, part));
  return out;
}

const IMPORT = /(?:^|\n)[ \t]*(?:import|export)[ \t]+(type[ \t]+)?(?:[^'";]*?[ \t\n]from[ \t]+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|\brequire\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The project-internal imports of every source file under `root` (paths relative to it). */
export function importGraph(root: string): { files: string[]; edges: Edge[]; lines: Map<string, number> } {
  const files = sources(root);
  const edges: Edge[] = [];
  const lines = new Map<string, number>();
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const rel = relative(root, f);
    lines.set(rel, text.split('\n').length);
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[2] ?? m[3] ?? m[4]!;
      if (!spec.startsWith('.')) continue;
      const base = resolve(dirname(f), spec);
      const hit = [base + '.ts', join(base, 'index.ts'), base].find((c) => existsSync(c) && statSync(c).isFile() && c.endsWith('.ts'));
      if (!hit) continue;
      edges.push({ from: rel, to: relative(root, hit), typeOnly: !!m[1], kind: m[4] ? 'require' : m[3] ? 'dynamic' : 'static' });
    }
  }
  return { files: files.map((f) => relative(root, f)), edges, lines };
}

/** Cycles (strongly connected components of more than one file) among the given edges. */
export function cycles(files: string[], edges: Edge[]): string[][] {
  const out = new Map<string, string[]>();
  for (const e of edges) (out.get(e.from) ?? out.set(e.from, []).get(e.from)!).push(e.to);
  let n = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, n);
    low.set(v, n++);
    stack.push(v);
    on.add(v);
    for (const w of out.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const c: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1) found.push(c.sort());
    }
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return found;
}

const part = (f: string): string => f.split('/')[0]!;
const folder = (f: string): string => dirname(f);
const FRONT_ENDS = new Set(['debug-adapter', 'language-server', 'extension', 'kctx.ts']);
/**
 * Simulator files a front end may import directly: leaves that load none of the simulator
 * (`kctx lint` reads its inputs with the same bounded reader as `kctx run`, without loading the
 * simulator). Each may import only core/ and node.
 */
const SHARED_LEAVES = new Set(['kernel-sim/io/files.ts']);
/** A command-line entry: only kctx.ts (the dispatcher) and the entry of its own part may import it. */
const isCli = (f: string): boolean => f.startsWith('kernel-sim/cli/') || f === 'language-server/cli.ts' || f === 'language-server/main.ts' || f === 'debug-adapter/main.ts';

/** Every rule, as messages: empty when the code keeps to ARCHITECTURE.md. */
export function violations(root: string): string[] {
  const { files, edges, lines } = importGraph(root);
  const bad: string[] = [];
  // 1. No cycles at run time (static, dynamic and require() edges alike: a require() does not hide one).
  for (const c of cycles(files, edges.filter((e) => !e.typeOnly))) bad.push(`import cycle: ${c.join(' <-> ')}`);
  // 2. Counting type imports, a cycle stays inside one folder (a class and the callbacks that receive it).
  for (const c of cycles(files, edges)) if (new Set(c.map(folder)).size > 1) bad.push(`import cycle across folders (types included): ${c.join(' <-> ')}`);
  for (const e of edges) {
    const a = part(e.from), b = part(e.to);
    // 3. core/ is the leaf: it imports nothing else from the project.
    if (a === 'core' && b !== 'core') bad.push(`core/ imports ${e.to} (${e.from})`);
    // 4. The simulator imports none of its consumers.
    if (a === 'kernel-sim' && b !== 'kernel-sim' && b !== 'core') bad.push(`kernel-sim imports its consumer ${e.to} (${e.from})`);
    // 5. Front ends reach the simulator only through its entry.
    if (FRONT_ENDS.has(a) && b === 'kernel-sim' && e.to !== 'kernel-sim/index.ts' && !SHARED_LEAVES.has(e.to)) bad.push(`${e.from} reaches past kernel-sim/index.ts to ${e.to}`);
    if (SHARED_LEAVES.has(e.from) && b !== 'core') bad.push(`${e.from} is shared with the front ends but imports ${e.to}`);
    // 6. The language server and the debug adapter never import each other; the extension reaches
    //    the adapter through its bundle (extension/bundles/) only.
    if ((a === 'debug-adapter' && b === 'language-server') || (a === 'language-server' && b === 'debug-adapter')) bad.push(`${e.from} imports ${e.to}: the adapter and the language server are separate`);
    // 7. Nobody imports a command-line entry except the dispatcher and that entry's own worker.
    if (isCli(e.to) && e.from !== 'kctx.ts' && !e.from.startsWith('kernel-sim/cli/') && part(e.from) !== 'test' && !(e.from === 'kernel-sim/index.ts' && e.to.startsWith('kernel-sim/cli/'))) bad.push(`${e.from} imports the command-line entry ${e.to}`);
  }
  // 8. No source file over MAX_LINES lines.
  for (const [f, n] of lines) if (n > MAX_LINES) bad.push(`${f} has ${n} lines (over ${MAX_LINES})`);
  return bad;
}

test('the code keeps to the boundaries of ARCHITECTURE.md', () => {
  assert.deepEqual(violations(ROOT), []);
});

test('the import parser sees every form of import', () => {
  const { edges } = importGraph(ROOT);
  const has = (from: string, to: string, pred: (e: Edge) => boolean = () => true) => edges.some((e) => e.from === from && e.to === to && pred(e));
  assert.ok(has('kctx.ts', 'kernel-sim/index.ts', (e) => e.kind === 'dynamic'), 'kctx.ts loads the simulator with import()');
  assert.ok(has('kernel-sim/machine/machine.ts', 'kernel-sim/machine/memory.ts', (e) => e.kind === 'static' && !e.typeOnly));
  assert.ok(has('debug-adapter/timeline.ts', 'kernel-sim/index.ts', (e) => e.typeOnly));
  assert.ok(has('kernel-sim/trace/events.ts', 'core/probes.ts', (e) => e.typeOnly));
  assert.ok(has('kernel-sim/index.ts', 'kernel-sim/cli/run.ts', (e) => e.kind === 'static'), 'export ... from');
  assert.deepEqual(cycles(['a', 'b', 'c'], [{ from: 'a', to: 'b', typeOnly: false, kind: 'static' }, { from: 'b', to: 'a', typeOnly: false, kind: 'require' }]), [['a', 'b']]);
});
