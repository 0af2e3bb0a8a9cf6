// The freezes panel: the year-end freezes, and for the one chosen its frozen figures and how
// the ledger has restated them since.

import { api } from './api.js';
import { COLS } from './counties.js';
import { $, bi, el } from './dom.js';
import { fmtInt, fmtRate, fmtTime, fmtYuan, shortId } from './format.js';
import { EVENT_TYPES, INSURANCES } from './labels.js';
import { countyName, S } from './state.js';

export async function loadFreezes() {
  const r = await api('/v1/freezes');
  const list = (r.data.freezes || []).slice().reverse();
  const rows = list.map(f => {
    const tr = el('tr', { 'data-freeze': f.id, class: 'clickable', tabindex: 0 },
      el('td', null, f.valid_through), el('td', { class: 'num' }, fmtInt(f.through_seq)),
      el('td', null, fmtTime(f.created_at)), el('td', { class: 'mono' }, (f.digest || '').slice(0, 12)));
    const open = () => showFreeze(f.id);
    tr.addEventListener('click', open);
    tr.addEventListener('keydown', e => { if (e.key === 'Enter') open(); });
    return tr;
  });
  if (!rows.length) rows.push(el('tr', { class: 'placeholder' }, el('td', { colspan: 4 }, '尚无冻结 no freezes yet')));
  $('#freezes tbody').replaceChildren(...rows);
}

// The names of the figures a restatement may name that the county table has no column for.
const FIGURES = {
  employers: '单位数 employers', should_insure: '应参保 should insure', paid_insured: '足额缴费人数 paid insured',
  period_due_fen: '当期应缴 due, period', cumulative_due_fen: '累计应缴 due, cumulative',
  cumulative_collected_fen: '累计实缴 collected, cumulative', year_collected_fen: '本年征缴 collected, this year',
  late_fee_fen: '滞纳金 late fees', contracts_signed: '劳动合同 contracts signed',
};

// figureLabel names a figure's path, e.g. insurances.pension.period_collected_fen.
function figureLabel(path) {
  const parts = path.split('.');
  const last = parts[parts.length - 1];
  const col = COLS.find(c => c.key === last);
  let label = col ? col.zh + ' ' + col.en : FIGURES[last] || last;
  if (parts[0] === 'insurances' && parts[1]) label = (INSURANCES[parts[1]] || parts[1]).split(' ')[0] + ' · ' + label;
  return label;
}

function scopeLabel(scope) {
  if (scope === 'city') return '全市 city';
  if (scope.startsWith('group:')) return '第' + scope.slice(6) + '组 group ' + scope.slice(6);
  return countyName(scope);
}

