//! Dashboards and reports (analytics-svc): parse the query, check the role
//! (cheap rejection; analytics-svc checks again, including which students a
//! teacher or guardian reaches), call analytics-svc.
//!
//! The dashboards, the summary, the at-risk list and the course grades are small and cached
//! by the edge (`crate::cache::rules`). The reports are streamed: analytics-
//! svc sends one row per message and the answer is written as they arrive,
//! as JSON or, when the client asks for `text/csv`, as CSV, never held
//! whole in memory.

use actix_web::{
    http::header::{self, Accept, ContentDisposition, DispositionParam, DispositionType, Header},
    web, HttpRequest, HttpResponse,
};
use bytes::Bytes;
use futures::{stream, Stream, StreamExt};
use platform::caller::Role;
use proto::analytics::v1 as pb;

use super::path_id;
use super::rpc::{ok, Reply, Rpc, ADMIN, STAFF};
use crate::dto::analytics::{
    csv_record, AtRiskPage, AtRiskParams, AttendanceReport, AttendanceReportParams,
    CourseGradePage, CourseGradeParams, DailyAttendance, FeesMonth, FeesReport, FeesReportParams,
    ReportRow, SchoolDashboard, StudentSummary, TeacherDashboard,
};
use crate::json::query;
use crate::problem::Problem;

/// Admin: the school at a glance, "today" in the school's time zone.
#[utoipa::path(get, path = "/dashboards/school", tag = "analytics",
    security(("bearer" = [])),
    responses((status = 200, body = SchoolDashboard), (status = 403, body = Problem)))]
pub async fn school_dashboard(rpc: Rpc) -> Reply {
    rpc.require(ADMIN)?;
    let msg = pb::GetSchoolDashboardRequest {};
    let d = rpc
        .analytics()
        .get_school_dashboard(rpc.request(msg))
        .await?;
    ok(SchoolDashboard::from(d.into_inner()))
}

/// Teachers: the signed-in teacher's own courses, today's sessions not
/// marked yet, assessments past due with grades missing. There is no way
/// to name another teacher: the token says whose dashboard it is.
#[utoipa::path(get, path = "/dashboards/teacher", tag = "analytics",
    security(("bearer" = [])),
    responses((status = 200, body = TeacherDashboard), (status = 403, body = Problem)))]
pub async fn teacher_dashboard(rpc: Rpc) -> Reply {
    rpc.require(&[Role::Teacher])?;
    let msg = pb::GetTeacherDashboardRequest {};
    let d = rpc
        .analytics()
        .get_teacher_dashboard(rpc.request(msg))
        .await?;
    ok(TeacherDashboard::from(d.into_inner()))
}

/// One student at a glance: attendance, averages per course, balance due,
/// early-warning reasons. Admins; a teacher of one of the student's
/// courses; the student; a linked guardian (students and guardians see
/// averages of published grades only).
#[utoipa::path(get, path = "/students/{id}/summary", tag = "analytics",
    security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = StudentSummary),
        (status = 403, body = Problem, description = "a teacher of none of the student's courses"),
        (status = 404, body = Problem, description = "no such student, or one the caller (a student, a guardian) may not read")))]
pub async fn student_summary(rpc: Rpc, id: web::Path<String>) -> Reply {
    let id = path_id(&id)?;
    let readers = &[Role::Admin, Role::Teacher, Role::Guardian];
    rpc.require_student(id, readers)?;
    let msg = pb::GetStudentSummaryRequest {
        student_id: id.to_string(),
    };
    let s = rpc
        .analytics()
        .get_student_summary(rpc.request(msg))
        .await?;
    ok(StudentSummary::from(s.into_inner()))
}

/// The early-warning list, by family and given name, keyset-paginated. A
/// teacher sees only students of their courses.
#[utoipa::path(get, path = "/reports/at-risk", tag = "analytics",
    security(("bearer" = [])),
    params(
        ("reason" = Option<String>, Query,
            description = "chronic_absence | consecutive_absences | low_grade; absent: every reason"),
        ("grade_level" = Option<i32>, Query, description = "0-12"),
        ("course_id" = Option<String>, Query, description = "students of this course; empty: every course"),
        ("limit" = Option<u32>, Query, description = "1-100, default 25"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page")),
    responses((status = 200, body = AtRiskPage), (status = 400, body = Problem),
        (status = 403, body = Problem)))]
