// REST calls with the bearer token kept in sessionStorage (per tab, gone when the tab closes).
const KEY = 'herald.session';

export const session = {
  get() {
    try { return JSON.parse(sessionStorage.getItem(KEY) || 'null'); } catch { return null; }
  },
  set(s) { sessionStorage.setItem(KEY, JSON.stringify(s)); },
  clear() { sessionStorage.removeItem(KEY); },
};

/** An API error: the RFC 9457 problem details, flattened into one readable message. */
export class ApiError extends Error {
  constructor(status, problem) {
    const fields = problem?.errors ? Object.entries(problem.errors).map(([k, v]) => `${k}: ${[].concat(v).join(', ')}`) : [];
    super(fields.length ? fields.join('; ') : (problem?.detail || problem?.title || `HTTP ${status}`));
    this.status = status;
    this.problem = problem;
  }
}

let onUnauthorized = () => {};
export function setUnauthorizedHandler(f) { onUnauthorized = f; }

/** Calls the API; JSON in and out. `body` may be a string (sent as is with `type`). */
export async function api(method, path, body, { type = 'application/json', signal } = {}) {
  const headers = {};
  const s = session.get();
  if (s?.token) headers.Authorization = `Bearer ${s.token}`;
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = type;
    payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const r = await fetch(path, { method, headers, body: payload, signal, cache: 'no-store' });
  if (r.status === 401 && s?.token) onUnauthorized();
  if (r.status === 204) return null;
  const text = await r.text();
  let data = null;
  if (text) { try { data = JSON.parse(text); } catch { data = { detail: text }; } }
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

export const get = (p, o) => api('GET', p, undefined, o);
export const put = (p, b, o) => api('PUT', p, b, o);
export const post = (p, b, o) => api('POST', p, b, o);
export const del = (p, o) => api('DELETE', p, undefined, o);
export const enc = encodeURIComponent;
