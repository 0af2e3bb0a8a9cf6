// One readable, bilingual line per event of an employer's history, from its payload as the API
// answers it (money in fen, shown in 元), and the time an event was recorded, in China. The
// line's words are kept here: labels.js names the codes (insurances, kinds, stages), not the
// sentences.

import { el } from './dom.js';
import { fmtInt, fmtYuan } from './format.js';
import { EVENT_TYPES, INDUSTRIES, INSPECTION_RESULTS, INSPECTION_SCOPES, INSURANCES, KINDS, OWNERSHIP_CODES, SECTORS, STAGES } from './labels.js';
import { countyName } from './state.js';

const FINDING_KINDS = { under_reported_base: '少报基数 under-reported base', missed_workers: '漏报人数 missed workers', unregistered: '未登记 unregistered' };
const WAIVER_KINDS = { late_fee: '滞纳金 late fee', principal: '本金 principal' };
const WAIVER_BASES = { bankruptcy: '破产 bankruptcy', court_ruling: '法院裁定 court ruling' };
const RISK = { 1: 'I', 2: 'II', 3: 'III' };

const yuan = fen => fmtYuan(fen || 0) + ' 元';
const ins = k => INSURANCES[k] || k;
const county = code => code ? countyName(code) + ' ' + code : '—';
const persons = n => fmtInt(n) + ' 人 persons';
const yesNo = b => b ? '是 yes' : '否 no';
// coded is a code with its name ("C 制造业 manufacturing"); "" (a change that clears it) is none.
export const coded = (table, code) => code ? code + ' ' + (table[code] || '') : '无 none';
export const sector = code => code ? SECTORS[code] || code : '无 none';

// attributes are a registration's facts of issue 18, as they were registered.
const attributes = p => [p.industry && '行业 industry ' + coded(INDUSTRIES, p.industry), p.sector && '重点行业 sector ' + sector(p.sector),
  p.ownership_code && '经济类型 ownership ' + coded(OWNERSHIP_CODES, p.ownership_code), p.park && '园区 park ' + p.park,
  p.agency && '劳务派遣 labour agency'];
// changed is what a change gives: only the fields it names, an emptied one as none.
const changed = (p, k, zh, en, f) => p[k] !== undefined && zh + ' ' + en + ' → ' + f(p[k]);

// rate is basis points as a percentage, in integer arithmetic: 2800 → "28%", 50 → "0.5%".
function rate(bp) {
  if (bp === null || bp === undefined) return '';
  const frac = String(Math.abs(bp) % 100).padStart(2, '0').replace(/0+$/, '');
  return (bp < 0 ? '-' : '') + Math.trunc(Math.abs(bp) / 100) + (frac ? '.' + frac : '') + '%';
}

