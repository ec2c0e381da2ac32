//! Courses, timetable slots, enrolments and attendance: parse the path,
//! query and body, check the role (cheap rejection; students-svc checks
//! again, including "only the courses you teach"), call students-svc.

use actix_web::{web, HttpRequest};
use platform::caller::Role;
use proto::students::v1 as pb;

use super::rpc::{created, ok, Reply, Rpc, ADMIN, STAFF};
use super::{path_id, student_path_id};
use crate::dto::courses::{
    AddSlotBody, AttendanceSession, Course, CoursePage, CreateCourseBody, EnrolBody, Enrolment,
    EnrolmentPage, ListCoursesParams, MarkAttendanceBody, OverrideAttendanceBody, RangeParams,
    SessionKey, SessionParams, StudentAttendance, TimetableSlot, UpdateCourseBody,
};
use crate::dto::PageParams;
use crate::json::{query, JsonBody};
use crate::problem::{ApiError, Problem};

/// Admin-only: create a course.
#[utoipa::path(post, path = "/courses", tag = "courses", security(("bearer" = [])),
    request_body = CreateCourseBody,
    responses((status = 201, body = Course), (status = 400, body = Problem, description = "invalid field, or the teacher is not a teacher of this school"),
        (status = 403, body = Problem), (status = 409, body = Problem, description = "code taken in the term")))]
pub async fn create(rpc: Rpc, body: JsonBody<CreateCourseBody>) -> Reply {
    rpc.require(ADMIN)?;
    let msg = body.0.into_proto();
    let c = rpc.courses().create_course(rpc.request(msg)).await?;
    created(Course::from(c.into_inner()))
}

/// Courses in (term, code) order, keyset-paginated. Teachers get only the
/// courses they teach.
#[utoipa::path(get, path = "/courses", tag = "courses", security(("bearer" = [])),
    params(
        ("limit" = Option<u32>, Query, description = "1-100, default 25"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
        ("term" = Option<String>, Query, description = "e.g. 2026-T1"),
        ("teacher_id" = Option<uuid::Uuid>, Query),
    ),
    responses((status = 200, body = CoursePage), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn list(req: HttpRequest, rpc: Rpc) -> Reply {
    rpc.require(STAFF)?;
    let msg = query::<ListCoursesParams>(&req)?.into_proto()?;
    let r = rpc
        .courses()
        .list_courses(rpc.request(msg))
        .await?
        .into_inner();
    ok(CoursePage::new(r.courses, r.page))
}

/// One course with its timetable.
#[utoipa::path(get, path = "/courses/{id}", tag = "courses", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Course), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(rpc: Rpc, id: web::Path<String>) -> Reply {
    rpc.require(STAFF)?;
    let msg = pb::GetCourseRequest {
        id: path_id(&id)?.to_string(),
    };
    let c = rpc.courses().get_course(rpc.request(msg)).await?;
    ok(Course::from(c.into_inner()))
}

/// Admin-only: change some fields; `version` must be the one last read.
#[utoipa::path(patch, path = "/courses/{id}", tag = "courses", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = UpdateCourseBody,
    responses((status = 200, body = Course), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "stale version, code taken, or a timetable clash"),
        (status = 422, body = Problem, description = "capacity below the enrolled count")))]
pub async fn update(rpc: Rpc, id: web::Path<String>, body: JsonBody<UpdateCourseBody>) -> Reply {
    rpc.require(ADMIN)?;
    let msg = body.0.into_proto(path_id(&id)?);
    let c = rpc.courses().update_course(rpc.request(msg)).await?;
    ok(Course::from(c.into_inner()))
}

/// Admin-only: add a weekly slot. The room or the teacher busy at an
/// overlapping time that weekday in the course's term: 409.
#[utoipa::path(post, path = "/courses/{id}/slots", tag = "courses", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = AddSlotBody,
    responses((status = 201, body = TimetableSlot), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "room or teacher clash")))]
pub async fn add_slot(rpc: Rpc, id: web::Path<String>, body: JsonBody<AddSlotBody>) -> Reply {
    rpc.require(ADMIN)?;
    let msg = body.0.into_proto(path_id(&id)?);
    let s = rpc.courses().add_timetable_slot(rpc.request(msg)).await?;
    created(TimetableSlot::from(s.into_inner()))
}

/// Admin-only: enrol a student.
#[utoipa::path(post, path = "/courses/{id}/enrolments", tag = "enrolments", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = EnrolBody,
    responses((status = 201, body = Enrolment), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "already enrolled"),
        (status = 422, body = Problem, description = "course is full, or the student is archived")))]
pub async fn enrol(rpc: Rpc, id: web::Path<String>, body: JsonBody<EnrolBody>) -> Reply {
    rpc.require(ADMIN)?;
    let msg = pb::EnrolRequest {
        course_id: path_id(&id)?.to_string(),
        student_id: body.0.student_id,
    };
    let e = rpc.enrolments().enrol(rpc.request(msg)).await?;
    created(Enrolment::from(e.into_inner()))
}

