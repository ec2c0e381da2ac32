//! Tells the gateways that sessions ended (platform::sessions): after the
//! commit that ended them, in the background, with a few retries. The
//! gateways read these keys on every request, so a revocation takes effect
//! within the time it takes to publish (about a millisecond); if Redis stays
//! unreachable, access tokens already issued live out their few minutes
//! (refreshing checks Postgres and is refused at once either way).

use std::time::Duration;

use uuid::Uuid;

/// Attempts per revocation, 200 ms apart.
const ATTEMPTS: u32 = 5;

#[derive(Clone)]
pub struct Revocations {
    redis: Option<fred::prelude::Client>,
}

#[derive(Clone, Copy, Debug)]
enum What {
    Epoch(Uuid, i64),
    /// The user, and its session.
    Ended(Uuid, Uuid),
}

impl Revocations {
    pub fn new(redis: Option<fred::prelude::Client>) -> Self {
        Self { redis }
    }

    /// Every session of the user before `epoch` has ended.
    pub fn epoch(&self, school_id: Uuid, user_id: Uuid, epoch: i64) {
        self.publish(school_id, What::Epoch(user_id, epoch));
    }

    /// One session of the user has ended.
    pub fn ended(&self, school_id: Uuid, user_id: Uuid, session_id: Uuid) {
        self.publish(school_id, What::Ended(user_id, session_id));
    }

    fn publish(&self, school_id: Uuid, what: What) {
        let Some(redis) = self.redis.clone() else {
            tracing::warn!(?what, "no Redis configured: a revocation is not published");
            metrics::counter!("session_revocations_total", "outcome" => "skipped").increment(1);
            return;
        };
        tokio::spawn(async move {
            for attempt in 1..=ATTEMPTS {
                let sent = match what {
                    What::Epoch(user, epoch) => {
                        platform::sessions::publish_epoch(&redis, school_id, user, epoch).await
                    }
                    What::Ended(user, session) => {
                        platform::sessions::publish_ended(&redis, school_id, user, session).await
                    }
                };
                match sent {
                    Ok(()) => {
                        metrics::counter!("session_revocations_total", "outcome" => "published")
                            .increment(1);
                        return;
                    }
                    Err(e) if attempt == ATTEMPTS => {
                        tracing::error!(error = %e, ?what, school.id = %school_id,
                            "revocation not published: issued access tokens live until they expire");
                        metrics::counter!("session_revocations_total", "outcome" => "failed")
                            .increment(1);
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                }
            }
        });
    }
}
