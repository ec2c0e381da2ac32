//! notify-svc: notifications, delivery jobs and documents.
//!
//! Today it owns the `notify` schema (migrated at start-up) and serves the
//! standard gRPC health service ([`platform::health_only`]); its RPCs and
//! event consumers arrive with their issues.

pub mod jobs;
pub mod sms;

use std::net::SocketAddr;

use clap::Parser;
use platform::db::Migration;
use secrecy::{ExposeSecret, SecretString};

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../migrations/0001_init.sql"),
    },
    Migration {
        version: 3,
        name: "jobs",
        sql: include_str!("../migrations/0003_jobs.sql"),
    },
];

#[derive(Parser, Debug)]
#[command(name = "notify-svc")]
pub struct Config {
    /// gRPC listen address.
    #[arg(long, env = "NOTIFY_LISTEN", default_value = "127.0.0.1:50053")]
    pub listen: SocketAddr,
    /// Admin HTTP (Prometheus `/metrics`): keep it off the public network.
    #[arg(long, env = "NOTIFY_ADMIN_LISTEN", default_value = "127.0.0.1:9083")]
    pub admin_listen: SocketAddr,
    /// Postgres URL for the `notify_svc` role (its search_path is `notify`).
    #[arg(long, env = "NOTIFY_DATABASE_URL", hide_env_values = true)]
    pub database_url: SecretString,
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = platform::telemetry::LogFormat::Json)]
    pub log_format: platform::telemetry::LogFormat,
    #[command(flatten)]
    pub jobs: jobs::JobsConfig,
}

pub async fn build(config: &Config) -> anyhow::Result<platform::health_only::Application> {
    platform::health_only::Application::build(
        "notify-svc",
        config.listen,
        config.admin_listen,
        config.database_url.expose_secret(),
        MIGRATIONS,
    )
    .await
}
