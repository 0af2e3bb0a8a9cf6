// The employer page: one employer's facts, balances, lines and event history, and the desk's
// forms for it (the search is in search.js). The view replaces the search list it was opened
// from, which the back link shows again as it was left.
//
// An auditor replays the employer at any moment: as of a business date (as_of: the events dated
// on or before it, balances and late fees on that day) and through a sequence (through_seq: the
// events recorded up to it, for the history and its balances). Both cuts are in the location's
// hash, so a replay can be linked; the server checks them and its error is shown beside the
// control it names. Uncut, the view follows live writes: each new sequence of /v1/live leads to a
// HEAD of the employer (its ETag is its version) and, when the version moved, to a re-read. A cut
// view stays where the user put it and says that newer events exist.
//
// In the history a voided event is struck through and names its void, a void links to the event
// it voids, and each other event has a button that opens the desk's void form for it, for a
// principal who may void (the server decides which events).

import { api, ApiError, authHeaders, refusalText } from './api.js';
import { $, bi, el, halfWidth, keepFocus, say, TITLE } from './dom.js';
import { download } from './documents.js';
import { coded, describe, recorded, sector } from './events.js';
import { fmtInt, fmtYuan } from './format.js';
import { AUDITOR_VOIDS, EVENT_TYPES, INDUSTRIES, INSURANCES, KINDS, OWNERSHIP_CODES, STAGES } from './labels.js';
import { deskModule, leaveResults, loadPrincipal, resultsLink } from './search.js';
import { countyName, kz, S } from './state.js';

const CUTS = ['as_of', 'through_seq'];

// V is the view's state: the employer shown and its cut, what the last answer said, and the live
// check's progress.
const V = {
  id: '',
  cut: { as_of: '', through_seq: '' },
  gen: 0, // each load's number: an answer to an older load is dropped
  rendered: false, // the employer has been drawn (for this id)
  version: 0, // the employer's version in the last answer (its last event's sequence)
  checked: 0, // the live sequence last checked against
  pending: 0, // a live sequence announced while a check was running
  checking: false,
  shown: null, // the employer and history last drawn: { e, h }
  lost: '', // the employer drawn that a live check found no longer readable (moved out of scope)
};

let deskOf = null; // drawDesk's answer for the employer shown: opens the void form

const isCut = () => !!(V.cut.as_of || V.cut.through_seq);

// hashOf is the page's address of employer id with cut (its empty values left out).
function hashOf(id, cut) {
  const p = new URLSearchParams();
  for (const k of CUTS) if (cut[k]) p.set(k, cut[k]);
  const qs = String(p);
  return '#/employer/' + encodeURIComponent(id) + (qs ? '?' + qs : '');
}

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

// VOID_NOTES say, above the void form of an event of their type, what a void does that a clerk
// correcting a mistake may not mean to.
const VOID_NOTES = {
  'declaration.filed': ['冲正后该所属期按未申报计，已缴款项转为余额。只是人数或基数有误的，请重新申报该期（新的申报取代原申报），不要冲正；冲正后再以今天的日期申报，会从原缴费期限起计滞纳金。',
    'A void leaves the period undeclared and makes what was paid for it credit. To correct a headcount or a wage base, file the period again (the new declaration replaces this one) instead; declaring it again after a void, dated today, charges late fees from the original due date.'],
};

// NEVER_VOIDED are the events the ledger never voids (domain/correction.go): the employer's entry
// (deregister instead) and a code correction (correct it again): no button invites the attempt.
const NEVER_VOIDED = new Set(['employer.registered', 'employer.found', 'employer.org_code_corrected']);

