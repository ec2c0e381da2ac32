//! Removes one school's read models, for a rebuild (on the rebuild's
//! transaction, under the school's apply lock). The inbox stays: events
//! already applied are in the export's snapshot.

use deadpool_postgres::Transaction;
use uuid::Uuid;

/// Every read-model table; each leads its primary key with `school_id`.
const TABLES: &[&str] = &[
    "at_risk",
    "open_due",
    "fees_months",
    "payments",
    "invoices",
    "student_courses",
    "course_grades",
    "grades",
    "assessments",
    "student_recent",
    "student_days",
    "course_days",
    "days",
    "sessions",
    "attendance",
    "enrolments",
    "weekday_slots",
    "timetable_slots",
    "courses",
    "guardian_links",
    "guardians",
    "users",
    "grade_sections",
    "students",
    "schools",
];

pub async fn school(tx: &Transaction<'_>, school: Uuid) -> anyhow::Result<()> {
    for table in TABLES {
        let stmt = tx
            .prepare_cached(&format!("DELETE FROM {table} WHERE school_id = $1"))
            .await?;
        tx.execute(&stmt, &[&school]).await?;
    }
    Ok(())
}
