//! The NotificationService handlers: read the caller, parse, query, map.

use deadpool_postgres::Pool;
use platform::caller::Caller;
use proto::notify::v1 as pb;
use tonic::{Request, Response, Status};

use super::domain::{ListRequest, MarkRead};
use super::model::Row;
use super::repo;

#[derive(Clone)]
pub struct InboxApi {
    pool: Pool,
}

impl InboxApi {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }
}

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl pb::notification_service_server::NotificationService for InboxApi {
    async fn list_my_notifications(
        &self,
        req: Request<pb::ListMyNotificationsRequest>,
    ) -> Reply<pb::ListMyNotificationsResponse> {
        let caller = Caller::of(&req)?;
        let list = ListRequest::try_from(req.into_inner())?;
        let inbox = repo::list(&self.pool, &caller, &list).await?;
        let (rows, next) = inbox.page.into_parts();
        Ok(Response::new(pb::ListMyNotificationsResponse {
            notifications: rows.into_iter().map(Row::into_proto).collect(),
            page: Some(proto::common::v1::PageInfo { next_cursor: next }),
            unread: inbox.unread,
        }))
    }

    async fn mark_notifications_read(
        &self,
        req: Request<pb::MarkNotificationsReadRequest>,
    ) -> Reply<pb::MarkNotificationsReadResponse> {
        let caller = Caller::of(&req)?;
        let mark = MarkRead::try_from(req.into_inner())?;
        let rows = repo::mark_read(&self.pool, &caller, &mark).await?;
        Ok(Response::new(pb::MarkNotificationsReadResponse {
            notifications: rows.into_iter().map(Row::into_proto).collect(),
        }))
    }
}
