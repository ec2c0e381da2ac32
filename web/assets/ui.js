// Small DOM helpers: elements built in code (no innerHTML with data), so
// nothing the API returns is ever parsed as markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function mount(...children) {
  const main = document.getElementById('main');
  main.replaceChildren();
  append(main, children);
  const h1 = main.querySelector('h1');
  if (h1) {
    h1.setAttribute('tabindex', '-1');
    h1.focus();
    document.title = `${h1.textContent} · Schoolhouse`;
  }
}

export function link(href, text, attrs = {}) {
  return h('a', { href, 'data-link': '', ...attrs }, text);
}

let n = 0;
// A labelled control with its error slot, tied by aria-describedby.
export function field(label, input, name) {
  const id = input.id || `f${++n}`;
  input.id = id;
  const err = h('p', { class: 'err', id: `${id}-err`, 'data-error-for': name || input.name || '' });
  input.setAttribute('aria-describedby', `${id}-err`);
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, err);
}

// Shows each field error next to its control; the rest in `summary`.
export function showFieldErrors(form, fields, summary) {
  for (const el of form.querySelectorAll('[data-error-for]')) el.textContent = '';
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  const rest = [];
  let first = null;
  for (const [name, message] of Object.entries(fields)) {
    const slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
    if (slot) {
      slot.textContent = message;
      const input = form.querySelector(`[name="${CSS.escape(name)}"]`);
      if (input) {
        input.setAttribute('aria-invalid', 'true');
        first = first || input;
      }
    } else rest.push(`${name}: ${message}`);
  }
  if (summary) summary.replaceChildren(...rest.map((r) => h('p', { class: 'problem' }, r)));
  if (first) first.focus();
}

export function problemBox(err) {
  const p = err.problem || {};
  return h('div', { class: 'problem', role: 'alert' }, err.message, p.request_id ? h('span', { class: 'muted' }, ` (request ${p.request_id})`) : null);
}

export function flash(text, ms = 6000) {
  const el = document.getElementById('flash');
  el.textContent = text;
  clearTimeout(flash.t);
  flash.t = setTimeout(() => { el.textContent = ''; }, Math.max(ms, 6000));
}

export function fmtDate(d) {
  return d ? new Date(d).toLocaleString() : '';
}

export function money(minor, currency) {
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(minor / 100);
  } catch {
    return `${(minor / 100).toFixed(2)} ${currency}`;
  }
}

// Today (YYYY-MM-DD) and its ISO weekday (1 = Monday) in a time zone.
export function today(timeZone) {
  let d;
  try {
    d = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
  } catch {
    d = new Date().toISOString().slice(0, 10);
  }
  const wd = new Date(`${d}T12:00:00Z`).getUTCDay() || 7;
  return { date: d, weekday: wd };
}

export function addDays(date, days) {
  const t = new Date(`${date}T12:00:00Z`);
  t.setUTCDate(t.getUTCDate() + days);
  return t.toISOString().slice(0, 10);
}

export const WEEKDAYS = ['', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
