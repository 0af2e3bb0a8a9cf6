// Live updates: /v1/live announces each new sequence the views reach, and the page re-reads
// what it shows, in place, without a reload.

import { authHeaders, getToken, reauthorize, sleep } from './api.js';
import { loadSeries } from './charts.js';
import { loadCorrections } from './corrections.js';
import { loadCounties, renderCounties } from './counties.js';
import { loadFlags } from './flags.js';
import { loadFreezes } from './freezes.js';
import { clearError, panel, setConn, showHeader } from './header.js';
import { kz, S } from './state.js';
import { loadTargets } from './targets.js';

let refreshing = false;
let pendingSeq = 0;
let readAgain = false; // a read again at the page's sequence is asked for, not yet begun

// The charts and the corrections change little from one write to the next: each is read again
// at most once a window (kz.throttleMs), and a change within the window when it ends, so that
// the last write of a burst is never left out; a read that answers less than the page has seen
// (events that came while it was under way) is followed by another.
kz.throttleMs = 30000;
const pending = {}; // panel id → a read waits or is under way
const tried = {}; // panel id → when it was last asked for, answered or not
function throttled(id, readAt, load, seen) {
  if (pending[id]) return; // it reads this change too, or reads again after
  const read = async () => {
    if (boardHidden()) {
      // Not shown: read when it is (boardShown reads everything again).
      pending[id] = false;
      readAgain = true;
      return;
    }
    const want = kz.seq;
    tried[id] = Date.now();
    await panel(id, load);
    pending[id] = false;
    if (!S.forbidden.has(id) && (seen() < want || kz.seq > want)) throttled(id, readAt, load, seen);
  };
  // A window from the last read asked for, answered or not: a failing read is not asked again at once.
  const wait = Math.max(readAt(), tried[id] || 0) + kz.throttleMs - Date.now();
  pending[id] = true;
  if (wait <= 0) read();
  else setTimeout(read, wait);
}
let correctionsSeen = 0; // the page's sequence when the corrections were last asked for
async function readCorrections() {
  const want = kz.seq;
  await loadCorrections();
  correctionsSeen = want;
}

// A refresh begins at least kz.refreshGapMs after the one before began: under a stream of
// writes the page re-read its tables as fast as the server answered (up to five times a second,
// the live stream's pace), a few hundred kilobytes each time. Events within the gap are folded
// into the refresh at its end, so the last write of a burst is always shown.
kz.refreshGapMs = 1000;
kz.refreshHeld = false; // a refresh waits for the gap to pass
let refreshBegan = 0;
async function gap() {
  // Polled rather than slept whole, so that a shorter gap set meanwhile takes effect.
  while (Date.now() < refreshBegan + kz.refreshGapMs) {
    kz.refreshHeld = true;
    await sleep(Math.min(100, refreshBegan + kz.refreshGapMs - Date.now()));
  }
  kz.refreshHeld = false;
  refreshBegan = Date.now();
}

// refresh re-reads what the page shows, reflecting at least seq; calls during a refresh are
// folded into it. again re-reads once at the page's sequence too (a read that failed while the
// server was away). It goes on while each read moves the page on (under a stream of writes, a
// read a gap), and gives up after 5 reads in a row that did not; under the employer page the
// dashboard is not shown and nothing is read until it is (boardShown), not on each write of a
// clerk at the desk.
async function refresh(seq, again) {
  pendingSeq = Math.max(pendingSeq, seq);
  readAgain ||= !!again;
  if (refreshing || boardHidden()) return;
  refreshing = true;
  try {
    for (let stuck = 0; (readAgain || pendingSeq > kz.seq) && stuck < 5;) {
      await gap();
      if (boardHidden()) break;
      readAgain = false;
      const before = kz.seq;
      const want = pendingSeq;
      await panel('panel-counties', async () => {
        // The groups' totals too when the token reads them (a group chosen later shows them),
        // in the same answer: a group's row sums its counties'.
        await loadCounties(want, S.groups.length > 0);
        renderCounties(true);
      });
      kz.refreshes++;
      panel('panel-targets', () => loadTargets(want));
      panel('panel-flags', () => loadFlags(want));
      panel('panel-freezes', () => loadFreezes(want)); // a freeze made anywhere moves the sequence
      if (S.series) throttled('panel-charts', () => S.seriesAt, loadSeries, () => S.series.seq);
      // The corrections read the period's events as the stream holds them; not after a 403.
      if (!S.forbidden.has('panel-corrections')) throttled('panel-corrections', () => S.correctionsAt, readCorrections, () => correctionsSeen);
      stuck = kz.seq > before ? 0 : stuck + 1;
      if (kz.seq < want) await sleep(500); // the views answered an older sequence: try again
    }
  } finally {
    refreshing = false;
    showHeader();
  }
}

