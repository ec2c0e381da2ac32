//! Typed configuration from flags or environment variables.

use std::{net::SocketAddr, time::Duration};

use clap::Parser;
use platform::{db::PoolSettings, redis::RedisSettings, telemetry::LogFormat};
use secrecy::{ExposeSecret, SecretString};

use crate::relay::RelaySettings;

#[derive(Parser, Debug, Clone)]
#[command(name = "students-svc", about = "Schoolhouse system of record (gRPC)")]
pub struct Config {
    /// TLS for gRPC (platform::grpc_tls): `GRPC_TLS_*`.
    #[command(flatten)]
    pub grpc_tls: platform::grpc_tls::TlsArgs,
    /// The key the gateway and the services vouch for callers with
    /// (platform::trust); the same in every Schoolhouse process.
    #[arg(long, env = "SERVICE_AUTH_KEY", hide_env_values = true)]
    pub service_auth_key: platform::trust::ServiceKey,
    /// Failed sign-ins to one account (school and e-mail) within
    /// `STUDENTS_LOGIN_LOCK_SECS` before it is locked for that long.
    #[arg(long, env = "STUDENTS_LOGIN_MAX_FAILURES", default_value_t = 10)]
    pub login_max_failures: i32,
    #[arg(long, env = "STUDENTS_LOGIN_LOCK_SECS", default_value_t = 900)]
    pub login_lock_secs: u64,
    /// How long a session (its refresh token) lives without a new sign-in.
    #[arg(long, env = "STUDENTS_SESSION_DAYS", default_value_t = 30)]
    pub session_days: u64,
    /// Admin HTTP (Prometheus `/metrics`): keep it off the public network.
    #[arg(long, env = "STUDENTS_ADMIN_LISTEN", default_value = "127.0.0.1:9081")]
    pub admin_listen: SocketAddr,
    /// On SIGTERM: report NOT_SERVING and keep serving this long, so clients
    /// and Kubernetes stop routing here first; then drain in-flight calls.
    #[arg(long, env = "STUDENTS_DRAIN_DELAY_MS", default_value_t = 5000)]
    pub drain_delay_ms: u64,
    /// Repository operations slower than this are logged at warn.
    #[arg(long, env = "STUDENTS_SLOW_QUERY_MS", default_value_t = 200)]
    pub slow_query_ms: u64,
    /// gRPC listen address.
    #[arg(long, env = "STUDENTS_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    /// Postgres URL for the `students_svc` role (its search_path is `students`).
    #[arg(long, env = "STUDENTS_DATABASE_URL", hide_env_values = true)]
    pub database_url: SecretString,
    #[arg(long, env = "STUDENTS_DB_POOL_SIZE", default_value_t = 16)]
    pub db_pool_size: usize,
    /// Longest wait for a pooled connection before answering UNAVAILABLE.
    #[arg(long, env = "STUDENTS_DB_WAIT_TIMEOUT_MS", default_value_t = 2000)]
    pub db_wait_timeout_ms: u64,
    #[arg(long, env = "STUDENTS_DB_STATEMENT_TIMEOUT_MS", default_value_t = 5000)]
    pub db_statement_timeout_ms: u64,
    /// Server-side cap on any one RPC.
    #[arg(long, env = "STUDENTS_RPC_TIMEOUT_MS", default_value_t = 10_000)]
    pub rpc_timeout_ms: u64,
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,
    /// Redis for domain events: `redis://host:port` or
    /// `redis-cluster://host:port?node=host:port&...`.
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    pub redis_url: String,
    /// Deadline of each Redis command the relay sends.
    #[arg(
        long,
        env = "STUDENTS_REDIS_COMMAND_TIMEOUT_MS",
        default_value_t = 1000
    )]
    pub redis_command_timeout_ms: u64,
    /// Run the outbox relay in this process (every replica may; they share
    /// the work without publishing a row twice).
    #[arg(long, env = "STUDENTS_RELAY_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    pub relay_enabled: bool,
    /// Most events published per relay step.
    #[arg(long, env = "STUDENTS_RELAY_BATCH", default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub relay_batch: u32,
    /// Pause of an idle relay before it looks for new events again.
    #[arg(long, env = "STUDENTS_RELAY_POLL_MS", default_value_t = 20)]
    pub relay_poll_ms: u64,
    /// Published outbox rows are deleted after this long.
    #[arg(
        long,
        env = "STUDENTS_OUTBOX_RETENTION_SECS",
        default_value_t = 259_200
    )]
    pub outbox_retention_secs: u64,
    /// Each school's event stream is trimmed to about this many entries.
    #[arg(long, env = "EVENTS_STREAM_MAXLEN", default_value_t = 100_000)]
    pub events_stream_maxlen: u64,
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

    pub fn relay_settings(&self) -> RelaySettings {
        RelaySettings {
            batch: self.relay_batch as usize,
            poll: Duration::from_millis(self.relay_poll_ms.max(1)),
            retention: Duration::from_secs(self.outbox_retention_secs),
            stream_maxlen: self.events_stream_maxlen,
            ..RelaySettings::default()
        }
    }

    pub fn redis_settings(&self) -> RedisSettings {
        RedisSettings {
            command_timeout: Duration::from_millis(self.redis_command_timeout_ms.max(1)),
            ..RedisSettings::default()
        }
    }

    pub fn login_throttle(&self) -> crate::accounts::throttle::Throttle {
        crate::accounts::throttle::Throttle {
            max_failures: self.login_max_failures.max(1),
            lock: Duration::from_secs(self.login_lock_secs.max(1)),
        }
    }

    pub fn database_url(&self) -> &str {
        self.database_url.expose_secret()
    }

    /// Settings for tests: everything default but the database.
    pub fn for_database(url: &str) -> Self {
        Self {
            service_auth_key: platform::trust::TEST_KEY.parse().expect("the test key"),
            grpc_tls: Default::default(),
            login_max_failures: 10,
            login_lock_secs: 900,
            session_days: 30,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            admin_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            drain_delay_ms: 0,
            slow_query_ms: 200,
            database_url: SecretString::from(url.to_owned()),
            db_pool_size: 8,
            db_wait_timeout_ms: 2000,
            db_statement_timeout_ms: 5000,
            rpc_timeout_ms: 10_000,
            log_format: LogFormat::Pretty,
            redis_url: "redis://127.0.0.1:6379".into(),
            redis_command_timeout_ms: 1000,
            // Tests that need events switch it on with a Redis of their own.
            relay_enabled: false,
            relay_batch: 500,
            relay_poll_ms: 20,
            outbox_retention_secs: 259_200,
            events_stream_maxlen: 100_000,
        }
    }
}
