//! Waiting in tests for something that happens in the background (a relay,
//! a consumer, a cache entry expiring): one polling loop, with the panic
//! naming what never happened.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// How often [`eventually`] runs its check.
pub const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// What an [`eventually`] check yields: `true` or `Some(value)` once it
/// holds, `false` or `None` while it does not yet.
pub trait Outcome {
    /// What [`eventually`] returns: `()` for `bool`, `T` for `Option<T>`.
    type Value;
    fn ready(self) -> Option<Self::Value>;
}

impl Outcome for bool {
    type Value = ();
    fn ready(self) -> Option<()> {
        self.then_some(())
    }
}

impl<T> Outcome for Option<T> {
    type Value = T;
    fn ready(self) -> Option<T> {
        self
    }
}

/// Runs `check` every [`POLL_INTERVAL`] until it yields `true` (returns `()`)
/// or `Some(value)` (returns the value); panics with "timed out after …
/// waiting for {what}" once `timeout` has passed without it. The check runs
/// at least once, and a last time at the deadline.
///
/// ```ignore
/// eventually("the outbox to drain", Duration::from_secs(10), || async {
///     app.count("outbox").await == 0
/// })
/// .await;
/// let row = eventually("the job row", WAIT, || async { find(&db, id).await }).await;
/// ```
pub async fn eventually<F, Fut>(
    what: &str,
    timeout: Duration,
    mut check: F,
) -> <Fut::Output as Outcome>::Value
where
    F: FnMut() -> Fut,
    Fut: Future,
    Fut::Output: Outcome,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await.ready() {
            return value;
        }
        let now = Instant::now();
        if now >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(POLL_INTERVAL.min(deadline - now)).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn returns_once_the_check_holds() {
        let calls = AtomicUsize::new(0);
        eventually("the third call", Duration::from_secs(5), || async {
            calls.fetch_add(1, Ordering::SeqCst) == 2
        })
        .await;
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn returns_the_value_of_some() {
        let calls = AtomicUsize::new(0);
        let n = eventually("a value", Duration::from_secs(5), || async {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            (n >= 1).then_some(n * 10)
        })
        .await;
        assert_eq!(n, 10);
    }

    #[tokio::test]
    #[should_panic(expected = "waiting for nothing at all")]
    async fn panics_naming_what_never_happened() {
        eventually("nothing at all", Duration::from_millis(50), || async {
            None::<()>
        })
        .await;
    }
}
