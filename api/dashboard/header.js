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
  box.dataset.net = e && e.net ? '1' : ''; // cleared when the live stream is back (live.js)
  box.textContent = '出错 error: ' + (e && e.message ? e.message : String(e)) + (e && e.path ? ' (' + e.path + ')' : '');
  (e && e.net ? console.warn : console.error)(e); // an outage is no fault of the page
}

// clearError hides the error (with net, only one of the network), and says whether it did.
export function clearError(net) {
  const box = $('#error');
  if (box.hidden || (net && !box.dataset.net)) return false;
  box.hidden = true;
  return true;
}

// showHeader shows the date, the sequence and one state of the figures: caught up (live and
// current), catching up, or, while the live stream is down, possibly stale — never "caught up"
// beside "offline".
export function showHeader() {
  const c = S.counties;
  if (c) {
    $('#as-of').textContent = c.as_of;
    $('#period').textContent = c.period;
  }
  const live = S.live;
  // Under the employer page the tables are not read again (live.js): the header tells the
  // views' sequence the live stream announced, which the employer page follows.
  const seq = $('#view-dashboard').hidden && live ? Math.max(kz.seq, live.seq) : kz.seq;
  $('#seq').textContent = seq ? String(seq) : '—';
  const badge = $('#caught-up');
  let state = 'unknown';
  let text = '—';
  if (S.conn !== 'on') {
    state = live ? 'stale' : 'unknown';
    text = live ? '可能过时 may be stale' : '—';
  } else if (live) {
    state = live.caught_up && seq >= live.seq ? 'ok' : 'catching-up';
    text = state === 'ok' ? '已同步 caught up' : '追赶中 catching up' + (live.head ? ' (' + live.head + ')' : '');
  }
  badge.textContent = text;
  badge.className = 'badge ' + ({ ok: 'ok', 'catching-up': 'warn', stale: 'warn' }[state] || '');
  badge.dataset.caughtUp = state === 'ok' ? 'true' : 'false';
  badge.dataset.state = state;
}

export function setConn(state) {
  S.conn = state;
  const dot = $('#conn');
  dot.className = 'conn ' + state;
  dot.dataset.state = state;
  $('#conn-text').textContent = { on: '实时 live', connecting: '连接中 connecting', off: '已断开 offline', paused: '页面未显示，暂停 paused while the page is hidden' }[state];
  showHeader();
}

export function showScope() {
  const c = S.counties;
  let text = '—';
  if (c) {
    const n = c.counties.length;
    text = c.scope === 'city' ? '全市 all counties' : '可见 ' + n + ' 个区县 ' + n + (n === 1 ? ' county' : ' counties') + ' visible';
  }
  // The panels the token may not read, by their headings' Chinese names.
  const hidden = [...S.forbidden].map(id => {
    const h = document.querySelector('#' + CSS.escape(id) + ' h2');
    return h && h.firstChild ? h.firstChild.textContent.trim() : id;
  });
  if (hidden.length) text += ' · 无权查看 not shown: ' + hidden.join('、');
  $('#scope').textContent = text;
  $('#scope').title = getToken() ? 'bearer token set' : 'no token sent';
}

// The roles of the tokens file, in the page's words.
const ROLES = { clerk: '经办 clerk', auditor: '稽核 auditor', supervisor: '督查 supervisor', assessor: '考核 assessor', admin: '管理员 admin' };

// showPrincipal names who the token acts for: name, role, and the groups or counties it reads.
export function showPrincipal(p) {
  const who = $('#who');
  if (!p) return;
  const parts = [p.name, ROLES[p.role] || p.role];
  if (p.groups && p.groups.length) parts.push(p.groups.map(g => '第' + g + '组').join('、') + ' group' + (p.groups.length > 1 ? 's ' : ' ') + p.groups.join(', '));
  if (p.counties && p.counties.length) parts.push(p.counties.map(c => S.names[c] || c).join('、'));
  who.textContent = parts.join(' · ');
  who.dataset.role = p.role;
  who.dataset.name = p.name;
}
