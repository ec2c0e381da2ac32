//! StaffService: caller → parse → authorise → repository → reply.

use deadpool_postgres::Pool;
use platform::caller::{Caller, Role};
use platform::service::{parse_id, ServiceError};
use proto::students::v1 as pb;
use tonic::{Request, Response};

use super::domain::{StaffFilter, StaffProfileInput};
use super::repo;
use crate::authz::require;
use crate::events::Origin;
use crate::Reply;

#[derive(Clone)]
pub struct StaffApi {
    pool: Pool,
}

impl StaffApi {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }
}

#[tonic::async_trait]
impl pb::staff_service_server::StaffService for StaffApi {
    async fn save_staff_profile(
        &self,
        req: Request<pb::SaveStaffProfileRequest>,
    ) -> Reply<pb::StaffMember> {
        let caller = Caller::of(&req)?;
        require(&caller, &[Role::Admin])?;
        let input = StaffProfileInput::try_from(req.into_inner())?;
        let origin = Origin {
            school_id: caller.school_id,
            actor: Some(caller.user_id),
        };
        let row = repo::save_profile(&self.pool, origin, &input).await?;
        Ok(Response::new(row.into()))
    }

    /// Admins read any teacher; a teacher reads only themself.
    async fn get_staff_member(
        &self,
        req: Request<pb::GetStaffMemberRequest>,
    ) -> Reply<pb::StaffMember> {
        let caller = Caller::of(&req)?;
        let id = parse_id("user_id", &req.get_ref().user_id)?;
        match caller.role {
            Role::Admin => {}
            Role::Teacher if caller.user_id == id => {}
            _ => {
                return Err(ServiceError::PermissionDenied(
                    "only admins and the teacher themself may read a staff profile",
                )
                .into())
            }
        }
        match repo::get_member(&self.pool, caller.school_id, id).await? {
            Some(s) => Ok(Response::new(s.into())),
            None => Err(ServiceError::NotFound("teacher").into()),
        }
    }

    async fn list_staff(&self, req: Request<pb::ListStaffRequest>) -> Reply<pb::ListStaffResponse> {
        let caller = Caller::of(&req)?;
        require(&caller, &[Role::Admin])?;
        let filter = StaffFilter::try_from(req.into_inner())?;
        let (rows, next) = repo::list_staff(&self.pool, caller.school_id, &filter)
            .await?
            .into_parts();
        Ok(Response::new(pb::ListStaffResponse {
            staff: rows.into_iter().map(Into::into).collect(),
            page: Some(proto::common::v1::PageInfo { next_cursor: next }),
        }))
    }
}
