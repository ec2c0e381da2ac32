//! The read models, written from domain events on the consumer's
//! transaction (and by a rebuild, with the same code).
//!
//! Newest wins, in any order: every fact carries a version (students,
//! courses, assessments, schools, enrolments, guardian links, invoices; a
//! payment its invoice's version) or a revision (attendance per session and
//! student, grades per assessment and student), and a row is replaced only
//! by a strictly newer one, so a redelivered or late event changes nothing.
//! Payments are keyed by their id, so one is never counted twice.
//!
//! Counters are maintained by deltas between the old and the new state of
//! the row an event replaces, never by recounting a school; each event's
//! work is a few set-based statements whatever its size. A counter row is
//! written only when its delta is not zero, and created by that write (an
//! upsert): a rebuild applies thousands of events in one transaction, and
//! every version of a row it updates stays in the row's chain until the
//! commit, so a row written per event (the school's counters) would make
//! the rebuild quadratic.
//!
//! Every apply first takes the school's transaction-scoped advisory lock
//! ([`lock`]): one school's events are applied one at a time even when
//! several consumers hold entries of its stream (the old-vs-new reads then
//! see no concurrent writer), and a rebuild ([`crate::rebuild`]) holding the
//! same lock makes events wait instead of being applied to a model being
//! replaced.
//!
//! - [`school`]: settings (time zone, school year, slug).
//! - [`people`]: students, logins (staff), guardians and their links.
//! - [`courses`]: courses, timetable slots, enrolments.
//! - [`attendance`]: marks, per-day and per-student counts, the 30-day window.
//! - [`grades`]: assessments, grades, averages.
//! - [`fees`]: invoices, payments, monthly fees, overdue counts.
//! - [`risk`]: the early-warning table.
//! - [`clear`]: removes one school's read models (rebuild).

pub mod attendance;
pub mod clear;
pub mod courses;
pub mod fees;
pub mod grades;
pub mod people;
pub mod risk;
pub mod school;

use deadpool_postgres::Transaction;
use proto::events::v1::{event::Payload, Event};
use uuid::Uuid;

use crate::domain::Risk;

/// Applies one event of `school` (the school of its stream).
pub async fn apply(
    tx: &Transaction<'_>,
    school: Uuid,
    event: &Event,
    t: &Risk,
) -> anyhow::Result<()> {
    let Some(payload) = &event.payload else {
        // A payload this build does not know (the contract only grows).
        return Ok(());
    };
    if !t.deferred {
        // A rebuild (deferred judging) already holds the lock for the
        // whole transaction: one round trip per event saved.
        lock(tx, school).await?;
    }
    match payload {
        Payload::SchoolCreated(s) | Payload::SchoolUpdated(s) => school::apply(tx, school, s).await,
        Payload::StudentCreated(s) | Payload::StudentUpdated(s) | Payload::StudentArchived(s) => {
            people::student(tx, school, s, t).await
        }
        Payload::UserCreated(u) => people::user(tx, school, u).await,
        Payload::GuardianCreated(g) | Payload::GuardianUpdated(g) => {
            people::guardian(tx, school, g).await
        }
        Payload::GuardianLinked(l) => people::link(tx, school, l, true).await,
        Payload::GuardianUnlinked(l) => people::link(tx, school, l, false).await,
        Payload::CourseCreated(c) | Payload::CourseUpdated(c) => {
            courses::course(tx, school, c).await
        }
        Payload::TimetableSlotAdded(s) => courses::slot(tx, school, s).await,
        Payload::EnrolmentCreated(e) | Payload::EnrolmentWithdrawn(e) => {
            courses::enrolment(tx, school, e, t).await
        }
        Payload::AttendanceMarked(a) | Payload::AttendanceOverridden(a) => {
            attendance::apply(tx, school, a, t).await
        }
        Payload::AssessmentCreated(a) | Payload::AssessmentUpdated(a) => {
            grades::assessment(tx, school, a, t).await
        }
        Payload::GradesPublished(g) => grades::published(tx, school, g, t).await,
        Payload::GradesDrafted(g) | Payload::GradesUpdated(g) => {
            grades::changed(tx, school, g, t).await
        }
        Payload::InvoiceDrafted(i) | Payload::InvoiceIssued(i) | Payload::InvoiceVoided(i) => {
            fees::invoice(tx, school, i).await
        }
        Payload::PaymentRecorded(p) => fees::payment(tx, school, p).await,
        Payload::StaffProfileSaved(_) => Ok(()),
    }
}

/// Applies several attendance events of `school` together (the consumer's
/// batch, [`platform::events::Handler::apply_together`]): the same read
/// models as [`apply`] on each in order, in a few statements
/// ([`attendance::apply_together`]). Any other event among them is applied
/// on its own first.
pub async fn apply_together(
    tx: &Transaction<'_>,
    school: Uuid,
    events: &[&Event],
    t: &Risk,
) -> anyhow::Result<()> {
    if !t.deferred {
        lock(tx, school).await?;
    }
    let mut marks = Vec::with_capacity(events.len());
    for event in events {
        match &event.payload {
            Some(Payload::AttendanceMarked(a) | Payload::AttendanceOverridden(a)) => marks.push(a),
            _ => apply(tx, school, event, t).await?,
        }
    }
    attendance::apply_together(tx, school, &marks, t).await
}

/// Advisory-lock class of the per-school apply lock (ASCII "anly"), so it
/// never meets another lock of the database.
const LOCK_CLASS: i32 = 0x616e_6c79;

/// Takes the school's apply lock for the rest of the transaction.
/// Re-entrant within one transaction, so a rebuild holding it applies events
/// through [`apply`].
///
/// The lock is free unless a rebuild (or another consumer's event of the
/// same school) holds it: one try costs one statement. When it is held, the
/// wait may outlast the pool's statement timeout (a rebuild takes seconds),
/// so it waits up to [`LOCK_WAIT`] instead; an event that still times out
/// fails and is redelivered after `claim_idle` (then dead-lettered after
/// `max_deliveries`: a rebuild longer than about that many waits and claim
/// periods needs its school's dead letters replayed).
pub async fn lock(tx: &Transaction<'_>, school: Uuid) -> anyhow::Result<()> {
    let try_lock = tx
        .prepare_cached("SELECT pg_try_advisory_xact_lock($1, hashtext($2::uuid::text))")
        .await?;
    let got: bool = tx
        .query_one(&try_lock, &[&LOCK_CLASS, &school])
        .await?
        .try_get(0)?;
    if !got {
        tx.batch_execute(&format!(
            "SET LOCAL statement_timeout = {}",
            LOCK_WAIT.as_millis()
        ))
        .await?;
        let wait = tx
            .prepare_cached("SELECT pg_advisory_xact_lock($1, hashtext($2::uuid::text))")
            .await?;
        tx.execute(&wait, &[&LOCK_CLASS, &school]).await?;
        // Back to the session's (the pool's) timeout.
        tx.batch_execute("SET LOCAL statement_timeout TO DEFAULT")
            .await?;
    }
    Ok(())
}

/// Longest wait for a school's apply lock held by a rebuild.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(60);
