//! What notify-svc does with each domain event, on the consumer's
//! transaction (the inbox row is already there): keep the projection
//! current and raise absence alerts. Other payloads are skipped.

use deadpool_postgres::Transaction;
use platform::events::{Event, Handler};
use proto::events::v1::event::Payload;

use crate::{absence, deliveries, domain, notifications::Notification, projection};

#[derive(Clone, Copy, Debug, Default)]
pub struct NotifyHandler;

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
            Payload::StudentCreated(s) | Payload::StudentUpdated(s) => {
                projection::student(tx, school, &s.try_into()?).await
            }
            Payload::AttendanceMarked(a) | Payload::AttendanceOverridden(a) => {
                let event_id = domain::id("event_id", &event.event_id)?;
                let created = absence::alert(tx, school, event_id, &a.try_into()?).await?;
                created_notifications(tx, &created).await
            }
            _ => Ok(()),
        }
    }
}

/// Runs for every batch of notifications created on `tx`, before it commits:
/// their delivery jobs (SMS, realtime push) are enqueued on the same
/// transaction.
pub async fn created_notifications(
    tx: &Transaction<'_>,
    created: &[Notification],
) -> anyhow::Result<()> {
    for n in created {
        metrics::counter!("notifications_created_total", "kind" => n.kind.clone()).increment(1);
    }
    deliveries::enqueue(tx, created).await?;
    Ok(())
}
