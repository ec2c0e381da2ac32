//! Typed configuration from flags or environment variables.

use std::{net::SocketAddr, time::Duration};

use clap::{Args, Parser, Subcommand};
use platform::{
    db::PoolSettings, events::ConsumerSettings, redis::RedisSettings, telemetry::LogFormat,
};
use secrecy::{ExposeSecret, SecretString};

use crate::domain::Thresholds;

#[derive(Parser, Debug, Clone)]
#[command(
    name = "analytics-svc",
    about = "Schoolhouse dashboards and reports (gRPC)"
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug, Clone)]
pub enum Command {
    /// Serve gRPC and consume events (the default).
    Serve,
    /// Rebuild one school's read models from students-svc's export, while
    /// running replicas keep consuming.
    Rebuild {
        /// The school's id or slug.
        #[arg(long)]
        school: String,
    },
}

#[derive(Args, Debug, Clone)]
pub struct Config {
    /// TLS for gRPC (platform::grpc_tls): `GRPC_TLS_*`.
    #[command(flatten)]
    pub grpc_tls: platform::grpc_tls::TlsArgs,
    /// The key the gateway and the services vouch for callers with
    /// (platform::trust); the same in every Schoolhouse process.
    #[arg(long, env = "SERVICE_AUTH_KEY", hide_env_values = true)]
    pub service_auth_key: platform::trust::ServiceKey,
    /// gRPC listen address.
    #[arg(long, env = "ANALYTICS_LISTEN", default_value = "127.0.0.1:50052")]
    pub listen: SocketAddr,
    /// Admin HTTP (Prometheus `/metrics`): keep it off the public network.
    #[arg(long, env = "ANALYTICS_ADMIN_LISTEN", default_value = "127.0.0.1:9082")]
    pub admin_listen: SocketAddr,
    /// On SIGTERM: report NOT_SERVING and keep serving this long.
    #[arg(long, env = "ANALYTICS_DRAIN_DELAY_MS", default_value_t = 5000)]
    pub drain_delay_ms: u64,
    /// Postgres URL for the `analytics_svc` role (its search_path is `analytics`).
    #[arg(long, env = "ANALYTICS_DATABASE_URL", hide_env_values = true)]
    pub database_url: SecretString,
    #[arg(long, env = "ANALYTICS_DB_POOL_SIZE", default_value_t = 8)]
    pub db_pool_size: usize,
    #[arg(long, env = "ANALYTICS_DB_WAIT_TIMEOUT_MS", default_value_t = 2000)]
    pub db_wait_timeout_ms: u64,
    #[arg(
        long,
        env = "ANALYTICS_DB_STATEMENT_TIMEOUT_MS",
        default_value_t = 5000
    )]
    pub db_statement_timeout_ms: u64,
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,
    /// Redis holding the event streams and the gateway's cache generations:
    /// `redis://host:port` or `redis-cluster://host:port?node=host:port&...`.
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    pub redis_url: String,
    #[arg(
        long,
        env = "ANALYTICS_REDIS_COMMAND_TIMEOUT_MS",
        default_value_t = 1000
    )]
    pub redis_command_timeout_ms: u64,
    /// Consume domain events in this process (replicas share the work).
    #[arg(long, env = "ANALYTICS_CONSUMER_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    pub consumer_enabled: bool,
    #[arg(long, env = "ANALYTICS_CONSUMER_GROUP", default_value = "analytics")]
    pub consumer_group: String,
    /// This replica's consumer name (the pod name); defaults to `HOSTNAME`.
    #[arg(long, env = "ANALYTICS_CONSUMER_NAME")]
    pub consumer_name: Option<String>,
    #[arg(long, env = "ANALYTICS_CONSUMER_BATCH", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub consumer_batch: u32,
    #[arg(long, env = "ANALYTICS_CONSUMER_BLOCK_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub consumer_block_ms: u64,
    #[arg(long, env = "ANALYTICS_CONSUMER_CLAIM_IDLE_MS", default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub consumer_claim_idle_ms: u64,
    #[arg(long, env = "ANALYTICS_CONSUMER_MAX_DELIVERIES", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub consumer_max_deliveries: u64,
    #[arg(long, env = "ANALYTICS_CONSUMER_DISCOVER_MS", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..))]
    pub consumer_discover_ms: u64,
    #[arg(long, env = "EVENTS_STREAM_REGISTRY", default_value = platform::events::STREAM_REGISTRY)]
    pub events_registry: String,
    /// Bump the gateway's dashboard cache generation after each change.
    #[arg(long, env = "ANALYTICS_CACHE_BUMP", default_value_t = true, action = clap::ArgAction::Set)]
    pub cache_bump: bool,
    /// CHRONIC_ABSENCE below this attendance over 30 school days (hundredths of a percent).
    #[arg(long, env = "ANALYTICS_RISK_CHRONIC_RATE", default_value_t = 9000, value_parser = clap::value_parser!(i32).range(0..=10_000))]
    pub risk_chronic_rate: i32,
    /// CONSECUTIVE_ABSENCES at this many absent school days in a row.
    #[arg(long, env = "ANALYTICS_RISK_CONSECUTIVE_DAYS", default_value_t = 3, value_parser = clap::value_parser!(i32).range(1..=30))]
    pub risk_consecutive_days: i32,
    /// LOW_GRADE below this course average (hundredths of a percent).
    #[arg(long, env = "ANALYTICS_RISK_LOW_AVERAGE", default_value_t = 6000, value_parser = clap::value_parser!(i32).range(0..=10_000))]
    pub risk_low_average: i32,
    /// students-svc, for the export a rebuild reads.
    #[arg(long, env = "STUDENTS_URL", default_value = "http://127.0.0.1:50051")]
    pub students_url: String,
    /// Deadline of a whole export call (a school's full state).
    #[arg(long, env = "ANALYTICS_EXPORT_TIMEOUT_MS", default_value_t = 300_000)]
    pub export_timeout_ms: u64,
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

    pub fn thresholds(&self) -> Thresholds {
        Thresholds {
            chronic_rate: self.risk_chronic_rate,
            consecutive_days: self.risk_consecutive_days,
            low_average: self.risk_low_average,
        }
    }

    pub fn consumer_settings(&self) -> ConsumerSettings {
        let name = ConsumerSettings::replica_name(self.consumer_name.as_deref(), "analytics");
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

    /// Settings for tests: defaults, port 0, the consumer off.
    pub fn for_database(url: &str) -> Self {
        let mut cli = Cli::parse_from([
            "analytics-svc",
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
        cli.config.database_url = SecretString::from(url.to_owned());
        cli.config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebuild_is_a_subcommand_taking_a_school() {
        let key = platform::trust::TEST_KEY;
        let cli = Cli::try_parse_from([
            "analytics-svc",
            "--service-auth-key",
            key,
            "--database-url",
            "postgres://x/y",
            "rebuild",
            "--school",
            "kea",
        ])
        .unwrap();
        assert!(matches!(cli.command, Some(Command::Rebuild { school }) if school == "kea"));
        let serve = Cli::try_parse_from([
            "analytics-svc",
            "--service-auth-key",
            key,
            "--database-url",
            "postgres://x/y",
        ])
        .unwrap();
        assert!(serve.command.is_none());
        assert_eq!(serve.config.consumer_group, "analytics");
        assert_eq!(serve.config.thresholds(), Thresholds::default());
        assert!(Cli::try_parse_from([
            "analytics-svc",
            "--service-auth-key",
            key,
            "--database-url",
            "p",
            "rebuild"
        ])
        .is_err());
        // No key, or a short one: the service does not start.
        assert!(Cli::try_parse_from(["analytics-svc", "--database-url", "p"]).is_err());
        assert!(Cli::try_parse_from([
            "analytics-svc",
            "--service-auth-key",
            "short",
            "--database-url",
            "p"
        ])
        .is_err());
    }
}