// mayVoidEvent is the server's rule of who voids ev (domain/correction.go, AUDITOR_VOIDS), so
// that no button invites a void it refuses: a money event or an inspectorate's step only by an
// auditor or an admin, a money event never by whoever recorded it (four eyes).
function mayVoidEvent(ev) {
  const why = AUDITOR_VOIDS[ev.type];
  const p = S.principal || {};
  if (!why) return true;
  if (p.role !== 'auditor' && p.role !== 'admin') return false;
  const actor = ev.actor || '';
  return why !== 'four eyes' || actor.slice(actor.indexOf(':') + 1) !== p.name;
}

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
  if (!mayVoid || NEVER_VOIDED.has(ev.type) || !mayVoidEvent(ev)) return el('td', { class: 'correction' });
  const what = (EVENT_TYPES[ev.type] || ev.type) + ' · ' + ev.occurred_on + ' · #' + ev.seq + ' · ' + ev.actor;
  const open = () => deskOf && deskOf.open('void', {
    values: { event_id: ev.id }, shown: { event_id: what }, note: VOID_NOTES[ev.type],
    onCancel: () => { const b = document.querySelector('#history tr[data-seq="' + ev.seq + '"] button.void'); if (b) b.focus(); },
  });
  return el('td', { class: 'correction' }, el('button', { type: 'button', class: 'void', 'data-event': ev.id, title: '冲正 void: ' + what, onclick: open }, ...bi('冲正', 'void')));
}

function fact(zh, en, value, attrs) {
  return el('div', attrs || null, el('dt', null, ...bi(zh, en)), el('dd', null, value));
}

// A fact a test reads: its value shown, the API's kept in data-value.
const known = (zh, en, k, shown, v) => fact(zh, en, shown, { 'data-field': k, 'data-value': v === undefined || v === null ? '' : String(v) });

// byInsurance is counts of each insurance, named in Chinese: "养老 10、工伤 70" ("—" for none).
const byInsurance = m => Object.entries(m || {}).filter(([, n]) => n > 0).map(([k, n]) => (INSURANCES[k] || k).split(' ')[0] + ' ' + fmtInt(n)).join('、') || '—';

// attributeFacts are the payer's registration facts of issue 18 as of the view's date: its
// industry and sector, ownership code, park and whether it is a labour agency.
const attributeFacts = e => [
  known('行业门类', 'industry', 'industry', e.industry ? coded(INDUSTRIES, e.industry) : '—', e.industry),
  known('重点行业', 'sector', 'sector', e.sector ? sector(e.sector) : '—', e.sector),
  known('经济类型', 'ownership code', 'ownership_code', e.ownership_code ? coded(OWNERSHIP_CODES, e.ownership_code) : '—', e.ownership_code),
  known('园区', 'industrial park', 'park', e.park || (e.in_industrial_park ? '园区内 in a park' : '—'), e.park),
  known('劳务派遣', 'labour agency', 'agency', e.agency ? '是 yes' : '否 no', !!e.agency),
];

const money = (zh, en, k, fen) => fact(zh, en, fmtYuan(fen || 0) + ' 元', { 'data-field': k, 'data-value': fen || 0 });

// A balance cell of the history: yuan shown, the fen kept for a test to compare.
const balance = (label, field, fen) => el('td', { class: 'num', 'data-label': label, 'data-field': field, 'data-value': fen }, fmtYuan(fen));

// PRINTED are the events of which the server prints a document (a receipt, or a note).
const PRINTED = new Set(['payment.received', 'payment.reversed', 'credit.refunded', 'event.voided']);

// docLink fetches path with the token and saves it as name; its status is said beside it.
function docLink(path, name, zh, en, attrs) {
  const status = el('span', { class: 'doc-status', role: 'status' });
  const a = el('a', Object.assign({ href: path, download: name, class: 'doc', title: zh + ' ' + en }, attrs || {}), ...bi(zh, en));
  a.addEventListener('click', ev => { ev.preventDefault(); download(path, name, status); });
  return el('span', { class: 'doc-link' }, a, ' ', status);
}

