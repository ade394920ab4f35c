// Tiny DOM helpers so views read as markup: h('p', {class: 'hint'}, 'text', child...).
// Attributes named on* become listeners; false/null attributes are left out.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

// A label + input + hint + error slot. Returns {wrap, input, setError}.
export function field({ id, label, type = 'text', value = '', hint, attrs = {} }) {
  const input = type === 'select'
    ? h('select', { id, name: id, ...attrs })
    : h('input', { id, name: id, type, value, ...attrs });
  const err = h('p', { class: 'field-error', id: `${id}-error`, hidden: true, role: 'alert' });
  input.setAttribute('aria-describedby', `${id}-error${hint ? ` ${id}-hint` : ''}`);
  const wrap = h('div', { class: 'field' },
    h('label', { for: id }, label), input,
    hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null, err);
  const setError = (msg) => {
    err.textContent = msg || '';
    err.hidden = !msg;
    if (msg) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid');
  };
  input.addEventListener('input', () => setError(''));
  return { wrap, input, setError };
}

// A message line that shows an ok/err notice or nothing.
export function notice() {
  const el = h('p', { class: 'notice', hidden: true, role: 'status' });
  el.show = (text, kind = 'err') => { el.textContent = text; el.className = `notice ${kind}`; el.hidden = !text; };
  el.clear = () => { el.hidden = true; el.textContent = ''; };
  return el;
}

// Runs fn with the button(s) disabled, so a request cannot be sent twice.
export async function busy(buttons, fn) {
  const list = [].concat(buttons);
  const was = list.map((b) => b.disabled);
  list.forEach((b) => { b.disabled = true; b.setAttribute('aria-busy', 'true'); });
  try { return await fn(); } finally {
    list.forEach((b, i) => { b.disabled = was[i]; b.removeAttribute('aria-busy'); });
  }
}

// Shows an ApiError: next to the field it names when there is one, else in the notice.
export function showError(e, fields, note) {
  const f = e.field && fields[e.field];
  if (f) { f.setError(e.message); f.input.focus(); if (note) note.clear(); }
  else if (note) note.show(e.message);
}
