// The employer search: text and filters sent to GET /v1/employers, which filters on the server;
// further pages by its cursor; the whole result exported as csv or xlsx. The answer also names
// the principal, whose write families decide which desk forms the page shows. An employer opened
// from the list replaces it (employer.js); going back shows the list as it was left, with its
// pages and its scroll, without searching again.

import { api, authHeaders } from './api.js';
import { $, el, halfWidth } from './dom.js';
import { fmtInt, fmtYuan } from './format.js';
import { yuanToFen } from './documents.js';
import { clearError } from './header.js';
import { FLAG_KINDS, KINDS, STAGES } from './labels.js';
import { countyName, kz, S } from './state.js';

const FILTERS = ['county', 'kind', 'in_park', 'stage', 'flag'];

// wireSearch fills the filter menus and wires the buttons.
export function wireSearch(onError) {
  const fill = (id, pairs) => { const s = $(id); for (const [v, t] of pairs) s.append(el('option', { value: v }, t)); };
  fill('#search-kind', Object.entries(KINDS));
  fill('#search-stage', Object.entries(STAGES));
  fill('#search-flag', [['any', '任一标记 any flag'], ...Object.entries(FLAG_KINDS)]);
  $('#employer-more').addEventListener('click', () => searchEmployers(null, S.nextCursor).catch(onError));
  for (const fmt of ['csv', 'xlsx']) $('#export-' + fmt).addEventListener('click', () => exportResult(fmt).catch(onError));
}

// fillSearchCounties lists the counties the token sees (once the county table has loaded).
export function fillSearchCounties() {
  const s = $('#search-county');
  if (s.options.length > 1 || !S.order.length) return;
  for (const c of S.order) s.append(el('option', { value: c }, countyName(c) + ' ' + c));
}

function params(q) {
  const p = new URLSearchParams();
  if (q) p.set('q', q);
  for (const f of FILTERS) {
    const v = halfWidth($('#search-' + f.replace(/_/g, '-')).value);
    if (v) p.set(f, v);
  }
  const above = arrearsAbove();
  if (above) p.set('arrears_above_fen', above);
  return p;
}

// arrearsAbove is the arrears threshold, typed in 元 as the publicity list's is, in fen: '' when
// none is typed, null when what is typed is not an amount of 元.
function arrearsAbove() {
  const v = halfWidth($('#search-arrears-above').value);
  return v ? yuanToFen(v) : '';
}

// left is the list an employer was opened from: its search, the page's scroll then, and the
// search text; null when no list was left for an employer.
let left = null;

// The list shown follows the ledger's views, as the worklist does: a views event while it is
// shown reads it again, as many rows as it shows, one read at a time (events that come during
// one are read once after it); one while an employer opened from it is shown (the clerk's own
// payment there) is read on coming back (showResults).
let behind = 0; // the latest views sequence the list has not been read at
let reads = 0; // the latest read asked for: an older answer arriving later is dropped
let rereading = false; // a reread is under way
let again = 0; // a sequence to read once it is done

function listShown() {
  return !$('#view-employer').hidden && !$('#employer-finder').hidden && !$('#employer-results').hidden && S.searchParams;
}

function followViews(seq) {
  if (!listShown()) { behind = Math.max(behind, seq); return; }
  if (rereading) { again = Math.max(again, seq); return; }
  rereading = true;
  rereadResults(seq).catch(() => { behind = Math.max(behind, seq); }).finally(() => {
    rereading = false;
    if (again) { const next = again; again = 0; followViews(next); }
  });
}

document.addEventListener('kz-views', ev => followViews(ev.detail.seq));

