// Over 500 lines for a reason: the desk's submission path (keys, retries, If-Match, errors beside
// fields, focus) is shared by every form.

// The desk: the forms of deskforms.js drawn for the token's role, posted to the write routes.
// Each submission carries an Idempotency-Key made once for it and kept across its retries (a
// network error, a 5xx, a 504 outcome_unknown), so a retry or a second click appends once; the
// button is disabled while a submission is in flight. The server checks every value; its error
// {field, detail} is shown beside the field it names and that field gets the focus. The page
// checks one thing itself: a whole number is sent digit for digit, or not at all (value). A
// retry whose values were edited after a lost answer is not a new entry by itself (unsureBox).
// A form the menu does not list (a void, about one event of the history) is opened with its
// event preset.

import { fetchAuthorized, jsonOf, refusalText } from './api.js';
import { headerText, offer } from './documents.js';
import { $, bi, el, halfWidth } from './dom.js';
import { formsFor } from './deskforms.js';
import { fmtYuanDigits } from './format.js';
import { draftName, drop, keep, kept, restore } from './drafts.js';
import { forget, forgetAnswer, keyFor, recordedAgain, settled } from './keys.js';
import { kz, S } from './state.js';

// written: the submissions recorded; moved: the county each payer this page transferred went to.
kz.desk = { submits: 0, written: [], moved: {} }; // what a test (or a curious clerk) may look at

let uid = 0;

// begun holds the forms drawn for the employer whose desk is shown (drawn or not), so that the
// page's own write from one of them moves the version the others were begun at.
const begun = new Set();

// wrote is the version this page's own latest write left its employer at: the page may not
// have read the employer again yet when the clerk begins the next form.
let wrote = { id: '', version: 0 };

// NONE is the value of a select's "none" choice (a field's `clear`), sent as "".
const NONE = '\u2205';

function input(f, path, form) {
  const id = 'f-' + form.key + '-' + path.replace(/[^a-z0-9]+/gi, '-') + '-' + (++uid);
  const errId = id + '-err';
  const shownId = id + '-shown';
  const attrs = { id, name: path, 'data-path': path, 'aria-describedby': errId + (f.kind === 'event' ? ' ' + shownId : ''), 'aria-required': f.req ? 'true' : null };
  let ctl;
  if (f.kind === 'event') {
    // Preset by whoever opened the form (drawDesk's open), sent as it is; focusable, so that a
    // refusal of the event can take the focus.
    ctl = el('input', Object.assign(attrs, { type: 'text', readonly: true, class: 'mono', autocomplete: 'off' }));
  } else if (f.kind === 'select') {
    const choices = f.options();
    ctl = el('select', attrs, (f.blank || !f.req) ? el('option', { value: '' }, f.unchanged ? '不变 unchanged' : '—') : null,
      f.clear ? el('option', { value: NONE }, '无（清除） none (clear)') : null, ...choices.map(([v, t]) => el('option', { value: v }, t)));
    if (f.name === 'county' && choices.length === 1) ctl.value = choices[0][0];
  } else if (f.kind === 'bool') {
    ctl = el('select', attrs, el('option', { value: '' }, '不变 unchanged'), el('option', { value: 'true' }, '是 yes'), el('option', { value: 'false' }, '否 no'));
  } else if (f.kind === 'check') {
    ctl = el('input', Object.assign(attrs, { type: 'checkbox' }));
  } else {
    const ph = { date: 'YYYY-MM-DD', month: 'YYYY-MM' }[f.kind] || f.hint || null;
    ctl = el('input', Object.assign(attrs, { type: 'text', inputmode: f.kind === 'int' ? 'numeric' : null, placeholder: ph, autocomplete: 'off' }));
  }
  ctl.dataset.kind = f.kind;
  const hint = f.money ? el('small', { class: 'yuan', 'aria-live': 'polite' }) : null;
  if (hint) ctl.addEventListener('input', () => { const v = typed(ctl, f.kind); hint.textContent = /^\d+$/.test(v) ? '= ' + fmtYuanDigits(v) + ' 元' : ''; });
  const shown = f.kind === 'event' ? el('small', { class: 'event-shown', id: shownId, 'data-shown-for': path }) : null;
  const label = el('label', { for: id }, ...bi(f.zh, f.en), f.req ? el('span', { class: 'req', title: '必填 required' }, ' *') : null);
  return el('div', { class: 'field' + (f.kind === 'check' ? ' check' : '') + (f.kind === 'event' ? ' event' : '') }, label, ctl, shown, hint,
    el('span', { class: 'field-error', id: errId, 'data-error-for': path, role: 'alert' }));
}

