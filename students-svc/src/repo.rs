//! SQL, and nothing but SQL. Every function takes the school id (tenancy is
//! never optional) and domain types; each runs a fixed number of statements
//! on a pooled connection with cached prepared statements.

use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::{GenericClient, Pool};
use platform::caller::Role;
use tokio_postgres::{error::SqlState, types::ToSql, Row};
use uuid::Uuid;

use crate::convert::{student_event, user_event};
use crate::domain::{
    Cursor, Email, NewSchool, NewStudent, NewUser, Slug, StudentFilter, StudentPatch, StudentStatus,
};
use crate::error::ServiceError;
use crate::events::{self, Aggregate, Origin, Pending};
use proto::events::v1::event::Payload;

#[derive(Clone, Debug)]
pub struct SchoolRow {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct UserRow {
    pub id: Uuid,
    pub school_id: Uuid,
    pub email: String,
    pub full_name: String,
    pub role: Role,
    pub active: bool,
    pub student_id: Option<Uuid>,
}

#[derive(Clone, Debug)]
pub struct StudentRow {
    pub id: Uuid,
    pub school_id: Uuid,
    pub admission_no: String,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: NaiveDate,
    pub grade_level: i16,
    pub section: String,
    pub status: StudentStatus,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
}

pub(crate) const STUDENT_COLS: &str =
    "id, school_id, admission_no, given_name, family_name, date_of_birth, \
     grade_level, section, status, version, created_at, updated_at, archived_at";
const USER_COLS: &str = "id, school_id, email, full_name, role, active, student_id";

impl StudentRow {
    pub(crate) fn from_row(r: &Row) -> Result<Self, tokio_postgres::Error> {
        Ok(Self {
            id: r.try_get(0)?,
            school_id: r.try_get(1)?,
            admission_no: r.try_get(2)?,
            given_name: r.try_get(3)?,
            family_name: r.try_get(4)?,
            date_of_birth: r.try_get(5)?,
            grade_level: r.try_get(6)?,
            section: r.try_get(7)?,
            status: StudentStatus::from_db(r.try_get(8)?),
            version: r.try_get(9)?,
            created_at: r.try_get(10)?,
            updated_at: r.try_get(11)?,
            archived_at: r.try_get(12)?,
        })
    }
}

impl UserRow {
    fn from_row(r: &Row) -> Result<Self, ServiceError> {
        let role: &str = r.try_get(4)?;
        Ok(Self {
            id: r.try_get(0)?,
            school_id: r.try_get(1)?,
            email: r.try_get(2)?,
            full_name: r.try_get(3)?,
            role: role
                .parse()
                .map_err(|_| anyhow::anyhow!("unknown role {role:?} in users"))?,
            active: r.try_get(5)?,
            student_id: r.try_get(6)?,
        })
    }
}

pub(crate) fn unique_violation(e: &tokio_postgres::Error) -> Option<&str> {
    let db = e.as_db_error()?;
    (db.code() == &SqlState::UNIQUE_VIOLATION).then(|| db.constraint().unwrap_or(""))
}

async fn insert_user<C: GenericClient>(
    c: &C,
    school_id: Uuid,
    actor: Option<Uuid>,
    u: &NewUser,
    hash: &str,
    student_id: Option<Uuid>,
) -> Result<UserRow, ServiceError> {
    let sql = format!(
        "INSERT INTO users (id, school_id, email, password_hash, full_name, role, student_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {USER_COLS}"
    );
    let row = c
        .query_one(
            &sql,
            &[
                &Uuid::now_v7(),
                &school_id,
                &u.email.as_str(),
                &hash,
                &u.full_name.as_str(),
                &u.role.as_str(),
                &student_id,
            ],
        )
        .await
        .map_err(|e| match unique_violation(&e) {
            Some("users_email_key") => {
                ServiceError::AlreadyExists("a user with this e-mail already exists in the school")
            }
            _ => e.into(),
        })?;
    let user = UserRow::from_row(&row)?;
    let event = Pending::new(
        Aggregate {
            kind: "user",
            id: user.id,
        },
        "user.created",
        Payload::UserCreated(user_event(&user)),
    );
    events::record(c, Origin { school_id, actor }, event).await?;
    Ok(user)
}

/// A `student.*` event for `s`.
pub(crate) fn student_changed(s: &StudentRow, event_type: &'static str) -> Pending {
    let snapshot = student_event(s);
    let payload = match event_type {
        "student.created" => Payload::StudentCreated(snapshot),
        "student.archived" => Payload::StudentArchived(snapshot),
        _ => Payload::StudentUpdated(snapshot),
    };
    Pending::new(
        Aggregate {
            kind: "student",
            id: s.id,
        },
        event_type,
        payload,
    )
}

pub async fn create_school(
    pool: &Pool,
    s: &NewSchool,
    admin_hash: &str,
) -> Result<(SchoolRow, UserRow), ServiceError> {
    platform::db::timed("create_school", async move {
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        let row = tx
            .query_one(
                "INSERT INTO schools (id, name, slug) VALUES ($1, $2, $3) \
             RETURNING id, name, slug, created_at",
                &[&Uuid::now_v7(), &s.name.as_str(), &s.slug.as_str()],
            )
            .await
            .map_err(|e| match unique_violation(&e) {
                Some(_) => ServiceError::AlreadyExists("a school with this slug already exists"),
                None => e.into(),
            })?;
        let school = SchoolRow {
            id: row.try_get(0)?,
            name: row.try_get(1)?,
            slug: row.try_get(2)?,
            created_at: row.try_get(3)?,
        };
        let admin = insert_user(&tx, school.id, None, &s.admin, admin_hash, None).await?;
        tx.commit().await?;
        Ok((school, admin))
    })
    .await
}

pub async fn create_user(
    pool: &Pool,
    origin: Origin,
    u: &NewUser,
    hash: &str,
) -> Result<UserRow, ServiceError> {
    platform::db::timed("create_user", async move {
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        let user = insert_user(&tx, origin.school_id, origin.actor, u, hash, None).await?;
        tx.commit().await?;
        Ok(user)
    })
    .await
}

/// The login candidate and its stored hash, if the school and e-mail exist
/// (a student whose record is archived can no longer sign in).
pub async fn find_login(
    pool: &Pool,
    slug: &Slug,
    email: &Email,
) -> Result<Option<(UserRow, String)>, ServiceError> {
    platform::db::timed("find_login", async move {
        let client = pool.get().await?;
        let stmt = client
            .prepare_cached(
                "SELECT u.id, u.school_id, u.email, u.full_name, u.role, u.active, u.student_id, \
             u.password_hash FROM users u JOIN schools s ON s.id = u.school_id \
             LEFT JOIN students st ON st.id = u.student_id AND st.school_id = u.school_id \
             WHERE s.slug = $1 AND u.email = $2 AND st.archived_at IS NULL",
            )
            .await?;
        let Some(row) = client
            .query_opt(&stmt, &[&slug.as_str(), &email.as_str()])
            .await?
        else {
            return Ok(None);
        };
        Ok(Some((UserRow::from_row(&row)?, row.try_get(7)?)))
    })
    .await
}

pub async fn get_user(
    pool: &Pool,
    school_id: Uuid,
    user_id: Uuid,
) -> Result<Option<UserRow>, ServiceError> {
    platform::db::timed("get_user", async move {
        let client = pool.get().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {USER_COLS} FROM users WHERE school_id = $1 AND id = $2"
            ))
            .await?;
        client
            .query_opt(&stmt, &[&school_id, &user_id])
            .await?
            .map(|r| UserRow::from_row(&r))
            .transpose()
    })
    .await
}

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
                password: crate::domain::NewPassword::parse(login.password.expose())
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
pub async fn archive_student(
    pool: &Pool,
    origin: Origin,
    id: Uuid,
) -> Result<StudentRow, ServiceError> {
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
            tx.commit().await?;
            return Ok(student);
        }
        // Already archived (or absent): nothing changed, so no event.
        select_student(&tx, school_id, id)
            .await?
            .ok_or(ServiceError::NotFound("student"))
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
) -> Result<(Vec<StudentRow>, Option<Cursor>), ServiceError> {
    platform::db::timed("list_students", async move {
        let grade = f.grade_level.map(|g| g.get());
        let section = f.section.as_ref().map(|s| s.as_str());
        let status = f.status.map(|s| s.as_str());
        let pattern = f.search.as_ref().map(|s| s.pattern());
        let fetch = i64::from(f.limit) + 1;

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
        let mut students = rows
            .iter()
            .map(StudentRow::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let next = if students.len() > f.limit as usize {
            students.truncate(f.limit as usize);
            students.last().map(|s| Cursor {
                family_name: s.family_name.clone(),
                given_name: s.given_name.clone(),
                id: s.id,
            })
        } else {
            None
        };
        Ok((students, next))
    })
    .await
}
