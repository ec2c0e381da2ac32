//! NotificationService: a user's own inbox. Every statement is scoped to the
//! caller's school and user, so another user's notification is NOT_FOUND.

mod repo;
mod request;

use deadpool_postgres::Pool;
use platform::caller::Caller;
use proto::notify::v1 as pb;
use tonic::{Request, Response, Status};

use request::{ListRequest, MarkRead};

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
        let caller = Caller::read(req.metadata())?;
        let list = ListRequest::try_from(req.into_inner())?;
        let page = repo::list(&self.pool, &caller, &list).await?;
        Ok(Response::new(pb::ListMyNotificationsResponse {
            notifications: page.rows.into_iter().map(repo::Row::into_proto).collect(),
            page: Some(proto::common::v1::PageInfo {
                next_cursor: page.next.map(|c| c.encode()).unwrap_or_default(),
            }),
            unread: page.unread,
        }))
    }

    async fn mark_notifications_read(
        &self,
        req: Request<pb::MarkNotificationsReadRequest>,
    ) -> Reply<pb::MarkNotificationsReadResponse> {
        let caller = Caller::read(req.metadata())?;
        let mark = MarkRead::try_from(req.into_inner())?;
        let rows = repo::mark_read(&self.pool, &caller, &mark).await?;
        Ok(Response::new(pb::MarkNotificationsReadResponse {
            notifications: rows.into_iter().map(repo::Row::into_proto).collect(),
        }))
    }
}