function linesBlock(f, form) {
  const errId = 'f-' + form.key + '-' + f.name + '-err-' + (++uid);
  const box = el('fieldset', { class: 'lines', 'data-path': f.name, 'aria-describedby': errId });
  const rows = el('div', { class: 'line-rows' });
  const renumber = () => Array.from(rows.children).forEach((row, i) => {
    for (const ctl of row.querySelectorAll('[data-item]')) {
      const path = f.name + '[' + i + '].' + ctl.dataset.item;
      ctl.name = path; ctl.dataset.path = path;
      row.querySelector('[data-error-for$=".' + ctl.dataset.item + '"]').dataset.errorFor = path;
    }
  });
  const add = () => {
    const row = el('div', { class: 'line-row' });
    for (const it of f.item) {
      const fld = input(it, f.name + '[0].' + it.name, form);
      const ctl = fld.querySelector('[data-path]');
      ctl.dataset.item = it.name;
      row.append(fld);
    }
    // Focus goes to the line after (or before) the one removed, or to "add a line": not the page's top.
    row.append(el('button', { type: 'button', class: 'link remove', onclick: () => {
      const near = row.nextElementSibling || row.previousElementSibling;
      row.remove(); renumber();
      (near ? near.querySelector('select, input') : box.querySelector('.add-line')).focus();
    } }, '删除 remove'));
    rows.append(row);
    renumber();
    return row;
  };
  for (let i = 0; i < (f.start || 0); i++) add();
  // setRows gives the block n rows, empty ones added at the end (a draft's restore).
  box.setRows = n => {
    while (rows.children.length > n) rows.lastElementChild.remove();
    while (rows.children.length < n) add();
  };
  box.append(el('legend', null, ...bi(f.zh, f.en)), rows,
    el('button', { type: 'button', class: 'add-line', onclick: () => { const r = add(); r.querySelector('select, input').focus(); } }, '+ 增加一行 add a line'),
    el('span', { class: 'field-error', id: errId, 'data-error-for': f.name, role: 'alert' }));
  return box;
}

// value reads one control as the API wants it: empty (or a check not ticked) → absent; a bool's
// choice → true or false; a select's "none" → ""; an int (or a select of numbers) → the JSON
// number its digits spell (Digits), never Number()'s reading of it: 100.00, 5e1, 1,000 or a
// run of 19 digits is refused beside its field (bad) before anything is sent, not rounded into
// a number the clerk did not type.
function value(ctl, spec, bad) {
  if (ctl.type === 'checkbox') return ctl.checked || undefined;
  const v = typed(ctl, spec.kind);
  if (v === '') return undefined;
  if (spec.kind === 'bool') return v === 'true';
  if (v === NONE) return '';
  if (spec.kind === 'int' || spec.number) {
    if (INT.test(v)) return new Digits(v);
    bad.push({ field: ctl.dataset.path, error: 'invalid', detail: (spec.zh ? spec.zh + ' ' : '') + (spec.en || spec.name) + '：须为整数，只含数字（可带负号），不带小数点、指数或逗号，至多 18 位 must be a whole number in digits (a minus sign allowed; no decimal point, exponent or commas; at most 18 digits): "' + v.slice(0, 40) + '" was not sent' });
    return undefined;
  }
  return v;
}