// boardHidden reports whether the dashboard's view is not shown (the employer page is).
function boardHidden() {
  return document.getElementById('view-dashboard').hidden;
}

// boardShown brings the dashboard, shown again, up to the last sequence announced.
export function boardShown() {
  showHeader();
  if (S.counties && (pendingSeq > kz.seq || readAgain)) refresh(pendingSeq);
}

// dispatch handles one server-sent event block; only `views` events matter.
function dispatch(block) {
  let type = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (!line || line.startsWith(':')) continue;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? '' : line.slice(i + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') type = value;
    else if (field === 'data') data.push(value);
  }
  if (type !== 'views' || !data.length) return;
  let ev;
  try { ev = JSON.parse(data.join('\n')); } catch (e) { return; }
  S.live = ev;
  kz.liveSeq = ev.seq;
  showHeader();
  document.dispatchEvent(new CustomEvent('kz-views', { detail: ev })); // for views that re-read on their own (employer.js)
  if (ev.seq > kz.seq && S.counties) refresh(ev.seq);
}

// shown resolves once the page is shown. A page not shown holds no stream: over plain HTTP a
// browser opens at most six connections to a server, and with a stream kept open by each of six
// pages every other request of theirs waited, a clerk's entry too. Shown again, the page
// connects again, and the stream's first event brings it up to date.
function shown() {
  if (!document.hidden) return Promise.resolve();
  setConn('paused');
  return new Promise(resolve => {
    const on = () => {
      if (document.hidden) return;
      document.removeEventListener('visibilitychange', on);
      resolve();
    };
    document.addEventListener('visibilitychange', on);
  });
}

// live reads the event stream through fetch rather than EventSource, which cannot send the
// bearer token, and reconnects with a growing delay; it lets the stream go while the page is
// not shown.
export async function live() {
  let backoff = 1000;
  for (;;) {
    await shown();
    setConn('connecting');
    const hidden = new AbortController();
    const hide = () => { if (document.hidden) hidden.abort(); };
    document.addEventListener('visibilitychange', hide);
    try {
      const sent = getToken();
      const res = await fetch('/v1/live?figures=none', { headers: authHeaders({ Accept: 'text/event-stream' }), cache: 'no-store', signal: hidden.signal });
      if (res.status === 401) {
        setConn('off');
        await reauthorize(sent, '实时更新需要令牌。', 'Live updates need a token.');
        continue;
      }
      if (res.status === 403) { setConn('off'); return; }
      if (!res.ok || !res.body) throw new Error('live: HTTP ' + res.status);
      setConn('on');
      if (clearError(true)) refresh(kz.seq, true);
      backoff = 1000;
      const reader = res.body.getReader();
      const dec = new TextDecoder();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        buf = buf.replace(/\r\n/g, '\n');
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          dispatch(buf.slice(0, i));
          buf = buf.slice(i + 2);
        }
      }
    } catch (e) {
      if (!hidden.signal.aborted) console.warn('live stream:', e);
    } finally {
      document.removeEventListener('visibilitychange', hide);
    }
    if (hidden.signal.aborted) continue; // not shown: wait to be, then connect at once
    setConn('off');
    await sleep(backoff);
    backoff = Math.min(backoff * 2, 15000);
  }
}
