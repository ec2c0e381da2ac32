//! Retry delays: exponential in the attempt number, with jitter so that
//! jobs that failed together (a provider outage) do not retry together.

use std::time::Duration;

use rand::Rng;

#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    /// Delay after the first failed attempt (before jitter).
    pub base: Duration,
    /// No delay is longer, whatever the attempt or `Retry-After`.
    pub max: Duration,
}

impl Backoff {
    /// Delay before the attempt after `attempts` failed ones: `base·2^(n-1)`
    /// capped at `max`, then drawn uniformly from its upper half; at least
    /// the provider's `retry_after`.
    pub fn delay(&self, attempts: i32, retry_after: Option<Duration>) -> Duration {
        let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        let full = self.base.saturating_mul(1u32 << exp).min(self.max);
        let half = full / 2;
        let jittered = half + half.mul_f64(rand::thread_rng().gen::<f64>());
        jittered.max(retry_after.unwrap_or_default()).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_within_bounds() {
        let b = Backoff {
            base: Duration::from_secs(2),
            max: Duration::from_secs(60),
        };
        for _ in 0..200 {
            let d1 = b.delay(1, None);
            assert!(
                d1 >= Duration::from_secs(1) && d1 <= Duration::from_secs(2),
                "{d1:?}"
            );
            let d3 = b.delay(3, None);
            assert!(
                d3 >= Duration::from_secs(4) && d3 <= Duration::from_secs(8),
                "{d3:?}"
            );
            let d20 = b.delay(20, None);
            assert!(
                d20 >= Duration::from_secs(30) && d20 <= Duration::from_secs(60),
                "{d20:?}"
            );
        }
    }

    #[test]
    fn honours_retry_after_up_to_the_cap() {
        let b = Backoff {
            base: Duration::from_millis(10),
            max: Duration::from_secs(60),
        };
        assert_eq!(
            b.delay(1, Some(Duration::from_secs(30))),
            Duration::from_secs(30)
        );
        assert_eq!(
            b.delay(1, Some(Duration::from_secs(600))),
            Duration::from_secs(60)
        );
    }

    #[test]
    fn jitter_spreads_delays() {
        let b = Backoff {
            base: Duration::from_secs(10),
            max: Duration::from_secs(600),
        };
        let distinct: std::collections::HashSet<Duration> =
            (0..50).map(|_| b.delay(2, None)).collect();
        assert!(distinct.len() > 10, "{distinct:?}");
    }
}
