//! Students' SQL. Every function takes the school id and domain types;
//! each runs a fixed number of statements on a pooled connection with cached
//! prepared statements.

use deadpool_postgres::{GenericClient, Pool};
use platform::caller::Role;
use platform::db::unique_violation;
use platform::paging::{self, Page};
use platform::service::ServiceError;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use super::domain::{NewStudent, StudentCursor, StudentFilter, StudentPatch};
use super::model::{student_changed, StudentRow, STUDENT_COLS};
use crate::accounts::{domain::NewUser, repo::insert_user};
use crate::events::{self, Origin};

fn admission_taken(e: tokio_postgres::Error) -> ServiceError {
    match unique_violation(&e) {
        Some("students_admission_no_key") => {
            ServiceError::AlreadyExists("a student with this admission number already exists")
        }
        Some("users_email_key") => {
            ServiceError::AlreadyExists("a user with this e-mail already exists in the school")
        }
        _ => e.into(),
    }
}

/// Inserts the student and, when asked, its portal login in one transaction.
pub async fn create_student(
    pool: &Pool,
    origin: Origin,
    s: &NewStudent,
    login_hash: Option<&str>,
) -> Result<StudentRow, ServiceError> {
    platform::db::timed("create_student", async move {
        let school_id = origin.school_id;
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        let stmt = tx
            .prepare_cached(&format!(
                "INSERT INTO students (id, school_id, admission_no, given_name, family_name, \
             date_of_birth, grade_level, section, status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {STUDENT_COLS}"
            ))
            .await?;
        let row = tx
            .query_one(
                &stmt,
                &[
                    &Uuid::now_v7(),
                    &school_id,
                    &s.admission_no.as_str(),
                    &s.given_name.as_str(),
                    &s.family_name.as_str(),
                    &s.date_of_birth,
                    &s.grade_level.get(),
                    &s.section.as_str(),
                    &s.status.as_str(),
                ],
            )
            .await
            .map_err(admission_taken)?;
        let student = StudentRow::from_row(&row)?;
        events::record(&tx, origin, student_changed(&student, "student.created")).await?;
        if let (Some(login), Some(hash)) = (&s.login, login_hash) {
            let user = NewUser {
                email: login.email.clone(),
                password: crate::values::NewPassword::parse(login.password.expose())
                    .map_err(|m| ServiceError::invalid("login.password", m))?,
                full_name: s.given_name.clone(),
                role: Role::Student,
            };
            insert_user(&tx, school_id, origin.actor, &user, hash, Some(student.id)).await?;
        }
        tx.commit().await?;
        Ok(student)
    })
    .await
}

pub async fn get_student(
    pool: &Pool,
    school_id: Uuid,
    id: Uuid,
) -> Result<Option<StudentRow>, ServiceError> {
    platform::db::timed("get_student", async move {
        select_student(&pool.get().await?, school_id, id).await
    })
    .await
}

async fn select_student<C: GenericClient>(
    client: &C,
    school_id: Uuid,
    id: Uuid,
) -> Result<Option<StudentRow>, ServiceError> {
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {STUDENT_COLS} FROM students WHERE school_id = $1 AND id = $2"
        ))
        .await?;
    Ok(client
        .query_opt(&stmt, &[&school_id, &id])
        .await?
        .map(|r| StudentRow::from_row(&r))
        .transpose()?)
}

/// Applies `patch` if the stored version is `version`. One UPDATE; only when
/// it matches nothing does a second statement find out why.
pub async fn update_student(
    pool: &Pool,
    origin: Origin,
    id: Uuid,
    version: i64,
    p: &StudentPatch,
) -> Result<StudentRow, ServiceError> {
    platform::db::timed("update_student", async move {
        let school_id = origin.school_id;
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        let stmt = tx
            .prepare_cached(&format!(
                "UPDATE students SET \
               admission_no = COALESCE($4, admission_no), \
               given_name = COALESCE($5, given_name), \
               family_name = COALESCE($6, family_name), \
               date_of_birth = COALESCE($7, date_of_birth), \
               grade_level = COALESCE($8, grade_level), \
               section = COALESCE($9, section), \
               status = COALESCE($10, status), \
               version = version + 1, updated_at = now() \
             WHERE school_id = $1 AND id = $2 AND version = $3 AND archived_at IS NULL \
             RETURNING {STUDENT_COLS}"
            ))
            .await?;
        let row = tx
            .query_opt(
                &stmt,
                &[
                    &school_id,
                    &id,
                    &version,
                    &p.admission_no.as_ref().map(|v| v.as_str()),
                    &p.given_name.as_ref().map(|v| v.as_str()),
                    &p.family_name.as_ref().map(|v| v.as_str()),
                    &p.date_of_birth,
                    &p.grade_level.map(|g| g.get()),
                    &p.section.as_ref().map(|v| v.as_str()),
                    &p.status.map(|s| s.as_str()),
                ],
            )
            .await
            .map_err(admission_taken)?;
        if let Some(row) = row {
            let student = StudentRow::from_row(&row)?;
            events::record(&tx, origin, student_changed(&student, "student.updated")).await?;
            tx.commit().await?;
            return Ok(student);
        }
        let current = tx
            .query_opt(
                "SELECT archived_at IS NOT NULL FROM students WHERE school_id = $1 AND id = $2",
                &[&school_id, &id],
            )
            .await?;
        Err(match current {
            None => ServiceError::NotFound("student"),
            Some(r) if r.try_get::<_, bool>(0)? => {
                ServiceError::FailedPrecondition("the student is archived")
            }
            Some(_) => ServiceError::VersionConflict,
        })
    })
    .await
}

