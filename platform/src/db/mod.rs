//! Postgres: a pool whose every wait is bounded, and migrations applied once
//! under an advisory lock so several replicas can start at the same time.

mod pipelined;

use std::time::Duration;

use anyhow::Context;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime, Timeouts};
use tokio_postgres::NoTls;

pub use pipelined::Pipelined;

#[derive(Clone, Copy, Debug)]
pub struct PoolSettings {
    pub max_size: usize,
    /// How long a request may wait for a free connection before UNAVAILABLE.
    pub wait_timeout: Duration,
    pub connect_timeout: Duration,
    /// Server-side cap on any statement, so a runaway query frees its slot.
    pub statement_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_size: 16,
            wait_timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(3),
            statement_timeout: Duration::from_secs(5),
        }
    }
}

pub fn pg_config(url: &str, s: &PoolSettings) -> anyhow::Result<tokio_postgres::Config> {
    let mut cfg: tokio_postgres::Config = url.parse().context("invalid database URL")?;
    cfg.connect_timeout(s.connect_timeout);
    // Sessions run in UTC whatever the server's default: a `date` compared
    // with a `timestamptz` (a withdrawal, a mark's day) is cast at midnight
    // UTC, the same day the services compute with chrono's `Utc`.
    cfg.options(format!(
        "-c statement_timeout={} -c TimeZone=UTC",
        s.statement_timeout.as_millis()
    ));
    Ok(cfg)
}

/// Exports the pool's counters at zero, so alerts on their increase see a
/// series from the start. Call once the metrics recorder is installed.
pub fn register_metrics() {
    metrics::counter!("db_pool_timeouts_total").increment(0);
}

/// Serves a service's admin listener (`GET /metrics`) with its pool's
/// `db_pool_connections{state}` gauges, sampled at scrape time (a pool has
/// no hook on change, and a scrape is when the figures are wanted).
pub fn spawn_admin(listener: tokio::net::TcpListener, pool: Pool) -> crate::metrics::Admin {
    let handle = crate::metrics::recorder();
    register_metrics();
    crate::metrics::Admin::spawn(listener, move || {
        let s = pool.status();
        for (state, v) in [
            ("max", s.max_size),
            ("open", s.size),
            ("idle", s.available),
            ("waiting", s.waiting),
        ] {
            metrics::gauge!("db_pool_connections", "state" => state).set(v as f64);
        }
        handle.render()
    })
}

pub fn pool(url: &str, s: &PoolSettings) -> anyhow::Result<Pool> {
    let cfg = pg_config(url, s)?;
    // Fast recycling skips a round-trip per checkout; safe because no code
    // leaves session state behind (migrations use their own connection, and
    // a `Pipelined` transaction that did not end closes its connection).
    let mgr = Manager::from_config(
        cfg,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(mgr)
        .max_size(s.max_size)
        .timeouts(Timeouts {
            wait: Some(s.wait_timeout),
            create: Some(s.connect_timeout),
            recycle: Some(s.connect_timeout),
        })
        .runtime(Runtime::Tokio1)
        .build()
        .context("cannot build Postgres pool")
}

/// One embedded migration. `version`s are applied in ascending order.
#[derive(Clone, Copy, Debug)]
pub struct Migration {
    pub version: i32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Applies pending migrations into the connection's schema (the service
/// role's `search_path`). A changed migration that was already applied is an
/// error: history is never rewritten.
pub async fn migrate(url: &str, s: &PoolSettings, migrations: &[Migration]) -> anyhow::Result<()> {
    // They run in list order; a list out of version order would apply a
    // lower version after a higher one on databases that already have it.
    if let Some(w) = migrations.windows(2).find(|w| w[0].version >= w[1].version) {
        anyhow::bail!(
            "migrations must be listed in ascending version order: {} ({}) comes before {} ({})",
            w[0].version,
            w[0].name,
            w[1].version,
            w[1].name
        );
    }
    let (mut client, conn) = pg_config(url, s)?
        .connect(NoTls)
        .await
        .context("cannot connect to Postgres for migrations")?;
    let conn_task = tokio::spawn(conn);
    // Waiting for another replica's lock or building an index may take
    // longer than any request should.
    let result = match client.batch_execute("SET statement_timeout = 0").await {
        Ok(()) => apply(&mut client, migrations).await,
        Err(e) => Err(e.into()),
    };
    drop(client);
    let _ = conn_task.await;
    result
}

async fn apply(
    client: &mut tokio_postgres::Client,
    migrations: &[Migration],
) -> anyhow::Result<()> {
    let schema: String = client
        .query_one("SELECT current_schema()", &[])
        .await?
        .try_get::<_, Option<String>>(0)?
        .context("the database role has no usable schema on its search_path")?;
    // Session-level lock keyed by schema: replicas of one service serialise,
    // different services migrate in parallel.
    client
        .execute("SELECT pg_advisory_lock(hashtext($1))", &[&schema])
        .await?;
    let outcome = async {
        client
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                    version integer PRIMARY KEY,
                    name text NOT NULL,
                    checksum text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())",
            )
            .await?;
        for m in migrations {
            let row = client
                .query_opt(
                    "SELECT checksum, md5($2) FROM schema_migrations WHERE version = $1",
                    &[&m.version, &m.sql],
                )
                .await?;
            if let Some(row) = row {
                let (stored, now): (String, String) = (row.get(0), row.get(1));
                anyhow::ensure!(
                    stored == now,
                    "migration {} ({}) was edited after it was applied",
                    m.version,
                    m.name
                );
                continue;
            }
            let tx = client.transaction().await?;
            tx.batch_execute(m.sql)
                .await
                .with_context(|| format!("migration {} ({}) failed", m.version, m.name))?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, md5($3))",
                &[&m.version, &m.name, &m.sql],
            )
            .await?;
            tx.commit().await?;
            tracing::info!(migration.version = m.version, migration.name = m.name, db.schema = %schema, "migration applied");
        }
        anyhow::Ok(())
    }
    .await;
    client
        .execute("SELECT pg_advisory_unlock(hashtext($1))", &[&schema])
        .await?;
    outcome
}

