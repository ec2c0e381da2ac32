//! Fee requests → domain types, collecting every field error.

use chrono::Utc;
use proto::students::v1 as pb;

use super::domain::*;
use crate::domain::{nothing, uuid};
use crate::domain::{page_limit, Violations, DEFAULT_PAGE};
use crate::error::ServiceError;

impl TryFrom<pb::CreateInvoiceRequest> for NewInvoice {
    type Error = ServiceError;
    fn try_from(r: pb::CreateInvoiceRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let student_id = v.take("student_id", uuid(&r.student_id));
        let currency = v.take("currency", Currency::parse(&r.currency));
        if r.lines.is_empty() || r.lines.len() > MAX_LINES {
            v.add("lines", format!("an invoice has 1-{MAX_LINES} lines"));
        }
        let mut lines = Vec::with_capacity(r.lines.len());
        for (i, l) in r.lines.iter().enumerate() {
            let d = v.take(
                &format!("lines[{i}].description"),
                description(&l.description),
            );
            let q = v.take(&format!("lines[{i}].quantity"), quantity(l.quantity));
            let u = v.take(
                &format!("lines[{i}].unit_amount"),
                Amount::parse(l.unit_amount),
            );
            if let (Some(description), Some(quantity), Some(unit)) = (d, q, u) {
                match unit.get().checked_mul(i64::from(quantity)) {
                    Some(amount) if amount <= MAX_TOTAL => lines.push(NewLine {
                        description,
                        quantity,
                        unit_amount: unit.get(),
                        amount,
                    }),
                    _ => v.add(
                        &format!("lines[{i}]"),
                        format!("quantity × unit_amount must not exceed {MAX_TOTAL}"),
                    ),
                }
            }
        }
        let total = total(&lines);
        if v.is_clean() && total.is_none() {
            v.add(
                "lines",
                format!("the invoice total must not exceed {MAX_TOTAL} minor units"),
            );
        }
        let issued_on = match &r.issued_on {
            None => Some(Utc::now().date_naive()),
            Some(d) => v.take("issued_on", fee_date(Some(d), "issued_on")),
        };
        let due_on = v.take("due_on", fee_date(r.due_on.as_ref(), "due_on"));
        if let (Some(i), Some(d)) = (issued_on, due_on) {
            if d < i {
                v.add("due_on", "due_on must not be before issued_on");
            }
        }
        let status = match InvoiceStatus::from_proto(r.status) {
            Ok(None | Some(InvoiceStatus::Issued)) => Some(InvoiceStatus::Issued),
            Ok(Some(InvoiceStatus::Draft)) => Some(InvoiceStatus::Draft),
            _ => {
                v.add("status", "a new invoice is draft or issued");
                None
            }
        };
        v.finish()?;
        match (student_id, currency, total, issued_on, due_on, status) {
            (
                Some(student_id),
                Some(currency),
                Some(total),
                Some(issued_on),
                Some(due_on),
                Some(status),
            ) => Ok(Self {
                student_id,
                currency,
                lines,
                total,
                issued_on,
                due_on,
                status,
            }),
            _ => Err(nothing()),
        }
    }
}

impl TryFrom<pb::RecordPaymentRequest> for NewPayment {
    type Error = ServiceError;
    fn try_from(r: pb::RecordPaymentRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let invoice_id = v.take("invoice_id", uuid(&r.invoice_id));
        let key = v.take("idempotency_key", IdempotencyKey::parse(&r.idempotency_key));
        let amount = v.take("amount", Amount::parse(r.amount));
        let currency = v.take("currency", Currency::parse(&r.currency));
        let method = v.take("method", PaymentMethod::from_proto(r.method));
        let reference = v.take("reference", reference(&r.reference));
        v.finish()?;
        match (invoice_id, key, amount, currency, method, reference) {
            (
                Some(invoice_id),
                Some(key),
                Some(amount),
                Some(currency),
                Some(method),
                Some(reference),
            ) => Ok(Self {
                invoice_id,
                key,
                amount,
                currency,
                method,
                reference,
            }),
            _ => Err(nothing()),
        }
    }
}

impl TryFrom<pb::ListInvoicesRequest> for InvoiceFilter {
    type Error = ServiceError;
    fn try_from(r: pb::ListInvoicesRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let page = r.page.unwrap_or_default();
        let limit = v.take("limit", page_limit(page.limit));
        let before = if page.cursor.is_empty() {
            None
        } else {
            v.take("cursor", decode_cursor(&page.cursor))
        };
        let student_id = if r.student_id.is_empty() {
            None
        } else {
            v.take("student_id", uuid(&r.student_id))
        };
        let status = v
            .take("status", InvoiceStatus::from_proto(r.status))
            .flatten();
        v.finish()?;
        Ok(Self {
            student_id,
            status,
            before,
            limit: limit.unwrap_or(DEFAULT_PAGE),
        })
    }
}
