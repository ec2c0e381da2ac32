//! Courses, timetable slots, enrolments and attendance: parse the path,
//! query and body, check the role (cheap rejection; students-svc checks
//! again, including "only the courses you teach"), call students-svc.

use actix_web::{web, HttpRequest, HttpResponse};
use platform::caller::Role;
use proto::students::v1 as pb;

use super::{path_id, student_path_id};
use crate::auth::Authenticated;
use crate::dto::courses::{
    AddSlotBody, AttendanceSession, Course, CoursePage, CreateCourseBody, EnrolBody, Enrolment,
    EnrolmentPage, ListCoursesParams, MarkAttendanceBody, OverrideAttendanceBody, RangeParams,
    RosterParams, SessionParams, StudentAttendance, TimetableSlot, UpdateCourseBody,
};
use crate::json::{query, JsonBody};
use crate::problem::{ApiError, Problem};
use crate::services::request;
use crate::state::AppState;

const STAFF: &[Role] = &[Role::Admin, Role::Teacher];

/// Admin-only: create a course.
#[utoipa::path(post, path = "/api/v1/courses", tag = "courses", security(("bearer" = [])),
    request_body = CreateCourseBody,
    responses((status = 201, body = Course), (status = 400, body = Problem, description = "invalid field, or the teacher is not a teacher of this school"),
        (status = 403, body = Problem), (status = 409, body = Problem, description = "code taken in the term")))]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: JsonBody<CreateCourseBody>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(&[Role::Admin])?;
    let c = state
        .services
        .courses
        .clone()
        .create_course(request(body.0.into_proto(), Some(caller)))
        .await?
        .into_inner();
    Ok(HttpResponse::Created().json(Course::from(c)))
}

/// Courses in (term, code) order, keyset-paginated. Teachers get only the
/// courses they teach.
#[utoipa::path(get, path = "/api/v1/courses", tag = "courses", security(("bearer" = [])),
    params(
        ("limit" = Option<u32>, Query, description = "1-100, default 25"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
        ("term" = Option<String>, Query, description = "e.g. 2026-T1"),
        ("teacher_id" = Option<uuid::Uuid>, Query),
    ),
    responses((status = 200, body = CoursePage), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(STAFF)?;
    let params: ListCoursesParams = query(&req)?;
    let reply = state
        .services
        .courses
        .clone()
        .list_courses(request(params.into_proto()?, Some(caller)))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(CoursePage {
        items: reply.courses.into_iter().map(Course::from).collect(),
        next_cursor: reply.page.map(|p| p.next_cursor).filter(|c| !c.is_empty()),
    }))
}

/// One course with its timetable.
#[utoipa::path(get, path = "/api/v1/courses/{id}", tag = "courses", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Course), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(STAFF)?;
    let id = path_id(&id)?;
    let c = state
        .services
        .courses
        .clone()
        .get_course(request(
            pb::GetCourseRequest { id: id.to_string() },
            Some(caller),
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(Course::from(c)))
}

/// Admin-only: change some fields; `version` must be the one last read.
#[utoipa::path(patch, path = "/api/v1/courses/{id}", tag = "courses", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = UpdateCourseBody,
    responses((status = 200, body = Course), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "stale version, code taken, or a timetable clash"),
        (status = 422, body = Problem, description = "capacity below the enrolled count")))]
pub async fn update(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: JsonBody<UpdateCourseBody>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(&[Role::Admin])?;
    let msg = body.0.into_proto(path_id(&id)?);
    let c = state
        .services
        .courses
        .clone()
        .update_course(request(msg, Some(caller)))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(Course::from(c)))
}

/// Admin-only: add a weekly slot. The room or the teacher busy at an
/// overlapping time that weekday in the course's term: 409.
#[utoipa::path(post, path = "/api/v1/courses/{id}/slots", tag = "courses", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = AddSlotBody,
    responses((status = 201, body = TimetableSlot), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "room or teacher clash")))]
pub async fn add_slot(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: JsonBody<AddSlotBody>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(&[Role::Admin])?;
    let msg = body.0.into_proto(path_id(&id)?);
    let s = state
        .services
        .courses
        .clone()
        .add_timetable_slot(request(msg, Some(caller)))
        .await?
        .into_inner();
    Ok(HttpResponse::Created().json(TimetableSlot::from(s)))
}

/// Admin-only: enrol a student.
#[utoipa::path(post, path = "/api/v1/courses/{id}/enrolments", tag = "enrolments", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = EnrolBody,
    responses((status = 201, body = Enrolment), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "already enrolled"),
        (status = 422, body = Problem, description = "course is full, or the student is archived")))]
