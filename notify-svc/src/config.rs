//! Typed configuration from flags or environment variables.

use std::{net::SocketAddr, time::Duration};

use clap::Parser;
use platform::{
    db::PoolSettings, events::ConsumerSettings, redis::RedisSettings, telemetry::LogFormat,
};
use secrecy::{ExposeSecret, SecretString};

#[derive(Parser, Debug, Clone)]
#[command(name = "notify-svc", about = "Schoolhouse notifications (gRPC)")]
pub struct Config {
    /// TLS for gRPC (platform::grpc_tls): `GRPC_TLS_*`.
    #[command(flatten)]
    pub grpc_tls: platform::grpc_tls::TlsArgs,
    /// The key the gateway and the services vouch for callers with
    /// (platform::trust); the same in every Schoolhouse process.
    #[arg(long, env = "SERVICE_AUTH_KEY", hide_env_values = true)]
    pub service_auth_key: platform::trust::ServiceKey,
    /// gRPC listen address.
    #[arg(long, env = "NOTIFY_LISTEN", default_value = "127.0.0.1:50053")]
    pub listen: SocketAddr,
    /// Admin HTTP (Prometheus `/metrics`): keep it off the public network.
    #[arg(long, env = "NOTIFY_ADMIN_LISTEN", default_value = "127.0.0.1:9083")]
    pub admin_listen: SocketAddr,
    /// On SIGTERM: report NOT_SERVING and keep serving this long, so clients
    /// and Kubernetes stop routing here first.
    #[arg(long, env = "NOTIFY_DRAIN_DELAY_MS", default_value_t = 5000)]
    pub drain_delay_ms: u64,
    /// Postgres URL for the `notify_svc` role (its search_path is `notify`).
    #[arg(long, env = "NOTIFY_DATABASE_URL", hide_env_values = true)]
    pub database_url: SecretString,
    #[arg(long, env = "NOTIFY_DB_POOL_SIZE", default_value_t = 8)]
    pub db_pool_size: usize,
    /// Longest wait for a pooled connection.
    #[arg(long, env = "NOTIFY_DB_WAIT_TIMEOUT_MS", default_value_t = 2000)]
    pub db_wait_timeout_ms: u64,
    #[arg(long, env = "NOTIFY_DB_STATEMENT_TIMEOUT_MS", default_value_t = 5000)]
    pub db_statement_timeout_ms: u64,
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,
    /// Redis holding the domain-event streams: `redis://host:port` or
    /// `redis-cluster://host:port?node=host:port&...`.
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    pub redis_url: String,
    /// Deadline of each Redis command (a blocking read gets the block time on top).
    #[arg(long, env = "NOTIFY_REDIS_COMMAND_TIMEOUT_MS", default_value_t = 1000)]
    pub redis_command_timeout_ms: u64,
    /// Consume domain events in this process (every replica may: they share
    /// the work through the consumer group).
    #[arg(long, env = "NOTIFY_CONSUMER_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    pub consumer_enabled: bool,
    /// The consumer group of this service on every school's stream.
    #[arg(long, env = "NOTIFY_CONSUMER_GROUP", default_value = "notify")]
    pub consumer_group: String,
    /// This replica's consumer name (the pod name); defaults to `HOSTNAME`.
    #[arg(long, env = "NOTIFY_CONSUMER_NAME")]
    pub consumer_name: Option<String>,
    /// Most entries read per stream per call.
    #[arg(long, env = "NOTIFY_CONSUMER_BATCH", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub consumer_batch: u32,
    /// Longest wait for new events in one read.
    #[arg(long, env = "NOTIFY_CONSUMER_BLOCK_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub consumer_block_ms: u64,
    /// Events pending longer than this (their consumer died or failed them)
    /// are reclaimed and delivered again.
    #[arg(long, env = "NOTIFY_CONSUMER_CLAIM_IDLE_MS", default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub consumer_claim_idle_ms: u64,
    /// Deliveries of an event before it goes to the dead-letter stream.
    #[arg(long, env = "NOTIFY_CONSUMER_MAX_DELIVERIES", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub consumer_max_deliveries: u64,
    /// How often the stream registry is read for new schools.
    #[arg(long, env = "NOTIFY_CONSUMER_DISCOVER_MS", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..))]
    pub consumer_discover_ms: u64,
    /// The Redis set naming every school's event stream (the relay's registry).
    #[arg(long, env = "EVENTS_STREAM_REGISTRY", default_value = platform::events::STREAM_REGISTRY)]
    pub events_registry: String,
    #[command(flatten)]
    pub jobs: crate::jobs::JobsConfig,
    #[command(flatten)]
    pub reminders: crate::reminders::RemindersConfig,
    #[command(flatten)]
    pub announcements: crate::announcements::config::AnnouncementsConfig,
    #[command(flatten)]
    pub report_cards: crate::report_cards::config::ReportCardsConfig,
}

impl Config {
    pub fn pool_settings(&self) -> PoolSettings {
        PoolSettings {
            max_size: self.db_pool_size,
            wait_timeout: Duration::from_millis(self.db_wait_timeout_ms),
            statement_timeout: Duration::from_millis(self.db_statement_timeout_ms),
            ..PoolSettings::default()
        }
    }

    pub fn redis_settings(&self) -> RedisSettings {
        RedisSettings {
            command_timeout: Duration::from_millis(self.redis_command_timeout_ms.max(1)),
            ..RedisSettings::default()
        }
    }

    pub fn consumer_settings(&self) -> ConsumerSettings {
        let name = ConsumerSettings::replica_name(self.consumer_name.as_deref(), "notify");
        ConsumerSettings {
            batch: self.consumer_batch as usize,
            block: Duration::from_millis(self.consumer_block_ms),
            claim_idle: Duration::from_millis(self.consumer_claim_idle_ms),
            max_deliveries: self.consumer_max_deliveries,
            discover_every: Duration::from_millis(self.consumer_discover_ms),
            registry: self.events_registry.clone(),
            ..ConsumerSettings::new(self.consumer_group.clone(), name)
        }
    }

    pub fn database_url(&self) -> &str {
        self.database_url.expose_secret()
    }

    /// Settings for tests: defaults, port 0, and the consumer off.
    pub fn for_database(url: &str) -> Self {
        let mut config = Self::parse_from([
            "notify-svc",
            "--service-auth-key",
            platform::trust::TEST_KEY,
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
            "--drain-delay-ms",
            "0",
            "--log-format",
            "pretty",
            "--consumer-enabled",
            "false",
            "--database-url",
            url,
        ]);
        config.database_url = SecretString::from(url.to_owned());
        config
    }
}
