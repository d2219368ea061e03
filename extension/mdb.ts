/**
 * Runs mdb commands against the active kctx debug session (custom request `kctx/mdb`) and writes
 * them to the "kctx mdb" output channel, each echoed as `> CMD` before its output.
 */
import * as vscode from 'vscode';
import type { KctxModel } from './model';
import { simulateConfig, targetFile } from './simulate';
import type { MdbArgs, MdbBody } from '../core/protocol';

export interface MdbResult { command: string; output: string; ok: boolean }

/** dcmd names offered by "Run mdb command..." (the adapter's `completions` has the full list). */
export const DCMDS = [
  '::threadlist', '::threadlist -v', '::findstack', '::stacks', '::cpuinfo', '::cpuinfo -v', '::ctxops',
  '::walk ctxop', '::walk thread', '::findleaks', '::findleaks -v', '::kmem_verify', '::kmastat',
  '::thread', '::print kthread_t', '::dcmds', '::walkers', '::help', '$c', '$C', '$r', '$<threadlist',
];

export class MdbRunner implements vscode.Disposable {
  private chan: vscode.OutputChannel | undefined;
  readonly history: string[] = [];
  /** Everything run, for the integration tests (the output channel cannot be read back). */
  readonly log: MdbResult[] = [];

  constructor(private readonly model: KctxModel, private readonly state: vscode.Memento) {
    this.history.push(...state.get<string[]>('kctx.mdb.history', []));
  }

  get channel(): vscode.OutputChannel {
    this.chan ??= vscode.window.createOutputChannel('kctx mdb', 'kctx-mdb');
    return this.chan;
  }

  private remember(cmd: string): void {
    const i = this.history.indexOf(cmd);
    if (i >= 0) this.history.splice(i, 1);
    this.history.unshift(cmd);
    this.history.length = Math.min(this.history.length, 50);
    void this.state.update('kctx.mdb.history', this.history);
  }

  /** A kctx session to run in: the active one, or (after asking) a new one for the open C file. */
  async sessionOrStart(promptFor: string): Promise<vscode.DebugSession | undefined> {
    const s = this.model.activeSession();
    if (s) return s;
    const file = targetFile();
    if (!file) {
      void vscode.window.showWarningMessage(`kctx: ${promptFor} needs a kctx debug session. Open a driver C file and run "kctx: Simulate this driver".`);
      return undefined;
    }
    const start = 'Start simulation';
    const pick = await vscode.window.showInformationMessage(`kctx: no simulation is running. Start one for ${vscode.workspace.asRelativePath(file)} and run ${promptFor}?`, start);
    if (pick !== start) return undefined;
    const config = await simulateConfig(file);
    if (!config) return undefined;
    const stopped = this.model.nextStop();
    if (!(await vscode.debug.startDebugging(vscode.workspace.getWorkspaceFolder(file), config))) return undefined;
    return (await stopped) ?? this.model.activeSession();
  }

  async run(command: string, session?: vscode.DebugSession): Promise<MdbResult | undefined> {
    const cmd = command.trim();
    if (!cmd) return undefined;
    session ??= await this.sessionOrStart(cmd);
    if (!session) return undefined;
    this.remember(cmd);
    let output: string;
    let ok = true;
    try {
      const args: MdbArgs = { command: cmd };
      // Checked, not trusted: the adapter may be another implementation.
      const r = (await session.customRequest('kctx/mdb', args)) as Partial<MdbBody> | undefined;
      output = typeof r?.output === 'string' ? r.output : '';
    } catch (e) {
      ok = false;
      output = `mdb: ${e instanceof Error ? e.message : String(e)}\n`;
    }
    const chan = this.channel;
    chan.appendLine(`> ${cmd}`);
    chan.append(output.endsWith('\n') || !output ? output : output + '\n');
    chan.show(true);
    const res = { command: cmd, output, ok };
    this.log.push(res);
    return res;
  }

  /** The input box: history and dcmd names as suggestions, any typed text accepted as is. */
  async prompt(): Promise<MdbResult | undefined> {
    const qp = vscode.window.createQuickPick();
    qp.title = 'kctx: Run mdb command';
    qp.placeholder = '::dcmd, addr::dcmd, $c, pipelines (::walk thread | ::findstack)';
    const base = [
      ...this.history.map((h) => ({ label: h, description: 'history' })),
      ...DCMDS.filter((d) => !this.history.includes(d)).map((d) => ({ label: d })),
    ];
    qp.items = base;
    qp.onDidChangeValue((v) => {
      const typed = v.trim();
      qp.items = typed && !base.some((i) => i.label === typed) ? [{ label: typed, description: 'run' }, ...base] : base;
    });
    const cmd = await new Promise<string | undefined>((resolve) => {
      qp.onDidAccept(() => { resolve(qp.selectedItems[0]?.label ?? qp.value); qp.hide(); });
      qp.onDidHide(() => resolve(undefined));
      qp.show();
    });
    qp.dispose();
    return cmd ? this.run(cmd) : undefined;
  }

  dispose(): void {
    this.chan?.dispose();
  }
}
