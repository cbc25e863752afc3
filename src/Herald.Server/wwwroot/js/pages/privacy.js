// Privacy center: my tier rules (with the organization's limits), "see me as…", watchers and requests, grants,
// and my disclosure audit.
import { get, put, post, del, enc } from '../api.js';
import { h, clear, field, select, tabs, toast, act } from '../ui.js';
import { badge, activityText, formatLocation, relative, time, CONTACT_KINDS } from '../presence.js';

export const FIELDS = ['availability', 'activity', 'note', 'location', 'devices', 'lastSeen', 'calendar', 'outOfOffice',
  'workPhone', 'mobile', 'homePhone', 'email', 'chat', 'video', 'sip', 'otherContact'];
const FIELD_LABELS = { availability: 'Availability', activity: 'Activity', note: 'Note', location: 'Location', devices: 'Devices', lastSeen: 'Last seen',
  calendar: 'Calendar', outOfOffice: 'Out of office', workPhone: 'Work phone', mobile: 'Mobile', homePhone: 'Home phone', email: 'E-mail',
  chat: 'Chat', video: 'Video', sip: 'SIP', otherContact: 'Other contact' };
export const LEVELS = { location: ['None', 'Country', 'City', 'Building', 'Exact'], lastSeen: ['None', 'Day', 'Hour', 'Exact'], calendar: ['None', 'FreeBusy', 'Subject'] };
const levelsOf = f => LEVELS[f] ?? ['false', 'true'];
const show = v => v === true || v === 'true' ? 'shown' : v === false || v === 'false' ? 'hidden' : v;
const TIERS = ['Trusted', 'Team', 'Colleague', 'External'];
const CONTEXTS = [['any', 'Any time'], ['workHours', 'Work hours'], ['offHours', 'Off hours'], ['dayOff', 'Day off']];
const LAYERS = { Default: 'Herald default', UserTier: 'your tier rule', UserWatcher: 'your rule for this person', Grant: 'a grant',
  OrganizationFloor: 'organization floor', OrganizationCeiling: 'organization ceiling', Self: 'yourself', Block: 'blocked', Subscription: 'no approved subscription' };

