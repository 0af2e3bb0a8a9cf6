// Building the page's elements.

export const $ = (sel, root) => (root || document).querySelector(sel);

// TITLE is the page's own title, which each view puts its name before.
export const TITLE = document.title;

// halfWidth is a date, month, number or code as typed, trimmed and in half width: a Chinese input
// method in full-width mode types ２００６－１２－０１ and １２３４５.
export const halfWidth = s => s.normalize('NFKC').trim();

export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') { e.className = v; if (v === 'en') e.lang = 'en'; } // read in an English voice
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

// bi is a bilingual label: the Chinese, then the English in a span the style sheet dims.
export function bi(zh, en) { return [zh + ' ', el('span', { class: 'en' }, en)]; }

const CONTROLS = 'a[href],button,input,select,textarea,summary,[tabindex="0"]';
const usable = x => !x.disabled && !x.hidden && !x.closest('[hidden]');
const controls = r => [...r.querySelectorAll(CONTROLS)].filter(usable);
// A row is a table's: a control inside it may carry the same data (a county's flags button).
const rowOf = x => x.closest('tr');
const keyOf = r => r ? r.dataset.seq || r.dataset.employer || r.dataset.county || '' : '';

// keepFocus draws box again with draw(): the control the user was on (another clerk's write, a
// refresh or the user's own click redraws it) is found again by its row's key, or its place, and
// its place in the row; else the box's first control. Focus never falls to the page's top, where
// the next Tab would begin again. Details open before are open again.
export function keepFocus(box, draw) {
  const a = document.activeElement;
  const open = [...box.querySelectorAll('details[open]')].map(d => keyOf(rowOf(d))).filter(Boolean);
  const inside = a && a !== box && box.contains(a);
  const key = inside ? keyOf(rowOf(a)) : '';
  // Its place in its row, and in the box: a row gone (a flag cleared) leaves the place near it.
  const inRow = key ? controls(rowOf(a)).indexOf(a) : -1;
  const inBox = inside ? controls(box).indexOf(a) : -1;
  const out = draw();
  for (const d of box.querySelectorAll('details')) if (open.includes(keyOf(rowOf(d)))) d.open = true;
  if (inside && !box.contains(document.activeElement)) {
    const row = key && [...box.querySelectorAll('tr')].find(r => keyOf(r) === key);
    const list = controls(row || box);
    let at = list[Math.min(Math.max(row ? inRow : inBox, 0), list.length - 1)];
    if (!at) { box.tabIndex = -1; at = box; }
    at.focus({ preventScroll: true });
  }
  return out;
}

// pager enables a pager's buttons for the page shown; the one in use that can no longer be used
// (the first or last page reached) gives the focus to the other, not to the page's top.
export function pager(prev, next, first, last) {
  const a = document.activeElement, p = $(prev), n = $(next);
  p.disabled = first;
  n.disabled = last;
  if (a === p && first && !last) n.focus();
  if (a === n && last && !first) p.focus();
}

// say puts parts in a live region only when they read otherwise: a region rewritten with the
// same words is read out again by a screen reader at every live update.
export function say(e, ...parts) {
  const n = el('span', null, ...parts);
  if (e.textContent !== n.textContent) e.replaceChildren(...n.childNodes);
}
