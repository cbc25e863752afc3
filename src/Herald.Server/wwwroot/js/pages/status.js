// My status: quick picks with expiry, a note with expiry, my devices and integrations, and why I appear as I do.
import { get, put, del, enc } from '../api.js';
import { h, clear, field, select, toast, act } from '../ui.js';
import { badge, icon, activityText, formatLocation, time, relative } from '../presence.js';

const HOUR = 3600_000;
const endOfToday = () => { const d = new Date(); d.setHours(23, 59, 0, 0); return d; };
const EXPIRY = [
  ['1h', 'for 1 hour', () => new Date(Date.now() + HOUR)],
  ['4h', 'for 4 hours', () => new Date(Date.now() + 4 * HOUR)],
  ['today', 'until the end of today', endOfToday],
  ['default', 'until I change it (Herald’s default: a day for Busy, a week otherwise)', () => null],
];
const SOURCES = { Preferred: 'your own status', Integration: 'an integration', Calendar: 'your calendar', Device: 'a device', Schedule: 'your work hours', None: 'nothing live' };

export async function render(main, ctx) {
  const { me, live } = ctx;
  const current = h('div', { 'aria-live': 'polite' });
  const why = h('div');
  const expiry = select(EXPIRY.map(([v, t]) => [v, t]), sessionStorage.getItem('herald.expiry') || 'today', { id: 'expiry' });
  expiry.addEventListener('change', () => sessionStorage.setItem('herald.expiry', expiry.value));
  const out = h('p', { role: 'alert' });
  const untilFor = () => EXPIRY.find(e => e[0] === expiry.value)[2]();

  const picks = [
    ['Available', { availability: 'Available' }, 'chosen'],
    ['Busy', { availability: 'Busy' }, 'chosen'],
    ['Do not disturb for 1 h', { availability: 'DoNotDisturb' }, () => new Date(Date.now() + HOUR)],
    ['Be right back', { availability: 'BeRightBack' }, () => new Date(Date.now() + 15 * 60_000)],
    ['Day off today', { availability: 'OffWork', activity: 'OutOfOffice' }, endOfToday],
    ['Appear offline', { availability: 'Offline' }, 'chosen'],
  ];
  const pickButtons = picks.map(([label, status, until]) => {
    const a = status.availability;
    const b = h('button', { type: 'button', dataset: { pick: label }, 'aria-pressed': 'false',
      onclick: () => act(b, out, async () => {
        const v = live.view(me);
        const u = until === 'chosen' ? untilFor() : until();
        const bodyOut = { ...status, note: v?.note ?? null, until: u ? u.toISOString() : null };
        live.accept(await put('/api/v1/me/status', bodyOut));
        toast(`Status set: ${label}${u ? `, until ${time(u.toISOString())}` : ''}.`);
      }) }, h('span.badge', { dataset: { a } }, icon(a)), h('span', {}, label));
    return b;
  });

  const note = h('input', { type: 'text', id: 'note', maxlength: 280, placeholder: 'e.g. Writing the quarterly report' });
  const noteExpiry = select([['1h', 'for 1 hour'], ['4h', 'for 4 hours'], ['today', 'until the end of today'], ['never', 'until I change it']], 'today', { id: 'note-expiry' });
  const noteOut = h('p', { role: 'alert' });
  const saveNote = h('button.primary', { type: 'button', onclick: () => act(saveNote, noteOut, async () => {
    const v = live.view(me);
    const until = { '1h': () => new Date(Date.now() + HOUR), '4h': () => new Date(Date.now() + 4 * HOUR), today: endOfToday, never: () => null }[noteExpiry.value]();
    const keep = v?.provenance?.source === 'Preferred' ? { availability: v.appearOffline ? 'Offline' : v.availability, activity: v.activity } : {};
    const text = note.value.trim();
    if (!text && !keep.availability) { live.accept(await del('/api/v1/me/status')); toast('Note cleared.'); return; }
    live.accept(await put('/api/v1/me/status', { ...keep, note: text || null, until: until ? until.toISOString() : null }));
    toast(text ? 'Note saved.' : 'Note cleared.');
  }) }, 'Save note');
  const clearButton = h('button', { type: 'button', onclick: () => act(clearButton, out, async () => {
    live.accept(await del('/api/v1/me/status'));
    toast('Status and note cleared: devices and your work hours decide again.');
  }) }, 'Clear my status');

  const devices = h('div');
  const integrations = h('div');

  clear(main,
    h('h1', {}, 'My status'),
    h('div.grid2', {},
      h('section.panel', { 'aria-labelledby': 'h-now' }, h('h2', { id: 'h-now' }, 'Right now'), current,
        h('h3', {}, 'Why I appear as I do'), why),
      h('section.panel', { 'aria-labelledby': 'h-picks' }, h('h2', { id: 'h-picks' }, 'Set my status'),
        h('div.picks', { role: 'group', 'aria-label': 'Quick picks' }, pickButtons),
        h('div.row', {}, field('Available, Busy and Appear offline last', expiry)),
        h('div.row', {}, clearButton), out,
        h('h3', {}, 'Note'),
        h('div.stack', {}, field('My note', note, 'Shown to the people allowed to see notes. A note and a status you chose share one expiry.'),
          field('Keep the note', noteExpiry), saveNote, noteOut))),
    h('div.grid2', {},
      h('section.panel', { 'aria-labelledby': 'h-dev' }, h('h2', { id: 'h-dev' }, 'My devices'), devices),
      h('section.panel', { 'aria-labelledby': 'h-int' }, h('h2', { id: 'h-int' }, 'My integrations'), integrations)));

  function show(v) {
    if (!v) return;
    const a = v.appearOffline ? 'Offline' : v.availability;
    clear(current,
      h('div.row', {}, badge(a), v.appearOffline ? h('span.tag', {}, 'appearing offline') : null, v.activity ? h('span.tag', {}, activityText(v.activity)) : null),
      v.note ? h('p', {}, `“${v.note}”`, v.noteUntil ? h('span.hint', {}, ` until ${time(v.noteUntil)}`) : null) : h('p.hint', {}, 'No note.'),
      formatLocation(v.location) ? h('p.hint', {}, `Location: ${formatLocation(v.location)}`) : null);
    const p = v.provenance;
    clear(why, p ? h('div.why', {},
      h('p', {}, p.reason),
      h('dl.kv', {},
        h('dt', {}, 'Decided by'), h('dd', {}, SOURCES[p.source] ?? p.source, p.sourceId ? ` (${p.sourceId})` : ''),
        p.since ? [h('dt', {}, 'Since'), h('dd', {}, `${time(p.since)} (${relative(p.since)})`)] : null,
        h('dt', {}, 'Until'), h('dd', {}, p.until ? `${time(p.until)} (${relative(p.until)})` : 'until something changes'))) : h('p.hint', {}, 'Not known yet.'));
    for (const b of pickButtons) b.setAttribute('aria-pressed', 'false');
    if (p?.source === 'Preferred') {
      const match = picks.findIndex(([, s]) => s.availability === a && (!s.activity || s.activity === v.activity));
      if (match >= 0) pickButtons[match].setAttribute('aria-pressed', 'true');
    }
    if (document.activeElement !== note) note.value = v.note ?? '';
    clear(devices, v.devices?.length ? h('div.table-wrap', { tabindex: '0' }, h('table', {},
      h('thead', {}, h('tr', {}, ['Device', 'Kind', 'Reports', 'Idle', 'Capabilities'].map(t => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, v.devices.map(d => h('tr', {},
        h('td', {}, d.deviceId), h('td', {}, d.kind), h('td', {}, badge(d.availability), d.activity ? ` · ${activityText(d.activity)}` : ''),
        h('td', {}, d.idle ? `since ${time(d.idleSince)}` : 'no'), h('td', {}, (d.capabilities ?? []).join(', '))))))) : h('p.empty', {}, 'No device is connected.'),
      h('p.hint', {}, 'This browser tab counts as a Web device while it is open.'));
  }

  async function loadIntegrations() {
    try {
      const list = await get('/api/v1/me/integrations');
      clear(integrations, list.length ? h('ul.people', {}, list.map(i => h('li.person', {},
        h('span'), h('div.who', {}, h('div.name', {}, i.name ?? i.integrationId),
          h('div.meta', {}, i.revoked ? 'consent withdrawn' : (i.activities?.length ? i.activities.map(l => activityText(l.activity) ?? l.activity).join(', ') : 'nothing running'))),
        h('div.actions', {}, h('button', { type: 'button', onclick: async () => {
          try { await (i.revoked ? put : del)(`/api/v1/me/integrations/${enc(i.integrationId)}`); await loadIntegrations(); } catch (e) { toast(e.message); }
        } }, i.revoked ? 'Allow again' : 'Withdraw consent'))))) : h('p.empty', {}, 'No integration has published for you.'));
    } catch (e) { clear(integrations, h('p.error', {}, e.message)); }
  }

  const off = live.onPresence(v => { if (v.userId === me) show(v); });
  const reload = async () => { try { const v = await get('/api/v1/me/presence'); live.accept(v); show(live.view(me)); } catch (e) { toast(e.message); } };
  window.addEventListener('herald:recovered', reload);
  await Promise.all([reload(), loadIntegrations()]);
  return () => { off(); window.removeEventListener('herald:recovered', reload); };
}
