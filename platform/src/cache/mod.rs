//! The response cache's key scheme, shared by the gateway (which stores and
//! serves answers) and the services whose changes make answers stale
//! (analytics-svc bumps a school's dashboard generation after it changed the
//! school's read models). Both build keys here, so they cannot drift apart.
//!
//! Every key of a school lives in its hash slot (`{school:<id>}`), beside
//! its rate-limit keys, so one script can touch all of them on a Redis
//! Cluster. A cached answer is current only while every generation it was
//! stored under is unchanged; a bump makes the next read a miss.

use std::sync::LazyLock;
use std::time::Duration;

use fred::{prelude::*, types::scripts::Script};
use uuid::Uuid;

/// How long a generation counter lives after its last bump or read. A
/// counter that expired restarts at Redis' clock (see `generation.lua`), so
/// it never repeats.
pub const GENERATION_TTL: Duration = Duration::from_secs(24 * 3600);

/// The prefix of every cache key of school `school_id`.
pub fn tenant(school_id: Uuid) -> String {
    format!("c:{{school:{school_id}}}")
}

/// The generation counter `name` of the school (`c:{school:<id>}:g:<name>`).
pub fn generation(school_id: Uuid, name: &str) -> String {
    format!("{}:g:{name}", tenant(school_id))
}

/// The generation every dashboard and report answer of the school depends
/// on: analytics-svc bumps it after each transaction that changed the
/// school's read models.
pub fn dashboards_generation(school_id: Uuid) -> String {
    generation(school_id, "dashboards")
}

/// The Lua functions every generation script shares (reading, creating and
/// bumping counters); a script that needs them starts with this text.
pub const GENERATION_LUA: &str = include_str!("generation.lua");

/// The script that bumps generations: KEYS the counters (one school's),
/// ARGV[1] the TTL in ms. The gateway's invalidation runs this same text.
pub const BUMP_LUA: &str = concat!(include_str!("generation.lua"), include_str!("bump.lua"));

/// [`GENERATION_TTL`] in ms, as the scripts take it.
pub fn generation_ttl_ms() -> i64 {
    i64::try_from(GENERATION_TTL.as_millis()).unwrap_or(i64::MAX)
}

/// Hashed once: EVALSHA needs the script's SHA-1 on every call.
static BUMP: LazyLock<Script> = LazyLock::new(|| Script::from_lua(BUMP_LUA));

/// Bumps `keys` (all of one school) atomically.
pub async fn bump(redis: &Client, keys: Vec<String>) -> Result<(), fred::error::Error> {
    if keys.is_empty() {
        return Ok(());
    }
    let _: i64 = BUMP
        .evalsha_with_reload(redis, keys, vec![generation_ttl_ms()])
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_share_the_school_slot() {
        let id = Uuid::now_v7();
        assert_eq!(
            dashboards_generation(id),
            format!("c:{{school:{id}}}:g:dashboards")
        );
        assert_eq!(
            fred::util::redis_keyslot(dashboards_generation(id).as_bytes()),
            fred::util::redis_keyslot(generation(id, "students").as_bytes())
        );
    }

    #[test]
    fn the_bump_script_carries_the_shared_functions() {
        assert!(BUMP_LUA.starts_with(GENERATION_LUA));
        assert!(BUMP_LUA.contains("return bump_generations(KEYS"));
    }
}
