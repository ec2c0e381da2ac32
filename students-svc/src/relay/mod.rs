//! The outbox relay: publishes committed events from the `outbox` table to
//! Redis Streams, one stream per school (`ev:{school:<id>}`, hash-tagged so a
//! stream lives in its school's cluster slot), then marks them published.
//!
//! One step, in one transaction:
//! 1. take a per-school advisory lock for the schools with the oldest
//!    pending rows (`pg_try_advisory_xact_lock`): several relay replicas
//!    share the work, but one school is only ever published by one relay at
//!    a time, which keeps each school's stream in commit order;
//! 2. read those schools' pending rows in id order (`FOR UPDATE SKIP LOCKED`);
//! 3. append each school's rows with one atomic script call (EVALSHA);
//! 4. stamp `published_at` and commit.
//!
//! Before a school's first publish, and again every `register_every`, its
//! stream key is added to the registry set ([`STREAM_REGISTRY`], SADD), so
//! consumers find every stream without KEYS/SCAN. Registering again after
//! a while heals a registry that a Redis failover lost.
//!
//! A crash or a Redis failure between 3 and 4 rolls the transaction back, so
//! the rows are published again: consumers see a duplicate (same event id),
//! never a gap. While Redis is away the outbox grows; it drains when Redis
//! returns. Published rows are deleted after the retention period.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    future::Future,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use fred::{
    prelude::*,
    types::{scripts::Script, Value},
};
use tracing::Instrument;
use uuid::Uuid;

/// Namespace of the relay's advisory locks (`pg_try_advisory_xact_lock(ns, key)`).
const LOCK_NAMESPACE: i32 = 0x5348_4f42; // "SHOB"

pub use platform::events::{stream_key, STREAM_REGISTRY};

#[derive(Clone, Copy, Debug)]
pub struct RelaySettings {
    /// Most rows published per step.
    pub batch: usize,
    /// Pause after a step that found less than a full batch.
    pub poll: Duration,
    /// Published rows older than this are deleted.
    pub retention: Duration,
    /// Approximate length each school's stream is trimmed to.
    pub stream_maxlen: u64,
    /// A school's stream is registered again after this long.
    pub register_every: Duration,
}

