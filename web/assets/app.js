// The console's shell: sign-in, the header for the signed-in role, the
// router (history API; the gateway answers every console path with
// index.html) and the realtime channel.

import { api, ApiError, session, fromTokens, renew, onUnauthorized, onWaiting } from './api.js';
import { h, mount, link, field, problemBox, flash } from './ui.js';
import { connectLive } from './live.js';
import * as teacher from './teacher.js';
import * as guardian from './guardian.js';
import * as admin from './admin.js';
import * as office from './office.js';
import * as guardians from './guardians.js';
import * as fees from './fees.js';

const HOME = { admin: '/admin', teacher: '/teacher', guardian: '/guardian' };

const routes = [
  [/^\/signin$/, null, signIn],
  [/^\/admin$/, 'admin', admin.dashboard],
  [/^\/admin\/students$/, 'admin', admin.students],
  [/^\/admin\/students\/new$/, 'admin', admin.studentForm],
  [/^\/admin\/students\/([^/]+)\/invoices$/, 'admin', fees.studentInvoices],
  [/^\/admin\/students\/([^/]+)$/, 'admin', admin.studentForm],
  [/^\/admin\/guardians$/, 'admin', guardians.guardians],
  [/^\/admin\/guardians\/new$/, 'admin', guardians.guardianForm],
  [/^\/admin\/guardians\/([^/]+)$/, 'admin', guardians.guardianForm],
  [/^\/admin\/import$/, 'admin', admin.importStudents],
  [/^\/admin\/courses$/, 'admin', office.courses],
  [/^\/admin\/courses\/([^/]+)$/, 'admin', office.course],
  [/^\/admin\/invoices$/, 'admin', office.invoices],
  [/^\/teacher$/, 'teacher', teacher.today],
  [/^\/teacher\/courses\/([^/]+)\/attendance\/(\d{4}-\d{2}-\d{2})$/, 'teacher', teacher.sheet],
  [/^\/teacher\/courses\/([^/]+)\/assessments$/, 'teacher', teacher.assessments],
  [/^\/teacher\/assessments\/([^/]+)$/, 'teacher', teacher.gradeSheet],
  [/^\/guardian$/, 'guardian', guardian.home],
  [/^\/guardian\/children\/([^/]+)$/, 'guardian', guardian.child],
  [/^\/guardian\/inbox$/, 'guardian', guardian.inbox],
];

const NAV = {
  admin: [['/admin', 'Dashboard'], ['/admin/students', 'Students'], ['/admin/guardians', 'Guardians'], ['/admin/import', 'Import'], ['/admin/courses', 'Courses'], ['/admin/invoices', 'Invoices']],
  teacher: [['/teacher', 'Today']],
  guardian: [['/guardian', 'Children'], ['/guardian/inbox', 'Inbox']],
};

// What every screen may use: the school, the live channel's listeners.
export const ctx = { school: null, listeners: new Set(), unread: 0, live: null };
let live = null;
let expiry = null;

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  render();
}

export function setUnread(n) {
  ctx.unread = n;
  const badge = document.getElementById('unread');
  if (badge) {
    badge.textContent = String(n);
    badge.hidden = n === 0;
    badge.setAttribute('aria-label', `${n} unread`);
  }
}

function header(s) {
  const top = document.getElementById('top');
  if (!s) {
    top.replaceChildren(h('span', { class: 'brand' }, 'Schoolhouse'));
    return;
  }
  const items = (NAV[s.user.role] || []).map(([href, text]) => {
    const a = link(href, text);
    if (href === '/guardian/inbox') a.append(' ', h('span', { id: 'unread', class: 'badge', hidden: ctx.unread === 0 }, String(ctx.unread)));
    if (location.pathname === href) a.setAttribute('aria-current', 'page');
    return h('li', {}, a);
  });
  top.replaceChildren(
    h('span', { class: 'brand' }, ctx.school ? ctx.school.name : 'Schoolhouse'),
    h('nav', { 'aria-label': 'Main' }, h('ul', {}, items)),
    h('span', { id: 'live-state' }, ctx.live === 'live' ? 'Live' : ctx.live === 'offline' ? 'Offline: reconnecting…' : ''),
    h('span', {}, `${s.user.full_name} (${s.user.role})`),
    h('button', { type: 'button', class: 'link', id: 'signout', onclick: () => signOutHere() }, 'Sign out'),
  );
}

// The user's sign-out: the server ends the session too (its tokens stop
// working everywhere), then this tab forgets it.
async function signOutHere() {
  if (session.get()) await api('/auth/logout', { method: 'POST' }).catch(() => {});
  signOut('You are signed out.');
}

function signOut(message) {
  session.clear();
  if (live) live.close();
  live = null;
  clearTimeout(expiry);
  ctx.school = null;
  ctx.listeners.clear();
  setUnread(0);
  document.getElementById('alerts').replaceChildren();
  navigate('/signin', { replace: true });
  if (message) flash(message);
}

onUnauthorized(() => signOut('Your session has ended: sign in again.'));
// Shown for as long as the wait lasts.
onWaiting((secs) => flash(`The server is busy: retrying in ${secs} s…`, (secs + 1) * 1000));

