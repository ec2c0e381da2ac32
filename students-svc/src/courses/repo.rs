//! Course SQL. Every function takes the school id; every statement is
//! `WHERE school_id = $1`; every change records its event in the same
//! transaction.

use deadpool_postgres::{GenericClient, Pool};
use platform::db::constraint_violation;
use platform::paging::{self, Page};
use platform::service::ServiceError;
use proto::events::v1::event::Payload;
use tokio_postgres::{error::SqlState, types::ToSql};
use uuid::Uuid;

use super::domain::{CourseCursor, CourseFilter, CourseUpdate, NewCourse};
use super::model::{CourseRow, COURSE_COLS};
use crate::events::{self, Aggregate, Origin, Pending};
use crate::timetable::model::SlotRow;
use crate::timetable::repo::{check_moved_course, slots_of};

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
        let slots = slots_of(&client, school_id, id).await?;
        Ok(Some((course, slots)))
    })
    .await
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
            check_moved_course(&tx, school_id, course.id, course.teacher_id, &course.term).await?;
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
) -> Result<Page<CourseRow, CourseCursor>, ServiceError> {
    platform::db::timed("list_courses", async move {
        let term = f.term.as_ref().map(|t| t.as_str());
        let fetch = paging::fetch(f.limit);
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
        let rows = client
            .query(&stmt, &params)
            .await?
            .iter()
            .map(CourseRow::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::cut(rows, f.limit, |c| CourseCursor {
            term: c.term.clone(),
            code: c.code.clone(),
        }))
    })
    .await
}
