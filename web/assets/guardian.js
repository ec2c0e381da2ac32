// Guardian: their children, each child's attendance, published grades and
// balance; the inbox with its unread badge, kept current over the
// realtime channel (and caught up from the inbox on every reconnect).

import { get, post, qs, ApiError } from './api.js';
import { h, mount, link, today, addDays, money, fmtDate, problemBox } from './ui.js';
import { ctx, setUnread } from './app.js';

// Notifications already alerted, or already unread when the session
// began: a live message and the catch-up after a reconnect may both bring
// the same one, and it is shown once.
let seen = new Set();
// Filled once per session before any catch-up compares against it.
let primed = Promise.resolve();

function alertOf(n) {
  if (n.id && seen.has(n.id)) return;
  if (n.id) seen.add(n.id);
  document.getElementById('alerts').append(h('div', { class: 'alert' }, n.title || 'New notification', ' ', link('/guardian/inbox', 'Open the inbox')));
}

// After a (re)connect: messages sent while the socket was down are not
// replayed, so the unread notifications not seen yet are read from the
// inbox and alerted as if they had come live.
async function catchUp() {
  try {
    await primed;
    const page = await get('/me/notifications?unread=true&limit=20');
    setUnread(page.unread);
    page.items.slice().reverse().forEach(alertOf);
    if (location.pathname === '/guardian/inbox' && page.items.some((n) => !n.read_at)) inbox();
  } catch {
    // The next message or reconnect tries again.
  }
}

// One listener per session: sign-out clears the listeners, a new sign-in
// adds it again.
function onLive(m) {
  if (m.kind === 'console.reconnected') {
    catchUp();
    return;
  }
  if (m.kind !== 'notification.created') return;
  alertOf(m.payload || {});
  refreshUnread();
  if (location.pathname === '/guardian/inbox') inbox();
}

export function watch(c) {
  if (c.listeners.has(onLive)) return;
  c.listeners.add(onLive);
  seen = new Set();
  primed = get('/me/notifications?unread=true&limit=100')
    .then((page) => {
      page.items.forEach((n) => seen.add(n.id));
      setUnread(page.unread);
    })
    .catch(() => {});
}

async function refreshUnread() {
  try {
    const page = await get('/me/notifications?limit=1');
    setUnread(page.unread);
  } catch {
    // The badge waits for the next message or reconnect.
  }
}

export async function home() {
  const children = await get('/me/children');
  mount(
    h('h1', {}, 'Your children'),
    children.items.length
      ? h('ul', { class: 'plain', id: 'children' }, children.items.map((s) => h('li', {},
        link(`/guardian/children/${s.id}`, `${s.given_name} ${s.family_name}`),
        h('span', { class: 'muted' }, ` · grade ${s.grade_level}${s.section ? ` ${s.section}` : ''} · ${s.admission_no}`))))
      : h('p', {}, 'No children are linked to your account yet: ask the school office.'),
  );
}

export async function child(id) {
  const { date } = today(ctx.school && ctx.school.time_zone);
  const from = addDays(date, -29);
  let attendance;
  let grades;
  let balance;
  try {
    [attendance, grades, balance] = await Promise.all([
      get(`/students/${encodeURIComponent(id)}/attendance${qs({ from, to: date })}`),
      get(`/students/${encodeURIComponent(id)}/grades${qs({ limit: 100 })}`),
      get(`/students/${encodeURIComponent(id)}/balance`),
    ]);
  } catch (err) {
    // Not one of theirs answers 404, exactly as an id that does not exist.
    if (err instanceof ApiError && (err.status === 404 || err.status === 400)) {
      mount(h('h1', {}, 'Child not found'),
        h('p', { class: 'problem', id: 'not-found' }, 'There is no child of yours at this address. Choose one of your children below.'),
        link('/guardian', 'Your children'));
      return;
    }
    throw err;
  }
  const children = await get('/me/children');
  const s = children.items.find((c) => c.id === id);
  const name = s ? `${s.given_name} ${s.family_name}` : 'Your child';
  const days = attendance.days.filter((d) => d.present + d.absent + d.late + d.excused > 0);
  const total = days.reduce((a, d) => ({ p: a.p + d.present + d.late, all: a.all + d.present + d.absent + d.late + d.excused }), { p: 0, all: 0 });
  mount(
    h('h1', {}, name),
    h('h2', {}, 'Attendance, last 30 days'),
    h('p', {}, total.all ? `Present (or late) at ${total.p} of ${total.all} sessions.` : 'No sessions marked yet.'),
    days.length ? h('div', { class: 'table-wrap' }, h('table', { id: 'child-attendance' },
      h('thead', {}, h('tr', {}, ['Date', 'Present', 'Absent', 'Late', 'Excused'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, days.slice().reverse().map((d) => h('tr', { class: d.absent ? 'absent' : '' },
        h('td', {}, d.date), h('td', {}, d.present), h('td', { class: d.absent ? 'status-absent' : '' }, d.absent ? `${d.absent} absent` : '0'), h('td', {}, d.late), h('td', {}, d.excused)))))) : null,
    h('h2', {}, 'Published grades'),
    grades.items.length ? h('div', { class: 'table-wrap' }, h('table', { id: 'child-grades' },
      h('thead', {}, h('tr', {}, ['Course', 'Assessment', 'Score', 'Due'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, grades.items.map((g) => h('tr', {},
        h('td', {}, g.course_code), h('td', {}, g.title), h('td', {}, `${g.score} / ${g.max_score}`), h('td', {}, g.due_date || '')))))) : h('p', { class: 'muted' }, 'No published grades yet.'),
    h('h2', {}, 'Balance'),
    balance.balances.length ? h('ul', { class: 'plain', id: 'child-balance' }, balance.balances.map((b) => h('li', {},
      `Due: ${money(b.balance_due, b.currency)} (invoiced ${money(b.total_invoiced, b.currency)}, paid ${money(b.total_paid, b.currency)})`)))
      : h('p', { class: 'muted' }, 'Nothing invoiced.'),
  );
}

export async function inbox() {
  const page = await get('/me/notifications?limit=50');
  setUnread(page.unread);
  const out = h('div', {});
  const unread = page.items.filter((n) => !n.read_at);
  const markAll = h('button', { type: 'button', id: 'mark-read', disabled: unread.length === 0, onclick: async () => {
    try {
      await post('/me/notifications/read', { ids: unread.slice(0, 100).map((n) => n.id) });
      document.getElementById('alerts').replaceChildren();
      await inbox();
    } catch (err) {
      out.replaceChildren(problemBox(err));
    }
  } }, 'Mark all as read');
  mount(
    h('h1', {}, `Inbox (${page.unread} unread)`),
    h('div', { class: 'actions' }, markAll),
    out,
    page.items.length ? h('ul', { class: 'plain', id: 'inbox' }, page.items.map((n) => h('li', { class: n.read_at ? '' : 'unread' },
      h('div', {}, n.title), h('div', { class: 'muted' }, `${n.body} · ${fmtDate(n.created_at)}`)))) : h('p', {}, 'No notifications.'),
  );
}
