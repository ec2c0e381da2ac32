//! argon2id hashing, off the async workers: a hash costs tens of
//! milliseconds of CPU and must not stall them.

use std::{
    cell::RefCell,
    sync::{mpsc, Arc, LazyLock, Mutex},
};

use anyhow::Context;
use rand_core::OsRng;
use tokio::sync::oneshot;

use argon2::{
    password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString},
    Algorithm, Argon2, Block, Params, Version,
};
use platform::service::ServiceError;

type Job = Box<dyn FnOnce() + Send>;

/// Hashes waiting for a thread, per thread; beyond that a login answers
/// RESOURCE_EXHAUSTED (429) at once instead of queueing past its deadline.
const QUEUE_PER_THREAD: usize = 32;

/// A few dedicated threads for argon2. Each hash holds ~19 MiB while it runs;
/// on tokio's blocking pool hashes rotate over many threads and the allocator
/// keeps that memory per thread (32 parallel logins grew the service to
/// 2.6 GiB RSS). Half the cores, so a login flood leaves CPU for reads and
/// writes; memory stays bounded and the queue is bounded too.
static POOL: LazyLock<mpsc::SyncSender<Job>> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let threads = (cores / 2).max(1);
    let (tx, rx) = mpsc::sync_channel::<Job>(threads * QUEUE_PER_THREAD);
    let rx = Arc::new(Mutex::new(rx));
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
        // The caller gave up (deadline, disconnect): spend nothing on it.
        if !tx.is_closed() {
            let _ = tx.send(work());
        }
    });
    POOL.try_send(job).map_err(|e| match e {
        mpsc::TrySendError::Full(_) => {
            ServiceError::Busy("too many sign-ins in progress; retry shortly")
        }
        mpsc::TrySendError::Disconnected(_) => {
            ServiceError::Internal(anyhow::anyhow!("password pool stopped"))
        }
    })?;
    rx.await
        .context("password task failed")?
        .map_err(ServiceError::Internal)
}

thread_local! {
    /// argon2's working memory, kept per hashing thread and reused: freshly
    /// allocating ~19 MiB per hash left the allocator holding arenas full of
    /// them (300+ MiB RSS after 20 logins).
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

fn raw_hash(
    argon: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> anyhow::Result<()> {
    BLOCKS.with_borrow_mut(|blocks| {
        let n = argon.params().block_count();
        if blocks.len() < n {
            blocks.resize(n, Block::default());
        }
        argon
            .hash_password_into_with_memory(password, salt, out, &mut blocks[..n])
            .map_err(|e| anyhow::anyhow!("argon2: {e}"))
    })
}

fn salt_bytes<'b>(salt: Salt<'_>, buf: &'b mut [u8; 64]) -> anyhow::Result<&'b [u8]> {
    salt.decode_b64(buf)
        .map_err(|e| anyhow::anyhow!("salt: {e}"))
}

/// A PHC string (`$argon2id$v=19$m=…`) for a new password.
pub async fn hash(password: String) -> Result<String, ServiceError> {
    on_hash_pool(move || {
        let salt = SaltString::generate(&mut OsRng);
        let argon = Argon2::default();
        let mut buf = [0u8; 64];
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        raw_hash(
            &argon,
            password.as_bytes(),
            salt_bytes(salt.as_salt(), &mut buf)?,
            &mut out,
        )?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(argon.params()).map_err(|e| anyhow::anyhow!("{e}"))?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("{e}"))?),
        };
        Ok(phc.to_string())
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
        let err = |e: argon2::password_hash::Error| anyhow::anyhow!("stored hash: {e}");
        let parsed = PasswordHash::new(&hash).map_err(err)?;
        let version = parsed
            .version
            .map(Version::try_from)
            .transpose()
            .map_err(|e| anyhow::anyhow!("stored hash: {e}"))?
            .unwrap_or_default();
        let argon = Argon2::new(
            Algorithm::try_from(parsed.algorithm).map_err(err)?,
            version,
            Params::try_from(&parsed).map_err(err)?,
        );
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            anyhow::bail!("stored hash lacks salt or output");
        };
        let mut buf = [0u8; 64];
        let mut out = vec![0u8; expected.len()];
        raw_hash(
            &argon,
            password.as_bytes(),
            salt_bytes(salt, &mut buf)?,
            &mut out,
        )?;
        // Output's equality is constant-time.
        let matches = Output::new(&out).map_err(err)? == expected;
        Ok(matches && real)
    })
    .await
}

/// argon2id (default parameters) of a random string nobody knows.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$J6GDlB8VzFXeAj0qHf6ArcT7qmpJ1f0ZOUoO3y6y2xY";

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_users_never_match() {
        let h = hash("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery".into(), Some(h.clone()))
            .await
            .unwrap());
        assert!(!verify("wrong horse battery".into(), Some(h)).await.unwrap());
        assert!(!verify("anything at all".into(), None).await.unwrap());
    }

    #[tokio::test]
    async fn interoperates_with_the_standard_phc_implementation() {
        let ours = hash("correct horse battery".into()).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse battery", &parsed)
            .is_ok());
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"another fine password", &salt)
            .unwrap()
            .to_string();
        assert!(verify("another fine password".into(), Some(theirs.clone()))
            .await
            .unwrap());
        assert!(!verify("another fine passwort".into(), Some(theirs))
            .await
            .unwrap());
    }
}
