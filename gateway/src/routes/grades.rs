//! Assessments and grades: parse the path, query and body, check the role
//! (cheap rejection; students-svc checks again, including "only the courses
//! you teach"), call students-svc.

use actix_web::{web, HttpRequest, HttpResponse};
use platform::caller::Role;
use proto::students::v1 as pb;

use super::path_id;
use crate::auth::Authenticated;
use crate::dto::grades::{
    Assessment, AssessmentPage, CreateAssessmentBody, GradeSheet, ListAssessmentsParams,
    RecordGradesBody, StudentGrades, StudentGradesParams, UpdateAssessmentBody,
};
use crate::json::{query, JsonBody};
use crate::problem::{ApiError, Problem};
use crate::services::request;
use crate::state::AppState;

const STAFF: &[Role] = &[Role::Admin, Role::Teacher];

/// An admin or the course's teacher creates an assessment.
#[utoipa::path(post, path = "/api/v1/courses/{id}/assessments", tag = "grades",
    security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    request_body = CreateAssessmentBody,
    responses((status = 201, body = Assessment), (status = 400, body = Problem),
        (status = 403, body = Problem, description = "not your course"), (status = 404, body = Problem)))]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: JsonBody<CreateAssessmentBody>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(STAFF)?;
    let msg = body.0.into_proto(path_id(&id)?)?;
    let a = state
        .services
        .grades
        .clone()
        .create_assessment(request(msg, Some(caller)))
        .await?
        .into_inner();
    Ok(HttpResponse::Created().json(Assessment::from(a)))
}

/// The course's assessments in (due date, id) order, keyset-paginated.
#[utoipa::path(get, path = "/api/v1/courses/{id}/assessments", tag = "grades",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path),
        ("limit" = Option<u32>, Query, description = "1-100, default 25"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page")),
    responses((status = 200, body = AssessmentPage), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(STAFF)?;
    let course_id = path_id(&id)?;
    let params: ListAssessmentsParams = query(&req)?;
    let reply = state
        .services
        .grades
        .clone()
        .list_assessments(request(params.into_proto(course_id)?, Some(caller)))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(AssessmentPage {
        items: reply
            .assessments
            .into_iter()
            .map(Assessment::from)
            .collect(),
        next_cursor: reply.page.map(|p| p.next_cursor).filter(|c| !c.is_empty()),
    }))
}

#[utoipa::path(get, path = "/api/v1/assessments/{id}", tag = "grades", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Assessment), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(STAFF)?;
    let id = path_id(&id)?;
    let a = state
        .services
        .grades
        .clone()
        .get_assessment(request(
            pb::GetAssessmentRequest { id: id.to_string() },
            Some(caller),
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(Assessment::from(a)))
}

/// Change some fields; `version` must be the one last read.
#[utoipa::path(patch, path = "/api/v1/assessments/{id}", tag = "grades", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = UpdateAssessmentBody,
    responses((status = 200, body = Assessment), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "stale version"),
        (status = 422, body = Problem, description = "max score below a recorded score")))]
pub async fn update(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: JsonBody<UpdateAssessmentBody>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(STAFF)?;
    let msg = body.0.into_proto(path_id(&id)?)?;
    let a = state
        .services
        .grades
        .clone()
        .update_assessment(request(msg, Some(caller)))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(Assessment::from(a)))
}

/// Sets many students' scores at once: an idempotent upsert; the answer is
/// the assessment's grade sheet after it. Nothing is written unless every
/// entry is valid.
#[utoipa::path(put, path = "/api/v1/assessments/{id}/grades", tag = "grades",
    security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    request_body = RecordGradesBody,
    responses((status = 200, body = GradeSheet),
        (status = 400, body = Problem, description = "invalid entry, a score above the max score, a repeated student or one not enrolled (field names the entry)"),
        (status = 403, body = Problem, description = "not your course"), (status = 404, body = Problem)))]
pub async fn record(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: JsonBody<RecordGradesBody>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(STAFF)?;
    let msg = body.0.into_proto(path_id(&id)?)?;
    let s = state
        .services
        .grades
        .clone()
        .record_grades(request(msg, Some(caller)))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(GradeSheet::from(s)))
}

/// Every grade of the assessment, drafts included.
#[utoipa::path(get, path = "/api/v1/assessments/{id}/grades", tag = "grades",
    security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = GradeSheet), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn sheet(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(STAFF)?;
    let id = path_id(&id)?;
    let s = state
        .services
        .grades
        .clone()
        .get_grades(request(
            pb::GetGradesRequest {
                assessment_id: id.to_string(),
            },
            Some(caller),
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(GradeSheet::from(s)))
}

/// Publishes the grades: students see them from now on, and guardians are
/// told (`grades.published`). Publishing again changes nothing.
#[utoipa::path(post, path = "/api/v1/assessments/{id}/publish", tag = "grades",
    security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Assessment), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn publish(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(STAFF)?;
    let id = path_id(&id)?;
    let a = state
        .services
        .grades
        .clone()
        .publish_grades(request(
            pb::PublishGradesRequest {
                assessment_id: id.to_string(),
            },
            Some(caller),
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(Assessment::from(a)))
}

/// A student's grades in assessment order. A student reads only their own,
/// published ones; a teacher only their courses' (drafts included); an
/// admin all.
#[utoipa::path(get, path = "/api/v1/students/{id}/grades", tag = "grades",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("course_id" = Option<uuid::Uuid>, Query),
        ("limit" = Option<u32>, Query, description = "1-100, default 25"),
        ("cursor" = Option<String>, Query)),
    responses((status = 200, body = StudentGrades), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn student_grades(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id)?;
    let caller = &auth.0;
    match caller.role {
        // A guardian's link to the student is checked by students-svc.
        Role::Admin | Role::Teacher | Role::Guardian => {}
        Role::Student if caller.student_id == Some(id) => {}
        Role::Student => return Err(ApiError::Forbidden("you may only read your own grades")),
    }
    let params: StudentGradesParams = query(&req)?;
    let reply = state
        .services
        .grades
        .clone()
        .list_student_grades(request(params.into_proto(id)?, Some(caller)))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(StudentGrades::from(reply)))
}
