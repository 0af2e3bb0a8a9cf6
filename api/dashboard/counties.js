// The county table: one row per county the token may see, the chosen insurance's figures (of
// every payer, or of one segment's: ?segment=), a group's total and the city's; sortable by any
// column, updated in place. Each cell keeps its raw figure in data-value (money in fen) and
// shows money in 万元, the unit in the header; a county's flag count opens its flags.

import { api } from './api.js';
import { $, el, halfWidth, keepFocus } from './dom.js';
import { clearErrors, download, yuanToFen } from './documents.js';
import { fillCountySelect, showCountyFlags } from './flags.js';
import { fmtCell, fmtInt, fmtYuan } from './format.js';
import { renderGrowth } from './growth.js';
import { clearError, showHeader, showScope } from './header.js';
import { FLAG_KINDS, INSURANCES, SEGMENTS } from './labels.js';
import { countyName, inGroup, kz, S } from './state.js';
import { writeViewState } from './viewstate.js';

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
  // 清欠率: prior years' principal recovered this year over itself plus what is still owed of it.
  { key: 'recovery_rate', ins: true, zh: '清欠率', en: 'recovery', kind: 'rate', num: 'prior_years_recovered_fen', den: x => x.prior_years_recovered_fen + x.arrears_prior_years_fen, money: true },
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
    return fmt(x[col.num]) + ' / ' + fmt(typeof col.den === 'function' ? col.den(x) : x[col.den]) + (col.money ? ' 元 yuan' : '');
  }
  if (col.key === 'flags' && f.flags && f.flags.length) {
    return f.flags.map(fl => (FLAG_KINDS[fl.kind] || fl.kind) + ': ' + fl.count).join('\n');
  }
  if (col.key === 'name' && f.code) return f.code + (f.name_en ? ' ' + f.name_en : '');
  if (col.kind === 'money' && x) return fmtYuan(x[col.key]) + ' 元 yuan';
  return null;
}

// label is a column's Chinese name for a cell (its English in data-en), which a narrow screen
// shows beside the figure, each row a card.
function label(col) {
  return col.zh + (col.kind === 'money' ? '（万元）' : '');
}

function buildHead() {
  const tr = $('#counties-head');
  tr.replaceChildren(...COLS.map(col => {
    const th = el('th', { 'data-field': col.key, class: col.kind === 'text' ? 'name' : 'num', scope: 'col', tabindex: 0, title: '排序 sort' },
      col.zh, col.kind === 'money' ? el('span', { class: 'unit' }, '（万元）') : null, el('br'), el('span', { class: 'en' }, col.en));
    const sort = () => {
      if (S.sort.key === col.key) S.sort.dir = -S.sort.dir;
      else { S.sort.key = col.key; S.sort.dir = col.kind === 'text' ? 1 : -1; }
      renderCounties();
      writeViewState();
    };
    th.addEventListener('click', sort);
    th.addEventListener('keydown', e => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sort(); } });
    return th;
  }));
}

// scrollHints say, when a table is wider than its box, that more columns are to the right (or
// left): the county column stays put, the figures scroll under it. Each names the table's box,
// its hint and the columns to the right.
const scrollHints = [['#counties-wrap', '#counties-more', '清欠、标记'], ['#growth-wrap', '#growth-more', '园区稽核、稽核覆盖率']];
function scrollHint() {
  for (const [box, line, columns] of scrollHints) {
    const wrap = $(box);
    const more = wrap.scrollWidth - wrap.clientWidth;
    const hint = $(line);
    const right = more > 1 && wrap.scrollLeft < more - 1;
    hint.hidden = more <= 1;
    hint.dataset.more = right ? 'right' : 'left';
    hint.textContent = right ? '→ 向右滑动查看更多列（' + columns + '） scroll right for more columns' : '← 向左滑动查看前面的列 scroll left for the first columns';
    wrap.classList.toggle('more-right', right);
  }
}

