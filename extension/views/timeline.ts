/**
 * "Timeline" (Run and Debug container): a webview that draws the schedule fetched at each stop —
 * one lane per CPU, a bar per thread slice, marks for ctxop hook calls, attach/detach and hazards,
 * and the spans where preemption was disabled (extension/webview/timeline.ts, bundled as
 * dist/webview-timeline.js). The messages both ways are core/protocol.ts's.
 */
import * as vscode from 'vscode';
import type { KctxModel } from '../model';
import type { RenderReport, TimelineMessage, WebviewMessage } from '../../core/protocol';

export type { RenderReport };

export class TimelineView implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly id = 'kctx.timeline';
  private view: vscode.WebviewView | undefined;
  private readonly subs: vscode.Disposable[] = [];
  /** What the webview last reported drawing (tests read it through `kctx.timeline.show`). */
  lastRender: RenderReport | undefined;
  private readonly rendered = new vscode.EventEmitter<RenderReport>();
  readonly onDidRender = this.rendered.event;

  constructor(private readonly extensionUri: vscode.Uri, private readonly model: KctxModel) {
    this.subs.push(model.onDidChange(() => this.post()), this.rendered);
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const media = vscode.Uri.joinPath(this.extensionUri, 'extension', 'media');
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    view.webview.options = { enableScripts: true, localResourceRoots: [media, dist] };
    const script = view.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview-timeline.js'));
    const css = view.webview.asWebviewUri(vscode.Uri.joinPath(media, 'timeline.css'));
    const nonce = Array.from({ length: 24 }, () => 'abcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(Math.random() * 36)]).join('');
    view.webview.html = `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${view.webview.cspSource}; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0"><link rel="stylesheet" href="${css}"><title>Timeline</title></head>
<body><div id="header"></div><div id="chart" role="img" aria-label="Schedule of the simulated CPUs"></div><div id="legend"></div><div id="events"></div>
<script nonce="${nonce}" src="${script}"></script></body></html>`;
    this.subs.push(
      view.webview.onDidReceiveMessage((m: WebviewMessage) => {
        if (m.type === 'ready') this.post();
        if (m.type === 'rendered') {
          this.lastRender = { lanes: m.lanes ?? 0, slices: m.slices ?? 0, marks: m.marks ?? 0, spans: m.spans ?? 0, endTick: m.endTick ?? 0 };
          this.rendered.fire(this.lastRender);
        }
      }),
      view.onDidChangeVisibility(() => { if (view.visible) this.post(); }),
      view.onDidDispose(() => { this.view = undefined; }),
    );
  }

  private post(): void {
    if (!this.view) return;
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
    void this.view.webview.postMessage(msg);
  }

  dispose(): void {
    for (const d of this.subs) d.dispose();
  }
}
