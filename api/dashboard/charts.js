// The monthly trend charts: SVG line charts of the chosen insurance's collection rate and
// arrears, one line per county of the group chosen and one for their total, each with a
// legend whose items hide a line or show only it, and a table of the figures drawn.

import { api } from './api.js';
import { $, bi, el, keepFocus } from './dom.js';
import { fmtRate, fmtWan, fmtYuan } from './format.js';
import { panel } from './header.js';
import { INSURANCES } from './labels.js';
import { inGroup, kz, S } from './state.js';

// Ten colours apart in hue and lightness, each at least 4.4:1 on white; the 11th county on
// draws them again dashed, so that no two lines of the 20 look alike. A county keeps its
// colour and dash whatever the filter.
const PALETTE = ['#1f63a8', '#c62828', '#2e7d32', '#b85c00', '#6a3d9a', '#00838f', '#ad1457', '#6d4c41', '#546e7a', '#7c7c00'];
const TOTAL = { key: 'city', color: '#111111' };

const SVGNS = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) e.setAttribute(k, String(v));
  for (const c of children) if (c) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function niceStep(span, n) {
  const raw = span / n;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 2.5, 5, 10]) if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

// scale fits the axis to the values shown: from 0 for money, from a little under the lowest
// value for rates (whose lines crowd near 100%), in round steps.
function scale(lines, fromZero) {
  let lo = Infinity, hi = -Infinity;
  for (const ln of lines) for (const v of ln.values) if (v !== null && v !== undefined) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  if (lo === Infinity) { lo = 0; hi = 1; }
  if (fromZero) lo = Math.min(0, lo);
  if (hi - lo <= 0) { hi = lo === 0 ? 1 : hi + Math.abs(hi) * 0.05; lo = fromZero ? lo : lo - (hi - lo); }
  const step = niceStep(hi - lo, 4);
  return { lo: Math.floor(lo / step) * step, hi: Math.ceil(hi / step) * step, step: step };
}

function styleOf(code) {
  const i = Math.max(0, S.order.indexOf(code));
  return { color: PALETTE[i % PALETTE.length], dash: i >= PALETTE.length ? '6 3' : null };
}