// wireCounties builds the table's head and the insurance menu, whose choice redraws the table.
// The publicity list (欠费公示名单) of a county, as of the figures' date, of the employers owing
// more than the threshold typed in 元 (read as fen in integer arithmetic).
function wirePublicity() {
  const f = $('#publicity');
  f.addEventListener('submit', ev => {
    ev.preventDefault();
    clearErrors(f);
    const code = f.elements.code.value;
    const fen = yuanToFen(halfWidth(f.elements.above_fen.value) || '0');
    if (fen === null) {
      const slot = f.querySelector('[data-error-for="above_fen"]');
      slot.textContent = '请填写元：至多 13 位整数、两位小数 yuan: at most 13 digits before the point and two after';
      f.elements.above_fen.setAttribute('aria-invalid', 'true');
      f.elements.above_fen.focus();
      $('#publicity-status').textContent = '';
      return;
    }
    const asOf = (S.counties && S.counties.as_of) || '';
    const q = new URLSearchParams({ as_of: asOf, above_fen: fen });
    download('/v1/counties/' + encodeURIComponent(code) + '/arrears-list.pdf?' + q, 'arrears-list-' + code + '-' + asOf + '.pdf', $('#publicity-status'), f);
  });
}

// fillPublicity lists the counties shown in the publicity form (keeping the choice).
function fillPublicity() {
  const sel = $('#publicity-county');
  const was = sel.value;
  const codes = (S.counties.counties || []).map(c => c.code);
  if (sel.options.length !== codes.length || Array.from(sel.options).some((o, i) => o.value !== codes[i])) {
    sel.replaceChildren(...codes.map(c => el('option', { value: c }, countyName(c) + ' ' + c)));
    if (codes.includes(was)) sel.value = was;
  }
  $('#publicity-as-of').textContent = '截至 as of ' + (S.counties.as_of || '');
  $('#publicity').hidden = codes.length === 0;
}

export function wireCounties() {
  wirePublicity();
  buildHead();
  for (const [box] of scrollHints) $(box).addEventListener('scroll', scrollHint, { passive: true });
  window.addEventListener('resize', scrollHint);
  $('#counties-body').addEventListener('click', e => {
    const b = e.target.closest('button.flags-link');
    if (b) showCountyFlags(b.dataset.county);
  });
  const sel = $('#insurance');
  for (const [k, v] of Object.entries(INSURANCES)) sel.append(el('option', { value: k }, v));
  sel.value = S.ins;
  sel.addEventListener('change', e => { S.ins = e.target.value; renderCounties(false); writeViewState(); });
  // The segment's menu; app.js reads the figures again when it changes.
  const seg = $('#segment');
  for (const [k, v] of Object.entries(SEGMENTS)) seg.append(el('option', { value: k }, v));
  seg.value = S.segment;
}

// segmentQuery is the query of a figures read: the segment chosen, and min_seq when given.
function segmentQuery(minSeq, withGroups) {
  const q = new URLSearchParams();
  if (S.segment) q.set('segment', S.segment);
  if (minSeq) q.set('min_seq', String(minSeq));
  if (withGroups) q.set('with', 'groups');
  const s = q.toString();
  return s ? '?' + s : '';
}

// loadFigures reads the table's figures and the groups' totals again, for the segment now chosen.
export async function loadFigures() {
  await loadCounties(0, true);
  renderCounties(false);
}

const rowsByKey = new Map();

