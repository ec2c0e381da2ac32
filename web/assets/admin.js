// Admin: the school dashboard (charts from /dashboards/school, its lowest
// course averages and the at-risk list), students (search as you type, filters, keyset paging,
// create/edit with field errors beside each field, archive; a stale edit
// shows the newer version), and the CSV import with its per-row report.

import { api, get, del, qs } from './api.js';
import { h, mount, link, field, showFieldErrors, problemBox, flash, money } from './ui.js';
import { lineChart, barChart } from './charts.js';
import { recordForm, changedFields } from './forms.js';
import { navigate } from './app.js';

const REASONS = { chronic_absence: 'chronic absence', consecutive_absences: 'consecutive absences', low_grade: 'low grade' };

function tile(n, label, id) {
  return h('div', { class: 'tile', id }, h('div', { class: 'n' }, String(n)), h('div', { class: 'l' }, label));
}

function dataTable(caption, heads, rows, id) {
  return h('details', {}, h('summary', {}, `${caption}: data table`), h('div', { class: 'table-wrap' }, h('table', { id },
    h('thead', {}, h('tr', {}, heads.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))))));
}

export async function dashboard() {
  const [d, risk] = await Promise.all([get('/dashboards/school'), get('/reports/at-risk?limit=20')]);
  const trend = d.attendance_trend.map((x) => ({ label: x.date, value: x.rate }));
  const currency = d.fees.length ? d.fees[0].currency : null;
  const fees = d.fees.filter((f) => f.currency === currency).map((f) => ({ label: f.month, a: f.billed, b: f.collected }));
  const t = d.today_attendance;
  mount(
    h('h1', {}, `School dashboard, ${d.today}`),
    h('div', { class: 'grid', id: 'tiles' },
      tile(d.active_students, 'active students'),
      tile(d.staff, 'staff'),
      tile(d.courses, 'courses'),
      tile(`${d.sessions_marked_today} / ${d.sessions_scheduled_today}`, 'sessions marked today'),
      tile(`${t.rate}%`, `attendance today (${t.present} present, ${t.absent} absent, ${t.late} late)`, 'today-rate'),
      tile(d.overdue_invoices, 'overdue invoices'),
      tile(d.at_risk_students, 'students at risk')),
    h('h2', {}, 'Attendance, last 30 school days'),
    trend.length ? [lineChart(trend, { label: `Attendance rate per school day, ${trend.length} days, latest ${trend[trend.length - 1].value}%` }),
      dataTable('Attendance', ['Date', 'Rate', 'Present', 'Absent'], d.attendance_trend.map((x) => [x.date, `${x.rate}%`, x.present, x.absent]), 'trend-table')]
      : h('p', { class: 'muted' }, 'No attendance marked yet.'),
    h('h2', {}, 'Fees per month'),
    fees.length ? [h('div', { class: 'legend' }, h('span', {}, h('span', { class: 'sw a' }), 'billed (left bar)'), h('span', {}, h('span', { class: 'sw b' }), 'collected (right bar)')),
      barChart(fees, { label: `Fees billed and collected per month in ${currency}`, names: ['billed', 'collected'], fmt: (v) => money(v, currency) }),
      dataTable('Fees', ['Month', 'Billed', 'Collected', 'Outstanding'], d.fees.map((f) => [f.month, money(f.billed, f.currency), money(f.collected, f.currency), money(f.outstanding, f.currency)]), 'fees-table')]
      : h('p', { class: 'muted' }, 'No invoices yet.'),
    h('h2', {}, 'Lowest course averages'),
    d.course_grades.length ? [h('p', { class: 'muted' }, `The ${d.course_grades.length} lowest of ${d.graded_courses} graded course(s), published grades only.`),
      h('div', { class: 'table-wrap' }, h('table', { id: 'course-grades' },
        h('thead', {}, h('tr', {}, ['Course', 'Average', 'Grades'].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', {}, d.course_grades.map((c) => h('tr', {}, h('td', {}, `${c.code} ${c.name}`), h('td', {}, `${c.average}%`), h('td', {}, c.grades))))))]
      : h('p', { class: 'muted' }, 'No grades published yet.'),
    h('h2', {}, 'Students at risk'),
    risk.items.length ? h('div', { class: 'table-wrap' }, h('table', { id: 'at-risk' },
      h('thead', {}, h('tr', {}, ['Student', 'Grade', 'Reasons', 'Attendance (30 days)', 'Absences in a row', 'Lowest average'].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, risk.items.map((r) => h('tr', {},
        h('td', {}, link(`/admin/students/${r.student_id}`, `${r.given_name} ${r.family_name}`)),
        h('td', {}, `${r.grade_level} ${r.section}`),
        h('td', {}, r.reasons.map((x) => REASONS[x] || x).join(', ')),
        h('td', {}, `${r.recent_attendance_rate}%`),
        h('td', {}, r.consecutive_absences),
        h('td', {}, r.lowest_average == null ? '—' : `${r.lowest_average}%`))))))
      : h('p', { class: 'muted' }, 'Nobody is at risk.'),
  );
  if (window.__signinStarted) {
    // Sign-in to rendered dashboard, for the browser test's measurement.
    document.body.dataset.dashboardMs = String(Math.round(performance.now() - window.__signinStarted));
    window.__signinStarted = null;
  }
}

export async function students() {
  const q = h('input', { type: 'search', name: 'q', id: 'student-search', placeholder: 'Name or admission number' });
  const grade = h('select', { name: 'grade_level', id: 'grade-filter' }, h('option', { value: '' }, 'All grades'),
    Array.from({ length: 13 }, (_, i) => h('option', { value: String(i) }, `Grade ${i}`)));
  const status = h('select', { name: 'status', id: 'status-filter' }, ['', 'active', 'graduated', 'withdrawn'].map((s) => h('option', { value: s }, s || 'Any status')));
  const body = h('tbody', {});
  const info = h('p', { role: 'status', 'aria-live': 'polite', id: 'students-info' });
  const more = h('button', { type: 'button', class: 'secondary', id: 'next-page', hidden: true }, 'Next page');
  const first = h('button', { type: 'button', class: 'secondary', id: 'first-page', hidden: true }, 'First page');
  let cursor = null;
  let seq = 0;
  let page = 1;

  async function load(reset) {
    const mine = ++seq;
    if (reset) { cursor = null; page = 1; }
    let res;
    try {
      res = await get(`/students${qs({ q: q.value.trim(), grade_level: grade.value, status: status.value, limit: 25, cursor })}`);
    } catch (err) {
      if (mine === seq) info.replaceChildren(problemBox(err));
      return;
    }
    if (mine !== seq) return; // a newer search answered first
    body.replaceChildren(...res.items.map((s) => h('tr', {},
      h('td', {}, link(`/admin/students/${s.id}`, `${s.family_name}, ${s.given_name}`)),
      h('td', {}, s.admission_no), h('td', {}, `${s.grade_level} ${s.section}`), h('td', {}, s.status))));
    info.textContent = res.items.length ? `Page ${page}: ${res.items.length} student(s)${res.next_cursor ? ', more on the next page' : ''}.` : 'No students match.';
    cursor = res.next_cursor;
    more.hidden = !cursor;
    first.hidden = page === 1;
  }
  let timer;
  q.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => load(true), 250); });
  grade.addEventListener('change', () => load(true));
  status.addEventListener('change', () => load(true));
  more.addEventListener('click', () => { page++; load(false); });
  first.addEventListener('click', () => load(true));
  mount(
    h('h1', {}, 'Students'),
    h('div', { class: 'row', role: 'search' }, field('Search', q, 'q'), field('Grade', grade, 'grade_level'), field('Status', status, 'status'),
      h('div', { class: 'shrink' }, link('/admin/students/new', 'New student', { id: 'new-student' }))),
    info,
    h('div', { class: 'table-wrap' }, h('table', { id: 'students' },
      h('thead', {}, h('tr', {}, ['Name', 'Admission no.', 'Grade', 'Status'].map((t) => h('th', { scope: 'col' }, t)))), body)),
    h('div', { class: 'actions' }, first, more),
  );
  await load(true);
}

const FIELDS = [
  ['admission_no', 'Admission number', 'text'],
  ['given_name', 'Given name', 'text'],
  ['family_name', 'Family name', 'text'],
  ['date_of_birth', 'Date of birth', 'date'],
  ['grade_level', 'Grade level (0-12)', 'number'],
  ['section', 'Section', 'text'],
];

export async function studentForm(id) {
  const current = id ? await get(`/students/${encodeURIComponent(id)}`) : null;
  const inputs = {};
  for (const [name, , type] of FIELDS) inputs[name] = h('input', { type, name, id: `student-${name}` });
  inputs.status = h('select', { name: 'status', id: 'student-status' }, ['active', 'graduated', 'withdrawn'].map((s) => h('option', { value: s }, s)));
  const { form, conflict } = recordForm({
    current,
    collection: '/students',
    route: '/admin/students',
    noun: 'student',
    name: (s) => `${s.given_name} ${s.family_name}`,
    formId: 'student-form',
    conflictId: 'conflict',
    fill(s) {
      for (const [name] of FIELDS) inputs[name].value = s[name] == null ? '' : String(s[name]);
      inputs.status.value = s.status;
    },
    values() {
      const v = {};
      for (const [name] of FIELDS) v[name] = inputs[name].value.trim();
      v.grade_level = v.grade_level === '' ? null : Number(v.grade_level);
      v.status = inputs.status.value;
      return v;
    },
    changes: (v, s) => changedFields(v, s, [...FIELDS.map(([name]) => name), 'status']),
    controls: (summary) => [
      FIELDS.map(([name, label]) => field(label, inputs[name], name)),
      field('Status', inputs.status, 'status'),
      summary,
      h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'save-student' }, current ? 'Save changes' : 'Create student'),
        current && !current.archived_at ? h('button', { type: 'button', class: 'danger', id: 'archive-student', onclick: async () => {
          if (!confirm(`Archive ${current.given_name} ${current.family_name}?`)) return;
          try {
            await del(`/students/${current.id}`);
            flash('Student archived.');
            navigate('/admin/students');
          } catch (err) {
            summary.replaceChildren(problemBox(err));
          }
        } }, 'Archive') : null,
        current ? link(`/admin/students/${current.id}/invoices`, 'Invoices and payments', { id: 'student-invoices-link' }) : null,
        current ? link(`/admin/guardians?student=${current.id}`, 'Guardians', { id: 'student-guardians-link' }) : null,
        link('/admin/students', 'Back to students')),
    ],
  });
  mount(h('h1', {}, current ? `${current.given_name} ${current.family_name}` : 'New student'),
    current && current.archived_at ? h('p', { class: 'notice' }, 'This student is archived.') : null,
    conflict, form);
}

