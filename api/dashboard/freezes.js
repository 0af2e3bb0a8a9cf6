// The freezes panel: the list of freezes, kept current by /v1/live (live.js calls loadFreezes
// when the sequence moves, so a freeze made in another tab appears without a reload), and for
// the assessment team and admins the form that makes one (POST /v1/freezes). A chosen freeze's
// ranking, figures and restatement are drawn by rank.js, loaded only when one is opened.

import { api, ApiError, postKeyed } from './api.js';
import { $, el } from './dom.js';
import { fmtInt, fmtTime } from './format.js';
import { keyFor, settled } from './keys.js';
import { loadPrincipal } from './search.js';
import { kz, S } from './state.js';
import { loadYears } from './years.js';

// For a test (or a curious assessor): lists drawn, the freezes made from this page, whether one
// is being made, and (rank.js) the downloads saved.
kz.freezes = { loads: 0, made: [], running: false };

let wired = false;
let chosen = ''; // the freeze whose detail is shown
let fresh = ''; // the freeze this page has just made, marked in the list
let listSeq = 0; // the sequence the list drawn reflects: a slower, older answer is dropped

// open draws a freeze's detail, loading its module on first use.
async function open(id) {
  chosen = id;
  for (const tr of document.querySelectorAll('#freezes tbody tr')) tr.classList.toggle('selected', tr.dataset.freeze === id);
  try {
    const { showFreeze } = await import('./rank.js');
    await showFreeze(id);
  } catch (e) {
    const box = $('#freeze-detail');
    box.hidden = false;
    box.replaceChildren(el('p', { class: 'error' }, '无法加载 could not load: ' + (e && e.message || e)));
  }
}

function row(f) {
  const tr = el('tr', { 'data-freeze': f.id, 'data-seq': f.through_seq, 'data-valid-through': f.valid_through,
    class: 'clickable' + (f.id === chosen ? ' selected' : '') + (f.id === fresh ? ' fresh' : ''),
    title: '打开排名与冻结数据 open its ranking and figures' },
  el('td', { class: 'nowrap' }, f.valid_through), el('td', { class: 'num' }, fmtInt(f.through_seq)),
  el('td', { class: 'nowrap' }, fmtTime(f.created_at)), el('td', { class: 'mono' }, f.made_by || '—'),
  el('td', { class: 'mono', title: f.digest }, (f.digest || '').slice(0, 12)),
  el('td', null, el('button', { type: 'button', class: 'link', 'data-open': f.id, 'aria-label': '打开 ' + f.valid_through + ' 的排名 open the ranking of ' + f.valid_through + ', seq ' + f.through_seq }, '排名 ranking')));
  // The whole row answers a click; the button (whose click reaches the row) is the keyboard's way in.
  tr.addEventListener('click', () => open(f.id));
  return tr;
}

// loadFreezes reads the list (reflecting at least minSeq) and draws it, newest first; the first
// call also sets up the freeze form for those who may freeze.
export async function loadFreezes(minSeq) {
  if (!wired) {
    wired = true;
    wireForm();
  }
  const r = await api('/v1/freezes' + (minSeq ? '?min_seq=' + minSeq : ''));
  if (r.seq < listSeq) {
    kz.lateDropped++;
    return;
  }
  listSeq = r.seq;
  const list = (r.data.freezes || []).slice().reverse();
  const rows = list.map(row);
  if (!rows.length) rows.push(el('tr', { class: 'placeholder' }, el('td', { colspan: 6 }, '尚无冻结 no freezes yet')));
  $('#freezes tbody').replaceChildren(...rows);
  $('#freezes').dataset.count = String(list.length);
  kz.freezes.loads++;
  if (chosen && !$('#freeze-detail').hidden) import('./rank.js').then(m => m.restate(chosen, minSeq), e => console.warn('rank.js:', e));
  loadYears(minSeq).catch(e => { $('#years-error').textContent = '无法加载年度 could not load the years: ' + (e && e.message || e); });
}

