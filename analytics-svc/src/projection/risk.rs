//! The early-warning table: a student is listed while active and at least
//! one reason holds: attendance over the school's last 30 school days below
//! the threshold (CHRONIC_ABSENCE), absent on the latest N school days they
//! were marked on within that window (CONSECUTIVE_ABSENCES), or an average
//! (all grades, the staff view) below the threshold in a course they are
//! enrolled in (LOW_GRADE).
//!
//! Re-judged for exactly the students whose facts an event changed (marks,
//! the day leaving the window, grades, enrolments, the student's record),
//! by one statement over those students' rows; the school's at-risk count
//! moves by the rows inserted minus the rows removed.

use deadpool_postgres::Transaction;
use uuid::Uuid;

use crate::domain::{Risk, WINDOW_DAYS};

pub async fn refresh(
    tx: &Transaction<'_>,
    school: Uuid,
    students: &[Uuid],
    risk: &Risk,
) -> anyhow::Result<()> {
    if students.is_empty() || risk.deferred {
        return Ok(());
    }
    let t = &risk.thresholds;
    let stmt = tx.prepare_cached(include_str!("risk.sql")).await?;
    tx.execute(
        &stmt,
        &[
            &school,
            &students,
            &t.chronic_rate,
            &t.consecutive_days,
            &t.low_average,
            &(WINDOW_DAYS - 1),
        ],
    )
    .await?;
    Ok(())
}

/// Judges every student of the school (a rebuild, once at its end).
pub async fn refresh_school(
    tx: &Transaction<'_>,
    school: Uuid,
    thresholds: &crate::domain::Thresholds,
) -> anyhow::Result<()> {
    let stmt = tx
        .prepare_cached(
            "SELECT coalesce(array_agg(student_id), '{}') FROM students WHERE school_id = $1",
        )
        .await?;
    let students: Vec<Uuid> = tx.query_one(&stmt, &[&school]).await?.try_get(0)?;
    refresh(tx, school, &students, &Risk::judging(*thresholds)).await
}
