//! Invoices, their lines, payments and balances as stored, as the proto
//! carries them, and their event payloads.

use chrono::{DateTime, NaiveDate, Utc};
use platform::service::ServiceError;
use platform::wire::{date, timestamp};
use proto::events::v1::{self as ev, event::Payload};
use proto::students::v1 as pb;
use tokio_postgres::Row;
use uuid::Uuid;

use super::domain::{InvoiceCursor, InvoiceStatus, PaymentMethod};
use crate::events::{Aggregate, Pending};

#[derive(Clone, Debug)]
pub struct LineRow {
    pub description: String,
    pub quantity: i32,
    pub unit_amount: i64,
    pub amount: i64,
}

#[derive(Clone, Debug)]
pub struct InvoiceRow {
    pub id: Uuid,
    pub school_id: Uuid,
    pub student_id: Uuid,
    pub currency: String,
    pub status: InvoiceStatus,
    pub total: i64,
    pub amount_paid: i64,
    pub issued_on: NaiveDate,
    pub due_on: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub voided_at: Option<DateTime<Utc>>,
    /// +1 on every change; carried by its events (newest wins downstream).
    pub version: i64,
    pub lines: Vec<LineRow>,
}

impl InvoiceRow {
    /// The position after this invoice, newest first.
    pub fn cursor(&self) -> InvoiceCursor {
        InvoiceCursor(self.id)
    }

    pub fn amount_due(&self) -> i64 {
        self.total - self.amount_paid
    }

    pub(crate) fn from_row(r: &Row) -> Result<Self, ServiceError> {
        Ok(Self {
            id: r.try_get(0)?,
            school_id: r.try_get(1)?,
            student_id: r.try_get(2)?,
            currency: r.try_get(3)?,
            status: InvoiceStatus::from_db(r.try_get(4)?)?,
            total: r.try_get(5)?,
            amount_paid: r.try_get(6)?,
            issued_on: r.try_get(7)?,
            due_on: r.try_get(8)?,
            created_at: r.try_get(9)?,
            updated_at: r.try_get(10)?,
            voided_at: r.try_get(11)?,
            version: r.try_get(12)?,
            lines: Vec::new(),
        })
    }
}

#[derive(Clone, Debug)]
pub struct PaymentRow {
    pub id: Uuid,
    pub invoice_id: Uuid,
    pub student_id: Uuid,
    pub amount: i64,
    pub currency: String,
    pub method: PaymentMethod,
    pub reference: Option<String>,
    pub amount_due_after: i64,
    pub created_at: DateTime<Utc>,
}

impl PaymentRow {
    pub(crate) fn from_row(r: &Row) -> Result<Self, ServiceError> {
        Ok(Self {
            id: r.try_get(0)?,
            invoice_id: r.try_get(1)?,
            student_id: r.try_get(2)?,
            amount: r.try_get(3)?,
            currency: r.try_get(4)?,
            method: PaymentMethod::from_db(r.try_get(5)?)?,
            reference: r.try_get(6)?,
            amount_due_after: r.try_get(7)?,
            created_at: r.try_get(8)?,
        })
    }
}

/// One currency of a student's balance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BalanceRow {
    pub currency: String,
    pub invoiced: i64,
    pub paid: i64,
}

pub(crate) const INVOICE_COLS: &str =
    "id, school_id, student_id, currency, status, total, amount_paid, \
     issued_on, due_on, created_at, updated_at, voided_at, version";

/// `INVOICE_COLS` of the alias `i`.
pub(crate) fn invoice_cols(alias: &str) -> String {
    INVOICE_COLS
        .split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn invoice_changed(i: &InvoiceRow, event_type: &'static str) -> Pending {
    let snapshot = invoice_event(i);
    let payload = match event_type {
        "invoice.drafted" => Payload::InvoiceDrafted(snapshot),
        "invoice.voided" => Payload::InvoiceVoided(snapshot),
        _ => Payload::InvoiceIssued(snapshot),
    };
    Pending::new(
        Aggregate {
            kind: "invoice",
            id: i.id,
        },
        event_type,
        payload,
    )
}

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
        version: i.version,
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
        invoice_version: i.version,
        recorded_at: Some(timestamp(p.created_at)),
    }
}
