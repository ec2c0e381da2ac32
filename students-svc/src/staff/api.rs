//! StaffService: caller → parse → authorise → repository → reply.

use deadpool_postgres::Pool;
use platform::caller::{Caller, Role};
use proto::students::v1 as pb;
use tonic::{Request, Response, Status};

use super::domain::{StaffFilter, StaffProfileInput};
use super::repo::{self, StaffRow};
use crate::authz::require;
use crate::convert::{date, timestamp};
use crate::domain::parse_id;
use crate::error::ServiceError;
use crate::events::Origin;

#[derive(Clone)]
pub struct StaffApi {
    pool: Pool,
}

impl StaffApi {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }
}

type Reply<T> = Result<Response<T>, Status>;

impl From<StaffRow> for pb::StaffMember {
    fn from(s: StaffRow) -> Self {
        Self {
            user_id: s.user_id.to_string(),
            full_name: s.full_name,
            email: s.email,
            active: s.active,
            profile: s.profile.map(|p| pb::StaffProfile {
                phone: p.phone.unwrap_or_default(),
                subjects: p.subjects,
                employee_no: p.employee_no,
                hired_on: Some(date(p.hired_on)),
                version: p.version,
                updated_at: Some(timestamp(p.updated_at)),
            }),
        }
    }
}

#[tonic::async_trait]
impl pb::staff_service_server::StaffService for StaffApi {
    async fn save_staff_profile(
        &self,
        req: Request<pb::SaveStaffProfileRequest>,
    ) -> Reply<pb::StaffMember> {
        let caller = Caller::read(req.metadata())?;
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
        let caller = Caller::read(req.metadata())?;
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
        let caller = Caller::read(req.metadata())?;
        require(&caller, &[Role::Admin])?;
        let filter = StaffFilter::try_from(req.into_inner())?;
        let (rows, next) = repo::list_staff(&self.pool, caller.school_id, &filter).await?;
        Ok(Response::new(pb::ListStaffResponse {
            staff: rows.into_iter().map(Into::into).collect(),
            page: Some(proto::common::v1::PageInfo {
                next_cursor: next.map(|c| c.encode()).unwrap_or_default(),
            }),
        }))
    }
}
