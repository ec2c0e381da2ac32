//! The response cache for GETs: cache-aside at the gateway, in Redis with an
//! optional in-process copy (L1), invalidated by generation counters.
//!
//! Why it is never stale for a writer: a write bumps the generations of what
//! it changed before its answer leaves the gateway; every read learns the
//! current generation from Redis (in the same round trip as its rate-limit
//! check) and serves only a value stored under that generation; a load that
//! raced a write is refused at store time because its generation moved.
//! Redis unreachable means no caching at all (`X-Cache: BYPASS`), never a
//! possibly stale L1 copy.

pub mod etag;
mod flight;
pub mod rules;
pub mod serve;
mod stats;

use std::{sync::Arc, time::Duration};

use bytes::Bytes;
use fred::{
    clients::Client,
    types::{scripts::Script, Value},
};

pub use flight::Join;
pub use rules::{Plan, Ttls};
pub use stats::Stats;

use tracing::Instrument;

// Generation counters outlive every cached value (TTLs are capped at an
// hour) and refresh on every bump. The key scheme, this TTL and the bump
// script are `platform::cache`'s, which analytics-svc uses too.
use platform::cache::GENERATION_TTL;

use crate::ratelimit::{Budget, Decision};

#[derive(Clone, Copy, Debug)]
pub struct CacheSettings {
    /// `false` bypasses the cache (every read goes to the origin).
    pub enabled: bool,
    pub ttls: Ttls,
    /// Memory bound of the in-process copy; 0 disables it.
    pub local_capacity_bytes: u64,
    pub local_ttl: Duration,
    /// Larger answers are served but not cached.
    pub max_body_bytes: usize,
}

/// A cached answer: a 200 JSON body, its ETag, the generation it belongs to.
#[derive(Debug)]
pub struct Entry {
    pub generation: String,
    pub etag: String,
    pub body: Bytes,
}

/// Where a current value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    Local,
    Redis,
}

pub enum Lookup {
    Refused(Decision),
    /// The caller's session has ended (platform::sessions).
    Revoked,
    Current(Decision, Arc<Entry>, Tier),
    Missing(Decision, String),
}

/// What all HTTP workers of an instance share: the in-process copy, the
/// loads in flight, the counters.
pub struct Shared {
    lookup: Script,
    store: Script,
    invalidate: Script,
    local: Option<moka::sync::Cache<String, Arc<Entry>>>,
    flights: flight::Flights,
    pub stats: Arc<Stats>,
    pub settings: CacheSettings,
}

/// One worker's handle: the shared state plus that worker's own Redis
/// client, whose tasks run on the worker's thread (no cross-thread wake-up
/// per command on the hot path).
pub struct Cache {
    redis: Client,
    shared: Arc<Shared>,
}

impl std::ops::Deref for Cache {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.shared
    }
}

/// A script that limits and reads generations: the rate limiter's GCRA,
/// the shared generation functions, then `body`.
fn script(body: &str) -> Script {
    Script::from_lua(
        [
            include_str!("../ratelimit/gcra.lua"),
            platform::cache::GENERATION_LUA,
            platform::sessions::REVOKED_LUA,
            body,
        ]
        .concat(),
    )
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX).max(1)
}

fn bytes_of(v: Value) -> Option<Bytes> {
    match v {
        Value::Bytes(b) => Some(b),
        Value::String(s) => Some(s.into_inner()),
        _ => None,
    }
}

fn text_of(v: Value) -> Option<String> {
    v.into_string()
}

impl Shared {
    pub fn new(settings: CacheSettings) -> Arc<Self> {
        let local = (settings.local_capacity_bytes > 0).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(settings.local_capacity_bytes)
                .weigher(|k: &String, e: &Arc<Entry>| {
                    let size = k.len() + e.body.len() + e.etag.len() + e.generation.len() + 64;
                    u32::try_from(size).unwrap_or(u32::MAX)
                })
                .time_to_live(settings.local_ttl)
                .build()
        });
        Arc::new(Self {
            lookup: script(include_str!("lookup.lua")),
            store: script(include_str!("store.lua")),
            // The very script analytics-svc bumps with: one definition.
            invalidate: Script::from_lua(platform::cache::BUMP_LUA),
            local,
            flights: flight::Flights::default(),
            stats: Arc::new(Stats::default()),
            settings,
        })
    }
}

impl Cache {
    pub fn new(redis: Client, shared: Arc<Shared>) -> Self {
        Self { redis, shared }
    }

    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    fn local_copy(&self, key: &str) -> Option<Arc<Entry>> {
        self.local.as_ref()?.get(key)
    }

    /// The local copy of `key` if it belongs to `generation`.
    fn local_current(&self, key: &str, generation: &str) -> Option<Arc<Entry>> {
        self.local_copy(key).filter(|e| e.generation == generation)
    }

