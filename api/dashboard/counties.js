// The county table: one row per county the token may see, the chosen insurance's figures, a
// group's total and the city's; sortable by any column, updated in place. Each cell keeps its
// raw figure in data-value.

import { api } from './api.js';
import { $, el } from './dom.js';
import { fillCountySelect } from './flags.js';
import { fmtCell, fmtInt, fmtYuan } from './format.js';
import { clearError, showHeader, showScope } from './header.js';
import { FLAG_KINDS, INSURANCES } from './labels.js';
import { inGroup, kz, S } from './state.js';

// The table's columns: `ins` columns read the chosen insurance's figures.
export const COLS = [
  { key: 'name', zh: '区县', en: 'county', kind: 'text' },
  { key: 'insured', ins: true, zh: '参保人数', en: 'insured', kind: 'int' },
  { key: 'coverage_rate', ins: true, zh: '参保率', en: 'coverage', kind: 'rate', num: 'insured', den: 'should_insure' },
  { key: 'contribution_rate', ins: true, zh: '缴费率', en: 'contribution', kind: 'rate', num: 'paid_insured', den: 'insured' },
  { key: 'period_collection_rate', ins: true, zh: '当期征缴率', en: 'collection, period', kind: 'rate', num: 'period_collected_fen', den: 'period_due_fen', money: true },
  { key: 'cumulative_collection_rate', ins: true, zh: '累计征缴率', en: 'collection, cumulative', kind: 'rate', num: 'cumulative_collected_fen', den: 'cumulative_due_fen', money: true },
  { key: 'period_collected_fen', ins: true, zh: '当期实缴', en: 'collected, period', kind: 'money' },
  { key: 'arrears_current_year_fen', ins: true, zh: '当年欠费', en: 'arrears, this year', kind: 'money' },
  { key: 'arrears_prior_years_fen', ins: true, zh: '历年欠费', en: 'arrears, prior years', kind: 'money' },
  { key: 'recovered_fen', ins: true, zh: '清欠', en: 'recovered', kind: 'money' },
  { key: 'flags', zh: '标记', en: 'flags', kind: 'int' },
];

function figure(f, col) {
  if (col.key === 'name') return f.name || '';
  if (col.key === 'flags') return (f.flags || []).reduce((n, x) => n + (x.count || 0), 0);
  if (col.ins) {
    const x = f.insurances && f.insurances[S.ins];
    return x ? x[col.key] : null;
  }
  return f[col.key];
}

function cellTitle(f, col) {
  const x = f.insurances && f.insurances[S.ins];
  if (col.kind === 'rate' && x) {
    const fmt = col.money ? fmtYuan : fmtInt;
    return fmt(x[col.num]) + ' / ' + fmt(x[col.den]);
  }
  if (col.key === 'flags' && f.flags && f.flags.length) {
    return f.flags.map(fl => (FLAG_KINDS[fl.kind] || fl.kind) + ': ' + fl.count).join('\n');
  }
  if (col.key === 'name' && f.code) return f.code + (f.name_en ? ' ' + f.name_en : '');
  return null;
}

function buildHead() {
  const tr = $('#counties-head');
  tr.replaceChildren(...COLS.map(col => {
    const th = el('th', { 'data-field': col.key, class: col.kind === 'text' ? 'name' : 'num', scope: 'col', tabindex: 0, title: '排序 sort' },
      col.zh, el('br'), el('span', { class: 'en' }, col.en));
    const sort = () => {
      if (S.sort.key === col.key) S.sort.dir = -S.sort.dir;
      else { S.sort.key = col.key; S.sort.dir = col.kind === 'text' ? 1 : -1; }
      renderCounties();
    };
    th.addEventListener('click', sort);
    th.addEventListener('keydown', e => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sort(); } });
    return th;
  }));
}

// wireCounties builds the table's head and the insurance menu, whose choice redraws the table.
export function wireCounties() {
  buildHead();
  const sel = $('#insurance');
  for (const [k, v] of Object.entries(INSURANCES)) sel.append(el('option', { value: k }, v));
  sel.value = S.ins;
  sel.addEventListener('change', e => { S.ins = e.target.value; renderCounties(false); });
}

const rowsByKey = new Map();

