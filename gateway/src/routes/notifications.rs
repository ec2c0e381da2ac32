use actix_web::HttpRequest;
use platform::caller::Role;

use super::rpc::{ok, Reply, Rpc};
use crate::dto::notifications::{
    ListNotificationsParams, MarkReadBody, MarkedRead, NotificationPage,
};
use crate::json::{query, JsonBody};
use crate::problem::Problem;

/// Every role has an inbox; each caller reads only their own.
const ANY_USER: &[Role] = &[Role::Admin, Role::Teacher, Role::Student, Role::Guardian];

/// The caller's notifications (absence alerts for a guardian), newest first,
/// keyset-paginated; `unread=true` for the unread ones only. A realtime
/// client that reconnects catches up here.
#[utoipa::path(get, path = "/me/notifications", tag = "notifications", security(("bearer" = [])),
    params(
        ("limit" = Option<u32>, Query, description = "1-100, default 25"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
        ("unread" = Option<bool>, Query, description = "only unread notifications"),
    ),
    responses((status = 200, body = NotificationPage), (status = 400, body = Problem)))]
pub async fn list(req: HttpRequest, rpc: Rpc) -> Reply {
    rpc.require(ANY_USER)?;
    let msg = query::<ListNotificationsParams>(&req)?.into_proto()?;
    let mut inbox = rpc.notifications();
    let r = inbox.list_my_notifications(rpc.request(msg)).await?;
    ok(NotificationPage::from(r.into_inner()))
}

/// Marks some of the caller's notifications read. Every id must be the
/// caller's (else 404 and nothing is marked); marking twice keeps the first
/// read time.
#[utoipa::path(post, path = "/me/notifications/read", tag = "notifications", security(("bearer" = [])),
    request_body = MarkReadBody,
    responses((status = 200, body = MarkedRead), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn mark_read(rpc: Rpc, body: JsonBody<MarkReadBody>) -> Reply {
    rpc.require(ANY_USER)?;
    let msg = body.0.into_proto()?;
    let mut inbox = rpc.notifications();
    let r = inbox.mark_notifications_read(rpc.request(msg)).await?;
    ok(MarkedRead::from(r.into_inner()))
}