export async function importStudents() {
  const file = h('input', { type: 'file', name: 'file', id: 'import-file', accept: '.csv,text/csv' });
  const mode = h('select', { name: 'mode', id: 'import-mode' },
    h('option', { value: 'partial' }, 'Import the valid rows, report the others'),
    h('option', { value: 'all' }, 'All or nothing'));
  const out = h('div', { id: 'import-result' });
  const button = h('button', { type: 'submit', id: 'import-submit' }, 'Import');
  const form = h('form', { class: 'card', onsubmit: async (e) => {
    e.preventDefault();
    out.replaceChildren();
    const f = file.files[0];
    if (!f) {
      showFieldErrors(form, { file: 'Choose a CSV file.' });
      return;
    }
    button.disabled = true;
    let report;
    try {
      report = await api(`/students/import${qs({ mode: mode.value })}`, { method: 'POST', body: await f.text(), headers: { 'Content-Type': 'text/csv' } });
    } catch (err) {
      const p = err.problem || {};
      report = p.report || (p.row_errors ? p : null);
      if (!report) {
        out.replaceChildren(problemBox(err));
        button.disabled = false;
        return;
      }
    }
    button.disabled = false;
    out.replaceChildren(...[
      h('p', { role: 'status' }, `${report.rows} row(s) read, ${report.imported} imported${report.committed ? '' : ': nothing was written'}; ${report.row_errors.length} row error(s).`),
      report.row_errors.length ? h('div', { class: 'table-wrap' }, h('table', { id: 'import-report' },
        h('caption', {}, 'Rows with errors'),
        h('thead', {}, h('tr', {}, ['Row', 'Column', 'Problem'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, report.row_errors.map((r) => h('tr', {}, h('td', {}, r.row), h('td', {}, r.column), h('td', {}, r.message)))))) : null,
      report.row_errors_truncated ? h('p', { class: 'notice' }, 'More rows had errors than are listed.') : null,
    ].filter(Boolean));
  } },
  field('CSV file (admission_no, given_name, family_name, date_of_birth, grade_level, section, status)', file, 'file'),
  field('Mode', mode, 'mode'),
  h('div', { class: 'actions' }, button));
  mount(h('h1', {}, 'Import students'), form, out);
}