impl Default for RelaySettings {
    fn default() -> Self {
        Self {
            batch: 500,
            poll: Duration::from_millis(20),
            retention: Duration::from_secs(3 * 24 * 3600),
            stream_maxlen: 100_000,
            register_every: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("database: {0}")]
    Database(#[from] tokio_postgres::Error),
    #[error("database pool: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error("redis: {0}")]
    Redis(#[from] fred::error::Error),
    #[error("interrupted: {0}")]
    Interrupted(anyhow::Error),
}

struct Row {
    id: i64,
    school_id: Uuid,
    event_id: Uuid,
    event_type: String,
    payload: Vec<u8>,
    created_at: DateTime<Utc>,
}

#[derive(Clone)]
pub struct Relay {
    pool: Pool,
    redis: Client,
    script: Script,
    settings: RelaySettings,
    /// When each school's stream was last registered by this process.
    registered: Arc<Mutex<HashMap<Uuid, Instant>>>,
}

impl Relay {
    pub fn new(pool: Pool, redis: Client, settings: RelaySettings) -> Self {
        Self {
            pool,
            redis,
            script: Script::from_lua(include_str!("publish.lua")),
            settings,
            registered: Arc::default(),
        }
    }

    /// Publishes up to one batch; returns how many events were published.
    pub async fn step(&self) -> Result<usize, RelayError> {
        self.step_with(|| async { Ok(()) }).await
    }

    /// [`Self::step`] with `between` run after publishing and before marking:
    /// an error there aborts the step as a crash at that point would (tests
    /// use it to prove a duplicate, never a loss).
    pub async fn step_with<F, Fut>(&self, between: F) -> Result<usize, RelayError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = anyhow::Result<()>>,
    {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let claim = tx
            .prepare_cached(
                "SELECT school_id FROM ( \
                   SELECT DISTINCT school_id FROM ( \
                     SELECT school_id FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1 \
                   ) oldest \
                 ) schools \
                 WHERE pg_try_advisory_xact_lock($2, hashtext(school_id::text))",
            )
            .await?;
        let batch = i64::try_from(self.settings.batch).unwrap_or(i64::MAX);
        let schools: Vec<Uuid> = tx
            .query(&claim, &[&batch, &LOCK_NAMESPACE])
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        if schools.is_empty() {
            return Ok(0);
        }
        let fetch = tx
            .prepare_cached(
                "SELECT id, school_id, event_id, event_type, payload, created_at FROM outbox \
                 WHERE published_at IS NULL AND school_id = ANY($1) \
                 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED",
            )
            .await?;
        let rows = tx
            .query(&fetch, &[&schools, &batch])
            .await?
            .iter()
            .map(|r| {
                Ok(Row {
                    id: r.try_get(0)?,
                    school_id: r.try_get(1)?,
                    event_id: r.try_get(2)?,
                    event_type: r.try_get(3)?,
                    payload: r.try_get(4)?,
                    created_at: r.try_get(5)?,
                })
            })
            .collect::<Result<Vec<_>, tokio_postgres::Error>>()?;
        if rows.is_empty() {
            return Ok(0);
        }
        self.publish(&rows).await?;
        between().await.map_err(RelayError::Interrupted)?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mark = tx
            .prepare_cached("UPDATE outbox SET published_at = now() WHERE id = ANY($1)")
            .await?;
        tx.execute(&mark, &[&ids]).await?;
        tx.commit().await?;
        let now = Utc::now();
        for r in &rows {
            let lag = (now - r.created_at).to_std().unwrap_or_default();
            metrics::histogram!("outbox_publish_lag_seconds").record(lag.as_secs_f64());
        }
        metrics::counter!("outbox_events_published_total").increment(rows.len() as u64);
        Ok(rows.len())
    }

    /// SADDs the streams of `schools` not registered within
    /// `register_every`, in one call, before anything is appended to them.
    async fn register(&self, schools: impl Iterator<Item = Uuid>) -> Result<(), RelayError> {
        let now = Instant::now();
        let due: Vec<Uuid> = {
            let seen = self.registered.lock().unwrap_or_else(|p| p.into_inner());
            schools
                .filter(|s| {
                    seen.get(s)
                        .is_none_or(|at| now.duration_since(*at) >= self.settings.register_every)
                })
                .collect()
        };
        if due.is_empty() {
            return Ok(());
        }
        let keys: Vec<String> = due.iter().map(|s| stream_key(*s)).collect();
        self.redis.sadd::<i64, _, _>(STREAM_REGISTRY, keys).await?;
        let mut seen = self.registered.lock().unwrap_or_else(|p| p.into_inner());
        for s in due {
            seen.insert(s, now);
        }
        Ok(())
    }

    /// One script call per school, concurrently; each is atomic and ordered.
    async fn publish(&self, rows: &[Row]) -> Result<(), RelayError> {
        let schools: BTreeSet<Uuid> = rows.iter().map(|r| r.school_id).collect();
        self.register(schools.into_iter()).await?;
        let mut by_school: BTreeMap<Uuid, Vec<Value>> = BTreeMap::new();
        for r in rows {
            let args = by_school
                .entry(r.school_id)
                .or_insert_with(|| vec![Value::from(self.settings.stream_maxlen as i64)]);
            args.push(Value::from(r.event_id.to_string()));
            args.push(Value::from(r.event_type.as_str()));
            args.push(Value::Bytes(r.payload.clone().into()));
        }
        let calls = by_school.into_iter().map(|(school, args)| async move {
            self.script
                .evalsha_with_reload::<i64, _, _>(&self.redis, stream_key(school), args)
                .await
        });
        futures::future::try_join_all(calls)
            .instrument(tracing::info_span!(
                "redis",
                db.operation = "publish_events"
            ))
            .await?;
        Ok(())
    }

    /// Deletes published rows older than the retention period, a bounded
    /// number per call; returns how many.
    pub async fn prune(&self) -> Result<u64, RelayError> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached(
                "DELETE FROM outbox WHERE id IN ( \
                   SELECT id FROM outbox WHERE published_at < now() - make_interval(secs => $1) \
                   ORDER BY published_at LIMIT 10000)",
            )
            .await?;
        let retention = self.settings.retention.as_secs_f64();
        Ok(client.execute(&stmt, &[&retention]).await?)
    }

    /// Pending rows and the age of the oldest, for the backlog gauges.
    pub async fn backlog(&self) -> Result<(i64, f64), RelayError> {
        let client = self.pool.get().await?;
        let row = client
            .query_one(
                "SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min(created_at))::float8, 0) \
                 FROM outbox WHERE published_at IS NULL",
                &[],
            )
            .await?;
        Ok((row.try_get(0)?, row.try_get(1)?))
    }

    /// Runs until `shutdown` resolves; a step in progress is finished first.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        const HOUSEKEEPING: Duration = Duration::from_secs(5);
        // Exported at zero from the start, so alerts on an increase see it.
        metrics::counter!("outbox_publish_failures_total").increment(0);
        tokio::pin!(shutdown);
        let mut backoff = self.settings.poll;
        let mut next_housekeeping = tokio::time::Instant::now();
        loop {
            let pause = match self.step().await {
                Ok(n) if n >= self.settings.batch => Duration::ZERO,
                Ok(_) => {
                    backoff = self.settings.poll;
                    self.settings.poll
                }
                Err(e) => {
                    metrics::counter!("outbox_publish_failures_total").increment(1);
                    tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "outbox relay step failed");
                    let pause = backoff;
                    backoff =
                        (backoff * 2).clamp(Duration::from_millis(50), Duration::from_secs(2));
                    pause
                }
            };
            if tokio::time::Instant::now() >= next_housekeeping {
                next_housekeeping += HOUSEKEEPING;
                self.housekeeping().await;
            }
            tokio::select! {
                () = &mut shutdown => break,
                () = tokio::time::sleep(pause) => {}
            }
        }
        tracing::info!("outbox relay stopped");
    }

    async fn housekeeping(&self) {
        match self.prune().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(outbox.pruned = n, "pruned published outbox rows"),
            Err(e) => tracing::warn!(error = %e, "outbox pruning failed"),
        }
        match self.backlog().await {
            Ok((pending, oldest)) => {
                metrics::gauge!("outbox_pending_events").set(pending as f64);
                metrics::gauge!("outbox_oldest_pending_seconds").set(oldest);
            }
            Err(e) => tracing::warn!(error = %e, "outbox backlog query failed"),
        }
    }
}
