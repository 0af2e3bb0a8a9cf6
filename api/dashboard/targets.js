// The target progress panel: the city's progress bars, and each county's for pension.

import { api } from './api.js';
import { $, bi, el } from './dom.js';
import { fmtInt, fmtRate, fmtWan, fmtYuan } from './format.js';
import { MEASURES } from './labels.js';
import { countyName, inGroup, S } from './state.js';

function bar(p, compact) {
  const money = p.measure.endsWith('_fen');
  const fmt = money ? v => fmtWan(v) : fmtInt;
  const pct = p.rate === null ? 0 : Math.max(0, Math.min(1, p.rate)) * 100;
  const cls = p.rate === null ? '' : p.rate >= 1 ? 'done' : p.rate >= 0.8 ? 'near' : 'low';
  return el('div', { class: 'bar ' + (compact ? 'compact ' : '') + cls, 'data-measure': p.measure, 'data-value': p.actual, 'data-target': p.target,
    title: (MEASURES[p.measure] || p.measure) + ': ' + (money ? fmtYuan(p.actual) + ' / ' + fmtYuan(p.target) + ' 元' : fmtInt(p.actual) + ' / ' + fmtInt(p.target)) },
  compact ? null : el('span', { class: 'bar-label' }, MEASURES[p.measure] || p.measure),
  el('span', { class: 'bar-track' }, el('span', { class: 'bar-fill', style: 'width:' + pct.toFixed(1) + '%' })),
  el('span', { class: 'bar-num' }, fmtRate(p.rate) + ' ', el('small', null, fmt(p.actual) + '/' + fmt(p.target))));
}

export function renderTargets() {
  const t = S.targets;
  if (!t) return;
  $('#targets-year').textContent = t.year ? t.year + '年 ' + t.year : '';
  const city = $('#targets-city');
  if (t.note) {
    city.replaceChildren(el('p', { class: 'note' }, '本年度无目标 ' + t.note));
  } else if (!t.city || !t.city.length) {
    city.replaceChildren(el('p', { class: 'note' }, '全市数据不在您的范围 city figures are outside your counties'));
  } else {
    city.replaceChildren(...t.city.map(p => bar(p)));
  }
  const rows = [];
  for (const code of S.order) {
    const list = t.counties && t.counties[code];
    if (!list || !inGroup(code)) continue;
    const pick = m => list.find(p => p.measure === m);
    rows.push(el('tr', { 'data-county': code }, el('th', { scope: 'row', class: 'name' }, countyName(code)),
      el('td', null, pick('pension_insured') ? bar(pick('pension_insured'), true) : '—'),
      el('td', null, pick('pension_collected_fen') ? bar(pick('pension_collected_fen'), true) : '—')));
  }
  $('#targets-counties tbody').replaceChildren(el('tr', null, el('th', null, ''), el('th', null, ...bi('养老参保', 'insured')), el('th', null, ...bi('养老征缴', 'collected'))), ...rows);
}

export async function loadTargets(minSeq) {
  const r = await api('/v1/targets' + (minSeq ? '?min_seq=' + minSeq : ''));
  S.targets = r.data;
  renderTargets();
}
