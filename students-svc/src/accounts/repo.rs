//! Users' SQL. [`insert_user`] is shared by every path that creates a
//! login (a school's admin, a student's or a guardian's portal login).

use deadpool_postgres::{GenericClient, Pool};
use platform::db::unique_violation;
use platform::service::ServiceError;
use proto::events::v1::event::Payload;
use uuid::Uuid;

use super::domain::NewUser;
use super::model::{user_event, UserRow, USER_COLS};
use crate::events::{self, Aggregate, Origin, Pending};
use crate::values::{Email, Slug};

pub(crate) async fn insert_user<C: GenericClient>(
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