// lineChart draws the lines [{key, name, color, dash, values, strong}] not hidden over the
// months into box, the legend of all of them into legend, and the figures into a table; the
// viewBox follows the box's width so that text keeps its size on a phone.
function lineChart(id, months, lines, o) {
  const box = $('#chart-' + id), legend = $('#legend-' + id), hidden = S.hidden[id];
  const shown = lines.filter(ln => !hidden.has(ln.key));
  const W = Math.max(300, Math.min(760, box.clientWidth || 640));
  const H = Math.round(Math.max(220, Math.min(320, W * 0.48)));
  const m = { l: 64, r: 14, t: 12, b: 32 };
  const sc = scale(shown, o.fromZero);
  const x = i => m.l + (months.length > 1 ? i * (W - m.l - m.r) / (months.length - 1) : (W - m.l - m.r) / 2);
  const y = v => H - m.b - ((v - sc.lo) / (sc.hi - sc.lo)) * (H - m.t - m.b);
  const root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', class: 'chart-svg', preserveAspectRatio: 'xMidYMid meet',
    'aria-label': o.title + '：' + shown.length + ' 条线，' + months[0] + ' 至 ' + months[months.length - 1] + '，纵轴 ' + o.axis(sc.lo, sc.step) + '–' + o.axis(sc.hi, sc.step) +
      '；数据见下方数据表 ' + shown.length + ' lines; the figures are in the data table below' });
  const grid = svg('g', { class: 'grid' });
  for (let v = sc.lo; v <= sc.hi + sc.step / 2; v += sc.step) {
    grid.append(svg('line', { x1: m.l, x2: W - m.r, y1: y(v), y2: y(v) }));
    grid.append(svg('text', { x: m.l - 6, y: y(v) + 4, 'text-anchor': 'end' }, o.axis(v, sc.step)));
  }
  // Month labels: every month where they fit, every other one on a phone.
  const every = W < 520 ? 2 : 1;
  months.forEach((mo, i) => {
    grid.append(svg('line', { x1: x(i), x2: x(i), y1: H - m.b, y2: H - m.b + 4 }));
    if (i % every === 0) grid.append(svg('text', { x: x(i), y: H - m.b + 18, 'text-anchor': 'middle' }, Number(mo.slice(5)) + '月'));
  });
  grid.append(svg('line', { class: 'axis', x1: m.l, x2: m.l, y1: m.t, y2: H - m.b }));
  grid.append(svg('line', { class: 'axis', x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b }));
  root.append(grid);
  const plot = svg('g', { class: 'lines' });
  for (const ln of shown) {
    const g = svg('g', { 'data-key': ln.key, class: ln.strong ? 'line strong' : 'line' });
    // A month without a figure (nothing due) has no point: the line joins its neighbours.
    const pts = [];
    ln.values.forEach((v, i) => {
      if (v === null || v === undefined) return;
      pts.push(x(i).toFixed(1) + ',' + y(v).toFixed(1));
      g.append(svg('circle', { cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: ln.strong ? 3.5 : 2.5, fill: ln.color },
        svg('title', null, ln.name + ' ' + months[i] + ': ' + o.exact(v))));
    });
    g.prepend(svg('polyline', { points: pts.join(' '), fill: 'none', stroke: ln.color, 'stroke-width': ln.strong ? 3 : 2, 'stroke-dasharray': ln.dash, 'stroke-linejoin': 'round' }));
    plot.append(g);
  }
  root.append(plot);
  box.replaceChildren(root);
  const items = lines.map(ln => legendItem(id, ln, plot, root, lines));
  if (hidden.size) items.push(el('button', { type: 'button', class: 'link show-all', onclick: () => { hidden.clear(); renderCharts(); } }, '全部显示 show all'));
  keepFocus(legend, () => legend.replaceChildren(...items));
  dataTable(id, months, lines, o);
}

// legendItem is a line's legend entry: a button that hides or shows the line, and one that
// shows only it (or all again, when it is the only one shown).
function legendItem(id, ln, plot, root, lines) {
  const hidden = S.hidden[id];
  const on = !hidden.has(ln.key);
  const only = on && lines.every(l => l.key === ln.key || hidden.has(l.key));
  const toggle = el('button', { type: 'button', class: 'toggle', 'aria-pressed': on ? 'true' : 'false', title: on ? '隐藏 hide' : '显示 show' },
    el('span', { class: 'swatch' + (ln.dash ? ' dashed' : ''), style: '--c:' + ln.color }), ln.name);
  toggle.addEventListener('click', () => { if (on) hidden.add(ln.key); else hidden.delete(ln.key); renderCharts(); });
  const solo = el('button', { type: 'button', class: 'solo', 'aria-label': (only ? '全部显示 show all' : '只看 show only ') + (only ? '' : ln.name), title: only ? '全部显示 show all' : '只看 show only this' }, only ? '全部 all' : '只看 only');
  solo.addEventListener('click', () => {
    hidden.clear();
    if (!only) for (const l of lines) if (l.key !== ln.key) hidden.add(l.key);
    renderCharts();
  });
  const li = el('span', { class: 'item' + (ln.strong ? ' strong' : '') + (on ? '' : ' off'), 'data-key': ln.key }, toggle, solo);
  const line = plot.querySelector('[data-key="' + ln.key + '"]');
  if (line) {
    li.addEventListener('mouseenter', () => { root.classList.add('focus'); line.classList.add('hi'); });
    li.addEventListener('mouseleave', () => { root.classList.remove('focus'); line.classList.remove('hi'); });
  }
  return li;
}

