//! Counters of what the cache did, per instance: read by tests (origin calls
//! per hot key) and by the bench (hit rate).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

#[derive(Default, Debug)]
pub struct Stats {
    /// Served from this instance's memory after Redis confirmed the generation.
    pub hits_local: AtomicU64,
    /// Served from the value stored in Redis.
    pub hits_redis: AtomicU64,
    /// Not current anywhere: loaded from the origin or joined a load.
    pub misses: AtomicU64,
    /// Requests answered by another request's origin call (single-flight).
    pub coalesced: AtomicU64,
    /// Cache not used: disabled by config or Redis unreachable.
    pub bypasses: AtomicU64,
    /// Calls to the origin service made to fill the cache.
    pub origin_loads: AtomicU64,
    pub stores: AtomicU64,
    /// Stores refused because a write moved the generation meanwhile.
    pub stale_stores_refused: AtomicU64,
    pub invalidations: AtomicU64,
    pub invalidation_failures: AtomicU64,
}

impl Stats {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    pub fn hits(&self) -> u64 {
        self.hits_local.load(Relaxed) + self.hits_redis.load(Relaxed)
    }

    /// Prometheus text exposition.
    pub fn render(&self) -> String {
        let rows = [
            ("local", "hit", &self.hits_local),
            ("redis", "hit", &self.hits_redis),
            ("none", "miss", &self.misses),
            ("none", "bypass", &self.bypasses),
        ];
        let mut out = String::from(
            "# HELP gateway_cache_requests_total Cacheable reads by outcome.\n\
             # TYPE gateway_cache_requests_total counter\n",
        );
        for (tier, result, c) in rows {
            out += &format!(
                "gateway_cache_requests_total{{result=\"{result}\",tier=\"{tier}\"}} {}\n",
                c.load(Relaxed)
            );
        }
        for (name, help, c) in [
            (
                "coalesced",
                "Reads answered by another read's origin call.",
                &self.coalesced,
            ),
            (
                "origin_loads",
                "Origin calls made to fill the cache.",
                &self.origin_loads,
            ),
            ("stores", "Values stored in Redis.", &self.stores),
            (
                "stale_stores_refused",
                "Stores refused because a write moved the generation.",
                &self.stale_stores_refused,
            ),
            (
                "invalidations",
                "Generation bumps after writes.",
                &self.invalidations,
            ),
            (
                "invalidation_failures",
                "Generation bumps that failed (retried).",
                &self.invalidation_failures,
            ),
        ] {
            out += &format!(
                "# HELP gateway_cache_{name}_total {help}\n# TYPE gateway_cache_{name}_total counter\ngateway_cache_{name}_total {}\n",
                c.load(Relaxed)
            );
        }
        out
    }
}
