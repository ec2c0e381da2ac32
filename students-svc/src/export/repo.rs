//! The export's SQL: one REPEATABLE READ, READ ONLY transaction (one
//! snapshot, so the events describe one consistent state), each table read
//! as a row stream and turned into events batch by batch: memory is bounded
//! by the batch size, not by the school.

use chrono::Utc;
use deadpool_postgres::Pool;
use futures::{pin_mut, TryStreamExt};
use platform::service::ServiceError;
use proto::events::v1 as ev;
use proto::students::v1 as pb;
use tokio::sync::mpsc;
use tokio_postgres::{types::ToSql, Row};
use uuid::Uuid;

use super::model::{grades, payment, session_marked, AttendanceRow, GradeRow};
use crate::accounts::model::{user_event, UserRow, USER_COLS};
use crate::courses::model::{CourseRow, COURSE_COLS};
use crate::enrolments::model::{enrolment_event, EnrolmentRow};
use crate::events::{envelope, Aggregate, Origin, Pending};
use crate::fees::model::{invoice_changed, InvoiceRow, INVOICE_COLS};
use crate::grades::model::{aggregate, AssessmentRow, ASSESSMENT_COLS};
use crate::guardians::model::{
    changed, linked, GuardianRow, LinkRow, GUARDIAN_COLS, GUARDIAN_COL_COUNT, LINK_COLS,
};
use crate::schools::model::{school_changed, SchoolRow, SCHOOL_COLS};
use crate::students::model::{student_changed, StudentRow, STUDENT_COLS};
use crate::timetable::model::{slot_added, SlotRow, SLOT_COLS};
use proto::events::v1::event::Payload;

/// Events sent per message of the stream.
pub const BATCH: usize = 500;

/// Collects events and sends them in batches; stops early (without error)
/// when the client went away.
struct Sink {
    origin: Origin,
    at: chrono::DateTime<Utc>,
    events: Vec<ev::Event>,
    out: mpsc::Sender<Result<pb::ExportBatch, tonic::Status>>,
    sent: u64,
}

impl Sink {
    async fn push(&mut self, e: Pending) -> Result<(), ServiceError> {
        self.events.push(envelope(
            Uuid::now_v7(),
            self.origin,
            e,
            self.at,
            Default::default(),
        ));
        self.sent += 1;
        if self.events.len() >= BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), ServiceError> {
        if self.events.is_empty() {
            return Ok(());
        }
        let batch = pb::ExportBatch {
            events: std::mem::take(&mut self.events),
        };
        self.out
            .send(Ok(batch))
            .await
            .map_err(|_| ServiceError::Unavailable)
    }
}

