// This browser tab as a Web device of its person: a lease renewed by heartbeats while the page is open, idle after
// a while without input (the server decides when idle counts as Away), signed out on sign-out.
import { put, post, del, enc } from './api.js';

const TTL_SECONDS = 90;
const BEAT_MS = 30_000;
const IDLE_AFTER_MS = 60_000;

let timer = null;
let deviceId = null;
let lastInput = Date.now();
let idleSent = false;

function markInput() {
  lastInput = Date.now();
  if (idleSent) report(); // back from idle: say so at once
}

function body() {
  const idle = Date.now() - lastInput > IDLE_AFTER_MS;
  idleSent = idle;
  return { kind: 'Web', ttlSeconds: TTL_SECONDS, capabilities: ['chat'], idleSince: idle ? new Date(lastInput).toISOString() : null };
}

async function report() {
  if (!deviceId) return;
  try { await put(`/api/v1/me/devices/${enc(deviceId)}`, body()); } catch { /* the next beat retries */ }
}

async function beat() {
  if (!deviceId) return;
  const idle = Date.now() - lastInput > IDLE_AFTER_MS;
  if (idle !== idleSent) return report();
  try { await post(`/api/v1/me/devices/${enc(deviceId)}/heartbeat`); } catch { await report(); } // 404 after a restart: start again
}

export function startDevice() {
  deviceId = sessionStorage.getItem('herald.device') || `web-${crypto.getRandomValues(new Uint32Array(1))[0].toString(36)}`;
  sessionStorage.setItem('herald.device', deviceId);
  for (const e of ['pointerdown', 'keydown', 'focus']) window.addEventListener(e, markInput, { passive: true });
  report();
  clearInterval(timer);
  timer = setInterval(beat, BEAT_MS);
}

/** Re-announces the device (after the server came back: leases live in memory only). */
export function reannounce() { return report(); }

export async function stopDevice() {
  clearInterval(timer);
  const id = deviceId;
  deviceId = null;
  if (id) { try { await del(`/api/v1/me/devices/${enc(id)}`); } catch { /* gone already */ } }
}