// documentOf is a history row's document link: a receipt or a note, or an issued notice printed
// again (only a notice the ledger printed, which records its SHA-256).
function documentOf(ev) {
  const base = '/v1/employers/' + encodeURIComponent(V.id);
  if (PRINTED.has(ev.type)) {
    return docLink(base + '/events/' + encodeURIComponent(ev.id) + '.pdf', 'kuozheng-' + ev.type.split('.')[0] + '-' + ev.seq + '.pdf', '打印', 'print', { 'data-doc': 'event' });
  }
  const p = ev.payload || {};
  if (ev.type === 'enforcement.step_recorded' && p.step === 'notice' && p.doc_no && p.doc_sha256) {
    return docLink(base + '/notices/' + encodeURIComponent(p.doc_no + '.pdf'), 'notice-' + p.doc_no + '.pdf', '通知书', 'notice (PDF)', { 'data-doc': 'notice', 'data-number': p.doc_no });
  }
  return null;
}

function historyRow(ev, voidOf, voids, mayVoid) {
  const b = ev.balances || {};
  const cls = [ev.chain_ok ? '' : 'broken', voidOf.has(ev.seq) ? 'voided' : '', ev.type === 'event.voided' ? 'void-row' : ''].filter(Boolean).join(' ');
  const [day, time] = recorded(ev.recorded_at);
  return el('tr', { id: 'ev-' + ev.seq, tabindex: -1, 'data-seq': ev.seq, 'data-type': ev.type, 'data-occurred-on': ev.occurred_on, class: cls || null },
    el('td', { class: 'num seq' },
      el('a', { href: hashOf(V.id, { as_of: V.cut.as_of, through_seq: String(ev.seq) }), title: '回看到此事件 replay through this event' }, ev.seq)),
    el('td', { class: 'when' }, el('span', { class: 'occurred' }, ev.occurred_on),
      el('span', { class: 'recorded', title: '记录于 recorded at ' + ev.recorded_at }, el('span', null, day), ' ', el('span', null, time))),
    el('td', { class: 'event' }, describe(ev), documentOf(ev),
      el('div', { class: 'ev-meta' }, el('span', { class: 'actor' }, '操作人 actor ', el('span', { class: 'mono' }, ev.actor)),
        el('details', null, el('summary', null, '原始数据 ', el('span', { class: 'en' }, 'raw '), el('code', null, ev.type)),
          el('pre', null, JSON.stringify(ev.payload, null, 1)), el('small', { class: 'mono' }, 'id ' + ev.id + ' · hash ' + (ev.hash || '').slice(0, 16))))),
    balance('应缴 due', 'due_fen', b.due_fen), balance('实缴 paid', 'paid_fen', b.paid_fen),
    balance('欠缴 outstanding', 'outstanding_fen', b.outstanding_fen), balance('滞纳金 late fee', 'late_fee_fen', b.late_fee_fen),
    el('td', { class: 'chain', 'data-label': '链 chain', title: ev.chain_ok ? '哈希链完好 chain ok' : '哈希链断裂 chain broken' }, ev.chain_ok ? '✓' : '✗ 断 broken'),
    correction(ev, voidOf, voids, mayVoid));
}

// cutText says which events the view shows, in Chinese and English.
function cutText(asOf) {
  if (!isCut()) return bi('显示全部事件，截至今天 ' + asOf + '，随新记录更新。', 'Every event, as of today ' + asOf + '; new records are drawn as they come.');
  const zh = [], en = [];
  if (V.cut.as_of) { zh.push('发生在 ' + asOf + ' 及以前'); en.push('dated on or before ' + asOf); }
  if (V.cut.through_seq) { zh.push('序列 ≤ #' + V.cut.through_seq); en.push('recorded through #' + V.cut.through_seq); }
  return bi('回看：只显示' + zh.join('、') + '的事件，新记录不再画出。', 'Replay: events ' + en.join(' and ') + '; new records are not drawn.');
}

