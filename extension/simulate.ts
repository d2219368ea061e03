/**
 * "Simulate this driver": from a C file to a running kctx session. Uses the scenario beside the
 * file when there is one; otherwise asks for the entry function (a quick pick of the file's
 * `void f(void *)` functions) and writes `<file>.ksim.json` beside it.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { scanC, eraOfCalls } from './cscan';

export interface SimulateOptions {
  /** The thread entry function; asked for when missing and the file has more than one. */
  entry?: string;
  /** Stop before the first thread runs (default true). */
  stopOnEntry?: boolean;
  /** Never ask: fail instead (tests, code lens with a known entry). */
  noPrompt?: boolean;
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  try { await vscode.workspace.fs.stat(uri); return true; } catch { return false; }
}

/** A scenario in the file's folder that runs it: `<base>.ksim.json`, else one that lists it in `sources`. */
export async function findScenario(file: vscode.Uri): Promise<vscode.Uri | undefined> {
  const dir = vscode.Uri.joinPath(file, '..');
  const base = path.basename(file.fsPath).replace(/\.[ch]$/, '');
  const same = vscode.Uri.joinPath(dir, `${base}.ksim.json`);
  if (await exists(same)) return same;
  let entries: [string, vscode.FileType][] = [];
  try { entries = await vscode.workspace.fs.readDirectory(dir); } catch { return undefined; }
  for (const [name] of entries.filter(([n]) => n.endsWith('.ksim.json')).sort()) {
    const uri = vscode.Uri.joinPath(dir, name);
    try {
      const sc = JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(uri))) as { sources?: unknown };
      if (Array.isArray(sc.sources) && sc.sources.some((s) => typeof s === 'string' && path.resolve(dir.fsPath, s) === file.fsPath)) return uri;
    } catch { /* not a scenario we can read: skip it */ }
  }
  return undefined;
}

function kernelFromSetting(file: vscode.Uri): string | undefined {
  const era = vscode.workspace.getConfiguration('kctx', file).get<string>('kernelEra', 'auto');
  return era === '13915' ? 'illumos-13915' : era === '13917' ? 'illumos-13917' : undefined;
}

/**
 * Writes a scenario for `entry` beside the file: three threads on two CPUs, so that threads wait
 * for a CPU, are preempted and switched, and the driver's ctxop hooks run (with as many CPUs as
 * threads, a thread may never leave its CPU). Says what it wrote, with a button to open it.
 */
export async function writeScenario(file: vscode.Uri, text: string, opts: SimulateOptions): Promise<vscode.Uri | undefined> {
  const fns = await scanC(text);
  // ctxop handlers have the same `void f(void *)` type; they are not thread bodies.
  const all = fns.filter((f) => f.threadEntry);
  const entries = all.some((f) => !f.handler) ? all.filter((f) => !f.handler) : all;
  if (!entries.length) {
    void vscode.window.showErrorMessage(`kctx: ${path.basename(file.fsPath)} has no \`void f(void *)\` function to start a thread in.`);
    return undefined;
  }
  let entry = opts.entry && all.find((f) => f.name === opts.entry)?.name;
  if (!entry && entries.length === 1) entry = entries[0].name;
  if (!entry) {
    if (opts.noPrompt) return undefined;
    // Functions that do not install ctxops themselves come first: they are usually the thread bodies.
    const items = entries
      .sort((a, b) => Number(a.ctxopCalls.length > 0) - Number(b.ctxopCalls.length > 0) || a.line - b.line)
      .map((f) => ({ label: f.name, description: `line ${f.line + 1}`, detail: f.ctxopCalls.length ? `installs ctxops: ${f.ctxopCalls.map((c) => c.name).join(', ')}` : undefined }));
    const pick = await vscode.window.showQuickPick(items, { title: 'kctx: entry function of the simulated threads', placeHolder: 'void f(void *)' });
    if (!pick) return undefined;
    entry = pick.label;
  }
  const kernel = kernelFromSetting(file) ?? eraOfCalls(fns.flatMap((f) => f.ctxopCalls)) ?? 'illumos-13917';
  const base = path.basename(file.fsPath).replace(/\.[ch]$/, '');
  const scenario = {
    kernel, cpus: 2, seed: 1,
    sources: [path.basename(file.fsPath)],
    defines: { DEBUG: 1 },
    threads: [0, 1, 2].map((i) => ({ name: `${entry}${i}`, entry, arg: i, lwp: true })),
  };
  const uri = vscode.Uri.joinPath(file, '..', `${base}.ksim.json`);
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(JSON.stringify(scenario, null, 2) + '\n'));
  void vscode.window.showInformationMessage(
    `kctx: wrote ${path.basename(uri.fsPath)}: 3 threads running ${entry}() on 2 CPUs (${kernel}), so threads are switched and the ctxop hooks run.`,
    'Open',
  ).then((c) => (c === 'Open' ? vscode.window.showTextDocument(uri) : undefined));
  return uri;
}

/** A launch configuration for `file`, writing a scenario when needed. Undefined when cancelled. */
export async function simulateConfig(file: vscode.Uri, opts: SimulateOptions = {}): Promise<vscode.DebugConfiguration | undefined> {
  let scenario = opts.entry ? undefined : await findScenario(file);
  if (opts.entry) {
    // An explicit entry (from the code lens): reuse a scenario that already starts it.
    const found = await findScenario(file);
    if (found) {
      try {
        const sc = JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(found))) as { threads?: { entry?: string }[] };
        if (sc.threads?.some((t) => t.entry === opts.entry)) scenario = found;
      } catch { /* rewrite it below */ }
    }
  }
  if (!scenario) {
    const doc = await vscode.workspace.openTextDocument(file);
    scenario = await writeScenario(file, doc.getText(), opts);
    if (!scenario) return undefined;
  }
  return {
    type: 'kctx', request: 'launch',
    name: `Simulate ${path.basename(file.fsPath)}`,
    scenario: scenario.fsPath,
    stopOnEntry: opts.stopOnEntry ?? true,
  };
}

/** The C file the user means: an explicit URI, else the active editor's. */
export function targetFile(arg?: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  const doc = vscode.window.activeTextEditor?.document;
  if (doc && doc.languageId === 'c' && doc.uri.scheme === 'file') return doc.uri;
  return undefined;
}