// typed is what the clerk typed in ctl, trimmed; dates, months, whole numbers and county codes
// in half width.
const HALF = new Set(['int', 'date', 'month', 'county']);
function typed(ctl, kind) {
  return HALF.has(kind) ? halfWidth(ctl.value) : ctl.value.trim();
}

// INT is an int field's text the desk sends: an optional minus sign and 1 to 18 digits (after
// any leading zeros).
const INT = /^-?0*\d{1,18}$/;

// Digits is a whole number as the clerk typed it, written into the JSON text by jsonText as the
// number literal of its digits (leading zeros dropped, which JSON does not allow).
class Digits {
  constructor(text) {
    const neg = text.startsWith('-');
    const d = text.replace(/^-/, '').replace(/^0+(?=\d)/, '');
    this.text = (neg && d !== '0' ? '-' : '') + d;
  }
}

const MARK = 'kz-digits-' + Math.random().toString(36).slice(2) + ':';
const MARKED = new RegExp('"' + MARK + '(-?\\d+)"', 'g');

// jsonText is body as JSON, each Digits its number literal, digit for digit.
function jsonText(body) {
  return JSON.stringify(body, (k, v) => v instanceof Digits ? MARK + v.text : v).replace(MARKED, '$1');
}

// bodyOf reads the form as the API's body; the values the page refuses go into bad.
function bodyOf(formEl, spec, bad) {
  const body = {};
  for (const f of spec.fields) {
    if (f.kind === 'lines') {
      const items = Array.from(formEl.querySelectorAll('fieldset[data-path="' + f.name + '"] .line-row')).map(row => {
        const o = {};
        for (const it of f.item) {
          const v = value(row.querySelector('[data-item="' + it.name + '"]'), it, bad);
          if (v !== undefined) o[it.name] = v;
        }
        return o;
      });
      if (items.length || f.req) body[f.name] = items;
      continue;
    }
    const ctl = formEl.querySelector('[data-path="' + f.name + '"]');
    const v = ctl.closest('.field').hidden ? undefined : value(ctl, f, bad);
    if (v !== undefined) body[f.name] = v;
  }
  return spec.body ? spec.body(body) : body;
}

// showWhen shows each field with `when` only while the field it names has the value it names.
function showWhen(formEl, spec) {
  for (const f of spec.fields.filter(x => x.when)) {
    const [name, want] = f.when;
    const on = formEl.querySelector('[data-path="' + CSS.escape(name) + '"]');
    const box = formEl.querySelector('[data-path="' + CSS.escape(f.name) + '"]').closest('.field');
    const sync = () => { box.hidden = on.value !== want; };
    on.addEventListener('change', sync);
    sync();
  }
}

// desks holds the menu's forms drawn (drawDesk's drawn) by the box of their desk. When the
// employer page has read the history anew, what stands may have come or gone since a period was
// typed: each offer of lines is checked again (offerLines). And a form whose recording has since
// been voided forgets that recording's key (a key still pending stays): the same values sent
// again are the entry made anew (README: record the event again), not a retry the server
// answers with the voided recording.
const desks = new Map();
document.addEventListener('kz-history', () => {
  for (const drawn of desks.values()) {
    for (const formEl of drawn.values()) {
      forgetVoided(formEl);
      for (const box of formEl.querySelectorAll('fieldset.lines')) if (box.offer) box.offer();
    }
  }
});

// forgetVoided forgets formEl's recording the history shows voided (also on drawing a draft:
// the history may be read first).
function forgetVoided(formEl) {
  const voided = new Set(((S.history && S.history.voided) || []).map(v => String(v.event_seq)));
  if (formEl.dataset.lastSeq && voided.has(formEl.dataset.lastSeq)) {
    forgetAnswer(formEl.dataset);
    delete formEl.dataset.lastSeq;
  }
}

