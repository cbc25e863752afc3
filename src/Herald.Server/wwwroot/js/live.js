// Live presence over Server-Sent Events, read with fetch() so the bearer token travels in the Authorization
// header (never in a URL, where proxies and logs would keep it). One stream per tab; it is reopened when the set
// of watched people grows, and after a failure with a bounded backoff. A reopened stream starts with the current
// view of everyone watched (a fresh snapshot), and the pages reload what they show.
import { session } from './api.js';

const views = new Map();           // userId -> newest view seen
const listeners = new Set();       // (view) => void
const huddleListeners = new Set(); // (event) => void
const stateListeners = new Set();  // (state) => void
const watched = new Set();

let state = 'idle'; // idle | connecting | live | reconnecting
let controller = null;
let generation = 0;
let failures = 0;
let everLive = false;
let retryTimer = null;

export const WATCHDOG_MS = 40_000; // the server pings after 15 s of silence; 40 s of nothing means the link is dead
const BACKOFF_MS = [250, 500, 1000, 2000, 3000, 5000];

export function view(userId) { return views.get(userId); }

/** Accepts a view only if it is newer than what we have (sequence numbers only grow per person). */
export function accept(v) {
  if (!v?.userId) return false;
  const known = views.get(v.userId);
  if (known && known.sequence >= v.sequence) return false;
  views.set(v.userId, v);
  for (const f of listeners) f(v);
  return true;
}

export function onPresence(f) { listeners.add(f); return () => listeners.delete(f); }
export function onHuddle(f) { huddleListeners.add(f); return () => huddleListeners.delete(f); }
export function onState(f) { stateListeners.add(f); f(state, false); return () => stateListeners.delete(f); }
export function currentState() { return state; }

function setState(s, recovered = false) {
  state = s;
  for (const f of stateListeners) f(s, recovered);
}

/** Adds people to the stream; reopens it when someone new is added. */
export function watch(ids) {
  let added = false;
  for (const id of ids) if (id && !watched.has(id)) { watched.add(id); added = true; }
  if (added && state !== 'idle') open();
}

export function start(me) {
  watched.add(me);
  open();
}

export function stop() {
  generation++;
  controller?.abort();
  clearTimeout(retryTimer);
  controller = null;
  watched.clear();
  views.clear();
  everLive = false;
  failures = 0;
  setState('idle');
}

function cursor() {
  return [...watched].filter(id => views.has(id)).map(id => `${id}:${views.get(id).sequence}`).join(',');
}

async function open() {
  const gen = ++generation;
  controller?.abort();
  clearTimeout(retryTimer);
  const ctrl = new AbortController();
  controller = ctrl;
  const wasBroken = state === 'reconnecting';
  if (!wasBroken) setState(everLive ? state : 'connecting');
  const token = session.get()?.token;
  if (!token) return;
  // While healthy, resume from what we have; after a failure, take a full snapshot.
  const since = wasBroken ? '' : cursor();
  const url = `/api/v1/events?watch=${encodeURIComponent([...watched].join(','))}${since ? `&since=${encodeURIComponent(since)}` : ''}`;
  let watchdog;
  const arm = () => { clearTimeout(watchdog); watchdog = setTimeout(() => ctrl.abort(), WATCHDOG_MS); };
  try {
    arm();
    const r = await fetch(url, { headers: { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' }, signal: ctrl.signal, cache: 'no-store' });
    if (r.status === 401) { clearTimeout(watchdog); window.dispatchEvent(new Event('herald:unauthorized')); return; }
    if (!r.ok || !r.body) throw new Error(`events: HTTP ${r.status}`);
    failures = 0;
    const recovered = wasBroken;
    everLive = true;
    setState('live', recovered);
    const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      arm();
      buffer += value.replace(/\r\n?/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        dispatch(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
    throw new Error('events: stream ended');
  } catch {
    clearTimeout(watchdog);
    if (gen !== generation) return; // replaced by a newer stream, or stopped
    failures++;
    setState('reconnecting');
    const delay = BACKOFF_MS[Math.min(failures - 1, BACKOFF_MS.length - 1)];
    retryTimer = setTimeout(() => { if (gen === generation) open(); }, delay);
  }
}

function dispatch(block) {
  let event = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const i = line.indexOf(':');
    const name = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
    if (name === 'event') event = value;
    else if (name === 'data') data.push(value);
  }
  if (!data.length) return;
  let payload;
  try { payload = JSON.parse(data.join('\n')); } catch { return; }
  if (event === 'presence') accept(payload);
  else if (event === 'huddle') for (const f of huddleListeners) f(payload);
}
