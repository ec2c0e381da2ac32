// Admin, the office's other screens: courses with their timetable and
// roster, and invoices with payments.

import { api, get, post, del, qs } from './api.js';
import { h, mount, link, field, showFieldErrors, problemBox, flash, money, WEEKDAYS } from './ui.js';
import { showProblem } from './forms.js';

async function allPages(path, params = {}) {
  const items = [];
  let cursor;
  do {
    const page = await get(`${path}${qs({ ...params, limit: 100, cursor })}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

function table(id, heads, rows) {
  return h('div', { class: 'table-wrap' }, h('table', { id },
    h('thead', {}, h('tr', {}, heads.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows)));
}

export async function courses() {
  const list = await allPages('/courses');
  mount(h('h1', {}, 'Courses'),
    list.length ? table('courses', ['Course (timetable and roster)', 'Term', 'Enrolled'], list.map((c) => h('tr', {},
      h('td', {}, link(`/admin/courses/${c.id}`, `${c.code} · ${c.name}`)), h('td', {}, c.term),
      h('td', {}, `${c.enrolled} / ${c.capacity}`)))) : h('p', { class: 'muted' }, 'No courses yet.'));
}

export async function course(id) {
  const [c, roster] = await Promise.all([get(`/courses/${encodeURIComponent(id)}`), allPages(`/courses/${encodeURIComponent(id)}/enrolments`)]);
  const slot = {
    weekday: h('select', { name: 'weekday' }, WEEKDAYS.slice(1).map((d, i) => h('option', { value: String(i + 1) }, d))),
    start: h('input', { type: 'time', name: 'start' }),
    end: h('input', { type: 'time', name: 'end' }),
    room: h('input', { type: 'text', name: 'room' }),
  };
  const slotOut = h('div', {});
  const slotForm = h('form', { class: 'card', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    try {
      await post(`/courses/${c.id}/slots`, { weekday: Number(slot.weekday.value), start: slot.start.value, end: slot.end.value, room: slot.room.value.trim() });
      flash('Slot added.');
      await course(id);
    } catch (err) {
      showProblem(slotForm, err, slotOut);
    }
  } }, h('h2', {}, 'Add a timetable slot'), h('div', { class: 'row' },
    field('Day', slot.weekday, 'weekday'), field('Start', slot.start, 'start'), field('End', slot.end, 'end'), field('Room', slot.room, 'room')),
  slotOut, h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Add slot')));

  const admission = h('input', { type: 'text', name: 'admission_no' });
  const enrolOut = h('div', {});
  const enrolForm = h('form', { class: 'card', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    enrolOut.replaceChildren();
    try {
      const found = await get(`/students${qs({ q: admission.value.trim(), limit: 5 })}`);
      const s = found.items.find((x) => x.admission_no === admission.value.trim());
      if (!s) {
        showFieldErrors(enrolForm, { admission_no: 'No student has this admission number.' });
        return;
      }
      await post(`/courses/${c.id}/enrolments`, { student_id: s.id });
      flash(`${s.given_name} ${s.family_name} enrolled.`);
      await course(id);
    } catch (err) {
      enrolOut.replaceChildren(problemBox(err));
    }
  } }, h('h2', {}, 'Enrol a student'), field('Admission number', admission, 'admission_no'), enrolOut,
  h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Enrol')));

  const active = roster.filter((e) => !e.withdrawn_at);
  mount(h('h1', {}, `${c.code} · ${c.name} (${c.term})`),
    h('h2', {}, 'Timetable'),
    c.slots.length ? h('ul', { class: 'plain' }, c.slots.map((s) => h('li', {}, `${WEEKDAYS[s.weekday]} ${s.start}–${s.end}, room ${s.room}`))) : h('p', { class: 'muted' }, 'No slots yet.'),
    slotForm,
    h('h2', {}, `Roster (${active.length} of ${c.capacity})`),
    active.length ? table('roster', ['Student', 'Admission no.', ''], active.map((e) => h('tr', {},
      h('td', {}, `${e.family_name}, ${e.given_name}`), h('td', {}, e.admission_no),
      h('td', {}, h('button', { type: 'button', class: 'secondary', onclick: async () => {
        try {
          await del(`/courses/${c.id}/enrolments/${e.student_id}`);
          flash(`${e.given_name} ${e.family_name} withdrawn.`);
          await course(id);
        } catch (err) {
          enrolOut.replaceChildren(problemBox(err));
        }
      } }, `Withdraw ${e.given_name}`))))) : h('p', { class: 'muted' }, 'Nobody enrolled.'),
    enrolForm, link('/admin/courses', 'Back to courses'));
}

const STATUS = { draft: 'draft', issued: 'issued', partially_paid: 'partly paid', paid: 'paid', void: 'void' };

export async function invoices() {
  const status = h('select', { name: 'status', id: 'invoice-status' }, ['', 'draft', 'issued', 'partially_paid', 'paid', 'void'].map((s) => h('option', { value: s }, s ? STATUS[s] : 'Any status')));
  const body = h('tbody', {});
  const out = h('div', { role: 'status', 'aria-live': 'polite' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Next page');
  let cursor = null;
  async function load(reset) {
    if (reset) cursor = null;
    const page = await get(`/invoices${qs({ status: status.value, limit: 25, cursor })}`);
    body.replaceChildren(...page.items.map(row));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    out.textContent = page.items.length ? '' : 'No invoices.';
  }
  function row(inv) {
    const amount = h('input', { type: 'number', min: '0.01', step: '0.01', name: 'amount', 'aria-label': `Payment amount for invoice ${inv.id.slice(0, 8)}` });
    const pay = h('form', { class: 'row', onsubmit: async (e) => {
      e.preventDefault();
      try {
        const minor = Math.round(Number(amount.value) * 100);
        // One key per attempt: a retried request is never applied twice.
        await api(`/invoices/${inv.id}/payments`, { method: 'POST', body: { amount: minor, currency: inv.currency, method: 'cash' },
          headers: { 'Idempotency-Key': crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}` } });
        flash('Payment recorded.');
        await load(true);
      } catch (err) {
        out.replaceChildren(problemBox(err));
      }
    } }, amount, h('button', { type: 'submit' }, 'Record payment'));
    return h('tr', {},
      h('td', {}, link(`/admin/students/${inv.student_id}/invoices`, `Invoices of student ${inv.student_id.slice(0, 8)}`)),
      h('td', {}, STATUS[inv.status] || inv.status || ''), h('td', {}, money(inv.total, inv.currency)),
      h('td', {}, money(inv.amount_due, inv.currency)), h('td', {}, inv.due_on || ''),
      h('td', {}, inv.amount_due > 0 && inv.status !== 'void' && inv.status !== 'draft' ? pay : '—'));
  }
  status.addEventListener('change', () => load(true).catch((err) => out.replaceChildren(problemBox(err))));
  more.addEventListener('click', () => load(false).catch((err) => out.replaceChildren(problemBox(err))));
  mount(h('h1', {}, 'Invoices'), field('Status', status, 'status'), out,
    h('div', { class: 'table-wrap' }, h('table', { id: 'invoices' },
      h('thead', {}, h('tr', {}, ['Student', 'Status', 'Total', 'Due', 'Due on', 'Payment'].map((t) => h('th', { scope: 'col' }, t)))), body)),
    h('div', { class: 'actions' }, more));
  await load(true);
}