// yearEnd is the default valid-through date: the year end of the figures' year, or, while that
// year runs (a freeze may not be dated after today), the last year end passed.
function yearEnd(asOf) {
  const y = Number(asOf.slice(0, 4));
  const end = y + '-12-31';
  return end <= asOf ? end : (y - 1) + '-12-31';
}

// wireForm shows the form to assessors and admins (the server refuses anyone else all the same).
async function wireForm() {
  const form = $('#freeze-form');
  let p;
  try {
    p = await loadPrincipal();
  } catch (e) {
    return; // no principal, no form: the list is all this reader gets
  }
  if (!p || (p.role !== 'assessor' && p.role !== 'admin')) return;
  const input = $('#freeze-valid-through');
  const asOf = (S.counties && S.counties.as_of) || '';
  if (asOf) {
    input.value = yearEnd(asOf);
    input.max = asOf;
  }
  form.hidden = false;
  form.addEventListener('submit', e => {
    e.preventDefault();
    makeFreeze();
  });
}

const keys = {}; // the Idempotency-Keys of the freezes asked for (keys.js)

function showProblem(text, field) {
  const box = $('#freeze-error');
  box.textContent = (field ? field + ': ' : '') + text;
  box.dataset.field = field || '';
  const input = $('#freeze-valid-through');
  if (field === 'valid_through' || field === 'through_seq' || !field) {
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  }
}

// makeFreeze asks for a freeze of the date chosen: the button is disabled and the time taken
// shown while the ledger is folded (minutes on a long one).
async function makeFreeze() {
  if (kz.freezes.running) return;
  const input = $('#freeze-valid-through');
  const button = $('#freeze-make');
  const progress = $('#freeze-progress');
  $('#freeze-error').textContent = '';
  input.removeAttribute('aria-invalid');
  if (!input.value) {
    showProblem('请选择截至日期 choose the valid-through date', 'valid_through');
    return;
  }
  kz.freezes.running = true;
  button.disabled = true;
  $('#freeze-form').setAttribute('aria-busy', 'true');
  const started = performance.now();
  const tick = () => { progress.textContent = '冻结中 freezing… ' + ((performance.now() - started) / 1000).toFixed(1) + ' s'; };
  tick();
  const timer = setInterval(tick, 200);
  const body = JSON.stringify({ valid_through: input.value });
  const key = keyFor(keys, body);
  try {
    const { res, data } = await postKeyed('/v1/freezes', body, key);
    // Answered: the time stops, or a tick during the list's reload below would write
    // "freezing…" over the outcome.
    clearInterval(timer);
    const secs = ((performance.now() - started) / 1000).toFixed(1) + ' s';
    if (res.status >= 500 || res.status === 408 || res.status === 429) {
      // Not answered for good: the same key makes a retry answer the freeze if it was made.
      progress.textContent = '';
      showProblem('未确认，可重试 not confirmed, try again: ' + ((data && data.detail) || 'HTTP ' + res.status));
      return;
    }
    settled(keys, body, res.ok);
    if (!res.ok) {
      progress.textContent = '';
      showProblem(((data && data.detail) || 'HTTP ' + res.status) + (data && data.error ? ' [' + data.error + ']' : ''), data && data.field);
      return;
    }
    fresh = data.id;
    kz.freezes.made.push({ id: data.id, seq: data.seq, through_seq: data.through_seq, duplicate: !!data.duplicate });
    progress.textContent = (data.duplicate ? '已有此冻结 already made' : '已冻结 frozen') + ' ' + data.valid_through +
      ' · 序列 seq ' + fmtInt(data.through_seq) + ' · ' + secs;
    await loadFreezes(data.seq);
  } catch (e) {
    progress.textContent = '';
    showProblem('网络错误，可重试 network error, try again: ' + (e instanceof ApiError ? e.message : String(e && e.message || e)));
  } finally {
    clearInterval(timer);
    kz.freezes.running = false;
    button.disabled = false;
    $('#freeze-form').removeAttribute('aria-busy');
    if (!document.activeElement || document.activeElement === document.body) button.focus({ preventScroll: true }); // as desk.js
  }
}
