// The page's header (as-of date, sequence, live connection, access) and its error box, and
// panel, which runs a panel's loader and shows what went wrong.

import { ApiError, getToken } from './api.js';
import { $ } from './dom.js';
import { kz, S } from './state.js';

// panel runs a panel's loader: a 403 hides the panel (the token's role may not read it), any
// other error is shown in it.
export async function panel(id, fn) {
  const p = document.getElementById(id);
  try {
    await fn();
    if (p) { p.hidden = false; p.classList.remove('failed'); }
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) {
      S.forbidden.add(id);
      if (p) p.hidden = true;
      showScope();
      return;
    }
    showError(e);
  }
}

export function showError(e) {
  const box = $('#error');
  box.hidden = false;
  box.textContent = '出错 error: ' + (e && e.message ? e.message : String(e)) + (e && e.path ? ' (' + e.path + ')' : '');
  console.error(e);
}

export function clearError() { $('#error').hidden = true; }

export function showHeader() {
  const c = S.counties;
  if (c) {
    $('#as-of').textContent = c.as_of;
    $('#period').textContent = c.period;
  }
  $('#seq').textContent = kz.seq ? String(kz.seq) : '—';
  const badge = $('#caught-up');
  const live = S.live;
  let ok = false;
  let text = '—';
  if (live) {
    ok = live.caught_up && kz.seq >= live.seq;
    text = ok ? '已同步 caught up' : '追赶中 catching up' + (live.head ? ' (' + live.head + ')' : '');
  }
  badge.textContent = text;
  badge.className = 'badge ' + (live ? (ok ? 'ok' : 'warn') : '');
  badge.dataset.caughtUp = ok ? 'true' : 'false';
}

export function setConn(state) {
  const dot = $('#conn');
  dot.className = 'conn ' + state;
  dot.dataset.state = state;
  $('#conn-text').textContent = { on: '实时 live', connecting: '连接中 connecting', off: '已断开 offline' }[state];
}

export function showScope() {
  const c = S.counties;
  let text = '—';
  if (c) {
    text = c.scope === 'city' ? '全市 all counties' : '可见 ' + c.counties.length + ' 个区县 ' + c.counties.length + ' counties visible';
  }
  if (S.forbidden.size) text += ' · 隐藏 hidden: ' + S.forbidden.size;
  $('#scope').textContent = text;
  $('#scope').title = getToken() ? 'bearer token set' : 'no token sent';
}
