//! A consumer-group consumer of every school's event stream.
//!
//! Each step:
//! 1. **discover** (every `discover_every`): SMEMBERS of the stream registry,
//!    `XGROUP CREATE <stream> <group> 0 MKSTREAM` for streams new to this
//!    process (BUSYGROUP is fine: another replica made it), and the pending
//!    gauge;
//! 2. **reclaim** (every `claim_idle / 2`): XAUTOCLAIM per stream of entries
//!    idle longer than `claim_idle` (their consumer crashed or failed them),
//!    with their delivery counts from XPENDING;
//! 3. **read** new entries with XREADGROUP, one call per cluster slot (all
//!    keys of a call share a slot). When one call covers every stream
//!    (standalone Redis) it BLOCKs up to `block`; otherwise the calls run
//!    concurrently without BLOCK and an empty round waits `block`;
//! 4. **apply** each entry: decode, then in ONE Postgres transaction insert
//!    its event id into `processed_events` (a duplicate is a no-op) and run
//!    the [`Handler`]; commit, then XACK. A read of several fresh entries of
//!    one stream is applied the same way in one transaction for all of them
//!    (one commit, one XACK), falling back to entry by entry when any is
//!    redelivered, undecodable or fails. A handler error rolls back and
//!    leaves the entry pending, so it is reclaimed and retried; on delivery
//!    `max_deliveries + 1`, or at once when undecodable, it goes to the
//!    dead-letter stream instead.
//!
//! A crash between commit and XACK redelivers the entry after `claim_idle`;
//! the inbox row makes that a duplicate. Entries of one school apply in
//! stream order, except that a failed entry retries after later ones.
//!
//! The consumer owns its Redis client: a blocking XREADGROUP holds its
//! connection, which must not stall anybody else's commands.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    future::Future,
    sync::{
        atomic::{AtomicBool, Ordering},
        Mutex,
    },
    time::{Duration, SystemTime},
};

use anyhow::Context as _;
use deadpool_postgres::Pool;
use fred::{prelude::*, types::Value};
use tokio::time::Instant;
use tracing::Instrument;
use uuid::Uuid;

use super::{
    dlq::{DeadLetters, Letter, Reason},
    entry::{self, Entry},
    keys::{school_of, STREAM_REGISTRY},
    Event, Handler,
};
use crate::redis::RedisSettings;

#[derive(Clone, Debug)]
pub struct ConsumerSettings {
    /// The consumer group: one per service (`notify`, `analytics`).
    pub group: String,
    /// This replica's name in the group (pod name).
    pub consumer: String,
    /// Most entries read per stream per call.
    pub batch: usize,
    /// Longest wait for new entries in one read.
    pub block: Duration,
    /// An entry pending this long (its consumer died or failed it) is
    /// reclaimed and delivered again.
    pub claim_idle: Duration,
    /// Deliveries an entry gets before it is dead-lettered.
    pub max_deliveries: u64,
    /// How often the stream registry is read for new schools.
    pub discover_every: Duration,
    /// The set naming the streams to consume: the relay's
    /// [`STREAM_REGISTRY`] (tests use one of their own).
    pub registry: String,
}

impl ConsumerSettings {
    /// This replica's consumer name: the configured one, else the pod's
    /// `HOSTNAME`, else `<service>-<random>`. Never empty and never shared by
    /// two unnamed processes, which would otherwise claim each other's
    /// pending entries as their own.
    pub fn replica_name(configured: Option<&str>, service: &str) -> String {
        configured
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()))
            .unwrap_or_else(|| format!("{service}-{}", uuid::Uuid::new_v4().simple()))
    }

    pub fn new(group: impl Into<String>, consumer: impl Into<String>) -> Self {
        Self {
            group: group.into(),
            consumer: consumer.into(),
            batch: 100,
            block: Duration::from_millis(1000),
            claim_idle: Duration::from_secs(30),
            max_deliveries: 5,
            discover_every: Duration::from_secs(5),
            registry: STREAM_REGISTRY.to_owned(),
        }
    }
}

/// What became of one entry (the `outcome` label).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Applied,
    Duplicate,
    DeadLettered,
    Failed,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Duplicate => "duplicate",
            Self::DeadLettered => "dead_lettered",
            Self::Failed => "failed",
        }
    }
}

