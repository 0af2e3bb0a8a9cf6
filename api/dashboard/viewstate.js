// The dashboard's view in the location: #/?ins=medical&group=1&seg=park&sort=-recovered_fen&fsort=age…,
// so that a link, a bookmark or a reload shows what was on the screen. Only what differs from
// the defaults is written; the hash is replaced, not pushed, so the back button leaves the page
// rather than stepping through every click.

import { INSURANCES, SEGMENTS } from './labels.js';
import { S } from './state.js';

const DEFAULT_INS = 'pension';
const DEFAULT_FLAG_SORT = 'amount';
const FLAG_SORTS = ['amount', 'age', 'county'];

// readViewState sets the page's state from a dashboard hash; it says whether anything changed.
export function readViewState(hash) {
  const i = hash.indexOf('?');
  const p = new URLSearchParams(i < 0 ? '' : hash.slice(i + 1));
  const before = JSON.stringify([S.ins, S.group, S.segment, S.sort, S.flagsQuery]);
  // What a hand-made link gets wrong falls back to the default rather than breaking a panel.
  S.ins = INSURANCES[p.get('ins')] ? p.get('ins') : DEFAULT_INS;
  S.group = p.get('group') || '';
  S.segment = SEGMENTS[p.get('seg')] ? p.get('seg') : '';
  const sort = p.get('sort') || '';
  S.sort = sort ? { key: sort.replace(/^-/, ''), dir: sort.startsWith('-') ? -1 : 1 } : { key: null, dir: 1 };
  S.flagsQuery = { county: p.get('fcounty') || '', kind: p.get('fkind') || '', q: p.get('fq') || '', sort: FLAG_SORTS.includes(p.get('fsort')) ? p.get('fsort') : DEFAULT_FLAG_SORT };
  return JSON.stringify([S.ins, S.group, S.segment, S.sort, S.flagsQuery]) !== before;
}

// viewHash is the hash of the dashboard as it is now.
export function viewHash() {
  const p = new URLSearchParams();
  if (S.ins !== DEFAULT_INS) p.set('ins', S.ins);
  if (S.group) p.set('group', S.group);
  if (S.segment) p.set('seg', S.segment);
  if (S.sort.key) p.set('sort', (S.sort.dir < 0 ? '-' : '') + S.sort.key);
  const f = S.flagsQuery;
  if (f.county) p.set('fcounty', f.county);
  if (f.kind) p.set('fkind', f.kind);
  if (f.q) p.set('fq', f.q);
  if (f.sort !== DEFAULT_FLAG_SORT) p.set('fsort', f.sort);
  const q = p.toString();
  return '#/' + (q ? '?' + q : '');
}

// writeViewState puts the view in the location (while the dashboard is shown) and in the
// dashboard's link, which then brings the same view back from the employer page.
export function writeViewState() {
  const h = viewHash();
  const nav = document.getElementById('nav-dashboard');
  if (nav) nav.setAttribute('href', h);
  if (!/^#\/employer/.test(location.hash) && location.hash !== h && !(h === '#/' && !location.hash)) {
    history.replaceState(history.state, '', h);
  }
}