// offerLines gives each lines field with `load` its button: shown while load.lines(the value of
// the field load.from) gives some lines (checked as that field is typed, and by the fieldset's
// offer), it makes the field's rows those lines, each value announced as the clerk's input
// would be (a money field's yuan, the draft), for the clerk to edit and submit.
function offerLines(formEl, spec) {
  for (const f of spec.fields.filter(x => x.load)) {
    const box = formEl.querySelector('fieldset[data-path="' + CSS.escape(f.name) + '"]');
    const from = formEl.querySelector('[data-path="' + CSS.escape(f.load.from) + '"]');
    const button = el('button', { type: 'button', class: 'load-lines', onclick: () => {
      const lines = f.load.lines(typed(from, from.dataset.kind));
      box.setRows(lines.length);
      box.querySelectorAll('.line-row').forEach((row, i) => {
        for (const [k, v] of Object.entries(lines[i])) {
          const c = row.querySelector('[data-item="' + CSS.escape(k) + '"]');
          c.value = v;
          c.dispatchEvent(new Event('input', { bubbles: true }));
          c.dispatchEvent(new Event('change', { bubbles: true }));
        }
      });
      box.querySelector('select, input').focus();
    } }, f.load.zh + ' ' + f.load.en);
    const note = f.load.note ? el('p', { class: 'form-note', role: 'note', hidden: true }) : null;
    const sync = () => {
      const v = typed(from, from.dataset.kind);
      button.hidden = !f.load.lines(v);
      if (note) {
        const text = f.load.note(v);
        note.hidden = !text;
        note.replaceChildren(...(text ? bi(text[0], text[1]) : []));
      }
    };
    box.querySelector('.add-line').after(button);
    if (note) box.before(note);
    from.addEventListener('input', sync);
    box.offer = sync;
    sync();
  }
}

