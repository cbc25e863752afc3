// Integrations: my API keys, my webhooks (with test events and the delivery log) and my calendar (feed or upload).
import { api, get, post, put, del, enc } from '../api.js';
import { h, clear, field, tabs, toast, act, dialog } from '../ui.js';

const fmt = (t) => (t ? new Date(t).toLocaleString() : '—');

export async function render(main, ctx) {
  clear(main, h('h1', {}, 'Integrations'),
    h('p.hint', {}, 'Connect other systems to your presence: keys for devices and phone systems, webhooks that receive changes as you would see them, and your calendar.'),
    tabs('Integrations', [
      { id: 'keys', label: 'API keys', render: (p) => keys(p, ctx) },
      { id: 'webhooks', label: 'Webhooks', render: webhooks },
      { id: 'calendar', label: 'Calendar', render: calendar },
    ], ctx.params.get('tab')));
}

/** A secret shown once, in a dialog, with a copy button. */
function showSecret(title, label, secret, note) {
  const value = h('input', { type: 'text', id: 'secret-value', readonly: true, value: secret, spellcheck: 'false' });
  dialog(title, h('p', {}, note), field(label, value),
    h('div.row', {}, h('button', { type: 'button', onclick: async () => {
      try { await navigator.clipboard.writeText(secret); toast('Copied.'); } catch { value.select(); toast('Select the text and copy it.'); }
    } }, 'Copy')));
  value.select();
}

async function keys(panel, ctx) {
  const isAdmin = ctx.roles.includes('admin');
  const list = await get('/api/v1/apikeys');
  const scopes = isAdmin ? ['devices', 'route', 'webhooks', 'activities:*'] : ['devices'];
  const name = h('input', { type: 'text', id: 'key-name', required: true, maxlength: 100, autocomplete: 'off' });
  const boxes = scopes.map(s => h('input', { type: 'checkbox', id: `scope-${s.replace(/\W/g, '-')}`, value: s, checked: s === 'devices' }));
  const out = h('p', { role: 'alert' });
  const create = h('button.primary', { type: 'submit' }, 'Create key');
  clear(panel,
    list.length === 0 ? h('p', {}, 'You have no API keys.') :
      h('div.table-wrap', { tabindex: '0' }, h('table', { id: 'keys-table' },
        h('caption.visually-hidden', {}, 'My API keys'),
        h('thead', {}, h('tr', {}, ['Name', 'Scopes', isAdmin ? 'Owner' : null, 'Created', ''].filter(x => x !== null).map(x => h('th', { scope: 'col' }, x)))),
        h('tbody', {}, list.map(k => h('tr', {},
          h('th', { scope: 'row' }, k.name), h('td', {}, k.scopes.join(', ')), isAdmin ? h('td', {}, k.ownerId) : null, h('td', {}, fmt(k.createdAt)),
          h('td', {}, h('button.danger', { type: 'button', onclick: (e) => act(e.currentTarget, null, async () => {
            await del(`/api/v1/apikeys/${enc(k.id)}`);
            toast(`Key ${k.name} revoked.`);
            keys(panel, ctx);
          }) }, 'Revoke', h('span.visually-hidden', {}, ` ${k.name}`)))))))),
    h('h2', {}, 'Create a key'),
    h('p.hint', {}, 'A key always acts as you. The devices scope lets a program keep your device sessions (e.g. a desk phone).'),
    h('form.stack', { onsubmit: (e) => { e.preventDefault(); act(create, out, async () => {
      const chosen = boxes.filter(b => b.checked).map(b => b.value);
      const r = await post('/api/v1/apikeys', { name: name.value.trim(), scopes: chosen });
      showSecret('Your new API key', 'Key', r.key, 'Copy the key now: Herald keeps only a hash of it and cannot show it again.');
      keys(panel, ctx);
    }); } },
    field('Name', name),
    h('fieldset', {}, h('legend', {}, 'Scopes'), h('div.row', {}, boxes.map(b => h('label.check', {}, b, b.value)))),
    create, out));
}

