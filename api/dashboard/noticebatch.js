// The county batch of arrears notices (县区批量催缴通知书), for auditors and admins (app.js loads
// this module only for those whose write families include `audit`, as the desk shows them the
// single notice): POST /v1/counties/{code}/notices {issued_on, deadline, overdue_days} with an
// Idempotency-Key made for the submission. While it runs, GET …/notices/progress with the same
// key is read every POLL_MS and its counts shown in an element with role=status; the answer, a
// zip of the PDFs and manifest.csv, is offered as notices-{code}-{issued_on}.zip with the count
// of X-Notice-Count, and warnings for the payers left out (X-Notice-Unprintable, X-Notice-Escalated,
// X-Notice-Left).
// A refusal is shown beside the field it names, or at the form's head. A batch
// that failed (a 5xx, a lost answer, or a refusal once it had begun) is offered a retry that
// sends the same body with the same key: the server answers the notices already issued and
// issues those left, never one twice.
//
// kz.noticeBatch says what the form sent ({key, code, retry, status, count}, one a POST), how
// often the progress was read, and the last progress shown, for a test to look at.

import { authHeaders, fetchAuthorized, jsonOf, refusalText } from './api.js';
import { addDays, clearErrors, offer } from './documents.js';
import { $, bi, el, halfWidth } from './dom.js';
import { fmtInt } from './format.js';
import { countyName, kz, S } from './state.js';

kz.noticeBatch = { posts: [], polls: 0, progress: null };

const POLL_MS = 300;

// A field the API may name, by the control it is shown beside (a county refused as not in force
// on issued_on is named `county`, an unknown one `code`).
const FIELDS = { code: 'code', county: 'code', issued_on: 'issued_on', deadline: 'deadline', overdue_days: 'overdue_days' };

const field = (name, id, zh, en, ctl, hint) => el('div', { class: 'cut-field' },
  el('label', { for: id }, ...bi(zh, en)), ctl, hint ? el('small', { id: id + '-hint' }, hint) : null,
  el('span', { class: 'field-error', id: id + '-error', 'data-error-for': name, role: 'alert' }));

const text = (name, id, attrs) => el('input', Object.assign({ type: 'text', id, name, inputmode: 'numeric', autocomplete: 'off', size: 11,
  'aria-describedby': id + '-error' }, attrs));

// progressText is a batch's progress in words: 已读取 r/N 户，应出具 E 份，已出具 i 份 (E is not
// known until every employer has been read).
function progressText(p) {
  const known = p.state !== 'running' || (p.employers > 0 && p.read >= p.employers);
  const eligible = known ? fmtInt(p.eligible) : '…';
  const zh = '已读取 ' + fmtInt(p.read) + '/' + fmtInt(p.employers) + ' 户，应出具 ' + eligible + ' 份，已出具 ' + fmtInt(p.issued) + ' 份';
  const en = 'read ' + fmtInt(p.read) + ' of ' + fmtInt(p.employers) + ' employers, ' + eligible + ' due a notice, ' + fmtInt(p.issued) + ' issued';
  const state = { running: '出具中 issuing…', done: '完成 done', failed: '未完成 failed' }[p.state] || p.state;
  return zh + ' · ' + en + ' · ' + state + (p.error ? ': ' + p.error : '');
}

// readProgress reads the batch's progress; null while the server has none (not begun yet, or a
// refusal before it began) or cannot be asked.
async function readProgress(job) {
  try {
    const res = await fetch('/v1/counties/' + encodeURIComponent(job.code) + '/notices/progress', {
      cache: 'no-store', headers: authHeaders({ 'Idempotency-Key': job.key }),
    });
    kz.noticeBatch.polls++;
    return res.ok ? await res.json() : null;
  } catch (e) {
    return null;
  }
}

// watch reads the progress every POLL_MS and hands each answer to show, until the function it
// answers is called; that resolves once no read is in flight (so none is shown after it).
function watch(job, show) {
  let stopped = false;
  let timer = 0;
  let wake = null;
  const loop = (async () => {
    while (!stopped) {
      await new Promise(resolve => { wake = resolve; timer = setTimeout(resolve, POLL_MS); });
      if (stopped) break;
      const p = await readProgress(job);
      if (p && !stopped) show(p);
    }
  })();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    if (wake) wake();
    await loop;
  };
}