export async function render(main, ctx) {
  const { me, params } = ctx;
  const directory = await get('/api/v1/people?limit=200').catch(() => []);
  const people = h('datalist', { id: 'people-list' }, directory.filter(p => p.id !== me).map(p => h('option', { value: p.id }, p.displayName)));
  clear(main, h('h1', {}, 'Privacy center'),
    h('p.lead', {}, 'Decide who sees what, check it from their side, and see who received what.'), people,
    tabs('Privacy center', [
      { id: 'rules', label: 'My rules', render: rules },
      { id: 'preview', label: 'See me as…', render: preview },
      { id: 'watchers', label: 'Watchers', render: watchers },
      { id: 'grants', label: 'Grants', render: grants },
      { id: 'audit', label: 'My audit', render: audit },
    ], params.get('tab')));

  // ---- rules editor
  async function rules(panel) {
    let doc = await get('/api/v1/me/privacy');
    const limits = await get('/api/v1/me/privacy/limits').catch(() => null);
    const org = limits?.policy ?? {};
    const tier = select(TIERS, 'Team', { id: 'rules-tier' });
    const context = select(CONTEXTS, 'workHours', { id: 'rules-context' });
    const table = h('div.table-wrap', { tabindex: '0' });
    const out = h('div', { role: 'status' });
    const subs = h('div.row');
    const draw = () => {
      const t = tier.value, c = context.value;
      const mine = doc.tiers?.[t]?.[c] ?? {};
      const ceiling = org.ceiling?.[t] ?? {};
      const floor = { ...(org.floor?.[t]?.any ?? {}), ...(c !== 'any' ? org.floor?.[t]?.[c] ?? {} : {}) };
      clear(table, h('table', {},
        h('caption.visually-hidden', {}, `Rules for ${t}, ${c}`),
        h('thead', {}, h('tr', {}, ['Field', 'My rule', 'Organization ceiling', 'Organization floor'].map(x => h('th', { scope: 'col' }, x)))),
        h('tbody', {}, FIELDS.map(f => {
          const s = select([['', 'Herald default'], ...levelsOf(f).map(l => [l, show(l)])], mine[f] === undefined ? '' : String(mine[f]),
            { 'aria-label': `${FIELD_LABELS[f]} for ${t}`, dataset: { field: f } });
          s.addEventListener('change', () => {
            doc.tiers ??= {}; doc.tiers[t] ??= {}; doc.tiers[t][c] ??= {};
            if (s.value === '') delete doc.tiers[t][c][f];
            else doc.tiers[t][c][f] = LEVELS[f] ? s.value : s.value === 'true';
          });
          return h('tr', {}, h('th', { scope: 'row' }, FIELD_LABELS[f]), h('td', {}, s),
            h('td', {}, ceiling[f] !== undefined ? h('span.tag', {}, `at most ${show(ceiling[f])}`) : h('span.hint', {}, 'none')),
            h('td', {}, floor[f] !== undefined ? h('span.tag', {}, `at least ${show(floor[f])}`) : h('span.hint', {}, 'none')));
        }))));
      clear(subs, TIERS.concat('Blocked').map(tt => {
        const s = select([['', 'Herald default'], 'Allow', 'Confirm', 'PoliteBlock', 'Block'], doc.subscriptions?.[tt] ?? '', { id: `sub-${tt}` });
        s.addEventListener('change', () => { doc.subscriptions ??= {}; if (s.value) doc.subscriptions[tt] = s.value; else delete doc.subscriptions[tt]; });
        return field(tt, s);
      }));
    };
    tier.addEventListener('change', draw);
    context.addEventListener('change', draw);
    const save = h('button.primary', { type: 'button', onclick: () => act(save, out, async () => {
      const r = await put('/api/v1/me/privacy', cleaned(doc));
      doc = r.rules;
      clear(out, h('p.ok', {}, 'Saved. Your watchers see the change now.'), r.warnings.map(w => h('p.error', {}, w)));
      draw();
    }) }, 'Save rules');
    const dry = h('button', { type: 'button', onclick: () => act(dry, out, async () => {
      const r = await post('/api/v1/me/privacy/preview', cleaned(doc));
      clear(out, h('h3', {}, 'If you saved now'), r.map(x => h('p', {}, h('strong', {}, `${x.tier} (${x.context}): `),
        x.gained.length ? `would newly see ${x.gained.map(g => `${FIELD_LABELS[g.field] ?? g.field} (${show(g.after)})`).join(', ')}. ` : '',
        x.lost.length ? `would no longer see ${x.lost.map(g => `${FIELD_LABELS[g.field] ?? g.field} (now ${show(g.after)})`).join(', ')}. ` : '',
        !x.gained.length && !x.lost.length ? 'no change. ' : '',
        x.clampedByOrganization.length ? `Held back by the organization: ${x.clampedByOrganization.map(g => FIELD_LABELS[g.field] ?? g.field).join(', ')}.` : '')));
    }) }, 'Preview changes');
    clear(panel,
      h('p.hint', {}, 'Each field follows Herald’s defaults unless you set it. The organization’s ceiling is the most a tier may ever see; its floor is what a tier always sees.',
        org.appearOfflineAllowed === false ? ' Your organization does not allow appearing offline.' : ''),
      h('div.row', {}, field('Tier', tier), field('When', context)), table,
      h('h3', {}, 'Requests to watch me'), h('p.hint', {}, 'What happens when someone of a tier asks to watch you.'), subs,
      h('div.row', {}, save, dry), out);
    draw();
  }

  // ---- "see me as…"
  function preview(panel) {
    const who = h('input', { type: 'text', id: 'preview-as', list: 'people-list', placeholder: 'a person id, e.g. ben', autocomplete: 'off' });
    const tier = select([['', '—'], ...TIERS, 'Blocked'], '', { id: 'preview-tier' });
    const at = h('input', { type: 'datetime-local', id: 'preview-at' });
    const out = h('div', { 'aria-live': 'polite' });
    const go = h('button.primary', { type: 'submit' }, 'Show');
    const form = h('form', { onsubmit: (e) => { e.preventDefault(); act(go, out, async () => {
      const q = new URLSearchParams();
      if (who.value.trim()) q.set('as', who.value.trim()); else if (tier.value) q.set('tier', tier.value);
      if (at.value) q.set('at', new Date(at.value).toISOString());
      const r = await get(`/api/v1/me/privacy/preview?${q}`);
      const v = r.view;
      clear(out, h('section.panel', { 'aria-label': 'Preview result' },
        h('h3', {}, q.get('as') ? `What ${q.get('as')} sees` : `What a ${r.tier} watcher sees`),
        h('p.hint', {}, `Tier ${r.tier} · ${r.context} · ${r.mode === 'Normal' ? 'normal view' : `mode ${r.mode}`}`),
        h('div.row', { dataset: { preview: 'view' } }, badge(v.availability), v.activity ? h('span.tag', {}, activityText(v.activity)) : null),
        v.note ? h('p', {}, `“${v.note}”`) : null,
        formatLocation(v.location) ? h('p', {}, `Location: ${formatLocation(v.location)}`) : null,
        v.lastSeen ? h('p', {}, `Last seen ${relative(v.lastSeen)}`) : null,
        v.contactMethods?.length ? h('p', {}, v.contactMethods.map(c => `${CONTACT_KINDS[c.kind] ?? c.kind}: ${c.address}`).join(' · ')) : h('p.hint', {}, 'No contact methods shown.'),
        h('div.table-wrap', { tabindex: '0' }, h('table', {},
          h('thead', {}, h('tr', {}, ['Field', 'Shown as', 'Decided by'].map(x => h('th', { scope: 'col' }, x)))),
          h('tbody', {}, r.fields.map(f => h('tr', {}, h('th', { scope: 'row' }, FIELD_LABELS[f.field] ?? f.field), h('td', {}, show(f.level)), h('td', {}, LAYERS[f.decidedBy] ?? f.decidedBy))))))));
    }); } },
    h('div.row', {}, field('A person', who, 'or leave empty and pick a tier'), field('A tier', tier), field('At (optional)', at, 'empty = now')), go);
    clear(panel, h('p.hint', {}, 'See your presence exactly as someone else gets it — nothing is recorded in the audit.'), form, out);
  }

  // ---- watchers and pending requests
  async function watchers(panel) {
    const list = await get('/api/v1/me/watchers');
    const decide = (id, verb) => async () => {
      try { if (verb === 'revoke') await del(`/api/v1/me/watchers/${enc(id)}`); else await post(`/api/v1/me/watchers/${enc(id)}/${verb}`); toast(`${id}: ${verb === 'approve' ? 'approved' : verb === 'deny' ? 'denied' : 'revoked'}.`); } catch (e) { toast(e.message); }
      watchers(panel);
    };
    const pendingCount = list.filter(w => w.status === 'Pending').length;
    clear(panel, h('p.hint', {}, pendingCount ? `${pendingCount} request(s) waiting for your answer.` : 'No requests are waiting.'),
      list.length ? h('div.table-wrap', { tabindex: '0' }, h('table', {},
        h('thead', {}, h('tr', {}, ['Who', 'Tier', 'Status', 'Since', 'Live', 'Actions'].map(x => h('th', { scope: 'col' }, x)))),
        h('tbody', {}, list.map(w => h('tr', { dataset: { watcher: w.watcherId } },
          h('th', { scope: 'row' }, w.watcherId), h('td', {}, w.tier), h('td', {}, w.status), h('td', {}, time(w.since)), h('td', {}, w.live ? 'yes' : 'no'),
          h('td', {}, w.status === 'Pending' ? [
            h('button.primary', { type: 'button', onclick: decide(w.watcherId, 'approve') }, 'Approve', h('span.visually-hidden', {}, ` ${w.watcherId}`)), ' ',
            h('button', { type: 'button', onclick: decide(w.watcherId, 'deny') }, 'Deny', h('span.visually-hidden', {}, ` ${w.watcherId}`))]
            : w.status === 'Approved' ? h('button.danger', { type: 'button', onclick: decide(w.watcherId, 'revoke') }, 'Revoke', h('span.visually-hidden', {}, ` ${w.watcherId}`)) : null)))))) : h('p.empty', {}, 'Nobody watches you yet.'));
  }

  // ---- grants
  async function grants(panel) {
    const list = await get('/api/v1/me/grants');
    const who = h('input', { type: 'text', id: 'grant-who', list: 'people-list', required: true, autocomplete: 'off' });
    const f = select(FIELDS.map(x => [x, FIELD_LABELS[x]]), 'location', { id: 'grant-field' });
    const level = h('select', { id: 'grant-level' });
    const fillLevels = () => clear(level, levelsOf(f.value).filter(l => l !== 'false' && l !== 'None').map(l => h('option', { value: l }, show(l))));
    f.addEventListener('change', fillLevels); fillLevels();
    const until = h('input', { type: 'datetime-local', id: 'grant-until', required: true });
    const d = new Date(Date.now() + 4 * 3600_000); d.setSeconds(0, 0);
    until.value = new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    const reason = h('input', { type: 'text', id: 'grant-reason', maxlength: 200 });
    const out = h('p', { role: 'alert' });
    const add = h('button.primary', { type: 'submit' }, 'Grant');
    const form = h('form', { onsubmit: (e) => { e.preventDefault(); act(add, out, async () => {
      const value = LEVELS[f.value] ? level.value : true;
      await post('/api/v1/me/grants', { watcherId: who.value.trim(), fields: { [f.value]: value }, until: new Date(until.value).toISOString(), reason: reason.value.trim() || null });
      toast('Grant added.');
      grants(panel);
    }); } }, h('div.row', {}, field('Person', who), field('Field', f), field('Level', level), field('Until', until), field('Reason (optional)', reason)), add, out);
    clear(panel, h('p.hint', {}, 'Share more with one person for a while — e.g. your exact location with Ben until 17:00. The organization ceiling still applies.'),
      list.length ? h('ul.people', {}, list.map(g => h('li.person', {}, h('span'),
        h('div.who', {}, h('div.name', {}, g.watcherId), h('div.meta', {}, Object.entries(g.fields).map(([k, v]) => `${FIELD_LABELS[k] ?? k}: ${show(v)}`).join(', '),
          ` · until ${time(g.until)}`, g.reason ? ` · ${g.reason}` : '')),
        h('div.actions', {}, h('button.danger', { type: 'button', onclick: async () => { try { await del(`/api/v1/me/grants/${enc(g.id)}`); toast('Grant revoked.'); } catch (e) { toast(e.message); } grants(panel); } }, 'Revoke', h('span.visually-hidden', {}, ` grant for ${g.watcherId}`)))))) : h('p.empty', {}, 'No grants.'),
      h('h3', {}, 'New grant'), form);
  }

  // ---- my disclosure audit
  async function audit(panel) {
    const watcher = h('input', { type: 'text', id: 'audit-watcher', list: 'people-list', autocomplete: 'off' });
    const table = h('div.table-wrap', { tabindex: '0' });
    const load = async () => {
      try {
        const q = new URLSearchParams({ limit: '100' });
        if (watcher.value.trim()) q.set('watcher', watcher.value.trim());
        clear(table, auditTable(await get(`/api/v1/me/audit?${q}`), false));
      } catch (e) { clear(table, h('p.error', {}, e.message)); }
    };
    clear(panel, h('p.hint', {}, 'Who received which fields of your presence, when, and under which rule (newest first, 100 at most).'),
      h('form', { onsubmit: (e) => { e.preventDefault(); load(); } }, h('div.row', {}, field('Only this watcher', watcher), h('button', { type: 'submit' }, 'Filter'))), table);
    load();
  }
}

/** The rules document as PUT accepts it: GET writes absent per-watcher members as null, PUT wants them left out. */
function cleaned(doc) {
  const watchers = Object.fromEntries(Object.entries(doc.watchers ?? {}).map(([id, w]) =>
    [id, Object.fromEntries(Object.entries(w ?? {}).filter(([, v]) => v !== null))]));
  return { ...doc, watchers };
}

export function auditTable(entries, withPresentity) {
  if (!entries.length) return h('p.empty', {}, 'No entries.');
  return h('table', {},
    h('thead', {}, h('tr', {}, ['When', withPresentity ? 'About' : null, 'Who', 'How', 'Fields', 'Rule'].filter(Boolean).map(x => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, entries.map(e => h('tr', {}, h('td', {}, time(e.at)), withPresentity ? h('td', {}, e.presentityId) : null,
      h('td', {}, e.watcherId), h('td', {}, `${e.kind} · ${e.channel}`), h('td', {}, (e.fields || '').replaceAll(',', ', ')), h('td', {}, e.rule)))));
}
