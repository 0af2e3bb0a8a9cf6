// The worklist (GET /v1/worklists) under the employer search, for those who write: notices
// past their deadline, findings past their re-declaration date, payers with no line for the
// period last due, payers of the plan's work-injury target not enrolled in work injury, payers
// the survey found and that are not registered 30 days after. Loaded only for them (search.js),
// read again as the views move while it is shown; a county and a kind narrow it, oldest first,
// a page at a time, each item linked to its employer.

import { api, ApiError } from './api.js';
import { $, bi, el, pager, say } from './dom.js';
import { fmtInt, fmtYuan } from './format.js';
import { INSURANCES, WORK_DETAILS_ZH, WORK_KINDS } from './labels.js';
import { countyName, kz, S } from './state.js';

const PAGE_SIZE = 50;

kz.worklist = { loads: 0 }; // for a test (or a curious clerk)

let items = []; // the answer's items, oldest first
let page = 1;
let asked = 0; // the latest read asked for: an older answer arriving later is dropped

function kindSelect() {
  return el('select', { id: 'worklist-kind' }, el('option', { value: '' }, '全部类型 all kinds'),
    ...Object.entries(WORK_KINDS).map(([k, v]) => el('option', { value: k }, v)));
}

// fillCounties lists the counties the token reads (once the county table has named them).
function fillCounties() {
  const sel = $('#worklist-county');
  const want = ['', ...S.order].join(',');
  if (sel.dataset.codes === want) return;
  const was = sel.value;
  sel.replaceChildren(el('option', { value: '' }, '全部区县 all counties'), ...S.order.map(c => el('option', { value: c }, countyName(c) + ' ' + c)));
  sel.dataset.codes = want;
  sel.value = S.order.includes(was) ? was : '';
}

// workKey names an item's wording in WORK_DETAILS_* (api/labels.go workDetails).
function workKey(it) {
  const x = it.facts || {};
  if (it.kind === 'finding_past_redeclare_by') return it.kind + '.' + x.finding;
  if (it.kind === 'no_line_for_due_period' && x.basis) return it.kind + '.basis';
  return it.kind;
}

// detail words an item in Chinese from its date and facts, then gives the server's English
// (dimmed); the server's words alone when the page has no wording for it.
function detail(it) {
  const key = workKey(it);
  if (!WORK_DETAILS_ZH[key]) return [it.detail || ''];
  const x = it.facts || {};
  const nowrap = v => el('span', { class: 'nowrap' }, v);
  const value = k => {
    switch (k) {
      case 'since': return nowrap(it.since || '');
      case 'arrears': return nowrap(fmtYuan(x.arrears_fen));
      case 'insurance': { const l = INSURANCES[x.insurance] || x.insurance || ''; const i = l.indexOf(' '); return i < 0 ? l : l.slice(0, i); }
      default: return nowrap(x[k] === undefined ? '' : String(x[k]));
    }
  };
  const zh = WORK_DETAILS_ZH[key].split(/\{(\w+)\}/).map((t, i) => (i % 2 ? value(t) : t));
  return [...zh, ' ', el('span', { class: 'en' }, it.detail || '')];
}

function row(it) {
  return el('tr', { 'data-kind': it.kind, 'data-employer': it.employer_id, 'data-county': it.county, 'data-since': it.since },
    el('td', null, el('span', { class: 'chip', 'data-kind': it.kind }, WORK_KINDS[it.kind] || it.kind)),
    el('td', { class: 'employer' }, el('a', { href: '#/employer/' + encodeURIComponent(it.employer_id), title: it.employer_id }, it.name || it.employer_id)),
    el('td', null, countyName(it.county)),
    el('td', { class: 'nowrap' }, it.since || '—'),
    el('td', { class: 'detail' }, ...detail(it)));
}

