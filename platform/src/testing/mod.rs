//! Test support: every test gets a database of its own, laid out like
//! production (one schema per service, each owned by that service's role),
//! so tests run in parallel without sharing mutable state. Also the helpers
//! every crate's tests share: [`eventually`] (polling for something that
//! happens in the background), [`AssertCode`] (gRPC errors), the test
//! stack's Redis URLs and private Redis servers ([`redis`]), and the
//! statement-counting proxy ([`pgcount`]).
//!
//! Reads `PG_ADMIN_URL` (a superuser) and `STUDENTS_DATABASE_URL`,
//! `ANALYTICS_DATABASE_URL`, `NOTIFY_DATABASE_URL` (the service roles), as
//! written by `deploy/local/stack.sh` to `.stack/test/env`; `make test`
//! exports them.

use anyhow::Context;
use tokio_postgres::NoTls;
use uuid::Uuid;

/// Connection URLs of one fresh database.
#[derive(Clone, Debug)]
pub struct TestDatabase {
    pub name: String,
    pub admin_url: String,
    pub students_url: String,
    pub analytics_url: String,
    pub notify_url: String,
}

fn env(key: &str) -> anyhow::Result<String> {
    std::env::var(key).with_context(|| {
        format!("{key} is not set: run the tests with `make test` (it starts the test stack)")
    })
}

/// `url` with its database name replaced by `db`.
fn with_database(url: &str, db: &str) -> anyhow::Result<String> {
    let (base, _) = url
        .rsplit_once('/')
        .context("database URL has no database name")?;
    Ok(format!("{base}/{db}"))
}

async fn admin_connect(url: &str) -> anyhow::Result<tokio_postgres::Client> {
    let (client, conn) = tokio_postgres::connect(url, NoTls)
        .await
        .with_context(|| "cannot connect as the Postgres admin (is the test stack up?)")?;
    tokio::spawn(conn);
    Ok(client)
}

impl TestDatabase {
    /// Rows in `table` (schema-qualified), read as the database admin: tests
    /// use it to prove that rejected input wrote nothing.
    pub async fn count(&self, table: &str) -> i64 {
        let c = connect(&self.admin_url).await.expect("admin connection");
        c.query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await
            .expect("count rows")
            .get(0)
    }
}

/// Creates a new database with the `students`, `analytics` and `notify`
/// schemas owned by their service roles and nothing granted to PUBLIC.
pub async fn fresh_database() -> anyhow::Result<TestDatabase> {
    let admin_url = env("PG_ADMIN_URL")?;
    let name = format!("test_{}", Uuid::new_v4().simple());
    let admin = admin_connect(&admin_url).await?;
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await?;
    let db_admin_url = with_database(&admin_url, &name)?;
    let db = admin_connect(&db_admin_url).await?;
    db.batch_execute(&format!(
        "REVOKE ALL ON DATABASE {name} FROM PUBLIC;
         REVOKE ALL ON SCHEMA public FROM PUBLIC;
         GRANT CONNECT ON DATABASE {name} TO students_svc, analytics_svc, notify_svc;
         CREATE SCHEMA students AUTHORIZATION students_svc;
         CREATE SCHEMA analytics AUTHORIZATION analytics_svc;
         CREATE SCHEMA notify AUTHORIZATION notify_svc;"
    ))
    .await?;
    Ok(TestDatabase {
        students_url: with_database(&env("STUDENTS_DATABASE_URL")?, &name)?,
        analytics_url: with_database(&env("ANALYTICS_DATABASE_URL")?, &name)?,
        notify_url: with_database(&env("NOTIFY_DATABASE_URL")?, &name)?,
        admin_url: db_admin_url,
        name,
    })
}

/// A plain connection, for assertions on what was (not) written.
pub async fn connect(url: &str) -> anyhow::Result<tokio_postgres::Client> {
    admin_connect(url).await
}

/// `GET /metrics` of an admin listener, as text (plain HTTP/1.0, no client
/// library needed).
pub async fn scrape(addr: std::net::SocketAddr) -> anyhow::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(b"GET /metrics HTTP/1.0\r\nHost: admin\r\n\r\n")
        .await?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await?;
    let (head, body) = raw.split_once("\r\n\r\n").context("no HTTP body")?;
    anyhow::ensure!(
        head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
        "{head}"
    );
    Ok(body.to_owned())
}

/// Runs a health-only service and checks that it reports SERVING, that the
/// service schemas hold exactly `tables`, and that it stops when asked.
pub async fn assert_health_only(
    app: crate::health_only::Application,
    db: &TestDatabase,
    tables: &[&str],
) {
    use tonic_health::pb::{
        health_check_response::ServingStatus, health_client::HealthClient, HealthCheckRequest,
    };
    let addr = app.local_addr().expect("bound address");
    let admin_addr = app.admin_addr().expect("admin address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let status = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health check")
        .into_inner()
        .status;
    assert_eq!(status, ServingStatus::Serving as i32);
    // The call shows on the admin listener, in Prometheus text.
    let text = scrape(admin_addr).await.expect("scrape /metrics");
    assert!(
        text.contains("grpc_server_requests_total{service=\"grpc.health.v1.Health\",method=\"Check\",code=\"OK\"}"),
        "{text}"
    );
    assert!(
        text.contains("grpc_server_request_duration_seconds_bucket{"),
        "{text}"
    );

    let admin = connect(&db.admin_url).await.expect("admin connection");
    let found: Vec<String> = admin
        .query(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables \
             WHERE table_schema IN ('students', 'analytics', 'notify') ORDER BY 1",
            &[],
        )
        .await
        .expect("list tables")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(found, tables);

    stop.send(()).expect("server still running");
    server
        .await
        .expect("server task")
        .expect("server stopped cleanly");
}

#[cfg(feature = "events")]
pub mod bus;
mod grpc;
pub mod pgcount;
mod poll;
pub mod redis;
pub mod smtp;
pub use grpc::AssertCode;
pub use poll::{eventually, Outcome, POLL_INTERVAL};
pub use redis::{PrivateRedis, PrivateRedisCluster};