struct State {
    /// Streams on which this process has made sure the group exists.
    known: BTreeSet<String>,
    next_discovery: Instant,
    next_reclaim: Instant,
}

pub struct Consumer<H> {
    redis: Client,
    pool: Pool,
    handler: H,
    settings: ConsumerSettings,
    dead_letters: DeadLetters,
    state: Mutex<State>,
    stopping: AtomicBool,
}

type Batch = Vec<(String, Vec<Entry>, HashMap<String, u64>)>;

fn no_crash() -> std::future::Ready<anyhow::Result<()>> {
    std::future::ready(Ok(()))
}

impl<H: Handler> Consumer<H> {
    /// A consumer with a Redis client of its own for `redis_url` (connecting
    /// in the background), whose command timeout covers a blocking read.
    pub fn new(
        redis_url: &str,
        redis: &RedisSettings,
        pool: Pool,
        handler: H,
        settings: ConsumerSettings,
    ) -> anyhow::Result<Self> {
        let redis = RedisSettings {
            command_timeout: redis.command_timeout + settings.block,
            ..*redis
        };
        let now = Instant::now();
        Ok(Self {
            redis: crate::redis::connect(redis_url, &redis)?,
            pool,
            handler,
            settings,
            dead_letters: DeadLetters::default(),
            state: Mutex::new(State {
                known: BTreeSet::new(),
                next_discovery: now,
                next_reclaim: now,
            }),
            stopping: AtomicBool::new(false),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }

    /// Runs until `shutdown` resolves: the event being applied is finished,
    /// no new one is started. Entries read but not started stay pending and
    /// are reclaimed after `claim_idle`.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        // Exported at zero from the start, so alerts on an increase see it.
        for reason in [Reason::Undecodable, Reason::MaxDeliveries] {
            metrics::counter!("event_consumer_dead_letters_total",
                "group" => self.settings.group.clone(), "reason" => reason.as_str())
            .increment(0);
        }
        tokio::pin!(shutdown);
        let base = Duration::from_millis(50);
        let mut backoff = base;
        while !self.stopping() {
            let step = self.step_inner(&no_crash);
            tokio::pin!(step);
            let result = tokio::select! {
                r = &mut step => r,
                () = &mut shutdown => {
                    self.stopping.store(true, Ordering::Relaxed);
                    step.await
                }
            };
            let pause = match result {
                Ok((0, false)) => self.settings.block,
                Ok(_) => {
                    backoff = base;
                    Duration::ZERO
                }
                Err(e) => {
                    tracing::warn!(error = format!("{e:#}"), consumer.group = %self.settings.group, retry_in_ms = backoff.as_millis() as u64, "event consumer step failed");
                    let pause = backoff;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                    pause
                }
            };
            if self.stopping() {
                break;
            }
            tokio::select! {
                () = &mut shutdown => self.stopping.store(true, Ordering::Relaxed),
                () = tokio::time::sleep(pause) => {}
            }
        }
        tracing::info!(consumer.group = %self.settings.group, "event consumer stopped");
    }

    /// One step; returns how many entries were handled.
    pub async fn step(&self) -> anyhow::Result<usize> {
        Ok(self.step_inner(&no_crash).await?.0)
    }

    /// [`Self::step`] with `between` run after each commit and before its
    /// XACK: an error there aborts the step as a crash at that point would
    /// (tests use it to prove a redelivery is a no-op).
    pub async fn step_with<F, Fut>(&self, between: &F) -> anyhow::Result<usize>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = anyhow::Result<()>>,
    {
        Ok(self.step_inner(between).await?.0)
    }

    /// (entries handled, whether the read blocked).
    async fn step_inner<F, Fut>(&self, between: &F) -> anyhow::Result<(usize, bool)>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = anyhow::Result<()>>,
    {
        let now = Instant::now();
        let (discover, reclaim) = {
            let mut s = self.state();
            let discover = now >= s.next_discovery;
            if discover {
                s.next_discovery = now + self.settings.discover_every;
            }
            let reclaim = now >= s.next_reclaim;
            if reclaim {
                s.next_reclaim =
                    now + (self.settings.claim_idle / 2).max(Duration::from_millis(10));
            }
            (discover, reclaim)
        };
        if discover {
            self.discover().await?;
        }
        let mut handled = 0;
        if reclaim {
            let claimed = self.reclaim().await?;
            handled += self.handle_all(claimed, between).await?;
        }
        if self.stopping() {
            // Reading now would deliver entries nobody will apply.
            return Ok((handled, false));
        }
        let (read, blocked) = self.read().await?;
        handled += self.handle_all(read, between).await?;
        Ok((handled, blocked))
    }

    async fn discover(&self) -> anyhow::Result<()> {
        let registered: Vec<String> = self
            .redis
            .smembers(self.settings.registry.as_str())
            .await
            .context("SMEMBERS of the stream registry")?;
        let fresh: Vec<String> = {
            let s = self.state();
            registered
                .into_iter()
                .filter(|k| school_of(k).is_some() && !s.known.contains(k))
                .collect()
        };
        let group = self.settings.group.as_str();
        let created = futures::future::join_all(fresh.into_iter().map(|key| async move {
            match self
                .redis
                .xgroup_create::<Value, _, _, _>(key.as_str(), group, "0", true)
                .await
            {
                Ok(_) => Ok(key),
                Err(e) if e.details().starts_with("BUSYGROUP") => Ok(key),
                Err(e) => Err(e),
            }
        }))
        .await;
        {
            let mut s = self.state();
            for result in created {
                match result {
                    Ok(key) => {
                        s.known.insert(key);
                    }
                    // Retried at the next discovery.
                    Err(e) => {
                        tracing::warn!(error = %e, consumer.group = group, "XGROUP CREATE failed")
                    }
                }
            }
        }
        let known = self.known();
        metrics::gauge!("event_consumer_streams", "group" => self.settings.group.clone())
            .set(known.len() as f64);
        let pending = futures::future::join_all(known.iter().map(|key| async move {
            self.redis
                .xpending::<Value, _, _, _>(key.as_str(), group, ())
                .await
                .map(|v| entry::pending_count(&v))
                .unwrap_or(0)
        }))
        .await;
        metrics::gauge!("event_consumer_pending", "group" => self.settings.group.clone())
            .set(pending.iter().sum::<u64>() as f64);
        Ok(())
    }

    fn known(&self) -> Vec<String> {
        self.state().known.iter().cloned().collect()
    }

    /// A stream whose group vanished (a failover lost it) is forgotten and
    /// its group re-created at the next discovery.
    fn forget(&self, keys: &[String]) {
        tracing::warn!(streams = ?keys, consumer.group = %self.settings.group, "consumer group missing; re-creating it");
        let mut s = self.state();
        for k in keys {
            s.known.remove(k);
        }
        s.next_discovery = Instant::now();
    }

    async fn reclaim(&self) -> anyhow::Result<Batch> {
        let idle = u64::try_from(self.settings.claim_idle.as_millis()).unwrap_or(u64::MAX);
        let (group, me, count) = (
            self.settings.group.as_str(),
            self.settings.consumer.as_str(),
            self.settings.batch as u64,
        );
        let known = self.known();
        let claims = futures::future::join_all(known.into_iter().map(|key| async move {
            let claimed = async {
                let reply: Value = self
                    .redis
                    .xautoclaim(key.as_str(), group, me, idle, "0-0", Some(count), false)
                    .await?;
                let entries = entry::from_autoclaim(reply);
                let counts = match (entries.first(), entries.last()) {
                    (Some(first), Some(last)) => entry::delivery_counts(
                        self.redis
                            .xpending(
                                key.as_str(),
                                group,
                                (
                                    first.id.as_str(),
                                    last.id.as_str(),
                                    entries.len() as u64,
                                    me,
                                ),
                            )
                            .await?,
                    ),
                    _ => HashMap::new(),
                };
                Ok::<_, fred::error::Error>((entries, counts))
            }
            .await;
            (key, claimed)
        }))
        .await;
        let mut batch = Vec::new();
        for (key, claim) in claims {
            match claim {
                Ok((entries, counts)) if !entries.is_empty() => batch.push((key, entries, counts)),
                Ok(_) => {}
                Err(e) if e.details().starts_with("NOGROUP") => self.forget(&[key]),
                Err(e) => return Err(e).context("XAUTOCLAIM"),
            }
        }
        Ok(batch)
    }

    async fn read(&self) -> anyhow::Result<(Batch, bool)> {
        let known = self.known();
        if known.is_empty() {
            return Ok((Vec::new(), false));
        }
        let mut by_slot: BTreeMap<u16, Vec<String>> = BTreeMap::new();
        let clustered = self.redis.is_clustered();
        for key in known {
            let slot = if clustered {
                fred::util::redis_keyslot(key.as_bytes())
            } else {
                0
            };
            by_slot.entry(slot).or_default().push(key);
        }
        let block = (by_slot.len() == 1)
            .then(|| u64::try_from(self.settings.block.as_millis()).unwrap_or(u64::MAX));
        let (group, me, count) = (
            self.settings.group.as_str(),
            self.settings.consumer.as_str(),
            self.settings.batch as u64,
        );
        let reads = futures::future::join_all(by_slot.into_values().map(|keys| async move {
            let ids = vec![">"; keys.len()];
            let reply = self
                .redis
                .xreadgroup::<Value, _, _, _, _>(
                    group,
                    me,
                    Some(count),
                    block,
                    false,
                    keys.clone(),
                    ids,
                )
                .await;
            (keys, reply)
        }))
        .await;
        let mut batch = Vec::new();
        for (keys, reply) in reads {
            match reply {
                Ok(reply) => {
                    for (key, entries) in entry::from_xread(reply) {
                        if !entries.is_empty() {
                            batch.push((key, entries, HashMap::new()));
                        }
                    }
                }
                Err(e) if e.details().starts_with("NOGROUP") => self.forget(&keys),
                Err(e) => return Err(e).context("XREADGROUP"),
            }
        }
        Ok((batch, block.is_some()))
    }

    async fn handle_all<F, Fut>(&self, batch: Batch, between: &F) -> anyhow::Result<usize>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = anyhow::Result<()>>,
    {
        let mut handled = 0;
        for (stream, entries, counts) in batch {
            if self.stopping() {
                return Ok(handled);
            }
            if let Some(n) = self
                .handle_together(&stream, &entries, &counts, between)
                .await?
            {
                handled += n;
                continue;
            }
            for entry in entries {
                if self.stopping() {
                    return Ok(handled);
                }
                // Entries from XREADGROUP are on their first delivery.
                let deliveries = counts.get(&entry.id).copied().unwrap_or(1);
                self.handle(&stream, &entry, deliveries, between).await?;
                handled += 1;
            }
        }
        Ok(handled)
    }

    /// The common case under load, in one transaction and one XACK for a
    /// whole read of one stream: every entry is on its first delivery and
    /// decodes. The inbox rows go in with one INSERT (duplicates skipped),
    /// the handler runs for each new event in stream order, then one COMMIT
    /// and one XACK of all the ids: a commit (a WAL flush) per read rather
    /// than per event. `None` when the batch must go entry by entry: some
    /// entry is redelivered or undecodable (dead-letter bookkeeping is per
    /// entry), or the handler failed (rolled back; the per-entry path then
    /// applies the others and leaves only the failing one pending).
    async fn handle_together<F, Fut>(
        &self,
        stream: &str,
        entries: &[Entry],
        counts: &HashMap<String, u64>,
        between: &F,
    ) -> anyhow::Result<Option<usize>>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = anyhow::Result<()>>,
    {
        if entries.len() < 2
            || entries
                .iter()
                .any(|e| counts.get(&e.id).is_some_and(|n| *n > 1))
        {
            return Ok(None);
        }
        let school = school_of(stream);
        let mut decoded = Vec::with_capacity(entries.len());
        for e in entries {
            match e.decode(school) {
                Ok(d) => decoded.push(d),
                Err(_) => return Ok(None),
            }
        }
        let mut client = self.pool.get().await.context("database pool")?;
        let tx = client.transaction().await?;
        let inbox = tx
            .prepare_cached(
                "INSERT INTO processed_events (event_id) SELECT unnest($1::uuid[]) \
                 ON CONFLICT DO NOTHING RETURNING event_id",
            )
            .await?;
        let ids: Vec<Uuid> = decoded.iter().map(|(id, _)| *id).collect();
        let mut new: BTreeSet<Uuid> = tx
            .query(&inbox, &[&ids])
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        // Whether each entry is applied now: the first of its id that is new
        // (the relay may have published one event twice into the same read).
        let fresh: Vec<bool> = decoded.iter().map(|(id, _)| new.remove(id)).collect();
        // On shutdown the event in hand finishes and no other starts: only
        // the entries before `done` commit and are acknowledged.
        let mut done = 0;
        let mut together: Vec<&Event> = Vec::new();
        for ((id, event), fresh) in decoded.iter().zip(&fresh) {
            if done > 0 && self.stopping() {
                break;
            }
            done += 1;
            if !fresh {
                continue;
            }
            if self.handler.together(event) {
                together.push(event);
                continue;
            }
            let span = tracing::info_span!(
                "event.apply",
                otel.kind = "consumer",
                event.id = %id,
                event.type = %event.event_type,
                school.id = %event.school_id,
                consumer.group = %self.settings.group,
                deliveries = 1u64,
                batch = entries.len(),
                trace.id = tracing::field::Empty,
            );
            crate::telemetry::adopt_parent(&span, &event.trace_context);
            if let Err(e) = self.handler.apply(&tx, event).instrument(span).await {
                tracing::info!(
                    stream,
                    error = format!("{e:#}"),
                    "a batched event failed; applying the batch entry by entry"
                );
                return Ok(None);
            }
        }
        if !together.is_empty() {
            // One span for the group: the first event's trace is its parent,
            // the others' are links, so each request's trace still leads here.
            let span = tracing::info_span!(
                "event.apply_together",
                otel.kind = "consumer",
                school.id = %together[0].school_id,
                consumer.group = %self.settings.group,
                events = together.len(),
                batch = entries.len(),
                trace.id = tracing::field::Empty,
            );
            crate::telemetry::adopt_parent(&span, &together[0].trace_context);
            for event in &together[1..] {
                crate::telemetry::add_link(&span, &event.trace_context);
            }
            if let Err(e) = self
                .handler
                .apply_together(&tx, &together)
                .instrument(span)
                .await
            {
                tracing::info!(
                    stream,
                    error = format!("{e:#}"),
                    "events applied together failed; applying the batch entry by entry"
                );
                return Ok(None);
            }
        }
        // Inbox rows this transaction inserted for events it did not apply
        // (stopped early) must go, or their redelivery would look done.
        let unapplied: Vec<Uuid> = decoded
            .iter()
            .zip(&fresh)
            .skip(done)
            .filter(|(_, f)| **f)
            .map(|((id, _), _)| *id)
            .collect();
        if !unapplied.is_empty() {
            let forget = tx
                .prepare_cached("DELETE FROM processed_events WHERE event_id = ANY($1)")
                .await?;
            tx.execute(&forget, &[&unapplied]).await?;
        }
        tx.commit().await?;
        if fresh[..done].contains(&true) {
            if let Some(school) = school {
                self.handler.committed(school).await;
            }
            between().await?;
        }
        let entry_ids: Vec<&str> = entries[..done].iter().map(|e| e.id.as_str()).collect();
        self.redis
            .xack::<i64, _, _, _>(stream, self.settings.group.as_str(), entry_ids)
            .await
            .context("XACK")?;
        for ((_, event), fresh) in decoded.iter().zip(fresh).take(done) {
            if fresh {
                metrics::histogram!("event_consumer_lag_seconds", "group" => self.settings.group.clone())
                    .record(lag(event).as_secs_f64());
                count(&event.event_type, Outcome::Applied);
            } else {
                count(&event.event_type, Outcome::Duplicate);
            }
        }
        Ok(Some(done))
    }

    async fn handle<F, Fut>(
        &self,
        stream: &str,
        entry: &Entry,
        deliveries: u64,
        between: &F,
    ) -> anyhow::Result<()>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = anyhow::Result<()>>,
    {
        let (id, event) = match entry.decode(school_of(stream)) {
            Ok(decoded) => decoded,
            Err(e) => {
                let kind = entry.type_field().unwrap_or_default();
                tracing::error!(stream, entry.id = %entry.id, event.type = %kind, error = %e, "undecodable event entry");
                return self
                    .dead_letter(
                        stream,
                        entry,
                        Reason::Undecodable,
                        deliveries,
                        &e.to_string(),
                        "undecodable",
                    )
                    .await;
            }
        };
        let kind = event.event_type.clone();
        if deliveries > self.settings.max_deliveries {
            tracing::error!(stream, entry.id = %entry.id, event.id = %id, event.type = %kind, deliveries, "event failed on every delivery");
            return self
                .dead_letter(
                    stream,
                    entry,
                    Reason::MaxDeliveries,
                    deliveries,
                    "failed on every delivery",
                    &kind,
                )
                .await;
        }
        let span = tracing::info_span!(
            "event.apply",
            otel.kind = "consumer",
            event.id = %id,
            event.type = %kind,
            school.id = %event.school_id,
            consumer.group = %self.settings.group,
            deliveries,
            trace.id = tracing::field::Empty,
        );
        crate::telemetry::adopt_parent(&span, &event.trace_context);
        let outcome = async {
            let outcome = self.apply(id, &event, deliveries).await?;
            if outcome == Outcome::Applied {
                between().await?;
            }
            if outcome != Outcome::Failed {
                self.redis
                    .xack::<i64, _, _, _>(stream, self.settings.group.as_str(), entry.id.as_str())
                    .await
                    .context("XACK")?;
            }
            anyhow::Ok(outcome)
        }
        .instrument(span)
        .await?;
        if outcome == Outcome::Applied {
            metrics::histogram!("event_consumer_lag_seconds", "group" => self.settings.group.clone())
                .record(lag(&event).as_secs_f64());
        }
        count(&kind, outcome);
        Ok(())
    }

    /// The inbox row and the handler's writes, in one transaction.
    async fn apply(&self, id: Uuid, event: &Event, deliveries: u64) -> anyhow::Result<Outcome> {
        let mut client = self.pool.get().await.context("database pool")?;
        let tx = client.transaction().await?;
        let inbox = tx
            .prepare_cached(
                "INSERT INTO processed_events (event_id) VALUES ($1) ON CONFLICT DO NOTHING",
            )
            .await?;
        if tx.execute(&inbox, &[&id]).await? == 0 {
            return Ok(Outcome::Duplicate);
        }
        match self.handler.apply(&tx, event).await {
            Ok(()) => {
                tx.commit().await?;
                if let Ok(school) = event.school_id.parse() {
                    self.handler.committed(school).await;
                }
                Ok(Outcome::Applied)
            }
            Err(e) => {
                tracing::warn!(
                    error = format!("{e:#}"),
                    deliveries,
                    max_deliveries = self.settings.max_deliveries,
                    "event not applied; left pending for redelivery (or the dead-letter stream)"
                );
                Ok(Outcome::Failed)
            }
        }
    }

    async fn dead_letter(
        &self,
        stream: &str,
        entry: &Entry,
        reason: Reason,
        deliveries: u64,
        error: &str,
        kind: &str,
    ) -> anyhow::Result<()> {
        let letter = Letter {
            stream,
            group: &self.settings.group,
            entry,
            reason,
            deliveries,
            error,
        };
        self.dead_letters
            .send(&self.redis, &letter)
            .await
            .context("dead-letter move")?;
        metrics::counter!("event_consumer_dead_letters_total",
            "group" => self.settings.group.clone(), "reason" => reason.as_str())
        .increment(1);
        count(kind, Outcome::DeadLettered);
        Ok(())
    }
}

fn count(kind: &str, outcome: Outcome) {
    metrics::counter!("events_consumed_total", "type" => kind.to_owned(), "outcome" => outcome.as_str())
        .increment(1);
}

/// From the change's commit (`occurred_at`) to now; zero if clocks disagree.
fn lag(event: &Event) -> Duration {
    let Some(at) = &event.occurred_at else {
        return Duration::ZERO;
    };
    let occurred = SystemTime::UNIX_EPOCH
        + Duration::from_secs(u64::try_from(at.seconds).unwrap_or(0))
        + Duration::from_nanos(u64::try_from(at.nanos).unwrap_or(0));
    SystemTime::now()
        .duration_since(occurred)
        .unwrap_or_default()
}
