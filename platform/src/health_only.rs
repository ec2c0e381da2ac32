//! A service whose schema and deployment exist before its RPCs do: it
//! migrates its schema, then serves only the standard health service.

use std::{future::Future, net::SocketAddr};

use anyhow::Context;
use tokio::net::TcpListener;

use crate::db::{self, Migration, PoolSettings};

pub struct Application {
    listener: TcpListener,
    admin: TcpListener,
    name: &'static str,
}

impl Application {
    pub async fn build(
        name: &'static str,
        listen: SocketAddr,
        admin_listen: SocketAddr,
        database_url: &str,
        migrations: &[Migration],
    ) -> anyhow::Result<Self> {
        db::migrate(database_url, &PoolSettings::default(), migrations).await?;
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let admin = crate::metrics::bind_admin(admin_listen).await?;
        Ok(Self {
            listener,
            admin,
            name,
        })
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin.local_addr().ok()
    }

    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        tracing::info!(service = self.name, listen.addr = ?self.local_addr(), admin.addr = ?self.admin_addr(), "serving health only");
        let handle = crate::metrics::recorder();
        let admin = crate::metrics::Admin::spawn(self.admin, move || handle.render());
        let served = crate::grpc::serve_health_only(self.listener, shutdown).await;
        admin.stop().await;
        served
    }
}