// Renews the access token a minute before it expires (it lasts minutes);
// offline, tries again shortly; a session that has ended signs out.
function scheduleRenewal() {
  clearTimeout(expiry);
  const s = session.get();
  if (!s) return;
  expiry = setTimeout(async () => {
    const r = await renew();
    if (r === false) signOut('Your session has ended: sign in again.');
    else if (r === true) scheduleRenewal();
    else expiry = setTimeout(scheduleRenewal, 5000);
  }, Math.max(5000, s.expires - Date.now() - 60000));
}

async function startSession() {
  const s = session.get();
  scheduleRenewal();
  try {
    ctx.school = await api('/school');
  } catch (e) {
    if (e.status === 401) return;
  }
  if (!live) {
    live = connectLive({
      onMessage: (m) => ctx.listeners.forEach((f) => f(m)),
      onOpen: () => ctx.listeners.forEach((f) => f({ kind: 'console.reconnected' })),
      onState: (state) => {
        ctx.live = state;
        const el = document.getElementById('live-state');
        if (el) el.textContent = state === 'live' ? 'Live' : 'Offline: reconnecting…';
      },
    });
  }
  if (s.user.role === 'guardian') guardian.watch(ctx);
}

function signIn() {
  if (session.get()) return navigate(HOME[session.get().user.role] || '/admin', { replace: true });
  const school = h('input', { type: 'text', name: 'school', autocomplete: 'organization', required: true });
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const out = h('div', {});
  const button = h('button', { type: 'submit' }, 'Sign in');
  const form = h('form', { class: 'card', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    out.replaceChildren();
    button.disabled = true;
    const started = performance.now();
    try {
      const t = await api('/auth/login', { method: 'POST', body: { school: school.value.trim(), email: email.value.trim(), password: password.value } });
      session.set(fromTokens(t));
      if (t.must_change_password) return newPassword(password.value);
      window.__signinStarted = started;
      await startSession();
      navigate(HOME[t.user.role] || '/signin', { replace: true });
    } catch (err) {
      password.value = '';
      out.replaceChildren(problemBox(err instanceof ApiError ? err : new ApiError(0)));
      const f = err.fields || {};
      for (const [name, input] of [['school', school], ['email', email], ['password', password]]) {
        const slot = form.querySelector(`[data-error-for="${name}"]`);
        slot.textContent = f[name] || '';
        if (f[name]) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid');
      }
    } finally {
      button.disabled = false;
    }
  } },
  field('School', school, 'school'), field('E-mail', email, 'email'), field('Password', password, 'password'),
  out, h('div', { class: 'actions' }, button));
  mount(h('div', { class: 'signin' }, h('h1', {}, 'Sign in to Schoolhouse'), form));
  school.focus();
}

// After an admin's reset: the temporary password must be replaced before
// anything else (the server refuses every other call until then).
function newPassword(current) {
  const next = h('input', { type: 'password', name: 'new_password', autocomplete: 'new-password', required: true, minlength: 10 });
  const out = h('div', {});
  const button = h('button', { type: 'submit' }, 'Save the new password');
  const form = h('form', { class: 'card', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    out.replaceChildren();
    button.disabled = true;
    try {
      const t = await api('/auth/password', { method: 'POST', body: { current_password: current, new_password: next.value } });
      session.set(fromTokens(t));
      await startSession();
      navigate(HOME[t.user.role] || '/signin', { replace: true });
    } catch (err) {
      out.replaceChildren(problemBox(err instanceof ApiError ? err : new ApiError(0)));
      const f = err.fields || {};
      const slot = form.querySelector('[data-error-for="new_password"]');
      slot.textContent = f.new_password || '';
      if (f.new_password) next.setAttribute('aria-invalid', 'true'); else next.removeAttribute('aria-invalid');
    } finally {
      button.disabled = false;
    }
  } },
  h('p', {}, 'Your password was reset by an administrator. Choose a new one (at least 10 characters) to continue.'),
  field('New password', next, 'new_password'), out, h('div', { class: 'actions' }, button));
  mount(h('div', { class: 'signin' }, h('h1', {}, 'Choose a new password'), form));
  next.focus();
}

async function render() {
  const s = session.get();
  const path = location.pathname;
  // A reload in the middle of a forced change: sign in again to finish it.
  if (s && s.mustChange) {
    session.clear();
    return navigate('/signin', { replace: true });
  }
  if (!s && path !== '/signin') return navigate('/signin', { replace: true });
  if (s && (path === '/' || path === '')) return navigate(HOME[s.user.role] || '/signin', { replace: true });
  header(s);
  for (const [re, role, screen] of routes) {
    const m = path.match(re);
    if (!m) continue;
    if (role && s.user.role !== role) break;
    try {
      await screen(...m.slice(1));
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return;
      mount(h('h1', {}, err.status === 404 ? 'Not found' : 'Something went wrong'),
        problemBox(err instanceof ApiError ? err : new ApiError(0, { detail: String(err) })));
    }
    return;
  }
  mount(h('h1', {}, 'Not found'), h('p', {}, 'There is no such page. '), s ? link(HOME[s.user.role] || '/', 'Go to your start page') : null);
}

document.addEventListener('click', (e) => {
  const a = e.target.closest('a[data-link]');
  if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
  e.preventDefault();
  navigate(a.getAttribute('href'));
});
addEventListener('popstate', render);

if (session.get()) startSession().then(render);
else render();
