//! Enrolment SQL: the seat is taken and freed on the course's counter in
//! the same transaction as the enrolment and its event.

use deadpool_postgres::Pool;
use platform::db::constraint_violation;
use platform::paging::{self, Page};
use platform::service::ServiceError;
use tokio_postgres::{error::SqlState, types::ToSql};
use uuid::Uuid;

use super::domain::{EnrolmentKey, RosterCursor, RosterQuery};
use super::model::{enrolment_event, EnrolmentRow};
use crate::authz::{accessible_course, Access};
use crate::events::{self, Origin};

/// Enrols a live student. The seat is taken by one conditional UPDATE of the
/// course's counter, which concurrent enrolments queue on (row lock), so the
/// course never holds more than its capacity.
pub async fn enrol(
    pool: &Pool,
    school_id: Uuid,
    actor: Uuid,
    k: &EnrolmentKey,
) -> Result<EnrolmentRow, ServiceError> {
    platform::db::timed("enrol", async move {
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        let stmt = tx
            .prepare_cached(
                "WITH s AS (SELECT id, admission_no, given_name, family_name FROM students \
                   WHERE school_id = $1 AND id = $4 AND archived_at IS NULL), \
                 ins AS (INSERT INTO enrolments (id, school_id, course_id, student_id, enrolled_by) \
                   SELECT $2, $1, $3, s.id, $5 FROM s \
                   WHERE EXISTS (SELECT 1 FROM courses WHERE school_id = $1 AND id = $3) \
                   RETURNING id, course_id, student_id, enrolled_at, withdrawn_at) \
                 SELECT ins.id, ins.course_id, ins.student_id, s.admission_no, s.given_name, \
                   s.family_name, ins.enrolled_at, ins.withdrawn_at FROM ins JOIN s ON s.id = ins.student_id",
            )
            .await?;
        let row = tx
            .query_opt(
                &stmt,
                &[&school_id, &Uuid::now_v7(), &k.course_id, &k.student_id, &actor],
            )
            .await
            .map_err(|e| match constraint_violation(&e, &SqlState::UNIQUE_VIOLATION) {
                Some("enrolments_active_key") => ServiceError::AlreadyExists(
                    "the student is already enrolled in this course",
                ),
                _ => e.into(),
            })?;
        let Some(row) = row else {
            let stmt = tx
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM courses WHERE school_id = $1 AND id = $2), \
                     (SELECT archived_at IS NOT NULL FROM students WHERE school_id = $1 AND id = $3)",
                )
                .await?;
            let r = tx
                .query_one(&stmt, &[&school_id, &k.course_id, &k.student_id])
                .await?;
            let (course, archived): (bool, Option<bool>) = (r.try_get(0)?, r.try_get(1)?);
            return Err(match (course, archived) {
                (false, _) => ServiceError::NotFound("course"),
                (true, None) => ServiceError::NotFound("student"),
                (true, Some(_)) => {
                    ServiceError::FailedPrecondition("an archived student cannot be enrolled")
                }
            });
        };
        let enrolment = EnrolmentRow::from_row(&row)?;
        let stmt = tx
            .prepare_cached(
                "UPDATE courses SET enrolled = enrolled + 1 \
                 WHERE school_id = $1 AND id = $2 AND enrolled < capacity",
            )
            .await?;
        if tx.execute(&stmt, &[&school_id, &k.course_id]).await? == 0 {
            return Err(ServiceError::FailedPrecondition("course is full"));
        }
        events::record(&tx, Origin::user(school_id, actor), enrolment_event(&enrolment, false)).await?;
        tx.commit().await?;
        Ok(enrolment)
    })
    .await
}

/// Withdraws the student's current enrolment and frees its seat.
pub async fn withdraw(
    pool: &Pool,
    school_id: Uuid,
    actor: Uuid,
    k: &EnrolmentKey,
) -> Result<EnrolmentRow, ServiceError> {
    platform::db::timed("withdraw", async move {
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        let stmt = tx
            .prepare_cached(
                "UPDATE enrolments e SET withdrawn_at = now(), withdrawn_by = $4 FROM students s \
                 WHERE e.school_id = $1 AND e.course_id = $2 AND e.student_id = $3 \
                   AND e.withdrawn_at IS NULL AND s.school_id = e.school_id AND s.id = e.student_id \
                 RETURNING e.id, e.course_id, e.student_id, s.admission_no, s.given_name, \
                   s.family_name, e.enrolled_at, e.withdrawn_at",
            )
            .await?;
        let Some(row) = tx
            .query_opt(&stmt, &[&school_id, &k.course_id, &k.student_id, &actor])
            .await?
        else {
            return Err(ServiceError::NotFound("enrolment"));
        };
        let enrolment = EnrolmentRow::from_row(&row)?;
        let stmt = tx
            .prepare_cached(
                "UPDATE courses SET enrolled = enrolled - 1 WHERE school_id = $1 AND id = $2",
            )
            .await?;
        tx.execute(&stmt, &[&school_id, &k.course_id]).await?;
        events::record(&tx, Origin::user(school_id, actor), enrolment_event(&enrolment, true)).await?;
        tx.commit().await?;
        Ok(enrolment)
    })
    .await
}

/// One page of the course's current enrolments in enrolment order.
pub async fn list_roster(
    pool: &Pool,
    school_id: Uuid,
    access: Access,
    q: &RosterQuery,
) -> Result<Page<EnrolmentRow, RosterCursor>, ServiceError> {
    platform::db::timed("list_roster", async move {
        let client = pool.get().await?;
        accessible_course(&client, school_id, q.course_id, access).await?;
        // Two shapes (first page, later pages), each prepared once and each
        // a plain range scan of `enrolments_roster`.
        let fetch = paging::fetch(q.limit);
        let after = q.after.map(|c| c.0);
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&school_id, &q.course_id, &fetch];
        let mut keyset = "";
        if let Some(a) = &after {
            params.push(a);
            keyset = "AND e.id > $4";
        }
        let stmt = client
            .prepare_cached(&format!(
                "SELECT e.id, e.course_id, e.student_id, s.admission_no, s.given_name, \
                   s.family_name, e.enrolled_at, e.withdrawn_at \
                 FROM enrolments e JOIN students s ON s.school_id = e.school_id AND s.id = e.student_id \
                 WHERE e.school_id = $1 AND e.course_id = $2 AND e.withdrawn_at IS NULL {keyset} \
                 ORDER BY e.id LIMIT $3"
            ))
            .await?;
        let rows = client
            .query(&stmt, &params)
            .await?
            .iter()
            .map(EnrolmentRow::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::cut(rows, q.limit, |e| RosterCursor(e.id)))
    })
    .await
}
