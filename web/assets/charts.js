// Charts as inline SVG built here. Each has a text summary (aria-label) and
// a data table beside it, so nothing is told by colour or shape alone.

const NS = 'http://www.w3.org/2000/svg';

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (k === 'class') el.setAttribute('class', v); else el.setAttribute(k, v);
  for (const c of children) el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return el;
}

const W = 640;
const H = 240;
const PAD = { l: 44, r: 12, t: 12, b: 36 };

function frame(label, max, fmt) {
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': label });
  for (let i = 0; i <= 4; i++) {
    const y = PAD.t + ((H - PAD.t - PAD.b) * i) / 4;
    svg.append(s('line', { class: 'grid-line', x1: PAD.l, x2: W - PAD.r, y1: y, y2: y }));
    svg.append(s('text', { x: PAD.l - 6, y: y + 4, 'text-anchor': 'end' }, fmt((max * (4 - i)) / 4)));
  }
  svg.append(s('line', { class: 'axis', x1: PAD.l, x2: W - PAD.r, y1: H - PAD.b, y2: H - PAD.b }));
  return svg;
}

// points: [{label, value}] with values in 0..max.
export function lineChart(points, { label, max = 100, fmt = (v) => `${Math.round(v)}%` }) {
  const svg = frame(label, max, fmt);
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const x = (i) => PAD.l + (points.length < 2 ? iw / 2 : (iw * i) / (points.length - 1));
  const y = (v) => PAD.t + ih - (ih * Math.max(0, Math.min(max, v))) / max;
  svg.append(s('polyline', { class: 'line', points: points.map((p, i) => `${x(i)},${y(p.value)}`).join(' ') }));
  const every = Math.max(1, Math.ceil(points.length / 8));
  points.forEach((p, i) => {
    svg.append(s('circle', { class: 'dot', cx: x(i), cy: y(p.value), r: 3 }, s('title', {}, `${p.label}: ${fmt(p.value)}`)));
    if (i % every === 0) svg.append(s('text', { x: x(i), y: H - PAD.b + 16, 'text-anchor': 'middle' }, p.label.slice(5)));
  });
  return svg;
}

// groups: [{label, a, b}]: two bars per group (named in `names`).
export function barChart(groups, { label, names, fmt }) {
  const max = Math.max(1, ...groups.flatMap((g) => [g.a, g.b]));
  const svg = frame(label, max, fmt);
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const gw = iw / Math.max(1, groups.length);
  const bw = Math.min(28, gw / 2.6);
  groups.forEach((g, i) => {
    const cx = PAD.l + gw * i + gw / 2;
    [[g.a, 'bar-a', -1, names[0]], [g.b, 'bar-b', 0, names[1]]].forEach(([v, cls, off, name]) => {
      const hgt = (ih * v) / max;
      svg.append(s('rect', { class: cls, x: cx + off * bw, y: PAD.t + ih - hgt, width: bw - 2, height: hgt },
        s('title', {}, `${g.label} ${name}: ${fmt(v)}`)));
    });
    svg.append(s('text', { x: cx, y: H - PAD.b + 16, 'text-anchor': 'middle' }, g.label));
  });
  return svg;
}
