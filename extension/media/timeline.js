// Timeline webview: draws lanes per CPU, slices per thread and event marks as SVG.
// Receives {type:'timeline', timeline:{endTick, slices, marks}, cpus, stop} from the extension and
// answers {type:'rendered', lanes, slices, marks, endTick} after drawing.
(function () {
  const vscode = acquireVsCodeApi();
  const NS = 'http://www.w3.org/2000/svg';
  const chart = document.getElementById('chart');
  const header = document.getElementById('header');
  const legend = document.getElementById('legend');
  let last = vscode.getState() || null;

  function hue(name) {
    let h = 0;
    for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
    return h % 360;
  }
  function el(tag, attrs, text) {
    const e = document.createElementNS(NS, tag);
    for (const k in attrs) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function markClass(kind) {
    const k = String(kind || '').toLowerCase();
    if (/save|restore|fork|lwp|exit|free|hook|ctxop/.test(k)) return 'hook';
    if (/attach|install/.test(k)) return 'attach';
    if (/detach|remove/.test(k)) return 'detach';
    if (/preempt/.test(k)) return 'preempt';
    if (/panic|assert|leak|deadlock|hazard|sleep/.test(k)) return 'hazard';
    return 'other';
  }

  function draw(msg) {
    chart.textContent = '';
    legend.textContent = '';
    const tl = msg && msg.timeline;
    if (!tl) {
      header.textContent = '';
      const p = document.createElement('p');
      p.className = 'empty';
      p.textContent = msg && msg.unsupported ? 'The debug adapter does not answer kctx/timeline.'
        : msg && msg.running ? 'The schedule appears at the next stop.' : 'Start a kctx simulation to see its schedule.';
      chart.appendChild(p);
      vscode.postMessage({ type: 'rendered', lanes: 0, slices: 0, marks: 0, endTick: 0 });
      return;
    }
    const cpuIds = Array.from(new Set([...(msg.cpus || []), ...tl.slices.map((s) => s.cpu), ...tl.marks.map((m) => m.cpu)]))
      .filter((c) => typeof c === 'number').sort((a, b) => a - b);
    const end = Math.max(1, tl.endTick, ...tl.slices.map((s) => s.end));
    const width = Math.max(200, chart.clientWidth || document.body.clientWidth - 16);
    const left = 40, laneH = 26, gap = 8, top = 4, axisH = 16;
    const x = (t) => left + ((width - left - 4) * t) / end;
    const height = top + cpuIds.length * (laneH + gap) + axisH;
    const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, height, preserveAspectRatio: 'none' });
    const laneY = new Map();
    cpuIds.forEach((c, i) => {
      const y = top + i * (laneH + gap);
      laneY.set(c, y);
      svg.appendChild(el('rect', { class: 'lane-bg', x: left, y, width: width - left - 4, height: laneH, rx: 2 }));
      svg.appendChild(el('text', { class: 'lane-label', x: 2, y: y + laneH / 2 + 4 }, `cpu${c}`));
    });
    const names = new Map();
    for (const s of tl.slices) {
      const y = laneY.get(s.cpu);
      if (y === undefined) continue;
      names.set(s.name, hue(s.name));
      const w = Math.max(1, x(s.end) - x(s.start));
      const r = el('rect', { class: 'slice', x: x(s.start), y: y + 3, width: w, height: laneH - 6, rx: 2, fill: `hsl(${hue(s.name)},55%,45%)` });
      r.appendChild(el('title', {}, `${s.name} on cpu${s.cpu}: ticks ${s.start}–${s.end}`));
      svg.appendChild(r);
      if (w > s.name.length * 6 + 6) svg.appendChild(el('text', { class: 'slice-label', x: x(s.start) + 4, y: y + laneH / 2 + 3 }, s.name));
    }
    for (const m of tl.marks) {
      const y = laneY.get(m.cpu);
      if (y === undefined) continue;
      const cx = x(m.tick);
      const g = el('g', { class: `mark ${markClass(m.kind)}` });
      g.appendChild(el('line', { x1: cx, x2: cx, y1: y - 2, y2: y + laneH + 2 }));
      g.appendChild(el('path', { d: `M${cx - 3.5},${y - 4} L${cx + 3.5},${y - 4} L${cx},${y + 1} Z` }));
      g.appendChild(el('title', {}, `tick ${m.tick} cpu${m.cpu}: ${m.kind}${m.label ? ' — ' + m.label : ''}`));
      svg.appendChild(g);
    }
    svg.appendChild(el('line', { class: 'now', x1: x(tl.endTick), x2: x(tl.endTick), y1: 0, y2: height - axisH }));
    const axisY = height - axisH + 4;
    svg.appendChild(el('line', { class: 'axis', x1: left, x2: width - 4, y1: axisY, y2: axisY }));
    for (let i = 0; i <= 4; i++) {
      const t = Math.round((end * i) / 4);
      svg.appendChild(el('text', { class: 'axis-label', x: Math.min(x(t), width - 30), y: axisY + 11 }, String(t)));
    }
    chart.appendChild(svg);
    const stop = msg.stop ? ` · stopped: ${msg.stop.description || msg.stop.reason}` : '';
    header.textContent = `tick ${tl.endTick} · ${tl.slices.length} slices · ${tl.marks.length} marks${stop}`;
    for (const [name, h] of names) {
      const item = document.createElement('span');
      const sw = document.createElement('span');
      sw.className = 'sw';
      sw.style.background = `hsl(${h},55%,45%)`;
      item.appendChild(sw);
      item.appendChild(document.createTextNode(name));
      legend.appendChild(item);
    }
    vscode.postMessage({ type: 'rendered', lanes: cpuIds.length, slices: tl.slices.length, marks: tl.marks.length, endTick: tl.endTick });
  }

  window.addEventListener('message', (e) => {
    if (e.data && e.data.type === 'timeline') {
      last = e.data;
      vscode.setState(last);
      draw(last);
    }
  });
  window.addEventListener('resize', () => last && draw(last));
  if (last) draw(last);
  vscode.postMessage({ type: 'ready' });
})();
