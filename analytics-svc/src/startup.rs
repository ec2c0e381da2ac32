//! Builds the server: migrate, pool, bind, the event consumer. Tests call
//! this with port 0.

use std::{future::Future, net::SocketAddr, time::Duration};

use anyhow::Context;
use platform::{
    db::{self, Migration},
    events::Consumer,
};
use tokio::net::TcpListener;

use crate::{
    config::Config,
    dashboards::api::AnalyticsApi,
    domain::Clock,
    handler::AnalyticsHandler,
    rebuild::{api::AdminApi, export::StudentsExport},
};

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../migrations/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "read_models",
        sql: include_str!("../migrations/0002_read_models.sql"),
    },
    Migration {
        version: 3,
        name: "course_grade_indexes",
        sql: include_str!("../migrations/0003_course_grade_indexes.sql"),
    },
];

pub struct Application {
    listener: TcpListener,
    admin: TcpListener,
    pool: deadpool_postgres::Pool,
    drain_delay: Duration,
    /// Vouches for callers (platform::trust): checked on every call.
    service_key: platform::trust::ServiceKey,
    /// TLS of the gRPC port (plaintext for `make run` only) and the
    /// health-only probe listener.
    listening: platform::grpc_tls::Listening,
    consumer: Option<Consumer<AnalyticsHandler>>,
    analytics: AnalyticsApi,
    admin_api: AdminApi,
}

impl Application {
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Clock::system()).await
    }

    /// [`Self::build`] with "now" from `clock` (tests fix "today").
    pub async fn build_with_clock(config: &Config, clock: Clock) -> anyhow::Result<Self> {
        let settings = config.pool_settings();
        db::migrate(config.database_url(), &settings, MIGRATIONS).await?;
        let pool = db::pool(config.database_url(), &settings)?;
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let admin = platform::metrics::bind_admin(config.admin_listen).await?;
        // Bumps the gateway's dashboard generations; connects in the
        // background, so the service starts without Redis.
        let cache = if config.cache_bump {
            Some(platform::redis::connect(
                &config.redis_url,
                &config.redis_settings(),
            )?)
        } else {
            None
        };
        let handler = AnalyticsHandler::new(config.thresholds(), cache.clone());
        let consumer = if config.consumer_enabled {
            Some(Consumer::new(
                &config.redis_url,
                &config.redis_settings(),
                pool.clone(),
                handler,
                config.consumer_settings(),
            )?)
        } else {
            tracing::warn!("event consumer disabled: read models are not kept current");
            None
        };
        let export = StudentsExport::new(
            &config.students_url,
            Duration::from_millis(config.export_timeout_ms),
            config.service_auth_key.clone(),
            config.grpc_tls.client()?.as_ref(),
        )?;
        Ok(Self {
            listener,
            admin,
            drain_delay: Duration::from_millis(config.drain_delay_ms),
            service_key: config.service_auth_key.clone(),
            listening: config.grpc_tls.listening().await?,
            consumer,
            analytics: AnalyticsApi::new(pool.clone(), clock),
            admin_api: AdminApi::new(pool.clone(), export, config.thresholds(), cache),
            pool,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn admin_addr(&self) -> SocketAddr {
        self.admin
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Serves until `shutdown` resolves, then reports NOT_SERVING, stops the
    /// consumer (the event being applied finishes) and lets calls drain.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        use proto::analytics::v1::{
            analytics_admin_service_server::AnalyticsAdminServiceServer,
            analytics_service_server::AnalyticsServiceServer,
        };
        let (listen_addr, admin_addr) = (self.local_addr(), self.admin_addr());
        let (reporter, health) = platform::grpc::health().await;
        let (names, routes) = platform::grpc::Services::default()
            .serve(AnalyticsServiceServer::new(self.analytics))
            .serve(AnalyticsAdminServiceServer::new(self.admin_api))
            .start(&reporter)
            .await;
        tracing::info!(listen.addr = %listen_addr, admin.addr = %admin_addr, "analytics-svc serving");
        let admin = platform::db::spawn_admin(self.admin, self.pool.clone());
        let (stop_consumer, consumer_stopped) = tokio::sync::watch::channel(false);
        let consumer = self.consumer.map(|c| {
            let mut stopped = consumer_stopped.clone();
            tokio::spawn(c.run(async move {
                let _ = stopped.wait_for(|s| *s).await;
            }))
        });
        let signal = async {
            shutdown.await;
            let _ = stop_consumer.send(true);
        };
        let listener = self.listener;
        let (server, _probe) = self.listening.start(health.clone())?;
        let served = server
            .trace_fn(platform::grpc::request_span)
            .layer(platform::metrics::GrpcMetricsLayer)
            .layer(platform::trust::VerifyLayer::new(self.service_key))
            .add_routes(routes)
            .add_service(health)
            .serve_with_incoming_shutdown(
                platform::grpc::incoming(listener),
                platform::grpc::drain_on(signal, reporter, &names, self.drain_delay),
            )
            .await
            .context("gRPC server failed");
        let _ = stop_consumer.send(true);
        if let Some(consumer) = consumer {
            if tokio::time::timeout(Duration::from_secs(10), consumer)
                .await
                .is_err()
            {
                tracing::warn!("event consumer did not stop in time");
            }
        }
        admin.stop().await;
        served
    }
}