/// Exports school `school_id` into `out`; returns the number of events.
/// Rows are converted as they stream and sent in batches of [`BATCH`].
pub async fn export(
    pool: &Pool,
    school_id: Uuid,
    out: mpsc::Sender<Result<pb::ExportBatch, tonic::Status>>,
) -> Result<u64, ServiceError> {
    let mut client = pool.get().await?;
    let tx = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    // A long export must not be cut by the per-request statement timeout.
    tx.batch_execute("SET LOCAL statement_timeout = 0").await?;
    let mut sink = Sink {
        origin: Origin {
            school_id,
            actor: None,
        },
        at: Utc::now(),
        events: Vec::with_capacity(BATCH),
        out,
        sent: 0,
    };
    // Each table's rows as they stream, one event each.
    macro_rules! table {
        ($sql:expr, |$row:ident| $body:expr) => {{
            let stmt = tx.prepare_cached(AsRef::<str>::as_ref(&$sql)).await?;
            let params: [&(dyn ToSql + Sync); 1] = [&school_id];
            let rows = tx.query_raw(&stmt, params).await?;
            pin_mut!(rows);
            while let Some($row) = rows.try_next().await? {
                let event = $body;
                sink.push(event).await?;
            }
        }};
    }

    table!(
        format!("SELECT {SCHOOL_COLS} FROM schools WHERE id = $1"),
        |r| school_changed(&SchoolRow::from_row(&r)?, true)
    );
    table!(
        format!("SELECT {USER_COLS} FROM users WHERE school_id = $1 ORDER BY id"),
        |r| {
            let u = UserRow::from_row(&r)?;
            Pending::new(
                Aggregate {
                    kind: "user",
                    id: u.id,
                },
                "user.created",
                Payload::UserCreated(user_event(&u)),
            )
        }
    );
    table!(
        format!("SELECT {STUDENT_COLS} FROM students WHERE school_id = $1 ORDER BY id"),
        |r| {
            let s = StudentRow::from_row(&r)?;
            let kind = if s.archived_at.is_some() {
                "student.archived"
            } else {
                "student.created"
            };
            student_changed(&s, kind)
        }
    );
    table!(
        format!("SELECT {COURSE_COLS} FROM courses WHERE school_id = $1 ORDER BY id"),
        |r| {
            let c = CourseRow::from_row(&r)?;
            Pending::new(
                Aggregate {
                    kind: "course",
                    id: c.id,
                },
                "course.created",
                Payload::CourseCreated(c.event()),
            )
        }
    );
    table!(
        format!("SELECT {SLOT_COLS} FROM timetable_slots WHERE school_id = $1 ORDER BY id"),
        |r| slot_added(&SlotRow::from_row(&r)?)
    );
    table!(
        "SELECT e.id, e.course_id, e.student_id, s.admission_no, s.given_name, s.family_name, \
           e.enrolled_at, e.withdrawn_at \
         FROM enrolments e JOIN students s ON s.school_id = e.school_id AND s.id = e.student_id \
         WHERE e.school_id = $1 ORDER BY e.id",
        |r| {
            let e = EnrolmentRow::from_row(&r)?;
            enrolment_event(&e, e.withdrawn_at.is_some())
        }
    );
    table!(
        format!("SELECT {ASSESSMENT_COLS} FROM assessments a WHERE a.school_id = $1 ORDER BY a.id"),
        |r| {
            let a = AssessmentRow::from_row(&r)?;
            Pending::new(
                aggregate(a.id),
                "assessment.created",
                Payload::AssessmentCreated(a.event()),
            )
        }
    );
    // Grades and attendance are grouped (one event per assessment, per
    // session): rows arrive in group order, a group is sent when the next
    // begins.
    let mut group: Vec<GradeRow> = Vec::new();
    each_grouped(
        &tx,
        "SELECT g.assessment_id, a.course_id, a.title, a.max_score, a.published_at IS NOT NULL, \
           g.student_id, g.score, g.revision \
         FROM grades g JOIN assessments a ON a.school_id = g.school_id AND a.id = g.assessment_id \
         WHERE g.school_id = $1 ORDER BY g.assessment_id, g.student_id",
        school_id,
        &mut group,
        GradeRow::from_row,
        GradeRow::same_assessment,
        grades,
        &mut sink,
    )
    .await?;
    let mut session: Vec<AttendanceRow> = Vec::new();
    each_grouped(
        &tx,
        "SELECT course_id, date, period, student_id, effective_status, revision \
         FROM attendance WHERE school_id = $1 AND effective_status IS NOT NULL \
         ORDER BY course_id, date, period, student_id",
        school_id,
        &mut session,
        AttendanceRow::from_row,
        AttendanceRow::same_session,
        session_marked,
        &mut sink,
    )
    .await?;
    table!(
        format!("SELECT {INVOICE_COLS} FROM invoices WHERE school_id = $1 ORDER BY id"),
        |r| {
            let i = InvoiceRow::from_row(&r)?;
            let kind = match i.status.as_str() {
                "draft" => "invoice.drafted",
                "void" => "invoice.voided",
                _ => "invoice.issued",
            };
            invoice_changed(&i, kind)
        }
    );
    table!(
        "SELECT p.id, p.invoice_id, i.student_id, p.amount, p.currency, p.method, p.reference, \
           p.created_at, i.total, i.amount_paid, i.status, i.version \
         FROM payments p JOIN invoices i ON i.school_id = p.school_id AND i.id = p.invoice_id \
         WHERE p.school_id = $1 ORDER BY p.id",
        |r| payment(&r)?
    );
    table!(
        format!("SELECT {GUARDIAN_COLS} FROM guardians g WHERE g.school_id = $1 ORDER BY g.id"),
        |r| {
            let g = GuardianRow::from_row(&r)?;
            Pending::new(
                Aggregate {
                    kind: "guardian",
                    id: g.id,
                },
                "guardian.created",
                Payload::GuardianCreated(changed(&g)),
            )
        }
    );
    table!(
        format!(
            "SELECT {GUARDIAN_COLS}, {}, COALESCE(v.version, 1) \
             FROM guardian_students l \
             JOIN guardians g ON g.school_id = l.school_id AND g.id = l.guardian_id \
             LEFT JOIN guardian_link_versions v ON v.school_id = l.school_id \
               AND v.guardian_id = l.guardian_id AND v.student_id = l.student_id \
             WHERE l.school_id = $1 ORDER BY l.guardian_id, l.student_id",
            LINK_COLS
                .split(", ")
                .map(|c| format!("l.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        |r| {
            let g = GuardianRow::from_row(&r)?;
            let l = LinkRow::from_row(&r, GUARDIAN_COL_COUNT)?;
            Pending::new(
                Aggregate {
                    kind: "guardian",
                    id: g.id,
                },
                "guardian.linked",
                Payload::GuardianLinked(linked(&g, &l, r.try_get(GUARDIAN_COL_COUNT + 5)?)),
            )
        }
    );
    tx.commit().await?;
    sink.flush().await?;
    Ok(sink.sent)
}

/// Streams `sql`'s rows (school id as `$1`) into groups of consecutive
/// rows that `same` joins, sending each group's event as the next begins.
#[allow(clippy::too_many_arguments)]
async fn each_grouped<R, C>(
    c: &C,
    sql: &str,
    school_id: Uuid,
    group: &mut Vec<R>,
    parse: fn(&Row) -> Result<R, tokio_postgres::Error>,
    same: fn(&R, &R) -> bool,
    event: fn(Vec<R>) -> Option<Pending>,
    sink: &mut Sink,
) -> Result<(), ServiceError>
where
    C: deadpool_postgres::GenericClient,
{
    let stmt = c.prepare_cached(sql).await?;
    let params: [&(dyn ToSql + Sync); 1] = [&school_id];
    let rows = c.query_raw(&stmt, params).await?;
    pin_mut!(rows);
    while let Some(row) = rows.try_next().await? {
        let r = parse(&row)?;
        if group.last().is_some_and(|last| !same(last, &r)) {
            if let Some(e) = event(std::mem::take(group)) {
                sink.push(e).await?;
            }
        }
        group.push(r);
    }
    if let Some(e) = event(std::mem::take(group)) {
        sink.push(e).await?;
    }
    Ok(())
}