// draw shows the page of the items of the kind chosen.
function draw() {
  const kind = $('#worklist-kind').value;
  const list = kind ? items.filter(it => it.kind === kind) : items;
  const pages = Math.max(1, Math.ceil(list.length / PAGE_SIZE));
  page = Math.min(page, pages);
  const rows = list.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE).map(row);
  if (!rows.length) rows.push(el('tr', { class: 'placeholder' }, el('td', { colspan: 5 }, '无待办 nothing to do')));
  $('#worklist tbody').replaceChildren(...rows);
  $('#worklist').dataset.total = String(list.length);
  say($('#worklist-total'), fmtInt(list.length) + ' 项 item' + (list.length === 1 ? '' : 's'));
  $('#worklist-page').textContent = '第 ' + page + ' / ' + pages + ' 页 page ' + page + ' of ' + pages;
  pager('#worklist-prev', '#worklist-next', page <= 1, page >= pages);
}

// load reads the worklist of the county chosen (every county the token reads without one),
// reflecting at least minSeq.
async function load(minSeq) {
  const mine = ++asked;
  const box = $('#desk-worklist');
  fillCounties();
  const q = new URLSearchParams();
  const county = $('#worklist-county').value;
  if (county) q.set('county', county);
  if (minSeq) q.set('min_seq', String(minSeq));
  try {
    const r = await api('/v1/worklists' + (q.toString() ? '?' + q : ''));
    if (mine !== asked) return;
    // Oldest first; ties keep the server's order (the employers' order in the ledger).
    items = (r.data.items || []).map((it, i) => [it, i]).sort((a, b) => (a[0].since < b[0].since ? -1 : a[0].since > b[0].since ? 1 : a[1] - b[1])).map(x => x[0]);
    $('#worklist-as-of').textContent = '截至 as of ' + (r.data.as_of || '');
    $('#worklist-error').textContent = '';
    $('#worklist').dataset.county = county;
    draw();
    kz.worklist.loads++;
  } catch (e) {
    if (mine !== asked) return;
    if (e instanceof ApiError && e.status === 403) { box.hidden = true; return; }
    $('#worklist-error').textContent = '无法加载 could not load: ' + e.message;
  }
}

// drawWorklist draws the panel once and reads it; later views (a write, another tab's) read it
// again while it is shown.
export function drawWorklist() {
  const box = $('#desk-worklist');
  if (box.dataset.drawn === 'true') return;
  box.dataset.drawn = 'true';
  const head = (zh, en) => el('th', { scope: 'col' }, ...bi(zh, en));
  box.replaceChildren(
    el('div', { class: 'panel-head' },
      el('h2', null, ...bi('待办', 'Worklist'), ' ', el('small', { id: 'worklist-as-of' }), ' ', el('small', { id: 'worklist-total', 'aria-live': 'polite' })),
      el('div', { class: 'controls' },
        el('label', null, ...bi('区县', 'county'), ' ', el('select', { id: 'worklist-county' })),
        el('label', null, ...bi('类型', 'kind'), ' ', kindSelect()))),
    el('p', { id: 'worklist-error', class: 'field-error', role: 'alert' }),
    el('div', { class: 'table-wrap' }, el('table', { id: 'worklist', class: 'compact' },
      el('thead', null, el('tr', null, head('类型', 'kind'), head('单位', 'employer'), head('区县', 'county'), head('自', 'since'), head('说明', 'detail'))),
      el('tbody', null, el('tr', { class: 'placeholder' }, el('td', { colspan: 5 }, '加载中 loading…'))))),
    el('div', { class: 'pager' },
      el('button', { type: 'button', id: 'worklist-prev', onclick: () => { page--; draw(); } }, '‹ 上一页 prev'),
      el('span', { id: 'worklist-page' }),
      el('button', { type: 'button', id: 'worklist-next', onclick: () => { page++; draw(); } }, '下一页 next ›')));
  fillCounties();
  $('#worklist-county').addEventListener('change', () => { page = 1; load(0); });
  $('#worklist-kind').addEventListener('change', () => { page = 1; draw(); });
  // Views that moved while the list was left for an employer (a write there) are read on
  // coming back to it (search.js showResults: kz-finder).
  let missed = 0;
  const shown = () => !$('#view-employer').hidden && !$('#employer-finder').hidden && !box.hidden;
  document.addEventListener('kz-views', ev => {
    if (shown()) load(ev.detail.seq); else missed = Math.max(missed, ev.detail.seq);
  });
  document.addEventListener('kz-finder', () => {
    if (missed && shown()) { const seq = missed; missed = 0; load(seq); }
  });
  box.hidden = false;
  load(0);
}
