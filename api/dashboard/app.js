// The supervisors' dashboard of the kuozheng ledger: plain JavaScript modules, no library, no
// build step, nothing fetched from anywhere but this server. This module wires the panels of
// the other modules to the page and loads them; labels.js is rendered by the server from the
// Go constants.

import { askToken, TOKEN_KEY } from './api.js';
import { loadSeries, wireCharts } from './charts.js';
import { loadCorrections, wireCorrections } from './corrections.js';
import { checkGroup, loadCounties, loadFigures, renderCounties, wireCounties } from './counties.js';
import { $, TITLE } from './dom.js';
import { dropAll } from './drafts.js';
import { redrawNames, showEmployer, wireEmployer } from './employer.js';
import { fillCountySelect, loadFlags, wireFlags } from './flags.js';
import { loadFreezes } from './freezes.js';
import { panel, showError, showHeader, showPrincipal } from './header.js';
import { boardShown, live } from './live.js';
import { fillSearchCounties, loadPrincipal, showResults, wireSearch } from './search.js';
import { S } from './state.js';
import { loadTargets, renderTargets } from './targets.js';
import { readViewState, writeViewState } from './viewstate.js';

// route shows the view the location's hash names: the dashboard, or the employer page with a
// search (#/employer?q=) or one employer (#/employer/{id}, ?seq=N after a write of sequence N,
// ?as_of=D&through_seq=N for a replay).
function route() {
  const h = location.hash || '#/';
  const m = h.match(/^#\/employer(?:\/([^/?]+))?(?:\?(.*))?$/);
  $('#view-dashboard').hidden = !!m;
  $('#view-employer').hidden = !m;
  $('#nav-dashboard').classList.toggle('current', !m);
  $('#nav-employer').classList.toggle('current', !!m);
  $(m ? '#nav-employer' : '#nav-dashboard').setAttribute('aria-current', 'page');
  $(m ? '#nav-dashboard' : '#nav-employer').removeAttribute('aria-current');
  // Each view its own title (an employer's, once read, names it: employer.js).
  document.title = (m ? (m[1] ? '单位 employer' : '单位查询 employers') : '看板 dashboard') + ' · ' + TITLE;
  if (!m) {
    // A dashboard link with another view (group, insurance, order) shows that view.
    if (readViewState(h) && S.counties) showView();
    boardShown();
    return;
  }
  showHeader();
  const query = new URLSearchParams(m[2] || '');
  if (m[1]) showEmployer(decodeURIComponent(m[1]), query);
  else showResults(query.has('q') ? query.get('q') : null).catch(showError);
}

// showView draws the dashboard for the state chosen (group, insurance, segment, orders),
// re-reading what depends on it, and puts that state in the location.
function showView() {
  if (S.groupsLoaded) checkGroup();
  $('#group').value = S.group;
  $('#insurance').value = S.ins;
  $('#segment').value = S.segment;
  // Another segment's figures are read afresh; until they come, the table shows the last ones.
  if (S.counties && (S.counties.segment || '') !== S.segment) panel('panel-counties', loadFigures);
  renderCounties(false);
  renderTargets();
  fillCountySelect();
  S.flagsPage = 1;
  panel('panel-flags', () => loadFlags(0));
  panel('panel-charts', loadSeries);
  writeViewState();
}

function wire() {
  wireCounties();
  wireFlags();
  wireCharts();
  wireCorrections();
  wireSearch(showError);
  wireEmployer();
  $('#group').addEventListener('change', e => {
    S.group = e.target.value;
    showView();
  });
  $('#segment').addEventListener('change', e => {
    S.segment = e.target.value;
    showView();
  });
  $('#employer-search').addEventListener('submit', e => {
    e.preventDefault();
    const q = $('#employer-q').value.trim();
    const target = '#/employer' + (q ? '?q=' + encodeURIComponent(q) : '');
    if (location.hash === target) route(); else location.hash = target;
  });
  // A new token (or none, cleared) reads the page again; Escape changes nothing and gives the
  // focus back to the button that opened the dialog.
  let cleared = false;
  $('#token-change').addEventListener('click', () => {
    cleared = false; // a clear in a prompt before (a 401's) is not this one's
    askToken('输入新的令牌（留空则不发送）。', 'Enter a new token (leave it empty to send none).')
      .then(v => { if (v || cleared) location.reload(); else $('#token-change').focus(); });
  });
  $('#token-clear').addEventListener('click', () => { cleared = true; sessionStorage.removeItem(TOKEN_KEY); dropAll(); $('#token-input').value = ''; $('#token-dialog').close(); });
  window.addEventListener('hashchange', route);
}

// noticeBatch draws the county batch of arrears notices for those who may issue notices (the
// desk's `audit` family: auditors and admins), its module loaded only for them.
function noticeBatch(p) {
  if (!p || !(p.writes || []).includes('audit')) return;
  import('./noticebatch.js').then(m => m.drawNoticeBatch()).catch(showError);
}

async function start() {
  if (!/^#\/employer/.test(location.hash)) readViewState(location.hash);
  wire();
  route();
  // The table first; the rest after it; the series (slow on a big ledger) last.
  await panel('panel-counties', async () => {
    // With the groups' totals, which check the group a link names.
    await loadCounties(0, true);
    S.groupsLoaded = true;
    redrawNames();
    renderCounties(false);
    fillSearchCounties();
    fillCountySelect();
    writeViewState();
  });
  loadPrincipal().then(p => { showPrincipal(p); noticeBatch(p); }).catch(e => console.warn('who the token acts for:', e));
  live();
  await Promise.all([
    panel('panel-targets', () => loadTargets(0)),
    panel('panel-flags', () => loadFlags(0)),
    panel('panel-freezes', loadFreezes),
    panel('panel-corrections', loadCorrections),
  ]);
  await panel('panel-charts', loadSeries);
}

// A module runs once the document is parsed (modules are deferred): the page's elements are there.
start();