// rereadResults reads the list shown again, reflecting at least seq, keeping its rows' count and
// the focus on the row that had it.
async function rereadResults(seq) {
  const mine = ++reads;
  const body = $('#employer-results tbody');
  const n = body.rows.length;
  const p = new URLSearchParams(S.searchParams);
  p.set('limit', String(Math.min(Math.max(n, 1), 1000)));
  p.set('min_seq', String(seq));
  const r = await api('/v1/employers?' + p);
  if (mine !== reads || !listShown()) return;
  if (body.rows.length !== n) { again = Math.max(again, seq); return; } // a page added meanwhile: read again
  const had = document.activeElement && document.activeElement.closest ? document.activeElement.closest('#employer-results tr[data-employer]') : null;
  body.replaceChildren(...(r.data.employers || []).map(row));
  if (had) {
    const a = body.querySelector('tr[data-employer="' + CSS.escape(had.dataset.employer) + '"] a');
    if (a) a.focus({ preventScroll: true });
  }
  S.nextCursor = r.data.next_cursor || '';
  $('#employer-more').hidden = !S.nextCursor;
  showCount(r.data.total, body.rows.length);
  if (seq >= behind) behind = 0;
  kz.searchRereads = (kz.searchRereads || 0) + 1;
}

// showCount says how many employers the search found and how many are shown.
function showCount(total, shown) {
  $('#employer-results-note').textContent = '共 ' + fmtInt(total) + ' 个单位 ' + fmtInt(total) + ' employers' + (total > shown ? '，已显示 ' + shown + ' 个 showing ' + shown : '');
  $('#employer-results').dataset.total = String(total);
}

// leaveResults hides the search list (and the registration form) for an employer, noting where
// the list was scrolled.
export function leaveResults() {
  const finder = $('#employer-finder');
  if (finder.hidden) return;
  left = $('#employer-results').hidden ? null : { params: String(S.searchParams), y: window.scrollY, q: $('#employer-q').value.trim() };
  finder.hidden = true;
}

// resultsLink is where the employer page's back link leads: the list it was opened from, or the
// search.
export function resultsLink() {
  if (!left) return { href: '#/employer', results: false };
  return { href: '#/employer' + (left.q ? '?q=' + encodeURIComponent(left.q) : ''), results: true };
}

// showResults shows the search (the route #/employer?q=, q null for the text as it stands): the
// list left for an employer as it was, scrolled where it was and with the focus on that
// employer's link, when the search is the same; else the search's first page.
export async function showResults(q) {
  const detail = $('#employer-detail');
  const from = detail.hidden ? '' : detail.dataset.employer;
  detail.hidden = true;
  $('#desk-employer').hidden = true;
  $('#desk-employer').dataset.employer = '';
  $('#employer-finder').hidden = false;
  document.dispatchEvent(new CustomEvent('kz-finder')); // the worklist reads what it missed
  if (q === null) q = $('#employer-q').value; else $('#employer-q').value = q;
  const back = from && left && left.params === String(params(q));
  const y = back ? left.y : 0;
  const list = back ? left.params : '';
  left = null;
  if (!back) return searchEmployers(q);
  if (behind) {
    try { await rereadResults(behind); } catch (e) { /* the list as left, read again at the next views event */ }
    if (again) { const next = again; again = 0; followViews(next); }
    if (!listShown() || String(S.searchParams) !== list) return; // the clerk went on meanwhile
  }
  window.scrollTo(0, y);
  const a = document.querySelector('#employer-results tr[data-employer="' + CSS.escape(from) + '"] a');
  if (a) a.focus({ preventScroll: true });
}

function row(e) {
  return el('tr', { 'data-employer': e.employer_id },
    el('td', null, el('a', { href: '#/employer/' + e.employer_id }, e.name)), el('td', null, countyName(e.county)),
    el('td', null, KINDS[e.kind] || e.kind), el('td', { class: 'mono' }, e.org_code || e.credit_code || '—'),
    el('td', null, e.deregistered_on ? '注销 deregistered ' + e.deregistered_on : e.registered ? '是 yes' : '否 no'), el('td', { class: 'num', 'data-value': e.arrears_fen }, fmtYuan(e.arrears_fen)),
    el('td', null, STAGES[e.enforcement_stage] || e.enforcement_stage));
}

