// The target progress panel: the city's progress bars, and each county's for pension. A
// bar's state is said in words and a sign as well as its colour; money is in 万元.

import { api } from './api.js';
import { $, bi, el } from './dom.js';
import { fmtInt, fmtRate, fmtWan, fmtYuan } from './format.js';
import { MEASURES } from './labels.js';
import { countyName, inGroup, kz, S } from './state.js';

// The three states of a target, by the share reached.
const STATES = {
  done: { sign: '✓', zh: '已完成', en: 'met' },
  near: { sign: '◑', zh: '接近', en: 'near (80%+)' },
  low: { sign: '✗', zh: '落后', en: 'behind' },
};

function stateOf(rate) {
  if (rate === null || rate === undefined) return null;
  return rate >= 1 ? 'done' : rate >= 0.8 ? 'near' : 'low';
}

function bar(p, compact) {
  const money = p.measure.endsWith('_fen');
  const fmt = money ? fmtWan : fmtInt;
  const pct = p.rate === null ? 0 : Math.max(0, Math.min(1, p.rate)) * 100;
  const state = stateOf(p.rate);
  const st = state && STATES[state];
  const name = MEASURES[p.measure] || p.measure;
  const figures = money ? fmtWan(p.actual) + ' / ' + fmtWan(p.target) + ' 万元' : fmtInt(p.actual) + ' / ' + fmtInt(p.target);
  return el('div', { class: 'bar ' + (compact ? 'compact ' : '') + (state || ''), 'data-measure': p.measure, 'data-value': p.actual, 'data-target': p.target, 'data-state': state || '',
    title: name + ': ' + (money ? fmtYuan(p.actual) + ' / ' + fmtYuan(p.target) + ' 元 yuan' : figures) + (st ? ' · ' + st.zh + ' ' + st.en : '') },
  compact ? null : el('span', { class: 'bar-label' }, name, money ? el('span', { class: 'unit' }, '（万元）') : null),
  el('span', { class: 'bar-track', role: 'img', 'aria-label': name + ' ' + fmtRate(p.rate) + (st ? ' ' + st.zh + ' ' + st.en : '') },
    el('span', { class: 'bar-fill', style: 'width:' + pct.toFixed(1) + '%' })),
  el('span', { class: 'bar-num' }, st ? el('span', { class: 'state', title: st.zh + ' ' + st.en }, st.sign + (compact ? '' : ' ' + st.zh)) : null,
    ' ' + fmtRate(p.rate) + ' ', compact ? null : el('small', null, fmt(p.actual) + ' / ' + fmt(p.target))));
}

export function renderTargets() {
  const t = S.targets;
  if (!t) return;
  $('#targets-year').textContent = t.year ? t.year + '年' : '';
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
  $('#targets-counties tbody').replaceChildren(el('tr', null, el('th', null, ''), el('th', { scope: 'col' }, ...bi('养老参保', 'pension insured')), el('th', { scope: 'col' }, ...bi('养老征缴', 'pension collected'))), ...rows);
  $('#targets-key').replaceChildren(...Object.values(STATES).map(x => el('span', { class: 'key' }, x.sign + ' ' + x.zh + ' ', el('span', { class: 'en' }, x.en))));
}

export async function loadTargets(minSeq) {
  const r = await api('/v1/targets' + (minSeq ? '?min_seq=' + minSeq : ''));
  // Answers can arrive out of order: never go back to older figures.
  if (r.seq < drawnSeq) {
    kz.lateDropped++;
    return;
  }
  drawnSeq = r.seq;
  S.targets = r.data;
  $('#targets-city').dataset.seq = String(r.seq);
  renderTargets();
}

// drawnSeq is the sequence of the targets drawn.
let drawnSeq = 0;
