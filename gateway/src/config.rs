//! Typed configuration from flags or environment variables. Secrets are
//! wrapped so they never appear in logs or `Debug` output.

use std::{net::SocketAddr, time::Duration};

use clap::Parser;
use platform::telemetry::LogFormat;
use secrecy::{ExposeSecret, SecretString};

use crate::ratelimit::{Policies, Policy, TrustedProxy};

#[derive(Parser, Debug, Clone)]
#[command(name = "gateway", about = "Schoolhouse HTTP/JSON API gateway")]
pub struct Config {
    /// TLS for gRPC (platform::grpc_tls): `GRPC_TLS_*`.
    #[command(flatten)]
    pub grpc_tls: platform::grpc_tls::TlsArgs,
    #[arg(long, env = "GATEWAY_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Admin HTTP (Prometheus `/metrics`): keep it off the public network.
    #[arg(long, env = "GATEWAY_ADMIN_LISTEN", default_value = "127.0.0.1:9080")]
    pub admin_listen: SocketAddr,
    /// HTTP worker threads; 0 = one per CPU core.
    #[arg(long, env = "GATEWAY_WORKERS", default_value_t = 0)]
    pub workers: usize,
    /// students-svc: comma-separated `http://host:port` URLs; a host may
    /// resolve to several replicas (a headless Service). Calls are balanced
    /// over the replicas that answer SERVING.
    #[arg(long, env = "STUDENTS_URL", default_value = "http://127.0.0.1:50051")]
    pub students_url: String,
    /// notify-svc (notification inboxes): URLs as for `STUDENTS_URL`.
    #[arg(long, env = "NOTIFY_URL", default_value = "http://127.0.0.1:50053")]
    pub notify_url: String,
    /// analytics-svc (dashboards and reports): URLs as for `STUDENTS_URL`.
    #[arg(long, env = "ANALYTICS_URL", default_value = "http://127.0.0.1:50052")]
    pub analytics_url: String,
    /// How often service addresses are resolved and health-checked.
    #[arg(long, env = "GRPC_DISCOVERY_INTERVAL_MS", default_value_t = 2000)]
    pub grpc_discovery_interval_ms: u64,
    /// `redis://host:port` or `redis-cluster://host:port?node=host:port&...`.
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    pub redis_url: String,
    #[arg(long, env = "REDIS_COMMAND_TIMEOUT_MS", default_value_t = 50)]
    pub redis_command_timeout_ms: u64,
    /// HS256 signing secret, at least 32 bytes.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: SecretString,
    #[arg(long, env = "JWT_ISSUER", default_value = "schoolhouse")]
    pub jwt_issuer: String,
    #[arg(long, env = "JWT_AUDIENCE", default_value = "schoolhouse-api")]
    pub jwt_audience: String,
    /// Access-token lifetime: minutes (refresh tokens renew them), at most
    /// an hour (revocations are kept for a day, platform::sessions).
    #[arg(long, env = "JWT_TTL_SECS", default_value_t = 900, value_parser = clap::value_parser!(u64).range(30..=3600))]
    pub jwt_ttl_secs: u64,
    /// Check every signed-in request's session against the revocations in
    /// Redis, in the rate-limit script's call. Off only to measure its cost.
    #[arg(long, env = "AUTH_REVOCATION_CHECK", default_value_t = true, action = clap::ArgAction::Set)]
    pub auth_revocation_check: bool,
    /// Clock skew tolerated on exp/nbf, at most 5 seconds.
    #[arg(long, env = "JWT_LEEWAY_SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(0..=5))]
    pub jwt_leeway_secs: u64,
    /// The key the gateway vouches for each call's caller with
    /// (platform::trust), at least 32 bytes; the services hold the same.
    #[arg(long, env = "SERVICE_AUTH_KEY", hide_env_values = true)]
    pub service_auth_key: platform::trust::ServiceKey,
    /// Bearer token for operator-only routes (creating schools), at least 32 bytes.
    #[arg(long, env = "OPERATOR_TOKEN", hide_env_values = true)]
    pub operator_token: SecretString,
    /// Comma-separated origins allowed by CORS; empty allows none.
    #[arg(
        long,
        env = "CORS_ALLOWED_ORIGINS",
        default_value = "",
        value_delimiter = ','
    )]
    pub cors_allowed_origins: Vec<String>,
    /// Largest accepted request body.
    #[arg(long, env = "BODY_LIMIT_BYTES", default_value_t = 64 * 1024)]
    pub body_limit_bytes: usize,
    /// Largest CSV accepted by `POST /students/import` (streamed, never buffered).
    #[arg(long, env = "IMPORT_BODY_LIMIT_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub import_limit_bytes: usize,
    #[arg(long, env = "GRPC_CONNECT_TIMEOUT_MS", default_value_t = 1000)]
    pub grpc_connect_timeout_ms: u64,
    /// Deadline of every call to a service.
    #[arg(long, env = "GRPC_REQUEST_TIMEOUT_MS", default_value_t = 5000)]
    pub grpc_request_timeout_ms: u64,
    /// Logins per client IP, and per account, as N/Ss.
    #[arg(long, env = "RATE_LIMIT_LOGIN", default_value = "10/60s")]
    pub rate_limit_login: Policy,
    /// Expensive operations (creating schools) per caller.
    #[arg(long, env = "RATE_LIMIT_EXPENSIVE", default_value = "20/60s")]
    pub rate_limit_expensive: Policy,
    /// Writes per user (or per IP when anonymous).
    #[arg(long, env = "RATE_LIMIT_WRITE", default_value = "300/60s")]
    pub rate_limit_write: Policy,
    /// Reads per user (or per IP when anonymous).
    #[arg(long, env = "RATE_LIMIT_READ", default_value = "1200/60s")]
    pub rate_limit_read: Policy,
    /// Cache GET answers; `false` sends every read to the origin (`X-Cache: BYPASS`).
    #[arg(long, env = "CACHE_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    pub cache_enabled: bool,
    /// Lifetime of a cached single record (`GET /students/{id}`), dashboard
    /// or student summary, 1-3600 s.
    #[arg(long, env = "CACHE_TTL_RECORD_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub cache_ttl_record_secs: u64,
    /// Lifetime of a cached list page (`GET /students`, `GET /reports/at-risk`),
    /// 1-3600 s.
    #[arg(long, env = "CACHE_TTL_LIST_SECS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub cache_ttl_list_secs: u64,
    /// Memory for the in-process copy of cached answers; 0 turns it off.
    #[arg(long, env = "CACHE_LOCAL_CAPACITY_MB", default_value_t = 64)]
    pub cache_local_capacity_mb: u64,
    /// Lifetime of an in-process copy (each use is still checked against Redis).
    #[arg(long, env = "CACHE_LOCAL_TTL_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub cache_local_ttl_secs: u64,
    /// Larger answers are served but not cached.
    #[arg(long, env = "CACHE_MAX_BODY_BYTES", default_value_t = 256 * 1024)]
    pub cache_max_body_bytes: usize,
    /// Comma-separated proxy addresses or CIDR blocks whose X-Forwarded-For
    /// is trusted.
    #[arg(long, env = "TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<TrustedProxy>,
    /// WebSocket: a ping goes to every socket this often.
    #[arg(long, env = "WS_PING_INTERVAL_SECS", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub ws_ping_interval_secs: u64,
    /// WebSocket: a socket silent (no pong, no frame) for a ping interval
    /// plus this long is closed.
    #[arg(long, env = "WS_PONG_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub ws_pong_timeout_secs: u64,
    /// WebSocket: messages waiting for one socket; a client that falls
    /// further behind is disconnected (close 1013) instead of growing memory.
    #[arg(long, env = "WS_SEND_QUEUE", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub ws_send_queue: u64,
    /// WebSocket: largest frame a client may send (it only needs pongs and
    /// close frames); larger closes the socket with 1009.
    #[arg(long, env = "WS_MAX_CLIENT_FRAME_BYTES", default_value_t = 4096)]
    pub ws_max_client_frame_bytes: usize,
    /// WebSocket: at shutdown, how long sockets get to receive their close
    /// frame (1001) before the server stops anyway.
    #[arg(long, env = "WS_SHUTDOWN_GRACE_MS", default_value_t = 5000)]
    pub ws_shutdown_grace_ms: u64,
    /// Timeout of the realtime subscriber's SSUBSCRIBE / SUNSUBSCRIBE (on
    /// the upgrade path of a school's first socket).
    #[arg(long, env = "REALTIME_REDIS_TIMEOUT_MS", default_value_t = 1000)]
    pub realtime_redis_timeout_ms: u64,
    /// Requests slower than this are logged at warn.
    #[arg(long, env = "SLOW_REQUEST_MS", default_value_t = 1000)]
    pub slow_request_ms: u64,
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,
    /// The web console's folder (`web/`): served at `/` beside the API
    /// when set; unset, the gateway serves the API only.
    #[arg(long, env = "CONSOLE_DIR")]
    pub console_dir: Option<std::path::PathBuf>,
}

