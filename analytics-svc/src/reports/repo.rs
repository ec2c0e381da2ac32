//! The reports' statements, one per chunk of at most 31 days, each an index
//! range of one school: `days` (the school), `course_days` (a course),
//! student-days of one grade's students, or one course's marks of one
//! grade's students. The grade is the student's current grade.

use chrono::{Duration, NaiveDate};
use deadpool_postgres::Pool;
use futures::{channel::mpsc, SinkExt};
use platform::service::ServiceError;
use proto::analytics::v1 as pb;
use tonic::Status;
use uuid::Uuid;

use super::domain::{AttendanceQuery, Range};
use crate::model::{fees_month, Counts};

/// Days per statement.
const CHUNK_DAYS: i64 = 31;

pub type Rows<T> = mpsc::Receiver<Result<T, Status>>;

const WHOLE: &str = "SELECT date, present, absent, late, excused FROM days \
     WHERE school_id = $1 AND date >= $2 AND date <= $3 AND $4::int IS NULL AND $5::uuid IS NULL \
     ORDER BY date";
const COURSE: &str = "SELECT date, present, absent, late, excused FROM course_days \
     WHERE school_id = $1 AND date >= $2 AND date <= $3 AND $4::int IS NULL AND course_id = $5 \
     ORDER BY date";
const GRADE: &str = "SELECT d.date, sum(d.present), sum(d.absent), sum(d.late), sum(d.excused) \
     FROM student_days d JOIN students s ON s.school_id = d.school_id AND s.student_id = d.student_id \
     WHERE d.school_id = $1 AND d.date >= $2 AND d.date <= $3 AND s.grade_level = $4 AND $5::uuid IS NULL \
     GROUP BY d.date ORDER BY d.date";
const GRADE_COURSE: &str = "SELECT a.date, count(*) FILTER (WHERE a.status = 'present'), \
       count(*) FILTER (WHERE a.status = 'absent'), count(*) FILTER (WHERE a.status = 'late'), \
       count(*) FILTER (WHERE a.status = 'excused') \
     FROM attendance a JOIN students s ON s.school_id = a.school_id AND s.student_id = a.student_id \
     WHERE a.school_id = $1 AND a.date >= $2 AND a.date <= $3 AND s.grade_level = $4 \
       AND a.course_id = $5 \
     GROUP BY a.date ORDER BY a.date";

/// Streams the attendance rows; the returned receiver ends after the last
/// row, or with the error that stopped the reading.
pub fn attendance(pool: Pool, school: Uuid, q: AttendanceQuery) -> Rows<pb::AttendanceReportRow> {
    let (mut tx, rx) = mpsc::channel(32);
    tokio::spawn(async move {
        let result = async {
            let db = pool.get().await?;
            let sql = match (q.grade_level, q.course) {
                (None, None) => WHOLE,
                (None, Some(_)) => COURSE,
                (Some(_), None) => GRADE,
                (Some(_), Some(_)) => GRADE_COURSE,
            };
            let stmt = db.prepare_cached(sql).await?;
            let mut from = q.range.from;
            while from <= q.range.to {
                let to = (from + Duration::days(CHUNK_DAYS - 1)).min(q.range.to);
                let rows = db
                    .query(&stmt, &[&school, &from, &to, &q.grade_level, &q.course])
                    .await?;
                for r in &rows {
                    let date: NaiveDate = r.try_get(0)?;
                    let row = pb::AttendanceReportRow {
                        day: Some(Counts::from_row(r, 1)?.to_proto(Some(date))),
                    };
                    if tx.send(Ok(row)).await.is_err() {
                        // The client went away.
                        return Ok(());
                    }
                }
                from = to + Duration::days(1);
            }
            Ok::<_, ServiceError>(())
        }
        .await;
        if let Err(e) = result {
            let _ = tx.send(Err(e.into())).await;
        }
    });
    rx
}

/// Streams the fees rows of the months the range touches.
pub fn fees(pool: Pool, school: Uuid, range: Range) -> Rows<pb::FeesReportRow> {
    let (mut tx, rx) = mpsc::channel(32);
    tokio::spawn(async move {
        let result = async {
            let db = pool.get().await?;
            let stmt = db
                .prepare_cached(
                    "SELECT month, currency, billed, collected, outstanding FROM fees_months \
                     WHERE school_id = $1 AND month >= $2 AND month <= $3 \
               AND (billed <> 0 OR collected <> 0 OR outstanding <> 0) ORDER BY month, currency",
                )
                .await?;
            let (from, to) = (
                crate::domain::month_of(range.from),
                crate::domain::month_of(range.to),
            );
            for r in db.query(&stmt, &[&school, &from, &to]).await? {
                let row = pb::FeesReportRow {
                    month: Some(fees_month(&r)?),
                };
                if tx.send(Ok(row)).await.is_err() {
                    return Ok(());
                }
            }
            Ok::<_, ServiceError>(())
        }
        .await;
        if let Err(e) = result {
            let _ = tx.send(Err(e.into())).await;
        }
    });
    rx
}
