//! A new notification's deliveries besides the inbox, enqueued as jobs on
//! the transaction that created it (so they exist if and only if it
//! commits): an SMS for the `sms` channel, an e-mail (the notification's
//! title as subject, its body as text) for `email`, a realtime push for
//! `push`. Two statements whatever the number of notifications.

use deadpool_postgres::Transaction;
use platform::realtime::Kind;
use uuid::Uuid;

use crate::email::{EmailAddress, EmailMessage};
use crate::jobs::{self, DedupeKey, JobPayload, NewJob, PushMessage};
use crate::notifications::Notification;
use crate::sms::{PhoneNumber, SmsMessage, SmsText};

/// The realtime kind a client receives for a new notification.
pub const NOTIFICATION_CREATED: &str = "notification.created";

/// Runs for every batch of notifications created on `tx`, before it
/// commits: counted, and their delivery jobs enqueued on the same
/// transaction.
pub async fn created(tx: &Transaction<'_>, created: &[Notification]) -> anyhow::Result<()> {
    for n in created {
        metrics::counter!("notifications_created_total", "kind" => n.kind.clone()).increment(1);
    }
    enqueue(tx, created).await?;
    Ok(())
}

pub async fn enqueue(tx: &Transaction<'_>, created: &[Notification]) -> anyhow::Result<u64> {
    let out = jobs_for(tx, created).await?;
    Ok(jobs::enqueue_all(tx, &out).await?)
}

/// The delivery jobs of `created` (one statement reads the contacts), for
/// the caller to enqueue (an announcement tags them with its id first).
pub async fn jobs_for(
    tx: &Transaction<'_>,
    created: &[Notification],
) -> anyhow::Result<Vec<NewJob>> {
    let Some(first) = created.first() else {
        return Ok(Vec::new());
    };
    let wants = |n: &Notification, c: &str| n.channels.iter().any(|x| x == c);
    let contacted: Vec<Uuid> = created
        .iter()
        .filter(|n| wants(n, "sms") || wants(n, "email"))
        .filter_map(|n| n.guardian_id)
        .collect();
    // (guardian, phone, email)
    let contacts = if contacted.is_empty() {
        Vec::new()
    } else {
        let stmt = tx
            .prepare_cached(
                "SELECT guardian_id, phone, email FROM guardians \
                 WHERE school_id = $1 AND guardian_id = ANY($2)",
            )
            .await?;
        tx.query(&stmt, &[&first.school_id, &contacted])
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get::<_, Uuid>(0)?,
                    r.try_get::<_, Option<String>>(1)?,
                    r.try_get::<_, Option<String>>(2)?,
                ))
            })
            .collect::<Result<Vec<_>, tokio_postgres::Error>>()?
    };
    let mut out = Vec::new();
    for n in created {
        let contact = contacts.iter().find(|(g, _, _)| Some(*g) == n.guardian_id);
        if wants(n, "sms") {
            let phone = contact.and_then(|(_, p, _)| p.as_deref());
            if let Some(sms) = phone.and_then(|p| sms(p, &n.body)) {
                out.push(NewJob::new(
                    n.school_id,
                    key("sms", n.id)?,
                    JobPayload::Sms(sms),
                ));
            }
        }
        if wants(n, "email") {
            let address = contact.and_then(|(_, _, e)| e.as_deref());
            if let Some(mail) = address.and_then(|a| email(a, &n.title, &n.body)) {
                out.push(NewJob::new(
                    n.school_id,
                    key("email", n.id)?,
                    JobPayload::Email(mail),
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
    Ok(out)
}

/// The projection keeps phones in E.164 and bodies short, so this only
/// fails for data that predates a rule: that channel is skipped (the inbox
/// row still exists) rather than failing the whole event.
fn sms(phone: &str, body: &str) -> Option<SmsMessage> {
    Some(SmsMessage {
        to: PhoneNumber::parse(phone).ok()?,
        text: SmsText::parse(&fit_sms(body)).ok()?,
    })
}

/// A body as one SMS: line ends as `\n` and tabs as spaces (the only
/// control character an SMS takes is `\n`), and a body longer than one SMS
/// (an announcement) cut to fit, ending in `…`: the whole text is in the
/// inbox and the e-mail.
fn fit_sms(body: &str) -> String {
    let text = body
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace('\t', " ");
    if text.chars().count() <= SmsText::MAX_CHARS {
        return text;
    }
    let cut: String = text.chars().take(SmsText::MAX_CHARS - 1).collect();
    format!("{}…", cut.trim_end())
}

/// As [`sms`]: an address or text that no longer parses skips the channel.
fn email(address: &str, subject: &str, body: &str) -> Option<EmailMessage> {
    EmailMessage::new(EmailAddress::parse(address).ok()?, subject, body).ok()
}

fn key(channel: &str, notification: Uuid) -> anyhow::Result<DedupeKey> {
    DedupeKey::parse(&format!("{channel}:{notification}"))
        .map_err(|_| anyhow::anyhow!("dedupe key for notification {notification}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_bodies_are_cut_to_one_sms() {
        assert_eq!(fit_sms("short"), "short");
        assert_eq!(fit_sms("a\r\nb\rc\td"), "a\nb\nc d");
        let long = "word ".repeat(1000);
        let fitted = fit_sms(&long);
        assert!(fitted.chars().count() <= SmsText::MAX_CHARS);
        assert!(fitted.ends_with("word…"));
        assert!(SmsText::parse(&fitted).is_ok());
    }
}
