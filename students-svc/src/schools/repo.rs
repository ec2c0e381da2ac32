//! The school's SQL.

use deadpool_postgres::Pool;
use platform::db::unique_violation;
use platform::service::ServiceError;
use uuid::Uuid;

use super::domain::NewSchool;
use super::model::SchoolRow;
use crate::accounts::{model::UserRow, repo::insert_user};

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
