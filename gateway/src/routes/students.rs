use actix_web::{web, HttpRequest, HttpResponse};
use platform::caller::Role;
use proto::students::v1 as pb;

use super::path_id;
use crate::auth::Authenticated;
use crate::dto::{CreateStudentBody, ListStudentsParams, Student, StudentPage, UpdateStudentBody};
use crate::json::{query, JsonBody};
use crate::problem::{ApiError, Problem};
use crate::services::request;
use crate::state::AppState;

/// Students of the caller's school in name order, keyset-paginated.
#[utoipa::path(get, path = "/api/v1/students", tag = "students", security(("bearer" = [])),
    params(
        ("limit" = Option<u32>, Query, description = "1-100, default 25"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
        ("grade_level" = Option<i32>, Query, description = "0-12"),
        ("section" = Option<String>, Query),
        ("status" = Option<String>, Query, description = "active | graduated | withdrawn"),
        ("q" = Option<String>, Query, description = "prefix of given name, family name or admission number"),
    ),
    responses((status = 200, body = StudentPage), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(&[Role::Admin, Role::Teacher])?;
    let params: ListStudentsParams = query(&req)?;
    let reply = state
        .services
        .students
        .clone()
        .list_students(request(params.into_proto()?, Some(caller)))
        .await?
        .into_inner();
    let next = reply.page.map(|p| p.next_cursor).filter(|c| !c.is_empty());
    Ok(HttpResponse::Ok().json(StudentPage {
        items: reply.students.into_iter().map(Student::from).collect(),
        next_cursor: next,
    }))
}

/// Admin-only: create a student, optionally with a portal login.
#[utoipa::path(post, path = "/api/v1/students", tag = "students", security(("bearer" = [])),
    request_body = CreateStudentBody,
    responses((status = 201, body = Student), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem)))]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: JsonBody<CreateStudentBody>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(&[Role::Admin])?;
    let msg = body.0.into_proto()?;
    let s = state
        .services
        .students
        .clone()
        .create_student(request(msg, Some(caller)))
        .await?
        .into_inner();
    Ok(HttpResponse::Created().json(Student::from(s)))
}

/// One student. Students may read only their own record, guardians only
/// their linked children's.
#[utoipa::path(get, path = "/api/v1/students/{id}", tag = "students", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Student), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id)?;
    let caller = &auth.0;
    match caller.role {
        // Guardians: students-svc checks the link in the same statement as the read.
        Role::Admin | Role::Teacher | Role::Guardian => {}
        Role::Student if caller.student_id == Some(id) => {}
        Role::Student => return Err(ApiError::Forbidden("you may only read your own record")),
    }
    let s = state
        .services
        .students
        .clone()
        .get_student(request(
            pb::GetStudentRequest { id: id.to_string() },
            Some(caller),
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(Student::from(s)))
}

/// Admin-only: change some fields; `version` must be the one last read.
#[utoipa::path(patch, path = "/api/v1/students/{id}", tag = "students", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = UpdateStudentBody,
    responses((status = 200, body = Student), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "stale version or duplicate admission number"),
        (status = 422, body = Problem, description = "the student is archived")))]
pub async fn update(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: JsonBody<UpdateStudentBody>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(&[Role::Admin])?;
    let msg = body.0.into_proto(path_id(&id)?)?;
    let s = state
        .services
        .students
        .clone()
        .update_student(request(msg, Some(caller)))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(Student::from(s)))
}

/// Admin-only: archive (soft-delete); the record stays readable.
#[utoipa::path(delete, path = "/api/v1/students/{id}", tag = "students", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Student), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn archive(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(&[Role::Admin])?;
    let id = path_id(&id)?;
    let s = state
        .services
        .students
        .clone()
        .archive_student(request(
            pb::ArchiveStudentRequest { id: id.to_string() },
            Some(caller),
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(Student::from(s)))
}