pub async fn at_risk(req: HttpRequest, rpc: Rpc) -> Reply {
    rpc.require(STAFF)?;
    let msg = query::<AtRiskParams>(&req)?.into_proto()?;
    let r = rpc.analytics().list_at_risk(rpc.request(msg)).await?;
    let r = r.into_inner();
    ok(AtRiskPage::new(r.students, r.page))
}

/// Admin: every course's average published grade, by course code,
/// keyset-paginated (the school dashboard carries only the lowest 10).
#[utoipa::path(get, path = "/reports/course-grades", tag = "analytics",
    security(("bearer" = [])),
    params(
        ("limit" = Option<u32>, Query, description = "1-100, default 25"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page")),
    responses((status = 200, body = CourseGradePage), (status = 400, body = Problem),
        (status = 403, body = Problem)))]
pub async fn course_grades(req: HttpRequest, rpc: Rpc) -> Reply {
    rpc.require(ADMIN)?;
    let msg = query::<CourseGradeParams>(&req)?.into_proto()?;
    let r = rpc.analytics().list_course_grades(rpc.request(msg)).await?;
    let r = r.into_inner();
    ok(CourseGradePage::new(r.courses, r.page))
}

/// Admin: attendance per school day from `from` to `to` (inclusive, at most
/// 366 days), oldest first; days without marks are left out. JSON, or CSV
/// (`date,present,absent,late,excused,rate`) with `Accept: text/csv`;
/// streamed as analytics-svc reads it. A failure after the first row cuts
/// the answer short (no final chunk), which clients see as an error.
#[utoipa::path(get, path = "/reports/attendance", tag = "analytics",
    security(("bearer" = [])),
    params(("from" = String, Query, description = "YYYY-MM-DD"),
        ("to" = String, Query, description = "YYYY-MM-DD, inclusive, at most 365 days after from"),
        ("grade_level" = Option<i32>, Query, description = "0-12"),
        ("course_id" = Option<String>, Query, description = "one course; empty: every course")),
    responses((status = 200, body = AttendanceReport,
            content((AttendanceReport = "application/json"), (String = "text/csv"))),
        (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn attendance_report(req: HttpRequest, rpc: Rpc) -> Reply {
    rpc.require(ADMIN)?;
    let msg = query::<AttendanceReportParams>(&req)?.into_proto()?;
    let name = report_name("attendance", msg.from.as_ref(), msg.to.as_ref());
    let rows = rpc.analytics().attendance_report(rpc.request(msg)).await?;
    report::<_, DailyAttendance>(&req, &name, rows.into_inner()).await
}

/// Admin: fees per month and currency from `from` to `to` (inclusive, at
/// most 366 days), oldest first, in minor units. JSON, or CSV
/// (`month,currency,billed,collected,outstanding`) with `Accept:
/// text/csv`; streamed as for the attendance report.
#[utoipa::path(get, path = "/reports/fees", tag = "analytics",
    security(("bearer" = [])),
    params(("from" = String, Query, description = "YYYY-MM-DD"),
        ("to" = String, Query, description = "YYYY-MM-DD, inclusive, at most 365 days after from")),
    responses((status = 200, body = FeesReport,
            content((FeesReport = "application/json"), (String = "text/csv"))),
        (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn fees_report(req: HttpRequest, rpc: Rpc) -> Reply {
    rpc.require(ADMIN)?;
    let msg = query::<FeesReportParams>(&req)?.into_proto()?;
    let name = report_name("fees", msg.from.as_ref(), msg.to.as_ref());
    let rows = rpc.analytics().fees_report(rpc.request(msg)).await?;
    report::<_, FeesMonth>(&req, &name, rows.into_inner()).await
}

fn report_name(
    kind: &str,
    from: Option<&proto::common::v1::Date>,
    to: Option<&proto::common::v1::Date>,
) -> String {
    let day = |d: Option<&proto::common::v1::Date>| {
        d.map_or_else(String::new, |d| {
            format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)
        })
    };
    format!("{kind}-{}-{}", day(from), day(to))
}

/// Whether the client prefers CSV: the media range it ranks highest among
/// those it accepts that match `text/csv` or `application/json`. Anything
/// else (no `Accept`, `*/*`, a malformed header) is JSON, the default.
fn wants_csv(req: &HttpRequest) -> bool {
    let Ok(accept) = Accept::parse(req) else {
        return false;
    };
    for range in accept.ranked() {
        let (kind, sub) = (range.type_(), range.subtype());
        match (kind.as_str(), sub.as_str()) {
            ("text", "csv") => return true,
            ("application", "json") | ("*", "*") | ("application", "*") => return false,
            // `text/*` takes CSV, not JSON.
            ("text", "*") => return true,
            _ => {}
        }
    }
    false
}

/// Rows kept back before a chunk is written: whatever has already arrived,
/// up to this many, goes out as one chunk.
const ROWS_PER_CHUNK: usize = 256;

/// Streams the rows of a report as JSON (`{"<field>": [row, ...]}`) or CSV
/// (header, then one record per row). The first row is awaited before the
/// answer starts, so an error analytics-svc sends at once (invalid, denied)
/// is still a problem+json answer with its status.
async fn report<P, R>(req: &HttpRequest, name: &str, mut rows: tonic::Streaming<P>) -> Reply
where
    P: Into<R> + Send + 'static,
    R: ReportRow + 'static,
{
    let first = rows.message().await?;
    let rows = stream::iter(first.map(Ok)).chain(rows);
    let csv = wants_csv(req);
    let mut res = HttpResponse::Ok();
    if csv {
        res.insert_header((
            header::CONTENT_TYPE,
            "text/csv; charset=utf-8; header=present",
        ));
        res.insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(format!("{name}.csv"))],
        });
        Ok(res.streaming(csv_body::<P, R>(rows)))
    } else {
        res.insert_header((header::CONTENT_TYPE, "application/json"));
        Ok(res.streaming(json_body::<P, R>(rows)))
    }
}

