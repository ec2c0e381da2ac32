//! analytics-svc: read models for dashboards and reports.
//!
//! Today it owns the `analytics` schema (migrated at start-up) and serves the
//! standard gRPC health service; its RPCs and event consumers arrive with
//! their issues.

use std::{future::Future, net::SocketAddr};

use anyhow::Context;
use clap::Parser;
use platform::db::{self, Migration, PoolSettings};
use secrecy::{ExposeSecret, SecretString};
use tokio::net::TcpListener;

pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "init",
    sql: include_str!("../migrations/0001_init.sql"),
}];

#[derive(Parser, Debug)]
#[command(name = "analytics-svc")]
pub struct Config {
    /// gRPC listen address.
    #[arg(long, env = "ANALYTICS_LISTEN", default_value = "127.0.0.1:50052")]
    pub listen: SocketAddr,
    /// Postgres URL for the `analytics_svc` role (its search_path is `analytics`).
    #[arg(long, env = "ANALYTICS_DATABASE_URL", hide_env_values = true)]
    pub database_url: SecretString,
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = platform::telemetry::LogFormat::Json)]
    pub log_format: platform::telemetry::LogFormat,
}

pub struct Application {
    listener: TcpListener,
}

impl Application {
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        db::migrate(
            config.database_url.expose_secret(),
            &PoolSettings::default(),
            MIGRATIONS,
        )
        .await?;
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        Ok(Self { listener })
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        tracing::info!(listen.addr = ?self.local_addr(), "analytics-svc serving health");
        platform::grpc::serve_health_only(self.listener, shutdown).await
    }
}