// showNewer says that events exist beyond the cut, the employer being at version v.
function showNewer(v) {
  const p = $('#employer-newer');
  p.hidden = false;
  p.dataset.version = String(v);
  p.replaceChildren('有更新的事件：此单位已记录到 #' + v + '，不在当前回看中。 ', el('span', { class: 'en' }, 'Newer events exist: the employer is at #' + v + ', beyond this replay. '),
    el('a', { href: hashOf(V.id, {}) }, '显示最新 show the latest'));
}

// redrawNames draws the employer shown again once the counties' names have arrived: a page
// opened by its link may draw the employer before them, with the county's code twice.
export function redrawNames() {
  if (V.rendered && V.shown && !$('#employer-detail').hidden) render(V.shown.e, V.shown.h);
}

function render(e, h) {
  const box = $('#employer-detail');
  V.rendered = true;
  V.shown = { e, h };
  V.version = e.version;
  // The cut as the server read it: through_seq 0 is none.
  V.cut = { as_of: V.cut.as_of ? h.as_of : '', through_seq: h.through_seq ? String(h.through_seq) : '' };
  $('#employer-name').replaceChildren(e.name + ' ', el('small', { class: 'mono' }, e.employer_id));
  document.title = e.name + ' · ' + TITLE;
  $('#employer-facts').replaceChildren(
    fact('区县', 'county', countyName(e.county) + ' ' + e.county),
    fact('类型', 'kind', KINDS[e.kind] || e.kind),
    fact('组织机构代码', 'org code', e.org_code || e.credit_code || '—'),
    fact('风险等级', 'risk class', e.risk_class),
    ...attributeFacts(e),
    fact('登记', 'registered', e.registered ? (e.registered_on || '是 yes') : '未登记 not registered'),
    ...(e.deregistered ? [known('注销', 'deregistered', 'deregistered_on', e.deregistered_on, e.deregistered_on)] : []),
    fact('应参保人数', 'workforce', fmtInt(e.workforce)),
    known('其中农民工', 'migrant workers', 'migrants', fmtInt(e.migrants || 0), e.migrants || 0),
    fact('参保', 'enrolled', byInsurance(e.enrolled)),
    known('参保农民工', 'migrants enrolled', 'migrants_enrolled', byInsurance(e.migrants_enrolled), JSON.stringify(e.migrants_enrolled || {})),
    known('医保退休人员', 'medical retirees', 'retirees', fmtInt(e.retirees || 0), e.retirees || 0),
    fact('执法阶段', 'enforcement stage', STAGES[e.enforcement_stage] || e.enforcement_stage, { 'data-field': 'enforcement_stage', 'data-value': e.enforcement_stage }),
    known('检查', 'inspections', 'inspected', (e.inspected || []).join('、') || '—', (e.inspected || []).join(',')),
    fact('截至', 'as of', e.as_of + ' · v' + e.version, { 'data-field': 'as_of', 'data-value': e.as_of }));
  // A principal who writes the employer's facts changes them through the desk's change form.
  $('#employer-actions').hidden = !((S.principal && S.principal.writes) || []).includes('employer');
  $('#employer-statement').hidden = false;
  // Cut at a sequence, the balances are the history's (the employer's read knows no sequence).
  const t = e.totals || {};
  if (V.cut.through_seq) {
    const hb = h.balances || {};
    $('#employer-totals').replaceChildren(money('应缴', 'due', 'due_fen', hb.due_fen), money('实缴', 'paid', 'paid_fen', hb.paid_fen),
      money('本金减免', 'principal waived', 'waived_fen', hb.waived_fen), money('欠缴', 'outstanding', 'outstanding_fen', hb.outstanding_fen),
      money('滞纳金未缴', 'late fee owed', 'late_fee_fen', hb.late_fee_fen), money('预缴', 'credit', 'credit_fen', hb.credit_fen));
    $('#employer-totals-note').textContent = '截至 ' + h.as_of + '，序列 ≤ #' + V.cut.through_seq + ' as of ' + h.as_of + ', through #' + V.cut.through_seq;
    $('#employer-lines-note').textContent = '截至 ' + e.as_of + '，含全部已记录事件（明细不按序列回看） as of ' + e.as_of + ', every event recorded (lines are not cut at a sequence)';
  } else {
    $('#employer-totals').replaceChildren(
      ...[['应缴', 'due', 'due_fen'], ['实缴', 'paid', 'paid_fen'], ['本金减免', 'principal waived', 'waived_fen'], ['欠缴', 'outstanding', 'outstanding_fen'],
        ['滞纳金未缴', 'late fee owed', 'late_fee_fen'], ['当年欠费', 'arrears this year', 'arrears_current_year_fen'],
        ['历年欠费', 'arrears prior years', 'arrears_prior_years_fen'], ['清欠', 'recovered', 'recovered_fen'], ['预缴', 'credit', 'credit_fen']]
        .map(([zh, en, k]) => money(zh, en, k, t[k])));
    $('#employer-totals-note').textContent = '截至 ' + e.as_of + ' as of ' + e.as_of;
    $('#employer-lines-note').textContent = '截至 ' + e.as_of + ' as of ' + e.as_of;
  }
  $('#employer-lines tbody').replaceChildren(...(e.lines || []).map(l => el('tr', { class: l.outstanding_fen > 0 ? 'owing' : null },
    el('td', { class: 'nowrap' }, l.period), el('td', null, (INSURANCES[l.insurance] || l.insurance)), el('td', { class: 'nowrap', 'data-label': '缴费期限 due by' }, l.due_date),
    el('td', { class: 'num', 'data-label': '应缴 due' }, fmtYuan(l.due_fen)), el('td', { class: 'num', 'data-label': '实缴 paid' }, fmtYuan(l.paid_fen)),
    el('td', { class: 'num', 'data-label': '本金减免 principal waived' }, fmtYuan(l.waived_fen)),
    el('td', { class: 'num', 'data-label': '欠缴 outstanding', 'data-value': l.outstanding_fen }, fmtYuan(l.outstanding_fen)),
    el('td', { class: 'num', 'data-label': '滞纳金未缴 late fee owed' }, fmtYuan(l.late_fee_fen)),
    el('td', { class: 'num', 'data-label': '滞纳金已缴 late fee paid', 'data-field': 'late_fee_paid_fen', 'data-value': l.late_fee_paid_fen || 0 }, fmtYuan(l.late_fee_paid_fen || 0)),
    el('td', { class: 'num', 'data-label': '滞纳金减免 late fee waived', 'data-field': 'late_fee_waived_fen', 'data-value': l.late_fee_waived_fen || 0 }, fmtYuan(l.late_fee_waived_fen || 0)))));
  const chain = $('#history-chain');
  chain.textContent = h.chain_ok ? '哈希链完好 chain ok' : '哈希链断裂 chain broken';
  chain.className = 'badge ' + (h.chain_ok ? 'ok' : 'bad');
  chain.dataset.chainOk = String(h.chain_ok);
  const voidOf = new Map((h.voided || []).map(v => [v.event_seq, v.void_seq]));
  const voids = new Map((h.voided || []).map(v => [v.void_seq, v.event_seq]));
  const mayVoid = ((S.principal && S.principal.writes) || []).includes('void');
  const events = h.events || [];
  keepFocus($('#history'), () => $('#history tbody').replaceChildren(...events.map(ev => historyRow(ev, voidOf, voids, mayVoid))));
  $('#history-count').textContent = events.length + ' 条 ' + (events.length === 1 ? 'event' : 'events');
  say($('#cut-state'), ...cutText(e.as_of));
  box.dataset.version = String(e.version);
  box.dataset.asOf = V.cut.as_of;
  box.dataset.throughSeq = V.cut.through_seq;
  box.dataset.cut = String(isCut());
  $('#employer-newer').hidden = true;
  // Cut, an event beyond the last one shown is one the cut leaves out.
  if (isCut() && e.version > events.reduce((m, ev) => Math.max(m, ev.seq), 0)) showNewer(e.version);
  if (!V.cut.as_of) S.today = e.as_of;
  // The desk's declaration offers the lines that stand (deskforms.js): of the ledger as it is.
  S.history = isCut() ? null : h;
  document.dispatchEvent(new CustomEvent('kz-history'));
  statementDefaults(e.as_of);
  kz.employerShown = (kz.employerShown || 0) + 1;
}

