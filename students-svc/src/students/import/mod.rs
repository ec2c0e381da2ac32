//! Bulk import of students from CSV. The file arrives as a gRPC stream of
//! chunks and is parsed row by row on a blocking thread as it arrives
//! ([`csv_rows`]); then the valid rows are inserted with one statement, their
//! events with one more, in one transaction ([`repo::insert_students`]).
//!
//! Mode ALL writes nothing unless every row is valid and new; mode PARTIAL
//! writes the good rows. Either way the report lists every problem by row and
//! column (up to [`csv_rows::Limits::max_errors`]).

pub mod csv_rows;
pub mod repo;

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use bytes::Bytes;
use deadpool_postgres::Pool;
use futures::{stream, StreamExt};
use proto::students::v1 as pb;
use tokio_util::io::{StreamReader, SyncIoBridge};
use tonic::Streaming;

use crate::events::Origin;
use csv_rows::{Limits, RowError};
use platform::service::ServiceError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    All,
    Partial,
}

impl Mode {
    fn from_proto(v: i32) -> Result<Self, ServiceError> {
        match pb::ImportMode::try_from(v) {
            Ok(pb::ImportMode::Unspecified | pb::ImportMode::All) => Ok(Self::All),
            Ok(pb::ImportMode::Partial) => Ok(Self::Partial),
            Err(_) => Err(ServiceError::invalid("mode", "must be all or partial")),
        }
    }
}

/// Reads the stream, validates, writes; returns the report.
pub async fn run(
    pool: &Pool,
    origin: Origin,
    mut chunks: Streaming<pb::ImportStudentsChunk>,
    limits: Limits,
) -> Result<pb::ImportStudentsReport, ServiceError> {
    let first = chunks
        .message()
        .await
        .map_err(|_| ServiceError::invalid("file", "the upload was interrupted"))?
        .unwrap_or_default();
    let mode = Mode::from_proto(first.mode)?;
    // The upload is whole only if its last chunk says so; a stream that just
    // stops (client gone, body too large) reads as an I/O error, and an I/O
    // error rejects the file: nothing is written.
    let ended = Arc::new(AtomicBool::new(first.end));
    let seen = ended.clone();
    let data = stream::iter([Ok(first.data)])
        .chain(chunks.map(move |c| {
            let c = c.map_err(std::io::Error::other)?;
            if c.end {
                seen.store(true, Ordering::Relaxed);
            }
            Ok(c.data)
        }))
        .chain(stream::once(async move {
            if ended.load(Ordering::Relaxed) {
                Ok(Vec::new())
            } else {
                Err(std::io::Error::other("the upload ended early"))
            }
        }))
        .map(|r| r.map(Bytes::from));
    let reader = SyncIoBridge::new(StreamReader::new(Box::pin(data)));
    let today = chrono::Utc::now().date_naive();
    let mut parsed = tokio::task::spawn_blocking(move || csv_rows::parse(reader, today, limits))
        .await
        .map_err(|e| ServiceError::Internal(e.into()))??;

    let outcome =
        repo::insert_students(pool, origin, &parsed.valid, mode, !parsed.errors.is_empty()).await?;
    for c in outcome.conflicts {
        parsed.error(limits.max_errors, c.row, &c.column, c.message);
    }
    parsed.errors.sort_by_key(|e| e.row);
    tracing::info!(
        import.rows = parsed.total,
        import.imported = outcome.imported,
        import.errors = parsed.errors.len(),
        import.committed = outcome.committed,
        "student import"
    );
    Ok(pb::ImportStudentsReport {
        rows: parsed.total,
        imported: outcome.imported,
        errors: parsed.errors.into_iter().map(into_proto).collect(),
        errors_truncated: parsed.truncated,
        committed: outcome.committed,
    })
}

fn into_proto(e: RowError) -> pb::ImportRowError {
    pb::ImportRowError {
        row: e.row,
        column: e.column,
        message: e.message,
    }
}
