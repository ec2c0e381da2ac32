//! A service whose schema and deployment exist before its RPCs do: it
//! migrates its schema, then serves only the standard health service.

use std::{future::Future, net::SocketAddr};

use anyhow::Context;
use tokio::net::TcpListener;

use crate::db::{self, Migration, PoolSettings};

pub struct Application {
    listener: TcpListener,
    name: &'static str,
}

impl Application {
    pub async fn build(
        name: &'static str,
        listen: SocketAddr,
        database_url: &str,
        migrations: &[Migration],
    ) -> anyhow::Result<Self> {
        db::migrate(database_url, &PoolSettings::default(), migrations).await?;
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        Ok(Self { listener, name })
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        tracing::info!(service = self.name, listen.addr = ?self.local_addr(), "serving health only");
        crate::grpc::serve_health_only(self.listener, shutdown).await
    }
}
