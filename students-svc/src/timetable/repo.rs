//! Timetable SQL. Every change of a term's timetable (a slot added, a
//! course moved to another term or teacher) runs under that term's advisory
//! lock, so a clash check and the write it allows cannot interleave.

use deadpool_postgres::{GenericClient, Pool, Transaction};
use platform::service::ServiceError;
use uuid::Uuid;

use super::domain::NewSlot;
use super::model::{slot_added, SlotRow, SLOT_COLS};
use crate::events::{self, Origin};

/// Serialises timetable changes of one school and term, so a clash check
/// and the write it allows cannot interleave with another's.
pub(crate) async fn lock_term(
    tx: &Transaction<'_>,
    school_id: Uuid,
    term: &str,
) -> Result<(), ServiceError> {
    let stmt = tx
        .prepare_cached(
            "SELECT pg_advisory_xact_lock(hashtext('timetable'), hashtext($1::uuid::text || '/' || $2::text))",
        )
        .await?;
    tx.execute(&stmt, &[&school_id, &term]).await?;
    Ok(())
}

const ROOM_CLASH: &str =
    "the room is already booked at an overlapping time on that weekday in this term";

const TEACHER_CLASH: &str =
    "the teacher already teaches at an overlapping time on that weekday in this term";

fn clash(room: bool, teacher: bool) -> Result<(), ServiceError> {
    if room {
        Err(ServiceError::AlreadyExists(ROOM_CLASH))
    } else if teacher {
        Err(ServiceError::AlreadyExists(TEACHER_CLASH))
    } else {
        Ok(())
    }
}

/// The course's slots in week order.
pub(crate) async fn slots_of<C: GenericClient>(
    c: &C,
    school_id: Uuid,
    course_id: Uuid,
) -> Result<Vec<SlotRow>, ServiceError> {
    let stmt = c
        .prepare_cached(&format!(
            "SELECT {SLOT_COLS} FROM timetable_slots WHERE school_id = $1 AND course_id = $2 \
             ORDER BY weekday, start_time, id"
        ))
        .await?;
    Ok(c.query(&stmt, &[&school_id, &course_id])
        .await?
        .iter()
        .map(SlotRow::from_row)
        .collect::<Result<Vec<_>, _>>()?)
}

/// A course now taught by `teacher_id` in `term`: its slots must not clash
/// with another course's room or with the teacher's other courses. Takes
/// the term's lock first.
pub(crate) async fn check_moved_course(
    tx: &Transaction<'_>,
    school_id: Uuid,
    course_id: Uuid,
    teacher_id: Uuid,
    term: &str,
) -> Result<(), ServiceError> {
    lock_term(tx, school_id, term).await?;
    let stmt = tx
        .prepare_cached(include_str!("moved_course_clash.sql"))
        .await?;
    let r = tx
        .query_one(&stmt, &[&school_id, &course_id, &teacher_id, &term])
        .await?;
    clash(r.try_get(0)?, r.try_get(1)?)
}

/// Adds a slot unless the room or the course's teacher is already busy at
/// an overlapping time on that weekday in the course's term. Race-safe: the
/// check and the insert run under the (school, term) advisory lock, which
/// every timetable change takes.
pub async fn add_slot(
    pool: &Pool,
    school_id: Uuid,
    actor: Uuid,
    s: &NewSlot,
) -> Result<SlotRow, ServiceError> {
    platform::db::timed("add_slot", async move {
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        let stmt = tx
            .prepare_cached(
                "SELECT term, teacher_id FROM courses WHERE school_id = $1 AND id = $2 \
                 FOR NO KEY UPDATE",
            )
            .await?;
        let Some(course) = tx.query_opt(&stmt, &[&school_id, &s.course_id]).await? else {
            return Err(ServiceError::NotFound("course"));
        };
        let (term, teacher): (String, Uuid) = (course.try_get(0)?, course.try_get(1)?);
        lock_term(&tx, school_id, &term).await?;
        let stmt = tx
            .prepare_cached(
                "SELECT COALESCE(bool_or(lower(s.room) = lower($6)), false), \
                        COALESCE(bool_or(c.teacher_id = $7), false) \
                 FROM timetable_slots s \
                 JOIN courses c ON c.school_id = s.school_id AND c.id = s.course_id \
                 WHERE s.school_id = $1 AND c.term = $2 AND s.weekday = $3 \
                   AND s.start_time < $5 AND $4 < s.end_time \
                   AND (lower(s.room) = lower($6) OR c.teacher_id = $7)",
            )
            .await?;
        let r = tx
            .query_one(
                &stmt,
                &[
                    &school_id,
                    &term,
                    &s.weekday.get(),
                    &s.start,
                    &s.end,
                    &s.room.as_str(),
                    &teacher,
                ],
            )
            .await?;
        clash(r.try_get(0)?, r.try_get(1)?)?;
        let stmt = tx
            .prepare_cached(&format!(
                "INSERT INTO timetable_slots (id, school_id, course_id, weekday, start_time, \
                 end_time, room) VALUES ($2, $1, $3, $4, $5, $6, $7) RETURNING {SLOT_COLS}"
            ))
            .await?;
        let row = tx
            .query_one(
                &stmt,
                &[
                    &school_id,
                    &Uuid::now_v7(),
                    &s.course_id,
                    &s.weekday.get(),
                    &s.start,
                    &s.end,
                    &s.room.as_str(),
                ],
            )
            .await?;
        let slot = SlotRow::from_row(&row)?;
        events::record(&tx, Origin::user(school_id, actor), slot_added(&slot)).await?;
        tx.commit().await?;
        Ok(slot)
    })
    .await
}
