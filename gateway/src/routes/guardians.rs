use actix_web::{web, HttpRequest, HttpResponse};
use platform::caller::Role;
use proto::students::v1 as pb;

use super::{path_id, student_path_id};
use crate::auth::Authenticated;
use crate::dto::Student;
use crate::json::{query, JsonBody};
use crate::people_dto::{
    Children, CreateGuardianBody, Guardian, GuardianLink, GuardianPage, LinkStudentBody,
    ListGuardiansParams, UpdateGuardianBody,
};
use crate::problem::{ApiError, Problem};
use crate::services::request;
use crate::state::AppState;

/// Admin-only: create a guardian, optionally with a portal login.
#[utoipa::path(post, path = "/api/v1/guardians", tag = "guardians", security(("bearer" = [])),
    request_body = CreateGuardianBody,
    responses((status = 201, body = Guardian), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem, description = "login e-mail taken")))]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: JsonBody<CreateGuardianBody>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(&[Role::Admin])?;
    let g = state
        .services
        .guardians
        .clone()
        .create_guardian(request(body.0.into_proto(), Some(caller)))
        .await?
        .into_inner();
    Ok(HttpResponse::Created().json(Guardian::from(g)))
}

/// Guardians of the caller's school in name order, keyset-paginated;
/// `student_id` narrows to one student's guardians. Admins and teachers.
#[utoipa::path(get, path = "/api/v1/guardians", tag = "guardians", security(("bearer" = [])),
    params(
        ("limit" = Option<u32>, Query, description = "1-100, default 25"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
        ("student_id" = Option<uuid::Uuid>, Query, description = "only guardians of this student"),
    ),
    responses((status = 200, body = GuardianPage), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(&[Role::Admin, Role::Teacher])?;
    let params: ListGuardiansParams = query(&req)?;
    let reply = state
        .services
        .guardians
        .clone()
        .list_guardians(request(params.into_proto()?, Some(caller)))
        .await?
        .into_inner();
    let next = reply.page.map(|p| p.next_cursor).filter(|c| !c.is_empty());
    Ok(HttpResponse::Ok().json(GuardianPage {
        items: reply.guardians.into_iter().map(Guardian::from).collect(),
        next_cursor: next,
    }))
}

/// One guardian with its student links. Admins and teachers.
#[utoipa::path(get, path = "/api/v1/guardians/{id}", tag = "guardians", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Guardian), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id)?;
    let caller = auth.require(&[Role::Admin, Role::Teacher])?;
    let g = state
        .services
        .guardians
        .clone()
        .get_guardian(request(
            pb::GetGuardianRequest { id: id.to_string() },
            Some(caller),
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(Guardian::from(g)))
}

/// Admin-only: change some fields; `version` must be the one last read.
#[utoipa::path(patch, path = "/api/v1/guardians/{id}", tag = "guardians", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = UpdateGuardianBody,
    responses((status = 200, body = Guardian), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "stale version")))]
pub async fn update(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: JsonBody<UpdateGuardianBody>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(&[Role::Admin])?;
    let msg = body.0.into_proto(path_id(&id)?);
    let g = state
        .services
        .guardians
        .clone()
        .update_guardian(request(msg, Some(caller)))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(Guardian::from(g)))
}

/// Admin-only: link the guardian to a student (body may be `{}`).
#[utoipa::path(put, path = "/api/v1/guardians/{id}/students/{student_id}", tag = "guardians",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("student_id" = uuid::Uuid, Path)), request_body = LinkStudentBody,
    responses((status = 201, body = GuardianLink), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "already linked, or the student already has a primary guardian")))]
pub async fn link(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(String, String)>,
    body: JsonBody<LinkStudentBody>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(&[Role::Admin])?;
    let (id, student_id) = (path_id(&path.0)?, student_path_id(&path.1)?);
    let l = state
        .services
        .guardians
        .clone()
        .link_student(request(body.0.into_proto(id, student_id), Some(caller)))
        .await?
        .into_inner();
    Ok(HttpResponse::Created().json(GuardianLink::from(l)))
}

/// Admin-only: remove the link between the guardian and the student.
#[utoipa::path(delete, path = "/api/v1/guardians/{id}/students/{student_id}", tag = "guardians",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("student_id" = uuid::Uuid, Path)),
    responses((status = 204, description = "unlinked"), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
pub async fn unlink(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(&[Role::Admin])?;
    let (id, student_id) = (path_id(&path.0)?, student_path_id(&path.1)?);
    state
        .services
        .guardians
        .clone()
        .unlink_student(request(
            pb::UnlinkStudentRequest {
                guardian_id: id.to_string(),
                student_id: student_id.to_string(),
            },
            Some(caller),
        ))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Guardian logins: the students linked to them, in name order.
#[utoipa::path(get, path = "/api/v1/me/children", tag = "guardians", security(("bearer" = [])),
    responses((status = 200, body = Children), (status = 403, body = Problem)))]
pub async fn children(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(&[Role::Guardian])?;
    let reply = state
        .services
        .guardians
        .clone()
        .list_my_children(request(pb::ListMyChildrenRequest {}, Some(caller)))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(Children {
        items: reply.students.into_iter().map(Student::from).collect(),
    }))
}
