//! Rebuilding one school's read models from students-svc's export
//! (`ExportService.ExportSchool`: the school's current state as synthetic
//! events, read from one snapshot), while consumption goes on.
//!
//! Design: one transaction that first takes the school's apply lock (the
//! same advisory lock every consumed event of the school takes, see
//! [`crate::projection`]), THEN opens the export, clears the school's read
//! models and applies every exported event with the same apply code, and
//! commits. Why this order loses nothing:
//!
//! - an event applied before the lock was taken was committed in
//!   students-svc before it was published, so before the export's snapshot
//!   (opened after the lock): the snapshot includes it;
//! - an event consumed while the rebuild runs waits for the lock (or times
//!   out and is redelivered), then applies on top of the rebuilt models:
//!   newest-wins makes one already in the snapshot a no-op and a newer one
//!   a change, exactly as on the incrementally kept models.
//!
//! Attendance, the bulk of an export, does not go through the per-event
//! apply: its marks are collected and written in large set-based batches,
//! and the counters derived from them at the end ([`attendance`]); the
//! result is the same read models, which the property tests compare.
//!
//! The cost is that the school's events wait for the rebuild (a consumer
//! whose statement times out leaves the event pending; it is reclaimed
//! after `claim_idle`). Other schools are not affected beyond that
//! consumer's pause. The rebuild's statements run without the pool's
//! statement timeout (a large school's DELETE may take longer).

pub mod api;
mod attendance;
pub mod export;

use std::time::Instant;

use deadpool_postgres::Pool;
use futures::StreamExt;
use platform::service::ServiceError;
use proto::events::v1::event::Payload;
use uuid::Uuid;

use crate::{
    domain::{Risk, Thresholds},
    projection,
};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rebuilt {
    pub school: Uuid,
    pub events: u64,
    pub elapsed_ms: u64,
}

/// Where the exported events come from: students-svc over gRPC, or a test's
/// synthetic export.
pub trait Source: Send + Sync {
    fn export(
        &self,
        school: Uuid,
    ) -> impl std::future::Future<
        Output = Result<
            futures::stream::BoxStream<
                'static,
                Result<Vec<proto::events::v1::Event>, tonic::Status>,
            >,
            tonic::Status,
        >,
    > + Send;
}

/// The school named by `name`: its id, or a slug the read models know.
pub async fn resolve(pool: &Pool, name: &str) -> Result<Uuid, ServiceError> {
    if let Some(id) = platform::text::parse_uuid(name) {
        return Ok(id);
    }
    let db = pool.get().await?;
    let stmt = db
        .prepare_cached("SELECT school_id FROM schools WHERE slug = $1")
        .await?;
    match db.query_opt(&stmt, &[&name]).await? {
        Some(r) => Ok(r.try_get(0)?),
        None => Err(ServiceError::NotFound("school")),
    }
}

/// Why a rebuild failed; nothing of the school was changed either way.
#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    /// The export could not be read (students-svc away, or refused).
    #[error("export failed: {0}")]
    Export(tonic::Status),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<tokio_postgres::Error> for RebuildError {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::Service(e.into())
    }
}

impl From<deadpool_postgres::PoolError> for RebuildError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        Self::Service(e.into())
    }
}

impl From<anyhow::Error> for RebuildError {
    fn from(e: anyhow::Error) -> Self {
        Self::Service(e.into())
    }
}

impl From<RebuildError> for tonic::Status {
    fn from(e: RebuildError) -> Self {
        match e {
            RebuildError::Export(s) if s.code() == tonic::Code::NotFound => {
                tonic::Status::not_found("school not found in students-svc")
            }
            RebuildError::Export(s) => {
                tonic::Status::unavailable(format!("students-svc export failed: {}", s.message()))
            }
            RebuildError::Service(e) => e.into(),
        }
    }
}

/// Marks held in memory before they are written (about 100 bytes each).
pub const MARKS_PER_WRITE: usize = 20_000;

pub async fn rebuild<S: Source>(
    pool: &Pool,
    source: &S,
    school: Uuid,
    t: &Thresholds,
) -> Result<Rebuilt, RebuildError> {
    rebuild_with(pool, source, school, t, MARKS_PER_WRITE).await
}

/// [`rebuild`] writing attendance every `marks_per_write` marks (tests use
/// small batches so that overrides meet across writes).
pub async fn rebuild_with<S: Source>(
    pool: &Pool,
    source: &S,
    school: Uuid,
    t: &Thresholds,
    marks_per_write: usize,
) -> Result<Rebuilt, RebuildError> {
    let started = Instant::now();
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    projection::lock(&tx, school).await?;
    // After the lock (whose wait resets the timeout to the pool's).
    tx.batch_execute("SET LOCAL statement_timeout = 0").await?;
    let mut batches = source.export(school).await.map_err(export_failed)?;
    projection::clear::school(&tx, school).await?;
    projection::lock(&tx, school).await?;
    let mut marks = attendance::Marks::new(school, marks_per_write);
    let mut events = 0u64;
    while let Some(batch) = batches.next().await {
        for event in batch.map_err(export_failed)? {
            if event.school_id.parse::<Uuid>().ok() != Some(school) {
                return Err(anyhow::anyhow!("the export sent another school's event").into());
            }
            match &event.payload {
                Some(Payload::AttendanceMarked(a) | Payload::AttendanceOverridden(a)) => {
                    marks.add(&tx, a).await?;
                }
                _ => projection::apply(&tx, school, &event, &Risk::deferred(*t)).await?,
            }
            events += 1;
        }
    }
    marks.finish(&tx).await?;
    projection::risk::refresh_school(&tx, school, t).await?;
    tx.commit().await?;
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    metrics::histogram!("analytics_rebuild_seconds").record(started.elapsed().as_secs_f64());
    metrics::counter!("analytics_rebuild_events_total").increment(events);
    tracing::info!(school.id = %school, events, elapsed_ms, "school rebuilt");
    Ok(Rebuilt {
        school,
        events,
        elapsed_ms,
    })
}

fn export_failed(s: tonic::Status) -> RebuildError {
    tracing::warn!(code = ?s.code(), message = s.message(), "export failed");
    RebuildError::Export(s)
}
