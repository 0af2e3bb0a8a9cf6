// The year closings (年度结转) under the freezes: each year of the ledger, open or closed, who
// closed or reopened it, when and why. The assessment team and admins close an ended open year
// (POST /v1/years/{year}/close, after its latest year-end freeze); admins reopen a closed one
// with a reason (POST /v1/years/{year}/reopen). Kept current with the freezes list, which
// loads it (a closing, like a freeze, moves the sequence /v1/live watches).

import { api, authHeaders, getToken, reauthorize, refusalText } from './api.js';
import { $, el, bi } from './dom.js';
import { keyFor, settled } from './keys.js';
import { loadPrincipal } from './search.js';
import { kz, S } from './state.js';

// For a test: lists drawn, and the closings and reopenings this page asked for and was answered.
kz.years = { loads: 0, answers: [], running: false };

let role = '';
let wired = false;
let listSeq = 0; // the sequence the list drawn reflects: a slower, older answer is dropped
const keys = {}; // the Idempotency-Keys of what was asked, by path (keys.js)

// loadYears reads the years (reflecting at least minSeq) and draws them, latest first.
export async function loadYears(minSeq) {
  if (!wired) {
    wired = true;
    await wire();
  }
  const r = await api('/v1/years' + (minSeq ? '?min_seq=' + minSeq : ''));
  if (r.seq < listSeq) return;
  listSeq = r.seq;
  const years = (r.data.years || []).slice().reverse();
  const today = (S.counties && S.counties.as_of) || '';
  const rows = years.map(y => row(y, today));
  if (!rows.length) rows.push(el('tr', { class: 'placeholder' }, el('td', { colspan: 5 }, '尚无年度 no years yet')));
  $('#years tbody').replaceChildren(...rows);
  const closed = years.filter(y => y.closed && !y.closed_with);
  $('#year-reopen-year').replaceChildren(...closed.map(y => el('option', { value: y.year }, String(y.year))));
  $('#year-reopen-form').hidden = role !== 'admin' || !closed.length;
  kz.years.loads++;
}

function row(y, today) {
  const status = !y.closed ? '开放 open' : y.closed_with ? '随 ' + y.closed_with + ' 结转 closed with ' + y.closed_with : '已结转 closed';
  const closedBy = y.closed_by ? y.closed_by + ' · ' + y.closed_on : '—';
  const reopened = y.reopened_by ? y.reopened_by + ' · ' + y.reopened_on + (y.reopen_reason ? ' · ' + y.reopen_reason : '') : '—';
  // A year its business date has not ended cannot be closed: no button for it.
  const mayClose = (role === 'assessor' || role === 'admin') && !y.closed && today && y.year < Number(today.slice(0, 4));
  return el('tr', { 'data-year': y.year, 'data-closed': String(!!y.closed) },
    el('td', null, String(y.year)), el('td', null, status),
    el('td', { class: 'nowrap' }, closedBy), el('td', null, reopened),
    el('td', null, mayClose ? el('button', { type: 'button', 'data-close': y.year, 'aria-label': '结转 ' + y.year + ' close ' + y.year, onclick: () => closeYear(y.year) }, ...bi('结转', 'close')) : ''));
}

// wire learns who reads (the buttons and the form are theirs only; the server refuses anyone
// else all the same) and sets up the reopening form.
async function wire() {
  try {
    const p = await loadPrincipal();
    role = (p && p.role) || '';
  } catch (e) {
    role = '';
  }
  $('#year-reopen-form').addEventListener('submit', e => {
    e.preventDefault();
    reopenYear();
  });
}

function showProblem(text, field) {
  const box = $('#years-error');
  box.textContent = (field ? field + ': ' : '') + text;
  box.dataset.field = field || '';
  const reason = $('#year-reopen-reason');
  if (field === 'reason') {
    reason.setAttribute('aria-invalid', 'true');
    reason.focus();
  }
}

// send posts body to path with the key kept for it, and draws the outcome: the list again once
// recorded, the refusal beside the years otherwise.
async function send(path, body, doing) {
  if (kz.years.running) return;
  kz.years.running = true;
  const progress = $('#years-progress');
  $('#years-error').textContent = '';
  $('#year-reopen-reason').removeAttribute('aria-invalid');
  progress.textContent = doing;
  const state = keys[path] || (keys[path] = {});
  try {
    let res;
    for (let attempt = 0; ; attempt++) {
      const sent = getToken();
      res = await fetch(path, {
        method: 'POST', cache: 'no-store', body,
        headers: authHeaders({ 'Content-Type': 'application/json', 'Idempotency-Key': keyFor(state, body) }),
      });
      if (res.status === 401 && attempt < 3) { await reauthorize(sent); continue; }
      break;
    }
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    progress.textContent = '';
    kz.years.answers.push({ path, status: res.status, duplicate: !!(data && data.duplicate) });
    if (res.status >= 500 || res.status === 408 || res.status === 429) {
      // Not answered for good: the same key makes a retry answer what was recorded.
      showProblem('未确认，可重试 not confirmed, try again: ' + refusalText(data, 'HTTP ' + res.status));
      return;
    }
    settled(state, body, res.ok);
    if (!res.ok) {
      showProblem(refusalText(data, 'HTTP ' + res.status), data && data.field);
      return;
    }
    progress.textContent = (data.duplicate ? '已记录 already recorded' : '已记录 recorded') + ' · 序列 seq ' + data.seq;
    await loadYears(data.seq);
  } catch (e) {
    progress.textContent = '';
    showProblem('网络错误，可重试 network error, try again: ' + String(e && e.message || e));
  } finally {
    kz.years.running = false;
  }
}

function closeYear(year) {
  return send('/v1/years/' + year + '/close', '{}', '结转中 closing ' + year + '…');
}

function reopenYear() {
  const year = $('#year-reopen-year').value;
  const reason = $('#year-reopen-reason').value.trim();
  if (!reason) {
    showProblem('请写明重新开启的原因 give the reason for reopening', 'reason');
    return;
  }
  return send('/v1/years/' + year + '/reopen', JSON.stringify({ reason }), '重新开启中 reopening ' + year + '…');
}
