//! Fee SQL. Every function takes the school id first (through `Origin` for
//! writes); every statement filters on it. Writes record their domain event
//! in the same transaction.

use std::collections::HashMap;

use deadpool_postgres::{GenericClient, Pool};
use platform::paging::{self, Page};
use platform::service::ServiceError;
use tokio_postgres::{error::SqlState, types::ToSql, Row};
use uuid::Uuid;

use super::domain::{InvoiceCursor, InvoiceFilter, InvoiceStatus, NewInvoice, NewPayment};
use super::model::{
    invoice_changed, invoice_cols, payment_event, BalanceRow, InvoiceRow, LineRow, PaymentRow,
    INVOICE_COLS,
};
use crate::events::{self, Aggregate, Origin, Pending};
use proto::events::v1::event::Payload;

/// Whose invoices a read may return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reader {
    /// Any of the school's (admins).
    School,
    /// One student's own.
    Student(Uuid),
    /// The students linked to this guardian login (a user id), checked in
    /// the same statement as the read.
    ChildrenOf(Uuid),
}

/// Joins the guardian login `u` (`u.school_id = $1 AND u.id = <user>`) to
/// its links `l`.
const LINKS_OF_LOGIN: &str = "users u JOIN guardian_students l \
     ON l.school_id = u.school_id AND l.guardian_id = u.guardian_id";

/// The outcome of a payment request.
pub struct Recorded {
    pub payment: PaymentRow,
    pub invoice: InvoiceRow,
    /// The key had been used before with this very request.
    pub replayed: bool,
}

const KEY_REUSED: ServiceError = ServiceError::FailedPrecondition(
    "this Idempotency-Key was already used with a different request; use a new key",
);

