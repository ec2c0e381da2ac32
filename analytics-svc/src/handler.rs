//! What analytics-svc does with each domain event, on the consumer's
//! transaction (the inbox row is already there): apply it to the read
//! models ([`crate::projection`]). After the commit, the school's dashboard
//! generation is bumped, so the gateway's cached dashboards miss on their
//! next read and show the change.

use deadpool_postgres::Transaction;
use platform::{
    cache::dashboards_generation,
    events::{Event, Handler},
};
use proto::events::v1::event::Payload;
use uuid::Uuid;

use crate::{
    domain::{id, Risk, Thresholds},
    projection,
};

#[derive(Clone)]
pub struct AnalyticsHandler {
    thresholds: Thresholds,
    /// Where the gateway's cache generations live; `None`: nothing to bump.
    cache: Option<fred::prelude::Client>,
}

impl AnalyticsHandler {
    pub fn new(thresholds: Thresholds, redis: Option<fred::prelude::Client>) -> Self {
        Self {
            thresholds,
            cache: redis,
        }
    }

    pub fn thresholds(&self) -> &Thresholds {
        &self.thresholds
    }
}

/// Bumps `school`'s dashboard generation (`c:{school:<id>}:g:dashboards`,
/// [`platform::cache`]). A failure is logged and counted, not retried: the
/// cached answers then live at most their TTL.
pub async fn bump(redis: &fred::prelude::Client, school: Uuid) {
    if let Err(e) = platform::cache::bump(redis, vec![dashboards_generation(school)]).await {
        tracing::warn!(error = %e, school.id = %school, "dashboard generation bump failed");
        metrics::counter!("analytics_generation_bump_failures_total").increment(1);
    }
}

impl Handler for AnalyticsHandler {
    async fn apply(&self, tx: &Transaction<'_>, event: &Event) -> anyhow::Result<()> {
        let school = id("school_id", &event.school_id)?;
        projection::apply(tx, school, event, &Risk::judging(self.thresholds)).await
    }

    /// Marks commute with every other event (newest revision wins per mark,
    /// counters move by deltas), so a read's marks go together.
    fn together(&self, event: &Event) -> bool {
        matches!(
            event.payload,
            Some(Payload::AttendanceMarked(_) | Payload::AttendanceOverridden(_))
        )
    }

    async fn apply_together(&self, tx: &Transaction<'_>, events: &[&Event]) -> anyhow::Result<()> {
        let Some(first) = events.first() else {
            return Ok(());
        };
        // One read is one school's stream, so one school.
        let school = id("school_id", &first.school_id)?;
        if events.iter().any(|e| e.school_id != first.school_id) {
            anyhow::bail!("events of several schools in one read");
        }
        projection::apply_together(tx, school, events, &Risk::judging(self.thresholds)).await
    }

    async fn committed(&self, school: Uuid) {
        if let Some(redis) = &self.cache {
            bump(redis, school).await;
        }
    }
}