// fillRow writes a row's cells, marking those whose value changed since the last drawing.
function fillRow(tr, f, animate) {
  tr.dataset.insurance = S.ins;
  const shown = S.ins + '|' + ((S.counties && S.counties.segment) || ''); // what the cells show: a switch is no change
  if (!tr.cells.length) {
    for (const col of COLS) {
      tr.append(el(col.kind === 'text' ? 'th' : 'td', { 'data-field': col.key, 'data-label': label(col), 'data-en': col.en, class: col.kind === 'text' ? 'name' : 'num', scope: col.kind === 'text' ? 'row' : null }));
    }
  }
  COLS.forEach((col, i) => {
    const td = tr.cells[i];
    const v = figure(f, col);
    const raw = v === null || v === undefined ? '' : String(v);
    const changed = td.dataset.value !== undefined && td.dataset.value !== raw && td.dataset.shown === shown;
    td.dataset.value = raw;
    td.dataset.shown = shown;
    if (col.key === 'name') {
      td.replaceChildren(f.name || '');
      if (f.code && f.code.length === 6) td.append(el('small', { class: 'code' }, f.code));
    } else if (col.key === 'flags' && v > 0 && f.code && f.code.length === 6) {
      // A county's count opens its flags; a total's is a figure.
      td.replaceChildren(el('button', { type: 'button', class: 'link flags-link', 'data-county': f.code,
        'aria-label': '查看' + (f.name || f.code) + '的 ' + v + ' 条标记 show the ' + v + ' flags of ' + (f.name || f.code) }, fmtInt(v)));
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
  const col = COLS.find(c => c.key === S.sort.key); // none for a key a hand-made link names
  if (col) {
    list = list.slice().sort((a, b) => {
      const x = figure(a, col), y = figure(b, col);
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      if (col.kind === 'text') return S.sort.dir * String(x).localeCompare(String(y), 'zh-CN');
      return S.sort.dir * (x - y);
    });
  }
  const rows = keepFocus($('#counties'), () => {
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
      if (g && S.groupsSegment === (data.segment || '')) {
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
    return rows;
  });
  renderGrowth(list, data.city, data.scope === 'city' ? '全市 city' : '可见合计 visible', data.segment || '');
  for (const th of $('#counties-head').cells) {
    const on = th.dataset.field === S.sort.key;
    th.classList.toggle('sorted', on);
    th.setAttribute('aria-sort', on ? (S.sort.dir > 0 ? 'ascending' : 'descending') : 'none');
    th.dataset.dir = on ? (S.sort.dir > 0 ? '▲' : '▼') : '';
  }
  $('#counties').dataset.seq = String(data.seq);
  $('#counties').dataset.segment = data.segment || '';
  $('#counties-segment').textContent = data.segment ? SEGMENTS[data.segment] || data.segment : '';
  scrollHint();
  if (kz.tableDrawnAt === null && rows.length) {
    kz.tableDrawnAt = performance.now();
    document.body.dataset.tableDrawn = 'true';
  }
}

// loadCounties reads the table's figures reflecting at least minSeq, and with withGroups the
// groups' totals of the same sequence (a group's row is then the sum of its counties').
export async function loadCounties(minSeq, withGroups) {
  const seg = S.segment;
  const r = await api('/v1/counties' + segmentQuery(minSeq, withGroups));
  const data = r.data;
  data.counties = data.counties || [];
  // Answers can arrive out of order: never go back to older figures, or to another segment's.
  if (seg !== S.segment || (S.counties && data.seq < S.counties.seq && (S.counties.segment || '') === seg)) return;
  if (withGroups) showGroups(data.groups || [], data.seq, seg);
  S.counties = data;
  kz.seq = data.seq;
  for (const c of data.counties) S.names[c.code] = c.name;
  S.order = data.counties.map(c => c.code);
  renderCounties(true);
  clearError();
  showHeader();
  showScope();
  fillCountySelect();
  fillPublicity();
}

// checkGroup keeps the group a link names only if the token may read it: one it may not, or one
// that does not exist, is no filter, and the page says so rather than showing all in silence.
export function checkGroup() {
  const note = $('#group-note');
  if (!S.group || S.groups.some(g => String(g.group) === S.group)) {
    note.hidden = true;
    return;
  }
  note.textContent = '';
  note.append('链接中的第' + S.group + '组不在本令牌可读范围内，显示全部。',
    el('span', { class: 'en' }, 'Group ' + S.group + ' in the link is not one this token may read: all are shown.'));
  note.hidden = false;
  S.group = '';
}

// showGroups keeps the groups' totals of sequence seq for segment seg, and offers the groups in
// the selector the first time.
function showGroups(groups, seq, seg) {
  S.groups = groups;
  kz.groupsSeq = seq;
  S.groupsSegment = seg;
  const sel = $('#group');
  if (sel.options.length === 1) {
    for (const g of S.groups) sel.append(el('option', { value: g.group }, '第' + g.group + '组 ' + (g.name || '') + ' (group ' + g.group + ')'));
    checkGroup();
    sel.value = S.group;
  }
}
