// The employer page: one employer's facts, balances, lines and event history, and the desk's
// forms for it (the search is in search.js). In the history a voided event is struck through
// and names its void, a void links to the event it voids, and each other event has a button
// that opens the desk's void form for it, for a principal who may void (the server decides
// which events).

import { api, ApiError } from './api.js';
import { drawDesk } from './desk.js';
import { $, bi, el } from './dom.js';
import { fmtInt, fmtYuan } from './format.js';
import { EVENT_TYPES, INSURANCES, KINDS, STAGES } from './labels.js';
import { loadPrincipal } from './search.js';
import { countyName, kz, S } from './state.js';

let deskOf = null; // drawDesk's answer for the employer shown: opens the void form

// jump brings the history's row of event seq into view and gives it the focus.
function jump(seq) {
  const tr = document.getElementById('ev-' + seq);
  if (!tr) return;
  tr.scrollIntoView({ block: 'center' });
  tr.focus();
  tr.classList.remove('target');
  void tr.offsetWidth; // restart the highlight
  tr.classList.add('target');
}

// jumpLink is a link to another row of the history (the hash is the page's route: not followed).
const jumpLink = (seq, text) => el('a', { href: '#ev-' + seq, class: 'jump', 'data-jump': seq, onclick: ev => { ev.preventDefault(); jump(seq); } }, text);

// correction is a history row's last cell: a voided event's void, a void's event, or the button
// that opens the void form.
function correction(ev, voidOf, voids, mayVoid) {
  if (ev.type === 'event.voided') {
    const t = voids.get(ev.seq) || (ev.payload && ev.payload.event_seq);
    return el('td', { class: 'correction', 'data-voids': t || null }, t ? jumpLink(t, '冲正 #' + t) : '冲正');
  }
  if (voidOf.has(ev.seq)) {
    const v = voidOf.get(ev.seq);
    return el('td', { class: 'correction', 'data-voided-by': v }, '已冲正 voided by ', jumpLink(v, '#' + v));
  }
  if (!mayVoid) return el('td', { class: 'correction' });
  const what = (EVENT_TYPES[ev.type] || ev.type) + ' · ' + ev.occurred_on + ' · #' + ev.seq + ' · ' + ev.actor;
  const open = () => deskOf && deskOf.open('void', {
    values: { event_id: ev.id }, shown: { event_id: what },
    onCancel: () => { const b = document.querySelector('#history tr[data-seq="' + ev.seq + '"] button.void'); if (b) b.focus(); },
  });
  return el('td', { class: 'correction' }, el('button', { type: 'button', class: 'void', 'data-event': ev.id, title: '冲正 void: ' + what, onclick: open }, ...bi('冲正', 'void')));
}

function fact(zh, en, value, attrs) {
  return el('div', attrs || null, el('dt', null, ...bi(zh, en)), el('dd', null, value));
}

