//! Attendance SQL: a whole session is marked in one upsert (with its audit
//! rows), whatever the class size.

use chrono::NaiveDate;
use deadpool_postgres::{GenericClient, Pool};
use platform::service::{FieldViolation, ServiceError};
use proto::events::v1::{self as ev, event::Payload};
use tokio_postgres::{types::ToSql, Row};
use uuid::Uuid;

use super::domain::{AttendanceRange, MarkKind, Marks, Session};
use super::model::{day_row, AttendanceRow, DayRow, ATTENDANCE_COLS};
use crate::authz::{accessible_course, Access};
use crate::events::{self, Aggregate, Origin, Pending};

/// The UNNEST upsert of one session's marks (and, in the same statement,
/// their audit rows), followed by the session read back. A row changes only
/// when its status or text differs, so a repeated request changes nothing,
/// bumps no revision, audits nothing.
const MARK_SQL: &str = concat!(
    include_str!("mark.sql"),
    include_str!("session_after_upsert.sql")
);

/// The same for the office's overrides.
const OVERRIDE_SQL: &str = concat!(
    include_str!("override.sql"),
    include_str!("session_after_upsert.sql")
);

async fn select_session<C: GenericClient>(
    c: &C,
    school_id: Uuid,
    s: &Session,
) -> Result<Vec<AttendanceRow>, ServiceError> {
    let stmt = c
        .prepare_cached(&format!(
            "SELECT {ATTENDANCE_COLS} FROM attendance \
             WHERE school_id = $1 AND course_id = $2 AND date = $3 AND period = $4 \
             ORDER BY student_id"
        ))
        .await?;
    Ok(
        c.query(&stmt, &[&school_id, &s.course_id, &s.date, &s.period.get()])
            .await?
            .iter()
            .map(AttendanceRow::from_row)
            .collect::<Result<Vec<_>, _>>()?,
    )
}

/// Marks (or overrides) a whole session in two round trips whatever the
/// class size: BEGIN with the course, access and enrolment check and the
/// upsert (its audit rows and the session read back in the same statement);
/// then the outbox INSERT (when anything changed) with COMMIT. The upsert
/// runs before its check has answered; when the check fails the
/// transaction is rolled back, so nothing is written. An entry for a
/// student not enrolled fails the whole request, naming its index.
pub async fn mark_attendance(
    pool: &Pool,
    school_id: Uuid,
    actor: Uuid,
    access: Access,
    kind: MarkKind,
    m: &Marks,
) -> Result<Vec<AttendanceRow>, ServiceError> {
    platform::db::timed("mark_attendance", async move {
        let client = pool.get().await?;
        // Prepared first (cached per connection): what goes out with BEGIN
        // and COMMIT must be sendable at once.
        let check = client
            .prepare_cached(
                "SELECT c.teacher_id, ARRAY( \
                   SELECT x.n FROM unnest($3::uuid[]) WITH ORDINALITY AS x(student_id, n) \
                   WHERE NOT EXISTS (SELECT 1 FROM enrolments e WHERE e.school_id = $1 \
                     AND e.course_id = $2 AND e.student_id = x.student_id \
                     AND (e.withdrawn_at IS NULL OR e.withdrawn_at >= $4::date)) \
                   ORDER BY x.n) \
                 FROM courses c WHERE c.school_id = $1 AND c.id = $2",
            )
            .await?;
        let upsert = client
            .prepare_cached(match kind {
                MarkKind::Mark => MARK_SQL,
                MarkKind::Override => OVERRIDE_SQL,
            })
            .await?;
        let outbox = events::prepare(&client).await?;
        let tx = platform::db::Pipelined::new(client);
        let c = tx.client();
        let s = &m.session;
        let statuses: Vec<&str> = m.statuses.iter().map(|s| s.as_str()).collect();
        let check_params: [&(dyn ToSql + Sync); 4] =
            [&school_id, &s.course_id, &m.student_ids, &s.date];
        let upsert_params: [&(dyn ToSql + Sync); 8] = [
            &school_id,
            &s.course_id,
            &s.date,
            &s.period.get(),
            &m.student_ids,
            &statuses,
            &m.texts,
            &actor,
        ];
        let (checked, upserted) = tx
            .begin(async {
                // Polled together, the two are pipelined on the connection.
                tokio::join!(
                    c.query_opt(&check, &check_params),
                    c.query(&upsert, &upsert_params)
                )
            })
            .await?;
        match session_and_event(access, kind, s, checked, upserted) {
            Err(e) => {
                // A failed rollback drops the connection instead (Pipelined).
                let _ = tx.rollback().await;
                Err(e)
            }
            Ok((session, None)) => {
                tx.commit(async { Ok::<_, ServiceError>(()) }).await?;
                Ok(session)
            }
            Ok((session, Some(event))) => {
                let origin = Origin::user(school_id, actor);
                tx.commit(events::insert(c, &outbox, origin, vec![event]))
                    .await?;
                Ok(session)
            }
        }
    })
    .await
}

