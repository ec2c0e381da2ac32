//! argon2id hashing, off the async workers: a hash costs tens of
//! milliseconds of CPU and must not stall them.

use std::sync::{mpsc, Arc, LazyLock, Mutex};

use anyhow::Context;
use rand_core::OsRng;
use tokio::sync::oneshot;

use crate::error::ServiceError;
use argon2::{
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};

type Job = Box<dyn FnOnce() + Send>;

/// A few dedicated threads for argon2. Each hash holds ~19 MiB while it runs;
/// on tokio's blocking pool hashes rotate over many threads and the allocator
/// keeps that memory per thread (32 parallel logins grew the service to
/// 2.6 GiB RSS). A fixed pool sized to the cores bounds both memory and the
/// CPU a login flood can take; excess hashes queue.
static POOL: LazyLock<mpsc::Sender<Job>> = LazyLock::new(|| {
    let (tx, rx) = mpsc::channel::<Job>();
    let rx = Arc::new(Mutex::new(rx));
    let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    for i in 0..threads {
        let rx = Arc::clone(&rx);
        let spawned = std::thread::Builder::new()
            .name(format!("argon2-{i}"))
            .spawn(move || loop {
                let job = match rx.lock() {
                    Ok(guard) => guard.recv(),
                    Err(_) => return,
                };
                match job {
                    Ok(job) => job(),
                    Err(_) => return,
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start a password hashing thread");
        }
    }
    tx
});

async fn on_hash_pool<T: Send + 'static>(
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> Result<T, ServiceError> {
    let (tx, rx) = oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = tx.send(work());
    });
    POOL.send(job)
        .map_err(|_| anyhow::anyhow!("password pool stopped"))?;
    rx.await
        .context("password task failed")?
        .map_err(ServiceError::Internal)
}

pub async fn hash(password: String) -> Result<String, ServiceError> {
    on_hash_pool(move || {
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
    on_hash_pool(move || {
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
