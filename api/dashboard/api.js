// Reading the API: the bearer token kept in sessionStorage, asked for on a 401.

import { $, bi } from './dom.js';
import { dropAll } from './drafts.js';
import { fmtYuanDigits } from './format.js';
import { ERRORS } from './labels.js';

export const TOKEN_KEY = 'kuozheng-token';

export class ApiError extends Error {
  constructor(status, body, path) {
    super(refusalText(body, 'HTTP ' + status));
    this.status = status;
    this.body = body;
    this.path = path;
  }
}

// refusalText words an error answer {error, detail} for the page: what kind of refusal it is in
// Chinese, the server's detail (English) and its code; fallback when the answer has none.
export function refusalText(body, fallback) {
  const name = body && ERRORS[body.error];
  // The server words amounts in fen; the page shows 元: each amount is given in both.
  // A whole number of fen (not the tail of 12.5, 310,000 or 1e5), its sign kept; no lookbehind,
  // which Safari before 16.4 cannot parse.
  const text = String((body && (body.detail || body.error)) || fallback).replace(/(^|[^\w.,])(-?)(\d+) fen\b/g, (m, pre, sign, n) => m + '（' + sign + fmtYuanDigits(n) + ' 元）');
  return (name ? name.split(' ')[0] + '：' : '') + text + (body && body.error ? ' [' + body.error + ']' : '');
}

export const sleep = ms => new Promise(r => setTimeout(r, ms));
export const getToken = () => sessionStorage.getItem(TOKEN_KEY) || '';

let tokenPrompt = null; // one prompt at a time, shared by every request that met a 401

// The reasons for asking for a token, in English, by their Chinese: both say the same.
const REASONS_EN = {
  '服务器要求访问令牌。': 'The server asks for a bearer token.',
  '令牌无效或已过期。': 'The token is not valid, or has expired.',
};

// askToken asks for a token, saying why in Chinese (zh) and in English (en, or the known
// reason's).
export function askToken(zh, en) {
  if (tokenPrompt) return tokenPrompt;
  const dlg = $('#token-dialog');
  zh = zh || '服务器要求访问令牌。';
  $('#token-reason').replaceChildren(...bi(zh, en || REASONS_EN[zh] || ''));
  $('#token-input').value = '';
  dlg.returnValue = '';
  tokenPrompt = new Promise(resolve => {
    const done = () => {
      // Only OK sends what was typed: Escape (a cancel) leaves the token as it was.
      const v = dlg.returnValue === 'ok' ? $('#token-input').value.trim() : '';
      if (v && v !== getToken()) dropAll();
      if (v) sessionStorage.setItem(TOKEN_KEY, v);
      dlg.removeEventListener('close', done);
      tokenPrompt = null;
      resolve(v);
    };
    dlg.addEventListener('close', done);
    if (!dlg.open) dlg.showModal();
    $('#token-input').focus();
  });
  return tokenPrompt;
}

export function authHeaders(extra) {
  const h = Object.assign({ Accept: 'application/json' }, extra || {});
  const tok = getToken();
  if (tok) h.Authorization = 'Bearer ' + tok;
  return h;
}

// reauthorize waits, after a 401 to a request sent with the token sent, until it may be sent
// again: at once when the token has changed since (another request's prompt was answered while
// this one was under way: asking again would ask for the token just given), else once a token is
// asked for.
export function reauthorize(sent, zh, en) {
  if (getToken() !== sent) return Promise.resolve();
  return askToken(zh || (sent ? '令牌无效或已过期。' : '服务器要求访问令牌。'), en);
}

// fetchAuthorized fetches path (init: method, body, headers) with the token, uncached: a 401
// asks for a token and sends the same request again (its Idempotency-Key too), three times at
// most. It answers the response.
export async function fetchAuthorized(path, init) {
  for (let attempt = 0; ; attempt++) {
    const sent = getToken();
    const res = await fetch(path, {
      method: init.method || 'GET', body: init.body, cache: 'no-store', headers: authHeaders(init.headers || {}),
    });
    if (res.status === 401 && attempt < 3) { await reauthorize(sent); continue; }
    return res;
  }
}

// postKeyed sends body (a JSON text) to path under an Idempotency-Key (fetchAuthorized). It
// answers the response and its JSON body (null when it has none).
export async function postKeyed(path, body, key) {
  const res = await fetchAuthorized(path, { method: 'POST', body, headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key } });
  return { res, data: await jsonOf(res) };
}

// jsonOf is a response's JSON body, or null when it has none (or none that parses).
export async function jsonOf(res) {
  try { return await res.json(); } catch (e) { return null; }
}

// api reads path as JSON: a 401 asks for a token and retries, a 503 for min_seq is retried.
export async function api(path, opts) {
  opts = opts || {};
  for (let attempt = 0; ; attempt++) {
    const sent = getToken();
    const res = await fetch(path, { method: opts.method || 'GET', headers: authHeaders(opts.headers), body: opts.body, cache: 'no-store' })
      .catch(e => { throw Object.assign(new Error('无法连接服务器 the server could not be reached (' + e.message + ')'), { net: true }); });
    if (res.status === 401 && attempt < 5) {
      await reauthorize(sent);
      continue;
    }
    if (res.status === 503 && res.headers.get('Retry-After') && attempt < 5) {
      await sleep(1000 * Number(res.headers.get('Retry-After') || 1));
      continue;
    }
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    if (!res.ok) throw new ApiError(res.status, data, path);
    return { data: data, seq: Number(res.headers.get('X-Ledger-Seq') || 0) };
  }
}