// statementDefaults sets the statement's dates to the year of the page's as-of date, through it,
// when another employer or date is shown (what the user typed for this one is kept).
function statementDefaults(asOf) {
  const f = $('#employer-statement');
  const key = V.id + '@' + asOf;
  if (f.dataset.for === key) return;
  f.dataset.for = key;
  f.elements.from.value = asOf.slice(0, 4) + '-01-01';
  f.elements.to.value = asOf;
}

// cutError shows the server's refusal of a cut's value beside its control; answers whether the
// error was about a cut.
function cutError(err) {
  const body = err instanceof ApiError && err.status === 400 ? err.body : null;
  const field = body && body.field;
  if (!CUTS.includes(field)) return false;
  const slot = $('#employer-cut [data-error-for="' + field + '"]');
  slot.textContent = refusalText(body, '');
  const ctl = $('#employer-cut [name="' + field + '"]');
  ctl.setAttribute('aria-invalid', 'true');
  return true;
}

function clearCutErrors() {
  for (const s of document.querySelectorAll('#employer-cut .field-error')) s.textContent = '';
  for (const c of document.querySelectorAll('#employer-cut [aria-invalid]')) c.removeAttribute('aria-invalid');
}

// load reads the employer and its history under the view's cut (at least sequence minSeq) and
// draws them; a refused cut is shown beside its control and leaves what was drawn.
async function load(minSeq) {
  const gen = ++V.gen;
  const id = V.id;
  const box = $('#employer-detail');
  box.setAttribute('aria-busy', 'true');
  const q = new URLSearchParams();
  if (V.cut.as_of) q.set('as_of', V.cut.as_of);
  if (minSeq) q.set('min_seq', String(minSeq));
  const hq = new URLSearchParams(q);
  if (V.cut.through_seq) hq.set('through_seq', V.cut.through_seq);
  const base = '/v1/employers/' + encodeURIComponent(id);
  const [er, hr] = await Promise.allSettled([api(base + (String(q) ? '?' + q : '')), api(base + '/history' + (String(hq) ? '?' + hq : '')), loadPrincipal()]);
  if (gen !== V.gen) return;
  box.removeAttribute('aria-busy');
  clearCutErrors();
  if (er.status === 'fulfilled' && hr.status === 'fulfilled') {
    $('#employer-error').hidden = true;
    render(er.value.data, hr.value.data);
    const desk = $('#desk-employer');
    // What the desk offers follows the payer as it stands, not as a replay's cut shows it.
    const uncut = !V.cut.as_of && !V.cut.through_seq;
    if (desk.dataset.employer !== id) {
      const m = await deskModule().catch(e => { $('#employer-error').hidden = false; $('#employer-error').textContent = '录入表无法加载 the desk could not load: ' + e.message; });
      if (gen !== V.gen) return;
      if (m !== undefined) desk.dataset.employer = id; // a desk that failed to load is tried again
      deskOf = m && m.drawDesk(desk, 'employer', id, w => load(w.seq), () => load(), uncut ? er.value.data : undefined);
    } else if (deskOf && uncut) {
      deskOf.offer(er.value.data); // registered (or its registration voided) since
    }
    $('#employer-skip').hidden = desk.hidden;
    return;
  }
  const errs = [er, hr].filter(r => r.status === 'rejected').map(r => r.reason);
  const cutErrs = errs.filter(cutError);
  if (cutErrs.length === errs.length) {
    $('#cut-state').replaceChildren(...bi('未能回看：请更正标出的值。' + (V.rendered ? '下方仍是上一次的结果。' : ''),
      'Could not replay: correct the value marked.' + (V.rendered ? ' Below is still the previous view.' : '')));
    if (!V.rendered) $('#employer-name').textContent = '回看的值有误 the replay\'s values are wrong';
    const bad = $('#employer-cut [aria-invalid="true"]');
    if (bad) bad.focus();
    return;
  }
  const e = errs.find(x => !cutErrs.includes(x));
  V.rendered = false;
  $('#desk-employer').hidden = true;
  $('#desk-employer').dataset.employer = '';
  $('#employer-skip').hidden = true;
  deskOf = null;
  for (const sel of ['#employer-facts', '#employer-totals', '#employer-lines tbody', '#history tbody']) $(sel).replaceChildren();
  for (const sel of ['#history-count', '#history-chain', '#employer-totals-note', '#employer-lines-note']) $(sel).textContent = '';
  $('#employer-actions').hidden = true;
  $('#employer-statement').hidden = true;
  // A payer this page just transferred out of the clerk's counties: say where, and who undoes it.
  const moved = kz.desk && kz.desk.moved && kz.desk.moved[id];
  const code = moved && moved.county;
  const where = code && (countyName(code) === code ? code : countyName(code) + '（' + code + '）');
  const msg = e instanceof ApiError && e.status === 403 && moved
    ? `已转移至 ${where}，不在您的辖区；如系误转，请稽核或管理员冲正该转移（序号 ${moved.seq}） moved to ${code}: not among your counties; a transfer made by mistake is voided by an auditor or an admin (its seq ${moved.seq})`
    : e instanceof ApiError && e.status === 403 && V.lost === id ? '此单位已不在您可查看的区县（刚被转移？请查询或询问稽核） this payer is no longer in a county you may read: moved out since this page showed it (transferred?)'
    : e instanceof ApiError && e.status === 403 ? '无权查看此单位 not allowed to read this employer'
    : e instanceof ApiError && e.status === 404 ? '无此单位 no such employer' : '无法加载 could not load: ' + (e && e.message);
  // The heading names what was asked for; the refusal is said apart from it, and read out.
  $('#employer-name').replaceChildren('单位 Employer ', el('small', { class: 'mono' }, id));
  $('#employer-error').textContent = msg;
  $('#employer-error').hidden = false;
}

