// Admin: guardians and their links to students. The list (keyset paging,
// narrowed to one student's guardians, filtered as you type), create and
// edit with each field's error beside it (a stale edit shows the newer
// version), and the guardian's children: link by admission number, unlink.

import { get, put, del, qs } from './api.js';
import { h, mount, link, field, showFieldErrors, problemBox, flash } from './ui.js';
import { recordForm, changedFields, showProblem } from './forms.js';

const RELATIONSHIPS = ['mother', 'father', 'guardian', 'grandparent', 'other'];
const CHANNELS = [['sms', 'SMS (needs a phone)'], ['email', 'E-mail (needs an address)'], ['push', 'Console and app']];

const name = (p) => `${p.given_name} ${p.family_name}`;

function relationshipSelect(attrs, withDefault) {
  return h('select', attrs,
    withDefault ? h('option', { value: '' }, "The guardian's own") : null,
    RELATIONSHIPS.map((r) => h('option', { value: r }, r)));
}

// The student whose admission number is exactly `no`, or null.
async function studentByAdmission(no) {
  const found = await get(`/students${qs({ q: no, limit: 10 })}`);
  return found.items.find((s) => s.admission_no === no) || null;
}

export async function guardians() {
  // `?student=<id>` (from a student's page) narrows to that student's guardians.
  const params = new URLSearchParams(location.search);
  let student = params.get('student') ? await get(`/students/${encodeURIComponent(params.get('student'))}`) : null;
  const filter = h('input', { type: 'search', name: 'filter', id: 'guardian-filter', placeholder: 'Name, e-mail or phone' });
  const who = h('input', { type: 'search', name: 'student', id: 'guardian-student', placeholder: 'Student name or admission number' });
  const matches = h('ul', { class: 'plain', id: 'student-matches', 'aria-live': 'polite' });
  const scope = h('p', { id: 'guardian-scope' });
  const info = h('p', { role: 'status', 'aria-live': 'polite', id: 'guardians-info' });
  const body = h('tbody', {});
  const more = h('button', { type: 'button', class: 'secondary', id: 'guardians-more', hidden: true }, 'Load more');
  let rows = [];
  let cursor = null;

  function show() {
    const f = filter.value.trim().toLowerCase();
    const shown = f ? rows.filter((g) => [name(g), g.email || '', g.phone || ''].some((x) => x.toLowerCase().includes(f))) : rows;
    body.replaceChildren(...shown.map((g) => h('tr', {},
      h('td', {}, link(`/admin/guardians/${g.id}`, `${g.family_name}, ${g.given_name}`)),
      h('td', {}, g.relationship || ''), h('td', {}, g.phone || '—'), h('td', {}, g.email || '—'),
      h('td', {}, String(g.students.length)), h('td', {}, g.user_id ? 'yes' : 'no'))));
    info.textContent = rows.length
      ? `${shown.length} of ${rows.length} loaded guardian(s) shown${cursor ? '; more to load' : ''}.`
      : 'No guardians.';
  }
  async function load(reset) {
    if (reset) { rows = []; cursor = null; }
    try {
      const page = await get(`/guardians${qs({ student_id: student && student.id, limit: 25, cursor })}`);
      rows = rows.concat(page.items);
      cursor = page.next_cursor;
      more.hidden = !cursor;
      show();
    } catch (err) {
      info.replaceChildren(problemBox(err));
    }
  }
  function setStudent(s) {
    student = s;
    matches.replaceChildren();
    scope.replaceChildren(...(s ? [`Guardians of ${name(s)} (${s.admission_no}). `,
      h('button', { type: 'button', class: 'link', id: 'all-guardians', onclick: () => { history.replaceState(null, '', '/admin/guardians'); setStudent(null); } }, 'Show all guardians')]
      : ['All guardians of the school, in name order.']));
    if (s) history.replaceState(null, '', `/admin/guardians?student=${s.id}`);
    load(true);
  }
  let timer;
  let seq = 0;
  who.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = who.value.trim();
      const mine = ++seq;
      if (!q) { matches.replaceChildren(); return; }
      try {
        const found = await get(`/students${qs({ q, limit: 5 })}`);
        if (mine !== seq) return; // a newer search answered first
        matches.replaceChildren(...(found.items.length
          ? found.items.map((s) => h('li', {}, h('button', { type: 'button', class: 'secondary', onclick: () => setStudent(s) },
            `Guardians of ${name(s)} (${s.admission_no})`)))
          : [h('li', {}, 'No student matches.')]));
      } catch (err) {
        matches.replaceChildren(h('li', {}, problemBox(err)));
      }
    }, 250);
  });
  filter.addEventListener('input', show);
  more.addEventListener('click', () => load(false));
  mount(h('h1', {}, 'Guardians'),
    h('div', { class: 'row', role: 'search' },
      field('Filter the loaded guardians', filter, 'filter'),
      field("A student's guardians", who, 'student'),
      h('div', { class: 'shrink' }, link('/admin/guardians/new', 'New guardian', { id: 'new-guardian' }))),
    matches, scope, info,
    h('div', { class: 'table-wrap' }, h('table', { id: 'guardians' },
      h('thead', {}, h('tr', {}, ['Name', 'Relationship', 'Phone', 'E-mail', 'Children', 'Portal login'].map((t) => h('th', { scope: 'col' }, t)))), body)),
    h('div', { class: 'actions' }, more));
  setStudent(student);
}