    /// Spends `budget` and finds the current value of `plan`, in one round trip.
    pub async fn lookup(&self, budget: &Budget, plan: &Plan) -> Result<Lookup, fred::error::Error> {
        let local = self.local_copy(&plan.value_key);
        let mut keys = Vec::with_capacity(3 + plan.generation_keys.len());
        keys.push(budget.key.clone());
        // Unchecked (revocation checks off): a key of the same slot that the
        // script leaves alone.
        let (user_key, epoch, session) = match &budget.session {
            Some(s) => (s.user_key.clone(), s.epoch.to_string(), s.session.clone()),
            None => (budget.key.clone(), String::new(), String::new()),
        };
        keys.push(user_key);
        keys.push(plan.value_key.clone());
        keys.extend(plan.generation_keys.iter().cloned());
        let args: Vec<Value> = vec![
            budget.interval_us.into(),
            budget.window_us.into(),
            local
                .as_ref()
                .map_or_else(String::new, |e| e.generation.clone())
                .into(),
            ms(GENERATION_TTL).into(),
            epoch.into(),
            session.into(),
        ];
        let reply: Vec<Value> = self
            .lookup
            .evalsha_with_reload(&self.redis, keys, args)
            .instrument(tracing::info_span!("redis", db.operation = "cache_lookup"))
            .await?;
        let malformed =
            || fred::error::Error::new(fred::error::ErrorKind::Parse, "malformed cache reply");
        let decision = Decision::parse(&reply).ok_or_else(malformed)?;
        if decision.revoked {
            return Ok(Lookup::Revoked);
        }
        if !decision.allowed {
            return Ok(Lookup::Refused(decision));
        }
        let mut rest = reply.into_iter().skip(4);
        let generation = rest.next().and_then(text_of).ok_or_else(malformed)?;
        match rest.next().and_then(|v| v.as_i64()) {
            Some(1) => {
                let e = local.ok_or_else(malformed)?;
                Ok(Lookup::Current(decision, e, Tier::Local))
            }
            Some(2) => {
                let etag = rest.next().and_then(text_of).ok_or_else(malformed)?;
                let body = rest.next().and_then(bytes_of).ok_or_else(malformed)?;
                let e = Arc::new(Entry {
                    generation,
                    etag,
                    body,
                });
                if let Some(l) = &self.local {
                    l.insert(plan.value_key.clone(), e.clone());
                }
                Ok(Lookup::Current(decision, e, Tier::Redis))
            }
            Some(0) => Ok(Lookup::Missing(decision, generation)),
            _ => Err(malformed()),
        }
    }

    /// Joins or leads the origin load of `plan` at `generation`.
    pub fn join(&self, plan: &Plan, generation: &str) -> Join<'_> {
        self.flights.join(&plan.value_key, generation, || {
            self.local_current(&plan.value_key, generation)
        })
    }

    /// Keeps a loaded value: locally, and in Redis if its generation is still
    /// current there. A failed store only costs a later miss.
    pub async fn store(&self, plan: &Plan, entry: &Arc<Entry>) {
        let mut keys = Vec::with_capacity(1 + plan.generation_keys.len());
        keys.push(plan.value_key.clone());
        keys.extend(plan.generation_keys.iter().cloned());
        let args: Vec<Value> = vec![
            entry.generation.clone().into(),
            ms(plan.ttl).into(),
            entry.etag.clone().into(),
            Value::Bytes(entry.body.clone()),
        ];
        let stored: Result<i64, _> = self
            .store
            .evalsha_with_reload(&self.redis, keys, args)
            .await;
        match stored {
            Ok(1) => Stats::bump(&self.stats.stores),
            Ok(_) => {
                // A write moved on: the value must not be kept here either.
                Stats::bump(&self.stats.stale_stores_refused);
                return;
            }
            Err(e) => tracing::warn!(error = %e, "cache store failed"),
        }
        if let Some(l) = &self.local {
            l.insert(plan.value_key.clone(), entry.clone());
        }
    }

    /// Bumps `generations` (one tenant's). Retried in the background when
    /// Redis fails: the write already happened, and until a bump lands the
    /// old values live at most their TTL.
    pub async fn invalidate(self: &Arc<Self>, generations: Vec<String>) {
        if generations.is_empty() {
            return;
        }
        Stats::bump(&self.stats.invalidations);
        if self.bump(&generations).await.is_ok() {
            return;
        }
        Stats::bump(&self.stats.invalidation_failures);
        let cache = self.clone();
        actix_web::rt::spawn(async move {
            let mut delay = Duration::from_millis(100);
            for _ in 0..8 {
                tokio::time::sleep(delay).await;
                if cache.bump(&generations).await.is_ok() {
                    return;
                }
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            tracing::error!(keys = ?generations, "cache invalidation abandoned; values expire by TTL");
        });
    }

    async fn bump(&self, generations: &[String]) -> Result<(), fred::error::Error> {
        let r: Result<i64, _> = self
            .invalidate
            .evalsha_with_reload(&self.redis, generations.to_vec(), vec![ms(GENERATION_TTL)])
            .instrument(tracing::info_span!(
                "redis",
                db.operation = "cache_invalidate"
            ))
            .await;
        if let Err(e) = &r {
            tracing::warn!(error = %e, "cache invalidation failed");
        }
        r.map(drop)
    }
}
