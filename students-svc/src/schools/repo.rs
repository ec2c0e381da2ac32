//! The school's SQL.

use deadpool_postgres::Pool;
use platform::db::unique_violation;
use platform::service::ServiceError;
use uuid::Uuid;

use super::domain::{NewSchool, SettingsUpdate};
use super::model::{school_changed, SchoolRow, SCHOOL_COLS};
use crate::accounts::{model::UserRow, repo::insert_user};
use crate::events::{self, Origin};

/// The school, its `school.created` event, then its first admin (whose
/// `user.created` follows), in one transaction.
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
                &format!(
                    "INSERT INTO schools (id, name, slug, time_zone, year_start_month, \
                     year_start_day) VALUES ($1, $2, $3, $4, $5, $6) RETURNING {SCHOOL_COLS}"
                ),
                &[
                    &Uuid::now_v7(),
                    &s.name.as_str(),
                    &s.slug.as_str(),
                    &s.time_zone.as_str(),
                    &s.year_start.month(),
                    &s.year_start.day(),
                ],
            )
            .await
            .map_err(|e| match unique_violation(&e) {
                Some(_) => ServiceError::AlreadyExists("a school with this slug already exists"),
                None => e.into(),
            })?;
        let school = SchoolRow::from_row(&row)?;
        let origin = Origin {
            school_id: school.id,
            actor: None,
        };
        events::record(&tx, origin, school_changed(&school, true)).await?;
        let admin = insert_user(&tx, school.id, None, &s.admin, admin_hash, None).await?;
        tx.commit().await?;
        Ok((school, admin))
    })
    .await
}

pub async fn get_school(pool: &Pool, school_id: Uuid) -> Result<Option<SchoolRow>, ServiceError> {
    platform::db::timed("get_school", async move {
        let client = pool.get().await?;
        let stmt = client
            .prepare_cached(&format!("SELECT {SCHOOL_COLS} FROM schools WHERE id = $1"))
            .await?;
        Ok(client
            .query_opt(&stmt, &[&school_id])
            .await?
            .map(|r| SchoolRow::from_row(&r))
            .transpose()?)
    })
    .await
}

/// Applies the settings if the stored version is `u.version`, with the
/// `school.updated` event.
pub async fn update_settings(
    pool: &Pool,
    origin: Origin,
    u: &SettingsUpdate,
) -> Result<SchoolRow, ServiceError> {
    platform::db::timed("update_school_settings", async move {
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        let stmt = tx
            .prepare_cached(&format!(
                "UPDATE schools SET time_zone = COALESCE($3, time_zone), \
                   year_start_month = COALESCE($4, year_start_month), \
                   year_start_day = COALESCE($5, year_start_day), \
                   version = version + 1, updated_at = now() \
                 WHERE id = $1 AND version = $2 RETURNING {SCHOOL_COLS}"
            ))
            .await?;
        let row = tx
            .query_opt(
                &stmt,
                &[
                    &origin.school_id,
                    &u.version,
                    &u.time_zone.as_ref().map(|z| z.as_str()),
                    &u.year_start.map(|y| y.month()),
                    &u.year_start.map(|y| y.day()),
                ],
            )
            .await?;
        let Some(row) = row else {
            // The caller's school exists (their token names it): the version
            // is stale.
            return Err(ServiceError::VersionConflict);
        };
        let school = SchoolRow::from_row(&row)?;
        events::record(&tx, origin, school_changed(&school, false)).await?;
        tx.commit().await?;
        Ok(school)
    })
    .await
}
