// The shell: sign-in, navigation (hash routes), theme, shortcuts, live connection banner, huddle invitations.
import { api, session, setUnauthorizedHandler, post, enc } from './api.js';
import { h, clear, toast } from './ui.js';
import * as live from './live.js';
import { startDevice, stopDevice, reannounce } from './device.js';
import { badge } from './presence.js';

const pages = {
  board: () => import('./pages/board.js'),
  status: () => import('./pages/status.js'),
  privacy: () => import('./pages/privacy.js'),
  ask: () => import('./pages/ask.js'),
  integrations: () => import('./pages/integrations.js'),
  admin: () => import('./pages/admin.js'),
};
const titles = { board: 'Board', status: 'My status', privacy: 'Privacy center', ask: 'Ask the available', integrations: 'Integrations', admin: 'Admin', signin: 'Sign in' };

const main = document.getElementById('main');
let cleanup = null;
let renderToken = 0;

// ---- theme: automatic (prefers-color-scheme), light or dark; remembered on this device
const themes = ['auto', 'light', 'dark'];
function applyTheme(t) {
  if (t === 'auto') delete document.documentElement.dataset.theme; else document.documentElement.dataset.theme = t;
  const b = document.getElementById('theme');
  b.setAttribute('aria-label', `Colour theme: ${t === 'auto' ? 'automatic' : t}. Change theme`);
  b.title = `Theme: ${t === 'auto' ? 'automatic' : t}`;
  b.textContent = t === 'light' ? '☀' : t === 'dark' ? '☾' : '◐';
}
applyTheme(localStorage.getItem('herald.theme') || 'auto');
document.getElementById('theme').addEventListener('click', () => {
  const t = themes[(themes.indexOf(localStorage.getItem('herald.theme') || 'auto') + 1) % themes.length];
  localStorage.setItem('herald.theme', t);
  applyTheme(t);
});

// ---- connection banner
let liveTimer;
live.onState((s, recovered) => {
  const el = document.getElementById('conn');
  clearTimeout(liveTimer);
  el.dataset.state = s;
  if (s === 'reconnecting') {
    clear(el, h('span.spinner', { 'aria-hidden': 'true' }), 'Reconnecting… live updates are paused; what you see may be out of date.');
  } else if (s === 'live' && recovered) {
    clear(el, 'Reconnected — up to date again.');
    reannounce();
    window.dispatchEvent(new Event('herald:recovered'));
    liveTimer = setTimeout(() => clear(el), 4000);
  } else {
    clear(el);
  }
});

// ---- huddle invitations (for me as an invitee), on every page
const invites = new Map();
function renderInvites() {
  const box = document.getElementById('invites');
  clear(box, [...invites.values()].map(hd => {
    const respond = async (response) => {
      try {
        const r = await post(`/api/v1/huddles/${enc(hd.id)}/respond`, { response });
        invites.set(hd.id, { ...hd, ...(r ?? {}) });
        toast(response === 'accept' ? 'You accepted the huddle.' : 'You declined the huddle.');
      } catch (e) { toast(e.message); }
      renderInvites();
    };
    const answered = hd.myResponse;
    return h('section.invite', { 'aria-label': `Huddle invitation: ${hd.topic}` },
      h('div.what', {}, h('strong', {}, `${hd.requester?.displayName ?? 'Someone'} asks for a huddle: `), hd.topic,
        h('div.hint', {}, `${hd.accepted} accepted · ${hd.declined} declined · ${hd.status}`, answered ? ` · you ${answered}` : '')),
      hd.status === 'open' ? [
        h('button.primary', { type: 'button', onclick: () => respond('accept') }, 'Accept'),
        h('button', { type: 'button', onclick: () => respond('decline') }, 'Decline'),
      ] : null,
      h('button.ghost', { type: 'button', 'aria-label': `Dismiss huddle ${hd.topic}`, onclick: () => { invites.delete(hd.id); renderInvites(); } }, '✕'));
  }));
}
live.onHuddle(e => {
  const hd = e.huddle;
  if (!hd || hd.invited) return; // the requester's view has "invited"; the Ask page shows that one
  if (e.type === 'huddle.invited' || invites.has(hd.id)) { invites.set(hd.id, hd); renderInvites(); }
});

// ---- sign-in and sign-out
function signedIn() { return !!session.get()?.token; }

async function signOut() {
  await stopDevice();
  live.stop();
  session.clear();
  invites.clear();
  renderInvites();
  location.hash = '#/signin';
  route();
}
setUnauthorizedHandler(() => { if (signedIn()) { toast('Your session ended. Please sign in again.'); signOut(); } });
window.addEventListener('herald:unauthorized', () => signOut());
document.getElementById('signout').addEventListener('click', signOut);

