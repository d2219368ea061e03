/**
 * "Schedule" (Run and Debug container, and as an editor tab): a webview that draws the schedule
 * fetched at each stop — one lane per CPU, a bar per thread slice, marks for ctxop hook calls,
 * attach/detach and hazards, and the spans where preemption was disabled
 * (extension/webview/timeline.ts, bundled as dist/webview-timeline.js). The messages both ways
 * are core/protocol.ts's. A click on a slice or a mark travels there: the adapter's `kctx/travel`
 * replays backwards or runs forwards to that tick and stops on that thread.
 */
import * as vscode from 'vscode';
import type { KctxModel } from '../model';
import type { RenderReport, TimelineMessage, WebviewMessage } from '../../core/protocol';

export type { RenderReport };

export class TimelineView implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly id = 'kctx.timeline';
  private view: vscode.WebviewView | undefined;
  /** The Schedule as an editor tab (kctx: Open Schedule in an Editor). */
  panel: vscode.WebviewPanel | undefined;
  private readonly subs: vscode.Disposable[] = [];
  /** What the view last reported drawing (tests read it through `kctx.timeline.show`). */
  lastRender: RenderReport | undefined;
  /** What the editor tab last reported drawing. */
  lastPanelRender: RenderReport | undefined;
  private readonly rendered = new vscode.EventEmitter<RenderReport>();
  readonly onDidRender = this.rendered.event;
  /** Travels asked for by a click (tests watch them). */
  readonly travels: Array<{ tick: number; cpu: number; thread?: number }> = [];

  constructor(private readonly extensionUri: vscode.Uri, private readonly model: KctxModel) {
    this.subs.push(model.onDidChange(() => this.post()), this.rendered);
  }

  private roots(): vscode.Uri[] {
    return [vscode.Uri.joinPath(this.extensionUri, 'extension', 'media'), vscode.Uri.joinPath(this.extensionUri, 'dist')];
  }

  private setup(webview: vscode.Webview, panel: boolean): vscode.Disposable {
    const [media, dist] = this.roots();
    webview.options = { enableScripts: true, localResourceRoots: this.roots() };
    const script = webview.asWebviewUri(vscode.Uri.joinPath(dist!, 'webview-timeline.js'));
    const css = webview.asWebviewUri(vscode.Uri.joinPath(media!, 'timeline.css'));
    const nonce = Array.from({ length: 24 }, () => 'abcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(Math.random() * 36)]).join('');
    webview.html = `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${webview.cspSource}; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0"><link rel="stylesheet" href="${css}"><title>Schedule</title></head>
<body><div id="header"></div><div id="chart" role="img" aria-label="Schedule of the simulated CPUs"></div><div id="legend"></div><div id="events"></div>
<script nonce="${nonce}" src="${script}"></script></body></html>`;
    return webview.onDidReceiveMessage((m: WebviewMessage) => {
      if (m.type === 'ready') this.post();
      if (m.type === 'rendered') {
        const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
        const r: RenderReport = {
          lanes: m.lanes ?? 0, slices: m.slices ?? 0, marks: m.marks ?? 0, spans: m.spans ?? 0, endTick: m.endTick ?? 0,
          pastNow: m.pastNow ?? 0, laneNames: list(m.laneNames), legendNames: list(m.legendNames), axisLabels: list(m.axisLabels),
        };
        if (panel) this.lastPanelRender = r;
        else this.lastRender = r;
        this.rendered.fire(r);
      }
      if (m.type === 'travel' && typeof m.tick === 'number' && typeof m.cpu === 'number') void this.travel(m.tick, m.cpu, m.thread);
    });
  }

  /** Travel to `tick` on `cpu` and select `thread` there (a click on a slice or a mark). */
  async travel(tick: number, cpu: number, thread?: number): Promise<boolean> {
    const session = this.model.activeSession();
    if (!session) return false;
    this.travels.push({ tick, cpu, thread });
    try {
      await session.customRequest('kctx/travel', { tick, cpu, threadId: thread });
      return true;
    } catch (e) {
      void vscode.window.showWarningMessage(`kctx: ${e instanceof Error ? e.message : String(e)}`);
      return false;
    }
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.subs.push(
      this.setup(view.webview, false),
      view.onDidChangeVisibility(() => { if (view.visible) this.post(); }),
      view.onDidDispose(() => { this.view = undefined; }),
    );
  }

  /** Opens (or reveals) the Schedule as an editor tab. */
  openPanel(): vscode.WebviewPanel {
    if (this.panel) {
      this.panel.reveal();
      return this.panel;
    }
    const panel = vscode.window.createWebviewPanel('kctx.schedule', 'Schedule (kctx)', vscode.ViewColumn.Active, { enableScripts: true, localResourceRoots: this.roots(), retainContextWhenHidden: true });
    this.panel = panel;
    const d = this.setup(panel.webview, true);
    panel.onDidDispose(() => {
      d.dispose();
      this.panel = undefined;
      this.lastPanelRender = undefined;
    });
    return panel;
  }

  private post(): void {
    const tl = this.model.timeline;
    const st = this.model.state;
    const msg: TimelineMessage = {
      type: 'timeline',
      timeline: tl ?? null,
      cpus: st?.cpus.map((c) => c.id) ?? null,
      stop: this.model.lastStop ?? null,
      unsupported: !tl && this.model.unsupported.has('kctx/timeline'),
      running: !!this.model.activeSession(),
      ended: this.model.ended ?? null,
    };
    if (this.view) void this.view.webview.postMessage(msg);
    if (this.panel) void this.panel.webview.postMessage(msg);
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.subs) d.dispose();
  }
}
