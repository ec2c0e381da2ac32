//! Staff SQL: teacher users with their profiles, scoped by school id.

use deadpool_postgres::Pool;
use platform::db::unique_violation;
use platform::paging::{self, Page};
use platform::service::ServiceError;
use proto::events::v1::event::Payload;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use super::domain::{StaffCursor, StaffFilter, StaffProfileInput};
use super::model::{member_select, saved, ProfileRow, StaffRow, PROFILE_COLS};
use crate::events::{self, Aggregate, Origin, Pending};
use crate::values::Phone;

/// Creates or replaces the profile of teacher `user_id`, with the
/// `staff_profile.saved` event, in one transaction. The user must exist in
/// the school (else NOT_FOUND) and be a teacher (else FAILED_PRECONDITION).
pub async fn save_profile(
    pool: &Pool,
    origin: Origin,
    p: &StaffProfileInput,
) -> Result<StaffRow, ServiceError> {
    platform::db::timed("save_staff_profile", async move {
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        let user = tx
            .query_opt(
                "SELECT role, full_name, email, active FROM users \
                 WHERE school_id = $1 AND id = $2 FOR SHARE",
                &[&origin.school_id, &p.user_id],
            )
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        if user.try_get::<_, &str>(0)? != "teacher" {
            return Err(ServiceError::FailedPrecondition(
                "staff profiles are for users with role teacher",
            ));
        }
        let subjects: Vec<&str> = p.subjects.iter().map(|s| s.as_str()).collect();
        let stmt = tx
            .prepare_cached(&format!(
                "INSERT INTO staff_profiles AS p (school_id, user_id, phone, subjects, employee_no, \
                 hired_on) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT ON CONSTRAINT staff_profiles_pkey DO UPDATE SET \
                   phone = EXCLUDED.phone, subjects = EXCLUDED.subjects, \
                   employee_no = EXCLUDED.employee_no, hired_on = EXCLUDED.hired_on, \
                   version = p.version + 1, updated_at = now() \
                 RETURNING {PROFILE_COLS}"
            ))
            .await?;
        let row = tx
            .query_one(
                &stmt,
                &[
                    &origin.school_id,
                    &p.user_id,
                    &p.phone.as_ref().map(Phone::as_str),
                    &subjects,
                    &p.employee_no.as_str(),
                    &p.hired_on,
                ],
            )
            .await
            .map_err(|e| match unique_violation(&e) {
                Some("staff_profiles_employee_no_key") => ServiceError::AlreadyExists(
                    "another staff member of the school has this employee number",
                ),
                _ => e.into(),
            })?;
        let profile = ProfileRow::from_row(&row, 0)?
            .ok_or_else(|| anyhow::anyhow!("upsert returned no profile"))?;
        let event = Payload::StaffProfileSaved(saved(p.user_id, &profile));
        let aggregate = Aggregate {
            kind: "staff_profile",
            id: p.user_id,
        };
        events::record(
            &tx,
            origin,
            Pending::new(aggregate, "staff_profile.saved", event),
        )
        .await?;
        tx.commit().await?;
        Ok(StaffRow {
            user_id: p.user_id,
            full_name: user.try_get(1)?,
            email: user.try_get(2)?,
            active: user.try_get(3)?,
            profile: Some(profile),
        })
    })
    .await
}

/// Teacher `user_id` with their profile, if that user is a teacher of the school.
pub async fn get_member(
    pool: &Pool,
    school_id: Uuid,
    user_id: Uuid,
) -> Result<Option<StaffRow>, ServiceError> {
    platform::db::timed("get_staff_member", async move {
        let client = pool.get().await?;
        let stmt = client
            .prepare_cached(&format!("{} AND u.id = $2", member_select()))
            .await?;
        Ok(client
            .query_opt(&stmt, &[&school_id, &user_id])
            .await?
            .map(|r| StaffRow::from_row(&r))
            .transpose()?)
    })
    .await
}

/// One page of the school's teachers in (full name, id) order: one statement.
pub async fn list_staff(
    pool: &Pool,
    school_id: Uuid,
    f: &StaffFilter,
) -> Result<Page<StaffRow, StaffCursor>, ServiceError> {
    platform::db::timed("list_staff", async move {
        let fetch = paging::fetch(f.limit);
        let mut sql = member_select();
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&school_id];
        if let Some(c) = &f.after {
            params.push(&c.full_name);
            params.push(&c.id);
            sql.push_str(" AND (u.full_name, u.id) > ($2, $3)");
        }
        params.push(&fetch);
        sql.push_str(&format!(
            " ORDER BY u.full_name, u.id LIMIT ${}",
            params.len()
        ));
        let client = pool.get().await?;
        let stmt = client.prepare_cached(&sql).await?;
        let rows = client.query(&stmt, &params).await?;
        let staff = rows
            .iter()
            .map(StaffRow::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::cut(staff, f.limit, |s| StaffCursor {
            full_name: s.full_name.clone(),
            id: s.user_id,
        }))
    })
    .await
}
