// The accountability flags panel: the flagged employers of the counties shown (the group
// chosen, or one county; the segment chosen's payers), a page at a time, each with its flags worded in Chinese and English;
// filtered, searched and sorted by the server (GET /v1/flags?by=employer), and exported.

import { api, authHeaders } from './api.js';
import { $, el, keepFocus, pager, say } from './dom.js';
import { fmtInt, fmtMoney, fmtWan, fmtYuan } from './format.js';
import { panel } from './header.js';
import { FLAG_DETAILS_EN, FLAG_DETAILS_ZH, FLAG_KINDS, INSURANCES, SEGMENTS, WAIVER_BASES } from './labels.js';
import { countyName, inGroup, kz, S } from './state.js';
import { writeViewState } from './viewstate.js';

const PAGE_SIZE = 25; // employers a page
const SHOWN = 3; // flags shown of an employer before "more"

// detailKey names a flag's wording in FLAG_DETAILS_*, as api/labels.go flagDetailKey does.
function detailKey(f) {
  const facts = f.facts || {};
  if (f.kind === 'arrears_without_enforcement' && facts.last_step) return f.kind + '.after_step';
  if (f.kind === 'waiver_review' && facts.waiver && facts.waived_in_all_fen) return f.kind + '.' + facts.waiver + '.in_all';
  if (f.kind === 'waiver_review' && facts.waiver) return f.kind + '.' + facts.waiver;
  return f.kind;
}

// part is the Chinese (0) or English (1) half of a bilingual label.
function part(label, lang) {
  if (!label) return '';
  const i = label.indexOf(' ');
  return i < 0 ? label : lang ? label.slice(i + 1) : label.slice(0, i);
}

// detail words a flag in Chinese, then English (dimmed), from its facts; money by format.js.
// Dates and periods are kept on one line (a browser may break "2006-04" after its hyphen).
function detail(f) {
  const key = detailKey(f);
  if (!FLAG_DETAILS_ZH[key]) return [f.detail || ''];
  const x = f.facts || {};
  const nowrap = v => el('span', { class: 'nowrap' }, v);
  const value = (k, lang) => {
    switch (k) {
      case 'amount': return nowrap(fmtMoney(f.amount_fen, lang));
      case 'accrued_fee': return nowrap(fmtMoney(x.accrued_fee_fen, lang));
      case 'waived_in_all': return nowrap(fmtMoney(x.waived_in_all_fen, lang));
      case 'wage_base': return nowrap(fmtYuan(x.wage_base_fen));
      case 'average_wage': return nowrap(fmtYuan(x.average_wage_fen));
      case 'since': return nowrap(f.since || '');
      case 'last_step': return nowrap(x.last_step || '');
      case 'period': return nowrap(x.period || '');
      case 'insurance': return part(INSURANCES[x.insurance] || x.insurance, lang);
      case 'basis': return part(WAIVER_BASES[x.basis] || x.basis, lang);
      case 'grace_days': return fmtInt(x.grace_days || 0);
      case 'headcount': return fmtInt(x.headcount || 0);
      default: return x[k] === undefined ? '{' + k + '}' : String(x[k]);
    }
  };
  // A template alternates text and placeholder names: "a {amount} b" splits to [a, amount, b].
  const fill = (tmpl, lang) => tmpl.split(/\{(\w+)\}/).map((t, i) => (i % 2 ? value(t, lang) : t));
  return [...fill(FLAG_DETAILS_ZH[key], 0), ' ', el('span', { class: 'en' }, ...fill(FLAG_DETAILS_EN[key], 1))];
}

// drawn is the query (min_seq aside) and sequence of the answer the panel shows.
let drawn = { query: '', seq: 0 };

