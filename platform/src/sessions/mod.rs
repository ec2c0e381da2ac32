//! Session revocation in Redis, shared by students-svc (which ends sessions
//! and writes here) and the gateway (which reads here on every request,
//! inside the rate-limit script it already calls: no extra round trip).
//!
//! Two kinds of key, both in the school's hash slot beside its rate-limit
//! and cache keys, so one script reads them on a Redis Cluster:
//! - `s:{school:<id>}:u:<user>`: the user's session epoch. An access token
//!   issued under an older epoch is refused (every session of the user
//!   ended: archived, deactivated, new password, new role, logout
//!   everywhere).
//! - `s:{school:<id>}:x:<session>`: that one session ended (logout, or a
//!   spent refresh token presented again).
//!
//! Keys live [`REVOCATION_TTL`], longer than any access token (the gateway
//! caps `JWT_TTL_SECS` below it), so a missing key only ever means "nothing
//! revoked that a live token could carry". Postgres stays the record:
//! refreshing checks the session there.

use std::sync::LazyLock;
use std::time::Duration;

use fred::{prelude::*, types::scripts::Script};
use uuid::Uuid;

/// How long a revocation is kept: past every access token issued before it.
pub const REVOCATION_TTL: Duration = Duration::from_secs(24 * 3600);

/// The user's epoch key.
pub fn epoch_key(school_id: Uuid, user_id: Uuid) -> String {
    format!("s:{{school:{school_id}}}:u:{user_id}")
}

/// The ended-session key.
pub fn ended_key(school_id: Uuid, session_id: Uuid) -> String {
    format!("s:{{school:{school_id}}}:x:{session_id}")
}

/// Raises the epoch key to `epoch` (never lowers it: two revocations racing
/// leave the newer).
static RAISE: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua(
        "local cur = tonumber(redis.call('GET', KEYS[1]) or '-1') \
         if tonumber(ARGV[1]) > cur then \
           redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) \
         else \
           redis.call('PEXPIRE', KEYS[1], ARGV[2]) \
         end \
         return 1",
    )
});

fn ttl_ms() -> i64 {
    i64::try_from(REVOCATION_TTL.as_millis()).unwrap_or(i64::MAX)
}

/// Every session of the user issued before `epoch` has ended.
pub async fn publish_epoch(
    redis: &Client,
    school_id: Uuid,
    user_id: Uuid,
    epoch: i64,
) -> Result<(), fred::error::Error> {
    let _: i64 = RAISE
        .evalsha_with_reload(
            redis,
            vec![epoch_key(school_id, user_id)],
            vec![epoch, ttl_ms()],
        )
        .await?;
    Ok(())
}

/// One session has ended.
pub async fn publish_ended(
    redis: &Client,
    school_id: Uuid,
    session_id: Uuid,
) -> Result<(), fred::error::Error> {
    let _: () = redis
        .set(
            ended_key(school_id, session_id),
            1,
            Some(Expiration::PX(ttl_ms())),
            None,
            false,
        )
        .await?;
    Ok(())
}

/// The Lua the gateway's edge scripts append: whether a token of epoch
/// `epoch` and session `KEYS[ended]` is revoked, given the user's epoch key.
pub const REVOKED_LUA: &str = include_str!("revoked.lua");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_share_the_school_slot_with_the_rate_limits_and_cache() {
        let (school, user, session) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let slot = |k: &str| fred::util::redis_keyslot(k.as_bytes());
        let rate = format!("rl:{{school:{school}}}:read:u:{user}");
        assert_eq!(slot(&epoch_key(school, user)), slot(&rate));
        assert_eq!(slot(&ended_key(school, session)), slot(&rate));
        assert_eq!(
            slot(&ended_key(school, session)),
            slot(&crate::cache::generation(school, "students"))
        );
    }
}