// showEmployer shows employer id (the route #/employer/{id}?as_of=&through_seq=&seq=) in place
// of the search list: replayed as the query's cut says, as the ledger has it at sequence seq or
// later (after a write of the page's own).
export function showEmployer(id, query) {
  const box = $('#employer-detail');
  const fresh = V.id !== id || box.hidden;
  leaveResults();
  box.hidden = false;
  V.cut = { as_of: (query.get('as_of') || '').trim(), through_seq: (query.get('through_seq') || '').trim() };
  for (const k of CUTS) $('#employer-cut [name="' + k + '"]').value = V.cut[k];
  const back = resultsLink();
  const a = $('#employer-back');
  a.href = back.href;
  a.replaceChildren('← ', ...(back.results ? bi('返回查询结果', 'back to the results') : bi('查询单位', 'find an employer')));
  if (fresh) {
    V.id = id;
    V.lost = '';
    V.rendered = false;
    V.version = 0;
    V.checked = 0;
    box.dataset.employer = id;
    box.dataset.version = '';
    $('#employer-name').textContent = '加载中 loading…';
    $('#employer-error').hidden = true;
    for (const sel of ['#employer-facts', '#employer-totals', '#employer-lines tbody', '#history tbody']) $(sel).replaceChildren();
    for (const sel of ['#history-chain', '#history-count', '#cut-state', '#employer-totals-note', '#employer-lines-note']) $(sel).textContent = '';
    $('#employer-newer').hidden = true;
    // Where the user looks: the top of the employer, its name focused for a screen reader.
    box.scrollIntoView({ block: 'start' });
    $('#employer-name').focus({ preventScroll: true });
  }
  load(Number(query.get('seq')) || 0);
}