const splitList = (s) => s.split(/[\s,]+/).map(x => x.trim()).filter(Boolean);

async function webhooks(panel) {
  const list = await get('/api/v1/webhooks');
  const url = h('input', { type: 'url', id: 'webhook-url', required: true, maxlength: 2048, placeholder: 'https://example.com/herald' });
  const people = h('input', { type: 'text', id: 'webhook-people', autocomplete: 'off' });
  const teamsIn = h('input', { type: 'text', id: 'webhook-teams', autocomplete: 'off' });
  const presence = h('input', { type: 'checkbox', id: 'webhook-ev-presence', checked: true });
  const huddle = h('input', { type: 'checkbox', id: 'webhook-ev-huddle' });
  const out = h('p', { role: 'alert' });
  const create = h('button.primary', { type: 'submit' }, 'Create webhook');
  const log = h('div', { id: 'webhook-log', 'aria-live': 'polite' });
  clear(panel,
    list.length === 0 ? h('p', {}, 'You have no webhooks.') :
      h('div.table-wrap', { tabindex: '0' }, h('table', { id: 'webhooks-table' },
        h('caption.visually-hidden', {}, 'My webhooks'),
        h('thead', {}, h('tr', {}, ['URL', 'Watches', 'Events', 'State', ''].map(x => h('th', { scope: 'col' }, x)))),
        h('tbody', {}, list.map(w => h('tr', {},
          h('th', { scope: 'row' }, w.url),
          h('td', {}, [...w.userIds, ...w.teams.map(t => `team ${t}`)].join(', ') || '—'),
          h('td', {}, w.events.join(', ')),
          h('td', {}, w.state === 'active' ? 'Active' : `Disabled: ${w.lastError ?? 'too many failures'}`,
            w.state === 'active' && w.consecutiveFailures > 0 ? ` (${w.consecutiveFailures} failed: ${w.lastError ?? ''})` : ''),
          h('td', {},
            h('button', { type: 'button', disabled: w.state !== 'active', onclick: (e) => act(e.currentTarget, null, async () => {
              const r = await post(`/api/v1/webhooks/${enc(w.id)}/test`);
              toast(`Test event ${r.eventId} queued.`);
            }) }, 'Send test', h('span.visually-hidden', {}, ` to ${w.url}`)), ' ',
            h('button', { type: 'button', onclick: (e) => act(e.currentTarget, null, async () => {
              const d = await get(`/api/v1/webhooks/${enc(w.id)}/deliveries?limit=20`);
              clear(log, h('h3', {}, `Latest deliveries to ${w.url}`), d.length === 0 ? h('p', {}, 'No deliveries yet.') :
                h('div.table-wrap', { tabindex: '0' }, h('table', {},
                  h('thead', {}, h('tr', {}, ['When', 'Event', 'Attempt', 'Result'].map(x => h('th', { scope: 'col' }, x)))),
                  h('tbody', {}, d.map(a => h('tr', {}, h('td', {}, fmt(a.at)), h('td', {}, a.type), h('td', {}, String(a.attempt)),
                    h('td', {}, a.succeeded ? `Delivered (HTTP ${a.statusCode})` : `Failed: ${a.error ?? `HTTP ${a.statusCode}`}`)))))));
            }) }, 'Deliveries', h('span.visually-hidden', {}, ` to ${w.url}`)), ' ',
            h('button.danger', { type: 'button', onclick: (e) => act(e.currentTarget, null, async () => {
              await del(`/api/v1/webhooks/${enc(w.id)}`);
              toast('Webhook deleted.');
              webhooks(panel);
            }) }, 'Delete', h('span.visually-hidden', {}, ` ${w.url}`)))))))),
    log,
    h('h2', {}, 'Create a webhook'),
    h('p.hint', {}, 'Herald POSTs signed JSON events (Herald-Signature header, HMAC-SHA256 with the secret shown once) — presence exactly as you would see it. See docs/api.md “Webhooks” for verifying the signature.'),
    h('form.stack', { onsubmit: (e) => { e.preventDefault(); act(create, out, async () => {
      const events = [presence.checked ? 'presence.changed' : null, huddle.checked ? 'huddle' : null].filter(Boolean);
      const r = await post('/api/v1/webhooks', { url: url.value.trim(), userIds: splitList(people.value), teams: splitList(teamsIn.value), events });
      showSecret('Your webhook secret', 'Secret', r.secret, 'Copy the secret now to verify signatures: it is not shown again.');
      webhooks(panel);
    }); } },
    field('URL', url),
    h('div.row', {}, field('People (ids, comma-separated)', people), field('Teams (ids, comma-separated)', teamsIn)),
    h('fieldset', {}, h('legend', {}, 'Events'),
      h('div.row', {}, h('label.check', {}, presence, 'Presence changes of these people'),
      h('label.check', {}, huddle, 'My huddle events'))),
    create, out));
}