function query(extra) {
  const f = S.flagsQuery;
  const q = new URLSearchParams({ by: 'employer', sort: f.sort, limit: String(PAGE_SIZE), page: String(S.flagsPage) });
  if (f.county) q.set('county', f.county);
  else if (S.group) q.set('group', S.group);
  if (f.kind) q.set('kind', f.kind);
  if (f.q) q.set('q', f.q);
  if (S.segment) q.set('segment', S.segment);
  for (const [k, v] of Object.entries(extra || {})) q.set(k, v);
  return q;
}

// reload shows the first page of the panel for the filters now set, and puts them in the URL.
function reload() {
  S.flagsPage = 1;
  writeViewState();
  return panel('panel-flags', loadFlags);
}

// wireFlags fills the kind menu and makes the controls and the pager reload the panel.
export function wireFlags() {
  for (const [k, v] of Object.entries(FLAG_KINDS)) $('#flags-kind').append(el('option', { value: k }, v));
  const f = S.flagsQuery;
  $('#flags-kind').value = f.kind;
  $('#flags-sort').value = f.sort;
  $('#flags-q').value = f.q;
  $('#flags-prev').addEventListener('click', () => { S.flagsPage = Math.max(1, S.flagsPage - 1); panel('panel-flags', loadFlags); });
  $('#flags-next').addEventListener('click', () => { S.flagsPage++; panel('panel-flags', loadFlags); });
  $('#flags-county').addEventListener('change', e => { S.flagsQuery.county = e.target.value; reload(); });
  $('#flags-kind').addEventListener('change', e => { S.flagsQuery.kind = e.target.value; reload(); });
  $('#flags-sort').addEventListener('change', e => { S.flagsQuery.sort = e.target.value; reload(); });
  $('#flags-search').addEventListener('submit', e => { e.preventDefault(); S.flagsQuery.q = $('#flags-q').value.trim(); reload(); });
  // Clearing the search box (its × or Escape) shows every flag again.
  $('#flags-q').addEventListener('search', () => { if (!$('#flags-q').value && S.flagsQuery.q) { S.flagsQuery.q = ''; reload(); } });
  $('#flags-csv').addEventListener('click', () => exportFlags('csv').catch(showExportError));
  $('#flags-xlsx').addEventListener('click', () => exportFlags('xlsx').catch(showExportError));
}

// fillCountySelect lists the counties of the group chosen (all the token may read without
// one); a county chosen outside the group is let go.
export function fillCountySelect() {
  const sel = $('#flags-county');
  const codes = S.order.filter(inGroup);
  const want = ['', ...codes].join(',');
  if (sel.dataset.codes !== want) {
    sel.replaceChildren(el('option', { value: '' }, S.group ? '本组全部区县 all counties of the group' : '全部区县 all counties'),
      ...codes.map(code => el('option', { value: code }, countyName(code) + ' ' + code)));
    sel.dataset.codes = want;
  }
  if (S.flagsQuery.county && !codes.includes(S.flagsQuery.county)) S.flagsQuery.county = '';
  sel.value = S.flagsQuery.county;
}

// showCountyFlags shows one county's flags (a click on its count in the table) and moves to them.
export async function showCountyFlags(code) {
  S.flagsQuery.county = code;
  fillCountySelect();
  await reload();
  const p = $('#panel-flags');
  p.scrollIntoView({ block: 'start' });
  $('#flags-heading').focus({ preventScroll: true });
}

