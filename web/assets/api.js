// The console's only way to the server: the public /api/v1 on this origin.
// The tokens live in sessionStorage (this tab only, gone when it closes),
// never in a URL. The access token lasts minutes: it is renewed with the
// refresh token before it expires, and once more when a call meets a 401.
// Errors are problem+json, surfaced as ApiError.

const KEY = 'schoolhouse.session';

export const session = {
  get() {
    try {
      const s = JSON.parse(sessionStorage.getItem(KEY));
      return s && s.token && s.refresh ? s : null;
    } catch {
      return null;
    }
  },
  set(s) { sessionStorage.setItem(KEY, JSON.stringify(s)); },
  clear() { sessionStorage.removeItem(KEY); },
};

// A session from a token response (sign-in, refresh, password change).
export function fromTokens(t) {
  return {
    token: t.access_token,
    refresh: t.refresh_token,
    user: t.user,
    expires: Date.now() + t.expires_in * 1000,
    mustChange: !!t.must_change_password,
  };
}

let renewing = null;
// Spends the refresh token for a new pair, once for all callers at a time:
// true (renewed), false (the session has ended), null (offline: try later).
export function renew() {
  if (!renewing) {
    renewing = (async () => {
      const s = session.get();
      if (!s) return false;
      let res;
      try {
        res = await fetch('/api/v1/auth/refresh', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify({ refresh_token: s.refresh }),
        });
      } catch {
        return null;
      }
      if (res.status === 429 || res.status >= 500) return null;
      if (!res.ok) return false;
      session.set(fromTokens(await res.json()));
      return true;
    })().finally(() => { renewing = null; });
  }
  return renewing;
}

export class ApiError extends Error {
  constructor(status, problem) {
    const p = problem && typeof problem === 'object' ? problem : {};
    super(p.detail || p.title || (status ? `The server answered ${status}.` : 'The server cannot be reached.'));
    this.status = status;
    this.problem = p;
  }
  // field -> message, from the problem's `errors`.
  get fields() {
    const out = {};
    for (const e of this.problem.errors || []) if (e.field && !out[e.field]) out[e.field] = e.message;
    return out;
  }
}

let unauthorized = () => {};
let waiting = () => {};
export function onUnauthorized(f) { unauthorized = f; }
export function onWaiting(f) { waiting = f; }

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// No request leaves before this time (ms): a 429's Retry-After holds back
// every call of the tab, not only the refused one, so calls in flight
// together do not keep spending the budget they are waiting for.
let notBefore = 0;
// How long one call keeps waiting out 429s before it reports the refusal.
const MAX_WAIT_MS = 120000;

// One API call. JSON in and out unless `body` is a string (sent as is,
// with the caller's Content-Type). 429 (and a 503 with Retry-After) waits
// for Retry-After, then retries with the same request (an Idempotency-Key
// included), for up to two minutes in all.
export async function api(path, { method = 'GET', body, headers = {} } = {}) {
  const auth = path.startsWith('/auth/login') || path.startsWith('/auth/refresh');
  if (!auth && session.get() && session.get().expires - Date.now() < 5000) await renew();
  const h = { Accept: 'application/json', ...headers };
  const bearer = () => {
    const s = session.get();
    if (s && !auth) h.Authorization = `Bearer ${s.token}`;
  };
  bearer();
  let renewed = false;
  let payload = body;
  if (body !== undefined && typeof body !== 'string') {
    h['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  for (let waited = 0; ;) {
    const hold = notBefore - Date.now();
    if (hold > 0) {
      waiting(Math.ceil(hold / 1000));
      await sleep(hold);
      waited += hold;
    }
    let res;
    try {
      res = await fetch(`/api/v1${path}`, { method, headers: h, body: payload });
    } catch {
      throw new ApiError(0, { title: 'Offline', detail: 'The server cannot be reached. Check the connection and try again.' });
    }
    // 429, or a 503 that says when to come back (rate limiter away).
    const retryable = res.status === 429 || (res.status === 503 && res.headers.has('Retry-After'));
    if (retryable && waited < MAX_WAIT_MS) {
      const wait = Math.min(120, Math.max(1, Number(res.headers.get('Retry-After')) || 1));
      notBefore = Math.max(notBefore, Date.now() + wait * 1000);
      continue;
    }
    const type = res.headers.get('Content-Type') || '';
    let data = null;
    if (res.status !== 204) data = type.includes('json') ? await res.json().catch(() => null) : await res.text();
    if (res.ok) return data;
    if (res.status === 401 && !auth) {
      // Expired, or revoked: one renewal, then the same request again.
      const r = renewed ? false : await renew();
      renewed = true;
      if (r === true) {
        bearer();
        continue;
      }
      if (r === false) {
        session.clear();
        unauthorized();
      }
    }
    throw new ApiError(res.status, data);
  }
}

export const get = (path) => api(path);
export const post = (path, body, opts = {}) => api(path, { ...opts, method: 'POST', body });
export const put = (path, body) => api(path, { method: 'PUT', body });
export const patch = (path, body) => api(path, { method: 'PATCH', body });
export const del = (path) => api(path, { method: 'DELETE' });

export function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : '';
}
