// Ask the available: pick a team, see who is available now, send a huddle, watch the answers arrive.
import { get, post, enc } from '../api.js';
import { h, clear, field, select, act } from '../ui.js';
import { badge, avatar, time, CONTACT_KINDS } from '../presence.js';

export async function render(main, ctx) {
  const { live, params } = ctx;
  const teams = await get('/api/v1/teams');
  const me = await get(`/api/v1/people/${enc(ctx.me)}`).catch(() => null);
  const initial = params.get('team') || me?.team || teams[0]?.id || '';
  const team = select(teams.map(t => [t.id, t.name]), initial, { id: 'ask-team' });
  const who = h('div', { 'aria-live': 'polite' });
  const topic = h('input', { type: 'text', id: 'topic', maxlength: 200, required: true, placeholder: 'e.g. Release go/no-go' });
  const minutes = select([['15', '15 minutes'], ['30', '30 minutes'], ['60', '1 hour']], '15', { id: 'minutes' });
  const out = h('p', { role: 'alert' });
  const send = h('button.primary', { type: 'submit' }, 'Send huddle');
  const result = h('div', { 'aria-live': 'polite', id: 'huddle-result' });
  let huddle = null;

  clear(main, h('h1', {}, 'Ask the available'),
    h('p.lead', {}, 'Invite only the people who are available now — the busy ones are not disturbed, and nobody learns who was skipped.'),
    h('div.grid2', {},
      h('section.panel', { 'aria-labelledby': 'h-who' }, h('h2', { id: 'h-who' }, 'Who is available now'),
        h('div.row', {}, field('Team', team)), who),
      h('section.panel', { 'aria-labelledby': 'h-huddle' }, h('h2', { id: 'h-huddle' }, 'Huddle'),
        h('form.stack', { onsubmit: (e) => { e.preventDefault(); act(send, out, async () => {
          try {
            huddle = await post('/api/v1/huddles', { team: team.value, topic: topic.value.trim(), forMinutes: Number(minutes.value) });
            drawHuddle();
          } catch (err) {
            if (err.status === 409) throw new Error('Nobody is available right now — nobody was asked.');
            throw err;
          }
        }); } }, field('Topic', topic), field('Open for', minutes), send, out),
        result)));

  async function loadWho() {
    clear(who, h('p.empty', {}, 'Loading…'));
    try {
      const r = await post('/api/v1/availability/query', { team: team.value, forMinutes: 30 });
      for (const a of r.available) live.accept(a.presence);
      clear(who, r.available.length ? h('ul.people', {}, r.available.map(a => h('li.person', { dataset: { user: a.userId } },
        avatar(a.displayName, a.presence.availability),
        h('div.who', {}, h('div.row', {}, h('span.name', {}, a.displayName), badge(a.presence.availability)),
          a.best ? h('div.meta', {}, `${CONTACT_KINDS[a.best.method] ?? a.best.method}: ${a.best.address}`) : null),
        h('span')))) : h('p.empty', {}, 'Nobody in this team is available right now.'),
        h('p.hint', {}, `Checked ${time(r.at)}.`));
    } catch (e) { clear(who, h('p.error', {}, e.message)); }
  }

  function drawHuddle() {
    if (!huddle) return;
    const responses = huddle.responses ?? {};
    clear(result, h('section', { 'aria-label': 'Huddle status', dataset: { huddle: huddle.id } },
      h('h3', {}, `“${huddle.topic}”`),
      h('p', { dataset: { summary: '' } }, `${huddle.status} · ${huddle.accepted} accepted · ${huddle.declined} declined · ${huddle.invited.length} invited`,
        huddle.skipped ? ` · ${huddle.skipped} not available, not asked` : '', ` · open until ${time(huddle.expiresAt)}`),
      h('ul.people', {}, huddle.invited.map(p => h('li.person', { dataset: { invitee: p.userId, response: responses[p.userId] ?? 'waiting' } },
        avatar(p.displayName, live.view(p.userId)?.availability),
        h('div.who', {}, h('span.name', {}, p.displayName)),
        h('span.tag', {}, responses[p.userId] ?? 'waiting'))))));
  }

  const offHuddle = live.onHuddle(e => { if (huddle && e.huddle?.id === huddle.id && e.huddle.invited) { huddle = e.huddle; drawHuddle(); } });
  team.addEventListener('change', () => { history.replaceState(null, '', `#/ask?team=${enc(team.value)}`); loadWho(); });
  const onRecovered = async () => { loadWho(); if (huddle) { try { huddle = await get(`/api/v1/huddles/${enc(huddle.id)}`); drawHuddle(); } catch { /* expired */ } } };
  window.addEventListener('herald:recovered', onRecovered);
  await loadWho();
  return () => { offHuddle(); window.removeEventListener('herald:recovered', onRecovered); };
}
