//! `FeeService` handlers: caller → parse → authorise → repo → reply.
//!
//! Admins manage invoices and record payments; a student reads only their
//! own invoices and balance (someone else's invoice, balance or invoice
//! list is NOT_FOUND to them, existing or not); a guardian reads only their
//! linked children's, the same way (the link is checked in the statement
//! that reads). Teachers have no access to fees (PERMISSION_DENIED: a role
//! rule, not a record they are kept from).

use deadpool_postgres::Pool;
use platform::caller::{Caller, Role};
use platform::service::{parse_id, ServiceError};
use proto::students::v1 as pb;
use tonic::{Request, Response};

use super::domain::{InvoiceFilter, NewInvoice, NewPayment};
use super::repo::{self, Reader};
use crate::authz::origin;
use crate::Reply;

#[derive(Clone)]
pub struct FeesApi {
    pool: Pool,
}

impl FeesApi {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }
}

fn admin(caller: &Caller) -> Result<(), ServiceError> {
    match caller.role {
        Role::Admin => Ok(()),
        _ => Err(ServiceError::PermissionDenied(
            "your role may not perform this action",
        )),
    }
}

/// Whose invoices the caller may read: all of the school's (admins), a
/// student's own, or a guardian's linked children's.
fn reader(caller: &Caller) -> Result<Reader, ServiceError> {
    match (caller.role, caller.student_id) {
        (Role::Admin, _) => Ok(Reader::School),
        (Role::Student, Some(own)) => Ok(Reader::Student(own)),
        (Role::Guardian, _) => Ok(Reader::ChildrenOf(caller.user_id)),
        _ => Err(ServiceError::PermissionDenied(
            "your role may not read fees",
        )),
    }
}

#[tonic::async_trait]
impl pb::fee_service_server::FeeService for FeesApi {
    async fn create_invoice(&self, req: Request<pb::CreateInvoiceRequest>) -> Reply<pb::Invoice> {
        let caller = Caller::of(&req)?;
        admin(&caller)?;
        let new = NewInvoice::try_from(req.into_inner())?;
        let i = repo::create_invoice(&self.pool, origin(&caller), &new).await?;
        Ok(Response::new(i.into()))
    }

    async fn get_invoice(&self, req: Request<pb::GetInvoiceRequest>) -> Reply<pb::Invoice> {
        let caller = Caller::of(&req)?;
        let id = parse_id("id", &req.get_ref().id)?;
        let reader = reader(&caller)?;
        match repo::get_invoice(&self.pool, caller.school_id, id, reader).await? {
            Some(i) => Ok(Response::new(i.into())),
            None => Err(ServiceError::NotFound("invoice").into()),
        }
    }

    async fn list_invoices(
        &self,
        req: Request<pb::ListInvoicesRequest>,
    ) -> Reply<pb::ListInvoicesResponse> {
        let caller = Caller::of(&req)?;
        let reader = reader(&caller)?;
        let mut filter = InvoiceFilter::try_from(req.into_inner())?;
        let page = match reader {
            Reader::School => repo::list_invoices(&self.pool, caller.school_id, &filter).await?,
            Reader::Student(own) => {
                if filter.student_id.is_some_and(|asked| asked != own) {
                    return Err(ServiceError::NotFound("student").into());
                }
                filter.student_id = Some(own);
                repo::list_invoices(&self.pool, caller.school_id, &filter).await?
            }
            Reader::ChildrenOf(user_id) => {
                repo::list_children_invoices(&self.pool, caller.school_id, user_id, &filter)
                    .await?
                    .ok_or(ServiceError::NotFound("student"))?
            }
        };
        let (rows, next) = page.into_parts();
        Ok(Response::new(pb::ListInvoicesResponse {
            invoices: rows.into_iter().map(Into::into).collect(),
            page: Some(proto::common::v1::PageInfo { next_cursor: next }),
        }))
    }

    async fn issue_invoice(&self, req: Request<pb::IssueInvoiceRequest>) -> Reply<pb::Invoice> {
        let caller = Caller::of(&req)?;
        admin(&caller)?;
        let id = parse_id("id", &req.get_ref().id)?;
        let i = repo::issue_invoice(&self.pool, origin(&caller), id).await?;
        Ok(Response::new(i.into()))
    }

    async fn void_invoice(&self, req: Request<pb::VoidInvoiceRequest>) -> Reply<pb::Invoice> {
        let caller = Caller::of(&req)?;
        admin(&caller)?;
        let id = parse_id("id", &req.get_ref().id)?;
        let i = repo::void_invoice(&self.pool, origin(&caller), id).await?;
        Ok(Response::new(i.into()))
    }

    async fn record_payment(
        &self,
        req: Request<pb::RecordPaymentRequest>,
    ) -> Reply<pb::RecordPaymentResponse> {
        let caller = Caller::of(&req)?;
        admin(&caller)?;
        let p = NewPayment::try_from(req.into_inner())?;
        let r = repo::record_payment(&self.pool, origin(&caller), &p).await?;
        if !r.replayed {
            tracing::info!(payment.id = %r.payment.id, invoice.id = %r.invoice.id, "payment recorded");
        }
        Ok(Response::new(pb::RecordPaymentResponse {
            payment: Some(r.payment.into()),
            invoice: Some(r.invoice.into()),
            replayed: r.replayed,
        }))
    }

    async fn get_student_balance(
        &self,
        req: Request<pb::GetStudentBalanceRequest>,
    ) -> Reply<pb::StudentBalance> {
        let caller = Caller::of(&req)?;
        let id = parse_id("student_id", &req.get_ref().student_id)?;
        let found = match reader(&caller)? {
            Reader::School => repo::student_balance(&self.pool, caller.school_id, id).await?,
            Reader::Student(own) if own == id => {
                repo::student_balance(&self.pool, caller.school_id, id).await?
            }
            Reader::Student(_) => return Err(ServiceError::NotFound("student").into()),
            Reader::ChildrenOf(user_id) => {
                match repo::child_balance(&self.pool, caller.school_id, user_id, id).await? {
                    Some(rows) => Some(rows),
                    None => return Err(ServiceError::NotFound("student").into()),
                }
            }
        };
        match found {
            Some(rows) => Ok(Response::new(pb::StudentBalance {
                student_id: id.to_string(),
                balances: rows.into_iter().map(Into::into).collect(),
            })),
            None => Err(ServiceError::NotFound("student").into()),
        }
    }
}