// showEmployer shows employer id as the ledger has it at sequence minSeq or later.
export async function showEmployer(id, minSeq) {
  const box = $('#employer-detail');
  box.hidden = false;
  $('#employer-name').textContent = '加载中 loading…';
  $('#employer-facts').replaceChildren();
  $('#employer-totals').replaceChildren();
  $('#employer-lines tbody').replaceChildren();
  $('#history tbody').replaceChildren();
  $('#history-chain').textContent = '';
  box.dataset.employer = id;
  try {
    const q = minSeq ? '?min_seq=' + minSeq : '';
    const base = '/v1/employers/' + encodeURIComponent(id);
    const [er, hr] = await Promise.all([api(base + q), api(base + '/history' + q), loadPrincipal()]);
    if (box.dataset.employer !== id) return;
    const e = er.data, h = hr.data;
    $('#employer-name').replaceChildren(e.name + ' ', el('small', { class: 'mono' }, e.employer_id));
    const enrolled = Object.entries(e.enrolled || {}).filter(([, n]) => n > 0).map(([k, n]) => (INSURANCES[k] || k).split(' ')[0] + ' ' + n).join('、') || '—';
    $('#employer-facts').replaceChildren(
      fact('区县', 'county', countyName(e.county) + ' ' + e.county),
      fact('类型', 'kind', KINDS[e.kind] || e.kind),
      fact('组织机构代码', 'org code', e.org_code || e.credit_code || '—'),
      fact('风险等级', 'risk class', e.risk_class),
      fact('登记', 'registered', e.registered ? (e.registered_on || '是 yes') : '未登记 not registered'),
      fact('应参保人数', 'workforce', fmtInt(e.workforce)),
      fact('参保', 'enrolled', enrolled),
      fact('执法阶段', 'enforcement stage', STAGES[e.enforcement_stage] || e.enforcement_stage, { 'data-field': 'enforcement_stage', 'data-value': e.enforcement_stage }),
      fact('截至', 'as of', e.as_of + ' · v' + e.version));
    const t = e.totals || {};
    $('#employer-totals').replaceChildren(
      ...[['应缴', 'due', 'due_fen'], ['实缴', 'paid', 'paid_fen'], ['减免', 'waived', 'waived_fen'], ['欠缴', 'outstanding', 'outstanding_fen'],
        ['滞纳金', 'late fee', 'late_fee_fen'], ['当年欠费', 'arrears this year', 'arrears_current_year_fen'],
        ['历年欠费', 'arrears prior years', 'arrears_prior_years_fen'], ['清欠', 'recovered', 'recovered_fen'], ['预缴', 'credit', 'credit_fen']]
        .map(([zh, en, k]) => fact(zh, en, fmtYuan(t[k] || 0) + ' 元', { 'data-field': k, 'data-value': t[k] || 0 })));
    $('#employer-lines tbody').replaceChildren(...(e.lines || []).map(l => el('tr', { class: l.outstanding_fen > 0 ? 'owing' : null },
      el('td', null, l.period), el('td', null, (INSURANCES[l.insurance] || l.insurance)), el('td', null, l.due_date),
      el('td', { class: 'num' }, fmtYuan(l.due_fen)), el('td', { class: 'num' }, fmtYuan(l.paid_fen)), el('td', { class: 'num' }, fmtYuan(l.waived_fen)),
      el('td', { class: 'num', 'data-value': l.outstanding_fen }, fmtYuan(l.outstanding_fen)), el('td', { class: 'num' }, fmtYuan(l.late_fee_fen)))));
    const chain = $('#history-chain');
    chain.textContent = h.chain_ok ? '哈希链完好 chain ok' : '哈希链断裂 chain broken';
    chain.className = 'badge ' + (h.chain_ok ? 'ok' : 'bad');
    chain.dataset.chainOk = String(h.chain_ok);
    const voidOf = new Map((h.voided || []).map(v => [v.event_seq, v.void_seq]));
    const voids = new Map((h.voided || []).map(v => [v.void_seq, v.event_seq]));
    const mayVoid = ((S.principal && S.principal.writes) || []).includes('void');
    $('#history tbody').replaceChildren(...(h.events || []).map(ev => {
      const b = ev.balances || {};
      const cls = [ev.chain_ok ? '' : 'broken', voidOf.has(ev.seq) ? 'voided' : '', ev.type === 'event.voided' ? 'void-row' : ''].filter(Boolean).join(' ');
      return el('tr', { id: 'ev-' + ev.seq, tabindex: -1, 'data-seq': ev.seq, 'data-type': ev.type, class: cls || null },
        el('td', { class: 'num' }, ev.seq), el('td', null, ev.occurred_on),
        el('td', null, el('details', null, el('summary', null, EVENT_TYPES[ev.type] || ev.type),
          el('pre', null, JSON.stringify(ev.payload, null, 1)), el('small', { class: 'mono' }, 'hash ' + (ev.hash || '').slice(0, 16)))),
        el('td', null, ev.actor), el('td', { class: 'num' }, fmtYuan(b.due_fen)), el('td', { class: 'num' }, fmtYuan(b.paid_fen)),
        el('td', { class: 'num', 'data-value': b.outstanding_fen }, fmtYuan(b.outstanding_fen)), el('td', { class: 'num' }, fmtYuan(b.late_fee_fen)),
        el('td', null, ev.chain_ok ? '✓' : '✗'), correction(ev, voidOf, voids, mayVoid));
    }));
    box.dataset.version = String(e.version);
    kz.employerShown = (kz.employerShown || 0) + 1;
    const desk = $('#desk-employer');
    if (desk.dataset.employer !== id) {
      desk.dataset.employer = id;
      deskOf = drawDesk(desk, 'employer', id, w => showEmployer(id, w.seq));
    }
  } catch (e) {
    $('#desk-employer').hidden = true;
    $('#desk-employer').dataset.employer = '';
    deskOf = null;
    const msg = e instanceof ApiError && e.status === 403 ? '无权查看此单位 not allowed to read this employer'
      : e instanceof ApiError && e.status === 404 ? '无此单位 no such employer'
        : e instanceof ApiError && e.status === 403 ? '无权查看 not yours to read' : '无法加载 could not load: ' + e.message;
    $('#employer-name').textContent = msg;
  }
}
