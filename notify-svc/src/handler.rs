//! What notify-svc does with each domain event, on the consumer's
//! transaction (the inbox row is already there): keep the projection
//! current, raise absence alerts and the notices of [`crate::notices`], and
//! keep each school's daily overdue check scheduled. Other payloads are
//! skipped.

use deadpool_postgres::Transaction;
use platform::events::{Event, Handler};
use proto::events::v1::event::Payload;

use crate::{
    absence, deliveries, domain, notices,
    notifications::Notification,
    projection,
    reminders::{self, Schedule},
};

#[derive(Clone, Debug, Default)]
pub struct NotifyHandler {
    /// When a school's daily overdue check runs.
    pub reminders: Schedule,
}

impl NotifyHandler {
    pub fn new(reminders: Schedule) -> Self {
        Self { reminders }
    }
}

impl Handler for NotifyHandler {
    async fn apply(&self, tx: &Transaction<'_>, event: &Event) -> anyhow::Result<()> {
        let school = domain::id("school_id", &event.school_id)?;
        let Some(payload) = &event.payload else {
            return Ok(());
        };
        match payload {
            Payload::GuardianCreated(g) | Payload::GuardianUpdated(g) => {
                projection::guardian(tx, school, &g.try_into()?).await
            }
            Payload::GuardianLinked(l) => projection::link(tx, school, &l.try_into()?).await,
            Payload::GuardianUnlinked(l) => projection::unlink(tx, school, &l.try_into()?).await,
            Payload::StudentCreated(s)
            | Payload::StudentUpdated(s)
            | Payload::StudentArchived(s) => projection::student(tx, school, &s.try_into()?).await,
            Payload::CourseCreated(c) | Payload::CourseUpdated(c) => {
                projection::course(tx, school, &c.try_into()?).await
            }
            Payload::EnrolmentCreated(e) | Payload::EnrolmentWithdrawn(e) => {
                projection::enrolment(tx, school, &e.try_into()?).await
            }
            Payload::AttendanceMarked(a) | Payload::AttendanceOverridden(a) => {
                let event_id = domain::id("event_id", &event.event_id)?;
                let created = absence::alert(tx, school, event_id, &a.try_into()?).await?;
                created_notifications(tx, &created).await
            }
            Payload::SchoolCreated(s) | Payload::SchoolUpdated(s) => {
                projection::school(tx, school, &s.into()).await?;
                reminders::ensure_scheduled(tx, school, &self.reminders, chrono::Utc::now()).await
            }
            Payload::InvoiceIssued(i) => {
                let event_id = domain::id("event_id", &event.event_id)?;
                let invoice = i.try_into()?;
                projection::invoice(tx, school, &invoice).await?;
                reminders::ensure_scheduled(tx, school, &self.reminders, chrono::Utc::now())
                    .await?;
                let created = notices::invoice_issued(tx, school, event_id, &invoice).await?;
                created_notifications(tx, &created).await
            }
            Payload::InvoiceVoided(i) | Payload::InvoiceDrafted(i) => {
                projection::invoice(tx, school, &i.try_into()?).await
            }
            Payload::PaymentRecorded(p) => {
                let event_id = domain::id("event_id", &event.event_id)?;
                let payment = p.try_into()?;
                projection::payment(tx, school, &payment).await?;
                let created = notices::payment_receipt(tx, school, event_id, &payment).await?;
                created_notifications(tx, &created).await
            }
            Payload::GradesPublished(g) => {
                let event_id = domain::id("event_id", &event.event_id)?;
                let created =
                    notices::grades_published(tx, school, event_id, &g.try_into()?).await?;
                created_notifications(tx, &created).await
            }
            _ => Ok(()),
        }
    }
}

/// Their delivery jobs, on the same transaction (see
/// [`deliveries::created`]).
pub async fn created_notifications(
    tx: &Transaction<'_>,
    created: &[Notification],
) -> anyhow::Result<()> {
    deliveries::created(tx, created).await
}