/// The course's current enrolments in enrolment order.
#[utoipa::path(get, path = "/courses/{id}/enrolments", tag = "enrolments", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path),
        ("limit" = Option<u32>, Query, description = "1-100, default 25"),
        ("cursor" = Option<String>, Query)),
    responses((status = 200, body = EnrolmentPage), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
pub async fn roster(req: HttpRequest, rpc: Rpc, id: web::Path<String>) -> Reply {
    rpc.require(STAFF)?;
    let course_id = path_id(&id)?;
    let page = query::<PageParams>(&req)?.into_proto()?;
    let msg = pb::ListRosterRequest {
        course_id: course_id.to_string(),
        page: Some(page),
    };
    let r = rpc.enrolments().list_roster(rpc.request(msg)).await?;
    let r = r.into_inner();
    ok(EnrolmentPage::new(r.enrolments, r.page))
}

/// Admin-only: withdraw the student (frees the seat).
#[utoipa::path(delete, path = "/courses/{id}/enrolments/{student_id}", tag = "enrolments",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("student_id" = uuid::Uuid, Path)),
    responses((status = 200, body = Enrolment), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn withdraw(rpc: Rpc, path: web::Path<(String, String)>) -> Reply {
    rpc.require(ADMIN)?;
    let msg = pb::WithdrawRequest {
        course_id: path_id(&path.0)?.to_string(),
        student_id: student_path_id(&path.1)?.to_string(),
    };
    let e = rpc.enrolments().withdraw(rpc.request(msg)).await?;
    ok(Enrolment::from(e.into_inner()))
}

/// The session of `/courses/{id}/attendance/{date}?period=`.
fn session(req: &HttpRequest, path: &(String, String)) -> Result<SessionKey, ApiError> {
    let params: SessionParams = query(req)?;
    params.key(path_id(&path.0)?, &path.1)
}

/// The course's teacher (or an admin) marks the whole session: an
/// idempotent upsert; the answer is the session after it.
#[utoipa::path(put, path = "/courses/{id}/attendance/{date}", tag = "attendance",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("date" = String, Path, description = "YYYY-MM-DD"),
        ("period" = Option<u32>, Query, description = "0 (default): the day's session; 1-12")),
    request_body = MarkAttendanceBody,
    responses((status = 200, body = AttendanceSession),
        (status = 400, body = Problem, description = "invalid entry, or a student not enrolled (field names the entry)"),
        (status = 403, body = Problem, description = "not your course"), (status = 404, body = Problem)))]
pub async fn mark_attendance(
    req: HttpRequest,
    rpc: Rpc,
    path: web::Path<(String, String)>,
    body: JsonBody<MarkAttendanceBody>,
) -> Reply {
    rpc.require(STAFF)?;
    let msg = session(&req, &path)?.mark(body.0);
    let s = rpc.attendance().mark_attendance(rpc.request(msg)).await?;
    ok(AttendanceSession::from(s.into_inner()))
}

/// One session's records: teacher's mark, office override, effective status.
#[utoipa::path(get, path = "/courses/{id}/attendance/{date}", tag = "attendance",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("date" = String, Path, description = "YYYY-MM-DD"),
        ("period" = Option<u32>, Query, description = "0 (default): the day's session; 1-12")),
    responses((status = 200, body = AttendanceSession), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_attendance(
    req: HttpRequest,
    rpc: Rpc,
    path: web::Path<(String, String)>,
) -> Reply {
    rpc.require(STAFF)?;
    let msg = session(&req, &path)?.get();
    let s = rpc
        .attendance()
        .get_attendance_session(rpc.request(msg))
        .await?;
    ok(AttendanceSession::from(s.into_inner()))
}

/// Admin-only: office overrides, kept apart from the teacher's marks.
#[utoipa::path(post, path = "/courses/{id}/attendance/{date}/overrides", tag = "attendance",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("date" = String, Path, description = "YYYY-MM-DD"),
        ("period" = Option<u32>, Query, description = "0 (default): the day's session; 1-12")),
    request_body = OverrideAttendanceBody,
    responses((status = 200, body = AttendanceSession), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn override_attendance(
    req: HttpRequest,
    rpc: Rpc,
    path: web::Path<(String, String)>,
    body: JsonBody<OverrideAttendanceBody>,
) -> Reply {
    rpc.require(ADMIN)?;
    let msg = session(&req, &path)?.override_(body.0);
    let s = rpc
        .attendance()
        .override_attendance(rpc.request(msg))
        .await?;
    ok(AttendanceSession::from(s.into_inner()))
}

/// Per day, the student's effective statuses counted (at most 92 days).
/// Teachers count only their own courses; a student reads only their own;
/// a guardian only their linked children's (404 for any other student).
#[utoipa::path(get, path = "/students/{id}/attendance", tag = "attendance",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("from" = String, Query, description = "YYYY-MM-DD"),
        ("to" = String, Query, description = "YYYY-MM-DD, inclusive, at most 91 days after from")),
    responses((status = 200, body = StudentAttendance), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn student_attendance(req: HttpRequest, rpc: Rpc, id: web::Path<String>) -> Reply {
    let id = path_id(&id)?;
    let readers = &[Role::Admin, Role::Teacher, Role::Guardian];
    rpc.require_student(id, readers)?;
    let msg = query::<RangeParams>(&req)?.into_proto(id)?;
    let r = rpc
        .attendance()
        .get_student_attendance(rpc.request(msg))
        .await?;
    ok(StudentAttendance::from(r.into_inner()))
}
