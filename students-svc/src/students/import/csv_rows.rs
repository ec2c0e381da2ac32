//! CSV rows → validated students, every problem reported with its row and
//! column. Runs on a blocking thread: it reads through a synchronous bridge
//! from the incoming gRPC stream, so the file is never held whole.

use std::{collections::HashMap, io::Read};

use chrono::NaiveDate;
use proto::common::v1 as common;

use platform::service::{FieldViolation, ServiceError, Violations};

use crate::students::domain::{
    date_of_birth, AdmissionNo, GradeLevel, NewStudent, Section, StudentStatus,
};
use crate::values::PersonName;

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Most data rows in one file.
    pub max_rows: usize,
    /// Most row errors listed in a report (the rest are counted as truncated).
    pub max_errors: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_rows: 50_000,
            max_errors: 1_000,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// Spreadsheet numbering: the header is row 1.
    pub row: u32,
    pub column: String,
    pub message: String,
}

/// The rows that parsed, with their row numbers, and the errors of the rest.
#[derive(Default)]
pub struct Parsed {
    pub total: u32,
    pub valid: Vec<(u32, NewStudent)>,
    pub errors: Vec<RowError>,
    pub truncated: bool,
}

impl Parsed {
    pub fn error(&mut self, max: usize, row: u32, column: &str, message: impl Into<String>) {
        if self.errors.len() < max {
            self.errors.push(RowError {
                row,
                column: column.to_owned(),
                message: message.into(),
            });
        } else {
            self.truncated = true;
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    AdmissionNo,
    GivenName,
    FamilyName,
    DateOfBirth,
    GradeLevel,
    Section,
    Status,
}

impl Column {
    const ALL: [Self; 7] = [
        Self::AdmissionNo,
        Self::GivenName,
        Self::FamilyName,
        Self::DateOfBirth,
        Self::GradeLevel,
        Self::Section,
        Self::Status,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::AdmissionNo => "admission_no",
            Self::GivenName => "given_name",
            Self::FamilyName => "family_name",
            Self::DateOfBirth => "date_of_birth",
            Self::GradeLevel => "grade_level",
            Self::Section => "section",
            Self::Status => "status",
        }
    }

    fn required(self) -> bool {
        !matches!(self, Self::Section | Self::Status)
    }
}

fn file_error(message: impl Into<String>) -> ServiceError {
    ServiceError::invalid("file", message)
}

/// Where each known column sits in a row.
struct Layout {
    index: HashMap<usize, Column>,
    width: usize,
}

impl Layout {
    fn parse(header: &csv::StringRecord) -> Result<Self, ServiceError> {
        let mut index = HashMap::new();
        let mut problems = Vec::new();
        for (i, raw) in header.iter().enumerate() {
            let name = raw.trim().to_ascii_lowercase();
            match Column::ALL.iter().find(|c| c.name() == name) {
                Some(c) if index.values().any(|seen| seen == c) => {
                    problems.push(format!("column {name:?} appears twice"));
                }
                Some(c) => {
                    index.insert(i, *c);
                }
                None => problems.push(format!("unknown column {raw:?}")),
            }
        }
        for c in Column::ALL.iter().filter(|c| c.required()) {
            if !index.values().any(|seen| seen == c) {
                problems.push(format!("missing column {:?}", c.name()));
            }
        }
        if problems.is_empty() {
            Ok(Self {
                index,
                width: header.len(),
            })
        } else {
            // One violation per problem (a header may have thousands: the
            // answer lists the first and counts them all), after the one
            // naming the known columns, so that one is always listed.
            let known: Vec<&str> = Column::ALL.iter().map(|c| c.name()).collect();
            let hint = FieldViolation {
                field: "header".into(),
                message: format!("columns must be among: {}", known.join(", ")),
            };
            let each = problems.into_iter().map(|message| FieldViolation {
                field: "header".into(),
                message,
            });
            Err(ServiceError::Invalid(
                std::iter::once(hint).chain(each).collect(),
            ))
        }
    }
}

fn parse_date(raw: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let raw = raw.trim();
    let shaped = raw.len() == 10
        && raw.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !shaped {
        return Err("date of birth must be a date as YYYY-MM-DD".into());
    }
    let d = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| "date of birth is not a valid calendar date".to_owned())?;
    use chrono::Datelike;
    let as_proto = common::Date {
        year: d.year(),
        month: d.month(),
        day: d.day(),
    };
    date_of_birth(Some(&as_proto), today)
}

