//! Distributed rate limits: GCRA decided by one Lua script per request in
//! Redis (EVALSHA, reloaded on NOSCRIPT), keys in the tenant's hash slot.
//!
//! When Redis cannot answer within its command timeout, reads and writes fall
//! back to a per-instance limiter (fail open: a Redis outage must not take
//! the API down), while login and expensive operations fail closed with 503
//! (fail closed: password guessing must never become unlimited).

mod http;
mod local;
mod policy;

use std::{sync::Arc, time::Duration};

use actix_web::http::header::HeaderValue;
use fred::{
    clients::Client,
    types::{scripts::Script, Value},
};
use tracing::Instrument;

pub use http::{client_ip, refusal, subject, write_headers};
pub use local::LocalLimiter;
pub use policy::{Policies, Policy, RouteClass, TrustedProxy};

/// What one check decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// The budget allowed it, but the caller's session has ended
    /// (platform::sessions): the request is answered 401.
    pub revoked: bool,
    pub remaining: u64,
    pub retry_after: Duration,
    pub reset: Duration,
}

impl Decision {
    /// The first four fields of a GCRA script reply (the first is 1 when
    /// allowed, 2 when allowed but the session is revoked).
    pub fn parse(reply: &[Value]) -> Option<Self> {
        let n = |i: usize| reply.get(i).and_then(Value::as_i64);
        let us = |i: usize| Some(Duration::from_micros(u64::try_from(n(i)?).unwrap_or(0)));
        Some(Self {
            allowed: n(0)? == 1,
            revoked: n(0)? == 2,
            remaining: u64::try_from(n(1)?).unwrap_or(0),
            retry_after: us(2)?,
            reset: us(3)?,
        })
    }
}

/// Every `decision` of `gateway_ratelimit_decisions_total`.
const DECISIONS: [&str; 5] = [
    "allowed",
    "refused",
    "local_allowed",
    "local_refused",
    "unavailable",
];

/// Exports every decision series at zero, so the "Redis unavailable" alert
/// and the dashboards see a series before the first such decision.
pub fn register() {
    for class in RouteClass::ALL {
        for decision in DECISIONS {
            metrics::counter!("gateway_ratelimit_decisions_total", "class" => class.name(), "decision" => decision)
                .increment(0);
        }
    }
}

/// `gateway_ratelimit_decisions_total{class,decision}`: allowed | refused
/// (Redis), local_allowed | local_refused (the fallback), unavailable (503).
pub fn record(class: RouteClass, decision: &'static str) {
    metrics::counter!("gateway_ratelimit_decisions_total", "class" => class.name(), "decision" => decision)
        .increment(1);
}

/// Redis is away and the class fails closed.
#[derive(Debug)]
pub struct Unavailable;

/// One key's budget under one policy, as the GCRA scripts take it.
#[derive(Clone, Debug)]
pub struct Budget {
    pub key: String,
    pub interval_us: i64,
    pub window_us: i64,
    /// The caller's session, checked for revocation in the same script call.
    pub session: Option<SessionCheck>,
}

/// A signed-in caller's revocation hash (platform::sessions), in the
/// school's slot like its rate-limit key, and its token's session and epoch.
#[derive(Clone, Debug)]
pub struct SessionCheck {
    pub user_key: String,
    pub session: String,
    pub epoch: i64,
}

impl SessionCheck {
    pub fn new(caller: &platform::caller::Caller, session: uuid::Uuid, epoch: i64) -> Self {
        Self {
            user_key: platform::sessions::user_key(caller.school_id, caller.user_id),
            session: session.to_string(),
            epoch,
        }
    }
}

pub struct RateLimiter {
    redis: Client,
    script: Script,
    /// Shared by the instance's workers: one fallback budget per instance.
    local: Arc<LocalLimiter>,
    pub policies: Policies,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<TrustedProxy>,
    /// Whether signed-in requests check their session's revocation in the
    /// same script call (`AUTH_REVOCATION_CHECK`).
    pub check_sessions: bool,
    policy_headers: [Option<HeaderValue>; 4],
}

impl RateLimiter {
    /// One per HTTP worker, with that worker's Redis client.
    pub fn new(
        redis: Client,
        policies: Policies,
        trusted_proxies: Vec<TrustedProxy>,
        local: Arc<LocalLimiter>,
    ) -> Self {
        Self {
            redis,
            script: Script::from_lua(
                [
                    include_str!("gcra.lua"),
                    platform::sessions::REVOKED_LUA,
                    include_str!("limit.lua"),
                ]
                .concat(),
            ),
            local,
            policy_headers: RouteClass::ALL.map(|c| http::policy_header(c, &policies.get(c))),
            policies,
            trusted_proxies,
            check_sessions: true,
        }
    }

    pub fn policy_header(&self, class: RouteClass) -> Option<&HeaderValue> {
        self.policy_headers[class as usize].as_ref()
    }

    pub fn budget(&self, class: RouteClass, subject: &str) -> Budget {
        let policy = self.policies.get(class);
        Budget {
            // The policy is part of the key: instances (or tests) configured
            // differently never distort each other's budgets.
            key: format!("{subject}:{}/{}s", policy.limit, policy.window.as_secs()),
            // At least 1 µs: the script divides by it.
            interval_us: (policy.interval().as_micros() as i64).max(1),
            window_us: policy.window.as_micros() as i64,
            session: None,
        }
    }

    /// Spends one unit of `budget`.
    pub async fn check(&self, class: RouteClass, budget: &Budget) -> Result<Decision, Unavailable> {
        let (keys, args): (Vec<String>, Vec<Value>) = match &budget.session {
            Some(s) => (
                vec![budget.key.clone(), s.user_key.clone()],
                vec![
                    budget.interval_us.into(),
                    budget.window_us.into(),
                    s.epoch.into(),
                    s.session.as_str().into(),
                ],
            ),
            None => (
                vec![budget.key.clone()],
                vec![budget.interval_us.into(), budget.window_us.into()],
            ),
        };
        let reply: Result<Vec<Value>, fred::error::Error> = self
            .script
            .evalsha_with_reload(&self.redis, keys, args)
            .instrument(tracing::info_span!("redis", db.operation = "rate_limit"))
            .await;
        match reply {
            Ok(v) => match Decision::parse(&v) {
                Some(d) => {
                    record(class, if d.allowed { "allowed" } else { "refused" });
                    Ok(d)
                }
                None => self.fallback(class, budget, &"malformed reply"),
            },
            Err(e) => self.fallback(class, budget, &e),
        }
    }

    /// The decision when Redis could not make it: the per-instance limiter
    /// for classes that fail open, `Unavailable` for those that fail closed.
    pub fn fallback(
        &self,
        class: RouteClass,
        budget: &Budget,
        error: &dyn std::fmt::Display,
    ) -> Result<Decision, Unavailable> {
        tracing::warn!(error = %error, rate_limit.class = class.name(), "rate limit check failed");
        if class.fails_closed() {
            record(class, "unavailable");
            Err(Unavailable)
        } else {
            let d = self.local.check(&budget.key, self.policies.get(class));
            record(
                class,
                if d.allowed {
                    "local_allowed"
                } else {
                    "local_refused"
                },
            );
            Ok(d)
        }
    }
}
