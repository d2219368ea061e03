/**
 * Schedule webview (the sidebar view and the editor tab): the schedule of the simulated kernel,
 * drawn as SVG at each stop. A click on a slice, a mark or an event travels there (a `travel`
 * message: the adapter replays backwards or runs forwards to that tick, kctx/travel). One lane per
 * CPU; a bar per thread slice (colour per thread); a band under the bar where the running thread
 * had preemption disabled; ticks above the bar for ctxop hook calls; flags for ctxop attach/detach
 * (and alloc/free); red marks for hazards and panics (core/probes.ts markClass) and leaks; a
 * dashed line at the stop.
 *
 * Bundled by esbuild for the browser (dist/webview-timeline.js); checked by
 * `tsc -p extension/webview`. Its messages are core/protocol.ts's: it receives a TimelineMessage
 * and answers `rendered` (what it drew) and `ready`.
 */
import { markClass, type MarkClass } from '../../core/probes';
import type { RenderReport, TimelineMark, TimelineMessage, WebviewMessage } from '../../core/protocol';

interface VsCodeApi {
  postMessage(msg: WebviewMessage): void;
  getState(): TimelineMessage | undefined;
  setState(state: TimelineMessage): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const post = (msg: WebviewMessage): void => vscode.postMessage(msg);
const NS = 'http://www.w3.org/2000/svg';
const chart = document.getElementById('chart')!;
const header = document.getElementById('header')!;
const legend = document.getElementById('legend')!;
const events = document.getElementById('events')!;
let last: TimelineMessage | null = vscode.getState() ?? null;
let filter = '';

/** Even axis steps: 1, 2 or 5 times a power of ten, at most `n` of them over `end`. */
function niceStep(end: number, n: number): number {
  const raw = end / Math.max(1, n);
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const k of [1, 2, 5, 10]) if (k * p >= raw) return k * p;
  return 10 * p;
}
function travel(tick: number, cpu: number, thread?: number): void {
  post({ type: 'travel', tick: Math.round(tick * 1000) / 1000, cpu, thread });
}
function el(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const e = document.createElementNS(NS, tag);
  for (const k in attrs) e.setAttribute(k, String(attrs[k]));
  if (text !== undefined) e.textContent = text;
  return e;
}
function html(tag: string, cls?: string, text?: string): HTMLElement {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}
const fmt = (t: number): string => (Math.round(t * 1000) / 1000).toString();

function empty(text: string): void {
  header.textContent = '';
  legend.textContent = '';
  events.textContent = '';
  chart.textContent = '';
  chart.appendChild(html('p', 'empty', text));
  post({ type: 'rendered', lanes: 0, slices: 0, marks: 0, spans: 0, endTick: 0, pastNow: 0, laneNames: [], legendNames: [], axisLabels: [] });
}

