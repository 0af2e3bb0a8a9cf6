// The desk's forms, one entry a form: the write route it posts to (under the employer, or
// /v1/employers itself for a registration), the family of writes it belongs to (the list answer
// names the families the token may use: `employer` for clerks, `audit` for auditors) and its
// fields, named as the API names them. Nothing here checks a value: the server does, and its
// {field, detail} is shown beside the field of that name (but for an int's digits, which the
// page checks before it sends them: desk.js's value). To add a form, add an entry.
// A form with `opened` is not in the desk's menu: it is opened from the employer's page, the void
// from an event's row of the history with the event's id preset, the change from the employer's
// facts (drawDesk's open).

import { addDays } from './documents.js';
import { halfWidth } from './dom.js';
import { fmtYuan } from './format.js';
import { INDUSTRIES, INSPECTION_RESULTS, INSPECTION_SCOPES, INSURANCES, KINDS, OWNERSHIP_CODES, SECTORS, STAGES } from './labels.js';
import { S } from './state.js';

const opts = (table, codes) => (codes || Object.keys(table)).map(k => [k, table[k] || k]);
const list = pairs => pairs.map(([k, zh, en]) => [k, zh + ' ' + en]);

// Field kinds: text, date (YYYY-MM-DD, typed), month (YYYY-MM), int (an optional minus sign
// and up to 18 digits, sent as the JSON number of those digits; anything else is refused beside
// the field and not sent), select, check (true when ticked,
// else absent), bool (a choice of unchanged, yes or no: absent, true or false), lines (a list of
// rows of the `item` fields, sent as a JSON list), and event (an event's id, preset and
// read-only, shown with what the event is). A select with `unchanged` offers "unchanged" (absent)
// as its empty choice, with `clear` also "none" (sent as ""); a field with `when: [name, value]`
// is shown, and sent, only while the form's field `name` has that value. A lines field with
// `load: {from, zh, en, lines}` offers a button that fills its rows with lines(the value of the
// field `from`), shown while that gives some (nothing is sent until the clerk submits), and with
// `note` a note ([Chinese, English] of that value, or null) shown above its rows.
const date = (name, zh, en, req) => ({ name, kind: 'date', zh, en, req });
const insurance = { name: 'insurance', kind: 'select', zh: '险种', en: 'insurance', req: true, options: () => opts(INSURANCES) };
const int = (name, zh, en, req) => ({ name, kind: 'int', zh, en, req });
// coded lists a table's codes with their names: "C 制造业 manufacturing".
const coded = table => () => Object.keys(table).map(k => [k, k + ' ' + table[k]]);

// attributes are a payer's registration facts of issue 18, for a registration or (change) a
// change of them. The server checks them together: a sector lies in one industry section, a
// named park puts the payer in a park.
const attributes = change => [
  { name: 'industry', kind: 'select', zh: '行业门类', en: 'industry (GB/T 4754)', options: coded(INDUSTRIES), unchanged: change, clear: change },
  { name: 'sector', kind: 'select', zh: '重点行业', en: 'sector named by the plan', options: () => opts(SECTORS), unchanged: change, clear: change },
  { name: 'ownership_code', kind: 'select', zh: '经济类型', en: 'ownership code (GB/T 12402)', options: coded(OWNERSHIP_CODES), unchanged: change, clear: change },
  { name: 'park', kind: 'text', zh: '所在园区', en: 'industrial park', hint: change ? '不变 unchanged' : null },
  change ? { name: 'agency', kind: 'bool', zh: '劳务派遣或代理', en: 'labour agency' } : { name: 'agency', kind: 'check', zh: '劳务派遣或代理', en: 'labour agency' },
];

// standingLines is the lines (insurance, headcount, wage base; as the form's rows hold them) of
// the declaration of period that stands in the employer's history as the page last read it: of
// the declarations and assessments of the period not voided, the latest by date, the last
// recorded among equal dates. None (null) when none stands or an assessment does. A declaration
// replaces its period's whole and is refused (409 on lines) if it leaves out an insurance the
// standing one has a due for: a clerk correcting one line loads the others rather than typing
// them again.
function standingLines(period) {
  const h = S.history;
  if (!h || !/^\d{4}-\d{2}$/.test(period)) return null;
  const voided = new Set((h.voided || []).map(v => v.event_seq));
  let st = null;
  for (const ev of h.events || []) {
    const p = ev.payload || {};
    if ((ev.type !== 'declaration.filed' && ev.type !== 'assessment.made') || p.period !== period || voided.has(ev.seq)) continue;
    const on = p.declared_on || p.assessed_on;
    if (!st || on > st.on || (on === st.on && ev.seq > st.ev.seq)) st = { on, ev };
  }
  if (!st || st.ev.type !== 'declaration.filed') return null;
  return st.ev.payload.lines.map(l => ({ insurance: l.insurance, headcount: String(l.headcount), wage_base_fen: String(l.wage_base_fen) }));
}

