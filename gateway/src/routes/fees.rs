//! Fees: invoices, payments (with an `Idempotency-Key`), balances.
//!
//! Admins create, issue and void invoices and record payments; a student
//! reads only their own invoices and balance, a guardian only their linked
//! children's (students-svc checks the link; an unlinked student is 403 on
//! lists and balances, their invoice 404, as for a student). Teachers are
//! refused (403).
//!
//! A payment's first answer is `201 Created` with the payment. A retry with
//! the same key and the same body answers the same `201` with the same
//! payment (nothing applies twice) and `Idempotent-Replayed: true`; the same
//! key with a different body answers `422`.

use std::future::{ready, Ready};

use actix_web::{dev::Payload, web, FromRequest, HttpRequest, HttpResponse};
use platform::caller::Role;
use proto::students::v1 as pb;

use super::path_id;
use super::rpc::{created, ok, Reply, Rpc, ADMIN};
use crate::dto::fees::{
    CreateInvoiceBody, Invoice, InvoicePage, ListInvoicesParams, Payment, PaymentBody,
    StudentBalance,
};
use crate::json::{query, JsonBody};
use crate::problem::{ApiError, Problem};

/// Who reads invoices: admins, a student their own, a guardian their
/// children's (students-svc narrows to those).
const READERS: &[Role] = &[Role::Admin, Role::Student, Role::Guardian];

pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
pub const REPLAYED: &str = "Idempotent-Replayed";

/// The `Idempotency-Key` header: required, 1-255 visible ASCII characters.
pub struct IdempotencyKey(pub String);

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let mut values = req.headers().get_all(IDEMPOTENCY_KEY);
        let parsed = match (values.next(), values.next()) {
            (None, _) => Err("the Idempotency-Key header is required for payments"),
            (Some(_), Some(_)) => Err("send one Idempotency-Key header"),
            (Some(v), None) => v
                .to_str()
                .ok()
                .filter(|s| (1..=255).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic()))
                .map(str::to_owned)
                .ok_or("the Idempotency-Key header must be 1-255 visible ASCII characters"),
        };
        ready(
            parsed
                .map(IdempotencyKey)
                .map_err(|m| ApiError::field(IDEMPOTENCY_KEY, m)),
        )
    }
}

/// Admins: create an invoice (issued, or a draft to issue later).
#[utoipa::path(post, path = "/invoices", tag = "fees", security(("bearer" = [])),
    request_body = CreateInvoiceBody,
    responses((status = 201, body = Invoice), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem, description = "no such student")))]
pub async fn create(rpc: Rpc, body: JsonBody<CreateInvoiceBody>) -> Reply {
    rpc.require(ADMIN)?;
    let msg = body.0.into_proto()?;
    let i = rpc.fees().create_invoice(rpc.request(msg)).await?;
    created(Invoice::from(i.into_inner()))
}

/// Invoices newest first, keyset-paginated. A student gets only their own;
/// a guardian their linked children's (`student_id` narrows to one child).
#[utoipa::path(get, path = "/invoices", tag = "fees", security(("bearer" = [])),
    params(
        ("limit" = Option<u32>, Query, description = "1-100, default 25"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
        ("student_id" = Option<uuid::Uuid>, Query),
        ("status" = Option<String>, Query, description = "draft | issued | partially_paid | paid | void"),
    ),
    responses((status = 200, body = InvoicePage), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem, description = "`student_id` names a student the caller may not read")))]
pub async fn list(req: HttpRequest, rpc: Rpc) -> Reply {
    rpc.require(READERS)?;
    let msg = query::<ListInvoicesParams>(&req)?.into_proto()?;
    let r = rpc
        .fees()
        .list_invoices(rpc.request(msg))
        .await?
        .into_inner();
    ok(InvoicePage::new(r.invoices, r.page))
}

/// One invoice with its lines. Another student's invoice is 404 to a
/// student, and to a guardian unless the student is linked to them.
#[utoipa::path(get, path = "/invoices/{id}", tag = "fees", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Invoice), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(rpc: Rpc, id: web::Path<String>) -> Reply {
    let id = path_id(&id)?;
    rpc.require(READERS)?;
    let msg = pb::GetInvoiceRequest { id: id.to_string() };
    let i = rpc.fees().get_invoice(rpc.request(msg)).await?;
    ok(Invoice::from(i.into_inner()))
}

/// Admins: issue a draft (an issued invoice is returned unchanged).
#[utoipa::path(post, path = "/invoices/{id}/issue", tag = "fees", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Invoice), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem, description = "the invoice is void")))]
pub async fn issue(rpc: Rpc, id: web::Path<String>) -> Reply {
    rpc.require(ADMIN)?;
    let msg = pb::IssueInvoiceRequest {
        id: path_id(&id)?.to_string(),
    };
    let i = rpc.fees().issue_invoice(rpc.request(msg)).await?;
    ok(Invoice::from(i.into_inner()))
}

/// Admins: void an invoice that has no payments (a void one is returned
/// unchanged).
#[utoipa::path(post, path = "/invoices/{id}/void", tag = "fees", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Invoice), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem, description = "the invoice has payments")))]
pub async fn void(rpc: Rpc, id: web::Path<String>) -> Reply {
    rpc.require(ADMIN)?;
    let msg = pb::VoidInvoiceRequest {
        id: path_id(&id)?.to_string(),
    };
    let i = rpc.fees().void_invoice(rpc.request(msg)).await?;
    ok(Invoice::from(i.into_inner()))
}

/// Admins: record a payment. Requires `Idempotency-Key`; see the module
/// docs for retries.
#[utoipa::path(post, path = "/invoices/{id}/payments", tag = "fees", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path),
        ("Idempotency-Key" = String, Header, description = "1-255 visible ASCII characters, unique per payment")),
    request_body = PaymentBody,
    responses(
        (status = 201, body = Payment, description = "recorded; on a replay also `Idempotent-Replayed: true`"),
        (status = 400, body = Problem, description = "invalid body or missing/invalid Idempotency-Key"),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem, description = "exceeds the amount due, currency differs, invoice draft/void/paid, or the key was used with another body")))]
pub async fn pay(
    rpc: Rpc,
    id: web::Path<String>,
    key: IdempotencyKey,
    body: JsonBody<PaymentBody>,
) -> Reply {
    rpc.require(ADMIN)?;
    let msg = body.0.into_proto(path_id(&id)?, key.0);
    let reply = rpc.fees().record_payment(rpc.request(msg)).await?;
    let reply = reply.into_inner();
    let payment = reply.payment.ok_or_else(ApiError::internal)?;
    let mut res = HttpResponse::Created();
    if reply.replayed {
        res.insert_header((REPLAYED, "true"));
    }
    Ok(res.json(Payment::from(payment)))
}

/// A student's balance per currency. Students may read only their own,
/// guardians only their linked children's.
#[utoipa::path(get, path = "/students/{id}/balance", tag = "fees", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = StudentBalance), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn balance(rpc: Rpc, id: web::Path<String>) -> Reply {
    let id = path_id(&id)?;
    let readers = &[Role::Admin, Role::Guardian];
    rpc.require_student(id, readers)?;
    let msg = pb::GetStudentBalanceRequest {
        student_id: id.to_string(),
    };
    let b = rpc.fees().get_student_balance(rpc.request(msg)).await?;
    ok(StudentBalance::from(b.into_inner()))
}
