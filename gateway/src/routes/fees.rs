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
use crate::auth::Authenticated;
use crate::dto::fees::{
    CreateInvoiceBody, Invoice, InvoicePage, ListInvoicesParams, Payment, PaymentBody,
    StudentBalance,
};
use crate::json::{query, JsonBody};
use crate::problem::{ApiError, Problem};
use crate::services::request;
use crate::state::AppState;

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
#[utoipa::path(post, path = "/api/v1/invoices", tag = "fees", security(("bearer" = [])),
    request_body = CreateInvoiceBody,
    responses((status = 201, body = Invoice), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem, description = "no such student")))]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: JsonBody<CreateInvoiceBody>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(&[Role::Admin])?;
    let msg = body.0.into_proto()?;
    let i = state
        .services
        .fees
        .clone()
        .create_invoice(request(msg, Some(caller)))
        .await?
        .into_inner();
    Ok(HttpResponse::Created().json(Invoice::from(i)))
}

/// Invoices newest first, keyset-paginated. A student gets only their own;
/// a guardian their linked children's (`student_id` narrows to one child).
#[utoipa::path(get, path = "/api/v1/invoices", tag = "fees", security(("bearer" = [])),
    params(
        ("limit" = Option<u32>, Query, description = "1-100, default 25"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
        ("student_id" = Option<uuid::Uuid>, Query),
        ("status" = Option<String>, Query, description = "draft | issued | partially_paid | paid | void"),
    ),
    responses((status = 200, body = InvoicePage), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(&[Role::Admin, Role::Student, Role::Guardian])?;
    let params: ListInvoicesParams = query(&req)?;
    let reply = state
        .services
        .fees
        .clone()
        .list_invoices(request(params.into_proto()?, Some(caller)))
        .await?
        .into_inner();
    let next = reply.page.map(|p| p.next_cursor).filter(|c| !c.is_empty());
    Ok(HttpResponse::Ok().json(InvoicePage {
        items: reply.invoices.into_iter().map(Invoice::from).collect(),
        next_cursor: next,
    }))
}

/// One invoice with its lines. Another student's invoice is 404 to a
/// student, and to a guardian unless the student is linked to them.
#[utoipa::path(get, path = "/api/v1/invoices/{id}", tag = "fees", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Invoice), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id)?;
    let caller = auth.require(&[Role::Admin, Role::Student, Role::Guardian])?;
    let i = state
        .services
        .fees
        .clone()
        .get_invoice(request(
            pb::GetInvoiceRequest { id: id.to_string() },
            Some(caller),
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(Invoice::from(i)))
}

/// Admins: issue a draft (an issued invoice is returned unchanged).
#[utoipa::path(post, path = "/api/v1/invoices/{id}/issue", tag = "fees", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Invoice), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem, description = "the invoice is void")))]
pub async fn issue(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(&[Role::Admin])?;
    let id = path_id(&id)?;
    let i = state
        .services
        .fees
        .clone()
        .issue_invoice(request(
            pb::IssueInvoiceRequest { id: id.to_string() },
            Some(caller),
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(Invoice::from(i)))
}

/// Admins: void an invoice that has no payments (a void one is returned
/// unchanged).
#[utoipa::path(post, path = "/api/v1/invoices/{id}/void", tag = "fees", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Invoice), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem, description = "the invoice has payments")))]
pub async fn void(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(&[Role::Admin])?;
    let id = path_id(&id)?;
    let i = state
        .services
        .fees
        .clone()
        .void_invoice(request(
            pb::VoidInvoiceRequest { id: id.to_string() },
            Some(caller),
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(Invoice::from(i)))
}

/// Admins: record a payment. Requires `Idempotency-Key`; see the module
/// docs for retries.
#[utoipa::path(post, path = "/api/v1/invoices/{id}/payments", tag = "fees", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path),
        ("Idempotency-Key" = String, Header, description = "1-255 visible ASCII characters, unique per payment")),
    request_body = PaymentBody,
    responses(
        (status = 201, body = Payment, description = "recorded; on a replay also `Idempotent-Replayed: true`"),
        (status = 400, body = Problem, description = "invalid body or missing/invalid Idempotency-Key"),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem, description = "exceeds the amount due, currency differs, invoice draft/void/paid, or the key was used with another body")))]
pub async fn pay(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    key: IdempotencyKey,
    body: JsonBody<PaymentBody>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(&[Role::Admin])?;
    let id = path_id(&id)?;
    let reply = state
        .services
        .fees
        .clone()
        .record_payment(request(body.0.into_proto(id, key.0), Some(caller)))
        .await?
        .into_inner();
    let payment = reply.payment.ok_or_else(ApiError::internal)?;
    let mut res = HttpResponse::Created();
    if reply.replayed {
        res.insert_header((REPLAYED, "true"));
    }
    Ok(res.json(Payment::from(payment)))
}

/// A student's balance per currency. Students may read only their own,
/// guardians only their linked children's.
#[utoipa::path(get, path = "/api/v1/students/{id}/balance", tag = "fees", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = StudentBalance), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn balance(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id)?;
    let caller = &auth.0;
    match caller.role {
        // A guardian's link is checked by students-svc, in the read.
        Role::Admin | Role::Guardian => {}
        Role::Student if caller.student_id == Some(id) => {}
        Role::Student => return Err(ApiError::Forbidden("you may only read your own balance")),
        Role::Teacher => return Err(ApiError::Forbidden("your role may not perform this action")),
    }
    let b = state
        .services
        .fees
        .clone()
        .get_student_balance(request(
            pb::GetStudentBalanceRequest {
                student_id: id.to_string(),
            },
            Some(caller),
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(StudentBalance::from(b)))
}