/// The lines of `ids`, by invoice, in line order. One statement.
async fn lines_of<C: GenericClient>(
    c: &C,
    school_id: Uuid,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<LineRow>>, ServiceError> {
    let stmt = c
        .prepare_cached(
            "SELECT invoice_id, description, quantity, unit_amount, amount FROM invoice_lines \
             WHERE school_id = $1 AND invoice_id = ANY($2) ORDER BY invoice_id, line_no",
        )
        .await?;
    let mut by_invoice: HashMap<Uuid, Vec<LineRow>> = HashMap::new();
    for r in c.query(&stmt, &[&school_id, &ids]).await? {
        by_invoice.entry(r.try_get(0)?).or_default().push(LineRow {
            description: r.try_get(1)?,
            quantity: r.try_get(2)?,
            unit_amount: r.try_get(3)?,
            amount: r.try_get(4)?,
        });
    }
    Ok(by_invoice)
}

async fn with_lines<C: GenericClient>(
    c: &C,
    mut invoice: InvoiceRow,
) -> Result<InvoiceRow, ServiceError> {
    invoice.lines = lines_of(c, invoice.school_id, &[invoice.id])
        .await?
        .remove(&invoice.id)
        .unwrap_or_default();
    Ok(invoice)
}

/// The invoice (without lines), locked for the rest of the transaction when
/// `lock` is set.
async fn select_invoice<C: GenericClient>(
    c: &C,
    school_id: Uuid,
    id: Uuid,
    lock: bool,
) -> Result<Option<InvoiceRow>, ServiceError> {
    let sql = format!(
        "SELECT {INVOICE_COLS} FROM invoices WHERE school_id = $1 AND id = $2{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let stmt = c.prepare_cached(&sql).await?;
    c.query_opt(&stmt, &[&school_id, &id])
        .await?
        .map(|r| InvoiceRow::from_row(&r))
        .transpose()
}

/// Inserts the invoice and its lines (two statements whatever the number of
/// lines) and its event.
pub async fn create_invoice(
    pool: &Pool,
    origin: Origin,
    n: &NewInvoice,
) -> Result<InvoiceRow, ServiceError> {
    platform::db::timed("create_invoice", async move {
        let school_id = origin.school_id;
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        let stmt = tx
            .prepare_cached(&format!(
                "INSERT INTO invoices (id, school_id, student_id, currency, status, total, \
                 issued_on, due_on, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 RETURNING {INVOICE_COLS}"
            ))
            .await?;
        let row = tx
            .query_one(
                &stmt,
                &[
                    &Uuid::now_v7(),
                    &school_id,
                    &n.student_id,
                    &n.currency.as_str(),
                    &n.status.as_str(),
                    &n.total,
                    &n.issued_on,
                    &n.due_on,
                    &origin.actor,
                ],
            )
            .await
            .map_err(|e| match e.as_db_error() {
                Some(db) if db.code() == &SqlState::FOREIGN_KEY_VIOLATION => {
                    ServiceError::NotFound("student")
                }
                _ => e.into(),
            })?;
        let mut invoice = InvoiceRow::from_row(&row)?;
        let (mut descriptions, mut quantities, mut units, mut amounts) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for l in &n.lines {
            descriptions.push(l.description.as_str());
            quantities.push(l.quantity);
            units.push(l.unit_amount);
            amounts.push(l.amount);
        }
        let lines = tx
            .prepare_cached(
                "INSERT INTO invoice_lines \
                 (school_id, invoice_id, line_no, description, quantity, unit_amount, amount) \
                 SELECT $1, $2, n::smallint, d, q, u, a \
                 FROM unnest($3::text[], $4::int[], $5::bigint[], $6::bigint[]) \
                 WITH ORDINALITY AS x(d, q, u, a, n)",
            )
            .await?;
        tx.execute(
            &lines,
            &[
                &school_id,
                &invoice.id,
                &descriptions,
                &quantities,
                &units,
                &amounts,
            ],
        )
        .await?;
        invoice.lines = n
            .lines
            .iter()
            .map(|l| LineRow {
                description: l.description.clone(),
                quantity: l.quantity,
                unit_amount: l.unit_amount,
                amount: l.amount,
            })
            .collect();
        let event_type = match invoice.status {
            InvoiceStatus::Draft => "invoice.drafted",
            _ => "invoice.issued",
        };
        events::record(&tx, origin, invoice_changed(&invoice, event_type)).await?;
        tx.commit().await?;
        Ok(invoice)
    })
    .await
}

/// The invoice with its lines, if `reader` may see it (two statements).
/// A guardian's link is checked in the statement that reads the invoice.
pub async fn get_invoice(
    pool: &Pool,
    school_id: Uuid,
    id: Uuid,
    reader: Reader,
) -> Result<Option<InvoiceRow>, ServiceError> {
    platform::db::timed("get_invoice", async move {
        let client = pool.get().await?;
        let found = match reader {
            Reader::School => select_invoice(&client, school_id, id, false).await?,
            Reader::Student(own) => select_invoice(&client, school_id, id, false)
                .await?
                .filter(|i| i.student_id == own),
            Reader::ChildrenOf(user_id) => {
                let stmt = client
                    .prepare_cached(&format!(
                        "SELECT {} FROM invoices i WHERE i.school_id = $1 AND i.id = $2 \
                         AND EXISTS (SELECT 1 FROM {LINKS_OF_LOGIN} \
                           WHERE u.school_id = $1 AND u.id = $3 AND l.student_id = i.student_id)",
                        invoice_cols("i")
                    ))
                    .await?;
                client
                    .query_opt(&stmt, &[&school_id, &id, &user_id])
                    .await?
                    .map(|r| InvoiceRow::from_row(&r))
                    .transpose()?
            }
        };
        match found {
            Some(i) => Ok(Some(with_lines(&client, i).await?)),
            None => Ok(None),
        }
    })
    .await
}

/// One page, newest first, with the lines of its invoices: two statements
/// whatever the page size. Each filter shape is its own prepared statement
/// with a matching index (see the migration).
pub async fn list_invoices(
    pool: &Pool,
    school_id: Uuid,
    f: &InvoiceFilter,
) -> Result<Page<InvoiceRow, InvoiceCursor>, ServiceError> {
    platform::db::timed("list_invoices", async move {
        let status = f.status.map(|s| s.as_str());
        let fetch = paging::fetch(f.limit);
        let mut sql = format!("SELECT {INVOICE_COLS} FROM invoices WHERE school_id = $1");
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&school_id];
        if let Some(s) = &f.student_id {
            params.push(s);
            sql.push_str(&format!(" AND student_id = ${}", params.len()));
        }
        if let Some(s) = &status {
            params.push(s);
            sql.push_str(&format!(" AND status = ${}", params.len()));
        }
        if let Some(InvoiceCursor(b)) = &f.before {
            params.push(b);
            sql.push_str(&format!(" AND id < ${}", params.len()));
        }
        params.push(&fetch);
        sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", params.len()));

        let client = pool.get().await?;
        let stmt = client.prepare_cached(&sql).await?;
        let rows = client.query(&stmt, &params).await?;
        let invoices = rows
            .iter()
            .map(InvoiceRow::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        page_with_lines(&client, school_id, invoices, f.limit).await
    })
    .await
}

/// Cuts a page fetched with one row too many and loads its lines (one
/// statement).
async fn page_with_lines<C: GenericClient>(
    c: &C,
    school_id: Uuid,
    invoices: Vec<InvoiceRow>,
    limit: u32,
) -> Result<Page<InvoiceRow, InvoiceCursor>, ServiceError> {
    let mut page = Page::cut(invoices, limit, InvoiceRow::cursor);
    let ids: Vec<Uuid> = page.rows.iter().map(|i| i.id).collect();
    let mut lines = lines_of(c, school_id, &ids).await?;
    for i in &mut page.rows {
        i.lines = lines.remove(&i.id).unwrap_or_default();
    }
    Ok(page)
}

/// A guardian's page: the invoices of the children linked to the login
/// `user_id` (only `f.student_id`'s when set), newest first, with their
/// lines: two statements whatever the page size or number of children.
/// `None` when `f.student_id` is set but not linked to the guardian.
///
/// Each linked child is one row of the links, left-joined laterally to that
/// child's newest invoices (a range of `invoices_by_student`); so the link
/// check is the read itself, and a linked child without invoices still
/// yields one row (without an invoice), which tells "linked, nothing to
/// show" from "not linked".
pub async fn list_children_invoices(
    pool: &Pool,
    school_id: Uuid,
    user_id: Uuid,
    f: &InvoiceFilter,
) -> Result<Option<Page<InvoiceRow, InvoiceCursor>>, ServiceError> {
    platform::db::timed("list_children_invoices", async move {
        let status = f.status.map(|s| s.as_str());
        let fetch = paging::fetch(f.limit);
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&school_id, &user_id, &fetch];
        let mut links = String::new();
        if let Some(s) = &f.student_id {
            params.push(s);
            links.push_str(&format!(" AND l.student_id = ${}", params.len()));
        }
        let mut page = String::new();
        if let Some(s) = &status {
            params.push(s);
            page.push_str(&format!(" AND status = ${}", params.len()));
        }
        if let Some(InvoiceCursor(b)) = &f.before {
            params.push(b);
            page.push_str(&format!(" AND id < ${}", params.len()));
        }
        let sql = format!(
            "SELECT {} FROM {LINKS_OF_LOGIN} \
             LEFT JOIN LATERAL (SELECT {INVOICE_COLS} FROM invoices \
               WHERE school_id = l.school_id AND student_id = l.student_id{page} \
               ORDER BY id DESC LIMIT $3) i ON true \
             WHERE u.school_id = $1 AND u.id = $2{links} \
             ORDER BY i.id DESC NULLS LAST LIMIT $3",
            invoice_cols("i")
        );
        let client = pool.get().await?;
        let stmt = client.prepare_cached(&sql).await?;
        let rows = client.query(&stmt, &params).await?;
        if rows.is_empty() && f.student_id.is_some() {
            return Ok(None);
        }
        let mut invoices = Vec::with_capacity(rows.len());
        for r in &rows {
            // A linked child without (more) invoices: no invoice columns.
            if r.try_get::<_, Option<Uuid>>(0)?.is_some() {
                invoices.push(InvoiceRow::from_row(r)?);
            }
        }
        Ok(Some(
            page_with_lines(&client, school_id, invoices, f.limit).await?,
        ))
    })
    .await
}

/// Draft → issued. Issuing an issued (or paid) invoice returns it unchanged.
pub async fn issue_invoice(
    pool: &Pool,
    origin: Origin,
    id: Uuid,
) -> Result<InvoiceRow, ServiceError> {
    platform::db::timed("issue_invoice", async move {
        let school_id = origin.school_id;
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        let stmt = tx
            .prepare_cached(&format!(
                "UPDATE invoices SET status = 'issued', updated_at = now(), version = version + 1 \
                 WHERE school_id = $1 AND id = $2 AND status = 'draft' RETURNING {INVOICE_COLS}"
            ))
            .await?;
        if let Some(r) = tx.query_opt(&stmt, &[&school_id, &id]).await? {
            let invoice = with_lines(&tx, InvoiceRow::from_row(&r)?).await?;
            events::record(&tx, origin, invoice_changed(&invoice, "invoice.issued")).await?;
            tx.commit().await?;
            return Ok(invoice);
        }
        match select_invoice(&tx, school_id, id, false).await? {
            None => Err(ServiceError::NotFound("invoice")),
            Some(i) if i.status == InvoiceStatus::Void => {
                Err(ServiceError::FailedPrecondition("the invoice is void"))
            }
            Some(i) => with_lines(&tx, i).await,
        }
    })
    .await
}

/// Voids an invoice without payments (the row lock keeps a concurrent payment
/// out). Voiding a void invoice returns it unchanged.
pub async fn void_invoice(
    pool: &Pool,
    origin: Origin,
    id: Uuid,
) -> Result<InvoiceRow, ServiceError> {
    platform::db::timed("void_invoice", async move {
        let school_id = origin.school_id;
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        let current = select_invoice(&tx, school_id, id, true)
            .await?
            .ok_or(ServiceError::NotFound("invoice"))?;
        if current.status == InvoiceStatus::Void {
            return with_lines(&tx, current).await;
        }
        if current.amount_paid > 0 {
            return Err(ServiceError::FailedPrecondition(
                "an invoice with payments cannot be voided",
            ));
        }
        let stmt = tx
            .prepare_cached(&format!(
                "UPDATE invoices SET status = 'void', voided_at = now(), updated_at = now(), \
                   version = version + 1 \
                 WHERE school_id = $1 AND id = $2 RETURNING {INVOICE_COLS}"
            ))
            .await?;
        let row = tx.query_one(&stmt, &[&school_id, &id]).await?;
        let invoice = with_lines(&tx, InvoiceRow::from_row(&row)?).await?;
        events::record(&tx, origin, invoice_changed(&invoice, "invoice.voided")).await?;
        tx.commit().await?;
        Ok(invoice)
    })
    .await
}

/// The payment recorded under `key`, with the hash of its request.
async fn payment_by_key<C: GenericClient>(
    c: &C,
    school_id: Uuid,
    key: &str,
) -> Result<Option<(PaymentRow, Vec<u8>)>, ServiceError> {
    let stmt = c
        .prepare_cached(
            "SELECT p.id, p.invoice_id, i.student_id, p.amount, p.currency, p.method, \
             p.reference, p.amount_due_after, p.created_at, p.request_hash \
             FROM payments p JOIN invoices i ON i.school_id = p.school_id AND i.id = p.invoice_id \
             WHERE p.school_id = $1 AND p.idempotency_key = $2",
        )
        .await?;
    match c.query_opt(&stmt, &[&school_id, &key]).await? {
        Some(r) => Ok(Some((PaymentRow::from_row(&r)?, r.try_get(9)?))),
        None => Ok(None),
    }
}

/// The earlier outcome of `key`, if its request hashed to `hash`.
async fn replay<C: GenericClient>(
    c: &C,
    school_id: Uuid,
    payment: PaymentRow,
    stored_hash: &[u8],
    hash: &[u8],
) -> Result<Recorded, ServiceError> {
    if stored_hash != hash {
        return Err(KEY_REUSED);
    }
    let invoice = select_invoice(c, school_id, payment.invoice_id, false)
        .await?
        .ok_or_else(|| anyhow::anyhow!("a payment's invoice is missing"))?;
    Ok(Recorded {
        payment,
        invoice: with_lines(c, invoice).await?,
        replayed: true,
    })
}

/// Applies a payment at most once per (school, key).
///
/// The invoice row is locked first, so concurrent payments on one invoice
/// run one after the other and each sees what the previous one paid (no
/// overpayment together), and a retry of the same key on the same invoice
/// finds the earlier payment. A concurrent use of the key on another invoice
/// is caught by the unique constraint (`ON CONFLICT DO NOTHING`), after which
/// the stored payment decides.
pub async fn record_payment(
    pool: &Pool,
    origin: Origin,
    p: &NewPayment,
) -> Result<Recorded, ServiceError> {
    platform::db::timed("record_payment", async move {
        let school_id = origin.school_id;
        let hash = p.request_hash();
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        let invoice = select_invoice(&tx, school_id, p.invoice_id, true)
            .await?
            .ok_or(ServiceError::NotFound("invoice"))?;
        if let Some((payment, stored)) = payment_by_key(&tx, school_id, p.key.as_str()).await? {
            return replay(&tx, school_id, payment, &stored, &hash).await;
        }
        match invoice.status {
            InvoiceStatus::Draft => {
                return Err(ServiceError::FailedPrecondition(
                    "the invoice has not been issued",
                ))
            }
            InvoiceStatus::Void => {
                return Err(ServiceError::FailedPrecondition("the invoice is void"))
            }
            InvoiceStatus::Paid => {
                return Err(ServiceError::FailedPrecondition(
                    "the invoice is already paid",
                ))
            }
            InvoiceStatus::Issued | InvoiceStatus::PartiallyPaid => {}
        }
        if p.currency.as_str() != invoice.currency {
            return Err(ServiceError::FailedPrecondition(
                "the payment's currency is not the invoice's currency",
            ));
        }
        let due = invoice.amount_due();
        if p.amount.get() > due {
            return Err(ServiceError::FailedPrecondition(
                "payment exceeds the amount due",
            ));
        }
        let due_after = due - p.amount.get();
        let insert = tx
            .prepare_cached(
                "INSERT INTO payments (id, school_id, invoice_id, amount, currency, method, \
                 reference, amount_due_after, idempotency_key, request_hash, recorded_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                 ON CONFLICT (school_id, idempotency_key) DO NOTHING \
                 RETURNING id, created_at",
            )
            .await?;
        let inserted = tx
            .query_opt(
                &insert,
                &[
                    &Uuid::now_v7(),
                    &school_id,
                    &invoice.id,
                    &p.amount.get(),
                    &p.currency.as_str(),
                    &p.method.as_str(),
                    &p.reference,
                    &due_after,
                    &p.key.as_str(),
                    &hash,
                    &origin.actor,
                ],
            )
            .await?;
        let Some(inserted) = inserted else {
            // The key was taken meanwhile (on another invoice): nothing of
            // ours is written; the stored payment decides.
            tx.rollback().await?;
            let (payment, stored) = payment_by_key(&client, school_id, p.key.as_str())
                .await?
                .ok_or_else(|| anyhow::anyhow!("conflicting payment key vanished"))?;
            return replay(&client, school_id, payment, &stored, &hash).await;
        };
        let paid = invoice.amount_paid + p.amount.get();
        let status = InvoiceStatus::after_payment(paid, invoice.total);
        let update = tx
            .prepare_cached(&format!(
                "UPDATE invoices SET amount_paid = $3, status = $4, updated_at = now(), \
                   version = version + 1 \
                 WHERE school_id = $1 AND id = $2 RETURNING {INVOICE_COLS}"
            ))
            .await?;
        let row = tx
            .query_one(&update, &[&school_id, &invoice.id, &paid, &status.as_str()])
            .await?;
        let invoice = with_lines(&tx, InvoiceRow::from_row(&row)?).await?;
        let payment = PaymentRow {
            id: inserted.try_get(0)?,
            invoice_id: invoice.id,
            student_id: invoice.student_id,
            amount: p.amount.get(),
            currency: p.currency.as_str().to_owned(),
            method: p.method,
            reference: p.reference.clone(),
            amount_due_after: due_after,
            created_at: inserted.try_get(1)?,
        };
        let event = Pending::new(
            Aggregate {
                kind: "invoice",
                id: invoice.id,
            },
            "invoice.payment_recorded",
            Payload::PaymentRecorded(payment_event(&payment, &invoice)),
        );
        events::record(&tx, origin, event).await?;
        tx.commit().await?;
        Ok(Recorded {
            payment,
            invoice,
            replayed: false,
        })
    })
    .await
}

fn balance_rows(rows: Vec<Row>) -> Result<Vec<BalanceRow>, ServiceError> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        // The student's own row with no invoice joined: no currency.
        if let Some(currency) = r.try_get::<_, Option<String>>(0)? {
            out.push(BalanceRow {
                currency,
                invoiced: r.try_get::<_, Option<i64>>(1)?.unwrap_or(0),
                paid: r.try_get::<_, Option<i64>>(2)?.unwrap_or(0),
            });
        }
    }
    Ok(out)
}

