/**
 * "Kernel threads" (Run and Debug container): CPU → thread → ctxop ring in save order (newest
 * first), with each thread's state and t_preempt. Clicking a thread selects it in the call stack.
 */
import * as vscode from 'vscode';
import type { KctxModel, KCpu, KThread, KCtxop } from '../model';
import { CTXOP_STATE_HOOKS } from '../../core/protocol';

type Node =
  | { kind: 'cpu'; cpu: KCpu | undefined; threads: KThread[] }
  | { kind: 'thread'; thread: KThread; onCpu: boolean }
  | { kind: 'ctxop'; op: KCtxop; index: number }
  | { kind: 'message'; text: string };


export class ThreadsTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly sub: vscode.Disposable;

  constructor(private readonly model: KctxModel) {
    this.sub = model.onDidChange(() => this.changed.fire(undefined));
  }

  /** Top-level rows as plain text (for tests and the tooltip-less summary). */
  summary(): string[] {
    return this.roots().map((n) => {
      const item = this.getTreeItem(n);
      return `${typeof item.label === 'string' ? item.label : item.label?.label ?? ''} ${item.description ?? ''}`.trim();
    });
  }

  private roots(): Node[] {
    const st = this.model.state;
    if (!st) {
      if (this.model.activeSession() && this.model.unsupported.has('kctx/state')) return [{ kind: 'message', text: 'The debug adapter does not answer kctx/state.' }];
      return [{ kind: 'message', text: this.model.activeSession() ? 'Waiting for the simulation to stop...' : 'No kctx simulation is running.' }];
    }
    // A thread sits under the CPU it runs on, or else the one it last ran on.
    const home = (t: KThread) => t.cpu ?? t.lastCpu ?? null;
    const nodes: Node[] = st.cpus.map((cpu) => ({ kind: 'cpu' as const, cpu, threads: st.threads.filter((t) => home(t) === cpu.id) }));
    if (this.model.ended) nodes.unshift({ kind: 'message', text: this.model.ended });
    const off = st.threads.filter((t) => !st.cpus.some((c) => c.id === home(t)));
    if (off.length) nodes.push({ kind: 'cpu', cpu: undefined, threads: off });
    return nodes;
  }

  getChildren(n?: Node): Node[] {
    if (!n) return this.roots();
    if (n.kind === 'cpu') {
      // The thread on the CPU first, then those that last ran there.
      const on = n.cpu?.thread;
      return [...n.threads].sort((a, b) => Number(b.id === on) - Number(a.id === on) || a.id - b.id)
        .map((thread) => ({ kind: 'thread' as const, thread, onCpu: thread.id === on }));
    }
    if (n.kind === 'thread') return n.thread.ctxops.map((op, index) => ({ kind: 'ctxop' as const, op, index }));
    return [];
  }

  getTreeItem(n: Node): vscode.TreeItem {
    const C = vscode.TreeItemCollapsibleState;
    switch (n.kind) {
      case 'message': {
        const it = new vscode.TreeItem(n.text, C.None);
        if (this.model.ended && n.text === this.model.ended) it.iconPath = new vscode.ThemeIcon('debug-stop');
        return it;
      }
      case 'cpu': {
        if (!n.cpu) {
          const it = new vscode.TreeItem('not run yet', n.threads.length ? C.Expanded : C.None);
          it.description = `${n.threads.length} thread${n.threads.length === 1 ? '' : 's'}`;
          it.iconPath = new vscode.ThemeIcon('debug-pause');
          return it;
        }
        const cur = this.model.state?.threads.find((t) => t.id === n.cpu!.thread);
        const idle = n.cpu.threadName ? `idle (${n.cpu.threadName})` : 'idle';
        const it = new vscode.TreeItem(`cpu${n.cpu.id}`, n.threads.length ? C.Expanded : C.None);
        const flags = [n.cpu.runrun ? 'runrun' : '', n.cpu.kprunrun ? 'kprunrun' : ''].filter(Boolean).join(' ');
        const queued = n.cpu.runq?.length ? ` · ${n.cpu.runq.length} queued` : '';
        it.description = `${cur ? `running ${cur.name}` : idle}${queued}${flags ? ` · ${flags}` : ''}`;
        it.tooltip = `cpu_t ${n.cpu.addr}`;
        it.iconPath = new vscode.ThemeIcon('chip');
        it.contextValue = 'kctx.cpu';
        return it;
      }
      case 'thread': {
        const t = n.thread;
        const it = new vscode.TreeItem(t.name, t.ctxops.length ? C.Collapsed : C.None);
        it.description = `${t.state} · t_preempt=${t.preempt} · pri ${t.pri}${t.ctxops.length ? ` · ${t.ctxops.length} ctxop${t.ctxops.length === 1 ? '' : 's'}` : ''}`;
        it.tooltip = new vscode.MarkdownString(`**${t.name}** \`kthread_t ${t.addr}\`\n\nstate ${t.state}, t_preempt ${t.preempt}, pri ${t.pri}${t.cpu !== null ? `, on cpu ${t.cpu}` : t.lastCpu != null ? `, last ran on cpu ${t.lastCpu}` : ''}\n\nClick to select it in the call stack.`);
        it.iconPath = new vscode.ThemeIcon(n.onCpu ? 'debug-stackframe-active' : t.preempt > 0 ? 'lock' : 'debug-stackframe-dot');
        it.contextValue = 'kctx.thread';
        it.id = `thread:${t.id}`;
        it.command = { command: 'kctx.threads.select', title: 'Select in Call Stack', arguments: [t.id] };
        return it;
      }
      case 'ctxop': {
        const op = n.op;
        const it = new vscode.TreeItem(`${op.save ?? '-'} / ${op.restore ?? '-'}`, C.None);
        it.description = `${op.addr}${op.arg !== undefined ? ` arg=${op.arg}` : ''}`;
        it.tooltip = new vscode.MarkdownString(`ctxop \`${op.addr}\` (#${n.index} in save order, newest first)\n\n` +
          CTXOP_STATE_HOOKS.map((h) => `- ${h.op}: \`${op[h.key] ?? 'NULL'}\``).join('\n'));
        it.iconPath = new vscode.ThemeIcon('symbol-event');
        it.contextValue = 'kctx.ctxop';
        return it;
      }
    }
  }

  dispose(): void {
    this.sub.dispose();
    this.changed.dispose();
  }
}
