//! Invoices and payments.
//!
//! An invoice counts toward its issue month once issued: `billed` its total,
//! `outstanding` what is still due (a void counts nothing, so voiding
//! subtracts what it counted); an open one (issued, partially paid) counts
//! one in `open_due` at its due date. Each change moves those counters by
//! the difference between the invoice's old and new contribution. A payment
//! adds to `collected` in the month of its time in the school's zone, once
//! per payment id, and carries the invoice's state after it (newest invoice
//! version wins).

use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::Transaction;
use proto::events::v1::{InvoiceChanged, PaymentRecorded};
use uuid::Uuid;

use crate::domain::{id, month_of, opt_date, opt_id, Calendar};

/// What the invoice holds that the counters depend on.
#[derive(Clone, Debug, Default, PartialEq)]
struct State {
    currency: Option<String>,
    total: i64,
    due: i64,
    status: String,
    issued_on: Option<NaiveDate>,
    due_on: Option<NaiveDate>,
    version: i64,
}

/// An invoice's contribution: (issue month, currency, billed, outstanding),
/// and its due date while open.
type Contribution = (Option<(NaiveDate, String, i64, i64)>, Option<NaiveDate>);

impl State {
    fn contribution(&self) -> Contribution {
        let counted = matches!(self.status.as_str(), "issued" | "partially_paid" | "paid");
        let month = match (counted, self.issued_on, &self.currency) {
            (true, Some(on), Some(c)) => Some((month_of(on), c.clone(), self.total, self.due)),
            _ => None,
        };
        let open = matches!(self.status.as_str(), "issued" | "partially_paid");
        (month, if open { self.due_on } else { None })
    }
}

/// The invoice's new values (`None` fields keep the stored ones: a payment
/// knows no issue date).
struct Change<'a> {
    student: Option<Uuid>,
    currency: Option<&'a str>,
    total: i64,
    paid: i64,
    due: i64,
    status: &'a str,
    issued_on: Option<NaiveDate>,
    due_on: Option<NaiveDate>,
    version: i64,
}

pub async fn invoice(tx: &Transaction<'_>, school: Uuid, i: &InvoiceChanged) -> anyhow::Result<()> {
    let invoice = id("invoice_id", &i.invoice_id)?;
    let change = Change {
        student: opt_id("student_id", &i.student_id)?,
        currency: Some(i.currency.as_str()).filter(|c| !c.is_empty()),
        total: i.total,
        paid: i.amount_paid,
        due: i.amount_due,
        status: &i.status,
        issued_on: opt_date("issued_on", &i.issued_on)?,
        due_on: opt_date("due_on", &i.due_on)?,
        version: i.version,
    };
    apply(tx, school, invoice, &change).await
}

pub async fn payment(
    tx: &Transaction<'_>,
    school: Uuid,
    p: &PaymentRecorded,
) -> anyhow::Result<()> {
    let payment = id("payment_id", &p.payment_id)?;
    let invoice = id("invoice_id", &p.invoice_id)?;
    let zone = tx
        .prepare_cached(
            "SELECT time_zone, year_start_month, year_start_day FROM schools WHERE school_id = $1",
        )
        .await?;
    // No settings seen yet: the defaults (UTC).
    let calendar = match tx.query_opt(&zone, &[&school]).await? {
        Some(row) => Calendar::new(row.try_get(0)?, row.try_get(1)?, row.try_get(2)?),
        None => Calendar::new("UTC", 9, 1),
    };
    let at = p
        .recorded_at
        .as_ref()
        .and_then(|t| {
            DateTime::<Utc>::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0))
        })
        .ok_or_else(|| anyhow::anyhow!("payment without recorded_at"))?;
    let month = month_of(calendar.today(at));
    let stmt = tx
        .prepare_cached(
            "WITH new AS (INSERT INTO payments (school_id, payment_id, invoice_id, amount, currency, \
                 month) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING 1) \
             INSERT INTO fees_months (school_id, month, currency, collected) \
             SELECT $1, $6, $5, $4 FROM new \
             ON CONFLICT (school_id, month, currency) DO UPDATE \
               SET collected = fees_months.collected + EXCLUDED.collected",
        )
        .await?;
    tx.execute(
        &stmt,
        &[&school, &payment, &invoice, &p.amount, &p.currency, &month],
    )
    .await?;
    let change = Change {
        student: opt_id("student_id", &p.student_id)?,
        currency: Some(p.currency.as_str()).filter(|c| !c.is_empty()),
        total: p.invoice_total,
        paid: p.invoice_amount_paid,
        due: p.invoice_amount_due,
        status: &p.invoice_status,
        issued_on: None,
        due_on: None,
        version: p.invoice_version,
    };
    apply(tx, school, invoice, &change).await
}

