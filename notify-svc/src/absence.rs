//! Absence alerts: each student an attendance write left `absent` gets one
//! notification per linked guardian, in one statement whatever their number.
//! The dedupe key (student, course, date, period) makes a re-mark or a
//! redelivered event a no-op for guardians already told.

use deadpool_postgres::Transaction;
use uuid::Uuid;

use crate::{domain::Absences, notifications::Notification};

/// Records the alerts and returns the ones created now (not those that
/// existed already).
pub async fn alert(
    tx: &Transaction<'_>,
    school: Uuid,
    event_id: Uuid,
    a: &Absences,
) -> anyhow::Result<Vec<Notification>> {
    if a.students.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "INSERT INTO notifications (school_id, guardian_id, recipient_user_id, student_id, kind, \
           title, body, channels, dedupe_key, source_event_id) \
         SELECT $1, g.guardian_id, g.user_id, a.student_id, 'absence', \
           'Absence: ' || COALESCE(s.given_name || ' ' || s.family_name, 'your child'), \
           COALESCE(s.given_name, 'Your child') || ' was marked absent on ' || $4::text \
             || CASE WHEN $5::int > 0 THEN ' (period ' || $5::int || ')' ELSE '' END || '.', \
           array_remove(ARRAY[ \
             CASE WHEN g.notify_sms AND g.phone IS NOT NULL THEN 'sms' END, \
             CASE WHEN g.notify_email AND g.email IS NOT NULL THEN 'email' END, \
             CASE WHEN g.notify_push AND g.user_id IS NOT NULL THEN 'push' END], NULL), \
           'absence:' || a.student_id || ':' || $3::uuid || ':' || $4::text || ':' || $5::int, \
           $6 \
         FROM unnest($2::uuid[]) AS a(student_id) \
         JOIN guardian_students gs ON gs.school_id = $1 AND gs.student_id = a.student_id \
           AND gs.linked \
         JOIN guardians g ON g.school_id = $1 AND g.guardian_id = gs.guardian_id \
         LEFT JOIN students s ON s.school_id = $1 AND s.student_id = a.student_id \
         ON CONFLICT (school_id, guardian_id, dedupe_key) DO NOTHING \
         RETURNING {}",
        crate::notifications::COLUMNS
    );
    let stmt = tx.prepare_cached(&sql).await?;
    let period = i32::try_from(a.period)?;
    let date = a.date.format("%Y-%m-%d").to_string();
    let rows = tx
        .query(
            &stmt,
            &[
                &school,
                &a.students,
                &a.course_id,
                &date,
                &period,
                &event_id,
            ],
        )
        .await?;
    Ok(rows
        .iter()
        .map(Notification::from_row)
        .collect::<Result<_, _>>()?)
}