export async function guardianForm(id) {
  const current = id ? await get(`/guardians/${encodeURIComponent(id)}`) : null;
  const inputs = {
    given_name: h('input', { type: 'text', name: 'given_name', id: 'guardian-given_name', autocomplete: 'off' }),
    family_name: h('input', { type: 'text', name: 'family_name', id: 'guardian-family_name', autocomplete: 'off' }),
    relationship: relationshipSelect({ name: 'relationship', id: 'guardian-relationship' }, false),
    phone: h('input', { type: 'tel', name: 'phone', id: 'guardian-phone', placeholder: '+447911123456', autocomplete: 'off' }),
    email: h('input', { type: 'email', name: 'email', id: 'guardian-email', autocomplete: 'off' }),
    preferred_language: h('input', { type: 'text', name: 'preferred_language', id: 'guardian-preferred_language', maxlength: '2', placeholder: 'en', autocomplete: 'off' }),
  };
  const TEXT = ['given_name', 'family_name', 'phone', 'email', 'preferred_language'];
  const channels = {};
  for (const [c] of CHANNELS) channels[c] = h('input', { type: 'checkbox', name: `notifications.${c}`, id: `guardian-notify-${c}` });
  const login = {
    email: h('input', { type: 'email', name: 'login.email', id: 'guardian-login-email', autocomplete: 'off' }),
    password: h('input', { type: 'password', name: 'login.password', id: 'guardian-login-password', autocomplete: 'new-password' }),
  };
  const fill = (g) => {
    for (const k of TEXT) inputs[k].value = g[k] || '';
    inputs.relationship.value = g.relationship || 'guardian';
    for (const [c] of CHANNELS) channels[c].checked = !!g.notifications[c];
  };
  if (!current) channels.push.checked = true;

  const { form, conflict } = recordForm({
    current,
    collection: '/guardians',
    route: '/admin/guardians',
    noun: 'guardian',
    name,
    formId: 'guardian-form',
    conflictId: 'guardian-conflict',
    fill,
    values() {
      const v = {};
      for (const k of TEXT) v[k] = inputs[k].value.trim();
      v.relationship = inputs.relationship.value;
      v.notifications = Object.fromEntries(CHANNELS.map(([c]) => [c, channels[c].checked]));
      return v;
    },
    createBody(v) {
      const body = { ...v, phone: v.phone || undefined, email: v.email || undefined, preferred_language: v.preferred_language || undefined };
      if (login.email.value.trim() || login.password.value) body.login = { email: login.email.value.trim(), password: login.password.value };
      return body;
    },
    changes(v, g) {
      const changes = changedFields(v, g, [...TEXT, 'relationship']);
      if (CHANNELS.some(([c]) => v.notifications[c] !== !!g.notifications[c])) changes.notifications = v.notifications;
      return changes;
    },
    // A taken login e-mail is a conflict without a field.
    createConflictField: 'login.email',
    controls: (summary) => [
      h('div', { class: 'row' }, field('Given name', inputs.given_name, 'given_name'), field('Family name', inputs.family_name, 'family_name')),
      field('Relationship', inputs.relationship, 'relationship'),
      h('div', { class: 'row' }, field('Phone (international, e.g. +447911123456)', inputs.phone, 'phone'), field('E-mail', inputs.email, 'email')),
      field("Notices' language (two letters, e.g. fr; empty: the school's)", inputs.preferred_language, 'preferred_language'),
      h('fieldset', { class: 'checks' }, h('legend', {}, 'Notify on'),
        CHANNELS.map(([c, label]) => h('div', {}, channels[c], ' ', h('label', { for: channels[c].id }, label),
          h('p', { class: 'err', id: `${channels[c].id}-err`, 'data-error-for': `notifications.${c}` })))),
      current ? null : h('fieldset', { class: 'checks' }, h('legend', {}, 'Portal login (optional)'),
        h('div', { class: 'row' }, field('Login e-mail', login.email, 'login.email'), field('Password (at least 10 characters)', login.password, 'login.password'))),
      summary,
      h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'save-guardian' }, current ? 'Save changes' : 'Create guardian'),
        link('/admin/guardians', 'Back to guardians')),
    ],
  });
  for (const [c] of CHANNELS) channels[c].setAttribute('aria-describedby', `${channels[c].id}-err`);

  mount(h('h1', {}, current ? name(current) : 'New guardian'),
    current && current.user_id ? h('p', { class: 'muted' }, 'Has a portal login.') : null,
    conflict, form,
    current ? await children(current) : null);
}

