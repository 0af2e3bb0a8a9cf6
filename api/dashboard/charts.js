// The monthly trend charts: SVG line charts of the collection rate and the arrears, one line
// per county and one for the city.

import { api } from './api.js';
import { $, el } from './dom.js';
import { fmtWan, fmtYuan } from './format.js';
import { inGroup, kz, S } from './state.js';

// 20 distinguishable colours; a county keeps its colour whatever the filter.
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22',
  '#7f7f7f', '#393b79', '#ad494a', '#637939', '#8c6d31', '#843c39', '#7b4173', '#3182bd', '#e6550d', '#31a354', '#756bb1'];

const SVGNS = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) e.setAttribute(k, String(v));
  for (const c of children) if (c) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function niceStep(max, n) {
  const raw = max / n;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 2.5, 5, 10]) if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

// lineChart draws lines [{key, name, color, values, strong}] over months into box, with its
// legend; the viewBox follows the box's width so that text stays readable on a phone.
function lineChart(box, legend, months, lines, yFmt, yMin) {
  const W = Math.max(300, Math.min(760, box.clientWidth || 640));
  const H = Math.round(Math.max(220, Math.min(320, W * 0.48)));
  const m = { l: 58, r: 14, t: 12, b: 30 };
  let max = yMin || 0;
  for (const ln of lines) for (const v of ln.values) if (v !== null && v > max) max = v;
  if (max <= 0) max = 1;
  const step = niceStep(max, 4);
  const top = Math.ceil(max / step) * step;
  const x = i => m.l + (months.length > 1 ? i * (W - m.l - m.r) / (months.length - 1) : (W - m.l - m.r) / 2);
  const y = v => H - m.b - (v / top) * (H - m.t - m.b);
  const root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', class: 'chart-svg', preserveAspectRatio: 'xMidYMid meet' });
  const grid = svg('g', { class: 'grid' });
  for (let v = 0; v <= top + step / 2; v += step) {
    grid.append(svg('line', { x1: m.l, x2: W - m.r, y1: y(v), y2: y(v) }));
    grid.append(svg('text', { x: m.l - 6, y: y(v) + 4, 'text-anchor': 'end' }, yFmt(v)));
  }
  months.forEach((mo, i) => {
    grid.append(svg('line', { x1: x(i), x2: x(i), y1: H - m.b, y2: H - m.b + 4 }));
    const month = Number(mo.slice(5));
    grid.append(svg('text', { x: x(i), y: H - m.b + 17, 'text-anchor': 'middle' }, month + '月'));
  });
  grid.append(svg('line', { class: 'axis', x1: m.l, x2: m.l, y1: m.t, y2: H - m.b }));
  grid.append(svg('line', { class: 'axis', x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b }));
  root.append(grid);
  const plot = svg('g', { class: 'lines' });
  for (const ln of lines) {
    const pts = [];
    const g = svg('g', { 'data-key': ln.key, class: ln.strong ? 'line strong' : 'line' });
    ln.values.forEach((v, i) => {
      if (v === null || v === undefined) return;
      pts.push(x(i).toFixed(1) + ',' + y(v).toFixed(1));
      g.append(svg('circle', { cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: ln.strong ? 3 : 2, fill: ln.color },
        svg('title', null, ln.name + ' ' + months[i] + ': ' + yFmt(v, true))));
    });
    g.prepend(svg('polyline', { points: pts.join(' '), fill: 'none', stroke: ln.color, 'stroke-width': ln.strong ? 3 : 1.6, 'stroke-linejoin': 'round' }));
    plot.append(g);
  }
  root.append(plot);
  box.replaceChildren(root);
  legend.replaceChildren(...lines.map(ln => {
    const li = el('li', { 'data-key': ln.key, class: ln.strong ? 'strong' : null },
      el('span', { class: 'swatch', style: 'background:' + ln.color }), ln.name);
    li.addEventListener('mouseenter', () => { root.classList.add('focus'); plot.querySelector('[data-key="' + ln.key + '"]').classList.add('hi'); });
    li.addEventListener('mouseleave', () => { root.classList.remove('focus'); plot.querySelectorAll('.hi').forEach(n => n.classList.remove('hi')); });
    return li;
  }));
}

function colorOf(code) {
  const i = S.order.indexOf(code);
  return PALETTE[(i < 0 ? 0 : i) % PALETTE.length];
}

export function renderCharts() {
  const s = S.series;
  if (!s) return;
  const counties = (s.counties || []).filter(c => inGroup(c.code));
  const cityName = s.city && s.city.name === '赣州市' ? '赣州市 city' : '可见合计 visible';
  const rateLines = counties.map(c => ({ key: c.code, name: c.name, color: colorOf(c.code), values: c.collection_rate }));
  if (s.city) rateLines.push({ key: 'city', name: cityName, color: '#111', values: s.city.collection_rate, strong: true });
  lineChart($('#chart-rate'), $('#legend-rate'), s.months, rateLines, v => (v * 100).toFixed(0) + '%', 1);
  const arrLines = counties.map(c => ({ key: c.code, name: c.name, color: colorOf(c.code), values: c.arrears_fen }));
  if (s.city && $('#arrears-city').checked) arrLines.push({ key: 'city', name: cityName, color: '#111', values: s.city.arrears_fen, strong: true });
  lineChart($('#chart-arrears'), $('#legend-arrears'), s.months, arrLines, (v, exact) => (exact ? fmtYuan(v) + '元' : fmtWan(v, v < 1e6 && v > 0 ? 2 : 0)));
  $('#panel-charts').dataset.seq = String(s.seq);
  kz.chartDraws++;
}

export async function loadSeries() {
  for (const id of ['#chart-rate', '#chart-arrears']) {
    if (!S.series) $(id).replaceChildren(el('p', { class: 'computing' }, '计算中 computing…'));
  }
  const r = await api('/v1/series');
  S.series = r.data;
  S.seriesAt = Date.now();
  renderCharts();
}

// wireCharts redraws the charts when the city line is toggled and, once resizing settles, for
// the window's new width.
export function wireCharts() {
  $('#arrears-city').addEventListener('change', renderCharts);
  let resizeTimer = null;
  window.addEventListener('resize', () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(renderCharts, 150); });
}
