// Board: my contacts and teams with live presence, "how to reach", the "available now" filter, directory search
// and adding a contact (a subscription request).
import { get, put, del, enc } from '../api.js';
import { h, clear, field, dialog, toast } from '../ui.js';
import { badge, avatar, formatLocation, relative, activityText, time, CONTACT_KINDS, LABELS } from '../presence.js';

export async function render(main, ctx) {
  const { me, live } = ctx;
  const search = h('input', { type: 'search', id: 'search', placeholder: 'Name, id or e-mail', autocomplete: 'off' });
  const onlyAvailable = h('input', { type: 'checkbox', id: 'only-available', checked: sessionStorage.getItem('herald.onlyAvailable') === '1' });
  const results = h('div');
  const body = h('div', { 'aria-busy': 'true' }, h('p.empty', {}, 'Loading…'));
  clear(main,
    h('h1', {}, 'Board'),
    h('div.toolbar', {},
      field('Search the directory', search, 'Press / to jump here.'),
      h('label.check', { for: 'only-available' }, onlyAvailable, 'Available now only')),
    results, body);

  const rows = new Map(); // userId -> Set of row elements
  const cards = new Map(); // userId -> person card (name, team)
  let contacts = new Set();
  const pending = new Set(JSON.parse(sessionStorage.getItem('herald.pending') || '[]'));

  function personRow(id, opts = {}) {
    const li = h('li.person', { dataset: { user: id } });
    (rows.get(id) ?? rows.set(id, new Set()).get(id)).add(li);
    fillRow(li, id, opts);
    return li;
  }

  function fillRow(li, id, opts = li._opts ?? {}) {
    li._opts = opts;
    const card = cards.get(id);
    const v = live.view(id) ?? card?.presence;
    const name = card?.displayName ?? id;
    const a = v?.availability ?? 'Unknown';
    const loc = formatLocation(v?.location);
    const lastSeen = v?.lastSeen && (a === 'Offline' || a === 'OffWork') ? `last seen ${relative(v.lastSeen)}` : null;
    const isPending = pending.has(id) && a === 'Unknown';
    li.dataset.availability = a;
    li.hidden = onlyAvailable.checked && a !== 'Available' && !opts.always;
    clear(li,
      avatar(name, a),
      h('div.who', {},
        h('div.row', {}, h('span.name', {}, name), id === me ? h('span.tag', {}, 'you') : null, badge(a),
          v?.activity ? h('span.tag', {}, activityText(v.activity)) : null,
          isPending ? h('span.tag', {}, 'request pending') : null),
        v?.note ? h('div.note', {}, `“${v.note}”`, v.noteUntil ? h('span.hint', {}, ` until ${time(v.noteUntil)}`) : null) : null,
        h('div.meta', {},
          card?.team ? h('span', {}, card.team) : null,
          loc ? h('span', {}, `at ${loc}`) : null,
          lastSeen ? h('span', {}, lastSeen) : null,
          a === 'Unknown' && !isPending ? h('span', {}, 'not shared with you') : null)),
      h('div.actions', {},
        id !== me ? h('button', { type: 'button', 'aria-haspopup': 'dialog', onclick: () => showReach(id, name) }, 'How to reach', h('span.visually-hidden', {}, ` ${name}`)) : null,
        opts.addable && id !== me && !contacts.has(id)
          ? h('button', { type: 'button', onclick: (e) => addContact(id, name, e.currentTarget) }, 'Add contact', h('span.visually-hidden', {}, ` ${name}`)) : null,
        opts.removable ? h('button.ghost', { type: 'button', onclick: () => removeContact(id, name) }, 'Remove', h('span.visually-hidden', {}, ` ${name} from contacts`)) : null));
  }

  function refreshRows(id) { for (const li of rows.get(id) ?? []) if (li.isConnected) fillRow(li, id); }

  async function addContact(id, name, button) {
    button.disabled = true;
    try {
      const r = await put(`/api/v1/me/contacts/${enc(id)}`);
      contacts.add(id);
      if (r.subscription === 'Pending') {
        pending.add(id);
        sessionStorage.setItem('herald.pending', JSON.stringify([...pending]));
        toast(`${name} needs to approve your request. You will see them once they do.`);
      } else {
        toast(`${name} is now a contact.`);
      }
      live.accept(r.presence);
      live.watch([id]);
      await load();
    } catch (e) {
      toast(e.status === 403 ? `${name} does not accept requests from you.` : e.message);
      button.disabled = false;
    }
  }

  async function removeContact(id, name) {
    try { await del(`/api/v1/me/contacts/${enc(id)}`); contacts.delete(id); toast(`${name} removed from your contacts.`); await load(); } catch (e) { toast(e.message); }
  }

  async function showReach(id, name) {
    const list = h('ul.reach-list', { 'aria-live': 'polite' }, h('li', {}, 'Loading…'));
    const urgent = h('input', { type: 'checkbox', id: 'reach-urgent' });
    const again = h('p.hint');
    const load = async () => {
      try {
        const r = await get(`/api/v1/people/${enc(id)}/reach?urgency=${urgent.checked ? 'urgent' : 'normal'}`);
        clear(list, r.options.length ? r.options.map(o => h('li', {},
          h('div', {}, h('strong', {}, CONTACT_KINDS[o.method] ?? o.method), ': ', link(o.method, o.address)),
          h('div.hint', {}, o.reason))) : h('li', {}, 'No way to reach them is shared with you right now.'));
        clear(again, r.presence ? ['Now: ', LABELS[r.presence.availability] ?? r.presence.availability] : null,
          r.availableAgainAt ? ` · available again ${relative(r.availableAgainAt)} (${time(r.availableAgainAt)})` : null);
      } catch (e) { clear(list, h('li.error', {}, e.message)); }
    };
    urgent.addEventListener('change', load);
    dialog(`How to reach ${name}`, again, h('label.check', { for: 'reach-urgent' }, urgent, 'It is urgent'), list);
    load();
  }

  function section(title, ids, opts, extra) {
    const ul = h('ul.people', {}, ids.map(id => personRow(id, opts)));
    const headingId = `h-${title.replace(/\W+/g, '-').toLowerCase()}`;
    return h('section.panel', { 'aria-labelledby': headingId },
      h('div.section-head', {}, h('h2', { id: headingId }, title, ' ', h('span.count', {}, `(${ids.length})`)), extra),
      ids.length ? ul : h('p.empty', {}, opts.empty ?? 'Nobody here yet.'));
  }

  async function load() {
    const [people, teams, mine] = await Promise.all([
      get('/api/v1/people?limit=200'), get('/api/v1/teams'), get('/api/v1/me/contacts')]);
    for (const p of people) { cards.set(p.id, p); live.accept(p.presence); }
    for (const v of mine) live.accept(v);
    contacts = new Set(mine.map(v => v.userId));
    const missing = [...contacts].filter(id => !cards.has(id));
    for (const id of missing) { try { cards.set(id, await get(`/api/v1/people/${enc(id)}`)); } catch { /* left the directory */ } }
    const myTeam = cards.get(me)?.team;
    const ordered = [...teams].sort((a, b) => (b.id === myTeam) - (a.id === myTeam));
    rows.clear();
    clear(body,
      section('My contacts', [...contacts], { removable: true, empty: 'No contacts yet: search the directory above and add people.' }),
      ordered.map(t => section(t.name, people.filter(p => p.team === t.id).map(p => p.id), { addable: true },
        h('a.button', { href: `#/ask?team=${enc(t.id)}` }, 'Ask who’s available', h('span.visually-hidden', {}, ` in ${t.name}`)))));
    body.removeAttribute('aria-busy');
    live.watch([...rows.keys()]);
  }

  let searchTimer;
  let searchSeq = 0;
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(async () => {
      const q = search.value.trim();
      const seq = ++searchSeq;
      if (!q) { clear(results); return; }
      try {
        const found = await get(`/api/v1/people?q=${enc(q)}&limit=20`);
        if (seq !== searchSeq) return;
        for (const p of found) { cards.set(p.id, p); live.accept(p.presence); }
        clear(results, section(`Directory results for “${q}”`, found.map(p => p.id), { addable: true, always: true, empty: 'Nobody matches.' }));
        live.watch(found.map(p => p.id));
      } catch (e) { clear(results, h('p.error', {}, e.message)); }
    }, 200);
  });
  onlyAvailable.addEventListener('change', () => {
    sessionStorage.setItem('herald.onlyAvailable', onlyAvailable.checked ? '1' : '0');
    for (const [id] of rows) refreshRows(id);
  });

  const offPresence = live.onPresence(v => refreshRows(v.userId));
  const onRecovered = () => load().catch(() => {});
  window.addEventListener('herald:recovered', onRecovered);
  const tick = setInterval(() => { for (const [id] of rows) refreshRows(id); }, 60_000); // "last seen 5 minutes ago" ages
  try { await load(); } catch (e) { clear(body, h('p.error', {}, e.message)); }
  return () => { offPresence(); window.removeEventListener('herald:recovered', onRecovered); clearInterval(tick); clearTimeout(searchTimer); };
}

function link(kind, address) {
  const href = kind === 'Email' ? `mailto:${address}`
    : ['WorkPhone', 'Mobile', 'HomePhone'].includes(kind) ? `tel:${address.replace(/[^\d+]/g, '')}`
    : /^(https?|xmpp|sip):/i.test(address) ? address : null;
  return href ? h('a', { href }, address) : address;
}
