// Teacher: today's sessions from the timetable, and the attendance sheet
// of one session: the whole class on one screen, everyone present until
// marked otherwise, keyboard-only marking, one save (idempotent: saving the
// same sheet again changes nothing).

import { get, put, post, qs, ApiError } from './api.js';
import { h, mount, link, field, showFieldErrors, today, flash, problemBox, WEEKDAYS } from './ui.js';
import { showProblem } from './forms.js';
import { ctx, navigate } from './app.js';

const STATUSES = ['present', 'absent', 'late', 'excused'];
const KEYS = { p: 'present', a: 'absent', l: 'late', e: 'excused' };

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

export async function today_() {
  const { date, weekday } = today(ctx.school && ctx.school.time_zone);
  // The list leaves the timetable out; a teacher has a handful of courses.
  const courses = await Promise.all((await allPages('/courses')).map((c) => get(`/courses/${c.id}`)));
  const sessions = courses
    .flatMap((c) => c.slots.filter((s) => s.weekday === weekday).map((s) => ({ c, s })))
    .sort((x, y) => x.s.start.localeCompare(y.s.start));
  mount(
    h('h1', {}, `Today, ${WEEKDAYS[weekday]} ${date}`),
    h('h2', {}, 'Your sessions today'),
    sessions.length
      ? h('ul', { class: 'plain', id: 'sessions' }, sessions.map(({ c, s }) => h('li', {},
        `${s.start}–${s.end} · ${c.code} ${c.name} · room ${s.room} · `,
        link(`/teacher/courses/${c.id}/attendance/${date}`, `Take attendance for ${c.code}`))))
      : h('p', { class: 'muted' }, 'No sessions on your timetable today.'),
    h('h2', {}, 'Your courses'),
    h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', { class: 'sr' }, 'Your courses'),
      h('thead', {}, h('tr', {}, ['Course', 'Timetable', 'Enrolled', 'Attendance', 'Grades'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, courses.map((c) => h('tr', {},
        h('td', {}, `${c.code} · ${c.name}`),
        h('td', {}, c.slots.map((s) => `${WEEKDAYS[s.weekday].slice(0, 3)} ${s.start}`).join(', ') || '—'),
        h('td', {}, `${c.enrolled} / ${c.capacity}`),
        h('td', {}, link(`/teacher/courses/${c.id}/attendance/${date}`, `Today's sheet for ${c.code}`, { class: 'sheet-link', 'data-course': c.id })),
        h('td', {}, link(`/teacher/courses/${c.id}/assessments`, `Assessments of ${c.code}`))))))),
  );
}
export { today_ as today };

export async function sheet(courseId, date) {
  const [course, roster, marked] = await Promise.all([
    get(`/courses/${courseId}`),
    allPages(`/courses/${courseId}/enrolments`),
    get(`/courses/${courseId}/attendance/${date}`).catch((e) => {
      if (e instanceof ApiError && e.status === 404) return { records: [] };
      throw e;
    }),
  ]);
  const previous = new Map((marked.records || []).map((r) => [r.student_id, r.effective_status || r.teacher_status]));
  const students = roster
    .filter((e) => !e.withdrawn_at)
    .sort((a, b) => `${a.family_name} ${a.given_name}`.localeCompare(`${b.family_name} ${b.given_name}`));
  const state = new Map(students.map((s) => [s.student_id, previous.get(s.student_id) || 'present']));
  const out = h('div', { role: 'status', 'aria-live': 'polite', id: 'sheet-status' });

  const rows = students.map((s, i) => {
    const name = `${s.given_name} ${s.family_name}`;
    const fs = h('fieldset', { class: 'marks' }, h('legend', {}, `Attendance of ${name}`),
      STATUSES.map((st) => {
        const input = h('input', { type: 'radio', name: `mark-${s.student_id}`, value: st, checked: state.get(s.student_id) === st,
          'data-student': s.student_id, onchange: () => set(s.student_id, st) });
        return h('label', {}, input, st[0].toUpperCase() + st.slice(1));
      }));
    const tr = h('tr', { 'data-student': s.student_id, class: state.get(s.student_id) },
      h('td', {}, String(i + 1)), h('th', { scope: 'row' }, name, h('div', { class: 'muted' }, s.admission_no)), h('td', {}, fs));
    return tr;
  });

  function set(id, st) {
    state.set(id, st);
    const tr = rows.find((r) => r.dataset.student === id);
    tr.className = st;
    for (const input of tr.querySelectorAll('input')) input.checked = input.value === st;
    summary.textContent = counts();
  }
  function counts() {
    const c = { present: 0, absent: 0, late: 0, excused: 0 };
    state.forEach((v) => { c[v]++; });
    return `${c.present} present, ${c.absent} absent, ${c.late} late, ${c.excused} excused`;
  }
  const summary = h('p', { id: 'sheet-summary' }, counts());
  // P / A / L / E mark the focused student and move to the next one.
  const table = h('table', { id: 'sheet', onkeydown: (e) => {
    const st = KEYS[e.key.toLowerCase()];
    const tr = e.target.closest('tr[data-student]');
    if (!st || !tr || e.ctrlKey || e.metaKey || e.altKey) return;
    e.preventDefault();
    set(tr.dataset.student, st);
    const next = rows[rows.indexOf(tr) + 1];
    (next ? next.querySelector('input:checked') : save).focus();
  } },
  h('caption', { class: 'sr' }, 'Class list'),
  h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, '#'), h('th', { scope: 'col' }, 'Student'), h('th', { scope: 'col' }, 'Mark'))),
  h('tbody', {}, rows));

  const save = h('button', { type: 'button', id: 'save-sheet', onclick: async () => {
    save.disabled = true;
    out.replaceChildren('Saving…');
    try {
      const entries = students.map((s) => ({ student_id: s.student_id, status: state.get(s.student_id) }));
      await put(`/courses/${courseId}/attendance/${date}`, { entries });
      out.replaceChildren(h('p', {}, `Saved: ${counts()}.`));
      flash(`Attendance for ${course.code} on ${date} saved.`);
    } catch (err) {
      out.replaceChildren(problemBox(err));
    } finally {
      save.disabled = false;
    }
  } }, 'Save attendance');

  mount(
    h('h1', {}, `Attendance: ${course.code} ${course.name}, ${date}`),
    h('p', { class: 'muted' }, 'Everyone is present until marked otherwise. Keyboard: Tab to a student, then P, A, L or E marks them and moves to the next; arrow keys change the choice.'),
    marked.records && marked.records.length ? h('p', { class: 'notice' }, 'This session was already marked: the saved marks are shown.') : null,
    students.length ? h('div', { class: 'table-wrap' }, table) : h('p', {}, 'No students are enrolled in this course.'),
    summary,
    h('div', { class: 'actions' }, save, link('/teacher', 'Back to today')),
    out,
  );
}

