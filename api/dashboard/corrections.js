// The corrections panel (冲正): GET /v1/corrections over a period of recording days, per county
// and actor: the events each recorded, the voids of them, the voids each made and the rate, with
// the rows the server flags (a rate that spikes) highlighted; then the voids themselves. The
// period is this month through today by default (days in China, as the ledger counts recording
// days). Auditors, supervisors and admins read it; for anyone else the 403 hides the panel
// (header.js panel), with no error shown.

import { api, ApiError } from './api.js';
import { $, el } from './dom.js';
import { fmtInt, shortId } from './format.js';
import { panel } from './header.js';
import { EVENT_TYPES } from './labels.js';
import { countyName, kz, S } from './state.js';

kz.corrections = { loads: 0, forbidden: false }; // for a test: answers drawn, and a 403 met

// chinaToday is the date in China (YYYY-MM-DD) at the moment now.
function chinaToday(now) {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' })
    .formatToParts(now || new Date());
  const part = type => parts.find(p => p.type === type).value;
  return part('year') + '-' + part('month') + '-' + part('day');
}

// chinaTime is an RFC 3339 timestamp as the time in China, "2006-12-31 09:30:00".
function chinaTime(ts) {
  const d = new Date(ts);
  if (isNaN(d)) return ts || '';
  return chinaToday(d) + ' ' + new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(d);
}

// wireCorrections sets the period to this month through today and makes the form reload it.
export function wireCorrections() {
  const today = chinaToday();
  $('#corrections-from').value = today.slice(0, 8) + '01';
  $('#corrections-to').value = today;
  $('#corrections-form').addEventListener('submit', e => {
    e.preventDefault();
    panel('panel-corrections', loadCorrections);
  });
}

const count = (field, v) => el('td', { class: 'num', 'data-field': field, 'data-value': v }, fmtInt(v));

function actorRow(r) {
  const rate = r.rate_bp === null || r.rate_bp === undefined ? null : r.rate_bp;
  return el('tr', { class: r.flagged ? 'flagged' : null, 'data-county': r.county, 'data-actor': r.actor },
    el('td', { class: 'name' }, countyName(r.county), el('small', { class: 'code' }, r.county)),
    el('td', { class: 'mono', 'data-field': 'actor' }, r.actor),
    count('recorded', r.recorded), count('voided', r.voided), count('voids_made', r.voids_made),
    el('td', { class: 'num', 'data-field': 'rate_bp', 'data-value': rate === null ? '' : rate }, rate === null ? '—' : (rate / 100).toFixed(2) + '%'),
    el('td', { 'data-field': 'flagged', 'data-value': String(!!r.flagged) }, r.flagged ? '⚑ 冲正率突增 rate spikes' : ''));
}

function voidRow(v) {
  return el('tr', { 'data-seq': v.seq, 'data-actor': v.actor, 'data-event-actor': v.event_actor, 'data-event-seq': v.event_seq },
    el('td', { class: 'num' }, v.seq), el('td', { class: 'nowrap', title: v.recorded_at }, chinaTime(v.recorded_at)),
    el('td', { class: 'name' }, countyName(v.county)),
    el('td', null, el('a', { href: '#/employer/' + encodeURIComponent(v.employer_id), title: v.employer_id }, shortId(v.employer_id))),
    el('td', { class: 'mono' }, v.actor), el('td', { class: 'nowrap' }, v.voided_on),
    el('td', null, (EVENT_TYPES[v.event_type] || v.event_type) + ' #' + v.event_seq),
    el('td', { class: 'mono' }, v.event_actor), el('td', { class: 'detail' }, v.reason));
}

// loadCorrections reads the period the form names. A period the server refuses (400) is shown
// beside the form, naming the field; a 403 is for panel to hide the panel.
export async function loadCorrections() {
  const err = $('#corrections-error');
  err.textContent = '';
  for (const c of $('#corrections-form').querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
  const q = new URLSearchParams({ from: $('#corrections-from').value, to: $('#corrections-to').value });
  let d;
  try {
    d = (await api('/v1/corrections?' + q)).data;
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) kz.corrections.forbidden = true;
    if (!(e instanceof ApiError && e.status === 400)) throw e;
    const field = (e.body && e.body.field) || '';
    const ctl = field && $('#corrections-form [name="' + CSS.escape(field) + '"]');
    err.textContent = (field ? field + ': ' : '') + e.message;
    if (ctl) { ctl.setAttribute('aria-invalid', 'true'); ctl.focus(); }
    kz.corrections.loads++;
    return;
  }
  S.correctionsAt = Date.now();
  const rows = (d.rows || []).map(actorRow);
  if (!rows.length) rows.push(el('tr', { class: 'placeholder' }, el('td', { colspan: 7 }, '本期无记录 nothing recorded in the period')));
  $('#corrections tbody').replaceChildren(...rows);
  const voids = (d.voids || []).map(voidRow);
  if (!voids.length) voids.push(el('tr', { class: 'placeholder' }, el('td', { colspan: 9 }, '本期无冲正 no voids in the period')));
  $('#corrections-voids tbody').replaceChildren(...voids);
  $('#corrections-period').textContent = d.from + ' – ' + d.to;
  const n = (d.voids || []).length;
  $('#corrections-voids-note').textContent = d.voids_truncated ? '仅列出前 ' + n + ' 条 the first ' + n + ' only' : '';
  $('#corrections').dataset.from = d.from;
  $('#corrections').dataset.to = d.to;
  kz.corrections.loads++;
}