fn parse_grade(raw: &str) -> Result<GradeLevel, String> {
    raw.trim()
        .parse::<i32>()
        .map_err(|_| "grade level must be a whole number between 0 and 12".to_owned())
        .and_then(GradeLevel::parse)
}

fn parse_status(raw: &str) -> Result<StudentStatus, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "" | "active" => Ok(StudentStatus::Active),
        "graduated" => Ok(StudentStatus::Graduated),
        "withdrawn" => Ok(StudentStatus::Withdrawn),
        _ => Err("status must be active, graduated or withdrawn".into()),
    }
}

/// One row's fields, each error reported against its column.
fn parse_row(
    record: &csv::StringRecord,
    layout: &Layout,
    today: NaiveDate,
) -> Result<NewStudent, Vec<FieldViolation>> {
    let field = |c: Column| -> &str {
        layout
            .index
            .iter()
            .find(|(_, col)| **col == c)
            .and_then(|(i, _)| record.get(*i))
            .unwrap_or("")
    };
    let mut v = Violations::default();
    let admission_no = v.take(
        Column::AdmissionNo.name(),
        AdmissionNo::parse(field(Column::AdmissionNo)),
    );
    let given_name = v.take(
        Column::GivenName.name(),
        PersonName::parse(field(Column::GivenName)),
    );
    let family_name = v.take(
        Column::FamilyName.name(),
        PersonName::parse(field(Column::FamilyName)),
    );
    let date_of_birth = v.take(
        Column::DateOfBirth.name(),
        parse_date(field(Column::DateOfBirth), today),
    );
    let grade_level = v.take(
        Column::GradeLevel.name(),
        parse_grade(field(Column::GradeLevel)),
    );
    let section = v.take(
        Column::Section.name(),
        Section::parse(field(Column::Section)),
    );
    let status = v.take(Column::Status.name(), parse_status(field(Column::Status)));
    match (
        admission_no,
        given_name,
        family_name,
        date_of_birth,
        grade_level,
        section,
        status,
    ) {
        (Some(a), Some(g), Some(f), Some(d), Some(gl), Some(s), Some(st)) => Ok(NewStudent {
            admission_no: a,
            given_name: g,
            family_name: f,
            date_of_birth: d,
            grade_level: gl,
            section: s,
            status: st,
            login: None,
        }),
        _ => Err(v.into_violations()),
    }
}

/// Reads and validates every row. A file whose header is unusable, that is
/// not CSV, or that has too many rows is rejected as a whole (INVALID_ARGUMENT).
pub fn parse(input: impl Read, today: NaiveDate, limits: Limits) -> Result<Parsed, ServiceError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(input);
    let header = reader
        .headers()
        .map_err(|e| file_error(read_problem(&e)))?
        .clone();
    if header.is_empty() || header.iter().all(|h| h.trim().is_empty()) {
        return Err(file_error("the file is empty: a header row is required"));
    }
    let layout = Layout::parse(&header)?;
    let mut out = Parsed::default();
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut record = csv::StringRecord::new();
    let max = limits.max_errors;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) => {
                out.total += 1;
                let row = e.position().map_or(out.total + 1, line);
                out.error(max, row, "", "the row is not valid UTF-8");
                continue;
            }
            Err(e) => return Err(file_error(read_problem(&e))),
        }
        // A row of empty cells (a blank spreadsheet line) is not a row.
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        out.total += 1;
        if out.total as usize > limits.max_rows {
            return Err(file_error(format!(
                "at most {} rows per import",
                limits.max_rows
            )));
        }
        let row = record.position().map_or(out.total + 1, line);
        if record.len() != layout.width {
            out.error(
                max,
                row,
                "",
                format!("expected {} columns, found {}", layout.width, record.len()),
            );
            continue;
        }
        match parse_row(&record, &layout, today) {
            Ok(student) => {
                // Case-blind, as the database's unique index.
                let key = student.admission_no.as_str().to_lowercase();
                if let Some(first) = seen.get(&key) {
                    out.error(
                        max,
                        row,
                        Column::AdmissionNo.name(),
                        format!("admission number repeats row {first}"),
                    );
                } else {
                    seen.insert(key, row);
                    out.valid.push((row, student));
                }
            }
            Err(errors) => {
                for e in errors {
                    out.error(max, row, &e.field, e.message);
                }
            }
        }
    }
    Ok(out)
}

