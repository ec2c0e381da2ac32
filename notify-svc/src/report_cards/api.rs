//! ReportCardService: admins request cards and follow batches; admins, the
//! student and linked guardians read a card and its PDF; a teacher is
//! PERMISSION_DENIED (the role is kept from the route), anyone else's card
//! NOT_FOUND.

use std::sync::Arc;

use deadpool_postgres::Pool;
use platform::{
    caller::{Caller, Role},
    service::{parse_id, ServiceError},
};
use proto::notify::v1 as pb;
use tonic::{Request, Response, Status};

use super::domain::{NewBatch, NewCard};
use super::repo;
use super::store::PdfStore;

#[derive(Clone)]
pub struct ReportCardApi {
    pool: Pool,
    store: Arc<dyn PdfStore>,
}

impl ReportCardApi {
    pub fn new(pool: Pool, store: Arc<dyn PdfStore>) -> Self {
        Self { pool, store }
    }
}

type Reply<T> = Result<Response<T>, Status>;

fn admin(caller: &Caller) -> Result<(), ServiceError> {
    if caller.role == Role::Admin {
        Ok(())
    } else {
        Err(ServiceError::PermissionDenied(
            "only the school's admins request report cards",
        ))
    }
}

fn reader(caller: &Caller) -> Result<(), ServiceError> {
    if caller.role == Role::Teacher {
        Err(ServiceError::PermissionDenied(
            "report cards are read by admins, the student and the student's guardians",
        ))
    } else {
        Ok(())
    }
}

#[tonic::async_trait]
impl pb::report_card_service_server::ReportCardService for ReportCardApi {
    async fn create_report_card(
        &self,
        req: Request<pb::CreateReportCardRequest>,
    ) -> Reply<pb::ReportCard> {
        let caller = Caller::of(&req)?;
        admin(&caller)?;
        let new = NewCard::try_from(req.into_inner())?;
        let card = repo::create(&self.pool, &caller, &new).await?;
        tracing::info!(report_card.id = %card.id, "report card queued");
        Ok(Response::new(card.into_proto()))
    }

    async fn create_grade_report_cards(
        &self,
        req: Request<pb::CreateGradeReportCardsRequest>,
    ) -> Reply<pb::ReportCardBatch> {
        let caller = Caller::of(&req)?;
        admin(&caller)?;
        let new = NewBatch::try_from(req.into_inner())?;
        let (batch, cards) = repo::create_batch(&self.pool, &caller, &new).await?;
        tracing::info!(report_card.batch = %batch.id, report_card.cards = cards.len(), "report card batch queued");
        Ok(Response::new(batch.into_proto(cards)))
    }

    async fn get_report_card_batch(
        &self,
        req: Request<pb::GetReportCardBatchRequest>,
    ) -> Reply<pb::ReportCardBatch> {
        let caller = Caller::of(&req)?;
        admin(&caller)?;
        let id = parse_id("id", &req.get_ref().id)?;
        let (batch, cards) = repo::find_batch(&self.pool, caller.school_id, id)
            .await?
            .ok_or(ServiceError::NotFound("report card batch"))?;
        Ok(Response::new(batch.into_proto(cards)))
    }

    async fn get_report_card(
        &self,
        req: Request<pb::GetReportCardRequest>,
    ) -> Reply<pb::ReportCard> {
        let caller = Caller::of(&req)?;
        reader(&caller)?;
        let id = parse_id("id", &req.get_ref().id)?;
        let card = repo::readable(&self.pool, &caller, id).await?;
        Ok(Response::new(card.into_proto()))
    }

    async fn get_report_card_pdf(
        &self,
        req: Request<pb::GetReportCardRequest>,
    ) -> Reply<pb::ReportCardPdf> {
        let caller = Caller::of(&req)?;
        reader(&caller)?;
        let id = parse_id("id", &req.get_ref().id)?;
        let card = repo::readable(&self.pool, &caller, id).await?;
        if card.status != "ready" {
            return Err(ServiceError::FailedPrecondition("the report card is not ready").into());
        }
        let pdf = self
            .store
            .get(caller.school_id, card.id)
            .await
            .map_err(ServiceError::Internal)?
            .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("ready card without a PDF")))?;
        Ok(Response::new(pb::ReportCardPdf {
            pdf,
            filename: format!("report-card-{}-{}.pdf", card.term, card.id),
        }))
    }
}