// auditAdditions names period's audit additions to the base (not voided), which the ledger adds
// on top of any declaration: [Chinese, English], or null.
function auditAdditions(period) {
  const h = S.history;
  if (!h || !/^\d{4}-\d{2}$/.test(period)) return null;
  const voided = new Set((h.voided || []).map(v => v.event_seq));
  const base = {};
  for (const ev of h.events || []) {
    const p = ev.payload || {};
    if (ev.type !== 'audit_finding.recorded' || p.period !== period || voided.has(ev.seq) || !p.extra_wage_base_fen) continue;
    base[p.insurance] = (base[p.insurance] || 0) + p.extra_wage_base_fen;
  }
  const ins = Object.keys(base);
  if (!ins.length) return null;
  const zh = ins.map(i => (INSURANCES[i] || i) + ' ' + fmtYuan(base[i]) + ' 元').join('，');
  const en = ins.map(i => i + ' ' + fmtYuan(base[i]) + ' yuan').join(', ');
  return ['本期另有稽核补差基数（' + zh + '），账本将其加在任何申报之上：重新申报请填不含补差的基数，否则补差重复计入。',
    'This period carries audit additions to its base (' + en + ') that the ledger adds on top of any declaration: re-declare the base without them, or they count twice.'];
}

// today is the business date the page knows: the employer's as of (uncut), else the figures'.
const today = () => S.today || (S.counties && S.counties.as_of) || '';