impl Config {
    /// Checks what clap cannot: secret lengths.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.jwt_secret.expose_secret().len() >= 32,
            "JWT_SECRET must be at least 32 bytes"
        );
        anyhow::ensure!(
            self.operator_token.expose_secret().len() >= 32,
            "OPERATOR_TOKEN must be at least 32 bytes"
        );
        anyhow::ensure!(
            self.body_limit_bytes >= 1024,
            "BODY_LIMIT_BYTES must be at least 1024"
        );
        Ok(())
    }

    pub fn policies(&self) -> Policies {
        Policies {
            login: self.rate_limit_login,
            expensive: self.rate_limit_expensive,
            write: self.rate_limit_write,
            read: self.rate_limit_read,
        }
    }

    pub fn cache(&self) -> crate::cache::CacheSettings {
        crate::cache::CacheSettings {
            enabled: self.cache_enabled,
            ttls: crate::cache::Ttls {
                record: Duration::from_secs(self.cache_ttl_record_secs),
                list: Duration::from_secs(self.cache_ttl_list_secs),
            },
            local_capacity_bytes: self.cache_local_capacity_mb * 1024 * 1024,
            local_ttl: Duration::from_secs(self.cache_local_ttl_secs),
            max_body_bytes: self.cache_max_body_bytes,
        }
    }

    pub fn websocket(&self) -> crate::realtime::SocketSettings {
        crate::realtime::SocketSettings {
            ping_interval: Duration::from_secs(self.ws_ping_interval_secs),
            pong_timeout: Duration::from_secs(self.ws_pong_timeout_secs),
            send_queue: self.ws_send_queue as usize,
            max_client_frame_bytes: self.ws_max_client_frame_bytes,
        }
    }

    pub fn grpc_timeouts(&self) -> platform::grpc::ClientTimeouts {
        platform::grpc::ClientTimeouts {
            connect: Duration::from_millis(self.grpc_connect_timeout_ms),
            request: Duration::from_millis(self.grpc_request_timeout_ms),
        }
    }

    /// Settings for tests: fixed secrets, port 0.
    pub fn for_tests(students_url: String, redis_url: String) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            admin_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            workers: 2,
            students_url,
            // Tests that read notifications point it at their notify-svc.
            notify_url: "http://127.0.0.1:1".into(),
            // Tests that read dashboards point it at their analytics-svc.
            analytics_url: "http://127.0.0.1:1".into(),
            redis_url,
            redis_command_timeout_ms: 50,
            jwt_secret: SecretString::from("test-secret-test-secret-test-secret!".to_owned()),
            jwt_issuer: "schoolhouse".into(),
            jwt_audience: "schoolhouse-api".into(),
            jwt_ttl_secs: 900,
            auth_revocation_check: true,
            jwt_leeway_secs: 5,
            operator_token: SecretString::from("operator-token-operator-token-0123".to_owned()),
            service_auth_key: platform::trust::TEST_KEY.parse().expect("the test key"),
            grpc_tls: Default::default(),
            cors_allowed_origins: vec!["https://app.example.test".into()],
            body_limit_bytes: 16 * 1024,
            import_limit_bytes: 16 * 1024 * 1024,
            grpc_connect_timeout_ms: 1000,
            grpc_discovery_interval_ms: 100,
            grpc_request_timeout_ms: 5000,
            // Tests share one Redis and all come from 127.0.0.1: budgets wide
            // enough not to interfere; limit tests narrow their own.
            rate_limit_login: unlimited(),
            rate_limit_expensive: unlimited(),
            rate_limit_write: unlimited(),
            rate_limit_read: unlimited(),
            cache_enabled: true,
            cache_ttl_record_secs: 60,
            cache_ttl_list_secs: 120,
            cache_local_capacity_mb: 16,
            cache_local_ttl_secs: 10,
            cache_max_body_bytes: 256 * 1024,
            trusted_proxies: Vec::new(),
            ws_ping_interval_secs: 20,
            ws_pong_timeout_secs: 10,
            ws_send_queue: 64,
            ws_max_client_frame_bytes: 4096,
            ws_shutdown_grace_ms: 5000,
            realtime_redis_timeout_ms: 1000,
            slow_request_ms: 1000,
            log_format: LogFormat::Pretty,
            console_dir: None,
        }
    }
}

fn unlimited() -> Policy {
    Policy {
        limit: 1_000_000,
        window: Duration::from_secs(1),
    }
}
