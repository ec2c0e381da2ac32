use actix_web::{web, HttpRequest};
use platform::caller::Role;
use proto::students::v1 as pb;

use super::path_id;
use super::rpc::{created, ok, Reply, Rpc, ADMIN, STAFF};
use crate::dto::students::{
    CreateStudentBody, ListStudentsParams, Student, StudentPage, UpdateStudentBody,
};
use crate::json::{query, JsonBody};
use crate::problem::Problem;

/// Students of the caller's school in name order, keyset-paginated.
#[utoipa::path(get, path = "/students", tag = "students", security(("bearer" = [])),
    params(
        ("limit" = Option<u32>, Query, description = "1-100, default 25"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
        ("grade_level" = Option<i32>, Query, description = "0-12"),
        ("section" = Option<String>, Query),
        ("status" = Option<String>, Query, description = "active | graduated | withdrawn"),
        ("q" = Option<String>, Query, description = "prefix of given name, family name or admission number"),
    ),
    responses((status = 200, body = StudentPage), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn list(req: HttpRequest, rpc: Rpc) -> Reply {
    rpc.require(STAFF)?;
    let msg = query::<ListStudentsParams>(&req)?.into_proto()?;
    let r = rpc.students().list_students(rpc.request(msg)).await?;
    let r = r.into_inner();
    ok(StudentPage::new(r.students, r.page))
}

/// Admin-only: create a student, optionally with a portal login.
#[utoipa::path(post, path = "/students", tag = "students", security(("bearer" = [])),
    request_body = CreateStudentBody,
    responses((status = 201, body = Student), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem)))]
pub async fn create(rpc: Rpc, body: JsonBody<CreateStudentBody>) -> Reply {
    rpc.require(ADMIN)?;
    let msg = body.0.into_proto()?;
    let s = rpc.students().create_student(rpc.request(msg)).await?;
    created(Student::from(s.into_inner()))
}

/// One student. Students may read only their own record, guardians only
/// their linked children's.
#[utoipa::path(get, path = "/students/{id}", tag = "students", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Student), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(rpc: Rpc, id: web::Path<String>) -> Reply {
    let id = path_id(&id)?;
    let readers = &[Role::Admin, Role::Teacher, Role::Guardian];
    rpc.require_student(id, readers)?;
    let msg = pb::GetStudentRequest { id: id.to_string() };
    let s = rpc.students().get_student(rpc.request(msg)).await?;
    ok(Student::from(s.into_inner()))
}

/// Admin-only: change some fields; `version` must be the one last read.
#[utoipa::path(patch, path = "/students/{id}", tag = "students", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = UpdateStudentBody,
    responses((status = 200, body = Student), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "stale version or duplicate admission number"),
        (status = 422, body = Problem, description = "the student is archived")))]
pub async fn update(rpc: Rpc, id: web::Path<String>, body: JsonBody<UpdateStudentBody>) -> Reply {
    rpc.require(ADMIN)?;
    let msg = body.0.into_proto(path_id(&id)?)?;
    let s = rpc.students().update_student(rpc.request(msg)).await?;
    ok(Student::from(s.into_inner()))
}

/// Admin-only: archive (soft-delete); the record stays readable.
#[utoipa::path(delete, path = "/students/{id}", tag = "students", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Student), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn archive(rpc: Rpc, id: web::Path<String>) -> Reply {
    rpc.require(ADMIN)?;
    let msg = pb::ArchiveStudentRequest {
        id: path_id(&id)?.to_string(),
    };
    let s = rpc.students().archive_student(rpc.request(msg)).await?;
    ok(Student::from(s.into_inner()))
}
