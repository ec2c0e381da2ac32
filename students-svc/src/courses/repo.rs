//! Course, timetable, enrolment and attendance SQL. Every function takes the
//! school id; every statement is `WHERE school_id = $1`; each function runs a
//! fixed number of statements whatever the size of its input; every state
//! change records its domain event in the same transaction.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use deadpool_postgres::{GenericClient, Pool, Transaction};
use proto::events::v1::{self as ev, event::Payload};
use tokio_postgres::{error::SqlState, types::ToSql, Row};
use uuid::Uuid;

use super::domain::{
    format_clock, AttendanceRange, AttendanceStatus, CourseCursor, CourseFilter, CourseUpdate,
    EnrolmentKey, Marks, NewCourse, NewSlot, RosterCursor, RosterQuery, Session,
};
use crate::authz::{accessible_course, Access};
use crate::error::{FieldViolation, ServiceError};
use crate::events::{self, Aggregate, Origin, Pending};

#[derive(Clone, Debug)]
pub struct CourseRow {
    pub id: Uuid,
    pub school_id: Uuid,
    pub code: String,
    pub name: String,
    pub term: String,
    pub teacher_id: Uuid,
    pub capacity: i32,
    pub enrolled: i32,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COURSE_COLS: &str =
    "id, school_id, code, name, term, teacher_id, capacity, enrolled, version, created_at, updated_at";

impl CourseRow {
    fn from_row(r: &Row) -> Result<Self, tokio_postgres::Error> {
        Ok(Self {
            id: r.try_get(0)?,
            school_id: r.try_get(1)?,
            code: r.try_get(2)?,
            name: r.try_get(3)?,
            term: r.try_get(4)?,
            teacher_id: r.try_get(5)?,
            capacity: r.try_get(6)?,
            enrolled: r.try_get(7)?,
            version: r.try_get(8)?,
            created_at: r.try_get(9)?,
            updated_at: r.try_get(10)?,
        })
    }

    fn event(&self) -> ev::CourseChanged {
        ev::CourseChanged {
            course_id: self.id.to_string(),
            code: self.code.clone(),
            name: self.name.clone(),
            term: self.term.clone(),
            teacher_id: self.teacher_id.to_string(),
            capacity: self.capacity,
            version: self.version,
        }
    }
}

#[derive(Clone, Debug)]
pub struct SlotRow {
    pub id: Uuid,
    pub course_id: Uuid,
    pub weekday: i16,
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub room: String,
}

const SLOT_COLS: &str = "id, course_id, weekday, start_time, end_time, room";

impl SlotRow {
    fn from_row(r: &Row) -> Result<Self, tokio_postgres::Error> {
        Ok(Self {
            id: r.try_get(0)?,
            course_id: r.try_get(1)?,
            weekday: r.try_get(2)?,
            start: r.try_get(3)?,
            end: r.try_get(4)?,
            room: r.try_get(5)?,
        })
    }
}

#[derive(Clone, Debug)]
pub struct EnrolmentRow {
    pub id: Uuid,
    pub course_id: Uuid,
    pub student_id: Uuid,
    pub admission_no: String,
    pub given_name: String,
    pub family_name: String,
    pub enrolled_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
}

impl EnrolmentRow {
    fn from_row(r: &Row) -> Result<Self, tokio_postgres::Error> {
        Ok(Self {
            id: r.try_get(0)?,
            course_id: r.try_get(1)?,
            student_id: r.try_get(2)?,
            admission_no: r.try_get(3)?,
            given_name: r.try_get(4)?,
            family_name: r.try_get(5)?,
            enrolled_at: r.try_get(6)?,
            withdrawn_at: r.try_get(7)?,
        })
    }
}

#[derive(Clone, Debug)]
pub struct AttendanceRow {
    pub student_id: Uuid,
    pub teacher_status: Option<AttendanceStatus>,
    pub note: String,
    pub marked_by: Option<Uuid>,
    pub marked_at: Option<DateTime<Utc>>,
    pub override_status: Option<AttendanceStatus>,
    pub override_reason: Option<String>,
    pub overridden_by: Option<Uuid>,
    pub overridden_at: Option<DateTime<Utc>>,
    pub effective_status: Option<AttendanceStatus>,
    pub revision: i32,
}

const ATTENDANCE_COLS: &str = "student_id, teacher_status, note, marked_by, marked_at, \
     override_status, override_reason, overridden_by, overridden_at, effective_status, revision";

fn status(r: &Row, i: usize) -> Result<Option<AttendanceStatus>, tokio_postgres::Error> {
    Ok(r.try_get::<_, Option<&str>>(i)?
        .and_then(AttendanceStatus::from_db))
}

impl AttendanceRow {
    fn from_row(r: &Row) -> Result<Self, tokio_postgres::Error> {
        Ok(Self {
            student_id: r.try_get(0)?,
            teacher_status: status(r, 1)?,
            note: r.try_get(2)?,
            marked_by: r.try_get(3)?,
            marked_at: r.try_get(4)?,
            override_status: status(r, 5)?,
            override_reason: r.try_get(6)?,
            overridden_by: r.try_get(7)?,
            overridden_at: r.try_get(8)?,
            effective_status: status(r, 9)?,
            revision: r.try_get(10)?,
        })
    }
}

/// Effective statuses counted for one day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayRow {
    pub date: NaiveDate,
    pub present: i64,
    pub absent: i64,
    pub late: i64,
    pub excused: i64,
}