// fillRow writes a row's cells, marking those whose value changed since the last drawing.
function fillRow(tr, f, animate) {
  tr.dataset.insurance = S.ins;
  if (!tr.cells.length) {
    for (const col of COLS) {
      tr.append(el(col.kind === 'text' ? 'th' : 'td', { 'data-field': col.key, class: col.kind === 'text' ? 'name' : 'num', scope: col.kind === 'text' ? 'row' : null }));
    }
  }
  COLS.forEach((col, i) => {
    const td = tr.cells[i];
    const v = figure(f, col);
    const raw = v === null || v === undefined ? '' : String(v);
    const changed = td.dataset.value !== undefined && td.dataset.value !== raw && td.dataset.ins === S.ins;
    td.dataset.value = raw;
    td.dataset.ins = S.ins;
    if (col.key === 'name') {
      td.replaceChildren(f.name || '');
      if (f.code && f.code.length === 6) td.append(el('small', { class: 'code' }, f.code));
    } else {
      td.textContent = fmtCell(col.kind, v);
    }
    const title = cellTitle(f, col);
    if (title) td.title = title; else td.removeAttribute('title');
    if (col.key === 'flags') td.classList.toggle('has-flags', v > 0);
    if (changed && animate) {
      td.classList.remove('changed');
      void td.offsetWidth; // restart the highlight
      td.classList.add('changed');
    }
  });
}

export function renderCounties(animate) {
  const data = S.counties;
  if (!data) return;
  let list = (data.counties || []).filter(c => inGroup(c.code));
  if (S.sort.key) {
    const col = COLS.find(c => c.key === S.sort.key);
    list = list.slice().sort((a, b) => {
      const x = figure(a, col), y = figure(b, col);
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      if (col.kind === 'text') return S.sort.dir * String(x).localeCompare(String(y), 'zh-CN');
      return S.sort.dir * (x - y);
    });
  }
  const rows = list.map(c => {
    let tr = rowsByKey.get(c.code);
    if (!tr) { tr = el('tr', { 'data-county': c.code, 'data-group': c.group }); rowsByKey.set(c.code, tr); }
    fillRow(tr, c, animate);
    return tr;
  });
  $('#counties-body').replaceChildren(...rows);
  // Totals: the group chosen, then the city (or the counties the token may see).
  const foot = [];
  if (S.group) {
    const g = S.groups.find(x => String(x.group) === S.group);
    if (g) {
      let tr = rowsByKey.get('group:' + S.group);
      if (!tr) { tr = el('tr', { 'data-county': 'group:' + S.group, class: 'total' }); rowsByKey.set('group:' + S.group, tr); }
      fillRow(tr, Object.assign({}, g, { name: '第' + g.group + '组 group ' + g.group }), animate);
      foot.push(tr);
    }
  }
  if (data.city) {
    let tr = rowsByKey.get('city');
    if (!tr) { tr = el('tr', { 'data-county': 'city', class: 'total' }); rowsByKey.set('city', tr); }
    fillRow(tr, Object.assign({}, data.city, { name: data.scope === 'city' ? '全市 city' : '可见合计 visible' }), animate);
    foot.push(tr);
  }
  $('#counties-foot').replaceChildren(...foot);
  for (const th of $('#counties-head').cells) {
    const on = th.dataset.field === S.sort.key;
    th.classList.toggle('sorted', on);
    th.setAttribute('aria-sort', on ? (S.sort.dir > 0 ? 'ascending' : 'descending') : 'none');
    th.dataset.dir = on ? (S.sort.dir > 0 ? '▲' : '▼') : '';
  }
  $('#counties').dataset.seq = String(data.seq);
  if (kz.tableDrawnAt === null && rows.length) {
    kz.tableDrawnAt = performance.now();
    document.body.dataset.tableDrawn = 'true';
  }
}

export async function loadCounties(minSeq) {
  const q = minSeq ? '?min_seq=' + minSeq : '';
  const r = await api('/v1/counties' + q);
  const data = r.data;
  data.counties = data.counties || [];
  // Answers can arrive out of order: never go back to older figures.
  if (S.counties && data.seq < S.counties.seq) return;
  S.counties = data;
  kz.seq = data.seq;
  for (const c of data.counties) S.names[c.code] = c.name;
  S.order = data.counties.map(c => c.code);
  renderCounties(true);
  clearError();
  showHeader();
  showScope();
  fillCountySelect();
}

export async function loadGroups(minSeq) {
  const r = await api('/v1/groups' + (minSeq ? '?min_seq=' + minSeq : ''));
  S.groups = r.data.groups || [];
  const sel = $('#group');
  if (sel.options.length === 1) {
    for (const g of S.groups) sel.append(el('option', { value: g.group }, '第' + g.group + '组 ' + (g.name || '') + ' (group ' + g.group + ')'));
  }
}
