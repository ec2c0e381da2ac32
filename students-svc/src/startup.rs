//! Builds the server: migrate, pool, bind. Tests call this with port 0.

use crate::accounts::revocations::Revocations;
use std::{future::Future, net::SocketAddr, time::Duration};

use anyhow::Context;
use platform::db::{self, Migration};
use proto::students::v1 as pb;
use tokio::net::TcpListener;

use crate::accounts::api::{AuthApi, UserApi};
use crate::attendance::api::AttendanceApi;
use crate::courses::api::CourseApi;
use crate::enrolments::api::EnrolmentApi;
use crate::export::api::ExportApi;
use crate::fees::api::FeesApi;
use crate::grades::api::GradesApi;
use crate::guardians::api::GuardianApi;
use crate::schools::api::SchoolApi;
use crate::staff::api::StaffApi;
use crate::students::api::StudentApi;
use crate::{config::Config, relay::Relay};

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../migrations/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "outbox",
        sql: include_str!("../migrations/0002_outbox.sql"),
    },
    Migration {
        version: 3,
        name: "courses",
        sql: include_str!("../migrations/0003_courses.sql"),
    },
    Migration {
        version: 4,
        name: "guardians",
        sql: include_str!("../migrations/0004_guardians.sql"),
    },
    Migration {
        version: 5,
        name: "fees",
        sql: include_str!("../migrations/0005_fees.sql"),
    },
    Migration {
        version: 6,
        name: "grades",
        sql: include_str!("../migrations/0006_grades.sql"),
    },
    Migration {
        version: 7,
        name: "attendance_write_path",
        sql: include_str!("../migrations/0007_attendance_write_path.sql"),
    },
    Migration {
        version: 8,
        name: "admission_no_case",
        sql: include_str!("../migrations/0008_admission_no_case.sql"),
    },
    Migration {
        version: 9,
        name: "school_settings_and_versions",
        sql: include_str!("../migrations/0009_school_settings_and_versions.sql"),
    },
    Migration {
        version: 10,
        name: "guardian_language",
        sql: include_str!("../migrations/0010_guardian_language.sql"),
    },
    Migration {
        version: 11,
        name: "login_throttle",
        sql: include_str!("../migrations/0011_login_throttle.sql"),
    },
    Migration {
        version: 12,
        name: "sessions",
        sql: include_str!("../migrations/0012_sessions.sql"),
    },
];

pub struct Application {
    listener: TcpListener,
    admin: TcpListener,
    pool: deadpool_postgres::Pool,
    rpc_timeout: Duration,
    drain_delay: Duration,
    /// Vouches for callers (platform::trust): checked on every call.
    service_key: platform::trust::ServiceKey,
    /// TLS of the gRPC port (plaintext for `make run` only) and the
    /// health-only probe listener.
    listening: platform::grpc_tls::Listening,
    login_throttle: crate::accounts::throttle::Throttle,
    sessions: crate::accounts::api::SessionSettings,
    revocations: Revocations,
    relay: Option<Relay>,
}

