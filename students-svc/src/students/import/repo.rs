//! The import's writes: every valid row in one INSERT, their events in one
//! more, in one transaction, whatever the number of rows.

use std::collections::HashSet;

use deadpool_postgres::Pool;
use uuid::Uuid;

use super::csv_rows::RowError;
use super::Mode;
use platform::service::ServiceError;

use crate::events::{self, Origin};
use crate::students::domain::NewStudent;
use crate::students::model::{student_changed, StudentRow, STUDENT_COLS};

pub struct Outcome {
    pub imported: u32,
    /// Rows whose admission number the school already has.
    pub conflicts: Vec<RowError>,
    pub committed: bool,
}

/// Inserts `rows`, skipping admission numbers that exist (reported as
/// conflicts). In mode ALL, any conflict or `invalid_rows` rolls everything
/// back; the insert still runs so the report lists conflicts too.
pub async fn insert_students(
    pool: &Pool,
    origin: Origin,
    rows: &[(u32, NewStudent)],
    mode: Mode,
    invalid_rows: bool,
) -> Result<Outcome, ServiceError> {
    platform::db::timed("import_students", async move {
        if rows.is_empty() {
            return Ok(Outcome {
                imported: 0,
                conflicts: Vec::new(),
                committed: mode == Mode::Partial || !invalid_rows,
            });
        }
        let n = rows.len();
        let mut cols = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for (_, s) in rows {
            cols.0.push(Uuid::now_v7());
            cols.1.push(s.admission_no.as_str());
            cols.2.push(s.given_name.as_str());
            cols.3.push(s.family_name.as_str());
            cols.4.push(s.date_of_birth);
            cols.5.push(s.grade_level.get());
            cols.6.push(s.section.as_str());
            cols.7.push(s.status.as_str());
        }
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        let stmt = tx
            .prepare_cached(&format!(
                "INSERT INTO students (id, school_id, admission_no, given_name, family_name, \
                 date_of_birth, grade_level, section, status) \
                 SELECT id, $1, a, g, f, d, gl, s, st FROM unnest($2::uuid[], $3::text[], \
                 $4::text[], $5::text[], $6::date[], $7::int2[], $8::text[], $9::text[]) \
                 WITH ORDINALITY AS x(id, a, g, f, d, gl, s, st, n) ORDER BY n \
                 ON CONFLICT (school_id, lower(admission_no)) DO NOTHING \
                 RETURNING {STUDENT_COLS}"
            ))
            .await?;
        let inserted = tx
            .query(
                &stmt,
                &[
                    &origin.school_id,
                    &cols.0,
                    &cols.1,
                    &cols.2,
                    &cols.3,
                    &cols.4,
                    &cols.5,
                    &cols.6,
                    &cols.7,
                ],
            )
            .await?
            .iter()
            .map(StudentRow::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let created: HashSet<&str> = inserted.iter().map(|s| s.admission_no.as_str()).collect();
        let conflicts: Vec<RowError> = rows
            .iter()
            .filter(|(_, s)| !created.contains(s.admission_no.as_str()))
            .map(|(row, _)| RowError {
                row: *row,
                column: "admission_no".into(),
                message: "a student with this admission number already exists".into(),
            })
            .collect();
        if mode == Mode::All && (invalid_rows || !conflicts.is_empty()) {
            tx.rollback().await?;
            return Ok(Outcome {
                imported: 0,
                conflicts,
                committed: false,
            });
        }
        let events = inserted
            .iter()
            .map(|s| student_changed(s, "student.created"))
            .collect();
        events::record_all(&tx, origin, events).await?;
        tx.commit().await?;
        Ok(Outcome {
            imported: u32::try_from(inserted.len()).unwrap_or(u32::MAX),
            conflicts,
            committed: true,
        })
    })
    .await
}
