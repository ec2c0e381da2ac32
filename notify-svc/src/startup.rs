//! Builds the server: migrate, pool, bind, and the event consumer. Tests
//! call this with port 0.

use std::{future::Future, net::SocketAddr, time::Duration};

use anyhow::Context;
use platform::{
    db::{self, Migration},
    events::Consumer,
};
use tokio::net::TcpListener;

use crate::{config::Config, handler::NotifyHandler};

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../migrations/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "absence_alerts",
        sql: include_str!("../migrations/0002_absence_alerts.sql"),
    },
    Migration {
        version: 3,
        name: "jobs",
        sql: include_str!("../migrations/0003_jobs.sql"),
    },
    Migration {
        version: 4,
        name: "inbox",
        sql: include_str!("../migrations/0004_inbox.sql"),
    },
    Migration {
        version: 5,
        name: "link_versions",
        sql: include_str!("../migrations/0005_link_versions.sql"),
    },
    Migration {
        version: 6,
        name: "email_notices",
        sql: include_str!("../migrations/0006_email_notices.sql"),
    },
    Migration {
        version: 7,
        name: "delivery_admin",
        sql: include_str!("../migrations/0007_delivery_admin.sql"),
    },
    Migration {
        version: 8,
        name: "announcements",
        sql: include_str!("../migrations/0008_announcements.sql"),
    },
    Migration {
        version: 9,
        name: "student_notices",
        sql: include_str!("../migrations/0009_student_notices.sql"),
    },
    Migration {
        version: 10,
        name: "report_cards",
        sql: include_str!("../migrations/0010_report_cards.sql"),
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
    consumer: Option<Consumer<NotifyHandler>>,
    /// Started in `run_until`, stopped (unfinished jobs handed back) on
    /// shutdown.
    jobs: JobsStart,
}

struct JobsStart {
    database_url: String,
    config: crate::jobs::JobsConfig,
    realtime: fred::prelude::Client,
    reminders: crate::reminders::Schedule,
    announcements: crate::announcements::config::AnnouncementsConfig,
    report_cards: std::sync::Arc<crate::report_cards::runner::Runner>,
}

impl Application {
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        let settings = config.pool_settings();
        db::migrate(config.database_url(), &settings, MIGRATIONS).await?;
        let pool = db::pool(config.database_url(), &settings)?;
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let admin = platform::metrics::bind_admin(config.admin_listen).await?;
        let consumer = if config.consumer_enabled {
            // Its own Redis client, connecting in the background: the
            // service starts without Redis and catches up when it returns.
            Some(Consumer::new(
                &config.redis_url,
                &config.redis_settings(),
                pool.clone(),
                NotifyHandler::new(config.reminders.schedule()?),
                config.consumer_settings(),
            )?)
        } else {
            tracing::warn!("event consumer disabled: no absence alerts");
            None
        };
        // Validated now, so a bad jobs or SMS setting fails start-up.
        config.jobs.settings()?;
        config.jobs.sms.client()?;
        let jobs = JobsStart {
            database_url: config.database_url().to_owned(),
            config: config.jobs.clone(),
            // Publishes `push` jobs; connects in the background.
            realtime: platform::redis::connect(&config.redis_url, &config.redis_settings())?,
            reminders: config.reminders.schedule()?,
            announcements: config.announcements.clone(),
            // Its analytics-svc channel connects lazily: a card waits (and
            // retries) while analytics-svc is away, start-up does not.
            report_cards: std::sync::Arc::new(crate::report_cards::runner::Runner::new(
                &config.report_cards,
                std::sync::Arc::new(crate::report_cards::store::PgPdfStore::new(pool.clone())),
                config.service_auth_key.clone(),
                config.grpc_tls.client()?.as_ref(),
            )?),
        };
        Ok(Self {
            listener,
            admin,
            pool,
            drain_delay: Duration::from_millis(config.drain_delay_ms),
            service_key: config.service_auth_key.clone(),
            listening: config.grpc_tls.listening().await?,
            consumer,
            jobs,
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
        let (reporter, health) = platform::grpc::health().await;
        // Clients and probes may ask by service name, as they do of
        // students-svc; NOT_SERVING under the same name when draining.
        let (names, routes) = platform::grpc::Services::default()
            .serve(
                proto::notify::v1::notification_service_server::NotificationServiceServer::new(
                    crate::inbox::InboxApi::new(self.pool.clone()),
                ),
            )
            .serve(
                proto::notify::v1::notification_template_service_server::NotificationTemplateServiceServer::new(
                    crate::templates::api::TemplatesApi::new(self.pool.clone()),
                ),
            )
            .serve(
                proto::notify::v1::delivery_admin_service_server::DeliveryAdminServiceServer::new(
                    crate::delivery_admin::api::DeliveryAdminApi::new(self.pool.clone()),
                ),
            )
            .serve(
                proto::notify::v1::announcement_service_server::AnnouncementServiceServer::new(
                    crate::announcements::api::AnnouncementApi::new(
                        self.pool.clone(),
                        self.jobs.announcements.announcements_per_day,
                    ),
                ),
            )
            .serve(
                proto::notify::v1::report_card_service_server::ReportCardServiceServer::new(
                    crate::report_cards::api::ReportCardApi::new(
                        self.pool.clone(),
                        std::sync::Arc::new(crate::report_cards::store::PgPdfStore::new(
                            self.pool.clone(),
                        )),
                    ),
                ),
            )
            .start(&reporter)
            .await;
        tracing::info!(listen.addr = %self.local_addr(), admin.addr = %self.admin_addr(), "notify-svc serving");
        let admin = platform::db::spawn_admin(self.admin, self.pool.clone());
        let (stop_consumer, consumer_stopped) = tokio::sync::watch::channel(false);
        let consumer = self.consumer.map(|c| {
            let mut stopped = consumer_stopped.clone();
            tokio::spawn(c.run(async move {
                let _ = stopped.wait_for(|s| *s).await;
            }))
        });
        let (stop_jobs, jobs_stopped) = tokio::sync::watch::channel(false);
        let workers = crate::jobs::spawn_workers(
            self.pool.clone(),
            &self.jobs.database_url,
            &self.jobs.config,
            crate::jobs::Deliverers {
                realtime: Some(self.jobs.realtime.clone()),
                reminders: Some(std::sync::Arc::new(crate::reminders::Runner {
                    schedule: self.jobs.reminders.clone(),
                })),
                announcements: Some(std::sync::Arc::new(crate::announcements::fanout::Runner {
                    batch: i64::from(self.jobs.announcements.announcement_batch),
                })),
                report_cards: Some(self.jobs.report_cards.clone()),
                ..Default::default()
            },
            async move {
                let mut stopped = jobs_stopped;
                let _ = stopped.wait_for(|s| *s).await;
            },
        )?;
        let signal = async {
            shutdown.await;
            // New events wait for another replica (or the next start);
            // running jobs finish or go back to the queue.
            let _ = stop_consumer.send(true);
            let _ = stop_jobs.send(true);
        };
        let (server, _probe) = self.listening.start(health.clone())?;
        let served = server
            .trace_fn(platform::grpc::request_span)
            .layer(platform::metrics::GrpcMetricsLayer)
            .layer(platform::trust::VerifyLayer::new(self.service_key))
            .add_routes(routes)
            .add_service(health)
            .serve_with_incoming_shutdown(
                platform::grpc::incoming(self.listener),
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
        let _ = stop_jobs.send(true);
        workers.join().await;
        admin.stop().await;
        served
    }
}