fn constraint_violation(e: &tokio_postgres::Error, code: &SqlState) -> Option<String> {
    let db = e.as_db_error()?;
    (db.code() == code).then(|| db.constraint().unwrap_or("").to_owned())
}

/// Maps the constraint errors a course write can hit.
fn course_write_error(e: tokio_postgres::Error) -> ServiceError {
    if let Some(c) = constraint_violation(&e, &SqlState::UNIQUE_VIOLATION) {
        if c == "courses_code_key" {
            return ServiceError::AlreadyExists(
                "a course with this code already exists in the term",
            );
        }
    }
    if let Some(c) = constraint_violation(&e, &SqlState::CHECK_VIOLATION) {
        if c == "courses_seats" {
            return ServiceError::FailedPrecondition(
                "capacity cannot be below the number of enrolled students",
            );
        }
    }
    e.into()
}

fn no_teacher() -> ServiceError {
    ServiceError::invalid(
        "teacher_id",
        "no active user with role teacher has this id in the school",
    )
}

/// Whether `teacher_id` is an active teacher of the school.
async fn is_teacher<C: GenericClient>(
    c: &C,
    school_id: Uuid,
    teacher_id: Uuid,
) -> Result<bool, ServiceError> {
    let stmt = c
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM users WHERE school_id = $1 AND id = $2 \
             AND role = 'teacher' AND active)",
        )
        .await?;
    Ok(c.query_one(&stmt, &[&school_id, &teacher_id])
        .await?
        .try_get(0)?)
}

pub async fn create_course(
    pool: &Pool,
    school_id: Uuid,
    actor: Uuid,
    c: &NewCourse,
) -> Result<CourseRow, ServiceError> {
    platform::db::timed("create_course", async move {
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        let stmt = tx
            .prepare_cached(&format!(
                "INSERT INTO courses (id, school_id, code, name, term, teacher_id, capacity) \
                 SELECT $2, $1, $3, $4, $5, $6, $7 WHERE EXISTS (SELECT 1 FROM users \
                   WHERE school_id = $1 AND id = $6 AND role = 'teacher' AND active) \
                 RETURNING {COURSE_COLS}"
            ))
            .await?;
        let row = tx
            .query_opt(
                &stmt,
                &[
                    &school_id,
                    &Uuid::now_v7(),
                    &c.code.as_str(),
                    &c.name.as_str(),
                    &c.term.as_str(),
                    &c.teacher_id,
                    &c.capacity.get(),
                ],
            )
            .await
            .map_err(course_write_error)?
            .ok_or_else(no_teacher)?;
        let course = CourseRow::from_row(&row)?;
        events::record(
            &tx,
            Origin::user(school_id, actor),
            Pending::new(
                Aggregate {
                    kind: "course",
                    id: course.id,
                },
                "course.created",
                Payload::CourseCreated(course.event()),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(course)
    })
    .await
}

async fn select_course<C: GenericClient>(
    c: &C,
    school_id: Uuid,
    id: Uuid,
) -> Result<Option<CourseRow>, ServiceError> {
    let stmt = c
        .prepare_cached(&format!(
            "SELECT {COURSE_COLS} FROM courses WHERE school_id = $1 AND id = $2"
        ))
        .await?;
    Ok(c.query_opt(&stmt, &[&school_id, &id])
        .await?
        .map(|r| CourseRow::from_row(&r))
        .transpose()?)
}

/// The course and its slots in week order.
pub async fn get_course(
    pool: &Pool,
    school_id: Uuid,
    id: Uuid,
) -> Result<Option<(CourseRow, Vec<SlotRow>)>, ServiceError> {
    platform::db::timed("get_course", async move {
        let client = pool.get().await?;
        let Some(course) = select_course(&client, school_id, id).await? else {
            return Ok(None);
        };
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {SLOT_COLS} FROM timetable_slots WHERE school_id = $1 AND course_id = $2 \
                 ORDER BY weekday, start_time, id"
            ))
            .await?;
        let slots = client
            .query(&stmt, &[&school_id, &id])
            .await?
            .iter()
            .map(SlotRow::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some((course, slots)))
    })
    .await
}

