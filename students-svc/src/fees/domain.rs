//! Fee values and the FeeService requests parsed into them (every field
//! error collected). Amounts are `i64` minor units; every sum is checked,
//! and an invoice total is capped at [`MAX_TOTAL`], so nothing can overflow
//! in Rust or in SQL.

use chrono::{NaiveDate, Utc};
use platform::paging::{self, Keyset};
use platform::service::{nothing, ServiceError, Violations};
use proto::common::v1 as common;
use proto::students::v1 as pb;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::values::uuid;

/// The largest invoice total (and so the largest payment): 10^12 minor units.
pub const MAX_TOTAL: i64 = platform::limits::AMOUNT_MAX;

pub const MAX_LINES: usize = platform::limits::MAX_LINES;

pub const MAX_QUANTITY: i32 = platform::limits::QUANTITY_MAX;

/// A currency a school can bill in: an ISO 4217 code in upper case, current
/// (not superseded, like BGN by EUR) and a real currency (not a metal, the
/// test code XTS or "no currency" XXX).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Currency(String);

impl Currency {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let known = (raw.len() == 3 && raw.bytes().all(|b| b.is_ascii_uppercase()))
            .then(|| iso_currency::Currency::from_code(raw))
            .flatten()
            .filter(|c| !c.is_special() && c.is_superseded().is_none());
        match known {
            Some(_) => Ok(Self(raw.to_owned())),
            None => {
                Err("currency must be a current ISO 4217 code of three upper-case letters".into())
            }
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A positive amount in minor units, at most [`MAX_TOTAL`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Amount(i64);

impl Amount {
    pub fn parse(raw: i64) -> Result<Self, String> {
        if raw > 0 && raw <= MAX_TOTAL {
            Ok(Self(raw))
        } else {
            Err(format!(
                "amount must be a whole number of minor units between 1 and {MAX_TOTAL}"
            ))
        }
    }
    pub fn get(self) -> i64 {
        self.0
    }
}

/// A line item's text: 1-200 characters after trimming, no control characters.
pub fn description(raw: &str) -> Result<String, String> {
    let s = platform::text::display_text(raw, "description")?;
    if s.chars().count() > platform::limits::LINE_DESCRIPTION_MAX {
        return Err("description must be 1-200 characters".into());
    }
    Ok(s.to_owned())
}

pub fn quantity(raw: i32) -> Result<i32, String> {
    if (1..=MAX_QUANTITY).contains(&raw) {
        Ok(raw)
    } else {
        Err(format!("quantity must be between 1 and {MAX_QUANTITY}"))
    }
}

/// A date on an invoice: a real calendar date between 2000 and 2100.
pub fn fee_date(d: Option<&common::Date>, what: &str) -> Result<NaiveDate, String> {
    let d = d.ok_or_else(|| format!("{what} is required"))?;
    let date = NaiveDate::from_ymd_opt(d.year, d.month, d.day)
        .ok_or_else(|| format!("{what} is not a valid calendar date"))?;
    let (lo, hi) = (
        NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN),
        NaiveDate::from_ymd_opt(2100, 12, 31).unwrap_or(NaiveDate::MAX),
    );
    if date < lo || date > hi {
        return Err(format!("{what} must be between 2000-01-01 and 2100-12-31"));
    }
    Ok(date)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvoiceStatus {
    Draft,
    Issued,
    PartiallyPaid,
    Paid,
    Void,
}

impl InvoiceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Issued => "issued",
            Self::PartiallyPaid => "partially_paid",
            Self::Paid => "paid",
            Self::Void => "void",
        }
    }

    pub fn from_db(s: &str) -> Result<Self, anyhow::Error> {
        Ok(match s {
            "draft" => Self::Draft,
            "issued" => Self::Issued,
            "partially_paid" => Self::PartiallyPaid,
            "paid" => Self::Paid,
            "void" => Self::Void,
            other => anyhow::bail!("unknown invoice status {other:?}"),
        })
    }