function clearErrors(formEl) {
  for (const e of formEl.querySelectorAll('.field-error, .form-error')) e.textContent = '';
  const unsure = formEl.querySelector('.form-unsure');
  if (unsure) unsure.hidden = true;
  for (const c of formEl.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
  formEl.dataset.errorField = '';
  formEl.dataset.errorStatus = '';
}

// showProblem puts the API's error beside its field (or at the form's head) and focuses it.
function showProblem(formEl, status, err) {
  const field = (err && err.field) || '';
  const text = refusalText(err, 'HTTP ' + status);
  formEl.dataset.errorField = field;
  formEl.dataset.errorStatus = String(status);
  const slot = field && formEl.querySelector('[data-error-for="' + CSS.escape(field) + '"]');
  const ctl = field && formEl.querySelector('[data-path="' + CSS.escape(field) + '"]');
  if (slot) {
    slot.textContent = text;
    if (ctl && ctl.matches('input, select')) { ctl.setAttribute('aria-invalid', 'true'); ctl.focus(); return; }
    const first = ctl && ctl.querySelector('input, select, button');
    (first || slot).focus();
    return;
  }
  const head = formEl.querySelector('.form-error');
  head.textContent = (field ? field + ': ' : '') + text;
  head.focus();
}

// post sends one submission (body, its JSON text): a 401 asks for a token and sends it again
// (same key). A PDF answer (an arrears notice) is kept as {blob, number, sha256, seq} in data.pdf.
async function post(path, body, key, ifMatch) {
  const headers = { 'Content-Type': 'application/json', 'Idempotency-Key': key };
  if (ifMatch) headers['If-Match'] = '"' + ifMatch + '"';
  const res = await fetchAuthorized(path, { method: 'POST', body, headers });
  if (res.ok && (res.headers.get('Content-Type') || '').startsWith('application/pdf')) {
    const h = n => headerText(res, n);
    const pdf = { status: res.status, blob: await res.blob(), number: h('X-Document-Number'), sha256: h('X-Document-SHA256'), seq: Number(h('X-Ledger-Seq') || 0) };
    const etag = /^(?:W\/)?"(\d+)"$/.exec(h('ETag'));
    return { status: res.status, data: { seq: pdf.seq, version: etag ? Number(etag[1]) : pdf.seq, duplicate: res.status === 200, pdf } };
  }
  return { status: res.status, data: await jsonOf(res) };
}

// again is the button that sends a form's values, recorded already, as a new entry with a new key.
function again(formEl) {
  return el('button', { type: 'button', class: 'record-again', onclick: () => {
    forget(formEl.dataset);
    formEl.requestSubmit();
  } }, '这些内容已记录；确需另记一笔相同的，请点此 these values are recorded: record them again as a new entry');
}

// unsureBox is what the form says when the server refuses an edited form's retry with 422
// idempotency_mismatch: the submission before it, whose answer was lost, reached the server and
// may well be recorded, so the edited values are not sent under a fresh key by themselves (its
// key stays pending): the clerk checks the employer's history (reload, when there is an employer
// to reload) and may then submit the form as a new entry, with a new key.
function unsureBox(formEl, reload) {
  const newEntry = el('button', { type: 'button', class: 'new-entry', onclick: () => {
    forget(formEl.dataset);
    formEl.dataset.unsure = '';
    formEl.requestSubmit();
  } }, '作为新的一笔提交 submit as a new entry');
  const check = reload ? el('button', { type: 'button', class: 'reload-history', onclick: async () => {
    await reload();
    const h = document.getElementById('history');
    if (h) h.scrollIntoView({ block: 'start' });
  } }, '重新载入该单位的事件历史 reload the employer\'s history') : null;
  return el('div', { class: 'form-unsure', role: 'alert', hidden: true },
    el('p', null, ...bi('上一次提交的应答未收到，它可能已经记录；修改后的内容未记录。请先核对' + (reload ? '该单位的事件历史' : '单位查询') + '，确认未记录或确需另记一笔后，再作为新的一笔提交。',
      'The answer to the earlier submission was lost: it may already have been recorded, and the edited values were not recorded. Check ' + (reload ? 'the employer\'s history' : 'the employer search') + ' first; submit as a new entry only if it was not recorded or a second entry is meant.')),
    el('div', { class: 'buttons' }, check, newEntry));
}

// drawForm draws spec's form; preset (for a form opened from the history) gives values of its
// fields, what each shows beside its value, a note ([Chinese, English]) under its title, and
// what its close button (or Escape) does; reload
// (if any) reloads the employer's page. A form of the menu (no preset) keeps its draft across
// a reload of the page (drafts.js) until it is recorded.
function drawForm(spec, employerId, onWritten, preset, reload) {
  const formEl = el('form', { class: 'desk-form', 'data-form': spec.key, novalidate: true });
  if (employerId) begun.add(formEl);
  const button = el('button', { type: 'submit', class: 'primary' }, '提交 submit');
  const cancel = preset && preset.cancel ? el('button', { type: 'button', class: 'cancel', onclick: preset.cancel }, '关闭 close') : null;
  const status = el('p', { class: 'form-status', role: 'status' });
  // A form opened from the history may say what its entry will do that the clerk may not expect.
  const note = preset && preset.note ? el('p', { class: 'form-note', role: 'note' }, ...bi(preset.note[0], preset.note[1])) : null;
  formEl.append(el('h3', null, ...bi(spec.zh, spec.en)), ...(note ? [note] : []), el('p', { class: 'form-error', tabindex: -1, role: 'alert' }),
    ...spec.fields.map(f => f.kind === 'lines' ? linesBlock(f, spec) : input(f, f.name, spec)),
    el('div', { class: 'buttons' }, button, cancel), status, unsureBox(formEl, reload));
  for (const [name, v] of Object.entries((preset && preset.values) || {})) formEl.querySelector('[data-path="' + CSS.escape(name) + '"]').value = v;
  for (const [name, v] of Object.entries((preset && preset.shown) || {})) formEl.querySelector('[data-shown-for="' + CSS.escape(name) + '"]').textContent = v;
  for (const f of spec.fields) if (f.def) { const v = f.def(); if (v) formEl.querySelector('[data-path="' + CSS.escape(f.name) + '"]').value = v; }
  showWhen(formEl, spec);
  offerLines(formEl, spec);
  const result = spec.pdf ? el('p', { class: 'form-document', 'aria-live': 'polite' }) : null;
  if (result) formEl.append(result);
  if (cancel) formEl.addEventListener('keydown', ev => { if (ev.key === 'Escape') { ev.preventDefault(); preset.cancel(); } });
  const draft = preset ? null : draftName(employerId, spec.key);
  if (draft && restore(formEl, draft)) {
    forgetVoided(formEl);
    status.textContent = '已恢复此前填写而未记录的内容 what was typed here before, not yet recorded, is back';
    formEl.querySelector('.form-unsure').hidden = formEl.dataset.unsure !== 'true';
  }
  const save = () => { if (draft) keep(formEl, draft); };
  // The employer's version when the clerk began the form (or it was opened from the history),
  // sent as If-Match: a write from another tab or clerk meanwhile (a declaration of the same
  // period, a transfer) is not overwritten unsaid, but refused, 412, for the clerk to look first.
  const shownVersion = () => {
    const d = $('#employer-detail');
    if (!employerId || !d || d.dataset.employer !== employerId) return '';
    const v = Math.max(Number(d.dataset.version) || 0, wrote.id === employerId ? wrote.version : 0);
    return v ? String(v) : '';
  };
  if (preset) formEl.dataset.seen = shownVersion();
  formEl.addEventListener('input', () => {
    if (!formEl.dataset.seen) formEl.dataset.seen = shownVersion();
    // A value changed: what was asked or confirmed of the values before is not of these.
    delete formEl.dataset.asked;
    delete formEl.dataset.confirmed;
    save();
  });
  formEl.addEventListener('change', save);
  formEl.addEventListener('submit', async ev => {
    ev.preventDefault();
    if (formEl.dataset.busy === 'true') return; // a second click while the first is in flight
    formEl.dataset.busy = 'true';
    button.disabled = true;
    clearErrors(formEl);
    if (result) {
      // The document of an earlier submission is not this one's: a refusal must not leave it.
      result.replaceChildren();
      delete result.dataset.number;
      delete formEl.dataset.number;
    }
    const bad = [];
    const text = jsonText(bodyOf(formEl, spec, bad));
    if (bad.length) {
      // Refused here, nothing sent: each beside its field, the first one focused.
      status.textContent = '';
      for (const b of bad.reverse()) showProblem(formEl, 'page', b);
      formEl.dataset.busy = 'false';
      button.disabled = false;
      return;
    }
    // A form that asks first (a transfer) says what it will do, and sends these values only
    // from its own confirm button: a second click or Enter on the form asks again. Values
    // confirmed are sent again without asking (a retry after a lost answer or a refusal).
    const ask = spec.confirm && formEl.dataset.confirmed !== text && spec.confirm(JSON.parse(text));
    if (ask) {
      // The status (role=status) reads the question out; focus stays where the clerk typed, and
      // moves to the submit button once confirmed (the question, and its button, then go).
      // A question answers for the values it was asked of, and only until they change.
      formEl.dataset.asked = text;
      const confirm = el('button', {
        type: 'button', class: 'confirm primary',
        onclick: () => { if (formEl.dataset.asked === text) formEl.dataset.confirmed = text; button.focus(); formEl.requestSubmit(); },
      }, ...bi('确认提交', 'confirm'));
      status.replaceChildren(ask, ' ', confirm);
      formEl.dataset.busy = 'false';
      button.disabled = false;
      return;
    }
    // A recording's key is kept while the form holds its values (keys.js); a second entry is asked for.
    const repeat = !formEl.dataset.key && recordedAgain(formEl.dataset, text, Infinity);
    const key = keyFor(formEl.dataset, text, Infinity);
    save(); // the key before it is sent: a reload while the request is out keeps it
    let recorded = false;
    const path = '/v1/employers' + (spec.path ? '/' + encodeURIComponent(employerId) + '/' + spec.path : '');
    kz.desk.submits++;
    status.textContent = '提交中 sending…';
    try {
      const seen = spec.path ? (formEl.dataset.seen || shownVersion()) : '';
      const r = await post(path, text, key, seen);
      if (r.status >= 500 || r.status === 408 || r.status === 429) {
        status.textContent = '未确认，可重试（同一请求不会重复记录） not confirmed: submit again to retry (it will not be recorded twice)';
        showProblem(formEl, r.status, r.data);
        return;
      }
      if (r.status === 422 && r.data && r.data.error === 'idempotency_mismatch') {
        // The key's first submission reached the server with other values: keep the key, say so.
        status.textContent = '';
        formEl.dataset.unsure = 'true';
        const box = formEl.querySelector('.form-unsure');
        box.hidden = false;
        box.querySelector('button').focus();
        return;
      }
      formEl.dataset.unsure = '';
      if (r.status === 412) {
        // Nothing recorded, the key unused: the page reads the employer again, and the next
        // submission is checked against what it shows then.
        status.textContent = '';
        const head = formEl.querySelector('.form-error');
        head.textContent = '未记录：您填写期间该单位已有新的记录（其他页面或其他经办人）。请先查看下方事件历史，确认后再次提交。 Not recorded: the payer changed while this form was filled (another tab or clerk). Check its history below, then submit again.';
        formEl.dataset.errorStatus = '412';
        // The version now, as the ledger answers it (the page's reload may be overtaken by a
        // newer one, or not draw): the next submission is checked against it.
        try {
          const h = await fetchAuthorized('/v1/employers/' + encodeURIComponent(employerId), { method: 'HEAD' });
          const m = h.ok && /^(?:W\/)?"(\d+)"$/.exec(h.headers.get('ETag') || '');
          formEl.dataset.seen = m ? m[1] : '';
        } catch (e) {
          formEl.dataset.seen = '';
        }
        if (reload) await reload();
        if (!formEl.dataset.seen) formEl.dataset.seen = shownVersion();
        save();
        head.focus();
        return;
      }
      settled(formEl.dataset, text, r.status < 400);
      if (r.status >= 400) { status.textContent = ''; showProblem(formEl, r.status, r.data); return; }
      const w = r.data || {};
      recorded = true;
      delete formEl.dataset.seen; // the next entry is begun against the page as it is then
      // The other forms this page began at the same version see only this page's own change.
      if (employerId && w.version && !w.duplicate && (wrote.id !== employerId || w.version > wrote.version)) wrote = { id: employerId, version: w.version };
      if (seen && Number(w.version) > Number(seen)) {
        for (const f of begun) if (f !== formEl && f.dataset.seen === seen) f.dataset.seen = String(w.version);
      }
      kz.desk.written.push({ form: spec.key, key, seq: w.seq, duplicate: !!w.duplicate });
      if (spec.key === 'transfer') kz.desk.moved[employerId] = { county: halfWidth(JSON.parse(text).county), seq: w.seq };
      formEl.dataset.lastSeq = String(w.seq || '');
      status.textContent = (w.duplicate ? '已记录（重复提交未再记录） already recorded' : '已记录 recorded') + ' · seq ' + w.seq + ' · v' + w.version;
      if (w.duplicate && repeat) status.append(' ', again(formEl));
      if (w.pdf) {
        // The document the write printed: its number, and its bytes to open or save.
        formEl.dataset.number = w.pdf.number;
        const name = spec.pdf(employerId, w.pdf.number);
        const a = await offer(w.pdf, name, '打开 / 保存 PDF open / save the PDF');
        result.replaceChildren(...bi('文书号 ' + w.pdf.number, 'number ' + w.pdf.number), ' · ', a);
        result.dataset.number = w.pdf.number;
        a.focus();
      }
      onWritten(w);
    } catch (e) {
      status.textContent = '网络错误，可重试（同一请求不会重复记录） network error: submit again to retry (it will not be recorded twice)';
      formEl.querySelector('.form-error').textContent = '无法连接服务器 the server could not be reached (' + String(e && e.message || e) + ')';
    } finally {
      if (recorded && draft) drop(draft); else save();
      formEl.dataset.busy = 'false';
      button.disabled = false;
      // Disabled while the request was out, the button lost the focus to the page: it gets it
      // back, unless an answer put it elsewhere (a refused field, the document's link).
      if (!document.activeElement || document.activeElement === document.body) button.focus({ preventScroll: true });
    }
  });
  return formEl;
}

// drawDesk fills box with a menu of the forms the principal may use and the chosen form, and
// returns what opens a form the menu does not list: open(key, preset) shows it with preset's
// values (drawForm) and focuses its first field to fill; its close button shows the menu's form again
// and calls preset.onCancel. open answers false when the principal may not use the form. reload
// (if given) reloads the employer's page, for a clerk to check what was recorded. payer (the
// employer as read uncut, if any) hides the forms not offered for it (补办登记 of a payer
// registered), and so does the answer's offer(payer) as the payer is read again.
export function drawDesk(box, scope, employerId, onWritten, reload, payer) {
  const forms = formsFor(S.principal, scope);
  const listed = forms.filter(f => !f.opened);
  const offered = spec => !spec.offered || spec.offered(payer);
  if (employerId) begun.clear(); // another employer's forms are not this one's
  const area = el('div', { class: 'desk-area' });
  // The menu's form last chosen: at first, after a reload, the first one a draft waits in.
  let current = listed.find(spec => offered(spec) && kept(draftName(employerId, spec.key))) || listed.find(offered);
  // The menu's forms are drawn once: one half filled, or waiting on a lost answer's key, is as
  // the clerk left it after a look at another form. A form opened with a preset is drawn anew.
  const drawn = new Map();
  desks.set(box, drawn);
  const formOf = (spec, preset) => {
    if (preset) return drawForm(spec, employerId, onWritten, preset, reload);
    if (!drawn.has(spec.key)) drawn.set(spec.key, drawForm(spec, employerId, onWritten, undefined, reload));
    return drawn.get(spec.key);
  };
  const show = (spec, preset) => {
    for (const b of tabs.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.form === spec.key));
    area.replaceChildren(formOf(spec, preset));
    box.dataset.form = spec.key;
  };
  // A group, not a toolbar: a toolbar promises arrow keys between its buttons; each is a Tab stop.
  const tabs = el('div', { class: 'desk-tabs', role: 'group', 'aria-label': '录入 record' },
    ...listed.map(spec => el('button', { type: 'button', 'data-form': spec.key, onclick: () => { current = spec; show(spec); area.querySelector('input, select').focus(); } }, ...bi(spec.zh, spec.en))));
  const hideUnoffered = () => {
    for (const b of tabs.querySelectorAll('button')) b.hidden = !offered(listed.find(f => f.key === b.dataset.form));
  };
  hideUnoffered();
  box.hidden = listed.length === 0;
  box.replaceChildren(...(listed.length > 1 ? [tabs] : []), area);
  box.dataset.form = '';
  if (current) show(current);
  return {
    // offer shows the menu's forms offered for the payer as now read (uncut), another form in
    // place of one shown no longer offered (a form opened from the history stays open).
    offer(now) {
      payer = now;
      hideUnoffered();
      if (current && !offered(current)) {
        const shown = box.dataset.form === current.key;
        current = listed.find(offered);
        if (shown && current) show(current);
      }
    },
    open(key, preset) {
      const spec = forms.find(f => f.key === key && f.opened);
      if (!spec) return false;
      const back = () => {
        if (current) show(current); else { area.replaceChildren(); box.hidden = true; box.dataset.form = ''; }
        if (preset.onCancel) preset.onCancel();
      };
      show(spec, Object.assign({}, preset, { cancel: back }));
      box.hidden = false;
      const first = area.querySelector('input:not([readonly]), select');
      first.scrollIntoView({ block: 'center' });
      first.focus();
      return true;
    },
  };
}
