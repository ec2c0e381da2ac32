//! GuardianService: caller → parse → authorise → repository → reply.

use deadpool_postgres::Pool;
use platform::caller::{Caller, Role};
use proto::students::v1 as pb;
use tonic::{Request, Response};

use platform::service::{parse_id, ServiceError};

use super::domain::{unlink_ids, GuardianFilter, GuardianUpdate, NewGuardian, NewLink};
use super::model::guardian;
use super::repo;
use crate::authz::{origin, require};
use crate::{passwords, Reply};

#[derive(Clone)]
pub struct GuardianApi {
    pool: Pool,
}

impl GuardianApi {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }
}

#[tonic::async_trait]
impl pb::guardian_service_server::GuardianService for GuardianApi {
    async fn create_guardian(
        &self,
        req: Request<pb::CreateGuardianRequest>,
    ) -> Reply<pb::Guardian> {
        let caller = Caller::of(&req)?;
        require(&caller, &[Role::Admin])?;
        let new = NewGuardian::try_from(req.into_inner())?;
        let hash = match &new.login {
            Some(l) => Some(passwords::hash(l.password.expose().to_owned()).await?),
            None => None,
        };
        let g = repo::create_guardian(&self.pool, origin(&caller), &new, hash.as_deref()).await?;
        tracing::info!(guardian.id = %g.id, "guardian created");
        Ok(Response::new(guardian(g, Vec::new())))
    }

    async fn get_guardian(&self, req: Request<pb::GetGuardianRequest>) -> Reply<pb::Guardian> {
        let caller = Caller::of(&req)?;
        let id = parse_id("id", &req.get_ref().id)?;
        require(&caller, &[Role::Admin, Role::Teacher])?;
        match repo::get_guardian(&self.pool, caller.school_id, id).await? {
            Some((g, links)) => Ok(Response::new(guardian(g, links))),
            None => Err(ServiceError::NotFound("guardian").into()),
        }
    }

    async fn list_guardians(
        &self,
        req: Request<pb::ListGuardiansRequest>,
    ) -> Reply<pb::ListGuardiansResponse> {
        let caller = Caller::of(&req)?;
        require(&caller, &[Role::Admin, Role::Teacher])?;
        let filter = GuardianFilter::try_from(req.into_inner())?;
        let (rows, next) = repo::list_guardians(&self.pool, caller.school_id, &filter)
            .await?
            .into_parts();
        Ok(Response::new(pb::ListGuardiansResponse {
            guardians: rows.into_iter().map(|(g, l)| guardian(g, l)).collect(),
            page: Some(proto::common::v1::PageInfo { next_cursor: next }),
        }))
    }

    async fn update_guardian(
        &self,
        req: Request<pb::UpdateGuardianRequest>,
    ) -> Reply<pb::Guardian> {
        let caller = Caller::of(&req)?;
        require(&caller, &[Role::Admin])?;
        let u = GuardianUpdate::try_from(req.into_inner())?;
        let (g, links) = repo::update_guardian(&self.pool, origin(&caller), &u).await?;
        Ok(Response::new(guardian(g, links)))
    }

    async fn link_student(&self, req: Request<pb::LinkStudentRequest>) -> Reply<pb::GuardianLink> {
        let caller = Caller::of(&req)?;
        require(&caller, &[Role::Admin])?;
        let link = NewLink::try_from(req.into_inner())?;
        let row = repo::link_student(&self.pool, origin(&caller), &link).await?;
        Ok(Response::new(row.into()))
    }

    async fn unlink_student(
        &self,
        req: Request<pb::UnlinkStudentRequest>,
    ) -> Reply<pb::UnlinkStudentResponse> {
        let caller = Caller::of(&req)?;
        require(&caller, &[Role::Admin])?;
        let (guardian_id, student_id) = unlink_ids(req.get_ref())?;
        repo::unlink_student(&self.pool, origin(&caller), guardian_id, student_id).await?;
        Ok(Response::new(pb::UnlinkStudentResponse {}))
    }

    async fn list_my_children(
        &self,
        req: Request<pb::ListMyChildrenRequest>,
    ) -> Reply<pb::ListMyChildrenResponse> {
        let caller = Caller::of(&req)?;
        require(&caller, &[Role::Guardian])?;
        let rows =
            crate::students::repo::list_children(&self.pool, caller.school_id, caller.user_id)
                .await?;
        Ok(Response::new(pb::ListMyChildrenResponse {
            students: rows.into_iter().map(Into::into).collect(),
        }))
    }
}