// headVersion is the employer's version as the ledger knows it at sequence seq or later: the
// ETag of a HEAD, which carries no body (0 when it cannot be read).
async function headVersion(id, seq) {
  kz.employerChecks = (kz.employerChecks || 0) + 1;
  try {
    const res = await fetch('/v1/employers/' + encodeURIComponent(id) + '?min_seq=' + seq, { method: 'HEAD', headers: authHeaders(), cache: 'no-store' });
    // Not readable any more (transferred out of the clerk's counties): changed, as far as this
    // page can know; reading it again says so.
    if (res.status === 403 || res.status === 404) return Infinity;
    const m = res.ok && /^(?:W\/)?"(\d+)"$/.exec(res.headers.get('ETag') || '');
    return m ? Number(m[1]) : 0;
  } catch (e) {
    return 0;
  }
}

// follow answers a new sequence of the views: when it may concern the employer shown, the
// employer's version is checked, and a change is drawn (uncut) or announced (cut).
async function follow(seq) {
  if (!V.rendered || $('#employer-detail').hidden || $('#view-employer').hidden || seq <= Math.max(V.version, V.checked)) return;
  if (V.checking) { V.pending = Math.max(V.pending, seq); return; }
  V.checking = true;
  try {
    for (let want = seq; want > V.checked; want = V.pending) {
      V.checked = want;
      const id = V.id;
      const v = await headVersion(id, want);
      if (id !== V.id || v <= V.version) continue;
      if (v === Infinity) V.lost = id;
      if (isCut() && v !== Infinity) showNewer(v); else await load(want);
    }
  } finally {
    V.checking = false;
  }
}