// post sends the batch; a 401 asks for a token and sends it again with the same key.
function post(job) {
  return fetchAuthorized('/v1/counties/' + encodeURIComponent(job.code) + '/notices', { method: 'POST', body: job.body,
    headers: { 'Content-Type': 'application/json', Accept: 'application/zip, application/json', 'Idempotency-Key': job.key } });
}

// drawNoticeBatch puts the form under the publicity list's, its county one of those the table
// shows (the counties the principal reads), its dates the figures' business date and fifteen
// days after it.
export function drawNoticeBatch() {
  if ($('#notice-batch') || !S.counties) return;
  const asOf = S.counties.as_of || '';
  const county = el('select', { id: 'notice-batch-county', name: 'code', 'aria-describedby': 'notice-batch-county-error' });
  const fill = () => {
    const codes = (S.counties.counties || []).map(c => c.code);
    if (county.options.length === codes.length && Array.from(county.options).every((o, i) => o.value === codes[i])) return;
    const was = county.value;
    county.replaceChildren(...codes.map(c => el('option', { value: c }, countyName(c) + ' ' + c)));
    if (codes.includes(was)) county.value = was;
  };
  fill();
  county.addEventListener('focus', fill); // the table's counties as they stand when one is chosen
  const issuedOn = text('issued_on', 'notice-batch-issued-on', { placeholder: 'YYYY-MM-DD', value: asOf });
  const deadline = text('deadline', 'notice-batch-deadline', { placeholder: 'YYYY-MM-DD', value: asOf && addDays(asOf, 15) });
  const days = text('overdue_days', 'notice-batch-overdue-days', { size: 6, 'aria-required': 'true',
    'aria-describedby': 'notice-batch-overdue-days-error notice-batch-overdue-days-hint' });
  const submit = el('button', { type: 'submit', class: 'primary' }, ...bi('出具', 'issue'));
  const retry = el('button', { type: 'button', class: 'retry', hidden: true }, ...bi('重试（同一批次）', 'retry the same batch'));
  const status = el('span', { id: 'notice-batch-progress', class: 'batch-progress', role: 'status', 'aria-live': 'polite' });
  const problem = el('p', { class: 'form-error', role: 'alert', tabindex: -1 });
  const result = el('p', { class: 'form-document', 'aria-live': 'polite' });
  const form = el('form', { id: 'notice-batch', class: 'cut documents', novalidate: true },
    el('fieldset', null,
      el('legend', null, ...bi('县区批量催缴通知书', 'County batch of arrears notices (zip of PDFs)')),
      field('code', 'notice-batch-county', '区县', 'county', county),
      field('issued_on', 'notice-batch-issued-on', '签发日期', 'issued on', issuedOn),
      field('deadline', 'notice-batch-deadline', '限期', 'deadline', deadline),
      field('overdue_days', 'notice-batch-overdue-days', '逾期超过（天）', 'overdue more than (days)', days,
        '本金逾期超过此天数的单位各出具一份 a notice to each employer with principal overdue longer'),
      el('div', { class: 'cut-buttons' }, submit, retry, status)),
    problem, result);
  $('#publicity').after(form);

  let busy = false;
  let failed = null; // the batch that failed, {code, body, key, name}, for the retry button

  const showProgress = p => {
    kz.noticeBatch.progress = p;
    status.textContent = progressText(p);
    Object.assign(status.dataset, { state: p.state, employers: p.employers, read: p.read, eligible: p.eligible, issued: p.issued });
  };
  // refuse shows text beside the field named (the form's head for none) and focuses its control.
  const refuse = (name, text) => {
    const slot = FIELDS[name] && form.querySelector('[data-error-for="' + FIELDS[name] + '"]');
    if (!slot) { problem.textContent = (name ? name + ': ' : '') + text; problem.focus(); return; }
    slot.textContent = text;
    const ctl = form.elements[FIELDS[name]];
    ctl.setAttribute('aria-invalid', 'true');
    ctl.focus();
  };

  const run = async (job, again) => {
    busy = true;
    submit.disabled = true;
    retry.hidden = true;
    failed = null;
    form.setAttribute('aria-busy', 'true');
    clearErrors(form);
    problem.textContent = '';
    result.replaceChildren();
    status.replaceChildren('提交中 sending…');
    delete status.dataset.state;
    const sent = { key: job.key, code: job.code, retry: again, status: 0, count: null };
    kz.noticeBatch.posts.push(sent);
    // The server has listed the batch's payers: a refusal now may leave notices issued. (One
    // refused before, its dates in a closed year, lists none and is shown beside its field.)
    let begun = false;
    const stop = watch(job, p => { begun = begun || p.employers > 0; showProgress(p); });
    let res = null;
    let lost = null;
    try {
      res = await post(job);
      sent.status = res.status;
    } catch (e) {
      lost = e;
    }
    await stop();
    const last = await readProgress(job);
    if (last) { begun = begun || last.employers > 0; showProgress(last); } else if (!res || !res.ok) status.textContent = '';
    try {
      if (res && res.ok) {
        const blob = await res.blob();
        const count = Number(res.headers.get('X-Notice-Count') || 0);
        sent.count = count;
        const a = await offer({ blob, status: res.status, number: '', sha256: '' }, job.name, '下载 download ' + job.name);
        result.replaceChildren(...bi('已出具 ' + fmtInt(count) + ' 份通知书', count + ' notices issued'), ' · ', a);
        result.dataset.count = String(count);
        // Payers left out because their notice cannot be printed are listed in the zip only.
        const unprintable = Number(res.headers.get('X-Notice-Unprintable') || 0);
        result.dataset.unprintable = String(unprintable);
        if (unprintable > 0) {
          result.append(el('p', { class: 'warn' }, ...bi('另有 ' + fmtInt(unprintable) + ' 户欠费单位的通知书无法打印，未出具：见压缩包内 unprintable.csv',
            unprintable + ' payers in arrears got no notice, as it cannot be printed: see unprintable.csv in the zip')));
        }
        const escalated = Number(res.headers.get('X-Notice-Escalated') || 0);
        result.dataset.escalated = String(escalated);
        if (escalated > 0) {
          result.append(el('p', { class: 'warn' }, ...bi('另有 ' + fmtInt(escalated) + ' 户欠费单位的执行已进入通知书之后的阶段（稽核、曝光、强制征缴或申请法院执行），未出具通知书：见压缩包内 escalated.csv',
            escalated + ' payers in arrears, their case past a notice (inspection, exposure, forced collection or court), got none: see escalated.csv in the zip')));
        }
        // A retry whose dates are refused now (its year closed since the first try) answers the
        // notices recorded and issues no more: the payers no try reached are counted.
        const left = Number(res.headers.get('X-Notice-Left') || 0);
        result.dataset.left = String(left);
        if (left > 0) {
          result.append(el('p', { class: 'warn' }, ...bi('另有 ' + fmtInt(left) + ' 户本批次应出具的单位未出具：本批次的日期现已不被接受（如所在年度已结转），不再出具',
            left + ' payers the batch would have reached got no notice: its dates are refused now (their year closed, say), so no more are issued')));
        }
        a.focus();
        return;
      }
      const data = res ? await jsonOf(res) : null;
      const why = lost ? '网络错误 network error: ' + (lost.message || lost)
        : refusalText(data, 'HTTP ' + res.status);
      if (lost || res.status >= 500 || res.status === 408 || res.status === 429 || begun) {
        // Not finished: the same key makes the server finish it, issuing nothing twice.
        failed = job;
        retry.hidden = false;
        problem.textContent = why + (last && last.state === 'done'
          ? ' — 服务器已出具，答复未收到：请点“重试”取回（不会重复出具） the server finished the batch but its answer was lost: retry to fetch it (no notice is issued twice)'
          : ' — 批次未完成，请点“重试”完成（已出具的不会重复出具） the batch did not finish: retry it (no notice is issued twice)');
        retry.focus();
        return;
      }
      refuse(data && data.field, why);
    } finally {
      busy = false;
      submit.disabled = false;
      form.removeAttribute('aria-busy');
    }
  };

  form.addEventListener('submit', ev => {
    ev.preventDefault();
    if (busy) return;
    clearErrors(form);
    problem.textContent = '';
    const n = halfWidth(days.value);
    if (!/^\d+$/.test(n)) {
      refuse('overdue_days', '请填写不小于 0 的整数天数 a whole number of days, 0 or more');
      return;
    }
    const code = county.value;
    const on = halfWidth(issuedOn.value);
    const body = JSON.stringify({ issued_on: on || undefined, deadline: halfWidth(deadline.value) || undefined, overdue_days: Number(n) });
    // The same batch sent again after a failure keeps its key: the API finishes it instead of
    // issuing every notice a second time under new numbers.
    const key = failed && failed.code === code && failed.body === body ? failed.key : crypto.randomUUID();
    run({ code, body, key, name: 'notices-' + code + '-' + on + '.zip' }, false);
  });
  retry.addEventListener('click', () => { if (!busy && failed) run(failed, true); });
}