// dataTable is the chart's text alternative: every line's figure for every month, hidden
// lines too, each cell keeping its raw figure in data-value.
function dataTable(id, months, lines, o) {
  const head = el('tr', null, el('th', { scope: 'col' }, ...bi('线', 'line')), ...months.map(mo => el('th', { scope: 'col', class: 'num' }, Number(mo.slice(5)) + '月')));
  const rows = lines.map(ln => el('tr', { 'data-key': ln.key }, el('th', { scope: 'row', class: 'name' }, ln.name),
    ...ln.values.map((v, i) => el('td', { class: 'num', 'data-month': months[i], 'data-value': v === null || v === undefined ? '' : v }, v === null || v === undefined ? '—' : o.cell(v)))));
  $('#table-' + id).replaceChildren(el('table', { class: 'compact', id: 'chart-' + id + '-table' },
    el('caption', null, o.title), el('thead', null, head), el('tbody', null, ...rows)));
}

export function renderCharts() {
  const s = S.series;
  if (!s) return;
  const counties = (s.counties || []).filter(c => inGroup(c.code));
  const insName = INSURANCES[s.insurance || S.ins] || s.insurance;
  for (const n of document.querySelectorAll('#panel-charts .chart-ins')) n.textContent = insName + ' · ' + s.as_of;
  // The total is the server's, of the counties shown: the group's, the city's, or those the
  // token may read.
  const total = s.city;
  const totalName = s.group ? '第' + s.group + '组合计 group ' + s.group : s.city && s.city.name === '赣州市' ? '全市 city' : '可见合计 visible';
  // The series count every payer: GET /v1/series has no segment.
  $('#charts-scope').textContent = [s.group ? '第' + s.group + '组 group ' + s.group : '', S.segment ? '全部单位 all payers' : ''].filter(Boolean).join(' · ');
  const line = (c, values) => Object.assign({ key: c.code, name: c.name, values: values }, styleOf(c.code));
  const rateLines = counties.map(c => line(c, c.collection_rate));
  if (total) rateLines.push({ key: TOTAL.key, name: totalName, color: TOTAL.color, values: total.collection_rate, strong: true });
  const rateTitle = '当月征缴率 collection rate · ' + insName;
  lineChart('rate', s.months, rateLines, { title: rateTitle, axis: (v, step) => (v * 100).toFixed(step < 0.01 ? 1 : 0) + '%', exact: fmtRate, cell: fmtRate, fromZero: false });
  const arrLines = counties.map(c => line(c, c.arrears_fen));
  // The total dwarfs the counties: drawn only when asked for, on the counties' scale otherwise.
  if (total && $('#arrears-city').checked) arrLines.push({ key: TOTAL.key, name: totalName, color: TOTAL.color, values: total.arrears_fen, strong: true });
  const arrTitle = '月末欠费（万元） arrears at month end (10k yuan) · ' + insName;
  lineChart('arrears', s.months, arrLines, { title: arrTitle, axis: fmtWan, exact: v => fmtWan(v) + ' 万元 (' + fmtYuan(v) + ' 元)', cell: fmtWan, fromZero: true });
  $('#panel-charts').dataset.seq = String(s.seq);
  $('#panel-charts').dataset.insurance = s.insurance || '';
  kz.chartDraws++;
}

// loadSeries reads the series of the insurance and the group chosen.
export async function loadSeries() {
  for (const id of ['#chart-rate', '#chart-arrears']) {
    if (!S.series) $(id).replaceChildren(el('p', { class: 'computing' }, '计算中 computing…'));
  }
  const ins = S.ins, group = S.group;
  const r = await api('/v1/series?insurance=' + encodeURIComponent(ins) + (group ? '&group=' + encodeURIComponent(group) : ''));
  if (ins !== S.ins || group !== S.group) return; // another choice was made meanwhile: its answer draws
  S.series = r.data;
  S.seriesAt = Date.now();
  renderCharts();
}

// wireCharts redraws the charts for the insurance chosen, when the total's line is toggled
// and, once resizing settles, for the window's new width (the group's menu is app.js's).
export function wireCharts() {
  $('#arrears-city').addEventListener('change', renderCharts);
  $('#insurance').addEventListener('change', () => panel('panel-charts', loadSeries));
  let resizeTimer = null;
  window.addEventListener('resize', () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(renderCharts, 150); });
}