pub async fn enrol(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: JsonBody<EnrolBody>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(&[Role::Admin])?;
    let course_id = path_id(&id)?;
    let e = state
        .services
        .enrolments
        .clone()
        .enrol(request(
            pb::EnrolRequest {
                course_id: course_id.to_string(),
                student_id: body.0.student_id,
            },
            Some(caller),
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Created().json(Enrolment::from(e)))
}

/// The course's current enrolments in enrolment order.
#[utoipa::path(get, path = "/api/v1/courses/{id}/enrolments", tag = "enrolments", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path),
        ("limit" = Option<u32>, Query, description = "1-100, default 25"),
        ("cursor" = Option<String>, Query)),
    responses((status = 200, body = EnrolmentPage), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
pub async fn roster(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(STAFF)?;
    let course_id = path_id(&id)?;
    let params: RosterParams = query(&req)?;
    let reply = state
        .services
        .enrolments
        .clone()
        .list_roster(request(params.into_proto(course_id)?, Some(caller)))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(EnrolmentPage {
        items: reply.enrolments.into_iter().map(Enrolment::from).collect(),
        next_cursor: reply.page.map(|p| p.next_cursor).filter(|c| !c.is_empty()),
    }))
}

/// Admin-only: withdraw the student (frees the seat).
#[utoipa::path(delete, path = "/api/v1/courses/{id}/enrolments/{student_id}", tag = "enrolments",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("student_id" = uuid::Uuid, Path)),
    responses((status = 200, body = Enrolment), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn withdraw(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(&[Role::Admin])?;
    let (course, student) = path.into_inner();
    let (course_id, student_id) = (path_id(&course)?, student_path_id(&student)?);
    let e = state
        .services
        .enrolments
        .clone()
        .withdraw(request(
            pb::WithdrawRequest {
                course_id: course_id.to_string(),
                student_id: student_id.to_string(),
            },
            Some(caller),
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(Enrolment::from(e)))
}

/// The course's teacher (or an admin) marks the whole session: an
/// idempotent upsert; the answer is the session after it.
#[utoipa::path(put, path = "/api/v1/courses/{id}/attendance/{date}", tag = "attendance",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("date" = String, Path, description = "YYYY-MM-DD"),
        ("period" = Option<u32>, Query, description = "0 (default): the day's session; 1-12")),
    request_body = MarkAttendanceBody,
    responses((status = 200, body = AttendanceSession),
        (status = 400, body = Problem, description = "invalid entry, or a student not enrolled (field names the entry)"),
        (status = 403, body = Problem, description = "not your course"), (status = 404, body = Problem)))]
pub async fn mark_attendance(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(String, String)>,
    body: JsonBody<MarkAttendanceBody>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(STAFF)?;
    let (course, date) = path.into_inner();
    let params: SessionParams = query(&req)?;
    let key = params.key(path_id(&course)?, &date)?;
    let s = state
        .services
        .attendance
        .clone()
        .mark_attendance(request(key.mark(body.0), Some(caller)))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(AttendanceSession::from(s)))
}

/// One session's records: teacher's mark, office override, effective status.
#[utoipa::path(get, path = "/api/v1/courses/{id}/attendance/{date}", tag = "attendance",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("date" = String, Path, description = "YYYY-MM-DD"),
        ("period" = Option<u32>, Query, description = "0 (default): the day's session; 1-12")),
    responses((status = 200, body = AttendanceSession), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_attendance(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(STAFF)?;
    let (course, date) = path.into_inner();
    let params: SessionParams = query(&req)?;
    let key = params.key(path_id(&course)?, &date)?;
    let s = state
        .services
        .attendance
        .clone()
        .get_attendance_session(request(key.get(), Some(caller)))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(AttendanceSession::from(s)))
}

/// Admin-only: office overrides, kept apart from the teacher's marks.
#[utoipa::path(post, path = "/api/v1/courses/{id}/attendance/{date}/overrides", tag = "attendance",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("date" = String, Path, description = "YYYY-MM-DD"),
        ("period" = Option<u32>, Query, description = "0 (default): the day's session; 1-12")),
    request_body = OverrideAttendanceBody,
    responses((status = 200, body = AttendanceSession), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn override_attendance(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(String, String)>,
    body: JsonBody<OverrideAttendanceBody>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(&[Role::Admin])?;
    let (course, date) = path.into_inner();
    let params: SessionParams = query(&req)?;
    let key = params.key(path_id(&course)?, &date)?;
    let s = state
        .services
        .attendance
        .clone()
        .override_attendance(request(key.override_(body.0), Some(caller)))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(AttendanceSession::from(s)))
}

/// Per day, the student's effective statuses counted (at most 92 days).
/// Teachers count only their own courses; a student reads only their own;
/// a guardian only their linked children's (403 for any other student).
#[utoipa::path(get, path = "/api/v1/students/{id}/attendance", tag = "attendance",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("from" = String, Query, description = "YYYY-MM-DD"),
        ("to" = String, Query, description = "YYYY-MM-DD, inclusive, at most 91 days after from")),
    responses((status = 200, body = StudentAttendance), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn student_attendance(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id)?;
    let caller = &auth.0;
    match caller.role {
        // A guardian's link to the student is checked by students-svc, in
        // the read.
        Role::Admin | Role::Teacher | Role::Guardian => {}
        Role::Student if caller.student_id == Some(id) => {}
        Role::Student => return Err(ApiError::Forbidden("you may only read your own attendance")),
    }
    let params: RangeParams = query(&req)?;
    let reply = state
        .services
        .attendance
        .clone()
        .get_student_attendance(request(params.into_proto(id)?, Some(caller)))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(StudentAttendance::from(reply)))
}
