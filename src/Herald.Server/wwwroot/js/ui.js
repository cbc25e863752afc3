// Small DOM helpers: everything user-provided goes in as text, never as HTML.

/** h('button.primary', {onclick}, 'Save') — creates an element; children are nodes or text. */
export function h(tag, attrs = {}, ...children) {
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name || 'div');
  if (classes.length) el.className = classes.join(' ');
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) { el.replaceChildren(); append(el, children); return el; }

let uid = 0;
export const nextId = (p = 'f') => `${p}-${++uid}`;

/** A labelled field: label + control (+ optional hint), linked by id. */
export function field(label, control, hint) {
  const id = control.id || (control.id = nextId());
  const hintEl = hint ? h('span.hint', { id: `${id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div.field', {}, h('label', { for: id }, label), control, hintEl);
}

export function select(options, value, attrs = {}) {
  const s = h('select', attrs);
  for (const o of options) {
    const [v, text] = Array.isArray(o) ? o : [o, o];
    s.append(h('option', { value: v, selected: String(v) === String(value) }, text));
  }
  return s;
}

let toastTimer;
export function toast(text) {
  const t = document.getElementById('toast');
  t.textContent = text;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.textContent = ''; }, 4000);
}

/** Runs an async action from a button: disables it meanwhile, reports errors in `out` (or a toast). */
export async function act(button, out, f) {
  if (button) button.disabled = true;
  if (out) out.textContent = '';
  try {
    return await f();
  } catch (e) {
    if (out) { out.className = 'error'; out.textContent = e.message; } else toast(e.message);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

/** A modal dialog; focus returns to the opener when it closes. */
export function dialog(title, ...content) {
  const opener = document.activeElement;
  const titleId = nextId('dlg');
  const d = h('dialog', { 'aria-labelledby': titleId },
    h('h2', { id: titleId }, title), ...content,
    h('div.row.end', {}, h('button', { type: 'button', onclick: () => d.close() }, 'Close')));
  d.addEventListener('close', () => { d.remove(); opener?.focus?.(); });
  document.body.append(d);
  d.showModal();
  return d;
}

/**
 * Tabs (WAI-ARIA tabs pattern): buttons with role=tab, arrow keys move between them, one panel shown.
 * `tabs` is [{id, label, render(panel)}]; a panel renders the first time it is shown.
 */
export function tabs(label, list, initial) {
  const bar = h('div.tabs', { role: 'tablist', 'aria-label': label });
  const wrap = h('div', {}, bar);
  const buttons = [];
  const panels = [];
  const rendered = new Set();
  const show = (i, focus) => {
    buttons.forEach((b, j) => { b.setAttribute('aria-selected', String(i === j)); b.tabIndex = i === j ? 0 : -1; panels[j].hidden = i !== j; });
    if (!rendered.has(i)) { rendered.add(i); list[i].render(panels[i]); }
    if (focus) buttons[i].focus();
    history.replaceState(null, '', location.hash.split('?')[0] + `?tab=${list[i].id}`);
  };
  list.forEach((t, i) => {
    const b = h('button', { type: 'button', role: 'tab', id: `tab-${t.id}`, 'aria-controls': `panel-${t.id}`, dataset: { tab: t.id },
      onclick: () => show(i),
      onkeydown: (e) => {
        const n = list.length;
        if (e.key === 'ArrowRight') { e.preventDefault(); show((i + 1) % n, true); }
        else if (e.key === 'ArrowLeft') { e.preventDefault(); show((i - 1 + n) % n, true); }
        else if (e.key === 'Home') { e.preventDefault(); show(0, true); }
        else if (e.key === 'End') { e.preventDefault(); show(n - 1, true); }
      } }, t.label);
    const p = h('section', { role: 'tabpanel', id: `panel-${t.id}`, 'aria-labelledby': `tab-${t.id}`, tabindex: '0' });
    buttons.push(b); panels.push(p); bar.append(b); wrap.append(p);
  });
  const start = Math.max(0, list.findIndex(t => t.id === initial));
  show(start);
  return wrap;
}
