// Forms shared by the admin screens: a refused call shown on its form, and
// the create/edit form of a versioned record (students, guardians), so that
// every record edits the same way: field errors beside their fields, a
// stale edit answered with the newer version, nothing stale kept.

import { get, post, patch, ApiError } from './api.js';
import { h, showFieldErrors, problemBox, flash } from './ui.js';
import { navigate } from './app.js';

// A refused call on `form`: each field error beside its field, the problem
// itself in `summary` when no field is named.
export function showProblem(form, err, summary, fields = err.fields || {}) {
  showFieldErrors(form, fields, summary);
  if (!Object.keys(fields).length) summary.replaceChildren(problemBox(err));
}

// The fields of `v` (keys) that differ from the record as shown (a missing
// value is shown as '').
export function changedFields(v, current, keys) {
  const changes = {};
  for (const k of keys) if (v[k] !== (current[k] ?? '')) changes[k] = v[k];
  return changes;
}

// A record's create/edit form. Options:
//   current      the record (null: create)
//   collection   its API path ('/students'); route: its console path
//   noun         'student', for the messages; name(record): its display name
//   formId, conflictId   element ids (the browser tests find them)
//   fill(record) shows a record in the controls; values(): what they hold
//   createBody(values)   the POST body (default: the values)
//   changes(values, record)  the PATCH body's changed fields
//   createConflictField  a field a 409 on create belongs beside (optional)
//   controls(summary)    the form's children; `summary` takes what no
//                field names
// Returns the form and the conflict notice's slot (placed above the form).
export function recordForm(o) {
  let current = o.current;
  const summary = h('div', {});
  const conflict = h('div', { role: 'alert', tabindex: '-1' });
  if (current) o.fill(current);
  const form = h('form', { class: 'card', novalidate: true, id: o.formId, onsubmit: async (e) => {
    e.preventDefault();
    summary.replaceChildren();
    const v = o.values();
    try {
      if (!current) {
        const created = await post(o.collection, o.createBody ? o.createBody(v) : v);
        flash(`${o.name(created)} created.`);
        navigate(`${o.route}/${created.id}`, { replace: true });
        return;
      }
      current = await patch(`${o.collection}/${current.id}`, { version: current.version, ...o.changes(v, current) });
      o.fill(current);
      conflict.replaceChildren();
      showFieldErrors(form, {}, summary);
      flash('Saved.');
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.status === 409 && current) {
        // Someone saved first: show their version, keep nothing stale.
        current = await get(`${o.collection}/${current.id}`);
        o.fill(current);
        conflict.replaceChildren(h('p', { class: 'notice', id: o.conflictId },
          `Someone else changed this ${o.noun} while you were editing (now version ${current.version}). Their version is shown below: make your change again and save.`));
        conflict.focus();
        return;
      }
      const fields = { ...err.fields };
      // A conflict on create without a field (a taken login) still belongs
      // beside the field that caused it.
      if (err.status === 409 && !current && o.createConflictField) fields[o.createConflictField] = err.message;
      showProblem(form, err, summary, fields);
    }
  } }, o.controls(summary));
  return { form, conflict };
}
