//! Redis (fred) with every wait bounded: fred's defaults have no command
//! timeout, an unbounded queue and silent re-sends. Here a
//! command times out after `command_timeout`, at most `max_queued_commands`
//! wait, a command whose connection dropped fails instead of being sent
//! again, and reconnects back off exponentially from 50 ms to 2 s.

use std::time::Duration;

use anyhow::Context;
use fred::prelude::*;

#[derive(Clone, Copy, Debug)]
pub struct RedisSettings {
    pub command_timeout: Duration,
    pub connect_timeout: Duration,
    pub max_queued_commands: usize,
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self {
            command_timeout: Duration::from_millis(50),
            connect_timeout: Duration::from_millis(500),
            max_queued_commands: 10_000,
        }
    }
}

/// Builds a client for `redis://host:port` or
/// `redis-cluster://host:port?node=host:port&...` and starts connecting in the
/// background: start-up never waits on Redis, which may be away. Its tasks
/// run on the calling thread's runtime.
pub fn connect(url: &str, s: &RedisSettings) -> anyhow::Result<Client> {
    let client = client(url, s)?;
    client.connect();
    Ok(client)
}

/// The client of `connect`, not yet connecting (validates the URL early).
pub fn client(url: &str, s: &RedisSettings) -> anyhow::Result<Client> {
    let config = Config::from_url(url).context("invalid Redis URL")?;
    Builder::from_config(config)
        .with_connection_config(|c| {
            c.connection_timeout = s.connect_timeout;
            c.internal_command_timeout = s.command_timeout * 4;
            // A command whose connection dropped fails instead of being re-sent:
            // INCR or XADD must not apply twice.
            c.max_command_attempts = 1;
            // Bounded queue: when Redis stalls, callers get a Backpressure
            // error at once instead of piling up memory and latency.
            c.max_command_buffer_len = s.max_queued_commands;
        })
        .with_performance_config(|p| {
            p.default_command_timeout = s.command_timeout;
        })
        .set_policy(ReconnectPolicy::new_exponential(0, 50, 2_000, 2))
        .build()
        .context("cannot build Redis client")
}

/// PING within the command timeout.
pub async fn ping(client: &Client) -> bool {
    client.ping::<String>(None).await.is_ok()
}