/// A guardian's read of a linked child's balance: the link check and the
/// sums are one statement. `None` when the student is not linked to the
/// guardian login `user_id`.
pub async fn child_balance(
    pool: &Pool,
    school_id: Uuid,
    user_id: Uuid,
    student_id: Uuid,
) -> Result<Option<Vec<BalanceRow>>, ServiceError> {
    platform::db::timed("child_balance", async move {
        let client = pool.get().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT i.currency, sum(i.total)::bigint, sum(i.amount_paid)::bigint \
                 FROM {LINKS_OF_LOGIN} LEFT JOIN invoices i \
                   ON i.school_id = l.school_id AND i.student_id = l.student_id \
                   AND i.status IN ('issued', 'partially_paid', 'paid') \
                 WHERE u.school_id = $1 AND u.id = $2 AND l.student_id = $3 \
                 GROUP BY i.currency ORDER BY i.currency"
            ))
            .await?;
        let rows = client
            .query(&stmt, &[&school_id, &user_id, &student_id])
            .await?;
        if rows.is_empty() {
            return Ok(None);
        }
        Ok(Some(balance_rows(rows)?))
    })
    .await
}

/// Per currency: issued invoices' totals and what was paid on them. One
/// statement; `None` when the student is not in the school.
pub async fn student_balance(
    pool: &Pool,
    school_id: Uuid,
    student_id: Uuid,
) -> Result<Option<Vec<BalanceRow>>, ServiceError> {
    platform::db::timed("student_balance", async move {
        let client = pool.get().await?;
        let stmt = client
            .prepare_cached(
                "SELECT i.currency, sum(i.total)::bigint, sum(i.amount_paid)::bigint \
                 FROM students s LEFT JOIN invoices i \
                   ON i.school_id = s.school_id AND i.student_id = s.id \
                   AND i.status IN ('issued', 'partially_paid', 'paid') \
                 WHERE s.school_id = $1 AND s.id = $2 \
                 GROUP BY i.currency ORDER BY i.currency",
            )
            .await?;
        let rows = client.query(&stmt, &[&school_id, &student_id]).await?;
        if rows.is_empty() {
            return Ok(None);
        }
        Ok(Some(balance_rows(rows)?))
    })
    .await
}
