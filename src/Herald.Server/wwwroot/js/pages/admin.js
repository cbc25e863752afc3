// Admin: people import (CSV or JSON), teams, organization policy, the whole audit.
import { get, put, post, del, enc } from '../api.js';
import { h, clear, field, select, tabs, toast, act } from '../ui.js';
import { auditTable } from './privacy.js';

const SAMPLE_CSV = 'id,displayName,email,team,workDays,workStart,workEnd,workPhone,password\n' +
  'frank,Frank Example,frank@example.com,platform,Mon-Fri,09:00,17:00,+49 30 555 0199,frank-pass-1\n';

export async function render(main, ctx) {
  const isAdmin = ctx.roles.includes('admin');
  const list = isAdmin
    ? [{ id: 'import', label: 'People import', render: importPeople }, { id: 'teams', label: 'Teams', render: teams },
       { id: 'policy', label: 'Organization policy', render: policy }, { id: 'audit', label: 'Audit', render: audit }]
    : [{ id: 'audit', label: 'Audit', render: audit }];
  clear(main, h('h1', {}, 'Admin'), tabs('Admin', list, ctx.params.get('tab')));
}

function importPeople(panel) {
  const format = select([['csv', 'CSV (header row)'], ['json', 'JSON (array of people)']], 'csv', { id: 'import-format' });
  const file = h('input', { type: 'file', id: 'import-file', accept: '.csv,.json,text/csv,application/json' });
  const text = h('textarea', { id: 'import-text', spellcheck: 'false' });
  text.value = SAMPLE_CSV;
  file.addEventListener('change', async () => {
    const f = file.files[0];
    if (!f) return;
    text.value = await f.text();
    format.value = /\.json$/i.test(f.name) || f.type.includes('json') ? 'json' : 'csv';
  });
  const out = h('div', { role: 'status', id: 'import-result' });
  const go = h('button.primary', { type: 'submit' }, 'Import');
  clear(panel, h('p.hint', {}, 'Create or replace people. Columns: id, displayName, email, team, manager, timeZone, password, workDays, workStart, workEnd, workPhone, mobile, homePhone, chat, video, sip, roles. All rows are checked first: if one is invalid nothing is imported.'),
    h('form.stack', { onsubmit: (e) => { e.preventDefault(); act(go, null, async () => {
      clear(out);
      try {
        const r = await post('/api/v1/admin/people/import', text.value, { type: format.value === 'json' ? 'application/json' : 'text/csv' });
        clear(out, h('p.ok', {}, `Imported: ${r.created} created, ${r.updated} updated.`));
      } catch (err) { clear(out, h('p.error', {}, 'Nothing was imported: ', err.message)); }
    }); } }, h('div.row', {}, field('Format', format), field('From a file (optional)', file)), field('People', text), go), out);
}

async function teams(panel) {
  const list = await get('/api/v1/teams');
  const id = h('input', { type: 'text', id: 'team-id', required: true, pattern: '[A-Za-z0-9][A-Za-z0-9._@-]{0,63}' });
  const name = h('input', { type: 'text', id: 'team-name', required: true, maxlength: 128 });
  const manager = h('input', { type: 'text', id: 'team-manager' });
  const out = h('p', { role: 'alert' });
  const save = h('button.primary', { type: 'submit' }, 'Save team');
  clear(panel,
    h('div.table-wrap', { tabindex: '0' }, h('table', {}, h('thead', {}, h('tr', {}, ['Id', 'Name', 'Manager', ''].map(x => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, list.map(t => h('tr', {}, h('th', { scope: 'row' }, t.id), h('td', {}, t.name), h('td', {}, t.manager ?? '—'),
        h('td', {}, h('button', { type: 'button', onclick: () => { id.value = t.id; name.value = t.name; manager.value = t.manager ?? ''; name.focus(); } }, 'Edit', h('span.visually-hidden', {}, ` ${t.name}`)), ' ',
          h('button.danger', { type: 'button', onclick: async () => { try { await del(`/api/v1/admin/teams/${enc(t.id)}`); toast(`Team ${t.name} deleted.`); } catch (e) { toast(e.message); } teams(panel); } }, 'Delete', h('span.visually-hidden', {}, ` ${t.name}`)))))))),
    h('h3', {}, 'Create or replace a team'),
    h('form', { onsubmit: (e) => { e.preventDefault(); act(save, out, async () => {
      await put(`/api/v1/admin/teams/${enc(id.value.trim())}`, { name: name.value.trim(), manager: manager.value.trim() || null });
      toast('Team saved.');
      teams(panel);
    }); } }, h('div.row', {}, field('Id', id), field('Name', name), field('Manager (person id)', manager)), save, out));
}

async function policy(panel) {
  const r = await get('/api/v1/admin/policy');
  const text = h('textarea', { id: 'policy-text', spellcheck: 'false', rows: 18 });
  text.value = JSON.stringify(r.policy, null, 2);
  const out = h('div', { role: 'status' });
  const save = h('button.primary', { type: 'button', onclick: () => act(save, null, async () => {
    let body;
    try { body = JSON.parse(text.value); } catch (e) { clear(out, h('p.error', {}, `Not valid JSON: ${e.message}`)); return; }
    try {
      const saved = await put('/api/v1/admin/policy', body);
      text.value = JSON.stringify(saved.policy, null, 2);
      clear(out, h('p.ok', {}, `Saved as version ${saved.version}. Everyone watched live is re-decided now.`));
    } catch (e) { clear(out, h('p.error', {}, e.message)); }
  }) }, 'Save policy');
  clear(panel, h('p.hint', {}, `Version ${r.version}${r.version === 0 ? ' (Herald’s built-in default)' : ''}. The ceiling is the most a tier may see; the floor what it must always see; see docs/privacy.md for every member.`),
    field('Organization policy (JSON)', text), h('div.row', {}, save), out);
}

function audit(panel) {
  const who = h('input', { type: 'text', id: 'admin-audit-presentity', autocomplete: 'off' });
  const watcher = h('input', { type: 'text', id: 'admin-audit-watcher', autocomplete: 'off' });
  const table = h('div.table-wrap', { tabindex: '0' });
  const load = async () => {
    try {
      const q = new URLSearchParams({ limit: '200' });
      if (who.value.trim()) q.set('presentity', who.value.trim());
      if (watcher.value.trim()) q.set('watcher', watcher.value.trim());
      clear(table, auditTable(await get(`/api/v1/admin/audit?${q}`), true));
    } catch (e) { clear(table, h('p.error', {}, e.message)); }
  };
  clear(panel, h('p.hint', {}, 'Every disclosure in the organization, newest first (200 at most).'),
    h('form', { onsubmit: (e) => { e.preventDefault(); load(); } }, h('div.row', {}, field('About (person id)', who), field('Watcher', watcher), h('button', { type: 'submit' }, 'Filter'))), table);
  load();
}