impl Application {
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        db::set_slow_query(Duration::from_millis(config.slow_query_ms));
        let settings = config.pool_settings();
        db::migrate(config.database_url(), &settings, MIGRATIONS).await?;
        let pool = db::pool(config.database_url(), &settings)?;
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let admin = platform::metrics::bind_admin(config.admin_listen).await?;
        // Connects in the background: the service starts without Redis, the
        // outbox holds events and revocations are retried until it is back.
        let redis = platform::redis::connect(&config.redis_url, &config.redis_settings())?;
        let revocations = Revocations::new(Some(redis.clone()));
        let relay = if config.relay_enabled {
            Some(Relay::new(pool.clone(), redis, config.relay_settings()))
        } else {
            tracing::warn!("outbox relay disabled: events stay in the outbox");
            None
        };
        Ok(Self {
            relay,
            listener,
            admin,
            pool,
            rpc_timeout: Duration::from_millis(config.rpc_timeout_ms),
            drain_delay: Duration::from_millis(config.drain_delay_ms),
            service_key: config.service_auth_key.clone(),
            listening: config.grpc_tls.listening().await?,
            login_throttle: config.login_throttle(),
            sessions: crate::accounts::api::SessionSettings {
                lifetime: Duration::from_secs(config.session_days.max(1) * 86_400),
            },
            revocations,
        })
    }

    /// The plaintext health-only listener's address (`GRPC_PROBE_LISTEN`).
    pub fn probe_addr(&self) -> Option<SocketAddr> {
        self.listening.probe_addr()
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

    /// Serves until `shutdown` resolves, then reports NOT_SERVING and lets
    /// in-flight calls finish.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        use pb::{
            attendance_service_server::AttendanceServiceServer,
            auth_service_server::AuthServiceServer, course_service_server::CourseServiceServer,
            enrolment_service_server::EnrolmentServiceServer,
            export_service_server::ExportServiceServer, fee_service_server::FeeServiceServer,
            grade_service_server::GradeServiceServer,
            guardian_service_server::GuardianServiceServer,
            school_service_server::SchoolServiceServer, staff_service_server::StaffServiceServer,
            student_service_server::StudentServiceServer, user_service_server::UserServiceServer,
        };
        let pool = &self.pool;
        let (reporter, health) = platform::grpc::health().await;
        // Each service is added once; its health name comes from the same
        // call, so none can be served unreported (or reported unserved).
        let (names, routes) = platform::grpc::Services::default()
            .serve(SchoolServiceServer::new(SchoolApi::new(pool.clone())))
            .serve(AuthServiceServer::new(AuthApi::new(
                pool.clone(),
                self.login_throttle,
                self.sessions,
                self.revocations.clone(),
            )))
            .serve(UserServiceServer::new(UserApi::new(
                pool.clone(),
                self.revocations.clone(),
            )))
            .serve(StudentServiceServer::new(StudentApi::new(
                pool.clone(),
                self.revocations.clone(),
            )))
            .serve(GuardianServiceServer::new(GuardianApi::new(pool.clone())))
            .serve(StaffServiceServer::new(StaffApi::new(pool.clone())))
            .serve(CourseServiceServer::new(CourseApi::new(pool.clone())))
            .serve(EnrolmentServiceServer::new(EnrolmentApi::new(pool.clone())))
            .serve(AttendanceServiceServer::new(AttendanceApi::new(
                pool.clone(),
            )))
            .serve(GradeServiceServer::new(GradesApi::new(pool.clone())))
            .serve(FeeServiceServer::new(FeesApi::new(pool.clone())))
            .serve(ExportServiceServer::new(ExportApi::new(pool.clone())))
            .start(&reporter)
            .await;
        tracing::info!(listen.addr = %self.local_addr(), admin.addr = %self.admin_addr(), "students-svc serving");
        let admin = platform::db::spawn_admin(self.admin, self.pool.clone());
        // The relay outlives the gRPC server, so events of calls that were
        // still draining get published before the process exits.
        let (stop_relay, relay_stopped) = tokio::sync::oneshot::channel::<()>();
        let relay = self.relay.map(|r| {
            tokio::spawn(r.run(async {
                let _ = relay_stopped.await;
            }))
        });
        let (server, _probe) = self.listening.start(health.clone())?;
        let served = server
            .timeout(self.rpc_timeout)
            .trace_fn(platform::grpc::request_span)
            .layer(platform::metrics::GrpcMetricsLayer)
            .layer(platform::trust::VerifyLayer::new(self.service_key))
            .add_routes(routes)
            .add_service(health)
            .serve_with_incoming_shutdown(
                platform::grpc::incoming(self.listener),
                platform::grpc::drain_on(shutdown, reporter, &names, self.drain_delay),
            )
            .await
            .context("gRPC server failed");
        let _ = stop_relay.send(());
        if let Some(relay) = relay {
            if tokio::time::timeout(Duration::from_secs(5), relay)
                .await
                .is_err()
            {
                tracing::warn!("outbox relay did not stop in time");
            }
        }
        admin.stop().await;
        served
    }
}
