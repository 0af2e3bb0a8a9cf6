// The year closings (年度结转) under the freezes: each year of the ledger, open or closed, who
// closed or reopened it, when and why. The assessment team and admins close an ended open year
// the server would close (closable; POST /v1/years/{year}/close, after its latest year-end
// freeze); admins reopen the latest
// closed one (closed years run unbroken, and only the latest may reopen) with a reason (POST
// /v1/years/{year}/reopen). Kept current with the freezes list, which loads it (a closing, like a
// freeze, moves the sequence /v1/live watches).

import { api, postKeyed, refusalText } from './api.js';
import { $, el, bi } from './dom.js';
import { forget, keyFor, settled } from './keys.js';
import { loadPrincipal } from './search.js';
import { kz } from './state.js';

// For a test: lists drawn, and the closings and reopenings this page asked for and was answered.
kz.years = { loads: 0, answers: [], running: false };

let role = '';
let wiring = null; // who reads, learnt once (wire)
let listSeq = 0; // the sequence the list drawn reflects: a slower, older answer is dropped
let byYear = {}; // the years as last drawn
// The Idempotency-Keys of what was asked (keys.js), by path and the year's closing and reopening
// sequences: closing a year again after it was reopened is a new request, not the first's retry.
const keys = {};
const keysOf = (path, y) => {
  const id = path + '@' + ((y && y.closed_seq) || 0) + '-' + ((y && y.reopened_seq) || 0);
  return keys[id] || (keys[id] = {});
};

// loadYears reads the years (reflecting at least minSeq) and draws them, latest first.
export async function loadYears(minSeq) {
  await (wiring || (wiring = wire()));
  const r = await api('/v1/years' + (minSeq ? '?min_seq=' + minSeq : ''));
  if (r.seq < listSeq) return;
  listSeq = r.seq;
  const years = (r.data.years || []).slice().reverse();
  byYear = Object.fromEntries(years.map(y => [y.year, y]));
  const today = r.data.today || '';
  const rows = years.map(y => row(y, today, years));
  if (!rows.length) rows.push(el('tr', { class: 'placeholder' }, el('td', { colspan: 5 }, '尚无年度 no years yet')));
  $('#years tbody').replaceChildren(...rows);
  const latest = years.find(y => y.closed && !y.closed_with);
  const select = $('#year-reopen-year');
  if (select.value !== String(latest ? latest.year : '')) $('#year-reopen-reason').value = ''; // typed for another year
  select.replaceChildren(...(latest ? [el('option', { value: latest.year }, String(latest.year))] : []));
  $('#year-reopen-form').hidden = role !== 'admin' || !latest;
  kz.years.loads++;
}

function row(y, today, years) {
  const status = !y.closed ? '开放 open' : y.closed_with ? '随 ' + y.closed_with + ' 结转 closed with ' + y.closed_with : '已结转 closed';
  const closedBy = y.closed_by ? y.closed_by + ' · ' + y.closed_on : '—';
  const reopened = y.reopened_by ? y.reopened_by + ' · ' + y.reopened_on + (y.reopen_reason ? ' · ' + y.reopen_reason : '') : '—';
  const mayClose = (role === 'assessor' || role === 'admin') && closable(y, years, today);
  return el('tr', { 'data-year': y.year, 'data-closed': String(!!y.closed) },
    el('td', null, String(y.year)), el('td', null, status),
    el('td', { class: 'nowrap' }, closedBy), el('td', null, reopened),
    el('td', null, mayClose ? el('button', { type: 'button', 'data-close': y.year, 'aria-label': '结转 ' + y.year + ' close ' + y.year, disabled: kz.years.running, onclick: () => closeYear(y.year) }, ...bi('结转', 'close')) : ''));
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
  $('#year-reopen-reason').addEventListener('input', () => $('#year-reopen-reason').removeAttribute('aria-invalid'));
}