function renderSignIn() {
  document.title = 'Sign in · Herald';
  const user = h('input', { type: 'text', id: 'username', name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' });
  const pass = h('input', { type: 'password', id: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const out = h('p', { role: 'alert' });
  const button = h('button.primary', { type: 'submit' }, 'Sign in');
  const form = h('form', {
    onsubmit: async (ev) => {
      ev.preventDefault();
      button.disabled = true;
      out.textContent = '';
      try {
        const r = await api('POST', '/api/v1/auth/token', { username: user.value.trim(), password: pass.value });
        session.set({ token: r.accessToken, userId: r.userId, roles: r.roles, expiresAt: Date.now() + r.expiresIn * 1000 });
        location.hash = '#/board';
        boot();
      } catch (e) {
        out.className = 'error';
        out.textContent = e.status === 401 ? 'That username and password do not match.' : e.message;
        pass.select();
      } finally { button.disabled = false; }
    },
  },
  h('div.field', {}, h('label', { for: 'username' }, 'Username'), user),
  h('div.field', {}, h('label', { for: 'password' }, 'Password'), pass),
  button, out);
  clear(main, h('section.signin.panel', {},
    h('h1', { tabindex: '-1' }, 'Sign in to Herald'),
    h('p.lead', {}, 'See who is around and how to reach them — and decide who sees you.'),
    form,
    h('p.hint.demo', {}, 'Demo server (--demo): sign in as anna with the password demo-anna, or any other demo person the same way.')));
  user.focus();
}

// ---- routing
function parseHash() {
  const [path, query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  return { name: path || 'board', params: new URLSearchParams(query) };
}

// focus: move focus to the new page's heading (navigation by the user, not the first render).
async function route(focus = false) {
  const token = ++renderToken;
  cleanup?.();
  cleanup = null;
  const { name, params } = parseHash();
  const signed = signedIn();
  document.getElementById('nav').hidden = !signed;
  document.getElementById('signout').hidden = !signed;
  document.getElementById('me-chip').hidden = !signed;
  if (!signed || name === 'signin') {
    if (signed) { location.hash = '#/board'; return; }
    renderSignIn();
    return;
  }
  const s = session.get();
  const isStaff = s.roles?.includes('admin') || s.roles?.includes('auditor');
  document.querySelector('[data-admin]').hidden = !isStaff;
  const pageName = pages[name] ? name : 'board';
  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.route === pageName) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  document.title = `${titles[pageName]} · Herald`;
  const mod = await pages[pageName]();
  if (token !== renderToken) return;
  clear(main);
  const ctx = { me: s.userId, roles: s.roles || [], params, live };
  cleanup = (await mod.render(main, ctx)) || null;
  if (token !== renderToken) return;
  // Move focus to the page heading so keyboard and screen-reader users start at the top of the new page.
  const h1 = main.querySelector('h1');
  if (h1 && focus) { h1.setAttribute('tabindex', '-1'); h1.focus({ preventScroll: true }); }
}
window.addEventListener('hashchange', () => route(true));

// ---- my chip in the header (my own availability, live)
function renderChip() {
  const s = session.get();
  const chip = document.getElementById('me-chip');
  if (!s) return;
  const v = live.view(s.userId);
  clear(chip, badge(v?.availability ?? 'Unknown'), h('span.name', {}, s.userId));
  chip.setAttribute('aria-label', `Signed in as ${s.userId}`);
}
live.onPresence(v => { if (v.userId === session.get()?.userId) renderChip(); });

// ---- keyboard shortcuts: "/" search, "g" then b/s/p/a/i/m to go to a page; can be turned off
const goKeys = { b: 'board', s: 'status', p: 'privacy', a: 'ask', i: 'integrations', m: 'admin' };
let gPending = false;
window.addEventListener('keydown', (e) => {
  if (localStorage.getItem('herald.shortcuts') === 'off' || e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t.closest?.('input, textarea, select, [contenteditable], dialog')) return;
  if (!signedIn()) return;
  if (gPending) {
    gPending = false;
    if (goKeys[e.key]) { e.preventDefault(); location.hash = `#/${goKeys[e.key]}`; }
    return;
  }
  if (e.key === 'g') { gPending = true; setTimeout(() => { gPending = false; }, 1500); }
  else if (e.key === '/') { const s = document.getElementById('search'); if (s) { e.preventDefault(); s.focus(); } }
});

function boot() {
  const s = session.get();
  if (s?.token && s.expiresAt && s.expiresAt < Date.now()) session.clear();
  if (signedIn()) {
    live.start(session.get().userId);
    startDevice();
    renderChip();
  }
  route();
}
boot();
