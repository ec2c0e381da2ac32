//! Assessments and grades: parse the path, query and body, check the role
//! (cheap rejection; students-svc checks again, including "only the courses
//! you teach"), call students-svc.

use actix_web::{web, HttpRequest};
use platform::caller::Role;
use proto::students::v1 as pb;

use super::path_id;
use super::rpc::{created, ok, Reply, Rpc, STAFF};
use crate::dto::grades::{
    Assessment, AssessmentPage, CreateAssessmentBody, GradeSheet, RecordGradesBody, StudentGrades,
    StudentGradesParams, UpdateAssessmentBody,
};
use crate::dto::PageParams;
use crate::json::{query, JsonBody};
use crate::problem::Problem;

/// An admin or the course's teacher creates an assessment.
#[utoipa::path(post, path = "/courses/{id}/assessments", tag = "grades",
    security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    request_body = CreateAssessmentBody,
    responses((status = 201, body = Assessment), (status = 400, body = Problem),
        (status = 403, body = Problem, description = "not your course"), (status = 404, body = Problem)))]
pub async fn create(
    rpc: Rpc,
    id: web::Path<String>,
    body: JsonBody<CreateAssessmentBody>,
) -> Reply {
    rpc.require(STAFF)?;
    let msg = body.0.into_proto(path_id(&id)?)?;
    let a = rpc.grades().create_assessment(rpc.request(msg)).await?;
    created(Assessment::from(a.into_inner()))
}

/// The course's assessments in (due date, id) order, keyset-paginated.
#[utoipa::path(get, path = "/courses/{id}/assessments", tag = "grades",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path),
        ("limit" = Option<u32>, Query, description = "1-100, default 25"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page")),
    responses((status = 200, body = AssessmentPage), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list(req: HttpRequest, rpc: Rpc, id: web::Path<String>) -> Reply {
    rpc.require(STAFF)?;
    let course_id = path_id(&id)?;
    let page = query::<PageParams>(&req)?.into_proto()?;
    let msg = pb::ListAssessmentsRequest {
        course_id: course_id.to_string(),
        page: Some(page),
    };
    let r = rpc.grades().list_assessments(rpc.request(msg)).await?;
    let r = r.into_inner();
    ok(AssessmentPage::new(r.assessments, r.page))
}

#[utoipa::path(get, path = "/assessments/{id}", tag = "grades", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Assessment), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(rpc: Rpc, id: web::Path<String>) -> Reply {
    rpc.require(STAFF)?;
    let msg = pb::GetAssessmentRequest {
        id: path_id(&id)?.to_string(),
    };
    let a = rpc.grades().get_assessment(rpc.request(msg)).await?;
    ok(Assessment::from(a.into_inner()))
}

/// Change some fields; `version` must be the one last read.
#[utoipa::path(patch, path = "/assessments/{id}", tag = "grades", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = UpdateAssessmentBody,
    responses((status = 200, body = Assessment), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "stale version"),
        (status = 422, body = Problem, description = "max score below a recorded score")))]
pub async fn update(
    rpc: Rpc,
    id: web::Path<String>,
    body: JsonBody<UpdateAssessmentBody>,
) -> Reply {
    rpc.require(STAFF)?;
    let msg = body.0.into_proto(path_id(&id)?)?;
    let a = rpc.grades().update_assessment(rpc.request(msg)).await?;
    ok(Assessment::from(a.into_inner()))
}

/// Sets many students' scores at once: an idempotent upsert; the answer is
/// the assessment's grade sheet after it. Nothing is written unless every
/// entry is valid.
#[utoipa::path(put, path = "/assessments/{id}/grades", tag = "grades",
    security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    request_body = RecordGradesBody,
    responses((status = 200, body = GradeSheet),
        (status = 400, body = Problem, description = "invalid entry, a score above the max score, a repeated student or one not enrolled (field names the entry)"),
        (status = 403, body = Problem, description = "not your course"), (status = 404, body = Problem)))]
pub async fn record(rpc: Rpc, id: web::Path<String>, body: JsonBody<RecordGradesBody>) -> Reply {
    rpc.require(STAFF)?;
    let msg = body.0.into_proto(path_id(&id)?)?;
    let s = rpc.grades().record_grades(rpc.request(msg)).await?;
    ok(GradeSheet::from(s.into_inner()))
}

/// Every grade of the assessment, drafts included.
#[utoipa::path(get, path = "/assessments/{id}/grades", tag = "grades",
    security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = GradeSheet), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn sheet(rpc: Rpc, id: web::Path<String>) -> Reply {
    rpc.require(STAFF)?;
    let msg = pb::GetGradesRequest {
        assessment_id: path_id(&id)?.to_string(),
    };
    let s = rpc.grades().get_grades(rpc.request(msg)).await?;
    ok(GradeSheet::from(s.into_inner()))
}

/// Publishes the grades: students see them from now on, and guardians are
/// told (`grades.published`). Publishing again changes nothing.
#[utoipa::path(post, path = "/assessments/{id}/publish", tag = "grades",
    security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Assessment), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn publish(rpc: Rpc, id: web::Path<String>) -> Reply {
    rpc.require(STAFF)?;
    let msg = pb::PublishGradesRequest {
        assessment_id: path_id(&id)?.to_string(),
    };
    let a = rpc.grades().publish_grades(rpc.request(msg)).await?;
    ok(Assessment::from(a.into_inner()))
}

/// A student's grades in assessment order. A student reads only their own,
/// published ones; a teacher only their courses' (drafts included); an
/// admin all.
#[utoipa::path(get, path = "/students/{id}/grades", tag = "grades",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("course_id" = Option<uuid::Uuid>, Query),
        ("limit" = Option<u32>, Query, description = "1-100, default 25"),
        ("cursor" = Option<String>, Query)),
    responses((status = 200, body = StudentGrades), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn student_grades(req: HttpRequest, rpc: Rpc, id: web::Path<String>) -> Reply {
    let id = path_id(&id)?;
    let readers = &[Role::Admin, Role::Teacher, Role::Guardian];
    rpc.require_student(id, readers)?;
    let msg = query::<StudentGradesParams>(&req)?.into_proto(id)?;
    let r = rpc.grades().list_student_grades(rpc.request(msg)).await?;
    ok(StudentGrades::from(r.into_inner()))
}