/// The line a record starts on (the header is line 1), as editors and
/// spreadsheets number them.
fn line(p: &csv::Position) -> u32 {
    u32::try_from(p.line()).unwrap_or(u32::MAX)
}

fn read_problem(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(_) => "the upload was interrupted".into(),
        csv::ErrorKind::Utf8 { .. } => "the header is not valid UTF-8".into(),
        _ => "the file is not valid CSV".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 9, 1).unwrap()
    }

    fn run(csv: &str) -> Result<Parsed, ServiceError> {
        parse(csv.as_bytes(), today(), Limits::default())
    }

    #[test]
    fn good_rows_parse_with_optional_columns_in_any_order() {
        let p = run(
            "Family_Name,given_name,admission_no,date_of_birth,grade_level\n\
             Ng,Eve,A-1,2015-02-03,4\n\
             ,,,,\n\
             \u{201c}Quote\u{201d},\"Li, Jr\",A-2,2014-12-31,5\n",
        )
        .unwrap();
        assert_eq!(p.total, 2);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let (row, s) = &p.valid[1];
        assert_eq!(*row, 4);
        assert_eq!(s.given_name.as_str(), "Li, Jr");
        assert_eq!(s.status, StudentStatus::Active);
        assert_eq!(s.section.as_str(), "");
    }

    #[test]
    fn every_bad_field_is_reported_with_row_and_column() {
        let p = run(
            "admission_no,given_name,family_name,date_of_birth,grade_level,section,status\n\
             A-1,Eve,Ng,2015-02-03,4,A,active\n\
             A 2,,Ng,2015-02-30,13,A!,expelled\n\
             A-1,Ann,Ok,2015-01-01,3,,\n\
             A-4,Ann\n",
        )
        .unwrap();
        assert_eq!(p.total, 4);
        assert_eq!(p.valid.len(), 1);
        let got: Vec<(u32, &str)> = p
            .errors
            .iter()
            .map(|e| (e.row, e.column.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (3, "admission_no"),
                (3, "given_name"),
                (3, "date_of_birth"),
                (3, "grade_level"),
                (3, "section"),
                (3, "status"),
                (4, "admission_no"),
                (5, ""),
            ]
        );
        assert_eq!(p.errors[6].message, "admission number repeats row 2");
    }

    #[test]
    fn unusable_files_are_rejected_whole() {
        for bad in [
            "",
            "admission_no,given_name\nA,B\n",
            "admission_no,given_name,family_name,date_of_birth,grade_level,nickname\n",
            "admission_no,admission_no,given_name,family_name,date_of_birth,grade_level\n",
        ] {
            assert!(
                matches!(run(bad), Err(ServiceError::Invalid(_))),
                "{bad:?} is rejected"
            );
        }
        let many = format!(
            "admission_no,given_name,family_name,date_of_birth,grade_level\n{}",
            "A,B,C,2015-01-01,1\n".repeat(4)
        );
        let limits = Limits {
            max_rows: 3,
            max_errors: 10,
        };
        assert!(parse(many.as_bytes(), today(), limits).is_err());
    }

    #[test]
    fn error_lists_are_bounded() {
        let rows = "x,,,,\n".repeat(5);
        let csv = format!("admission_no,given_name,family_name,date_of_birth,grade_level\n{rows}");
        let limits = Limits {
            max_rows: 100,
            max_errors: 3,
        };
        let p = parse(csv.as_bytes(), today(), limits).unwrap();
        assert_eq!(p.errors.len(), 3);
        assert!(p.truncated);
        assert_eq!(p.total, 5);
    }
}