// Assessments of a course, and a new one.
export async function assessments(courseId) {
  const [course, list] = await Promise.all([get(`/courses/${courseId}`), allPages(`/courses/${courseId}/assessments`)]);
  const inputs = {
    title: h('input', { type: 'text', name: 'title' }),
    max_score: h('input', { type: 'number', name: 'max_score', step: '0.01', min: '0' }),
    weight: h('input', { type: 'number', name: 'weight', step: '0.01', min: '0', max: '100' }),
    due_date: h('input', { type: 'date', name: 'due_date' }),
  };
  const summary = h('div', {});
  const form = h('form', { class: 'card', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    const body = { title: inputs.title.value.trim(), max_score: Number(inputs.max_score.value), weight: Number(inputs.weight.value), due_date: inputs.due_date.value };
    try {
      const a = await post(`/courses/${courseId}/assessments`, body);
      flash(`${a.title} created.`);
      navigate(`/teacher/assessments/${a.id}`);
    } catch (err) {
      showProblem(form, err, summary);
    }
  } },
  h('h2', {}, 'New assessment'),
  field('Title', inputs.title, 'title'), field('Maximum score (points)', inputs.max_score, 'max_score'),
  field('Weight (percent)', inputs.weight, 'weight'), field('Due date', inputs.due_date, 'due_date'),
  summary, h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create assessment')));
  mount(
    h('h1', {}, `Assessments: ${course.code} ${course.name}`),
    list.length ? h('ul', { class: 'plain', id: 'assessments' }, list.map((a) => h('li', {},
      link(`/teacher/assessments/${a.id}`, a.title), ` · max ${a.max_score} · weight ${a.weight}% · due ${a.due_date || '—'} · `,
      a.published ? 'published' : 'not published'))) : h('p', { class: 'muted' }, 'No assessments yet.'),
    form,
  );
}

// Grade entry for one assessment: every enrolled student, one save, publish.
export async function gradeSheet(id) {
  const a = await get(`/assessments/${id}`);
  const [sheet, roster] = await Promise.all([get(`/assessments/${id}/grades`), allPages(`/courses/${a.course_id}/enrolments`)]);
  const scores = new Map(sheet.grades.map((g) => [g.student_id, g.score]));
  const students = roster.filter((e) => !e.withdrawn_at);
  const out = h('div', { role: 'status', 'aria-live': 'polite' });
  const rows = students.map((s) => {
    const input = h('input', { type: 'number', step: '0.01', min: '0', max: String(a.max_score), 'data-student': s.student_id,
      value: scores.has(s.student_id) ? String(scores.get(s.student_id)) : '' });
    const wrap = field(`${s.given_name} ${s.family_name} (out of ${a.max_score})`, input);
    return { s, input, wrap };
  });
  const form = h('form', { class: 'card', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    const filled = rows.filter((r) => r.input.value.trim() !== '');
    filled.forEach((r, i) => {
      r.input.name = `entries[${i}].score`;
      r.wrap.querySelector('.err').dataset.errorFor = r.input.name;
    });
    try {
      await put(`/assessments/${id}/grades`, { entries: filled.map((r) => ({ student_id: r.s.student_id, score: Number(r.input.value) })) });
      showFieldErrors(form, {}, null);
      out.replaceChildren(h('p', {}, `Saved ${filled.length} score(s).`));
    } catch (err) {
      showProblem(form, err, out);
    }
  } }, rows.map((r) => r.wrap), h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'save-grades' }, 'Save scores')));
  const publish = h('button', { type: 'button', class: 'secondary', id: 'publish', disabled: a.published, onclick: async () => {
    try {
      await post(`/assessments/${id}/publish`);
      publish.disabled = true;
      out.replaceChildren(h('p', {}, 'Published: students and guardians can see these grades.'));
    } catch (err) {
      out.replaceChildren(problemBox(err));
    }
  } }, a.published ? 'Published' : 'Publish grades');
  mount(
    h('h1', {}, `Grades: ${a.title}`),
    h('p', { class: 'muted' }, `Max ${a.max_score} points, weight ${a.weight}%, due ${a.due_date || '—'}. ${a.published ? 'Published.' : 'Not published: only staff see these scores.'}`),
    form, h('div', { class: 'actions' }, publish, link(`/teacher/courses/${a.course_id}/assessments`, 'Back to assessments')), out,
  );
}
