// Admin: one student's invoices and balance, a new invoice (lines, dates,
// draft or issued), issue and void, and recording a payment. Each field's
// error is shown beside it; other refusals (an overpayment, a void
// invoice) as the problem's text. Amounts are typed in currency units and
// sent in minor units (cents).

import { api, get, post, qs, ApiError } from './api.js';
import { h, mount, link, field, showFieldErrors, problemBox, flash, money, today, addDays } from './ui.js';
import { showProblem } from './forms.js';
import { ctx } from './app.js';

export const STATUS = { draft: 'draft', issued: 'issued', partially_paid: 'partly paid', paid: 'paid', void: 'void' };
const METHODS = [['cash', 'Cash'], ['card', 'Card'], ['bank_transfer', 'Bank transfer'], ['online', 'Online']];

// "12.50" → 1250; null when it is not an amount with at most two decimals.
export function minorUnits(text) {
  const t = String(text).trim();
  if (!/^\d+(\.\d{1,2})?$/.test(t)) return null;
  const [whole, frac = ''] = t.split('.');
  return Number(whole) * 100 + Number(frac.padEnd(2, '0'));
}

// A key per payment form: a retry of the same payment (a lost answer, a
// double click) is replayed by the server, never applied twice; a new key
// once a payment is recorded.
function newKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

