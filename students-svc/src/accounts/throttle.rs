//! students-svc's own login throttle: the gateway limits sign-ins per
//! client, but a caller inside the network reaches `AuthService/Login`
//! directly. Here each account (school slug and e-mail, as typed, whether or
//! not it exists) gets `max_failures` failed sign-ins within `lock`; then it
//! is locked for `lock` (RESOURCE_EXHAUSTED with the time left, the
//! gateway's 429 and `Retry-After`), correct password or not, and without
//! spending a hash on the attempt. A success forgets the failures.
//!
//! The count lives in Postgres, so replicas share it.

use std::time::Duration;

use deadpool_postgres::Pool;
use platform::service::ServiceError;
use sha2::{Digest, Sha256};

#[derive(Clone, Copy, Debug)]
pub struct Throttle {
    pub max_failures: i32,
    pub lock: Duration,
}

/// The account's key: a hash of the normalised slug and e-mail.
pub fn login_key(slug: &str, email: &str) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(slug.trim().to_lowercase().as_bytes());
    h.update(b"\n");
    h.update(email.trim().to_lowercase().as_bytes());
    h.finalize().to_vec()
}

/// How long the account stays locked, if it is.
pub async fn locked(pool: &Pool, login: &[u8]) -> Result<Option<Duration>, ServiceError> {
    platform::db::timed("login_locked", async move {
        let client = pool.get().await?;
        let stmt = client
            .prepare_cached(
                "SELECT extract(epoch FROM locked_until - now())::float8 FROM login_failures \
                 WHERE login = $1 AND locked_until > now()",
            )
            .await?;
        let left = client.query_opt(&stmt, &[&login]).await?;
        Ok(left
            .map(|r| r.try_get::<_, f64>(0))
            .transpose()?
            .map(|s| Duration::from_secs_f64(s.max(1.0).ceil())))
    })
    .await
}

/// Counts a failed sign-in (a new window when the last one is over) and
/// locks the account when it reaches the limit. Prunes a few stale rows.
pub async fn failed(pool: &Pool, login: &[u8], t: Throttle) -> Result<(), ServiceError> {
    platform::db::timed("login_failed", async move {
        let client = pool.get().await?;
        let (count, prune) = futures::try_join!(
            client.prepare_cached(
                "INSERT INTO login_failures AS f (login, failures, window_start, locked_until) \
                 VALUES ($1, 1, now(), CASE WHEN $3 <= 1 THEN now() + make_interval(secs => $2) END) \
                 ON CONFLICT (login) DO UPDATE SET \
                   failures = CASE WHEN f.window_start < now() - make_interval(secs => $2) \
                                   THEN 1 ELSE f.failures + 1 END, \
                   window_start = CASE WHEN f.window_start < now() - make_interval(secs => $2) \
                                       THEN now() ELSE f.window_start END, \
                   locked_until = CASE WHEN (CASE WHEN f.window_start < now() - make_interval(secs => $2) \
                                                  THEN 1 ELSE f.failures + 1 END) >= $3 \
                                       THEN now() + make_interval(secs => $2) \
                                       ELSE f.locked_until END",
            ),
            client.prepare_cached(
                "DELETE FROM login_failures WHERE ctid = ANY(ARRAY( \
                   SELECT ctid FROM login_failures \
                   WHERE window_start < now() - 2 * make_interval(secs => $1) \
                     AND (locked_until IS NULL OR locked_until < now()) \
                   LIMIT 20))",
            ),
        )?;
        let secs = t.lock.as_secs_f64();
        client
            .execute(&count, &[&login, &secs, &t.max_failures])
            .await?;
        client.execute(&prune, &[&secs]).await?;
        Ok(())
    })
    .await
}

/// Forgets the account's failures after a successful sign-in.
pub async fn succeeded(pool: &Pool, login: &[u8]) -> Result<(), ServiceError> {
    platform::db::timed("login_succeeded", async move {
        let client = pool.get().await?;
        let stmt = client
            .prepare_cached("DELETE FROM login_failures WHERE login = $1")
            .await?;
        client.execute(&stmt, &[&login]).await?;
        Ok(())
    })
    .await
}