async fn apply(
    tx: &Transaction<'_>,
    school: Uuid,
    invoice: Uuid,
    c: &Change<'_>,
) -> anyhow::Result<()> {
    let read = tx
        .prepare_cached(
            "SELECT currency, total, amount_due, status, issued_on, due_on, version \
             FROM invoices WHERE school_id = $1 AND invoice_id = $2",
        )
        .await?;
    let old = match tx.query_opt(&read, &[&school, &invoice]).await? {
        Some(r) => Some(State {
            currency: r.try_get(0)?,
            total: r.try_get(1)?,
            due: r.try_get(2)?,
            status: r.try_get(3)?,
            issued_on: r.try_get(4)?,
            due_on: r.try_get(5)?,
            version: r.try_get(6)?,
        }),
        None => None,
    };
    let base = old.clone().unwrap_or_default();
    // Newest version wins for what changes; what never changes (currency,
    // dates) is filled in from whichever event knows it.
    let newer = old.is_none() || base.version < c.version || (base.version == 0 && c.version == 0);
    let new = State {
        currency: base.currency.clone().or(c.currency.map(str::to_owned)),
        issued_on: base.issued_on.or(c.issued_on),
        due_on: base.due_on.or(c.due_on),
        total: if newer { c.total } else { base.total },
        due: if newer { c.due } else { base.due },
        status: if newer {
            c.status.to_owned()
        } else {
            base.status.clone()
        },
        version: if newer { c.version } else { base.version },
    };
    if old.as_ref() == Some(&new) {
        return Ok(());
    }
    let put = tx
        .prepare_cached(
            "INSERT INTO invoices (school_id, invoice_id, student_id, currency, total, amount_paid, \
               amount_due, status, issued_on, due_on, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (school_id, invoice_id) DO UPDATE SET \
               student_id = coalesce(invoices.student_id, EXCLUDED.student_id), \
               currency = EXCLUDED.currency, total = EXCLUDED.total, \
               amount_paid = CASE WHEN $12 THEN EXCLUDED.amount_paid ELSE invoices.amount_paid END, \
               amount_due = EXCLUDED.amount_due, status = EXCLUDED.status, \
               issued_on = EXCLUDED.issued_on, due_on = EXCLUDED.due_on, version = EXCLUDED.version",
        )
        .await?;
    tx.execute(
        &put,
        &[
            &school,
            &invoice,
            &c.student,
            &new.currency,
            &new.total,
            &c.paid,
            &new.due,
            &new.status,
            &new.issued_on,
            &new.due_on,
            &new.version,
            &newer,
        ],
    )
    .await?;
    let (was, now) = (base.contribution(), new.contribution());
    if old.is_none() || was.0 != now.0 {
        let months = tx
            .prepare_cached(
                "INSERT INTO fees_months (school_id, month, currency, billed, outstanding) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (school_id, month, currency) DO UPDATE SET \
                   billed = fees_months.billed + EXCLUDED.billed, \
                   outstanding = fees_months.outstanding + EXCLUDED.outstanding",
            )
            .await?;
        if let (Some(w), true) = (&was.0, old.is_some()) {
            tx.execute(&months, &[&school, &w.0, &w.1, &-w.2, &-w.3])
                .await?;
        }
        if let Some(n) = &now.0 {
            tx.execute(&months, &[&school, &n.0, &n.1, &n.2, &n.3])
                .await?;
        }
    }
    if was.1 != now.1 {
        let open = tx
            .prepare_cached(
                "INSERT INTO open_due (school_id, due_on, invoices) VALUES ($1, $2, $3) \
                 ON CONFLICT (school_id, due_on) DO UPDATE \
                   SET invoices = open_due.invoices + EXCLUDED.invoices",
            )
            .await?;
        if let (Some(d), true) = (was.1, old.is_some()) {
            tx.execute(&open, &[&school, &d, &-1i32]).await?;
        }
        if let Some(d) = now.1 {
            tx.execute(&open, &[&school, &d, &1i32]).await?;
        }
    }
    Ok(())
}