static SLOW_QUERY: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();

/// Statements slower than this are logged at warn.
pub fn set_slow_query(threshold: Duration) {
    let _ = SLOW_QUERY.set(threshold);
}

/// Runs one statement (`name` is a fixed label, never SQL text or values) in
/// a `sql` span (a child of the RPC's span in traces), records
/// `db_query_duration_seconds{query}` and warns when it is slow.
pub async fn timed<F: std::future::Future>(name: &'static str, statement: F) -> F::Output {
    use tracing::Instrument;
    let started = std::time::Instant::now();
    let out = statement
        .instrument(tracing::info_span!("sql", db.operation = name))
        .await;
    let elapsed = started.elapsed();
    metrics::histogram!("db_query_duration_seconds", "query" => name).record(elapsed.as_secs_f64());
    if elapsed > *SLOW_QUERY.get_or_init(|| Duration::from_millis(200)) {
        tracing::warn!(
            db.operation = name,
            duration_ms = elapsed.as_millis() as u64,
            "slow statement"
        );
    }
    out
}

/// A database failure as the services' error types see it: load or an
/// outage (retryable, UNAVAILABLE) or anything else (a bug: INTERNAL).
#[derive(Debug)]
pub enum Failure {
    Unavailable,
    Internal(anyhow::Error),
}

impl From<tokio_postgres::Error> for Failure {
    fn from(e: tokio_postgres::Error) -> Self {
        // A statement_timeout cancellation is load and a lost or refused
        // connection is an outage: both are retryable, not bugs.
        let io = std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>());
        if e.code() == Some(&tokio_postgres::error::SqlState::QUERY_CANCELED) || e.is_closed() || io
        {
            return Self::Unavailable;
        }
        Self::Internal(e.into())
    }
}

impl From<deadpool_postgres::PoolError> for Failure {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Timeout(_) => {
                metrics::counter!("db_pool_timeouts_total").increment(1);
                Self::Unavailable
            }
            deadpool_postgres::PoolError::Backend(e) => e.into(),
            other => Self::Internal(other.into()),
        }
    }
}

/// The constraint a failed statement violated, when it is a unique
/// violation (`""` when Postgres names none): how repositories turn a
/// duplicate into ALREADY_EXISTS naming what is taken.
pub fn unique_violation(e: &tokio_postgres::Error) -> Option<&str> {
    let db = e.as_db_error()?;
    (db.code() == &tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
        .then(|| db.constraint().unwrap_or(""))
}

/// The constraint a failed statement violated, when it failed with `code`
/// (`""` when Postgres names none).
pub fn constraint_violation<'e>(
    e: &'e tokio_postgres::Error,
    code: &tokio_postgres::error::SqlState,
) -> Option<&'e str> {
    let db = e.as_db_error()?;
    (db.code() == code).then(|| db.constraint().unwrap_or(""))
}
