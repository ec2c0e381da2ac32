//! JSON shapes of the CSV student import (`POST /students/import`): its
//! query and its per-row report.

use proto::students::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Clone, Copy, Debug, Default, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ImportMode {
    /// Nothing is written unless every row is valid.
    #[default]
    All,
    /// Valid rows are written; the others are reported.
    Partial,
}

impl ImportMode {
    pub fn to_proto(self) -> pb::ImportMode {
        match self {
            Self::All => pb::ImportMode::All,
            Self::Partial => pb::ImportMode::Partial,
        }
    }
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