export const FORMS = [
  {
    key: 'register', path: '', family: 'employer', zh: '登记缴费单位', en: 'Register a payer', scope: 'none',
    fields: [
      { name: 'name', kind: 'text', zh: '名称', en: 'name', req: true },
      { name: 'county', kind: 'select', zh: '区县', en: 'county', req: true, options: () => ((S.principal && S.principal.counties && S.principal.counties.length) ? S.principal.counties : S.order).map(c => [c, (S.names[c] || c) + ' ' + c]) },
      { name: 'kind', kind: 'select', zh: '类型', en: 'kind', req: true, options: () => opts(KINDS) },
      { name: 'org_code', kind: 'text', zh: '组织机构代码', en: 'org code', hint: 'XXXXXXXX-X' },
      { name: 'credit_code', kind: 'text', zh: '统一社会信用代码', en: 'credit code' },
      { name: 'ownership', kind: 'text', zh: '所有制', en: 'ownership' },
      { name: 'risk_class', kind: 'select', zh: '风险等级', en: 'risk class', req: true, options: () => [['1', 'I'], ['2', 'II'], ['3', 'III']], number: true },
      { name: 'in_industrial_park', kind: 'check', zh: '工业园区内', en: 'in an industrial park' },
      ...attributes(false),
      date('registered_on', '登记日期', 'registered on (holds a certificate)'),
      { name: 'certificate_no', kind: 'text', zh: '登记证号', en: 'certificate no' },
      date('found_on', '摸底发现日期', 'found on (not yet registered)'),
    ],
  },
  {
    // A payer the survey found unregistered (摸底未登记 on the worklist) registers: 补办登记.
    key: 'registration', path: 'registration', family: 'employer', zh: '补办登记', en: 'Complete the registration',
    offered: payer => !payer || !payer.registered,
    fields: [date('registered_on', '登记日期', 'registered on (holds a certificate)', true), { name: 'certificate_no', kind: 'text', zh: '登记证号', en: 'certificate no' }],
  },
  {
    key: 'survey', path: 'surveys', family: 'employer', zh: '摸底调查', en: 'Survey',
    fields: [date('as_of', '调查日期', 'as of', true), int('workforce', '应参保人数', 'workforce', true), int('migrants', '其中农民工', 'of whom migrant workers')],
  },
  {
    key: 'enrollment', path: 'enrollments', family: 'employer', zh: '参保', en: 'Enrollment',
    fields: [insurance, int('headcount', '人数', 'headcount', true), date('effective_on', '生效日期', 'effective on', true),
      int('migrants', '其中农民工', 'of whom migrant workers'),
      Object.assign(int('retirees', '另有退休人员', 'retirees besides (medical)'), { when: ['insurance', 'medical'] })],
  },
  {
    // A change of the registration's details: only the fields given change. Opened from the
    // employer's facts. "Not in a park" also clears the park's name (a named park puts the payer
    // in one).
    key: 'change', path: 'changes', family: 'employer', zh: '变更登记事项', en: 'Change of registration details', opened: 'facts',
    fields: [
      Object.assign(date('on', '变更日期', 'on', true), { def: () => today() }),
      { name: 'name', kind: 'text', zh: '名称', en: 'name', hint: '不变 unchanged' },
      { name: 'risk_class', kind: 'select', zh: '风险等级', en: 'risk class', options: () => [['1', 'I'], ['2', 'II'], ['3', 'III']], number: true, unchanged: true },
      { name: 'ownership', kind: 'text', zh: '所有制', en: 'ownership', hint: '不变 unchanged' },
      { name: 'in_industrial_park', kind: 'bool', zh: '工业园区内', en: 'in an industrial park' },
      ...attributes(true),
    ],
    body: b => (b.in_industrial_park === false && b.park === undefined ? Object.assign(b, { park: '' }) : b),
  },
  {
    key: 'declaration', path: 'declarations', family: 'employer', zh: '申报', en: 'Declaration',
    fields: [
      date('declared_on', '申报日期', 'declared on', true),
      { name: 'period', kind: 'month', zh: '所属期', en: 'period', req: true },
      { name: 'lines', kind: 'lines', zh: '险种明细', en: 'insurance lines', req: true, start: 1,
        load: { from: 'period', zh: '载入现有申报', en: 'load the standing lines', lines: standingLines, note: auditAdditions },
        item: [insurance, { name: 'headcount', kind: 'int', zh: '人数', en: 'headcount', req: true }, { name: 'wage_base_fen', kind: 'int', zh: '缴费基数（分）', en: 'wage base (fen)', req: true, money: true }] },
    ],
  },
  {
    // 核定: a period not declared is assessed at 110% of the period before (no lines given), or
    // with the lines an audit sets.
    key: 'assessment', path: 'assessments', family: 'employer', zh: '核定', en: 'Assessment',
    fields: [
      date('assessed_on', '核定日期', 'assessed on', true),
      { name: 'period', kind: 'month', zh: '所属期', en: 'period', req: true },
      { name: 'reason', kind: 'select', zh: '原因', en: 'reason', req: true,
        options: () => [['no_declaration', '未申报（按上期 110%） not declared (110% of the period before)'], ['audit', '稽核核定 by audit']] },
      { name: 'lines', kind: 'lines', zh: '险种明细（未申报：仅无上期时填写）', en: 'insurance lines (not declared: only when there is no period before; else 110% of it is set)', start: 0,
        item: [insurance, { name: 'due_fen', kind: 'int', zh: '应缴（分）', en: 'due (fen)', req: true, money: true }] },
    ],
  },
  {
    key: 'payment', path: 'payments', family: 'employer', zh: '缴费', en: 'Payment',
    fields: [
      date('paid_on', '缴费日期', 'paid on', true),
      { name: 'amount_fen', kind: 'int', zh: '金额（分）', en: 'amount (fen)', req: true, money: true },
      { name: 'receipt_no', kind: 'text', zh: '票据号', en: 'receipt no', req: true },
      { name: 'allocations', kind: 'lines', zh: '指定冲抵', en: 'allocations (optional)', start: 0,
        item: [insurance, { name: 'period', kind: 'month', zh: '所属期', en: 'period', req: true }, { name: 'amount_fen', kind: 'int', zh: '金额（分）', en: 'amount (fen)', req: true, money: true }] },
    ],
  },
  {
    key: 'reversal', path: 'payment-reversals', family: 'employer', zh: '缴费退票', en: 'Payment reversal',
    fields: [date('reversed_on', '退票日期', 'reversed on', true), { name: 'receipt_no', kind: 'text', zh: '票据号', en: 'receipt no', req: true }, { name: 'reason', kind: 'text', zh: '原因', en: 'reason', req: true }],
  },
  {
    key: 'refund', path: 'refunds', family: 'employer', zh: '退费', en: 'Refund',
    fields: [
      date('refunded_on', '退费日期', 'refunded on', true),
      { name: 'amount_fen', kind: 'int', zh: '金额（分）', en: 'amount (fen)', req: true, money: true },
      { name: 'receipt_no', kind: 'text', zh: '票据号', en: 'receipt no', req: true },
    ],
  },
  {
    key: 'deregistration', path: 'deregistration', family: 'employer', zh: '注销', en: 'Deregistration',
    fields: [date('on', '注销日期', 'on', true), { name: 'reason', kind: 'text', zh: '原因', en: 'reason', req: true }],
  },
  {
    key: 'reinstatement', path: 'reinstatement', family: 'employer', zh: '复业', en: 'Reinstatement',
    fields: [date('reinstated_on', '复业日期', 'reinstated on', true), { name: 'reason', kind: 'text', zh: '原因', en: 'reason', req: true }],
  },
  {
    // 转移: dated on or after the payer's latest transfer; dated on the day it entered the
    // ledger, it corrects a registration in the wrong county, every line moving with it.
    key: 'transfer', path: 'transfer', family: 'employer', zh: '转移', en: 'Transfer',
    fields: [date('on', '转移日期（登记错区县：登记日）', 'on (wrong county registered: the entry day)', true),
      { name: 'county', kind: 'county', zh: '转入区县代码', en: 'to county (6-digit code)', req: true, hint: '360702' }],
    // A transfer out of the clerk's counties takes the payer out of the clerk's reach, and only
    // an auditor's or an admin's void undoes it: the desk says where it goes first.
    confirm: body => {
      const code = halfWidth(String(body.county));
      const mine = (S.principal && S.principal.counties) || [];
      const out = mine.length > 0 && !mine.includes(code);
      const where = S.names[code] ? S.names[code] + '（' + code + '）' : code;
      return '请确认：将转至 ' + where + (out ? '，不在您的辖区：转出后您将无法查看或录入该单位，误转须由稽核或管理员冲正' : '') +
        '。核对无误请点击确认提交。 Confirm: the payer goes to ' + code + (out ? ', out of your counties: you will no longer see it or record for it, and a transfer made by mistake is voided by an auditor or an admin' : '') +
        '. Confirm to record it.';
    },
  },
  {
    // 代码更正: the organisation code (or credit code) was entered wrong. The payer keeps its id
    // and history; the code it leaves is free for its owner to register.
    key: 'orgcode', path: 'org-code', family: 'employer', zh: '代码更正', en: 'Correct the org code',
    fields: [
      { name: 'org_code', kind: 'text', zh: '正确的组织机构代码', en: 'correct org code', hint: 'XXXXXXXX-X' },
      { name: 'credit_code', kind: 'text', zh: '正确的统一社会信用代码', en: 'correct credit code (if it has one)' },
      Object.assign(date('corrected_on', '更正日期', 'corrected on', true), { def: () => today() }),
      { name: 'reason', kind: 'text', zh: '原因', en: 'reason', req: true },
    ],
  },
  {
    // 历年欠费: arrears carried over from before the payer entered the ledger, a line a period.
    key: 'opening', path: 'opening-balances', family: 'employer', zh: '历年欠费', en: 'Opening balance',
    fields: [
      date('as_of', '截至日期', 'as of', true),
      { name: 'lines', kind: 'lines', zh: '欠费明细（登记前的所属期）', en: 'lines (periods before the payer entered)', req: true, start: 1,
        item: [{ name: 'period', kind: 'month', zh: '所属期', en: 'period', req: true }, insurance, { name: 'outstanding_fen', kind: 'int', zh: '欠费本金（分）', en: 'principal owed (fen)', req: true, money: true }] },
    ],
  },
  {
    key: 'finding', path: 'audit-findings', family: 'audit', zh: '稽核发现', en: 'Audit finding',
    fields: [
      date('found_on', '发现日期', 'found on', true),
      { name: 'kind', kind: 'select', zh: '类型', en: 'kind', req: true, options: () => list([['under_reported_base', '少报基数', 'under-reported base'], ['missed_workers', '漏报人数', 'missed workers'], ['unregistered', '未登记', 'unregistered']]) },
      { name: 'period', kind: 'month', zh: '所属期', en: 'period', req: true },
      insurance,
      { name: 'extra_wage_base_fen', kind: 'int', zh: '少报基数（分）', en: 'extra wage base (fen)', money: true },
      { name: 'extra_headcount', kind: 'int', zh: '漏报人数', en: 'extra headcount' },
      date('redeclare_by', '限期补报', 'redeclare by', true),
    ],
  },
  {
    // An inspection (稽核/检查), recorded whether or not it found anything; what it found is
    // recorded as audit findings of their own.
    key: 'inspection', path: 'inspections', family: 'audit', zh: '检查', en: 'Inspection',
    fields: [
      Object.assign(date('on', '检查日期', 'on', true), { def: () => today() }),
      { name: 'team', kind: 'text', zh: '检查组', en: 'team', req: true },
      { name: 'scope', kind: 'select', zh: '范围', en: 'scope', req: true, options: () => opts(INSPECTION_SCOPES) },
      { name: 'result', kind: 'select', zh: '结果', en: 'result', req: true, options: () => opts(INSPECTION_RESULTS) },
      { name: 'note', kind: 'text', zh: '说明', en: 'note' },
    ],
  },
  {
    key: 'waiver', path: 'waivers', family: 'audit', zh: '减免', en: 'Waiver',
    fields: [
      date('decided_on', '决定日期', 'decided on', true),
      { name: 'kind', kind: 'select', zh: '类型', en: 'kind', req: true, options: () => list([['late_fee', '滞纳金', 'late fee'], ['principal', '本金', 'principal']]) },
      { name: 'authority_doc', kind: 'text', zh: '批准文件', en: 'authority document', req: true },
      { name: 'reason', kind: 'text', zh: '理由', en: 'reason', req: true },
      { name: 'basis', kind: 'select', zh: '依据', en: 'basis (principal only)', blank: true, options: () => list([['bankruptcy', '破产', 'bankruptcy'], ['court_ruling', '法院裁定', 'court ruling']]) },
      insurance,
      { name: 'period', kind: 'month', zh: '所属期', en: 'period', req: true },
      { name: 'amount_fen', kind: 'int', zh: '金额（分）', en: 'amount (fen)', req: true, money: true },
    ],
  },
  {
    key: 'enforcement', path: 'enforcement', family: 'audit', zh: '执法步骤', en: 'Enforcement step',
    fields: [
      { name: 'step', kind: 'select', zh: '步骤', en: 'step', req: true, options: () => opts(STAGES).filter(([k]) => k !== 'none' && k !== 'closed') },
      date('on', '日期', 'on', true),
      { name: 'doc_no', kind: 'text', zh: '文书号', en: 'document no', req: true },
      date('deadline', '期限', 'deadline (notice only)'),
    ],
  },
  {
    // An arrears notice (责令限期缴纳通知书): the server numbers and prints it and records the
    // step "notice"; its answer is the PDF, offered with its number (pdf names the file). The
    // dates default to the page's business date and fifteen days after it.
    key: 'notice', path: 'notices', family: 'audit', zh: '责令限期缴纳通知书', en: 'Arrears notice',
    pdf: (id, number) => 'notice-' + number + '.pdf',
    fields: [
      Object.assign(date('issued_on', '签发日期', 'issued on', true), { def: () => today() }),
      Object.assign(date('deadline', '限期', 'deadline', true), { def: () => today() && addDays(today(), 15) }),
    ],
  },
  {
    // Which events the principal may void is the server's rule (a money event needs an auditor
    // or admin who did not record it): its refusal is shown beside the event.
    key: 'void', path: 'voids', family: 'void', zh: '冲正', en: 'Void an event', opened: 'history',
    fields: [
      { name: 'event_id', kind: 'event', zh: '被冲正事件', en: 'event voided', req: true },
      date('voided_on', '冲正日期', 'voided on', true),
      { name: 'reason', kind: 'text', zh: '原因', en: 'reason', req: true },
    ],
  },
];

// formsFor lists the forms the principal's write families allow, for an employer (scope
// 'employer') or for none (a registration).
export function formsFor(principal, scope) {
  const writes = (principal && principal.writes) || [];
  return FORMS.filter(f => writes.includes(f.family) && (f.scope || 'employer') === scope);
}