// wireEmployer wires the replay's controls and the live updates.
export function wireEmployer() {
  $('#employer-cut').addEventListener('submit', ev => {
    ev.preventDefault();
    const cut = {};
    for (const k of CUTS) cut[k] = halfWidth($('#employer-cut [name="' + k + '"]').value);
    const target = hashOf(V.id, cut);
    if (location.hash === target) load(0); else location.hash = target;
  });
  $('#employer-change').addEventListener('click', () => deskOf && deskOf.open('change', { onCancel: () => $('#employer-change').focus() }));
  // The history may hold a hundred rows of links before the desk: a keyboard user skips them.
  $('#employer-skip').addEventListener('click', () => {
    const f = $('#desk-employer').querySelector('button:not([hidden]), input, select'); // a form not offered is a hidden tab
    if (f) f.focus();
  });
  $('#cut-reset').addEventListener('click', () => {
    const target = hashOf(V.id, {});
    if (location.hash === target) load(0); else location.hash = target;
  });
  document.addEventListener('kz-views', ev => follow(ev.detail.seq));
  // The statement of the dates asked, of the events the view shows (its through_seq cut).
  $('#employer-statement').addEventListener('submit', ev => {
    ev.preventDefault();
    const f = ev.target;
    const q = new URLSearchParams({ from: halfWidth(f.elements.from.value), to: halfWidth(f.elements.to.value) });
    if (V.cut.through_seq) q.set('through_seq', V.cut.through_seq);
    const name = 'statement-' + V.id + '-' + q.get('from') + '-' + q.get('to') + '.pdf';
    download('/v1/employers/' + encodeURIComponent(V.id) + '/statement.pdf?' + q, name, $('#statement-status'), f);
  });
}
