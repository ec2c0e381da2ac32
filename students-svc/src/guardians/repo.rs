//! Guardian SQL. Every statement is scoped by school id; every change records
//! its domain event in the same transaction.

use deadpool_postgres::{GenericClient, Pool};
use platform::db::unique_violation;
use platform::paging::{self, Page};
use platform::service::ServiceError;
use proto::events::v1::event::Payload;
use tokio_postgres::{error::SqlState, types::ToSql};
use uuid::Uuid;

use super::domain::*;
use super::model::{
    changed, linked, GuardianRow, LinkRow, GUARDIAN_COLS, GUARDIAN_COL_COUNT, LINK_COLS,
};
use crate::events::{self, Aggregate, Origin, Pending};
use crate::values::Phone;

/// Constraint violations a client can cause, as precise errors.
fn rejected(e: tokio_postgres::Error) -> ServiceError {
    if let Some(db) = e.as_db_error() {
        match (db.code(), db.constraint()) {
            (c, Some("guardians_sms_needs_phone")) if c == &SqlState::CHECK_VIOLATION => {
                return ServiceError::invalid("notifications.sms", SMS_NEEDS_PHONE)
            }
            (c, Some("guardians_email_needs_email")) if c == &SqlState::CHECK_VIOLATION => {
                return ServiceError::invalid("notifications.email", EMAIL_NEEDS_EMAIL)
            }
            (c, Some("guardian_students_student_fk")) if c == &SqlState::FOREIGN_KEY_VIOLATION => {
                return ServiceError::NotFound("student")
            }
            _ => {}
        }
    }
    match unique_violation(&e) {
        Some("users_email_key") => {
            ServiceError::AlreadyExists("a user with this e-mail already exists in the school")
        }
        Some("guardian_students_pkey") => {
            ServiceError::AlreadyExists("the guardian is already linked to this student")
        }
        Some("guardian_students_one_primary") => {
            ServiceError::AlreadyExists("the student already has a primary guardian")
        }
        _ => e.into(),
    }
}

fn aggregate(id: Uuid) -> Aggregate {
    Aggregate {
        kind: "guardian",
        id,
    }
}

async fn links_of<C: GenericClient>(
    c: &C,
    school_id: Uuid,
    guardian_ids: &[Uuid],
) -> Result<Vec<LinkRow>, ServiceError> {
    let stmt = c
        .prepare_cached(&format!(
            "SELECT {LINK_COLS} FROM guardian_students \
             WHERE school_id = $1 AND guardian_id = ANY($2) ORDER BY guardian_id, created_at, student_id"
        ))
        .await?;
    let rows = c.query(&stmt, &[&school_id, &guardian_ids]).await?;
    Ok(rows
        .iter()
        .map(|r| LinkRow::from_row(r, 0))
        .collect::<Result<_, _>>()?)
}

/// Inserts the guardian and, when asked, its portal login (role guardian),
/// with the `guardian.created` event, in one transaction.
pub async fn create_guardian(
    pool: &Pool,
    origin: Origin,
    g: &NewGuardian,
    login_hash: Option<&str>,
) -> Result<GuardianRow, ServiceError> {
    platform::db::timed("create_guardian", async move {
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        let stmt = tx
            .prepare_cached(&format!(
                "INSERT INTO guardians AS g (id, school_id, given_name, family_name, relationship, \
                 phone, email, notify_sms, notify_email, notify_push, preferred_language) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING {GUARDIAN_COLS}"
            ))
            .await?;
        let row = tx
            .query_one(
                &stmt,
                &[
                    &Uuid::now_v7(),
                    &origin.school_id,
                    &g.given_name.as_str(),
                    &g.family_name.as_str(),
                    &g.relationship.as_str(),
                    &g.phone.as_ref().map(Phone::as_str),
                    &g.email.as_ref().map(|e| e.as_str()),
                    &g.prefs.sms,
                    &g.prefs.email,
                    &g.prefs.push,
                    &g.language.as_ref().map(Language::as_str),
                ],
            )
            .await
            .map_err(rejected)?;
        let mut guardian = GuardianRow::from_row(&row)?;
        if let (Some(login), Some(hash)) = (&g.login, login_hash) {
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO users (id, school_id, email, password_hash, full_name, role, \
                     guardian_id) VALUES ($1, $2, $3, $4, $5, 'guardian', $6) RETURNING id",
                )
                .await?;
            let full_name = format!("{} {}", g.given_name.as_str(), g.family_name.as_str());
            let user = tx
                .query_one(
                    &stmt,
                    &[
                        &Uuid::now_v7(),
                        &origin.school_id,
                        &login.email.as_str(),
                        &hash,
                        &full_name,
                        &guardian.id,
                    ],
                )
                .await
                .map_err(rejected)?;
            guardian.user_id = Some(user.try_get(0)?);
        }
        let event = Payload::GuardianCreated(changed(&guardian));
        events::record(
            &tx,
            origin,
            Pending::new(aggregate(guardian.id), "guardian.created", event),
        )
        .await?;
        tx.commit().await?;
        Ok(guardian)
    })
    .await
}

