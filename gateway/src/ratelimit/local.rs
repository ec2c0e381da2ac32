//! The per-instance fallback used while Redis is unreachable: the same GCRA
//! over a bounded in-memory map. Each instance then allows the full budget,
//! so N instances allow N times it: acceptable for reads and writes during an
//! outage, which is why login does not use it.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use super::{Decision, Policy};

/// Keys kept before the map is cleared; clearing forgets budgets, it never
/// blocks anyone.
const MAX_KEYS: usize = 100_000;

#[derive(Default)]
pub struct LocalLimiter {
    tats: Mutex<HashMap<String, Instant>>,
}

impl LocalLimiter {
    pub fn check(&self, key: &str, policy: Policy) -> Decision {
        let now = Instant::now();
        let Ok(mut tats) = self.tats.lock() else {
            return Decision {
                revoked: false,
                allowed: true,
                remaining: 0,
                retry_after: Duration::ZERO,
                reset: Duration::ZERO,
            };
        };
        if tats.len() >= MAX_KEYS {
            tats.clear();
        }
        let tat = tats.get(key).copied().unwrap_or(now).max(now);
        let new_tat = tat + policy.interval();
        let ahead = new_tat - now;
        if ahead > policy.window {
            return Decision {
                revoked: false,
                allowed: false,
                remaining: 0,
                retry_after: ahead - policy.window,
                reset: tat - now,
            };
        }
        tats.insert(key.to_owned(), new_tat);
        let left = policy.window - ahead;
        Decision {
            revoked: false,
            allowed: true,
            remaining: (left.as_micros() / policy.interval().as_micros().max(1)) as u64,
            retry_after: Duration::ZERO,
            reset: ahead,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_budget_then_denies() {
        let l = LocalLimiter::default();
        let p = Policy {
            limit: 3,
            window: Duration::from_secs(60),
        };
        let allowed = (0..5).filter(|_| l.check("k", p).allowed).count();
        assert_eq!(allowed, 3);
        let denied = l.check("k", p);
        assert!(!denied.allowed && denied.retry_after > Duration::ZERO);
        assert!(l.check("other", p).allowed);
    }
}