// loadPrincipal learns who the token acts for (a one-row search).
export async function loadPrincipal() {
  if (S.principal) return S.principal;
  const r = await api('/v1/employers?limit=1');
  S.principal = r.data.principal;
  return S.principal;
}

// searchEmployers shows the first page of matches, or with cursor appends the next page.
export async function searchEmployers(q, cursor) {
  const p = cursor ? S.searchParams : params(q === null || q === undefined ? $('#employer-q').value.trim() : q);
  if (!cursor) S.searchParams = p;
  // The list shown must not pass for this search's: when it is not made, it is put away and the
  // note says why.
  const putAway = note => {
    $('#employer-results tbody').replaceChildren();
    $('#employer-results').hidden = true;
    delete $('#employer-results').dataset.total;
    $('#employer-more').hidden = true;
    $('#search-export').hidden = true;
    $('#employer-results-note').textContent = note;
  };
  const field = $('#search-arrears-above');
  if (!cursor) {
    field.removeAttribute('aria-invalid');
    if (arrearsAbove() === null) {
      field.setAttribute('aria-invalid', 'true');
      field.focus();
      putAway('欠费高于须为元：至多 13 位整数、两位小数 arrears above: yuan, at most 13 digits before the point and two after');
      return;
    }
  }
  let r;
  try {
    r = await api('/v1/employers?' + p + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
  } catch (e) {
    if (!cursor) putAway('查询失败，未显示结果 the search failed: no results shown (' + (e && e.message ? e.message : String(e)) + ')');
    throw e;
  }
  clearError();
  const d = r.data;
  S.principal = d.principal;
  S.nextCursor = d.next_cursor || '';
  const body = $('#employer-results tbody');
  const rows = (d.employers || []).map(row);
  if (cursor) body.append(...rows); else body.replaceChildren(...rows);
  // "More" on the last page goes: the first result it brought takes the focus it had.
  if (cursor && !d.next_cursor && document.activeElement === $('#employer-more') && rows[0]) rows[0].querySelector('a').focus();
  if (!cursor) reads++; // a reread asked before this search is not its list's
  $('#employer-results').hidden = false;
  $('#employer-more').hidden = !S.nextCursor;
  $('#search-export').hidden = false;
  showCount(d.total, body.rows.length);
  kz.searches = (kz.searches || 0) + 1;
  drawRegister();
}

// deskModule loads the desk for those who write (null for a reader: a supervisor's page goes
// without its modules).
export const deskModule = () => (S.principal && (S.principal.writes || []).length ? import('./desk.js') : Promise.resolve(null));

// drawRegister shows the registration form to those who may register payers, and the worklist
// (its module loaded then) to those who write.
export function drawRegister() {
  const box = $('#desk-register');
  if (box.dataset.drawn === 'true' || !S.principal) return;
  box.dataset.drawn = 'true';
  if ((S.principal.writes || []).length) {
    deskModule().then(m => m.drawDesk(box, 'none', '', w => { location.hash = '#/employer/' + w.employer_id + '?seq=' + w.seq; }))
      .catch(e => { box.dataset.drawn = ''; $('#employer-results-note').textContent = '录入表无法加载 the desk could not load: ' + e.message; });
    import('./worklist.js').then(m => m.drawWorklist()).catch(e => { $('#employer-results-note').textContent = '待办无法加载 the worklist could not load: ' + e.message; });
  }
}

// exportResult downloads every match of the current search (the bearer token rides along, so a
// plain link would not do).
async function exportResult(format) {
  const p = new URLSearchParams(S.searchParams || params());
  p.set('format', format);
  const res = await fetch('/v1/employers?' + p, { headers: authHeaders({ Accept: '*/*' }), cache: 'no-store' });
  if (!res.ok) throw new Error('export: HTTP ' + res.status);
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = el('a', { href: url, download: 'kuozheng-employers.' + format });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  kz.lastExport = { format, bytes: blob.size };
}
