//! Fee rows → proto messages and event payloads.

use proto::events::v1 as ev;
use proto::students::v1 as pb;

use super::repo::{BalanceRow, InvoiceRow, PaymentRow};
use crate::convert::{date, timestamp};

impl From<InvoiceRow> for pb::Invoice {
    fn from(i: InvoiceRow) -> Self {
        Self {
            id: i.id.to_string(),
            student_id: i.student_id.to_string(),
            amount_due: i.amount_due(),
            currency: i.currency,
            lines: i
                .lines
                .into_iter()
                .map(|l| pb::InvoiceLine {
                    description: l.description,
                    quantity: l.quantity,
                    unit_amount: l.unit_amount,
                    amount: l.amount,
                })
                .collect(),
            total: i.total,
            amount_paid: i.amount_paid,
            status: i.status.to_proto().into(),
            issued_on: Some(date(i.issued_on)),
            due_on: Some(date(i.due_on)),
            created_at: Some(timestamp(i.created_at)),
            updated_at: Some(timestamp(i.updated_at)),
            voided_at: i.voided_at.map(timestamp),
        }
    }
}

impl From<PaymentRow> for pb::Payment {
    fn from(p: PaymentRow) -> Self {
        let status = if p.amount_due_after == 0 {
            pb::InvoiceStatus::Paid
        } else {
            pb::InvoiceStatus::PartiallyPaid
        };
        Self {
            id: p.id.to_string(),
            invoice_id: p.invoice_id.to_string(),
            student_id: p.student_id.to_string(),
            amount: p.amount,
            currency: p.currency,
            method: p.method.to_proto().into(),
            reference: p.reference.unwrap_or_default(),
            invoice_amount_due_after: p.amount_due_after,
            invoice_status_after: status.into(),
            created_at: Some(timestamp(p.created_at)),
        }
    }
}

impl From<BalanceRow> for pb::CurrencyBalance {
    fn from(b: BalanceRow) -> Self {
        Self {
            balance_due: b.invoiced - b.paid,
            currency: b.currency,
            total_invoiced: b.invoiced,
            total_paid: b.paid,
        }
    }
}

/// The invoice as carried by `invoice.*` events.
pub fn invoice_event(i: &InvoiceRow) -> ev::InvoiceChanged {
    ev::InvoiceChanged {
        invoice_id: i.id.to_string(),
        student_id: i.student_id.to_string(),
        currency: i.currency.clone(),
        total: i.total,
        amount_paid: i.amount_paid,
        amount_due: i.amount_due(),
        status: i.status.as_str().to_owned(),
        issued_on: i.issued_on.to_string(),
        due_on: i.due_on.to_string(),
    }
}

/// A payment and the invoice right after it, for receipts.
pub fn payment_event(p: &PaymentRow, i: &InvoiceRow) -> ev::PaymentRecorded {
    ev::PaymentRecorded {
        payment_id: p.id.to_string(),
        invoice_id: i.id.to_string(),
        student_id: i.student_id.to_string(),
        amount: p.amount,
        currency: p.currency.clone(),
        method: p.method.as_str().to_owned(),
        reference: p.reference.clone().unwrap_or_default(),
        invoice_total: i.total,
        invoice_amount_paid: i.amount_paid,
        invoice_amount_due: i.amount_due(),
        invoice_status: i.status.as_str().to_owned(),
    }
}