async function showFreeze(id) {
  const box = $('#freeze-detail');
  box.hidden = false;
  box.replaceChildren(el('p', { class: 'computing' }, '加载中 loading…'));
  for (const tr of document.querySelectorAll('#freezes tbody tr')) tr.classList.toggle('selected', tr.dataset.freeze === id);
  try {
    const [fr, rs] = await Promise.all([api('/v1/freezes/' + encodeURIComponent(id)), api('/v1/freezes/' + encodeURIComponent(id) + '/restatement')]);
    const f = fr.data, rest = rs.data;
    const figs = f.figures || {};
    const ins = S.ins;
    const rows = (figs.counties || []).map(c => {
      const x = (c.insurances || {})[ins] || {};
      return el('tr', { 'data-county': c.code }, el('th', { scope: 'row', class: 'name' }, c.name),
        el('td', { class: 'num', 'data-field': 'insured', 'data-value': x.insured }, fmtInt(x.insured)),
        el('td', { class: 'num', 'data-field': 'coverage_rate' }, fmtRate(x.coverage_rate)),
        el('td', { class: 'num', 'data-field': 'period_collected_fen', 'data-value': x.period_collected_fen }, fmtYuan(x.period_collected_fen)),
        el('td', { class: 'num', 'data-field': 'period_collection_rate' }, fmtRate(x.period_collection_rate)),
        el('td', { class: 'num', 'data-field': 'arrears_current_year_fen', 'data-value': x.arrears_current_year_fen }, fmtYuan(x.arrears_current_year_fen)));
    });
    const changes = (rest.changes || []).map(c => {
      const money = c.figure.endsWith('_fen');
      const fmt = money ? fmtYuan : fmtInt;
      return el('tr', { 'data-scope': c.scope, 'data-figure': c.figure }, el('td', { class: 'name' }, scopeLabel(c.scope)), el('td', null, figureLabel(c.figure)),
        el('td', { class: 'num' }, fmt(c.frozen)), el('td', { class: 'num' }, fmt(c.now)),
        el('td', { class: 'num ' + (c.delta < 0 ? 'neg' : 'pos') }, (c.delta > 0 ? '+' : '') + fmt(c.delta)));
    });
    const events = (rest.events || []).map(e => el('tr', { 'data-seq': e.seq }, el('td', { class: 'num' }, e.seq),
      el('td', null, EVENT_TYPES[e.type] || e.type), el('td', { class: 'name' }, e.county ? countyName(e.county) : '—'),
      el('td', null, e.employer_id ? el('a', { href: '#/employer/' + e.employer_id }, shortId(e.employer_id)) : '—'),
      el('td', { class: 'nowrap' }, e.occurred_on), el('td', { class: 'nowrap' }, fmtTime(e.recorded_at)), el('td', null, e.actor)));
    const head = (...cols) => el('thead', null, el('tr', null, ...cols.map(([zh, en, num]) => el('th', { class: num ? 'num' : null }, ...bi(zh, en)))));
    box.replaceChildren(
      el('h3', null, ...bi('冻结数据', 'Frozen figures'), ' ', el('small', { class: 'mono' }, f.id)),
      el('p', { class: 'note' }, '截至 valid through ' + f.valid_through + ' · 序列 through seq ' + f.through_seq + ' · 链头 chain head ' + (f.chain_head || '').slice(0, 12) + ' · ' + (INSURANCES[ins] || ins)),
      el('div', { class: 'table-wrap scroll-y' }, el('table', { class: 'compact', id: 'freeze-figures' },
        head(['区县', 'county'], ['参保', 'insured', 1], ['参保率', 'coverage', 1], ['当期实缴', 'collected', 1], ['征缴率', 'collection', 1], ['当年欠费', 'arrears', 1]),
        el('tbody', null, ...rows))),
      el('h3', null, ...bi('重述', 'Restatement'), ' ', el('small', null, '冻结后 since the freeze: seq ' + rest.frozen_through_seq + ' → ' + rest.now_seq)),
      changes.length ? el('div', { class: 'table-wrap scroll-y' }, el('table', { class: 'compact', id: 'restatement-changes' },
        head(['范围', 'scope'], ['指标', 'figure'], ['冻结值', 'frozen', 1], ['现值', 'now', 1], ['变动', 'delta', 1]), el('tbody', null, ...changes)))
        : el('p', { class: 'note' }, '无变化 no changes since the freeze'),
      events.length ? el('h3', null, ...bi('相关事件', 'Responsible events'), rest.events_truncated ? el('small', null, ' (仅前 ' + events.length + ' 条 first ' + events.length + ')') : null) : '',
      events.length ? el('div', { class: 'table-wrap scroll-y' }, el('table', { class: 'compact', id: 'restatement-events' },
        head(['序列', 'seq', 1], ['事件', 'event'], ['区县', 'county'], ['单位', 'employer'], ['发生', 'on'], ['记录', 'recorded'], ['操作人', 'actor']), el('tbody', null, ...events))) : ''); // '' not null: replaceChildren writes null as "null"
  } catch (e) {
    box.replaceChildren(el('p', { class: 'error' }, '无法加载 could not load: ' + e.message));
  }
}