function draw(msg: TimelineMessage): void {
  const tl = msg && msg.timeline;
  if (!tl) {
    empty(msg && msg.unsupported ? 'The debug adapter does not answer kctx/timeline.'
      : msg && msg.running ? 'The schedule appears at the next stop.' : 'Start a kctx simulation to see its schedule.');
    return;
  }
  chart.textContent = '';
  legend.textContent = '';
  events.textContent = '';
  const spans = tl.spans || [];
  const cpuIds = Array.from(new Set([...(msg.cpus || []), ...tl.slices.map((s) => s.cpu)]))
    .filter((c) => typeof c === 'number').sort((a, b) => a - b);
  const end = Math.max(1e-3, tl.endTick, ...tl.slices.map((s) => s.end));
  const msPerTick = typeof tl.msPerTick === 'number' ? tl.msPerTick : 10;
  /** The thread on `cpu` at `tick` (for a click on a mark). */
  const threadAt = (cpu: number, tick: number): number | undefined => tl.slices.find((s) => s.cpu === cpu && s.start <= tick && tick <= s.end)?.thread;
  // Thread colours by order of first appearance, spread over hues 40..320 (never the hazard red).
  const order = [...new Set(tl.slices.map((s) => s.name))];
  const hueOf = new Map(order.map((n, i) => [n, 40 + Math.round(((i * 0.618034) % 1) * 280)]));
  const hue = (name: string): number => hueOf.get(name) ?? 40;
  const width = Math.max(220, (chart.clientWidth || document.body.clientWidth) - 2);
  const left = 38, right = 6, laneH = 40, gap = 10, top = 12, axisH = 18;
  const plotW = width - left - right;
  const x = (t: number): number => left + (plotW * Math.max(0, Math.min(t, end))) / end;
  const height = top + cpuIds.length * (laneH + gap) + axisH;
  const svg = el('svg', { width, height, viewBox: `0 0 ${width} ${height}` });
  const laneY = new Map<number, number>();
  cpuIds.forEach((c, i) => {
    const y = top + i * (laneH + gap);
    laneY.set(c, y);
    svg.appendChild(el('rect', { class: 'lane-bg', x: left, y, width: plotW, height: laneH, rx: 3 }));
    svg.appendChild(el('text', { class: 'lane-label', x: 2, y: y + laneH / 2 + 4 }, `cpu${c}`));
  });
  // Slices (bar from y+8 to y+30), labels inside when they fit.
  const names = new Map<string, number>();
  for (const s of tl.slices) {
    const y = laneY.get(s.cpu);
    if (y === undefined) continue;
    names.set(s.name, hue(s.name));
    const x0 = x(s.start);
    const w = Math.max(1.5, x(s.end) - x0);
    const r = el('rect', { class: 'slice', x: x0, y: y + 8, width: w, height: 22, rx: 2, fill: `hsl(${hue(s.name)},55%,42%)` });
    r.appendChild(el('title', {}, `${s.name} (thread ${s.thread}) on cpu${s.cpu}: tick ${fmt(s.start)} to ${fmt(s.end)} (${fmt((s.end - s.start) * msPerTick)} ms)\nclick: travel here and select ${s.name}`));
    r.addEventListener('click', (ev) => {
      const box = svg.getBoundingClientRect();
      const t = Math.min(s.end, Math.max(s.start, (((ev as MouseEvent).clientX - box.left - left) / plotW) * end));
      travel(t, s.cpu, s.thread);
    });
    svg.appendChild(r);
    if (w > s.name.length * 6.2 + 6) svg.appendChild(el('text', { class: 'slice-label', x: x0 + 4, y: y + 23 }, s.name));
  }
  // Preemption disabled: a hatched band under the bar.
  for (const sp of spans) {
    const y = laneY.get(sp.cpu);
    if (y === undefined) continue;
    const x0 = x(sp.start);
    const r = el('rect', { class: 'span', x: x0, y: y + 31, width: Math.max(2, x(sp.end) - x0), height: 6 });
    r.appendChild(el('title', {}, `${sp.name}: preemption disabled, tick ${fmt(sp.start)} to ${fmt(sp.end)}`));
    svg.appendChild(r);
  }
  // Marks.
  const counts: Record<MarkClass, number> = { hook: 0, attach: 0, detach: 0, hazard: 0, preempt: 0, other: 0 };
  const notable: { m: TimelineMark; cls: MarkClass }[] = [];
  for (const m of tl.marks) {
    const y = laneY.get(m.cpu);
    if (y === undefined) continue;
    const cls = markClass(String(m.kind || ''));
    counts[cls]++;
    if (cls === 'preempt' || cls === 'other') continue; // spans and slices already show these
    const cx = x(m.tick);
    const g = el('g', { class: `mark ${cls}` });
    if (cls === 'hook') {
      g.appendChild(el('line', { x1: cx, x2: cx, y1: y + 1, y2: y + 7 }));
    } else if (cls === 'hazard') {
      g.appendChild(el('line', { x1: cx, x2: cx, y1: y - 4, y2: y + laneH }));
      g.appendChild(el('path', { d: `M${cx},${y - 10} L${cx + 5},${y - 5} L${cx},${y} L${cx - 5},${y - 5} Z` }));
      notable.push({ m, cls });
    } else {
      g.appendChild(el('line', { x1: cx, x2: cx, y1: y - 2, y2: y + 30 }));
      g.appendChild(el('path', { d: cls === 'attach' ? `M${cx},${y - 8} L${cx + 7},${y - 5} L${cx},${y - 2} Z` : `M${cx},${y - 8} L${cx - 7},${y - 5} L${cx},${y - 2} Z` }));
      notable.push({ m, cls });
    }
    g.appendChild(el('title', {}, `tick ${fmt(m.tick)} (${fmt(m.tick * msPerTick)} ms) cpu${m.cpu}: ${m.kind}${m.label ? ': ' + m.label : ''}\nclick: travel here`));
    g.addEventListener('click', () => travel(m.tick, m.cpu, threadAt(m.cpu, m.tick)));
    svg.appendChild(g);
  }
  // The stop, and the tick axis.
  svg.appendChild(el('line', { class: 'now', x1: x(tl.endTick), x2: x(tl.endTick), y1: 2, y2: height - axisH }));
  const axisY = height - axisH + 2;
  svg.appendChild(el('line', { class: 'axis', x1: left, x2: width - right, y1: axisY, y2: axisY }));
  // Even steps in ticks (and the same in ms), each label once.
  const step = niceStep(end, Math.max(2, Math.min(8, Math.floor(plotW / 90))));
  const seen = new Set<string>();
  for (let i = 0; i * step <= end + 1e-9; i++) {
    const t = i * step;
    const tx = x(t);
    const text = `${fmt(t)} (${fmt(t * msPerTick)} ms)`;
    if (seen.has(text)) continue;
    seen.add(text);
    svg.appendChild(el('line', { class: 'axis', x1: tx, x2: tx, y1: axisY, y2: axisY + 3 }));
    svg.appendChild(el('text', { class: 'axis-label', x: tx, y: axisY + 13, 'text-anchor': t === 0 ? 'start' : tx > width - right - 40 ? 'end' : 'middle' }, t === 0 ? 'tick 0' : text));
  }
  chart.appendChild(svg);

  const stop = msg.stop ? (msg.stop.description || msg.stop.reason) + (msg.stop.text ? `: ${msg.stop.text}` : '') : '';
  header.textContent = '';
  header.appendChild(html('span', 'tick', `tick ${fmt(tl.endTick)}`));
  header.appendChild(document.createTextNode(` · ${cpuIds.length} CPUs · ${tl.slices.length} slices · ${counts.hook} hook calls`));
  if (msg.ended) header.appendChild(html('div', 'stop', msg.ended));
  else if (stop) header.appendChild(html('div', 'stop', stop));

  for (const [name, h] of names) {
    const item = html('span', 'item');
    const sw = html('span', 'sw');
    sw.style.background = `hsl(${h},55%,42%)`;
    item.appendChild(sw);
    item.appendChild(document.createTextNode(name));
    legend.appendChild(item);
  }
  for (const [cls, label] of [['hook', 'ctxop hook'], ['attach', 'attach/alloc'], ['detach', 'detach/free'], ['span', 'preemption disabled'], ['hazard', 'hazard']]) {
    const item = html('span', 'item');
    item.appendChild(html('span', `key ${cls}`));
    item.appendChild(document.createTextNode(label));
    legend.appendChild(item);
  }
  // Every attach/detach/hazard event of the run, oldest first, in a scrolling list with a
  // filter; a click travels there.
  const box = html('input', 'filter') as HTMLInputElement;
  box.type = 'search';
  box.placeholder = `filter ${notable.length} events (thread, kind, handler)`;
  box.value = filter;
  const list = html('div', 'list');
  const fill = (): void => {
    list.textContent = '';
    const f = filter.toLowerCase();
    for (const { m, cls } of notable) {
      const line = `${fmt(m.tick)} cpu${m.cpu} ${m.kind} ${m.label || ''}`;
      if (f && !line.toLowerCase().includes(f)) continue;
      const row = html('div', `ev ${cls}`);
      row.appendChild(html('span', 'at', `${fmt(m.tick)} cpu${m.cpu}`));
      row.appendChild(document.createTextNode(` ${m.kind} ${m.label || ''}`));
      row.title = 'click: travel here';
      row.addEventListener('click', () => travel(m.tick, m.cpu, threadAt(m.cpu, m.tick)));
      list.appendChild(row);
    }
  };
  box.addEventListener('input', () => {
    filter = box.value;
    fill();
  });
  fill();
  events.appendChild(box);
  events.appendChild(list);
  post({ type: 'rendered', lanes: cpuIds.length, slices: tl.slices.length, marks: tl.marks.length, spans: spans.length, endTick: tl.endTick, ...drawn(svg) });
}