type Rows<P> = stream::Chain<
    stream::Iter<std::option::IntoIter<Result<P, tonic::Status>>>,
    tonic::Streaming<P>,
>;

/// A failure mid-stream: logged, and the body ends in an error (actix then
/// closes the connection without the final chunk).
fn broken(status: &tonic::Status) -> std::io::Error {
    tracing::warn!(code = ?status.code(), message = status.message(), "report stream failed");
    std::io::Error::other(format!("analytics-svc: {}", status.message()))
}

/// Each ready batch of rows as one chunk, converted by `write`.
fn chunks<P, R>(
    rows: Rows<P>,
    mut write: impl FnMut(&mut Vec<u8>, &R) + 'static,
) -> impl Stream<Item = Result<Bytes, std::io::Error>>
where
    P: Into<R> + Send + 'static,
    R: 'static,
{
    rows.ready_chunks(ROWS_PER_CHUNK).map(move |batch| {
        let mut out = Vec::new();
        for row in batch {
            let row: R = row.map_err(|s| broken(&s))?.into();
            write(&mut out, &row);
        }
        Ok(Bytes::from(out))
    })
}

fn json_body<P, R>(rows: Rows<P>) -> impl Stream<Item = Result<Bytes, std::io::Error>>
where
    P: Into<R> + Send + 'static,
    R: ReportRow + 'static,
{
    let mut first = true;
    let open = Bytes::from(format!("{{\"{}\":[", R::FIELD));
    let body = chunks::<P, R>(rows, move |out, row| {
        if !std::mem::take(&mut first) {
            out.push(b',');
        }
        // A derived Serialize of plain fields cannot fail.
        serde_json::to_writer(&mut *out, row).expect("a report row is JSON");
    });
    stream::once(async move { Ok(open) })
        .chain(body)
        .chain(stream::once(async { Ok(Bytes::from_static(b"]}")) }))
}

fn csv_body<P, R>(rows: Rows<P>) -> impl Stream<Item = Result<Bytes, std::io::Error>>
where
    P: Into<R> + Send + 'static,
    R: ReportRow + 'static,
{
    let header = Bytes::from(csv_record(R::HEADER));
    let body = chunks::<P, R>(rows, |out, row| {
        out.extend_from_slice(csv_record(&row.record()).as_bytes());
    });
    stream::once(async move { Ok(header) }).chain(body)
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn csv_only_when_preferred() {
        let accept = |v: &str| {
            wants_csv(
                &TestRequest::default()
                    .insert_header(("accept", v))
                    .to_http_request(),
            )
        };
        assert!(!wants_csv(&TestRequest::default().to_http_request()));
        assert!(accept("text/csv"));
        assert!(accept("text/csv, application/json;q=0.5"));
        assert!(!accept("application/json, text/csv;q=0.5"));
        assert!(!accept("*/*"));
        assert!(accept("text/*"));
        assert!(!accept("nonsense"));
    }
}