/// Serialises timetable changes of one school and term, so a clash check
/// and the write it allows cannot interleave with another's.
async fn lock_term(tx: &Transaction<'_>, school_id: Uuid, term: &str) -> Result<(), ServiceError> {
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

/// Applies the patch if the stored version is `version`. A change of term or
/// teacher re-checks the course's slots for clashes under the term's lock.
pub async fn update_course(
    pool: &Pool,
    school_id: Uuid,
    actor: Uuid,
    u: &CourseUpdate,
) -> Result<CourseRow, ServiceError> {
    platform::db::timed("update_course", async move {
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        let p = &u.patch;
        if let Some(t) = p.teacher_id {
            if !is_teacher(&tx, school_id, t).await? {
                return Err(no_teacher());
            }
        }
        let stmt = tx
            .prepare_cached(&format!(
                "UPDATE courses SET \
                   code = COALESCE($4, code), \
                   name = COALESCE($5, name), \
                   term = COALESCE($6, term), \
                   teacher_id = COALESCE($7, teacher_id), \
                   capacity = COALESCE($8, capacity), \
                   version = version + 1, updated_at = now() \
                 WHERE school_id = $1 AND id = $2 AND version = $3 \
                 RETURNING {COURSE_COLS}"
            ))
            .await?;
        let row = tx
            .query_opt(
                &stmt,
                &[
                    &school_id,
                    &u.id,
                    &u.version,
                    &p.code.as_ref().map(|v| v.as_str()),
                    &p.name.as_ref().map(|v| v.as_str()),
                    &p.term.as_ref().map(|v| v.as_str()),
                    &p.teacher_id,
                    &p.capacity.map(|c| c.get()),
                ],
            )
            .await
            .map_err(course_write_error)?;
        let Some(row) = row else {
            return Err(match select_course(&tx, school_id, u.id).await? {
                None => ServiceError::NotFound("course"),
                Some(_) => ServiceError::VersionConflict,
            });
        };
        let course = CourseRow::from_row(&row)?;
        if p.moves_timetable() {
            lock_term(&tx, school_id, &course.term).await?;
            let stmt = tx
                .prepare_cached(
                    "SELECT COALESCE(bool_or(lower(o.room) = lower(m.room)), false), \
                            COALESCE(bool_or(oc.teacher_id = $3), false) \
                     FROM timetable_slots m \
                     JOIN timetable_slots o ON o.school_id = m.school_id \
                       AND o.weekday = m.weekday AND o.course_id <> m.course_id \
                       AND o.start_time < m.end_time AND m.start_time < o.end_time \
                     JOIN courses oc ON oc.school_id = o.school_id AND oc.id = o.course_id \
                     WHERE m.school_id = $1 AND m.course_id = $2 AND oc.term = $4 \
                       AND (lower(o.room) = lower(m.room) OR oc.teacher_id = $3)",
                )
                .await?;
            let r = tx
                .query_one(
                    &stmt,
                    &[&school_id, &course.id, &course.teacher_id, &course.term],
                )
                .await?;
            clash(r.try_get(0)?, r.try_get(1)?)?;
        }
        events::record(
            &tx,
            Origin::user(school_id, actor),
            Pending::new(
                Aggregate {
                    kind: "course",
                    id: course.id,
                },
                "course.updated",
                Payload::CourseUpdated(course.event()),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(course)
    })
    .await
}

/// One page of courses in (term, code) order, unique per school.
pub async fn list_courses(
    pool: &Pool,
    school_id: Uuid,
    f: &CourseFilter,
) -> Result<(Vec<CourseRow>, Option<CourseCursor>), ServiceError> {
    platform::db::timed("list_courses", async move {
        let term = f.term.as_ref().map(|t| t.as_str());
        let fetch = i64::from(f.limit) + 1;
        let mut sql = format!("SELECT {COURSE_COLS} FROM courses WHERE school_id = $1");
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&school_id];
        if let Some(t) = &f.teacher_id {
            params.push(t);
            sql.push_str(&format!(" AND teacher_id = ${}", params.len()));
        }
        if let Some(t) = &term {
            params.push(t);
            sql.push_str(&format!(" AND term = ${}", params.len()));
        }
        if let Some(c) = &f.after {
            params.push(&c.term);
            params.push(&c.code);
            let n = params.len();
            sql.push_str(&format!(" AND (term, code) > (${}, ${n})", n - 1));
        }
        params.push(&fetch);
        sql.push_str(&format!(" ORDER BY term, code LIMIT ${}", params.len()));
        let client = pool.get().await?;
        let stmt = client.prepare_cached(&sql).await?;
        let mut rows = client
            .query(&stmt, &params)
            .await?
            .iter()
            .map(CourseRow::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let next = if rows.len() > f.limit as usize {
            rows.truncate(f.limit as usize);
            rows.last().map(|c| CourseCursor {
                term: c.term.clone(),
                code: c.code.clone(),
            })
        } else {
            None
        };
        Ok((rows, next))
    })
    .await
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
        events::record(
            &tx,
            Origin::user(school_id, actor),
            Pending::new(
                Aggregate {
                    kind: "course",
                    id: slot.course_id,
                },
                "course.timetable_slot_added",
                Payload::TimetableSlotAdded(ev::TimetableSlotAdded {
                    slot_id: slot.id.to_string(),
                    course_id: slot.course_id.to_string(),
                    weekday: i32::from(slot.weekday),
                    start: format_clock(slot.start),
                    end: format_clock(slot.end),
                    room: slot.room.clone(),
                }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(slot)
    })
    .await
}

fn enrolment_event(e: &EnrolmentRow, withdrawn: bool) -> Pending {
    let change = ev::EnrolmentChanged {
        enrolment_id: e.id.to_string(),
        course_id: e.course_id.to_string(),
        student_id: e.student_id.to_string(),
        withdrawn,
    };
    let aggregate = Aggregate {
        kind: "enrolment",
        id: e.id,
    };
    if withdrawn {
        Pending::new(
            aggregate,
            "enrolment.withdrawn",
            Payload::EnrolmentWithdrawn(change),
        )
    } else {
        Pending::new(
            aggregate,
            "enrolment.created",
            Payload::EnrolmentCreated(change),
        )
    }
}

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
                Some(c) if c == "enrolments_active_key" => ServiceError::AlreadyExists(
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
) -> Result<(Vec<EnrolmentRow>, Option<RosterCursor>), ServiceError> {
    platform::db::timed("list_roster", async move {
        let client = pool.get().await?;
        accessible_course(&client, school_id, q.course_id, access).await?;
        // Two shapes (first page, later pages), each prepared once and each
        // a plain range scan of `enrolments_roster`.
        let fetch = i64::from(q.limit) + 1;
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
        let mut rows = client
            .query(&stmt, &params)
            .await?
            .iter()
            .map(EnrolmentRow::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let next = if rows.len() > q.limit as usize {
            rows.truncate(q.limit as usize);
            rows.last().map(|e| RosterCursor(e.id))
        } else {
            None
        };
        Ok((rows, next))
    })
    .await
}

/// Teacher marks or office overrides: which columns an upsert writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkKind {
    Mark,
    Override,
}

/// The UNNEST upsert of one session's marks (and, in the same statement,
/// their audit rows). A row changes only when its status or text differs,
/// so a repeated request changes nothing, bumps no revision, audits nothing.
/// The session after an upsert (the `up` CTE), in the same statement: the
/// rows the upsert changed from its RETURNING, flagged, and the untouched
/// ones from the statement's snapshot (which does not see its own writes).
macro_rules! session_after_upsert {
    () => {
        "SELECT student_id, teacher_status, note, marked_by, marked_at, override_status, \
           override_reason, overridden_by, overridden_at, effective_status, revision, \
           true AS changed FROM up \
         UNION ALL \
         SELECT a.student_id, a.teacher_status, a.note, a.marked_by, a.marked_at, \
           a.override_status, a.override_reason, a.overridden_by, a.overridden_at, \
           a.effective_status, a.revision, false FROM attendance a \
         WHERE a.school_id = $1 AND a.course_id = $2 AND a.date = $3 AND a.period = $4 \
           AND NOT EXISTS (SELECT 1 FROM up WHERE up.student_id = a.student_id) \
         ORDER BY student_id"
    };
}

const MARK_SQL: &str = concat!(
    "WITH input AS ( \
       SELECT * FROM unnest($5::uuid[], $6::text[], $7::text[]) AS x(student_id, status, note)), \
     up AS ( \
       INSERT INTO attendance AS a (school_id, course_id, date, period, student_id, \
         teacher_status, note, marked_by, marked_at) \
       SELECT $1, $2, $3, $4, student_id, status, note, $8, now() FROM input \
       ON CONFLICT (school_id, course_id, date, period, student_id) DO UPDATE SET \
         teacher_status = EXCLUDED.teacher_status, note = EXCLUDED.note, \
         marked_by = EXCLUDED.marked_by, marked_at = EXCLUDED.marked_at, \
         revision = a.revision + 1 \
       WHERE a.teacher_status IS DISTINCT FROM EXCLUDED.teacher_status \
          OR a.note IS DISTINCT FROM EXCLUDED.note \
       RETURNING student_id, teacher_status, note, marked_by, marked_at, override_status, \
         override_reason, overridden_by, overridden_at, effective_status, revision), \
     audit AS ( \
       INSERT INTO attendance_audit (school_id, course_id, date, period, student_id, kind, \
         status, detail, actor, at, revision) \
       SELECT $1, $2, $3, $4, student_id, 'mark', teacher_status, note, $8, marked_at, revision \
       FROM up) ",
    session_after_upsert!()
);

const OVERRIDE_SQL: &str = concat!(
    "WITH input AS ( \
       SELECT * FROM unnest($5::uuid[], $6::text[], $7::text[]) AS x(student_id, status, reason)), \
     up AS ( \
       INSERT INTO attendance AS a (school_id, course_id, date, period, student_id, \
         override_status, override_reason, overridden_by, overridden_at) \
       SELECT $1, $2, $3, $4, student_id, status, reason, $8, now() FROM input \
       ON CONFLICT (school_id, course_id, date, period, student_id) DO UPDATE SET \
         override_status = EXCLUDED.override_status, override_reason = EXCLUDED.override_reason, \
         overridden_by = EXCLUDED.overridden_by, overridden_at = EXCLUDED.overridden_at, \
         revision = a.revision + 1 \
       WHERE a.override_status IS DISTINCT FROM EXCLUDED.override_status \
          OR a.override_reason IS DISTINCT FROM EXCLUDED.override_reason \
       RETURNING student_id, teacher_status, note, marked_by, marked_at, override_status, \
         override_reason, overridden_by, overridden_at, effective_status, revision), \
     audit AS ( \
       INSERT INTO attendance_audit (school_id, course_id, date, period, student_id, kind, \
         status, detail, actor, at, revision) \
       SELECT $1, $2, $3, $4, student_id, 'override', override_status, override_reason, $8, \
         overridden_at, revision FROM up) ",
    session_after_upsert!()
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

fn day_row(row: &Row) -> Result<DayRow, ServiceError> {
    Ok(DayRow {
        date: row.try_get(0)?,
        present: row.try_get(1)?,
        absent: row.try_get(2)?,
        late: row.try_get(3)?,
        excused: row.try_get(4)?,
    })
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