/** What the chart shows, read from the drawing itself (not from the data it was drawn from). */
function drawn(svg: Element): Pick<RenderReport, 'pastNow' | 'laneNames' | 'legendNames' | 'axisLabels'> {
  const num = (e: Element, a: string): number => Number(e.getAttribute(a));
  const now = svg.querySelector('line.now');
  const nowX = now ? num(now, 'x1') : Infinity;
  const bars = [...svg.querySelectorAll('rect.slice')];
  const pastNow = bars.filter((r) => num(r, 'x') + num(r, 'width') > nowX + 0.5 && num(r, 'width') > 1.5).length;
  // A bar's title starts with its thread's name: "NAME (thread N) on cpuC: ...".
  const laneNames = [...new Set(bars.map((r) => /^(.*) \(thread \d+\)/.exec(r.querySelector('title')?.textContent ?? '')?.[1] ?? ''))];
  const legendNames = [...legend.querySelectorAll('.item')].filter((i) => i.querySelector('.sw')).map((i) => i.textContent ?? '');
  const axisLabels = [...svg.querySelectorAll('text.axis-label')].map((t) => t.textContent ?? '');
  return { pastNow, laneNames, legendNames, axisLabels };
}

window.addEventListener('message', (e: MessageEvent<TimelineMessage>) => {
  if (e.data && e.data.type === 'timeline') {
    last = e.data;
    vscode.setState(last);
    draw(last);
  }
});
let pending = 0;
window.addEventListener('resize', () => {
  cancelAnimationFrame(pending);
  pending = requestAnimationFrame(() => last && draw(last));
});
if (last) draw(last);
post({ type: 'ready' });
