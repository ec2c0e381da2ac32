//! AnnouncementService: admins and teachers; every other role is
//! PERMISSION_DENIED.

use deadpool_postgres::Pool;
use platform::{
    caller::{Caller, Role},
    service::{parse_id, ServiceError},
};
use proto::notify::v1 as pb;
use tonic::{Request, Response, Status};

use super::domain::{ListRequest, NewAnnouncement};
use super::repo;

#[derive(Clone)]
pub struct AnnouncementApi {
    pool: Pool,
    /// The school's daily quota.
    per_day: u32,
}

impl AnnouncementApi {
    pub fn new(pool: Pool, per_day: u32) -> Self {
        Self { pool, per_day }
    }
}

type Reply<T> = Result<Response<T>, Status>;

fn staff(caller: &Caller) -> Result<(), ServiceError> {
    if matches!(caller.role, Role::Admin | Role::Teacher) {
        Ok(())
    } else {
        Err(ServiceError::PermissionDenied(
            "only the school's admins and teachers send announcements",
        ))
    }
}

#[tonic::async_trait]
impl pb::announcement_service_server::AnnouncementService for AnnouncementApi {
    async fn create_announcement(
        &self,
        req: Request<pb::CreateAnnouncementRequest>,
    ) -> Reply<pb::Announcement> {
        let caller = Caller::of(&req)?;
        staff(&caller)?;
        let new = NewAnnouncement::try_from(req.into_inner())?;
        let row = repo::create(&self.pool, &caller, &new, self.per_day).await?;
        tracing::info!(announcement.id = %row.id, announcement.audience = row.audience.kind(), "announcement queued");
        Ok(Response::new(row.into_proto(&Default::default())))
    }

    async fn list_announcements(
        &self,
        req: Request<pb::ListAnnouncementsRequest>,
    ) -> Reply<pb::ListAnnouncementsResponse> {
        let caller = Caller::of(&req)?;
        staff(&caller)?;
        let q = ListRequest::try_from(req.into_inner())?;
        let (page, progress) = repo::list(&self.pool, &caller, &q).await?;
        let (rows, next) = page.into_parts();
        Ok(Response::new(pb::ListAnnouncementsResponse {
            announcements: rows.into_iter().map(|r| r.into_proto(&progress)).collect(),
            page: Some(proto::common::v1::PageInfo { next_cursor: next }),
        }))
    }

    async fn get_announcement(
        &self,
        req: Request<pb::GetAnnouncementRequest>,
    ) -> Reply<pb::Announcement> {
        let caller = Caller::of(&req)?;
        staff(&caller)?;
        let id = parse_id("id", &req.get_ref().id)?;
        let (row, progress) = repo::find(&self.pool, &caller, id)
            .await?
            .ok_or(ServiceError::NotFound("announcement"))?;
        Ok(Response::new(row.into_proto(&progress)))
    }
}
