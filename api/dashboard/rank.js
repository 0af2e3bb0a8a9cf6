// One freeze, opened from the freezes panel (loaded only then): its ranking on the year's
// targets with the weighting, its figures for every insurance with the city total and each
// county's rank (of every payer, or of one segment's: a freeze holds each segment's figures),
// downloads of both as xlsx and csv, and how the ledger has restated it since.
// Printed, the page footer cites the freeze as (S, D) = (through_seq, valid_through) and its
// digest (print.css lays the page out on A4 landscape).

import { api, authHeaders } from './api.js';
import { COLS } from './counties.js';
import { $, bi, el } from './dom.js';
import { save } from './documents.js';
import { fmtInt, fmtRate, fmtTime, fmtYuan, shortId } from './format.js';
import { EVENT_TYPES, INSURANCES, MEASURES, SEGMENTS } from './labels.js';
import { countyName, kz, S } from './state.js';

kz.freezes.downloads = [];

// wan writes fen as 万元 (10,000 yuan) with two decimals, rounded half up, in integer arithmetic.
function wan(fen) {
  if (fen === null || fen === undefined) return '—';
  const a = Math.abs(Math.trunc(fen));
  const hundredths = Math.floor((a + 5000) / 10000); // hundredths of 万元
  const int = String(Math.floor(hundredths / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return (fen < 0 && hundredths ? '-' : '') + int + '.' + String(hundredths % 100).padStart(2, '0');
}

// The figures of an insurance a freeze's table shows; money in 万元.
const FIG_COLS = [
  { key: 'insured', zh: '参保人数', en: 'insured', kind: 'int' },
  { key: 'should_insure', zh: '应参保', en: 'should insure', kind: 'int' },
  { key: 'coverage_rate', zh: '参保率', en: 'coverage', kind: 'rate' },
  { key: 'contribution_rate', zh: '缴费率', en: 'contribution', kind: 'rate' },
  { key: 'period_due_fen', zh: '当期应缴', en: 'due, period', kind: 'money' },
  { key: 'period_collected_fen', zh: '当期实缴', en: 'collected, period', kind: 'money' },
  { key: 'period_collection_rate', zh: '当期征缴率', en: 'collection, period', kind: 'rate' },
  { key: 'cumulative_collection_rate', zh: '累计征缴率', en: 'collection, cumulative', kind: 'rate' },
  { key: 'arrears_current_year_fen', zh: '当年欠费', en: 'arrears, this year', kind: 'money' },
  { key: 'arrears_prior_years_fen', zh: '历年欠费', en: 'arrears, prior years', kind: 'money' },
  { key: 'recovered_fen', zh: '清欠', en: 'recovered', kind: 'money' },
  { key: 'recovery_rate', zh: '清欠率', en: 'recovery', kind: 'rate' },
];

function cell(col, v) {
  const text = col.kind === 'money' ? wan(v) : col.kind === 'rate' ? fmtRate(v) : fmtInt(v);
  return el('td', { class: 'num', 'data-field': col.key, 'data-value': v === null || v === undefined ? '' : v,
    title: col.kind === 'money' && v !== null && v !== undefined ? fmtYuan(v) + ' 元' : null }, text);
}

const head = (...cols) => el('thead', null, el('tr', null, ...cols.map(([zh, en, num]) => el('th', { scope: 'col', class: num ? 'num' : null }, zh, el('br'), el('span', { class: 'en' }, en)))));

// figuresTable lays out a freeze's figures: a block of rows per county, one per insurance, the
// county's name and rank spanning them; the city's (or the visible counties') block last.
function figuresTable(figs, ranks, whole) {
  const insurances = Object.keys(INSURANCES);
  const block = (f, attrs, first, name, rank) => el('tbody', attrs, ...insurances.map((ins, i) => {
    const x = (f.insurances || {})[ins] || {};
    const [zh, ...en] = (INSURANCES[ins] || ins).split(' ');
    return el('tr', Object.assign({ 'data-insurance': ins }, i === 0 ? first : null),
      i === 0 ? el('td', { class: 'num rank', rowspan: insurances.length, 'data-field': 'rank', 'data-value': rank || '' }, rank ? String(rank) : '—') : null,
      i === 0 ? el('th', { scope: 'rowgroup', class: 'name', rowspan: insurances.length }, name) : null,
      el('th', { scope: 'row', class: 'ins' }, ...bi(zh, en.join(' '))),
      ...FIG_COLS.map(col => cell(col, x[col.key])));
  }));
  const counties = (figs.counties || []).map(c => block(c, { class: 'county', 'data-code': c.code }, { 'data-county': c.code },
    [c.name, el('small', { class: 'code' }, c.code)], ranks[c.code]));
  // A reader of some counties gets a city that sums only those counties (the freeze's scope).
  const city = figs.city ? block(figs.city, { class: 'total' }, { 'data-scope': 'city' }, whole ? '全市 city' : '可见合计 visible counties', null) : null;
  return el('table', { class: 'compact', id: 'freeze-figures' },
    head(['名次', 'rank', 1], ['区县', 'county'], ['险种', 'insurance'], ...FIG_COLS.map(c => [c.zh, c.en + (c.kind === 'money' ? ' (万元)' : ''), 1])),
    ...counties, city);
}

// frozenFigures is the figures table under a menu of the segments the freeze holds (none in a
// freeze made before segments): every payer's, with the counties' ranks, or one segment's, whose
// counties are not ranked. The menu starts at the segment the county table shows.
function frozenFigures(figs, ranks, whole) {
  const segs = figs.segments || [];
  const wrap = el('div', { class: 'table-wrap scroll-y' });
  const draw = seg => {
    const s = segs.find(x => x.segment === seg);
    const table = figuresTable(s || figs, s ? {} : ranks, whole);
    table.dataset.segment = s ? seg : '';
    wrap.replaceChildren(table);
  };
  if (!segs.length) {
    draw('');
    return [el('p', { class: 'note', id: 'freeze-no-segments' }, '此冻结不含分人群数据 this freeze holds no figures by segment'), wrap];
  }
  const sel = el('select', { id: 'freeze-segment' }, el('option', { value: '' }, '全部 all'),
    ...segs.map(x => el('option', { value: x.segment }, SEGMENTS[x.segment] || x.segment)));
  sel.value = segs.some(x => x.segment === S.segment) ? S.segment : '';
  sel.addEventListener('change', () => draw(sel.value));
  draw(sel.value);
  return [el('label', { class: 'freeze-segment' }, ...bi('人群', 'segment'), ' ', sel), wrap];
}

// rankingTable: one row per county, best first: rank, score, and each measure's completion with
// its actual figure and target (money in 万元); a met target is marked ✓, not by colour alone.
function rankingTable(rk) {
  const measures = Object.keys(MEASURES);
  const rows = (rk.rankings || []).map(r => {
    const by = Object.fromEntries((r.measures || []).map(m => [m.measure, m]));
    return el('tr', { 'data-county': r.code, 'data-rank': r.rank },
      el('td', { class: 'num rank', 'data-field': 'rank' }, String(r.rank)),
      el('th', { scope: 'row', class: 'name' }, countyName(r.code) || r.name, el('small', { class: 'code' }, r.code)),
      el('td', { class: 'num', 'data-field': 'score', 'data-value': r.score === null ? '' : r.score }, fmtRate(r.score)),
      ...measures.map(code => {
        const m = by[code];
        if (!m) return el('td', { class: 'num' }, '—');
        const money = code.endsWith('_fen');
        const fmt = money ? wan : fmtInt;
        const met = m.rate !== null && m.rate >= 1;
        return el('td', { class: 'num measure' + (met ? ' met' : ''), 'data-measure': code, 'data-value': m.rate === null ? '' : m.rate,
          title: (MEASURES[code] || code) + ': ' + fmt(m.actual) + ' / ' + fmt(m.target) + (money ? ' 万元' : '') },
        (met ? '✓ ' : '') + fmtRate(m.rate), el('small', null, fmt(m.actual) + ' / ' + fmt(m.target)));
      }));
  });
  return el('table', { class: 'compact', id: 'ranking' },
    head(['名次', 'rank', 1], ['区县', 'county'], ['得分', 'score', 1],
      ...measures.map(code => {
        const [zh, ...en] = (MEASURES[code] || code).split(' ');
        return [zh, en.join(' ') + (code.endsWith('_fen') ? ' (万元)' : ''), 1];
      })),
    el('tbody', null, ...rows));
}

// download fetches a link's file with the bearer token (a plain link would go without it) and
// hands it to the browser as the link's named download.
async function download(a, status) {
  status.textContent = '下载中 downloading…';
  try {
    const res = await fetch(a.href, { headers: authHeaders({ Accept: '*/*' }), cache: 'no-store' });
    if (!res.ok) throw new Error('HTTP ' + res.status);
    const blob = await res.blob();
    await save({ blob, status: res.status, number: '', sha256: res.headers.get('X-Document-SHA256') || '' }, a.getAttribute('download'));
    kz.freezes.downloads.push({ href: a.getAttribute('href'), bytes: blob.size });
    status.textContent = '';
  } catch (e) {
    status.textContent = '下载失败 download failed: ' + e.message;
  }
}

function downloads(f) {
  const month = f.valid_through.slice(0, 7);
  const q = encodeURIComponent(f.id);
  const status = el('span', { class: 'download-status', role: 'status' });
  const link = (href, name, text) => {
    const a = el('a', { href, download: name, class: 'download' }, text);
    a.addEventListener('click', e => { e.preventDefault(); download(a, status); });
    return a;
  };
  const base = 'kuozheng-' + f.valid_through + '-seq' + f.through_seq;
  return el('div', { class: 'freeze-downloads' },
    el('span', null, ...bi('排名', 'ranking'), ': '),
    link('/v1/rankings?freeze=' + q + '&format=xlsx', base + '-ranking.xlsx', 'Excel (xlsx)'), ' ',
    link('/v1/rankings?freeze=' + q + '&format=csv', base + '-ranking.csv', 'CSV'),
    el('span', null, ' · ', ...bi('冻结数据（' + month + ' 月报）', 'figures, monthly report'), ': '),
    link('/v1/reports/monthly/' + month + '?freeze=' + q + '&format=xlsx', base + '-figures.xlsx', 'Excel (xlsx)'), ' ',
    link('/v1/reports/monthly/' + month + '?freeze=' + q + '&format=csv', base + '-figures.csv', 'CSV'), ' ',
    link('/v1/reports/monthly/' + month + '?freeze=' + q + '&format=pdf', base + '-figures.pdf', '月报 PDF'), ' ',
    el('span', null, ' · '), link('/v1/freezes/' + q + '/bulletin.pdf', base + '-bulletin.pdf', '通报 bulletin (PDF)'), ' ',
    el('button', { type: 'button', class: 'print', onclick: () => window.print() }, '打印 print'), ' ', status);
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

// restatement shows what moved for the freeze's date since it was made (screen only: it is the
// ledger now, not the freeze).
function restatement(rest) {
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
  return el('div', { class: 'restatement' },
    el('h3', null, ...bi('重述', 'Restatement'), ' ', el('small', null, '冻结后 since the freeze: seq ' + rest.frozen_through_seq + ' → ' + rest.now_seq + '（元 yuan）')),
    changes.length ? el('div', { class: 'table-wrap scroll-y' }, el('table', { class: 'compact', id: 'restatement-changes' },
      head(['范围', 'scope'], ['指标', 'figure'], ['冻结值', 'frozen', 1], ['现值', 'now', 1], ['变动', 'delta', 1]), el('tbody', null, ...changes)))
      : el('p', { class: 'note' }, '无变化 no changes since the freeze'),
    events.length ? el('h3', null, ...bi('相关事件', 'Responsible events'), rest.events_truncated ? el('small', null, ' (仅前 ' + events.length + ' 条 first ' + events.length + ')') : null) : null,
    events.length ? el('div', { class: 'table-wrap scroll-y' }, el('table', { class: 'compact', id: 'restatement-events' },
      head(['序列', 'seq', 1], ['事件', 'event'], ['区县', 'county'], ['单位', 'employer'], ['发生', 'on'], ['记录', 'recorded'], ['操作人', 'actor']), el('tbody', null, ...events))) : null);
}

// printFooter puts the freeze's citation in the footer of every printed page (a page-margin box,
// which only a style sheet can fill).
function printFooter(f) {
  let style = document.getElementById('freeze-print-page');
  if (!style) {
    style = el('style', { id: 'freeze-print-page' });
    document.head.append(style);
  }
  const cite = '冻结 freeze (S, D) = (' + f.through_seq + ', ' + f.valid_through + ') · 摘要 digest ' + f.digest;
  style.textContent = '@page { @bottom-left { content: ' + JSON.stringify(cite) + '; } }';
  return cite;
}

let drawing = 0; // the latest freeze asked for: an older answer arriving later is dropped
let restating = 0; // the latest restatement asked for (showFreeze's too): an older answer is dropped
let restateBusy = false, restateNext = null; // one read at a time; the last asked for meanwhile follows

// restate draws the restatement of the freeze shown again, as the ledger now restates it; one
// that fails leaves the one drawn, read again at the next sequence.
export async function restate(id, minSeq) {
  if (restateBusy) { restateNext = [id, minSeq]; return; }
  restateBusy = true;
  const mine = ++restating, box = $('#freeze-detail');
  try {
    const r = await api('/v1/freezes/' + encodeURIComponent(id) + '/restatement?min_seq=' + (minSeq || 0));
    const old = box.querySelector('.restatement');
    if (mine === restating && box.dataset.freeze === id && old) old.replaceWith(restatement(r.data));
  } catch (e) {
    console.warn('restatement:', e);
  } finally {
    restateBusy = false;
    if (restateNext) { const [i, s] = restateNext; restateNext = null; restate(i, s); }
  }
}

// showFreeze draws freeze id's detail under the list.
export async function showFreeze(id) {
  const mine = ++drawing;
  restating++; // a restatement read before this one is not drawn over it
  const box = $('#freeze-detail');
  box.hidden = false;
  box.replaceChildren(el('p', { class: 'computing' }, '加载中 loading…'));
  const q = encodeURIComponent(id);
  try {
    const [fr, rk, rs] = await Promise.allSettled([api('/v1/freezes/' + q), api('/v1/rankings?freeze=' + q), api('/v1/freezes/' + q + '/restatement')]);
    if (mine !== drawing) return;
    if (fr.status === 'rejected') throw fr.reason;
    if (rk.status === 'rejected') throw rk.reason;
    const f = fr.value.data, ranking = rk.value.data;
    const ranks = Object.fromEntries((ranking.rankings || []).map(r => [r.code, r.rank]));
    const cite = printFooter(f);
    box.dataset.freeze = f.id;
    box.replaceChildren(...[
      el('h3', { class: 'freeze-title' }, ...bi('冻结', 'Freeze'), ' ', f.valid_through, ' ', el('small', { class: 'mono' }, f.id)),
      el('dl', { class: 'facts freeze-facts' },
        el('div', null, el('dt', null, ...bi('截至', 'valid through (D)')), el('dd', { 'data-field': 'valid_through' }, f.valid_through)),
        el('div', null, el('dt', null, ...bi('序列', 'through seq (S)')), el('dd', { 'data-field': 'through_seq' }, fmtInt(f.through_seq))),
        el('div', null, el('dt', null, ...bi('创建', 'created')), el('dd', null, fmtTime(f.created_at))),
        el('div', null, el('dt', null, ...bi('程序版本', 'code version')), el('dd', { class: 'mono' }, f.code_version || '—')),
        el('div', { class: 'wide' }, el('dt', null, ...bi('摘要', 'digest')), el('dd', { class: 'mono', 'data-field': 'digest' }, f.digest))),
      downloads(f),
      el('h3', null, ...bi('排名', 'Ranking'), ' ', el('small', null, ranking.year + '年目标 targets of ' + ranking.year)),
      el('p', { class: 'note weighting' }, '得分为全年8项目标完成率（每项封顶120%）的平均值，各项权重相同；区县目标按分解目标，未分解的按养老应参保人数占比分摊全市目标；同分按区县代码排序。',
        el('span', { class: 'en' }, ranking.weighting || '')),
      ranking.note ? el('p', { class: 'note', id: 'ranking-note' }, '本年度无目标，未排名 no ranking: ' + ranking.note) : null,
      el('div', { class: 'table-wrap' }, rankingTable(ranking)),
      el('h3', null, ...bi('冻结数据', 'Frozen figures'), ' ', el('small', null, '截至 as of ' + ((f.figures || {}).as_of || f.valid_through) + ' · 期间 period ' + ((f.figures || {}).period || '—'))),
      ...frozenFigures(f.figures || {}, ranks, f.scope !== 'visible counties'),
      rs.status === 'fulfilled' ? restatement(rs.value.data) : el('p', { class: 'note restatement' }, '重述暂不可用 restatement not available: ' + rs.reason.message),
      el('p', { class: 'freeze-cite', id: 'freeze-cite' }, cite)].filter(Boolean));
  } catch (e) {
    if (mine === drawing) box.replaceChildren(el('p', { class: 'error' }, '无法加载 could not load: ' + e.message));
  }
}