async function allInvoices(studentId) {
  const items = [];
  let cursor;
  do {
    const page = await get(`/invoices${qs({ student_id: studentId, limit: 100, cursor })}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

export async function studentInvoices(id) {
  const sid = encodeURIComponent(id);
  const [student, balance, invoices] = await Promise.all([get(`/students/${sid}`), get(`/students/${sid}/balance`), allInvoices(id)]);
  const who = `${student.given_name} ${student.family_name}`;
  const reload = () => studentInvoices(id);
  const out = h('div', { id: 'invoice-actions-result' });

  async function act(inv, verb) {
    out.replaceChildren();
    try {
      await post(`/invoices/${inv.id}/${verb}`, {});
      flash(verb === 'issue' ? 'Invoice issued.' : 'Invoice voided.');
      await reload();
    } catch (err) {
      out.replaceChildren(problemBox(err));
    }
  }

  const rows = invoices.map((inv) => h('tr', { 'data-invoice': inv.id },
    h('td', {}, inv.issued_on || ''), h('td', {}, inv.due_on || ''),
    h('td', {}, inv.lines.map((l) => `${l.description} × ${l.quantity}`).join('; ')),
    h('td', { class: 'num' }, money(inv.total, inv.currency)),
    h('td', { class: 'num' }, money(inv.amount_paid, inv.currency)),
    h('td', { class: 'num' }, money(inv.amount_due, inv.currency)),
    h('td', {}, STATUS[inv.status] || inv.status || ''),
    h('td', {},
      inv.status === 'draft' ? h('button', { type: 'button', class: 'secondary', onclick: () => act(inv, 'issue') }, `Issue invoice of ${inv.issued_on}`) : null,
      inv.status === 'draft' || inv.status === 'issued' ? [' ', h('button', { type: 'button', class: 'danger', onclick: () => {
        if (confirm(`Void the invoice of ${inv.issued_on} (${money(inv.total, inv.currency)})?`)) act(inv, 'void');
      } }, `Void invoice of ${inv.issued_on}`)] : null)));

  mount(
    h('h1', {}, `Invoices: ${who} (${student.admission_no})`),
    h('h2', {}, 'Balance'),
    balance.balances.length ? h('ul', { class: 'plain', id: 'student-balance' }, balance.balances.map((b) => h('li', {},
      `Due ${money(b.balance_due, b.currency)}: invoiced ${money(b.total_invoiced, b.currency)}, paid ${money(b.total_paid, b.currency)}`)))
      : h('p', { class: 'muted', id: 'student-balance' }, 'Nothing invoiced (drafts and void invoices do not count).'),
    h('h2', {}, 'Invoices'),
    out,
    invoices.length ? h('div', { class: 'table-wrap' }, h('table', { id: 'student-invoices' },
      h('thead', {}, h('tr', {}, ['Issued', 'Due on', 'Lines', 'Total', 'Paid', 'Due', 'Status', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows)))
      : h('p', { class: 'muted' }, 'No invoices yet.'),
    paymentForm(invoices, reload),
    invoiceForm(student, invoices, reload),
    h('div', { class: 'actions' }, link(`/admin/students/${student.id}`, `Back to ${who}`), link('/admin/invoices', 'All invoices')),
  );
}

function paymentForm(invoices, reload) {
  const payable = invoices.filter((i) => (i.status === 'issued' || i.status === 'partially_paid') && i.amount_due > 0);
  if (!payable.length) return h('p', { class: 'muted', id: 'nothing-to-pay' }, 'No invoice is waiting for a payment.');
  const invoice = h('select', { name: 'invoice_id', id: 'payment-invoice' }, payable.map((i) => h('option', { value: i.id },
    `Issued ${i.issued_on}, ${money(i.amount_due, i.currency)} due`)));
  const amount = h('input', { type: 'text', inputmode: 'decimal', name: 'amount', id: 'payment-amount', autocomplete: 'off' });
  const method = h('select', { name: 'method', id: 'payment-method' }, METHODS.map(([v, t]) => h('option', { value: v }, t)));
  const reference = h('input', { type: 'text', name: 'reference', id: 'payment-reference', autocomplete: 'off' });
  const summary = h('div', {});
  let key = newKey();
  let keyFor = null;
  const button = h('button', { type: 'submit', id: 'record-payment' }, 'Record payment');
  const form = h('form', { class: 'card', novalidate: true, id: 'payment-form', onsubmit: async (e) => {
    e.preventDefault();
    summary.replaceChildren();
    const inv = payable.find((i) => i.id === invoice.value);
    const minor = minorUnits(amount.value);
    if (minor === null || minor <= 0) {
      showFieldErrors(form, { amount: 'Enter an amount such as 12.50 (at most two decimals).' }, summary);
      return;
    }
    const body = { amount: minor, currency: inv.currency, method: method.value, reference: reference.value.trim() || undefined };
    // The same payment typed again keeps its key (replayed, not doubled);
    // a changed one is a new payment.
    const sig = JSON.stringify([inv.id, body]);
    if (keyFor !== sig) { key = newKey(); keyFor = sig; }
    button.disabled = true;
    try {
      const p = await api(`/invoices/${inv.id}/payments`, { method: 'POST', body, headers: { 'Idempotency-Key': key } });
      key = newKey();
      keyFor = null;
      flash(`Payment of ${money(p.amount, p.currency)} recorded; ${money(p.invoice_amount_due_after, p.currency)} still due.`);
      await reload();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      showProblem(form, err, summary);
    } finally {
      button.disabled = false;
    }
  } }, h('h2', {}, 'Record a payment'),
  field('Invoice', invoice, 'invoice_id'),
  h('div', { class: 'row' }, field('Amount', amount, 'amount'), field('Method', method, 'method'), field('Reference (optional)', reference, 'reference')),
  summary, h('div', { class: 'actions' }, button));
  return form;
}

function invoiceForm(student, invoices, reload) {
  const { date } = today(ctx.school && ctx.school.time_zone);
  const currency = h('input', { type: 'text', name: 'currency', id: 'invoice-currency', value: invoices.length ? invoices[0].currency : 'USD', maxlength: '3', autocomplete: 'off' });
  const issued = h('input', { type: 'date', name: 'issued_on', id: 'invoice-issued_on', value: date });
  const due = h('input', { type: 'date', name: 'due_on', id: 'invoice-due_on', value: addDays(date, 30) });
  const status = h('select', { name: 'status', id: 'invoice-status-new' }, h('option', { value: 'issued' }, 'Issued (the family is told)'), h('option', { value: 'draft' }, 'Draft (issue later)'));
  const lines = h('div', { id: 'invoice-lines' });
  const summary = h('div', {});
  const lineInputs = [];

  function addLine() {
    const i = lineInputs.length;
    const l = {
      description: h('input', { type: 'text', name: `lines[${i}].description`, id: `line-${i}-description`, autocomplete: 'off' }),
      quantity: h('input', { type: 'number', name: `lines[${i}].quantity`, id: `line-${i}-quantity`, min: '1', step: '1', value: '1' }),
      unit: h('input', { type: 'text', inputmode: 'decimal', name: `lines[${i}].unit_amount`, id: `line-${i}-unit_amount`, autocomplete: 'off' }),
    };
    lineInputs.push(l);
    lines.append(h('fieldset', { class: 'line' }, h('legend', {}, `Line ${i + 1}`),
      h('div', { class: 'row' }, field('Description', l.description, `lines[${i}].description`), field('Quantity', l.quantity, `lines[${i}].quantity`),
        field('Unit amount (e.g. 120.00)', l.unit, `lines[${i}].unit_amount`)),
      h('p', { class: 'err', 'data-error-for': `lines[${i}]` })));
    return l;
  }
  addLine();

  const form = h('form', { class: 'card', novalidate: true, id: 'invoice-form', onsubmit: async (e) => {
    e.preventDefault();
    summary.replaceChildren();
    const local = {};
    const body = {
      student_id: student.id,
      currency: currency.value.trim().toUpperCase(),
      issued_on: issued.value || undefined,
      due_on: due.value,
      status: status.value,
      lines: lineInputs.map((l, i) => {
        const unit = minorUnits(l.unit.value);
        if (unit === null) local[`lines[${i}].unit_amount`] = 'Enter an amount such as 120.00 (at most two decimals).';
        return { description: l.description.value.trim(), quantity: Number(l.quantity.value), unit_amount: unit === null ? 0 : unit };
      }),
    };
    if (Object.keys(local).length) {
      showFieldErrors(form, local, summary);
      return;
    }
    try {
      await post('/invoices', body);
      flash(`Invoice for ${student.given_name} ${student.family_name} created.`);
      await reload();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      showProblem(form, err, summary);
    }
  } }, h('h2', {}, 'New invoice'),
  h('div', { class: 'row' }, field('Currency (ISO code)', currency, 'currency'), field('Issued on', issued, 'issued_on'), field('Due on', due, 'due_on'), field('Status', status, 'status')),
  lines,
  h('p', { class: 'err', 'data-error-for': 'lines' }),
  h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', id: 'add-line', onclick: () => addLine().description.focus() }, 'Add a line')),
  summary,
  h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'create-invoice' }, 'Create invoice')));
  return form;
}