// showProblem says what went wrong: a reopening's beside its form, a closing's above the list.
function showProblem(text, field, reopening) {
  const box = reopening ? $('#year-reopen-error') : $('#years-error');
  box.textContent = (field ? field + ': ' : '') + text;
  box.dataset.field = field || '';
  if (reopening && (field === 'reason' || field === 'year')) {
    const input = field === 'reason' ? $('#year-reopen-reason') : $('#year-reopen-year');
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  }
}

// busy marks a request under way: the buttons are disabled until it is answered.
function busy(on) {
  kz.years.running = on;
  for (const b of document.querySelectorAll('#years button[data-close], #year-reopen')) b.disabled = on;
  $('#years').setAttribute('aria-busy', String(on));
  $('#year-reopen-form').setAttribute('aria-busy', String(on));
}

// send posts body to path with the key kept for it and the year's state, and draws the outcome:
// the list again once recorded, the refusal otherwise.
async function send(path, body, year, doing, reopening) {
  if (kz.years.running) return;
  busy(true);
  const progress = $('#years-progress');
  for (const box of [$('#years-error'), $('#year-reopen-error')]) {
    box.textContent = '';
    box.dataset.field = '';
  }
  $('#year-reopen-reason').removeAttribute('aria-invalid');
  progress.textContent = doing;
  const state = keysOf(path, byYear[year]);
  let data = null;
  try {
    let res;
    ({ res, data } = await postKeyed(path, body, keyFor(state, body)));
    progress.textContent = '';
    kz.years.answers.push({ path, status: res.status, duplicate: !!(data && data.duplicate) });
    if (res.status >= 500 || res.status === 408 || res.status === 429) {
      // Not answered for good: the same key makes a retry answer what was recorded.
      showProblem('未确认，可重试 not confirmed, try again: ' + refusalText(data, 'HTTP ' + res.status), '', reopening);
      return;
    }
    if (data && data.error === 'idempotency_mismatch') {
      // An earlier request of this year, unconfirmed, had other values: it may stand.
      forget(state);
      showProblem('先前的请求可能已记录，请查看列表；再次提交为新请求 an earlier request may be recorded: check the list; submitting again makes a new one', '', reopening);
      data = null;
    } else {
      settled(state, body, res.ok);
      if (!res.ok) {
        showProblem(refusalText(data, 'HTTP ' + res.status), data && data.field, reopening);
        return;
      }
      if (reopening) $('#year-reopen-reason').value = '';
      progress.textContent = (data.duplicate ? '已记录 already recorded' : '已记录 recorded') + ' ' + year + ' · 序列 seq ' + data.seq;
    }
  } catch (e) {
    progress.textContent = '';
    showProblem('网络错误，可重试 network error, try again: ' + String(e && e.message || e), '', reopening);
    return;
  } finally {
    busy(false);
  }
  try {
    await loadYears(data ? data.seq : 0);
  } catch (e) {
    $('#years-error').textContent = '已记录，但列表未能刷新 recorded, but the list could not be reloaded: ' + String(e && e.message || e);
  }
}

// closable says whether the server would close y (domain.CheckClosable): open, ended by the
// business date, no reopened year before it still open, and, once a year is closed, the next
// after the closed run of years (they stay one run).
function closable(y, years, today) {
  if (y.closed || !today || y.year >= Number(today.slice(0, 4))) return false;
  if (years.some(o => o.year < y.year && !o.closed && o.reopened_by)) return false;
  const closed = new Set(years.filter(o => o.closed).map(o => o.year));
  const first = Math.min(...years.filter(o => o.closed && !o.closed_with).map(o => o.year)); // Infinity: none
  for (let year = first + 1; year < y.year; year++) {
    if (!closed.has(year)) return false;
  }
  return true;
}

function closeYear(year) {
  return send('/v1/years/' + year + '/close', '{}', year, '结转中 closing ' + year + '…', false);
}

function reopenYear() {
  const year = $('#year-reopen-year').value;
  const reason = $('#year-reopen-reason').value.trim();
  if (!reason) {
    showProblem('请写明重新开启的原因 give the reason for reopening', 'reason', true);
    return;
  }
  return send('/v1/years/' + year + '/reopen', JSON.stringify({ reason }), Number(year), '重新开启中 reopening ' + year + '…', true);
}
