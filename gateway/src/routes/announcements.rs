use actix_web::{http::header, web, HttpRequest, HttpResponse};
use proto::notify::v1 as pb;

use super::path_id;
use super::rpc::{ok, Reply, Rpc, STAFF};
use crate::dto::announcements::{Announcement, AnnouncementPage, CreateAnnouncementBody};
use crate::dto::PageParams;
use crate::json::{query, JsonBody};
use crate::problem::Problem;

/// Sends an announcement to the guardians of an audience: the whole school,
/// grade levels, courses or chosen guardians (an admin), or courses they
/// teach (a teacher; any other audience is 403). Answered at once (202)
/// with the announcement; each guardian gets it once, in their inbox and on
/// the channels they opted into, while the fan-out runs in the background:
/// follow it at `Location`. An audience with no guardian in it is a 400; a
/// school that has used its daily quota gets 429 with `Retry-After` (until
/// its next day, in its time zone).
#[utoipa::path(post, path = "/announcements", tag = "announcements", security(("bearer" = [])),
    request_body = CreateAnnouncementBody,
    responses((status = 202, body = Announcement,
            headers(("Location" = String, description = "the announcement, to follow its progress"))),
        (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 429, body = Problem, description = "the school's daily quota is used up")))]
pub async fn create(rpc: Rpc, body: JsonBody<CreateAnnouncementBody>) -> Reply {
    rpc.require(STAFF)?;
    let msg = body.0.into_proto();
    let a = rpc
        .announcements()
        .create_announcement(rpc.request(msg))
        .await?;
    let a = Announcement::from(a.into_inner());
    Ok(HttpResponse::Accepted()
        .insert_header((header::LOCATION, format!("/api/v1/announcements/{}", a.id)))
        .json(a))
}

/// The school's announcements (a teacher: their own), newest first,
/// keyset-paginated, each with its delivery progress.
#[utoipa::path(get, path = "/announcements", tag = "announcements", security(("bearer" = [])),
    params(
        ("limit" = Option<u32>, Query, description = "1-100, default 25"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
    ),
    responses((status = 200, body = AnnouncementPage), (status = 400, body = Problem),
        (status = 403, body = Problem)))]
pub async fn list(req: HttpRequest, rpc: Rpc) -> Reply {
    rpc.require(STAFF)?;
    let page = query::<PageParams>(&req)?.into_proto()?;
    let r = rpc
        .announcements()
        .list_announcements(rpc.request(pb::ListAnnouncementsRequest { page: Some(page) }))
        .await?
        .into_inner();
    ok(AnnouncementPage::new(r.announcements, r.page))
}

/// One announcement with its delivery progress per channel (queued, sent,
/// failed). Another school's, or for a teacher another author's: 404.
#[utoipa::path(get, path = "/announcements/{id}", tag = "announcements",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Announcement), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(rpc: Rpc, id: web::Path<String>) -> Reply {
    rpc.require(STAFF)?;
    let msg = pb::GetAnnouncementRequest {
        id: path_id(&id)?.to_string(),
    };
    let r = rpc
        .announcements()
        .get_announcement(rpc.request(msg))
        .await?;
    ok(Announcement::from(r.into_inner()))
}