// Each entry answers [lead words, details, items] for a payload: the lead is shown in bold, the
// details after it on one line, the items (an insurance line, an allocation) one a line below.
const LINES = {
  'employer.registered': p => ['登记 registered', [p.name, KINDS[p.kind] || p.kind, '区县 county ' + county(p.county),
    p.certificate_no && '证号 certificate ' + p.certificate_no, p.org_code && '代码 org code ' + p.org_code,
    p.credit_code && '信用代码 credit code ' + p.credit_code, '风险 risk ' + (RISK[p.risk_class] || p.risk_class),
    p.in_industrial_park && '园区内 in an industrial park', ...attributes(p)]],
  'employer.found': p => ['摸底发现 found (未登记 not registered)', [p.name, KINDS[p.kind] || p.kind, '区县 county ' + county(p.county),
    p.org_code && '代码 org code ' + p.org_code, p.in_industrial_park && '园区内 in an industrial park', ...attributes(p)]],
  'employer.registration_completed': p => ['补登记 registration completed', [p.certificate_no && '证号 certificate ' + p.certificate_no]],
  'employer.changed': p => ['变更 changed', [
    p.name !== undefined && '名称 name → ' + p.name, p.risk_class !== undefined && '风险 risk → ' + (RISK[p.risk_class] || p.risk_class),
    p.ownership !== undefined && '所有制 ownership → ' + p.ownership, p.in_industrial_park !== undefined && '园区内 in a park → ' + yesNo(p.in_industrial_park),
    changed(p, 'industry', '行业', 'industry', c => coded(INDUSTRIES, c)), changed(p, 'sector', '重点行业', 'sector', sector),
    changed(p, 'ownership_code', '经济类型', 'ownership', c => coded(OWNERSHIP_CODES, c)), changed(p, 'park', '园区', 'park', n => n || '无 none'),
    changed(p, 'agency', '劳务派遣', 'labour agency', yesNo)]],
  'survey.counted': p => ['摸底 survey', ['应参保 workforce ' + persons(p.workforce), p.migrants && '其中农民工 migrant workers ' + persons(p.migrants)]],
  'enrollment.recorded': p => ['参保 enrollment', [ins(p.insurance) + ' ' + persons(p.headcount), '自 from ' + p.effective_on,
    p.migrants && '其中农民工 migrant workers ' + persons(p.migrants), p.retirees && '另有退休人员 retirees besides ' + persons(p.retirees)]],
  'declaration.filed': p => ['申报 declaration ' + p.period, [total(p.lines), '缴费期限 due by ' + p.due_on], (p.lines || []).map(l =>
    ins(l.insurance) + ' ' + persons(l.headcount) + ' 基数 base ' + yuan(l.wage_base_fen) + ' × ' + rate(l.rate_bp) + ' → 应缴 due ' + yuan(l.due_fen))],
  'assessment.made': p => ['核定 assessment ' + p.period, [total(p.lines), p.reason && '理由 reason: ' + p.reason, '缴费期限 due by ' + p.due_on],
    (p.lines || []).map(l => ins(l.insurance) + ' 应缴 due ' + yuan(l.due_fen))],
  'opening_balance.recorded': p => ['期初欠费 opening balance', ['合计 total ' + yuan((p.lines || []).reduce((s, l) => s + (l.outstanding_fen || 0), 0))],
    (p.lines || []).map(l => l.period + ' ' + ins(l.insurance) + ' 欠 outstanding ' + yuan(l.outstanding_fen) + (l.due_on ? ' · 原期限 due by ' + l.due_on : ''))],
  'payment.received': p => ['缴费 payment ' + yuan(p.amount_fen), ['票据 receipt ' + p.receipt_no, !(p.allocations || []).length && '未指定冲抵，先还最早欠费 unallocated: oldest arrears first'],
    (p.allocations || []).map(a => '冲抵 allocated ' + a.period + ' ' + ins(a.insurance) + ' ' + yuan(a.amount_fen))],
  'payment.reversed': p => ['退票 payment reversed', ['票据 receipt ' + p.receipt_no, p.reason && '原因 reason: ' + p.reason]],
  'audit_finding.recorded': p => ['稽核发现 audit finding', [FINDING_KINDS[p.kind] || p.kind, p.period && p.period + ' ' + ins(p.insurance),
    p.extra_wage_base_fen && '少报基数 base +' + yuan(p.extra_wage_base_fen), p.extra_headcount && '漏报 +' + persons(p.extra_headcount),
    p.due_fen && '补缴 due ' + yuan(p.due_fen) + (p.rate_bp ? ' (' + rate(p.rate_bp) + ')' : ''), p.due_on && '原期限 due by ' + p.due_on,
    p.redeclare_by && '限期补报 redeclare by ' + p.redeclare_by]],
  'inspection.recorded': p => ['检查 inspection ' + (INSPECTION_RESULTS[p.result] || p.result), ['检查组 team ' + p.team,
    '范围 scope ' + (INSPECTION_SCOPES[p.scope] || p.scope), p.note && '说明 note: ' + p.note]],
  'waiver.granted': p => ['减免 waiver ' + (WAIVER_KINDS[p.kind] || p.kind) + ' ' + yuan(p.amount_fen), [p.period + ' ' + ins(p.insurance),
    p.accrued_fee_fen && '当时滞纳金 fee accrued then ' + yuan(p.accrued_fee_fen), '文件 authority ' + p.authority_doc,
    p.basis && '依据 basis ' + (WAIVER_BASES[p.basis] || p.basis), p.reason && '理由 reason: ' + p.reason]],
  'enforcement.step_recorded': p => ['执法 enforcement ' + (STAGES[p.step] || p.step), ['文书 document ' + p.doc_no, p.deadline && '期限 deadline ' + p.deadline]],
  'contracts.signed': p => ['劳动合同 contracts signed', [fmtInt(p.count) + ' 份 contracts']],
  'employer.transferred': p => ['转移 transfer', ['从 from ' + county(p.from) + ' 到 to ' + county(p.to)]],
  'employer.deregistered': p => ['注销 deregistration', [p.reason && '原因 reason: ' + p.reason]],
  'employer.reinstated': p => ['复业 reinstatement', [p.reason && '原因 reason: ' + p.reason]],
  'employer.org_code_corrected': p => ['代码更正 org code corrected', ['原 was ' + p.was + ' → ' + p.org_code,
    p.credit_code && '信用代码 credit code ' + (p.was_credit_code ? p.was_credit_code + ' → ' : '') + p.credit_code, p.reason && '原因 reason: ' + p.reason]],
  'event.voided': p => ['冲正 void of #' + p.event_seq, [(EVENT_TYPES[p.event_type] || p.event_type) + (p.event_on ? ' ' + p.event_on : '') + (p.event_actor ? ' · ' + p.event_actor : ''),
    p.reason && '原因 reason: ' + p.reason]],
  'credit.refunded': p => ['退费 refund ' + yuan(p.amount_fen), ['票据 receipt ' + p.receipt_no]],
};

// total is the due of a declaration's or an assessment's lines.
function total(ls) {
  return '合计 total ' + yuan(ls.reduce((s, l) => s + (l.due_fen || 0), 0));
}


const given = x => x !== null && x !== undefined && x !== false && x !== '' && x !== 0;

// describe is the readable text of one history event: a line of its lead words in bold and its
// details separated by " · ", then its items, one a line. A payload the server could not
// decode arrives as text and says so.
export function describe(ev) {
  const p = ev.payload;
  const f = LINES[ev.type];
  if (!f || !p || typeof p !== 'object') {
    return el('div', { class: 'ev-text' }, el('span', { class: 'ev-line' }, el('b', null, EVENT_TYPES[ev.type] || ev.type), typeof p === 'string' ? ' · 无法解读 not decoded' : ''));
  }
  const [lead, details, items] = f(p);
  const parts = details.filter(given);
  return el('div', { class: 'ev-text' }, el('span', { class: 'ev-line' }, el('b', null, lead), parts.length ? ' · ' + parts.join(' · ') : ''),
    items && items.length ? el('ul', { class: 'ev-items' }, ...items.map(i => el('li', null, i))) : null);
}

const chinaDate = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' });
const chinaClock = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });

// recorded is an RFC 3339 timestamp as the date and time in China: ["2006-12-31", "09:30:00"].
export function recorded(ts) {
  const d = new Date(ts);
  if (!ts || isNaN(d)) return ['—', ''];
  return [chinaDate.format(d), chinaClock.format(d)];
}
