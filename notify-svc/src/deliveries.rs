//! A new notification's deliveries besides the inbox, enqueued as jobs on
//! the transaction that created it (so they exist if and only if it
//! commits): an SMS for the `sms` channel, a realtime push for `push`.
//! Two statements whatever the number of notifications.

use deadpool_postgres::Transaction;
use platform::realtime::Kind;
use uuid::Uuid;

use crate::jobs::{self, DedupeKey, JobPayload, NewJob, PushMessage};
use crate::notifications::Notification;
use crate::sms::{PhoneNumber, SmsMessage, SmsText};

/// The realtime kind a client receives for a new notification.
pub const NOTIFICATION_CREATED: &str = "notification.created";

pub async fn enqueue(tx: &Transaction<'_>, created: &[Notification]) -> anyhow::Result<u64> {
    let Some(first) = created.first() else {
        return Ok(0);
    };
    let wants = |n: &Notification, c: &str| n.channels.iter().any(|x| x == c);
    let sms_guardians: Vec<Uuid> = created
        .iter()
        .filter(|n| wants(n, "sms"))
        .map(|n| n.guardian_id)
        .collect();
    let phones = if sms_guardians.is_empty() {
        Vec::new()
    } else {
        let stmt = tx
            .prepare_cached(
                "SELECT guardian_id, phone FROM guardians \
                 WHERE school_id = $1 AND guardian_id = ANY($2) AND phone IS NOT NULL",
            )
            .await?;
        tx.query(&stmt, &[&first.school_id, &sms_guardians])
            .await?
            .iter()
            .map(|r| Ok((r.try_get::<_, Uuid>(0)?, r.try_get::<_, String>(1)?)))
            .collect::<Result<Vec<_>, tokio_postgres::Error>>()?
    };
    let mut out = Vec::new();
    for n in created {
        if wants(n, "sms") {
            let phone = phones.iter().find(|(g, _)| *g == n.guardian_id);
            if let Some(sms) = phone.and_then(|(_, p)| sms(p, &n.body)) {
                out.push(NewJob::new(
                    n.school_id,
                    key("sms", n.id)?,
                    JobPayload::Sms(sms),
                ));
            }
        }
        if let (true, Some(user)) = (wants(n, "push"), n.recipient_user_id) {
            out.push(NewJob::new(
                n.school_id,
                key("push", n.id)?,
                JobPayload::Push(PushMessage {
                    user_id: user,
                    kind: Kind::try_from(NOTIFICATION_CREATED.to_owned())?,
                    payload: serde_json::json!({
                        "id": n.id,
                        "kind": n.kind,
                        "title": n.title,
                        "body": n.body,
                        "student_id": n.student_id,
                        "created_at": n.created_at,
                    }),
                }),
            ));
        }
    }
    Ok(jobs::enqueue_all(tx, &out).await?)
}

/// The projection keeps phones in E.164 and bodies short, so this only
/// fails for data that predates a rule: that channel is skipped (the inbox
/// row still exists) rather than failing the whole event.
fn sms(phone: &str, body: &str) -> Option<SmsMessage> {
    Some(SmsMessage {
        to: PhoneNumber::parse(phone).ok()?,
        text: SmsText::parse(body).ok()?,
    })
}

fn key(channel: &str, notification: Uuid) -> anyhow::Result<DedupeKey> {
    DedupeKey::parse(&format!("{channel}:{notification}"))
        .map_err(|_| anyhow::anyhow!("dedupe key for notification {notification}"))
}
