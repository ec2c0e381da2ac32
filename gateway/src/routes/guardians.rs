use actix_web::{web, HttpRequest, HttpResponse};
use platform::caller::Role;
use proto::students::v1 as pb;

use super::rpc::{created, ok, Reply, Rpc, ADMIN, STAFF};
use super::{path_id, student_path_id};
use crate::dto::guardians::{
    Children, CreateGuardianBody, Guardian, GuardianLink, GuardianPage, LinkStudentBody,
    ListGuardiansParams, UpdateGuardianBody,
};
use crate::json::{query, JsonBody};
use crate::problem::Problem;

/// Admin-only: create a guardian, optionally with a portal login.
#[utoipa::path(post, path = "/guardians", tag = "guardians", security(("bearer" = [])),
    request_body = CreateGuardianBody,
    responses((status = 201, body = Guardian), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem, description = "login e-mail taken")))]
pub async fn create(rpc: Rpc, body: JsonBody<CreateGuardianBody>) -> Reply {
    rpc.require(ADMIN)?;
    let msg = body.0.into_proto();
    let g = rpc.guardians().create_guardian(rpc.request(msg)).await?;
    created(Guardian::from(g.into_inner()))
}

/// Guardians of the caller's school in name order, keyset-paginated;
/// `student_id` narrows to one student's guardians. Admins and teachers.
#[utoipa::path(get, path = "/guardians", tag = "guardians", security(("bearer" = [])),
    params(
        ("limit" = Option<u32>, Query, description = "1-100, default 25"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
        ("student_id" = Option<uuid::Uuid>, Query, description = "only guardians of this student"),
    ),
    responses((status = 200, body = GuardianPage), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn list(req: HttpRequest, rpc: Rpc) -> Reply {
    rpc.require(STAFF)?;
    let msg = query::<ListGuardiansParams>(&req)?.into_proto()?;
    let r = rpc.guardians().list_guardians(rpc.request(msg)).await?;
    let r = r.into_inner();
    ok(GuardianPage::new(r.guardians, r.page))
}

/// One guardian with its student links. Admins and teachers.
#[utoipa::path(get, path = "/guardians/{id}", tag = "guardians", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Guardian), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(rpc: Rpc, id: web::Path<String>) -> Reply {
    let id = path_id(&id)?;
    rpc.require(STAFF)?;
    let msg = pb::GetGuardianRequest { id: id.to_string() };
    let g = rpc.guardians().get_guardian(rpc.request(msg)).await?;
    ok(Guardian::from(g.into_inner()))
}

/// Admin-only: change some fields; `version` must be the one last read.
#[utoipa::path(patch, path = "/guardians/{id}", tag = "guardians", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = UpdateGuardianBody,
    responses((status = 200, body = Guardian), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "stale version")))]
pub async fn update(rpc: Rpc, id: web::Path<String>, body: JsonBody<UpdateGuardianBody>) -> Reply {
    rpc.require(ADMIN)?;
    let msg = body.0.into_proto(path_id(&id)?);
    let g = rpc.guardians().update_guardian(rpc.request(msg)).await?;
    ok(Guardian::from(g.into_inner()))
}

/// Admin-only: link the guardian to a student (body may be `{}`).
#[utoipa::path(put, path = "/guardians/{id}/students/{student_id}", tag = "guardians",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("student_id" = uuid::Uuid, Path)), request_body = LinkStudentBody,
    responses((status = 201, body = GuardianLink), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "already linked, or the student already has a primary guardian")))]
pub async fn link(
    rpc: Rpc,
    path: web::Path<(String, String)>,
    body: JsonBody<LinkStudentBody>,
) -> Reply {
    rpc.require(ADMIN)?;
    let (id, student_id) = (path_id(&path.0)?, student_path_id(&path.1)?);
    let msg = body.0.into_proto(id, student_id);
    let l = rpc.guardians().link_student(rpc.request(msg)).await?;
    created(GuardianLink::from(l.into_inner()))
}

/// Admin-only: remove the link between the guardian and the student.
#[utoipa::path(delete, path = "/guardians/{id}/students/{student_id}", tag = "guardians",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("student_id" = uuid::Uuid, Path)),
    responses((status = 204, description = "unlinked"), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
pub async fn unlink(rpc: Rpc, path: web::Path<(String, String)>) -> Reply {
    rpc.require(ADMIN)?;
    let msg = pb::UnlinkStudentRequest {
        guardian_id: path_id(&path.0)?.to_string(),
        student_id: student_path_id(&path.1)?.to_string(),
    };
    rpc.guardians().unlink_student(rpc.request(msg)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Guardian logins: the students linked to them, in name order.
#[utoipa::path(get, path = "/me/children", tag = "guardians", security(("bearer" = [])),
    responses((status = 200, body = Children), (status = 403, body = Problem)))]
pub async fn children(rpc: Rpc) -> Reply {
    rpc.require(&[Role::Guardian])?;
    let msg = pb::ListMyChildrenRequest {};
    let r = rpc.guardians().list_my_children(rpc.request(msg)).await?;
    ok(Children::from(r.into_inner()))
}
