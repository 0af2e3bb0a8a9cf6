// A desk form's draft: what the clerk has typed, and its submission's key state (keys.js), kept
// in the tab's sessionStorage under the employer and the form, so that a reload of the page
// (by mistake, or to get past a stuck screen) loses neither the values nor a pending key: after
// a lost answer, the same values sent again after a reload are answered "already recorded",
// not recorded twice. A recording drops the draft; closing the tab drops them all.

const PREFIX = 'kz-draft:';
// lastSeq goes with the answered key: a void seen after a reload forgets it (desk.js).
const STATE = ['key', 'answered', 'answeredBody', 'answeredAt', 'unsure', 'lastSeq'];

// draftName is the storage name of the form key's draft for employer id ('' for none).
export const draftName = (id, key) => PREFIX + (id || '-') + ':' + key;

// keep saves formEl's values, its lines' row counts and its key state under name.
export function keep(formEl, name) {
  const values = {};
  for (const c of formEl.querySelectorAll('[data-path]:not([readonly])')) {
    if (c.matches('input, select')) values[c.dataset.path] = c.type === 'checkbox' ? c.checked : c.value;
  }
  const rows = {};
  for (const box of formEl.querySelectorAll('fieldset.lines')) rows[box.dataset.path] = box.querySelectorAll('.line-row').length;
  const state = {};
  for (const k of STATE) if (formEl.dataset[k]) state[k] = formEl.dataset[k];
  try {
    sessionStorage.setItem(name, JSON.stringify({ values, rows, state }));
  } catch (e) {
    // Storage full or refused: the form still works; only a reload would lose it.
  }
}

// kept reports whether a draft is kept under name.
export function kept(name) {
  try { return sessionStorage.getItem(name) !== null; } catch (e) { return false; }
}

// drop forgets the draft under name.
export function drop(name) {
  try { sessionStorage.removeItem(name); } catch (e) { /* nothing kept to drop */ }
}

// dropAll forgets every draft of the tab: another token is another clerk's desk, and a draft is
// what its clerk typed.
export function dropAll() {
  try {
    for (let i = sessionStorage.length - 1; i >= 0; i--) {
      const k = sessionStorage.key(i);
      if (k && k.startsWith(PREFIX)) sessionStorage.removeItem(k);
    }
  } catch (e) { /* nothing kept to drop */ }
}

// restore puts the draft under name back into formEl: its lines get their rows (each fieldset's
// setRows), then every control its value, announced as the clerk's input would be (a money
// field's yuan, a field shown only for some value); it answers whether there was a draft.
export function restore(formEl, name) {
  let d;
  try {
    d = JSON.parse(sessionStorage.getItem(name) || 'null');
  } catch (e) {
    d = null;
  }
  if (!d || typeof d !== 'object') return false;
  for (const [path, n] of Object.entries(d.rows || {})) {
    const box = formEl.querySelector('fieldset.lines[data-path="' + CSS.escape(path) + '"]');
    if (box && box.setRows && Number.isInteger(n) && n >= 0 && n <= 100) box.setRows(n);
  }
  for (const [path, v] of Object.entries(d.values || {})) {
    const c = formEl.querySelector('[data-path="' + CSS.escape(path) + '"]:not([readonly])');
    if (!c) continue;
    if (c.type === 'checkbox') c.checked = v === true; else c.value = String(v);
    c.dispatchEvent(new Event('input', { bubbles: true }));
    c.dispatchEvent(new Event('change', { bubbles: true }));
  }
  for (const k of STATE) if (d.state && typeof d.state[k] === 'string') formEl.dataset[k] = d.state[k];
  return true;
}
