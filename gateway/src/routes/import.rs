//! `POST /students/import`: a CSV upload streamed to students-svc as it
//! arrives (never buffered whole), answered with a per-row report.

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use futures::{channel::mpsc, SinkExt, StreamExt};
use platform::caller::Role;
use proto::students::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Authenticated;
use crate::json::query;
use crate::problem::{ApiError, Problem};
use crate::services::request;
use crate::state::AppState;

/// The import's body limit, from config; stored as app data.
#[derive(Clone, Copy)]
pub struct ImportLimit(pub usize);

#[derive(Clone, Copy, Debug, Default, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ImportMode {
    /// Nothing is written unless every row is valid.
    #[default]
    All,
    /// Valid rows are written; the others are reported.
    Partial,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportParams {
    /// `all` (default) or `partial`.
    #[serde(default)]
    pub mode: ImportMode,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportRowError {
    /// Row as a spreadsheet numbers it: the header is row 1.
    pub row: u32,
    /// The CSV column; empty for the row as a whole.
    pub column: String,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    /// Data rows read (the header not counted).
    pub rows: u32,
    /// Students created.
    pub imported: u32,
    /// False when nothing was written (mode `all` met an error).
    pub committed: bool,
    pub row_errors: Vec<ImportRowError>,
    /// More errors were found than are listed.
    pub row_errors_truncated: bool,
}

impl From<pb::ImportStudentsReport> for ImportReport {
    fn from(r: pb::ImportStudentsReport) -> Self {
        Self {
            rows: r.rows,
            imported: r.imported,
            committed: r.committed,
            row_errors: r
                .errors
                .into_iter()
                .map(|e| ImportRowError {
                    row: e.row,
                    column: e.column,
                    message: e.message,
                })
                .collect(),
            row_errors_truncated: r.errors_truncated,
        }
    }
}

/// The `code` of a rejected import's problem.
pub const REJECTED: &str = "import_rejected";

/// A rejected import: a problem document carrying the report.
#[derive(Serialize)]
struct RejectedImport {
    #[serde(flatten)]
    problem: Problem,
    #[serde(flatten)]
    report: ImportReport,
}

fn is_csv(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("text/csv"))
}

/// Forwards the body in chunks; the last chunk carries `end`, so a body cut
/// short (too large, client gone) can never be taken as a whole file.
async fn pump(
    mut body: web::Payload,
    mut out: mpsc::Sender<pb::ImportStudentsChunk>,
    limit: usize,
) -> Result<(), ApiError> {
    let mut total = 0usize;
    while let Some(chunk) = body.next().await {
        let chunk = chunk
            .map_err(|_| ApiError::MalformedBody("the request body could not be read".into()))?;
        total += chunk.len();
        if total > limit {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        let msg = pb::ImportStudentsChunk {
            data: chunk.to_vec(),
            ..Default::default()
        };
        if out.send(msg).await.is_err() {
            // The service stopped reading (it rejected the file): its answer says why.
            return Ok(());
        }
    }
    let last = pb::ImportStudentsChunk {
        end: true,
        ..Default::default()
    };
    let _ = out.send(last).await;
    Ok(())
}

/// Admin-only: import students from CSV (`Content-Type: text/csv`). Columns
/// `admission_no`, `given_name`, `family_name`, `date_of_birth` (YYYY-MM-DD),
/// `grade_level`, and optionally `section`, `status`. 200 with the report
/// when rows were written; 422 (problem+json with the report) when mode
/// `all` met an error and nothing was written.
#[utoipa::path(post, path = "/api/v1/students/import", tag = "students", security(("bearer" = [])),
    params(ImportParams),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReport), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 413, body = Problem),
        (status = 415, body = Problem), (status = 422, body = ImportReport)))]
pub async fn import(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(&[Role::Admin])?;
    let params: ImportParams = query(&req)?;
    if !is_csv(&req) {
        return Err(ApiError::UnsupportedMediaType("text/csv"));
    }
    let limit = req.app_data::<ImportLimit>().map_or(16 << 20, |l| l.0);
    let (mut tx, rx) = mpsc::channel(8);
    let mode = match params.mode {
        ImportMode::All => pb::ImportMode::All,
        ImportMode::Partial => pb::ImportMode::Partial,
    };
    let first = pb::ImportStudentsChunk {
        mode: mode.into(),
        ..Default::default()
    };
    tx.send(first).await.map_err(|_| ApiError::internal())?;
    let call = async {
        state
            .services
            .students
            .clone()
            .import_students(request(rx, Some(caller)))
            .await
    };
    let (pumped, reply) = futures::join!(pump(body, tx, limit), call);
    // A body error outranks the service's view of the truncated upload.
    pumped?;
    let report = ImportReport::from(reply?.into_inner());
    if report.committed {
        return Ok(HttpResponse::Ok().json(report));
    }
    let problem = Problem {
        kind: "about:blank",
        title: "Unprocessable Entity".into(),
        status: 422,
        code: REJECTED,
        detail: format!(
            "{} row(s) have errors; nothing was imported",
            report.row_errors.len()
        ),
        request_id: crate::middleware::current_request_id(),
        errors: Vec::new(),
        error_count: None,
    };
    Ok(HttpResponse::UnprocessableEntity()
        .content_type("application/problem+json")
        .json(RejectedImport { problem, report }))
}