function employerRow(e) {
  const flags = e.flags || [];
  const item = f => el('li', { 'data-kind': f.kind, 'data-amount': f.amount_fen || 0 }, ...detail(f));
  const list = el('ul', { class: 'flag-details' }, ...flags.slice(0, SHOWN).map(item));
  const more = flags.length > SHOWN
    ? el('details', { class: 'more' }, el('summary', null, '另 ' + (flags.length - SHOWN) + ' 条 ' + (flags.length - SHOWN) + ' more'),
      el('ul', { class: 'flag-details' }, ...flags.slice(SHOWN).map(item)))
    : null;
  return el('tr', { 'data-employer': e.employer_id, 'data-county': e.county, 'data-flags': flags.length, 'data-amount': e.amount_fen },
    el('td', { class: 'employer' }, el('a', { href: '#/employer/' + encodeURIComponent(e.employer_id), title: e.employer_id }, e.name || e.employer_id),
      el('small', { class: 'code' }, countyName(e.county))),
    el('td', { class: 'kinds' }, ...e.kinds.map(k => el('span', { class: 'chip', 'data-kind': k }, FLAG_KINDS[k] || k))),
    el('td', { class: 'num amount', 'data-value': e.amount_fen, 'data-label': '涉及金额（万元） amount' }, e.amount_fen ? (Math.abs(e.amount_fen) < 5000 ? '<0.01' : fmtWan(e.amount_fen)) : '—'),
    el('td', { class: 'num date', 'data-label': '最早 since' }, e.since ? [el('span', { class: 'nowrap' }, e.since), el('small', { class: 'code' }, fmtInt(e.age_days) + ' 天 days')] : '—'),
    el('td', { class: 'detail' }, list, more));
}

export async function loadFlags(minSeq) {
  const chosen = query().toString();
  const q = query(minSeq ? { min_seq: String(minSeq) } : null);
  const r = await api('/v1/flags?' + q);
  // Answers can arrive out of order: one for filters or a page no longer chosen, or older than
  // the one drawn, is dropped (the panel showed another county's rows under its name).
  if (query().toString() !== chosen || (drawn.query === chosen && r.seq < drawn.seq)) {
    kz.lateDropped++;
    return;
  }
  drawn = { query: chosen, seq: r.seq };
  const d = r.data;
  const rows = (d.employers || []).map(employerRow);
  if (!rows.length) rows.push(el('tr', { class: 'placeholder' }, el('td', { colspan: 5 }, '无标记 no flags')));
  keepFocus($('#flags'), () => $('#flags tbody').replaceChildren(...rows));
  const pages = Math.max(1, Math.ceil(d.total / d.page_size));
  const total = $('#flags-total');
  say(total, fmtInt(d.flags_total) + ' 条标记 · ' + fmtInt(d.employers_total) + ' 家单位 ' + fmtInt(d.flags_total) + ' flag' + (d.flags_total === 1 ? '' : 's') +
    ' on ' + fmtInt(d.employers_total) + ' employer' + (d.employers_total === 1 ? '' : 's'));
  total.dataset.flags = d.flags_total;
  total.dataset.employers = d.employers_total;
  $('#flags-scope').textContent = [S.flagsQuery.county ? countyName(S.flagsQuery.county) : S.group ? '第' + S.group + '组 group ' + S.group : '',
    S.segment ? SEGMENTS[S.segment] : ''].filter(Boolean).join(' · ');
  $('#flags').dataset.query = q.toString();
  $('#flags-page').textContent = '第 ' + d.page + ' / ' + pages + ' 页 page ' + d.page + ' of ' + pages;
  pager('#flags-prev', '#flags-next', d.page <= 1, d.page >= pages);
  kz.flagLoads = (kz.flagLoads || 0) + 1;
}

// exportFlags downloads every flag the panel's filters match, as csv or xlsx (the bearer token
// rides along, so a plain link would not do).
async function exportFlags(format) {
  const q = query({ format: format });
  q.delete('by');
  q.delete('page');
  q.delete('limit');
  const res = await fetch('/v1/flags?' + q, { headers: authHeaders({ Accept: '*/*' }), cache: 'no-store' });
  if (!res.ok) throw new Error('HTTP ' + res.status);
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = el('a', { href: url, download: 'kuozheng-flags.' + format });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  kz.lastFlagExport = { format: format, bytes: blob.size, query: q.toString() };
}

function showExportError(e) {
  $('#flags-export-error').textContent = '导出失败 export failed: ' + e.message;
}
