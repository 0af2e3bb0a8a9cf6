// The ledger's PDFs (notices, statements, receipts, the publicity list, the bulletin): fetched
// with the bearer token (a plain link would go without it, and a token in a URL is written to
// logs) and handed to the browser as a Blob URL with a file name, so that a document once fetched
// opens offline. A refusal comes back as JSON {error, field, detail} and is thrown as an ApiError,
// for the caller to show beside the field it names.
//
// kz.lastDocument says what was last offered ({name, size, sha256, number, url}), so that a test
// can read the bytes the page holds and compare them with the server's.

import { ApiError, fetchAuthorized, jsonOf, refusalText } from './api.js';
import { el } from './dom.js';
import { kz } from './state.js';

kz.documents = []; // the last KEEP offered
kz.documentsOffered = 0; // how many were offered in all
const KEEP = 20;

// headerText reads a header the API percent-encodes (a document's number is Chinese).
export function headerText(res, name) {
  const v = res.headers.get(name) || '';
  try { return decodeURIComponent(v); } catch (e) { return v; }
}

// fetchPDF reads path (GET, or the options' method and body) as a PDF: a 401 asks for a token
// and sends it again. Answers {blob, status, number, sha256, seq}.
export async function fetchPDF(path, opts) {
  opts = opts || {};
  const res = await fetchAuthorized(path, { method: opts.method, body: opts.body,
    headers: Object.assign({ Accept: 'application/pdf, application/json' }, opts.headers || {}) });
  const type = res.headers.get('Content-Type') || '';
  if (!res.ok || !type.startsWith('application/pdf')) {
    throw new ApiError(res.status, await jsonOf(res), path);
  }
  const blob = await res.blob();
  return {
    blob, status: res.status, number: headerText(res, 'X-Document-Number'),
    sha256: res.headers.get('X-Document-SHA256') || '', seq: Number(res.headers.get('X-Ledger-Seq') || 0),
  };
}

// hex is a buffer's bytes in lower-case hexadecimal.
const hex = buf => Array.from(new Uint8Array(buf), b => b.toString(16).padStart(2, '0')).join('');

// offer keeps doc's bytes (a PDF, or the zip of a county's notices) under a Blob URL and answers
// a link that saves them as name; the last offer is kz.lastDocument (its sha256 is the page's own hash of the bytes it holds).
export async function offer(doc, name, text) {
  const url = URL.createObjectURL(doc.blob);
  const rec = { name, status: doc.status, size: doc.blob.size, type: doc.blob.type, number: doc.number, header_sha256: doc.sha256, url, sha256: '' };
  Object.defineProperty(rec, 'blob', { value: doc.blob }); // the bytes (the page's CSP lets no fetch read a blob: URL)
  if (crypto.subtle) rec.sha256 = hex(await crypto.subtle.digest('SHA-256', await doc.blob.arrayBuffer()));
  kz.lastDocument = rec;
  kz.documents.push(rec);
  kz.documentsOffered++;
  // The page keeps the last KEEP documents' bytes (to open again offline); older ones are let go.
  for (const old of kz.documents.slice(0, -KEEP)) URL.revokeObjectURL(old.url);
  kz.documents.splice(0, Math.max(0, kz.documents.length - KEEP));
  return el('a', { href: url, download: name, class: 'document', 'data-document': name, type: doc.blob.type || 'application/pdf' }, text || name);
}

// save hands the browser doc's bytes as a download named name (and answers the link made).
export async function save(doc, name) {
  const a = await offer(doc, name);
  document.body.append(a);
  a.click();
  a.remove();
  return a;
}

// download fetches path and saves it as name, showing progress and refusals in status (an
// element with role=status); a refusal naming a field is shown in form's slot for it
// ([data-error-for]) and its control gets the focus. Answers the document, or null.
export async function download(path, name, status, form) {
  if (form) clearErrors(form);
  status.textContent = '下载中 downloading…';
  try {
    const doc = await fetchPDF(path);
    await save(doc, name);
    status.replaceChildren('已下载 downloaded ' + name + ' (' + doc.blob.size + ' B)');
    return doc;
  } catch (e) {
    status.textContent = '';
    showError(form, status, e);
    return null;
  }
}

export function clearErrors(form) {
  for (const s of form.querySelectorAll('.field-error')) s.textContent = '';
  for (const c of form.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
}

// showError puts a refusal beside the field it names in form, else in status.
export function showError(form, status, e) {
  const body = e instanceof ApiError ? e.body : null;
  const text = refusalText(body, (e && e.message) || String(e));
  const field = body && body.field;
  const slot = form && field && form.querySelector('[data-error-for="' + CSS.escape(field) + '"]');
  if (slot) {
    slot.textContent = text;
    const ctl = form.querySelector('[name="' + CSS.escape(field) + '"]');
    if (ctl) { ctl.setAttribute('aria-invalid', 'true'); ctl.focus(); }
    return;
  }
  status.textContent = '下载失败 download failed: ' + (field ? field + ': ' : '') + text;
}

// addDays is date (YYYY-MM-DD) plus n days, by the calendar (UTC: no time zone moves it).
export function addDays(date, n) {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

// yuanToFen reads a whole or two-decimal amount of 元 as fen, in integer arithmetic: "1,234.5"
// → 123450; anything else → null.
export function yuanToFen(text) {
  const m = /^(\d{1,13})(?:\.(\d{1,2}))?$/.exec(String(text).trim().replace(/[,，\s]/g, ''));
  if (!m) return null;
  return String(BigInt(m[1]) * 100n + BigInt((m[2] || '').padEnd(2, '0') || '0'));
}
