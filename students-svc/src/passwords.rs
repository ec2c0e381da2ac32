//! argon2id hashing, run on the blocking pool: a hash costs tens of
//! milliseconds of CPU and must not stall the async workers.

use std::sync::LazyLock;

use anyhow::Context;
use rand_core::OsRng;
use tokio::sync::Semaphore;

use crate::error::ServiceError;
use argon2::{
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};

/// Each hash holds ~19 MiB for its duration. Bounding concurrent hashes to
/// the core count keeps memory flat under a login flood (unbounded, 64
/// parallel logins grew the service to ~700 MiB RSS) and leaves the blocking
/// pool to everything else.
static PERMITS: LazyLock<Semaphore> = LazyLock::new(|| {
    Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZero::get))
});

async fn on_blocking_pool<T: Send + 'static>(
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> Result<T, ServiceError> {
    let _permit = PERMITS.acquire().await.context("password permits closed")?;
    tokio::task::spawn_blocking(work)
        .await
        .context("password task failed")?
        .map_err(ServiceError::Internal)
}

pub async fn hash(password: String) -> Result<String, ServiceError> {
    on_blocking_pool(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("argon2: {e}"))
    })
    .await
}

/// Verifies `password` against `stored`. With no stored hash (unknown user)
/// a dummy hash is still verified, so timing does not reveal which e-mail
/// addresses have accounts.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, ServiceError> {
    on_blocking_pool(move || {
        let (hash, real) = match stored {
            Some(h) => (h, true),
            None => (DUMMY_HASH.to_owned(), false),
        };
        let parsed = PasswordHash::new(&hash).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(ok && real)
    })
    .await
}

/// argon2id (default parameters) of a random string nobody knows.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$J6GDlB8VzFXeAj0qHf6ArcT7qmpJ1f0ZOUoO3y6y2xY";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_users_never_match() {
        let h = hash("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery".into(), Some(h.clone()))
            .await
            .unwrap());
        assert!(!verify("wrong horse battery".into(), Some(h)).await.unwrap());
        assert!(!verify("anything at all".into(), None).await.unwrap());
    }
}