/// The guardian and its links (two statements).
pub async fn get_guardian(
    pool: &Pool,
    school_id: Uuid,
    id: Uuid,
) -> Result<Option<(GuardianRow, Vec<LinkRow>)>, ServiceError> {
    platform::db::timed("get_guardian", async move {
        let client = pool.get().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {GUARDIAN_COLS} FROM guardians g WHERE g.school_id = $1 AND g.id = $2"
            ))
            .await?;
        let Some(row) = client.query_opt(&stmt, &[&school_id, &id]).await? else {
            return Ok(None);
        };
        let links = links_of(&client, school_id, &[id]).await?;
        Ok(Some((GuardianRow::from_row(&row)?, links)))
    })
    .await
}

/// One page of guardians in (family name, given name, id) order, optionally
/// only those linked to a student, each with its links: two statements
/// whatever the page size.
pub async fn list_guardians(
    pool: &Pool,
    school_id: Uuid,
    f: &GuardianFilter,
) -> Result<Page<(GuardianRow, Vec<LinkRow>), GuardianCursor>, ServiceError> {
    platform::db::timed("list_guardians", async move {
        let fetch = paging::fetch(f.limit);
        let mut sql = format!("SELECT {GUARDIAN_COLS} FROM guardians g");
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&school_id];
        if let Some(s) = &f.student_id {
            params.push(s);
            sql.push_str(&format!(
                " JOIN guardian_students l ON l.school_id = g.school_id \
                 AND l.guardian_id = g.id AND l.student_id = ${}",
                params.len()
            ));
        }
        sql.push_str(" WHERE g.school_id = $1");
        if let Some(c) = &f.after {
            params.push(&c.family_name);
            params.push(&c.given_name);
            params.push(&c.id);
            let n = params.len();
            sql.push_str(&format!(
                " AND (g.family_name, g.given_name, g.id) > (${}, ${}, ${n})",
                n - 2,
                n - 1
            ));
        }
        params.push(&fetch);
        sql.push_str(&format!(
            " ORDER BY g.family_name, g.given_name, g.id LIMIT ${}",
            params.len()
        ));
        let client = pool.get().await?;
        let stmt = client.prepare_cached(&sql).await?;
        let rows = client.query(&stmt, &params).await?;
        let guardians = rows
            .iter()
            .map(GuardianRow::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let page = Page::cut(guardians, f.limit, GuardianRow::cursor);
        let ids: Vec<Uuid> = page.rows.iter().map(|g| g.id).collect();
        let mut links = links_of(&client, school_id, &ids).await?;
        Ok(page.map(|g| {
            let (mine, rest): (Vec<_>, Vec<_>) =
                links.drain(..).partition(|l| l.guardian_id == g.id);
            links = rest;
            (g, mine)
        }))
    })
    .await
}

/// Applies the patch if the stored version is `version`, with the
/// `guardian.updated` event, in one transaction.
pub async fn update_guardian(
    pool: &Pool,
    origin: Origin,
    u: &GuardianUpdate,
) -> Result<(GuardianRow, Vec<LinkRow>), ServiceError> {
    platform::db::timed("update_guardian", async move {
        let school_id = origin.school_id;
        let p = &u.patch;
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        let stmt = tx
            .prepare_cached(&format!(
                "UPDATE guardians g SET \
                   given_name = COALESCE($4, given_name), \
                   family_name = COALESCE($5, family_name), \
                   relationship = COALESCE($6, relationship), \
                   phone = CASE WHEN $7 THEN $8 ELSE phone END, \
                   email = CASE WHEN $9 THEN $10 ELSE email END, \
                   notify_sms = COALESCE($11, notify_sms), \
                   notify_email = COALESCE($12, notify_email), \
                   notify_push = COALESCE($13, notify_push), \
                   preferred_language = CASE WHEN $14 THEN $15 ELSE preferred_language END, \
                   version = version + 1, updated_at = now() \
                 WHERE g.school_id = $1 AND g.id = $2 AND g.version = $3 \
                 RETURNING {GUARDIAN_COLS}"
            ))
            .await?;
        let phone = p.phone.as_ref().map(|o| o.as_ref().map(Phone::as_str));
        let email = p.email.as_ref().map(|o| o.as_ref().map(|e| e.as_str()));
        let language = p
            .language
            .as_ref()
            .map(|o| o.as_ref().map(Language::as_str));
        let row = tx
            .query_opt(
                &stmt,
                &[
                    &school_id,
                    &u.id,
                    &u.version,
                    &p.given_name.as_ref().map(|v| v.as_str()),
                    &p.family_name.as_ref().map(|v| v.as_str()),
                    &p.relationship.map(Relationship::as_str),
                    &phone.is_some(),
                    &phone.flatten(),
                    &email.is_some(),
                    &email.flatten(),
                    &p.prefs.map(|p| p.sms),
                    &p.prefs.map(|p| p.email),
                    &p.prefs.map(|p| p.push),
                    &language.is_some(),
                    &language.flatten(),
                ],
            )
            .await
            .map_err(rejected)?;
        let Some(row) = row else {
            let exists = tx
                .query_opt(
                    "SELECT 1 FROM guardians WHERE school_id = $1 AND id = $2",
                    &[&school_id, &u.id],
                )
                .await?;
            return Err(match exists {
                None => ServiceError::NotFound("guardian"),
                Some(_) => ServiceError::VersionConflict,
            });
        };
        let guardian = GuardianRow::from_row(&row)?;
        let event = Payload::GuardianUpdated(changed(&guardian));
        events::record(
            &tx,
            origin,
            Pending::new(aggregate(guardian.id), "guardian.updated", event),
        )
        .await?;
        let links = links_of(&tx, school_id, &[guardian.id]).await?;
        tx.commit().await?;
        Ok((guardian, links))
    })
    .await
}

