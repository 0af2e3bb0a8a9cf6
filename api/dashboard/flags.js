// The accountability flags panel: a page of flags at a time, by county and kind.

import { api } from './api.js';
import { $, el } from './dom.js';
import { fmtInt, shortId } from './format.js';
import { panel } from './header.js';
import { FLAG_KINDS } from './labels.js';
import { countyName, S } from './state.js';

// wireFlags fills the kind menu and makes the menus and the pager reload the panel.
export function wireFlags() {
  for (const [k, v] of Object.entries(FLAG_KINDS)) $('#flags-kind').append(el('option', { value: k }, v));
  $('#flags-prev').addEventListener('click', () => { S.flagsPage = Math.max(1, S.flagsPage - 1); panel('panel-flags', loadFlags); });
  $('#flags-next').addEventListener('click', () => { S.flagsPage++; panel('panel-flags', loadFlags); });
  $('#flags-county').addEventListener('change', () => { S.flagsPage = 1; panel('panel-flags', loadFlags); });
  $('#flags-kind').addEventListener('change', () => { S.flagsPage = 1; panel('panel-flags', loadFlags); });
}

// fillCountySelect fills the county menu once, when the first county answer names them.
export function fillCountySelect() {
  const sel = $('#flags-county');
  if (sel.options.length > 1) return;
  for (const code of S.order) sel.append(el('option', { value: code }, countyName(code) + ' ' + code));
}

export async function loadFlags(minSeq) {
  const q = new URLSearchParams({ page: String(S.flagsPage) });
  if ($('#flags-county').value) q.set('county', $('#flags-county').value);
  if ($('#flags-kind').value) q.set('kind', $('#flags-kind').value);
  if (minSeq) q.set('min_seq', String(minSeq));
  const r = await api('/v1/flags?' + q);
  const d = r.data;
  const rows = (d.flags || []).map(f => el('tr', { 'data-county': f.county, 'data-kind': f.kind },
    el('td', { class: 'name' }, countyName(f.county)),
    el('td', null, FLAG_KINDS[f.kind] || f.kind),
    el('td', null, f.employer_id ? el('a', { href: '#/employer/' + f.employer_id, title: f.employer_id }, shortId(f.employer_id)) : '—'),
    el('td', { class: 'detail' }, f.detail || '')));
  if (!rows.length) rows.push(el('tr', { class: 'placeholder' }, el('td', { colspan: 4 }, '无标记 no flags')));
  $('#flags tbody').replaceChildren(...rows);
  const pages = Math.max(1, Math.ceil(d.total / d.page_size));
  $('#flags-total').textContent = '共 ' + fmtInt(d.total) + ' 条 ' + fmtInt(d.total) + ' flags';
  $('#flags-page').textContent = d.page + ' / ' + pages;
  $('#flags-prev').disabled = d.page <= 1;
  $('#flags-next').disabled = d.page >= pages;
}