/// The outcome of a session's check and upsert: the session after it and
/// the event to record when anything changed, or why nothing may be kept.
fn session_and_event(
    access: Access,
    kind: MarkKind,
    s: &Session,
    checked: Result<Option<Row>, tokio_postgres::Error>,
    upserted: Result<Vec<Row>, tokio_postgres::Error>,
) -> Result<(Vec<AttendanceRow>, Option<Pending>), ServiceError> {
    let Some(course) = checked? else {
        return Err(ServiceError::NotFound("course"));
    };
    access.check(course.try_get(0)?)?;
    let missing: Vec<i64> = course.try_get(1)?;
    if !missing.is_empty() {
        let list = match kind {
            MarkKind::Mark => "entries",
            MarkKind::Override => "overrides",
        };
        let violations = missing
            .iter()
            .map(|n| FieldViolation {
                field: format!("{list}[{}].student_id", n - 1),
                message: "the student is not enrolled in this course".into(),
            })
            .collect();
        return Err(ServiceError::Invalid(violations));
    }
    let rows = upserted?;
    let mut session = Vec::with_capacity(rows.len());
    let mut changes = Vec::new();
    for r in &rows {
        let row = AttendanceRow::from_row(r)?;
        if r.try_get::<_, bool>(11)? {
            changes.push(ev::AttendanceChange {
                student_id: row.student_id.to_string(),
                effective_status: row
                    .effective_status
                    .map(|st| st.as_str().to_owned())
                    .unwrap_or_default(),
                revision: row.revision,
            });
        }
        session.push(row);
    }
    if changes.is_empty() {
        return Ok((session, None));
    }
    let payload = ev::AttendanceMarked {
        course_id: s.course_id.to_string(),
        date: s.date.format("%Y-%m-%d").to_string(),
        period: s.period.get() as u32,
        changes,
    };
    let aggregate = Aggregate {
        kind: "attendance_session",
        id: s.course_id,
    };
    let event = match kind {
        MarkKind::Mark => Pending::new(
            aggregate,
            "attendance.marked",
            Payload::AttendanceMarked(payload),
        ),
        MarkKind::Override => Pending::new(
            aggregate,
            "attendance.overridden",
            Payload::AttendanceOverridden(payload),
        ),
    };
    Ok((session, Some(event)))
}

pub async fn get_session(
    pool: &Pool,
    school_id: Uuid,
    access: Access,
    s: &Session,
) -> Result<Vec<AttendanceRow>, ServiceError> {
    platform::db::timed("get_attendance_session", async move {
        let client = pool.get().await?;
        accessible_course(&client, school_id, s.course_id, access).await?;
        select_session(&client, school_id, s).await
    })
    .await
}

/// A guardian's read of a linked child's daily roll-up: the link check and
/// the roll-up are one statement. `None` when the student is not linked to
/// the guardian login `user_id` (unknown, another family's, another
/// school's). The link row is left-joined to the attendance, so a linked
/// child without attendance yields one row without a date.
pub async fn child_attendance(
    pool: &Pool,
    school_id: Uuid,
    user_id: Uuid,
    r: &AttendanceRange,
) -> Result<Option<Vec<DayRow>>, ServiceError> {
    platform::db::timed("child_attendance", async move {
        let client = pool.get().await?;
        let stmt = client
            .prepare_cached(
                "SELECT a.date, \
                   count(*) FILTER (WHERE a.effective_status = 'present'), \
                   count(*) FILTER (WHERE a.effective_status = 'absent'), \
                   count(*) FILTER (WHERE a.effective_status = 'late'), \
                   count(*) FILTER (WHERE a.effective_status = 'excused') \
                 FROM users u \
                 JOIN guardian_students l ON l.school_id = u.school_id \
                   AND l.guardian_id = u.guardian_id AND l.student_id = $2 \
                 LEFT JOIN attendance a ON a.school_id = l.school_id \
                   AND a.student_id = l.student_id AND a.date BETWEEN $3 AND $4 \
                 WHERE u.school_id = $1 AND u.id = $5 \
                 GROUP BY a.date ORDER BY a.date",
            )
            .await?;
        let rows = client
            .query(
                &stmt,
                &[&school_id, &r.student_id, &r.from, &r.to, &user_id],
            )
            .await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let mut days = Vec::with_capacity(rows.len());
        for row in &rows {
            if row.try_get::<_, Option<NaiveDate>>(0)?.is_some() {
                days.push(day_row(row)?);
            }
        }
        Ok(Some(days))
    })
    .await
}

/// Per day in the range, the student's effective statuses counted over all
/// courses (for a teacher: over the courses they teach). Two statements.
pub async fn student_attendance(
    pool: &Pool,
    school_id: Uuid,
    access: Access,
    r: &AttendanceRange,
) -> Result<Vec<DayRow>, ServiceError> {
    platform::db::timed("student_attendance", async move {
        let client = pool.get().await?;
        let stmt = client
            .prepare_cached("SELECT 1 FROM students WHERE school_id = $1 AND id = $2")
            .await?;
        if client
            .query_opt(&stmt, &[&school_id, &r.student_id])
            .await?
            .is_none()
        {
            return Err(ServiceError::NotFound("student"));
        }
        let teacher = match access {
            Access::Any => None,
            Access::TeacherOf(t) => Some(t),
        };
        let stmt = client
            .prepare_cached(
                "SELECT a.date, \
                   count(*) FILTER (WHERE a.effective_status = 'present'), \
                   count(*) FILTER (WHERE a.effective_status = 'absent'), \
                   count(*) FILTER (WHERE a.effective_status = 'late'), \
                   count(*) FILTER (WHERE a.effective_status = 'excused') \
                 FROM attendance a \
                 WHERE a.school_id = $1 AND a.student_id = $2 AND a.date BETWEEN $3 AND $4 \
                   AND ($5::uuid IS NULL OR a.course_id IN \
                     (SELECT id FROM courses WHERE school_id = $1 AND teacher_id = $5)) \
                 GROUP BY a.date ORDER BY a.date",
            )
            .await?;
        let rows = client
            .query(
                &stmt,
                &[&school_id, &r.student_id, &r.from, &r.to, &teacher],
            )
            .await?;
        rows.iter().map(day_row).collect()
    })
    .await
}
