//! Distributed rate limits: GCRA decided by one Lua script per request in
//! Redis (EVALSHA, reloaded on NOSCRIPT), keys in the tenant's hash slot.
//!
//! When Redis cannot answer within its command timeout, reads and writes fall
//! back to a per-instance limiter (fail open: a Redis outage must not take
//! the API down), while login and expensive operations fail closed with 503
//! (fail closed: password guessing must never become unlimited).

mod local;
mod middleware;
mod policy;

use std::{net::IpAddr, time::Duration};

use fred::{clients::Client, types::scripts::Script};

pub use middleware::{rate_limit, refusal};
pub use policy::{Policies, Policy, RouteClass};

/// What one check decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub remaining: u64,
    pub retry_after: Duration,
    pub reset: Duration,
}

/// Redis is away and the class fails closed.
#[derive(Debug)]
pub struct Unavailable;

pub struct RateLimiter {
    redis: Client,
    script: Script,
    local: local::LocalLimiter,
    pub policies: Policies,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
}

impl RateLimiter {
    pub fn new(redis: Client, policies: Policies, trusted_proxies: Vec<IpAddr>) -> Self {
        Self {
            redis,
            script: Script::from_lua(include_str!("gcra.lua")),
            local: local::LocalLimiter::default(),
            policies,
            trusted_proxies,
        }
    }

    /// Spends one unit of `key`'s budget under `class`'s policy.
    pub async fn check(&self, class: RouteClass, key: &str) -> Result<Decision, Unavailable> {
        let policy = self.policies.get(class);
        // At least 1 µs: the script divides by it.
        let interval = (policy.interval().as_micros() as i64).max(1);
        let window = policy.window.as_micros() as i64;
        // The policy is part of the key: instances (or tests) configured
        // differently never distort each other's budgets.
        let key = format!("{key}:{}/{}s", policy.limit, policy.window.as_secs());
        let reply: Result<Vec<i64>, _> = self
            .script
            .evalsha_with_reload(&self.redis, key.as_str(), vec![interval, window])
            .await;
        match reply {
            Ok(v) if v.len() == 4 => Ok(Decision {
                allowed: v[0] == 1,
                remaining: u64::try_from(v[1]).unwrap_or(0),
                retry_after: Duration::from_micros(u64::try_from(v[2]).unwrap_or(0)),
                reset: Duration::from_micros(u64::try_from(v[3]).unwrap_or(0)),
            }),
            other => {
                if let Err(e) = &other {
                    tracing::warn!(error = %e, rate_limit.class = class.name(), "rate limit check failed");
                }
                if class.fails_closed() {
                    Err(Unavailable)
                } else {
                    Ok(self.local.check(&key, policy))
                }
            }
        }
    }
}