/// Archives the student; archiving an archived student returns it unchanged.
/// The fallback read is its own statement, so a concurrent archive that won
/// the race is seen (a CTE would read the pre-race snapshot).
/// Archives the student; its login's sessions end in the same transaction
/// (the login and its new epoch, to publish).
pub async fn archive_student(
    pool: &Pool,
    origin: Origin,
    id: Uuid,
) -> Result<(StudentRow, Option<(Uuid, i64)>), ServiceError> {
    platform::db::timed("archive_student", async move {
        let school_id = origin.school_id;
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        let archive = tx
            .prepare_cached(&format!(
            "UPDATE students SET archived_at = now(), updated_at = now(), version = version + 1 \
             WHERE school_id = $1 AND id = $2 AND archived_at IS NULL RETURNING {STUDENT_COLS}"
        ))
            .await?;
        if let Some(r) = tx.query_opt(&archive, &[&school_id, &id]).await? {
            let student = StudentRow::from_row(&r)?;
            events::record(&tx, origin, student_changed(&student, "student.archived")).await?;
            let end = tx
                .prepare_cached(
                    "UPDATE users SET session_epoch = session_epoch + 1 \
                     WHERE school_id = $1 AND student_id = $2 RETURNING id, session_epoch",
                )
                .await?;
            let login = tx
                .query_opt(&end, &[&school_id, &id])
                .await?
                .map(|r| Ok::<_, tokio_postgres::Error>((r.try_get(0)?, r.try_get(1)?)))
                .transpose()?;
            tx.commit().await?;
            return Ok((student, login));
        }
        // Already archived (or absent): nothing changed, so no event.
        let student = select_student(&tx, school_id, id)
            .await?
            .ok_or(ServiceError::NotFound("student"))?;
        Ok((student, None))
    })
    .await
}

/// One page of live students in (family name, given name, id) order. The SQL
/// text depends only on which filters are present, so each shape is prepared
/// once per connection and every shape can use a matching index.
pub async fn list_students(
    pool: &Pool,
    school_id: Uuid,
    f: &StudentFilter,
) -> Result<Page<StudentRow, StudentCursor>, ServiceError> {
    platform::db::timed("list_students", async move {
        let grade = f.grade_level.map(|g| g.get());
        let section = f.section.as_ref().map(|s| s.as_str());
        let status = f.status.map(|s| s.as_str());
        let pattern = f.search.as_ref().map(|s| s.pattern());
        let fetch = paging::fetch(f.limit);

        let mut sql = format!(
            "SELECT {STUDENT_COLS} FROM students WHERE school_id = $1 AND archived_at IS NULL"
        );
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&school_id];
        if let Some(g) = &grade {
            params.push(g);
            sql.push_str(&format!(" AND grade_level = ${}", params.len()));
        }
        if let Some(s) = &section {
            params.push(s);
            sql.push_str(&format!(" AND section = ${}", params.len()));
        }
        if let Some(s) = &status {
            params.push(s);
            sql.push_str(&format!(" AND status = ${}", params.len()));
        }
        if let Some(p) = &pattern {
            params.push(p);
            let n = params.len();
            sql.push_str(&format!(
                " AND (lower(family_name) LIKE lower(${n}) OR lower(given_name) LIKE lower(${n}) \
             OR lower(admission_no) LIKE lower(${n}))"
            ));
        }
        if let Some(c) = &f.after {
            params.push(&c.family_name);
            params.push(&c.given_name);
            params.push(&c.id);
            let n = params.len();
            sql.push_str(&format!(
                " AND (family_name, given_name, id) > (${}, ${}, ${n})",
                n - 2,
                n - 1
            ));
        }
        params.push(&fetch);
        sql.push_str(&format!(
            " ORDER BY family_name, given_name, id LIMIT ${}",
            params.len()
        ));

        let client = pool.get().await?;
        let stmt = client.prepare_cached(&sql).await?;
        let rows = client.query(&stmt, &params).await?;
        let students = rows
            .iter()
            .map(StudentRow::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::cut(students, f.limit, StudentRow::cursor))
    })
    .await
}

/// Joins from the guardian login `user_id` to its linked students.
const CHILDREN: &str = "FROM users u \
     JOIN guardian_students l ON l.school_id = u.school_id AND l.guardian_id = u.guardian_id \
     JOIN students s ON s.school_id = l.school_id AND s.id = l.student_id \
     WHERE u.school_id = $1 AND u.id = $2";

fn student_cols() -> String {
    STUDENT_COLS
        .split(", ")
        .map(|c| format!("s.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The live students linked to the guardian login `user_id`, in name order:
/// one statement.
pub async fn list_children(
    pool: &Pool,
    school_id: Uuid,
    user_id: Uuid,
) -> Result<Vec<StudentRow>, ServiceError> {
    platform::db::timed("list_children", async move {
        let client = pool.get().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {} {CHILDREN} AND s.archived_at IS NULL \
                 ORDER BY s.family_name, s.given_name, s.id",
                student_cols()
            ))
            .await?;
        let rows = client.query(&stmt, &[&school_id, &user_id]).await?;
        Ok(rows
            .iter()
            .map(StudentRow::from_row)
            .collect::<Result<_, _>>()?)
    })
    .await
}

/// The student, only if it is linked to the guardian login `user_id`: the
/// access check and the read are one statement.
pub async fn get_child(
    pool: &Pool,
    school_id: Uuid,
    user_id: Uuid,
    student_id: Uuid,
) -> Result<Option<StudentRow>, ServiceError> {
    platform::db::timed("get_child", async move {
        let client = pool.get().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {} {CHILDREN} AND l.student_id = $3",
                student_cols()
            ))
            .await?;
        Ok(client
            .query_opt(&stmt, &[&school_id, &user_id, &student_id])
            .await?
            .map(|r| StudentRow::from_row(&r))
            .transpose()?)
    })
    .await
}
