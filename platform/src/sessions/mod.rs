//! Session revocation in Redis, shared by students-svc (which ends sessions
//! and writes here) and the gateway (which reads here on every request,
//! inside the rate-limit script it already calls: no extra round trip).
//!
//! One hash per user, `s:{school:<id>}:u:<user>`, in the school's hash slot
//! beside its rate-limit and cache keys, so the gateway's script reads it
//! with one `HMGET` on a Redis Cluster:
//! - field `e`: the user's session epoch. An access token issued under an
//!   older epoch is refused (every session of the user ended: archived,
//!   deactivated, new password, new role, logout everywhere).
//! - field `x:<session>`: that one session ended (logout, or a spent
//!   refresh token presented again).
//!
//! The hash lives [`REVOCATION_TTL`] after its last write, longer than any access token (the gateway
//! caps `JWT_TTL_SECS` below it), so a missing key only ever means "nothing
//! revoked that a live token could carry". Postgres stays the record:
//! refreshing checks the session there.

use std::sync::LazyLock;
use std::time::Duration;

use fred::{prelude::*, types::scripts::Script};
use uuid::Uuid;

/// How long a revocation is kept: past every access token issued before it.
pub const REVOCATION_TTL: Duration = Duration::from_secs(24 * 3600);

/// The user's revocation hash.
pub fn user_key(school_id: Uuid, user_id: Uuid) -> String {
    format!("s:{{school:{school_id}}}:u:{user_id}")
}

/// Raises the epoch field to `epoch` (never lowers it: two revocations
/// racing leave the newer), and keeps the hash a day.
static RAISE: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua(
        "local cur = tonumber(redis.call('HGET', KEYS[1], 'e') or '-1') \
         if tonumber(ARGV[1]) > cur then redis.call('HSET', KEYS[1], 'e', ARGV[1]) end \
         redis.call('PEXPIRE', KEYS[1], ARGV[2]) \
         return 1",
    )
});

/// Marks one session ended, and keeps the hash a day.
static END: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua(
        "redis.call('HSET', KEYS[1], ARGV[1], 1) \
         redis.call('PEXPIRE', KEYS[1], ARGV[2]) \
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
            vec![user_key(school_id, user_id)],
            vec![epoch, ttl_ms()],
        )
        .await?;
    Ok(())
}

/// One session of the user has ended.
pub async fn publish_ended(
    redis: &Client,
    school_id: Uuid,
    user_id: Uuid,
    session_id: Uuid,
) -> Result<(), fred::error::Error> {
    let _: i64 = END
        .evalsha_with_reload(
            redis,
            vec![user_key(school_id, user_id)],
            vec![format!("x:{session_id}"), ttl_ms().to_string()],
        )
        .await?;
    Ok(())
}

/// The Lua the gateway's edge scripts include: `revoked(user_key, session,
/// epoch)`, whether a token of that session and epoch is revoked.
pub const REVOKED_LUA: &str = include_str!("revoked.lua");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_share_the_school_slot_with_the_rate_limits_and_cache() {
        let (school, user) = (Uuid::now_v7(), Uuid::now_v7());
        let slot = |k: &str| fred::util::redis_keyslot(k.as_bytes());
        let rate = format!("rl:{{school:{school}}}:read:u:{user}");
        assert_eq!(slot(&user_key(school, user)), slot(&rate));
        assert_eq!(
            slot(&user_key(school, user)),
            slot(&crate::cache::generation(school, "students"))
        );
    }
}
