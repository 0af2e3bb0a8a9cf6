// Building the page's elements.

export const $ = (sel, root) => (root || document).querySelector(sel);

// halfWidth is a date, month, number or code as typed, trimmed and in half width: a Chinese input
// method in full-width mode types ２００６－１２－０１ and １２３４５.
export const halfWidth = s => s.normalize('NFKC').trim();

export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') e.className = v;
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