// The guardian's children: each linked student with an unlink button, and
// a form linking one more by admission number.
async function children(g) {
  const students = await Promise.all(g.students.map((l) => get(`/students/${l.student_id}`)
    .then((s) => ({ l, s }))
    .catch(() => ({ l, s: null }))));
  const out = h('div', { id: 'link-result' });
  const admission = h('input', { type: 'text', name: 'admission_no', id: 'link-admission' });
  const relationship = relationshipSelect({ name: 'relationship', id: 'link-relationship' }, true);
  const primary = h('input', { type: 'checkbox', name: 'is_primary', id: 'link-primary' });
  const reload = () => guardianForm(g.id);
  const form = h('form', { class: 'card', novalidate: true, id: 'link-form', onsubmit: async (e) => {
    e.preventDefault();
    out.replaceChildren();
    showFieldErrors(form, {});
    const no = admission.value.trim();
    if (!no) {
      showFieldErrors(form, { admission_no: 'Enter the admission number of the student to link.' });
      return;
    }
    try {
      const s = await studentByAdmission(no);
      if (!s) {
        showFieldErrors(form, { admission_no: `No student has the admission number ${no}.` });
        return;
      }
      await put(`/guardians/${g.id}/students/${s.id}`, { relationship: relationship.value || undefined, is_primary: primary.checked });
      flash(`${name(s)} linked to ${name(g)}.`);
      await reload();
    } catch (err) {
      showProblem(form, err, out);
    }
  } }, h('h3', {}, 'Link a student'),
  h('div', { class: 'row' }, field('Admission number', admission, 'admission_no'), field('Relationship to this student', relationship, 'relationship'),
    h('div', { class: 'shrink' }, primary, ' ', h('label', { for: primary.id, class: 'inline' }, 'Primary guardian'))),
  h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'link-student' }, 'Link student')));

  return h('section', { 'aria-labelledby': 'children-h' },
    h('h2', { id: 'children-h' }, `Children (${g.students.length})`),
    out,
    students.length ? h('div', { class: 'table-wrap' }, h('table', { id: 'guardian-children' },
      h('thead', {}, h('tr', {}, ['Student', 'Admission no.', 'Relationship', 'Primary', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, students.map(({ l, s }) => h('tr', { 'data-student': l.student_id },
        h('td', {}, s ? link(`/admin/students/${s.id}`, name(s)) : l.student_id),
        h('td', {}, s ? s.admission_no : ''),
        h('td', {}, l.relationship || ''),
        h('td', {}, l.is_primary ? 'yes' : 'no'),
        h('td', {}, h('button', { type: 'button', class: 'secondary', onclick: async () => {
          try {
            await del(`/guardians/${g.id}/students/${l.student_id}`);
            flash(`${s ? name(s) : 'The student'} unlinked.`);
            await reload();
          } catch (err) {
            out.replaceChildren(problemBox(err));
          }
        } }, `Unlink ${s ? s.given_name : 'student'}`)))))))
      : h('p', { class: 'muted', id: 'no-children' }, 'No students linked yet.'),
    form);
}