/// Links the guardian to the student (both of the caller's school) with the
/// `guardian.linked` event. One INSERT reads the guardian's contact for the
/// event; the composite foreign key rejects another school's student.
pub async fn link_student(
    pool: &Pool,
    origin: Origin,
    l: &NewLink,
) -> Result<LinkRow, ServiceError> {
    platform::db::timed("link_student", async move {
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        let stmt = tx
            .prepare_cached(&format!(
                "WITH g AS (SELECT {GUARDIAN_COLS} FROM guardians g \
                   WHERE g.school_id = $1 AND g.id = $2), \
                 ins AS (INSERT INTO guardian_students \
                   (school_id, guardian_id, student_id, relationship, is_primary) \
                   SELECT $1, g.id, $3::uuid, COALESCE($4::text, g.relationship), $5::boolean FROM g \
                   RETURNING {LINK_COLS}) \
                 SELECT g.*, ins.* FROM g, ins"
            ))
            .await?;
        let row = tx
            .query_opt(
                &stmt,
                &[
                    &origin.school_id,
                    &l.guardian_id,
                    &l.student_id,
                    &l.relationship.map(Relationship::as_str),
                    &l.is_primary,
                ],
            )
            .await
            .map_err(rejected)?
            .ok_or(ServiceError::NotFound("guardian"))?;
        let guardian = GuardianRow::from_row(&row)?;
        let link = LinkRow::from_row(&row, GUARDIAN_COL_COUNT)?;
        let version = bump_link_version(&tx, origin.school_id, &link).await?;
        let event = Payload::GuardianLinked(linked(&guardian, &link, version));
        events::record(
            &tx,
            origin,
            Pending::new(aggregate(guardian.id), "guardian.linked", event),
        )
        .await?;
        tx.commit().await?;
        Ok(link)
    })
    .await
}

/// The pair's next link version (1 when first linked): every link and
/// unlink of a guardian and student bumps it, and the row outlives an
/// unlink, so consumers can order the pair's events.
async fn bump_link_version<C: GenericClient>(
    c: &C,
    school_id: Uuid,
    l: &LinkRow,
) -> Result<i64, ServiceError> {
    let stmt = c
        .prepare_cached(
            "INSERT INTO guardian_link_versions AS v (school_id, guardian_id, student_id, version) \
             VALUES ($1, $2, $3, 1) \
             ON CONFLICT (school_id, guardian_id, student_id) \
             DO UPDATE SET version = v.version + 1 RETURNING version",
        )
        .await?;
    Ok(
        c.query_one(&stmt, &[&school_id, &l.guardian_id, &l.student_id])
            .await?
            .try_get(0)?,
    )
}

/// Removes the link with the `guardian.unlinked` event.
pub async fn unlink_student(
    pool: &Pool,
    origin: Origin,
    guardian_id: Uuid,
    student_id: Uuid,
) -> Result<LinkRow, ServiceError> {
    platform::db::timed("unlink_student", async move {
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        let stmt = tx
            .prepare_cached(&format!(
                "WITH d AS (DELETE FROM guardian_students \
                   WHERE school_id = $1 AND guardian_id = $2 AND student_id = $3 \
                   RETURNING {LINK_COLS}) \
                 SELECT {GUARDIAN_COLS}, d.* FROM d \
                 JOIN guardians g ON g.school_id = $1 AND g.id = d.guardian_id"
            ))
            .await?;
        let row = tx
            .query_opt(&stmt, &[&origin.school_id, &guardian_id, &student_id])
            .await?
            .ok_or(ServiceError::NotFound("guardian link"))?;
        let guardian = GuardianRow::from_row(&row)?;
        let link = LinkRow::from_row(&row, GUARDIAN_COL_COUNT)?;
        let version = bump_link_version(&tx, origin.school_id, &link).await?;
        let event = Payload::GuardianUnlinked(linked(&guardian, &link, version));
        events::record(
            &tx,
            origin,
            Pending::new(aggregate(guardian.id), "guardian.unlinked", event),
        )
        .await?;
        tx.commit().await?;
        Ok(link)
    })
    .await
}