    /// `None` for UNSPECIFIED; an unknown number is an error.
    pub fn from_proto(v: i32) -> Result<Option<Self>, String> {
        match pb::InvoiceStatus::try_from(v) {
            Ok(pb::InvoiceStatus::Unspecified) => Ok(None),
            Ok(pb::InvoiceStatus::Draft) => Ok(Some(Self::Draft)),
            Ok(pb::InvoiceStatus::Issued) => Ok(Some(Self::Issued)),
            Ok(pb::InvoiceStatus::PartiallyPaid) => Ok(Some(Self::PartiallyPaid)),
            Ok(pb::InvoiceStatus::Paid) => Ok(Some(Self::Paid)),
            Ok(pb::InvoiceStatus::Void) => Ok(Some(Self::Void)),
            Err(_) => Err("status must be draft, issued, partially_paid, paid or void".into()),
        }
    }

    pub fn to_proto(self) -> pb::InvoiceStatus {
        match self {
            Self::Draft => pb::InvoiceStatus::Draft,
            Self::Issued => pb::InvoiceStatus::Issued,
            Self::PartiallyPaid => pb::InvoiceStatus::PartiallyPaid,
            Self::Paid => pb::InvoiceStatus::Paid,
            Self::Void => pb::InvoiceStatus::Void,
        }
    }

    /// The status once `paid` of `total` has been paid.
    pub fn after_payment(paid: i64, total: i64) -> Self {
        if paid >= total {
            Self::Paid
        } else {
            Self::PartiallyPaid
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentMethod {
    Cash,
    Card,
    BankTransfer,
    Online,
}

impl PaymentMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cash => "cash",
            Self::Card => "card",
            Self::BankTransfer => "bank_transfer",
            Self::Online => "online",
        }
    }

    pub fn from_db(s: &str) -> Result<Self, anyhow::Error> {
        Ok(match s {
            "cash" => Self::Cash,
            "card" => Self::Card,
            "bank_transfer" => Self::BankTransfer,
            "online" => Self::Online,
            other => anyhow::bail!("unknown payment method {other:?}"),
        })
    }

    pub fn from_proto(v: i32) -> Result<Self, String> {
        match pb::PaymentMethod::try_from(v) {
            Ok(pb::PaymentMethod::Cash) => Ok(Self::Cash),
            Ok(pb::PaymentMethod::Card) => Ok(Self::Card),
            Ok(pb::PaymentMethod::BankTransfer) => Ok(Self::BankTransfer),
            Ok(pb::PaymentMethod::Online) => Ok(Self::Online),
            _ => Err("method must be cash, card, bank_transfer or online".into()),
        }
    }

    pub fn to_proto(self) -> pb::PaymentMethod {
        match self {
            Self::Cash => pb::PaymentMethod::Cash,
            Self::Card => pb::PaymentMethod::Card,
            Self::BankTransfer => pb::PaymentMethod::BankTransfer,
            Self::Online => pb::PaymentMethod::Online,
        }
    }
}

/// A client's idempotency key: 1-255 visible ASCII characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if (1..=255).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err("idempotency key must be 1-255 visible ASCII characters".into())
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An optional payment reference: up to 100 characters, no control characters;
/// blank means none.
pub fn reference(raw: &str) -> Result<Option<String>, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if s.chars().count() > platform::limits::REFERENCE_MAX || s.chars().any(char::is_control) {
        return Err("reference must be at most 100 characters without control characters".into());
    }
    Ok(Some(s.to_owned()))
}

/// A line item with its amount computed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewLine {
    pub description: String,
    pub quantity: i32,
    pub unit_amount: i64,
    pub amount: i64,
}

pub struct NewInvoice {
    pub student_id: Uuid,
    pub currency: Currency,
    pub lines: Vec<NewLine>,
    /// The checked sum of the lines, at most [`MAX_TOTAL`].
    pub total: i64,
    pub issued_on: NaiveDate,
    pub due_on: NaiveDate,
    /// Draft or issued.
    pub status: InvoiceStatus,
}

