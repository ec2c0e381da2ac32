//! Courses (newest version wins; the school's course count moves when a
//! course is first seen), timetable slots (counted per weekday, for today's
//! scheduled sessions) and enrolments (the course's enrolled count; the
//! student's risk, whose low-grade reason counts current courses only).

use deadpool_postgres::Transaction;
use proto::events::v1::{CourseChanged, EnrolmentChanged, TimetableSlotAdded};
use uuid::Uuid;

use super::risk;
use crate::domain::{id, opt_id, Risk};

pub async fn course(tx: &Transaction<'_>, school: Uuid, c: &CourseChanged) -> anyhow::Result<()> {
    let course = id("course_id", &c.course_id)?;
    let teacher = opt_id("teacher_id", &c.teacher_id)?;
    // `old` reads the row before the upsert (same snapshot): a course seen
    // for the first time (absent, or a placeholder at version 0) counts.
    let stmt = tx
        .prepare_cached(
            "WITH old AS (SELECT version FROM courses WHERE school_id = $1 AND course_id = $2), \
             up AS (INSERT INTO courses (school_id, course_id, code, name, term, teacher_id, \
                 capacity, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
               ON CONFLICT (school_id, course_id) DO UPDATE SET code = EXCLUDED.code, \
                 name = EXCLUDED.name, term = EXCLUDED.term, teacher_id = EXCLUDED.teacher_id, \
                 capacity = EXCLUDED.capacity, version = EXCLUDED.version \
               WHERE courses.version < EXCLUDED.version RETURNING 1) \
             INSERT INTO schools (school_id, courses) \
             SELECT $1, 1 WHERE EXISTS (SELECT 1 FROM up) \
               AND coalesce((SELECT version FROM old), 0) = 0 \
             ON CONFLICT (school_id) DO UPDATE SET courses = schools.courses + 1",
        )
        .await?;
    tx.execute(
        &stmt,
        &[
            &school,
            &course,
            &c.code,
            &c.name,
            &c.term,
            &teacher,
            &c.capacity,
            &c.version.max(1),
        ],
    )
    .await?;
    Ok(())
}

pub async fn slot(
    tx: &Transaction<'_>,
    school: Uuid,
    s: &TimetableSlotAdded,
) -> anyhow::Result<()> {
    let slot = id("slot_id", &s.slot_id)?;
    let course = id("course_id", &s.course_id)?;
    let weekday = i16::try_from(s.weekday)
        .ok()
        .filter(|d| (1..=7).contains(d))
        .ok_or_else(|| anyhow::anyhow!("weekday {} is not 1-7", s.weekday))?;
    let stmt = tx
        .prepare_cached(
            "WITH new AS (INSERT INTO timetable_slots (school_id, slot_id, course_id, weekday, \
                 start_time, end_time, room) VALUES ($1, $2, $3, $4, $5, $6, $7) \
               ON CONFLICT DO NOTHING RETURNING 1) \
             INSERT INTO weekday_slots (school_id, weekday, slots) \
             SELECT $1, $4, 1 FROM new \
             ON CONFLICT (school_id, weekday) DO UPDATE SET slots = weekday_slots.slots + 1",
        )
        .await?;
    tx.execute(
        &stmt,
        &[&school, &slot, &course, &weekday, &s.start, &s.end, &s.room],
    )
    .await?;
    Ok(())
}

/// An enrolment's state, newest version wins (an event without a version,
/// from before versions existed, applies in arrival order).
pub async fn enrolment(
    tx: &Transaction<'_>,
    school: Uuid,
    e: &EnrolmentChanged,
    t: &Risk,
) -> anyhow::Result<()> {
    let enrolment = id("enrolment_id", &e.enrolment_id)?;
    let course = id("course_id", &e.course_id)?;
    let student = id("student_id", &e.student_id)?;
    let active = !e.withdrawn;
    let version = if e.version > 0 {
        e.version
    } else if e.withdrawn {
        2
    } else {
        1
    };
    let stmt = tx
        .prepare_cached(
            "WITH old AS (SELECT active FROM enrolments WHERE school_id = $1 AND enrolment_id = $2), \
             up AS (INSERT INTO enrolments (school_id, enrolment_id, course_id, student_id, active, \
                 version) VALUES ($1, $2, $3, $4, $5, $6) \
               ON CONFLICT (school_id, enrolment_id) DO UPDATE SET active = EXCLUDED.active, \
                 version = EXCLUDED.version WHERE enrolments.version < EXCLUDED.version \
               RETURNING active), \
             delta AS (SELECT (CASE WHEN up.active THEN 1 ELSE 0 END) \
                 - (CASE WHEN coalesce((SELECT active FROM old), false) THEN 1 ELSE 0 END) AS d \
               FROM up) \
             INSERT INTO courses (school_id, course_id, enrolled) \
             SELECT $1, $3, d FROM delta WHERE d <> 0 \
             ON CONFLICT (school_id, course_id) DO UPDATE \
               SET enrolled = courses.enrolled + EXCLUDED.enrolled \
             RETURNING 1",
        )
        .await?;
    let moved = tx
        .query(
            &stmt,
            &[&school, &enrolment, &course, &student, &active, &version],
        )
        .await?;
    if !moved.is_empty() {
        risk::refresh(tx, school, &[student], t).await?;
    }
    Ok(())
}
