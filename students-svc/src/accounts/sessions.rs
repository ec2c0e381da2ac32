//! Sessions: a sign-in's refresh token, rotated on every use, and the
//! user's session epoch that ends every session at once (ARCHITECTURE.md,
//! "Sessions").
//!
//! A refresh token is `<session id>.<secret>`; only the secret's SHA-256 is
//! kept. Refreshing replaces the secret: a token that names a live session
//! but not its current secret is a spent one presented again (someone else
//! holds a copy), so the session ends.

use base64::Engine;
use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Pool};
use platform::service::ServiceError;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::model::{UserRow, USER_COLS};

/// A session as handed to the gateway.
#[derive(Clone, Debug)]
pub struct Started {
    pub id: Uuid,
    pub refresh_token: String,
    pub expires_at: DateTime<Utc>,
    pub epoch: i64,
    pub must_change_password: bool,
}

/// A fresh secret and its hash.
fn secret() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = Sha256::digest(text.as_bytes()).to_vec();
    (text, hash)
}

/// The session id and the secret's hash of a refresh token; `None` when it
/// is not shaped like one.
pub fn parse_token(token: &str) -> Option<(Uuid, Vec<u8>)> {
    let (id, secret) = token.split_once('.')?;
    if secret.len() != 43
        || !secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return None;
    }
    Some((
        Uuid::parse_str(id).ok()?,
        Sha256::digest(secret.as_bytes()).to_vec(),
    ))
}

/// Starts a session of `user` under its current `epoch`, and prunes a few
/// sessions that expired a day ago.
pub async fn start<C: GenericClient>(
    c: &C,
    user: &UserRow,
    epoch: i64,
    must_change_password: bool,
    lifetime: std::time::Duration,
) -> Result<Started, ServiceError> {
    let (text, hash) = secret();
    let id = Uuid::now_v7();
    let secs = lifetime.as_secs_f64();
    let (insert, prune) = futures::try_join!(
        c.prepare_cached(
            "INSERT INTO sessions (id, school_id, user_id, secret_hash, epoch, expires_at) \
             VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6)) RETURNING expires_at",
        ),
        c.prepare_cached(
            "DELETE FROM sessions WHERE ctid = ANY(ARRAY( \
               SELECT ctid FROM sessions WHERE expires_at < now() - interval '1 day' LIMIT 20))",
        ),
    )?;
    let row = c
        .query_one(
            &insert,
            &[&id, &user.school_id, &user.id, &hash, &epoch, &secs],
        )
        .await?;
    c.execute(&prune, &[]).await?;
    Ok(Started {
        id,
        refresh_token: format!("{id}.{text}"),
        expires_at: row.try_get(0)?,
        epoch,
        must_change_password,
    })
}

/// What a refresh token came to.
pub enum Refreshed {
    /// The next token of the session, and the user as they are now.
    Renewed(UserRow, Started),
    /// No live session: unknown, expired, ended, or its user may no longer
    /// sign in (archived, deactivated, a newer epoch).
    Refused,
    /// A spent token came back: the session has just ended.
    Reused {
        school_id: Uuid,
        user_id: Uuid,
        session_id: Uuid,
    },
}

pub async fn refresh(pool: &Pool, token: &str) -> Result<Refreshed, ServiceError> {
    let Some((id, presented)) = parse_token(token) else {
        return Ok(Refreshed::Refused);
    };
    platform::db::timed("refresh_session", async move {
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        let cols = USER_COLS
            .split(", ")
            .map(|c| format!("u.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let read = tx
            .prepare_cached(&format!(
                "SELECT {cols}, s.secret_hash, \
                   s.ended_at IS NULL AND s.expires_at > now() AND s.epoch = u.session_epoch \
                     AND u.active AND (u.student_id IS NULL OR st.archived_at IS NULL), \
                   s.epoch, u.must_change_password, s.expires_at \
                 FROM sessions s JOIN users u ON u.id = s.user_id AND u.school_id = s.school_id \
                 LEFT JOIN students st ON st.id = u.student_id AND st.school_id = u.school_id \
                 WHERE s.id = $1 FOR UPDATE OF s"
            ))
            .await?;
        let Some(row) = tx.query_opt(&read, &[&id]).await? else {
            return Ok(Refreshed::Refused);
        };
        let user = UserRow::from_row(&row)?;
        let current: Vec<u8> = row.try_get(7)?;
        let live: bool = row.try_get(8)?;
        if !live {
            return Ok(Refreshed::Refused);
        }
        if current != presented {
            let end = tx
                .prepare_cached(
                    "UPDATE sessions SET ended_at = now(), end_reason = 'reuse' WHERE id = $1",
                )
                .await?;
            tx.execute(&end, &[&id]).await?;
            tx.commit().await?;
            tracing::warn!(session.id = %id, user.id = %user.id, "a spent refresh token was presented again; session ended");
            return Ok(Refreshed::Reused {
                school_id: user.school_id,
                user_id: user.id,
                session_id: id,
            });
        }
        let (text, hash) = secret();
        let rotate = tx
            .prepare_cached(
                "UPDATE sessions SET secret_hash = $2, refreshed_at = now() WHERE id = $1",
            )
            .await?;
        tx.execute(&rotate, &[&id, &hash]).await?;
        tx.commit().await?;
        let started = Started {
            id,
            refresh_token: format!("{id}.{text}"),
            expires_at: row.try_get(11)?,
            epoch: row.try_get(9)?,
            must_change_password: row.try_get(10)?,
        };
        Ok(Refreshed::Renewed(user, started))
    })
    .await
}

/// Ends one session of the user; whether it was live.
pub async fn end(
    pool: &Pool,
    school_id: Uuid,
    user_id: Uuid,
    session_id: Uuid,
) -> Result<bool, ServiceError> {
    platform::db::timed("end_session", async move {
        let client = pool.get().await?;
        let stmt = client
            .prepare_cached(
                "UPDATE sessions SET ended_at = now(), end_reason = 'logout' \
                 WHERE id = $1 AND school_id = $2 AND user_id = $3 AND ended_at IS NULL",
            )
            .await?;
        Ok(client
            .execute(&stmt, &[&session_id, &school_id, &user_id])
            .await?
            == 1)
    })
    .await
}

/// Ends every session of the user (a new epoch); the new epoch, or `None`
/// when the user does not exist.
pub async fn bump_epoch<C: GenericClient>(
    c: &C,
    school_id: Uuid,
    user_id: Uuid,
) -> Result<Option<i64>, ServiceError> {
    let stmt = c
        .prepare_cached(
            "UPDATE users SET session_epoch = session_epoch + 1 \
             WHERE school_id = $1 AND id = $2 RETURNING session_epoch",
        )
        .await?;
    c.query_opt(&stmt, &[&school_id, &user_id])
        .await?
        .map(|r| r.try_get(0))
        .transpose()
        .map_err(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_parse_and_nothing_else_does() {
        let (text, hash) = secret();
        let id = Uuid::now_v7();
        assert_eq!(parse_token(&format!("{id}.{text}")), Some((id, hash)));
        for bad in [
            String::new(),
            text.clone(),
            format!("{id}"),
            format!("{id}."),
            format!("not-a-uuid.{text}"),
            format!("{id}.{text}x"),
            format!("{id}.{}", "é".repeat(43)),
        ] {
            assert_eq!(parse_token(&bad), None, "{bad}");
        }
    }
}