/// The total of `lines`, or `None` when it overflows or exceeds [`MAX_TOTAL`].
pub fn total(lines: &[NewLine]) -> Option<i64> {
    lines
        .iter()
        .try_fold(0i64, |acc, l| acc.checked_add(l.amount))
        .filter(|t| *t <= MAX_TOTAL)
}

pub struct NewPayment {
    pub invoice_id: Uuid,
    pub key: IdempotencyKey,
    pub amount: Amount,
    pub currency: Currency,
    pub method: PaymentMethod,
    pub reference: Option<String>,
}

impl NewPayment {
    /// SHA-256 of the canonical request (everything but the key): a retry
    /// with the key must hash the same.
    pub fn request_hash(&self) -> Vec<u8> {
        let canonical = serde_json::json!([
            "payment/v1",
            self.invoice_id,
            self.amount.get(),
            self.currency.as_str(),
            self.method.as_str(),
            self.reference,
        ]);
        Sha256::digest(canonical.to_string().as_bytes()).to_vec()
    }
}

/// Invoices newest first, after a cursor.
pub struct InvoiceFilter {
    pub student_id: Option<Uuid>,
    pub status: Option<InvoiceStatus>,
    pub before: Option<InvoiceCursor>,
    pub limit: u32,
}

/// Position after the last invoice of a page: invoices are listed newest
/// first by their time-ordered id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InvoiceCursor(pub Uuid);

impl Keyset for InvoiceCursor {
    const TAG: &'static str = "i";
}

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
        let (limit, before) = paging::request::<InvoiceCursor>(&mut v, page.limit, &page.cursor);
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
            limit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(amount: i64) -> NewLine {
        NewLine {
            description: "x".into(),
            quantity: 1,
            unit_amount: amount,
            amount,
        }
    }

    #[test]
    fn currencies_amounts_keys() {
        for good in ["USD", "EUR", "JPY", "KES", "CHE"] {
            assert!(Currency::parse(good).is_ok(), "{good}");
        }
        // Not ISO 4217; not a currency (test code, no currency, gold);
        // superseded (Bulgaria's lev by the euro).
        for bad in [
            "usd", "US", "USDD", "U$D", "ÉUR", "ZZZ", "XTS", "XXX", "XAU", "BGN",
        ] {
            assert!(Currency::parse(bad).is_err(), "{bad}");
        }
        assert!(Amount::parse(1).is_ok() && Amount::parse(MAX_TOTAL).is_ok());
        assert!(Amount::parse(0).is_err() && Amount::parse(-5).is_err());
        assert!(Amount::parse(MAX_TOTAL + 1).is_err());
        assert!(IdempotencyKey::parse("k-1_ABC~!").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
        for bad in ["", "has space", "tab\t", "é"] {
            assert!(IdempotencyKey::parse(bad).is_err(), "{bad:?}");
        }
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
    }

    #[test]
    fn totals_are_checked() {
        assert_eq!(total(&[line(5), line(7)]), Some(12));
        assert_eq!(total(&[line(MAX_TOTAL), line(1)]), None);
        assert_eq!(total(&[line(i64::MAX), line(i64::MAX)]), None);
    }

    #[test]
    fn request_hashes_cover_every_field() {
        let p = |amount, reference: Option<&str>| NewPayment {
            invoice_id: Uuid::from_u128(1),
            key: IdempotencyKey::parse("k").unwrap(),
            amount: Amount::parse(amount).unwrap(),
            currency: Currency::parse("USD").unwrap(),
            method: PaymentMethod::Cash,
            reference: reference.map(str::to_owned),
        };
        assert_eq!(p(5, None).request_hash(), p(5, None).request_hash());
        assert_ne!(p(5, None).request_hash(), p(6, None).request_hash());
        assert_ne!(p(5, None).request_hash(), p(5, Some("r")).request_hash());
    }

    #[test]
    fn cursors_round_trip() {
        let id = Uuid::now_v7();
        assert_eq!(
            InvoiceCursor::decode(&InvoiceCursor(id).encode())
                .unwrap()
                .0,
            id
        );
        assert!(InvoiceCursor::decode("nope!").is_err());
    }
}
