// The plan's growth and the parks' audits, per county and for the total (一(二), 三(三)、(四)):
// pension's three rates against the baseline year's in percentage points, whether they grew
// together (同步增长), and the park payers inspected this year. A compact table under the county
// table, in its rows' order; "—" where the API gives null, or no baseline is in force. Each
// cell keeps its raw figure in data-value (growth in basis points).

import { $, el } from './dom.js';
import { fmtInt, fmtRate } from './format.js';

const RATES = [
  ['coverage_growth_bp', 'baseline_coverage_rate'],
  ['contribution_growth_bp', 'baseline_contribution_rate'],
  ['collection_growth_bp', 'baseline_collection_rate'],
];

// fmtPP is a growth in basis points as signed percentage points to one decimal, rounded half
// away from zero in integer arithmetic: 410 → "+4.1", −125 → "−1.3", 0 → "0.0".
export function fmtPP(bp) {
  if (bp === null || bp === undefined) return '—';
  const t = Math.floor((Math.abs(bp) + 5) / 10); // tenths of a point
  return (bp > 0 ? '+' : bp < 0 ? '−' : '') + Math.floor(t / 10) + '.' + (t % 10);
}

function cell(field, value, text, title) {
  const td = el('td', { class: 'num', 'data-field': field, 'data-value': value === null || value === undefined ? '' : String(value) }, text);
  if (title) td.title = title;
  return td;
}

function row(key, name, f) {
  const g = (f.insurances && f.insurances.pension && f.insurances.pension.growth) || null;
  const w = f.field_work || null;
  const tr = el('tr', { 'data-county': key }, el('th', { class: 'name', scope: 'row' }, name));
  for (const [k, base] of RATES) {
    tr.append(cell(k, g ? g[k] : null, fmtPP(g ? g[k] : null), g ? g.baseline_year + '年 baseline ' + fmtRate(g[base]) : null));
  }
  const s = typeof f.synchronised === 'boolean' ? f.synchronised : null;
  tr.append(el('td', { class: 'num sync', 'data-field': 'synchronised', 'data-value': s === null ? '' : String(s) },
    s === null ? '—' : el('span', { class: 'mark ' + (s ? 'ok' : 'bad'), 'aria-hidden': 'true' }, s ? '✓' : '✗'),
    s === null ? null : el('span', { class: 'sr-only' }, s ? '同步增长 synchronised' : '未同步增长 not synchronised')));
  const park = w && w.park_payers > 0;
  tr.append(cell('park_payers_inspected', w ? w.park_payers_inspected + '/' + w.park_payers : null,
    park ? fmtInt(w.park_payers_inspected) + '/' + fmtInt(w.park_payers) : '—'));
  tr.append(cell('park_audit_coverage_rate', w ? w.park_audit_coverage_rate : null, fmtRate(w ? w.park_audit_coverage_rate : null)));
  return tr;
}

// renderGrowth draws the table for the counties listed (in the county table's order) and the
// total, named as the county table names it, of a segment or of all payers ("").
export function renderGrowth(list, total, totalName, segment) {
  // A segment has no baseline year of its own: its growth is "—", and the note says why.
  $('#growth-note').hidden = !segment;
  $('#growth-body').replaceChildren(...list.map(c => row(c.code, c.name || c.code, c)));
  $('#growth-foot').replaceChildren(...(total ? [row('city', totalName, total)] : []));
  for (const tr of $('#growth-foot').rows) tr.className = 'total';
}
