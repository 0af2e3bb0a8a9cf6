// The employer page: one employer's facts, balances, lines and event history, and the desk's
// forms for it (the search is in search.js).

import { api, ApiError } from './api.js';
import { drawDesk } from './desk.js';
import { $, bi, el } from './dom.js';
import { fmtInt, fmtYuan } from './format.js';
import { EVENT_TYPES, INSURANCES, KINDS, STAGES } from './labels.js';
import { loadPrincipal } from './search.js';
import { countyName, kz } from './state.js';

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
    $('#history tbody').replaceChildren(...(h.events || []).map(ev => {
      const b = ev.balances || {};
      return el('tr', { 'data-seq': ev.seq, 'data-type': ev.type, class: ev.chain_ok ? null : 'broken' },
        el('td', { class: 'num' }, ev.seq), el('td', null, ev.occurred_on),
        el('td', null, el('details', null, el('summary', null, EVENT_TYPES[ev.type] || ev.type),
          el('pre', null, JSON.stringify(ev.payload, null, 1)), el('small', { class: 'mono' }, 'hash ' + (ev.hash || '').slice(0, 16)))),
        el('td', null, ev.actor), el('td', { class: 'num' }, fmtYuan(b.due_fen)), el('td', { class: 'num' }, fmtYuan(b.paid_fen)),
        el('td', { class: 'num', 'data-value': b.outstanding_fen }, fmtYuan(b.outstanding_fen)), el('td', { class: 'num' }, fmtYuan(b.late_fee_fen)),
        el('td', null, ev.chain_ok ? '✓' : '✗'));
    }));
    box.dataset.version = String(e.version);
    kz.employerShown = (kz.employerShown || 0) + 1;
    const desk = $('#desk-employer');
    if (desk.dataset.employer !== id) {
      desk.dataset.employer = id;
      drawDesk(desk, 'employer', id, w => showEmployer(id, w.seq));
    }
  } catch (e) {
    $('#desk-employer').hidden = true;
    $('#desk-employer').dataset.employer = '';
    const msg = e instanceof ApiError && e.status === 403 ? '无权查看此单位 not allowed to read this employer'
      : e instanceof ApiError && e.status === 404 ? '无此单位 no such employer' : '无法加载 could not load: ' + e.message;
    $('#employer-name').textContent = msg;
  }
}