async function calendar(panel) {
  let feed = null;
  try { feed = await get('/api/v1/me/calendar/feed'); } catch (e) { if (e.status !== 404) throw e; }
  const url = h('input', { type: 'url', id: 'calendar-url', required: true, maxlength: 2048, value: feed?.url ?? '', placeholder: 'https://calendar.example.com/me.ics' });
  const file = h('input', { type: 'file', id: 'calendar-file', accept: '.ics,text/calendar' });
  const out = h('div', { role: 'status', id: 'calendar-result' });
  const subscribe = h('button.primary', { type: 'submit' }, feed ? 'Change feed' : 'Subscribe');
  const upload = h('button', { type: 'button' }, 'Upload');
  const summary = (r) => h('p.ok', {}, `${r.entries} calendar entries. `,
    r.next?.length ? `Next: ${r.next.slice(0, 3).map(n => `${fmt(n.start)} (${n.activity})`).join('; ')}.` : 'Nothing coming up in the next 14 days.');
  upload.addEventListener('click', () => act(upload, null, async () => {
    const f = file.files[0];
    if (!f) { clear(out, h('p.error', {}, 'Choose an .ics file first.')); return; }
    try {
      const r = await api('PUT', '/api/v1/me/calendar', await f.text(), { type: 'text/calendar' });
      clear(out, summary(r));
    } catch (e) { clear(out, h('p.error', {}, e.message)); }
  }));
  clear(panel,
    h('p.hint', {}, 'Busy events show you as in a meeting, out-of-office events as a day off. Free and tentative events are ignored. Watchers see the times (and subjects) only as your privacy rules allow.'),
    h('h2', {}, 'Calendar feed'),
    feed ? h('p', { id: 'calendar-feed-status' }, `Subscribed to ${feed.url}. Last refreshed ${fmt(feed.lastRefreshedAt)}; next ${fmt(feed.nextRefreshAt)}; ${feed.entries} entries.`,
      feed.lastError ? h('span.error', {}, ` Last attempt failed: ${feed.lastError}`) : '') : h('p', { id: 'calendar-feed-status' }, 'No feed.'),
    h('form.stack', { onsubmit: (e) => { e.preventDefault(); act(subscribe, null, async () => {
      try {
        const r = await put('/api/v1/me/calendar/feed', { url: url.value.trim() });
        clear(out, summary(r));
        calendar(panel);
      } catch (err) { clear(out, h('p.error', {}, err.message)); }
    }); } }, field('Feed URL (only hosts your administrator allows)', url),
    h('div.row', {}, subscribe, feed ? h('button.danger', { type: 'button', onclick: (e) => act(e.currentTarget, null, async () => {
      await del('/api/v1/me/calendar/feed');
      toast('Calendar feed removed.');
      calendar(panel);
    }) }, 'Remove feed') : null)),
    h('h2', {}, 'Or upload a file'),
    h('div.row', {}, field('Calendar file (.ics, at most 1 MiB)', file), upload),
    out);
}
