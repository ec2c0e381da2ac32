//! Users' SQL. [`insert_user`] is shared by every path that creates a
//! login (a school's admin, a student's or a guardian's portal login).

use deadpool_postgres::{GenericClient, Pool};
use platform::db::unique_violation;
use platform::service::ServiceError;
use proto::events::v1::event::Payload;
use uuid::Uuid;

use super::domain::NewUser;
use super::model::{user_event, UserRow, USER_COLS};
use super::sessions::{self, Started};
use crate::events::{self, Aggregate, Origin, Pending};
use crate::values::{Email, Slug};
use platform::caller::Role;

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

/// A login candidate: the user, the stored hash, its session epoch and
/// whether it must change its password.
pub struct Login {
    pub user: UserRow,
    pub hash: String,
    pub epoch: i64,
    pub must_change_password: bool,
}

/// The login candidate, if the school and e-mail exist (a student whose
/// record is archived can no longer sign in).
pub async fn find_login(
    pool: &Pool,
    slug: &Slug,
    email: &Email,
) -> Result<Option<Login>, ServiceError> {
    platform::db::timed("find_login", async move {
        let client = pool.get().await?;
        let stmt = client
            .prepare_cached(
                "SELECT u.id, u.school_id, u.email, u.full_name, u.role, u.active, u.student_id, \
             u.password_hash, u.session_epoch, u.must_change_password \
             FROM users u JOIN schools s ON s.id = u.school_id \
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
        Ok(Some(Login {
            user: UserRow::from_row(&row)?,
            hash: row.try_get(7)?,
            epoch: row.try_get(8)?,
            must_change_password: row.try_get(9)?,
        }))
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

/// The user's stored password hash (to check a current password).
pub async fn password_hash(
    pool: &Pool,
    school_id: Uuid,
    user_id: Uuid,
) -> Result<Option<String>, ServiceError> {
    platform::db::timed("password_hash", async move {
        let client = pool.get().await?;
        let stmt = client
            .prepare_cached(
                "SELECT password_hash FROM users WHERE school_id = $1 AND id = $2 AND active",
            )
            .await?;
        client
            .query_opt(&stmt, &[&school_id, &user_id])
            .await?
            .map(|r| r.try_get(0))
            .transpose()
            .map_err(Into::into)
    })
    .await
}

fn user_and_epoch(r: &tokio_postgres::Row) -> Result<(UserRow, i64), ServiceError> {
    Ok((UserRow::from_row(r)?, r.try_get(7)?))
}

/// The caller's new password, if the stored hash is still `old` (nothing
/// raced the check): every session ends, a new one starts.
pub async fn change_password(
    pool: &Pool,
    school_id: Uuid,
    user_id: Uuid,
    old: &str,
    new: &str,
    lifetime: std::time::Duration,
) -> Result<Option<(UserRow, Started)>, ServiceError> {
    platform::db::timed("change_password", async move {
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        let stmt = tx
            .prepare_cached(&format!(
                "UPDATE users SET password_hash = $3, must_change_password = false, \
                   session_epoch = session_epoch + 1 \
                 WHERE school_id = $1 AND id = $2 AND password_hash = $4 AND active \
                 RETURNING {USER_COLS}, session_epoch"
            ))
            .await?;
        let Some(row) = tx
            .query_opt(&stmt, &[&school_id, &user_id, &new, &old])
            .await?
        else {
            return Ok(None);
        };
        let (user, epoch) = user_and_epoch(&row)?;
        let started = sessions::start(&tx, &user, epoch, false, lifetime).await?;
        tx.commit().await?;
        Ok(Some((user, started)))
    })
    .await
}

/// An admin's reset: a temporary password to change at the next sign-in;
/// every session of the user ends. The user and its new epoch.
pub async fn reset_password(
    pool: &Pool,
    school_id: Uuid,
    user_id: Uuid,
    hash: &str,
) -> Result<Option<(UserRow, i64)>, ServiceError> {
    platform::db::timed("reset_password", async move {
        let client = pool.get().await?;
        let stmt = client
            .prepare_cached(&format!(
                "UPDATE users SET password_hash = $3, must_change_password = true, \
                   session_epoch = session_epoch + 1 \
                 WHERE school_id = $1 AND id = $2 RETURNING {USER_COLS}, session_epoch"
            ))
            .await?;
        client
            .query_opt(&stmt, &[&school_id, &user_id, &hash])
            .await?
            .map(|r| user_and_epoch(&r))
            .transpose()
    })
    .await
}

/// What an admin's change of a login came to.
pub enum UserChange {
    NotFound,
    /// A role change asked of a student's or guardian's login.
    NotStaff,
    /// It would leave the school without an active admin.
    LastAdmin,
    /// The user as it is now, and the new epoch when its sessions ended
    /// (`None`: nothing changed).
    Done(UserRow, Option<i64>),
}

/// A staff login's role, or any login's `active`. A change ends every
/// session of the user. The school's active admins are locked first, so
/// two admins demoting each other cannot leave it without one.
pub async fn update_user(
    pool: &Pool,
    school_id: Uuid,
    user_id: Uuid,
    role: Option<Role>,
    active: Option<bool>,
) -> Result<UserChange, ServiceError> {
    platform::db::timed("update_user", async move {
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        let lock = tx
            .prepare_cached(
                "SELECT id, role, active FROM users \
                 WHERE school_id = $1 AND (id = $2 OR (role = 'admin' AND active)) \
                 ORDER BY id FOR UPDATE",
            )
            .await?;
        let rows = tx.query(&lock, &[&school_id, &user_id]).await?;
        let mut target = None;
        let mut admins = 0;
        for r in &rows {
            let id: Uuid = r.try_get(0)?;
            let r_role: &str = r.try_get(1)?;
            let r_active: bool = r.try_get(2)?;
            if r_role == "admin" && r_active {
                admins += 1;
            }
            if id == user_id {
                let parsed: Role = r_role
                    .parse()
                    .map_err(|_| anyhow::anyhow!("unknown role {r_role:?} in users"))?;
                target = Some((parsed, r_active));
            }
        }
        let Some((old_role, old_active)) = target else {
            return Ok(UserChange::NotFound);
        };
        let staff = |r: Role| matches!(r, Role::Admin | Role::Teacher);
        if role.is_some() && !staff(old_role) {
            return Ok(UserChange::NotStaff);
        }
        let (new_role, new_active) = (role.unwrap_or(old_role), active.unwrap_or(old_active));
        let was_admin = old_role == Role::Admin && old_active;
        let is_admin = new_role == Role::Admin && new_active;
        if was_admin && !is_admin && admins <= 1 {
            return Ok(UserChange::LastAdmin);
        }
        if (new_role, new_active) == (old_role, old_active) {
            let user = select_user(&tx, school_id, user_id).await?;
            return Ok(UserChange::Done(user, None));
        }
        let stmt = tx
            .prepare_cached(&format!(
                "UPDATE users SET role = $3, active = $4, session_epoch = session_epoch + 1 \
                 WHERE school_id = $1 AND id = $2 RETURNING {USER_COLS}, session_epoch"
            ))
            .await?;
        let row = tx
            .query_one(
                &stmt,
                &[&school_id, &user_id, &new_role.as_str(), &new_active],
            )
            .await?;
        let (user, epoch) = user_and_epoch(&row)?;
        tx.commit().await?;
        Ok(UserChange::Done(user, Some(epoch)))
    })
    .await
}

async fn select_user<C: GenericClient>(
    c: &C,
    school_id: Uuid,
    user_id: Uuid,
) -> Result<UserRow, ServiceError> {
    let stmt = c
        .prepare_cached(&format!(
            "SELECT {USER_COLS} FROM users WHERE school_id = $1 AND id = $2"
        ))
        .await?;
    UserRow::from_row(&c.query_one(&stmt, &[&school_id, &user_id]).await?)
}
