//! JSON shapes of the fee routes and their proto conversions. Amounts are
//! integers in the currency's minor unit (cents); currencies ISO 4217 codes;
//! dates `YYYY-MM-DD`.

use chrono::{DateTime, NaiveDate, Utc};
use proto::students::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{date_of, instant, non_empty, uuid_or_nil, FieldErrors, Page, PageParams, Paged};
use crate::problem::ApiError;

#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    Draft,
    Issued,
    PartiallyPaid,
    Paid,
    Void,
}

impl InvoiceStatus {
    pub fn to_proto(self) -> pb::InvoiceStatus {
        match self {
            Self::Draft => pb::InvoiceStatus::Draft,
            Self::Issued => pb::InvoiceStatus::Issued,
            Self::PartiallyPaid => pb::InvoiceStatus::PartiallyPaid,
            Self::Paid => pb::InvoiceStatus::Paid,
            Self::Void => pb::InvoiceStatus::Void,
        }
    }

    fn from_proto(v: i32) -> Option<Self> {
        match pb::InvoiceStatus::try_from(v) {
            Ok(pb::InvoiceStatus::Draft) => Some(Self::Draft),
            Ok(pb::InvoiceStatus::Issued) => Some(Self::Issued),
            Ok(pb::InvoiceStatus::PartiallyPaid) => Some(Self::PartiallyPaid),
            Ok(pb::InvoiceStatus::Paid) => Some(Self::Paid),
            Ok(pb::InvoiceStatus::Void) => Some(Self::Void),
            _ => None,
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "draft" => Some(Self::Draft),
            "issued" => Some(Self::Issued),
            "partially_paid" => Some(Self::PartiallyPaid),
            "paid" => Some(Self::Paid),
            "void" => Some(Self::Void),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    Cash,
    Card,
    BankTransfer,
    Online,
}

impl PaymentMethod {
    pub fn to_proto(self) -> pb::PaymentMethod {
        match self {
            Self::Cash => pb::PaymentMethod::Cash,
            Self::Card => pb::PaymentMethod::Card,
            Self::BankTransfer => pb::PaymentMethod::BankTransfer,
            Self::Online => pb::PaymentMethod::Online,
        }
    }

    fn from_proto(v: i32) -> Option<Self> {
        match pb::PaymentMethod::try_from(v) {
            Ok(pb::PaymentMethod::Cash) => Some(Self::Cash),
            Ok(pb::PaymentMethod::Card) => Some(Self::Card),
            Ok(pb::PaymentMethod::BankTransfer) => Some(Self::BankTransfer),
            Ok(pb::PaymentMethod::Online) => Some(Self::Online),
            _ => None,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct InvoiceLine {
    pub description: String,
    pub quantity: i32,
    /// Minor units.
    pub unit_amount: i64,
    /// quantity × unit_amount.
    pub amount: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct Invoice {
    pub id: Uuid,
    pub student_id: Uuid,
    /// ISO 4217, e.g. `USD`.
    pub currency: String,
    pub lines: Vec<InvoiceLine>,
    pub total: i64,
    pub amount_paid: i64,
    pub amount_due: i64,
    pub status: Option<InvoiceStatus>,
    #[schema(value_type = String, format = Date)]
    pub issued_on: Option<NaiveDate>,
    #[schema(value_type = String, format = Date)]
    pub due_on: Option<NaiveDate>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    /// Set once the invoice is void.
    pub voided_at: Option<DateTime<Utc>>,
}

impl From<pb::Invoice> for Invoice {
    fn from(i: pb::Invoice) -> Self {
        Self {
            id: uuid_or_nil(&i.id),
            student_id: uuid_or_nil(&i.student_id),
            currency: i.currency,
            lines: i
                .lines
                .into_iter()
                .map(|l| InvoiceLine {
                    description: l.description,
                    quantity: l.quantity,
                    unit_amount: l.unit_amount,
                    amount: l.amount,
                })
                .collect(),
            total: i.total,
            amount_paid: i.amount_paid,
            amount_due: i.amount_due,
            status: InvoiceStatus::from_proto(i.status),
            issued_on: date_of(i.issued_on),
            due_on: date_of(i.due_on),
            created_at: instant(i.created_at),
            updated_at: instant(i.updated_at),
            voided_at: instant(i.voided_at),
        }
    }
}

impl Paged for Invoice {
    const PAGE: &'static str = "InvoicePage";
}

pub type InvoicePage = Page<Invoice>;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvoiceLine {
    /// 1-200 characters.
    pub description: String,
    /// 1-1000.
    pub quantity: i32,
    /// Minor units, > 0.
    pub unit_amount: i64,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvoiceBody {
    pub student_id: String,
    /// ISO 4217: three upper-case letters.
    pub currency: String,
    /// 1-100 lines; the total is at most 10^12 minor units.
    pub lines: Vec<NewInvoiceLine>,
    /// `YYYY-MM-DD`; default today.
    #[serde(default)]
    pub issued_on: Option<String>,
    /// `YYYY-MM-DD`, not before `issued_on`.
    pub due_on: String,
    /// `draft` or `issued` (default).
    #[serde(default)]
    pub status: Option<InvoiceStatus>,
}

impl CreateInvoiceBody {
    pub fn into_proto(self) -> Result<pb::CreateInvoiceRequest, ApiError> {
        let mut e = FieldErrors::default();
        let issued_on = self.issued_on.and_then(|s| e.date("issued_on", &s));
        let due_on = e.date("due_on", &self.due_on);
        e.finish()?;
        Ok(pb::CreateInvoiceRequest {
            student_id: self.student_id,
            currency: self.currency,
            lines: self
                .lines
                .into_iter()
                .map(|l| pb::NewInvoiceLine {
                    description: l.description,
                    quantity: l.quantity,
                    unit_amount: l.unit_amount,
                })
                .collect(),
            issued_on,
            due_on,
            status: self
                .status
                .map_or(pb::InvoiceStatus::Unspecified, InvoiceStatus::to_proto)
                .into(),
        })
    }
}

/// Raw list parameters; each is parsed with its own field error.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListInvoicesParams {
    #[serde(flatten)]
    pub page: PageParams,
    pub student_id: Option<String>,
    pub status: Option<String>,
}

impl ListInvoicesParams {
    pub fn into_proto(self) -> Result<pb::ListInvoicesRequest, ApiError> {
        let mut e = FieldErrors::default();
        let page = self.page.parse(&mut e);
        let student_id = e.uuid_filter("student_id", self.student_id.as_deref());
        let status = match self.status.as_deref() {
            None => pb::InvoiceStatus::Unspecified,
            Some(s) => match InvoiceStatus::parse(s) {
                Some(st) => st.to_proto(),
                None => {
                    e.add(
                        "status",
                        "must be draft, issued, partially_paid, paid or void",
                    );
                    pb::InvoiceStatus::Unspecified
                }
            },
        };
        e.finish()?;
        Ok(pb::ListInvoicesRequest {
            page: Some(page),
            student_id,
            status: status.into(),
        })
    }
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentBody {
    /// Minor units, > 0, at most the amount due.
    pub amount: i64,
    /// Must be the invoice's currency.
    pub currency: String,
    pub method: PaymentMethod,
    /// The payer's or processor's reference, up to 100 characters.
    #[serde(default)]
    pub reference: Option<String>,
}

impl PaymentBody {
    pub fn into_proto(self, invoice_id: Uuid, key: String) -> pb::RecordPaymentRequest {
        pb::RecordPaymentRequest {
            invoice_id: invoice_id.to_string(),
            idempotency_key: key,
            amount: self.amount,
            currency: self.currency,
            method: self.method.to_proto().into(),
            reference: self.reference.unwrap_or_default(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct Payment {
    pub id: Uuid,
    pub invoice_id: Uuid,
    pub student_id: Uuid,
    pub amount: i64,
    pub currency: String,
    pub method: Option<PaymentMethod>,
    pub reference: Option<String>,
    /// What the invoice still owed right after this payment.
    pub invoice_amount_due_after: i64,
    /// `partially_paid` or `paid`: the invoice's status right after it.
    pub invoice_status_after: Option<InvoiceStatus>,
    pub created_at: Option<DateTime<Utc>>,
}

impl From<pb::Payment> for Payment {
    fn from(p: pb::Payment) -> Self {
        Self {
            id: uuid_or_nil(&p.id),
            invoice_id: uuid_or_nil(&p.invoice_id),
            student_id: uuid_or_nil(&p.student_id),
            amount: p.amount,
            currency: p.currency,
            method: PaymentMethod::from_proto(p.method),
            reference: non_empty(p.reference),
            invoice_amount_due_after: p.invoice_amount_due_after,
            invoice_status_after: InvoiceStatus::from_proto(p.invoice_status_after),
            created_at: instant(p.created_at),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct CurrencyBalance {
    pub currency: String,
    /// Issued invoices; drafts and void invoices are not counted.
    pub total_invoiced: i64,
    pub total_paid: i64,
    pub balance_due: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StudentBalance {
    pub student_id: Uuid,
    /// One entry per currency, by code.
    pub balances: Vec<CurrencyBalance>,
}

impl From<pb::StudentBalance> for StudentBalance {
    fn from(b: pb::StudentBalance) -> Self {
        Self {
            student_id: uuid_or_nil(&b.student_id),
            balances: b
                .balances
                .into_iter()
                .map(|c| CurrencyBalance {
                    currency: c.currency,
                    total_invoiced: c.total_invoiced,
                    total_paid: c.total_paid,
                    balance_due: c.balance_due,
                })
                .collect(),
        }
    }
}
