use actix_web::{web, HttpRequest, HttpResponse};
use platform::caller::Role;

use crate::auth::Authenticated;
use crate::dto::notifications::{
    ListNotificationsParams, MarkReadBody, MarkedRead, Notification, NotificationPage,
};
use crate::json::{query, JsonBody};
use crate::problem::{ApiError, Problem};
use crate::services::request;
use crate::state::AppState;

/// Every role has an inbox; each caller reads only their own.
const ANY_USER: &[Role] = &[Role::Admin, Role::Teacher, Role::Student, Role::Guardian];

/// The caller's notifications (absence alerts for a guardian), newest first,
/// keyset-paginated; `unread=true` for the unread ones only. A realtime
/// client that reconnects catches up here.
#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "notifications", security(("bearer" = [])),
    params(
        ("limit" = Option<u32>, Query, description = "1-100, default 25"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
        ("unread" = Option<bool>, Query, description = "only unread notifications"),
    ),
    responses((status = 200, body = NotificationPage), (status = 400, body = Problem)))]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(ANY_USER)?;
    let params: ListNotificationsParams = query(&req)?;
    let reply = state
        .services
        .notifications
        .clone()
        .list_my_notifications(request(params.into_proto()?, Some(caller)))
        .await?
        .into_inner();
    let next = reply.page.map(|p| p.next_cursor).filter(|c| !c.is_empty());
    Ok(HttpResponse::Ok().json(NotificationPage {
        items: reply
            .notifications
            .into_iter()
            .map(Notification::from)
            .collect(),
        next_cursor: next,
        unread: reply.unread,
    }))
}

/// Marks some of the caller's notifications read. Every id must be the
/// caller's (else 404 and nothing is marked); marking twice keeps the first
/// read time.
#[utoipa::path(post, path = "/api/v1/me/notifications/read", tag = "notifications", security(("bearer" = [])),
    request_body = MarkReadBody,
    responses((status = 200, body = MarkedRead), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn mark_read(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: JsonBody<MarkReadBody>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(ANY_USER)?;
    let reply = state
        .services
        .notifications
        .clone()
        .mark_notifications_read(request(body.0.into_proto()?, Some(caller)))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(MarkedRead {
        items: reply
            .notifications
            .into_iter()
            .map(Notification::from)
            .collect(),
    }))
}
