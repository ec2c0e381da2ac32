//! What a job is: its kind, payload, status and enqueue request.

use std::fmt;

use uuid::Uuid;

use crate::email::EmailMessage;
use crate::sms::SmsMessage;

/// Attempts before a job that keeps failing transiently is `dead`.
pub const DEFAULT_MAX_ATTEMPTS: i32 = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JobKind {
    Sms,
    /// A realtime message to a signed-in user's WebSockets.
    Push,
    Email,
    /// A school's daily check of overdue invoices (scheduled: `run_at`).
    InvoiceReminders,
    /// One batch of an announcement's fan-out to its recipients.
    Announcement,
    /// Rendering one report card's PDF.
    ReportCard,
}

impl JobKind {
    pub const ALL: [JobKind; 6] = [
        JobKind::Sms,
        JobKind::Push,
        JobKind::Email,
        JobKind::InvoiceReminders,
        JobKind::Announcement,
        JobKind::ReportCard,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sms => "sms",
            Self::Push => "push",
            Self::Email => "email",
            Self::InvoiceReminders => "invoice_reminders",
            Self::Announcement => "announcement",
            Self::ReportCard => "report_card",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    /// A permanent error: the job can never succeed as it is.
    Failed,
    /// Gave up: attempts exhausted, or nothing can run it (no provider).
    /// An operator may requeue it once the cause is fixed.
    Dead,
}

impl JobStatus {
    pub const ALL: [JobStatus; 5] = [
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::Succeeded,
        JobStatus::Failed,
        JobStatus::Dead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a job carries, by kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobPayload {
    Sms(SmsMessage),
    Push(PushMessage),
    Email(EmailMessage),
    InvoiceReminders(ReminderRun),
    Announcement(AnnouncementBatch),
    ReportCard(ReportCardRun),
}

/// Render report card `card_id` (its row says whose and which term).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReportCardRun {
    pub card_id: Uuid,
}

/// The next batch of an announcement's recipients: guardians after `after`
/// in id order (`None`: from the first).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AnnouncementBatch {
    pub announcement_id: Uuid,
    pub after: Option<Uuid>,
}

/// The daily overdue check of the job's school for the school's local
/// `date`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReminderRun {
    pub date: chrono::NaiveDate,
}

impl JobPayload {
    pub fn kind(&self) -> JobKind {
        match self {
            Self::Sms(_) => JobKind::Sms,
            Self::Push(_) => JobKind::Push,
            Self::Email(_) => JobKind::Email,
            Self::InvoiceReminders(_) => JobKind::InvoiceReminders,
            Self::Announcement(_) => JobKind::Announcement,
            Self::ReportCard(_) => JobKind::ReportCard,
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Self::Sms(m) => serde_json::to_value(m).expect("an SMS message serialises"),
            Self::Push(m) => serde_json::to_value(m).expect("a push message serialises"),
            Self::Email(m) => serde_json::to_value(m).expect("an e-mail serialises"),
            Self::InvoiceReminders(r) => serde_json::to_value(r).expect("a run serialises"),
            Self::Announcement(b) => serde_json::to_value(b).expect("a batch serialises"),
            Self::ReportCard(r) => serde_json::to_value(r).expect("a card run serialises"),
        }
    }

    /// A stored payload, validated again (the row may predate a rule).
    pub fn from_json(kind: JobKind, value: serde_json::Value) -> Option<Self> {
        match kind {
            JobKind::Sms => serde_json::from_value(value).ok().map(Self::Sms),
            JobKind::Push => serde_json::from_value(value).ok().map(Self::Push),
            JobKind::Email => serde_json::from_value(value).ok().map(Self::Email),
            JobKind::InvoiceReminders => serde_json::from_value(value)
                .ok()
                .map(Self::InvoiceReminders),
            JobKind::Announcement => serde_json::from_value(value).ok().map(Self::Announcement),
            JobKind::ReportCard => serde_json::from_value(value).ok().map(Self::ReportCard),
        }
    }
}

/// A realtime message for one user's WebSockets (published on the school's
/// channel through `platform::realtime`). A job, not a publish inside the
/// consumer's transaction, so it goes out only once that transaction has
/// committed, and is retried while Redis is away.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PushMessage {
    pub user_id: Uuid,
    pub kind: platform::realtime::Kind,
    pub payload: serde_json::Value,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("dedupe key must be 1 to 200 printable characters")]
pub struct InvalidDedupeKey;

/// Identifies one delivery within a school, e.g.
/// `absence:<event id>:<guardian id>:sms`: enqueueing it again is a no-op.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DedupeKey(String);

impl DedupeKey {
    pub fn parse(raw: &str) -> Result<Self, InvalidDedupeKey> {
        let n = raw.chars().count();
        if (1..=200).contains(&n) && raw.chars().all(|c| !c.is_control()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidDedupeKey)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("max attempts must be between 1 and 100")]
pub struct InvalidMaxAttempts;

/// A job to enqueue.
#[derive(Clone, Debug)]
pub struct NewJob {
    pub school_id: Uuid,
    pub dedupe_key: DedupeKey,
    pub payload: JobPayload,
    max_attempts: i32,
    /// Not before this instant (`None`: due now).
    pub run_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The announcement this delivery belongs to (its progress counts it).
    pub announcement_id: Option<Uuid>,
}

impl NewJob {
    pub fn new(school_id: Uuid, dedupe_key: DedupeKey, payload: JobPayload) -> Self {
        Self {
            school_id,
            dedupe_key,
            payload,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            run_at: None,
            announcement_id: None,
        }
    }

    pub fn sms(school_id: Uuid, dedupe_key: DedupeKey, message: SmsMessage) -> Self {
        Self::new(school_id, dedupe_key, JobPayload::Sms(message))
    }

    /// Scheduled: due at `at` rather than now.
    pub fn at(mut self, at: chrono::DateTime<chrono::Utc>) -> Self {
        self.run_at = Some(at);
        self
    }

    /// Counted in `announcement`'s delivery progress.
    pub fn for_announcement(mut self, announcement: Uuid) -> Self {
        self.announcement_id = Some(announcement);
        self
    }

    pub fn with_max_attempts(mut self, n: i32) -> Result<Self, InvalidMaxAttempts> {
        if (1..=100).contains(&n) {
            self.max_attempts = n;
            Ok(self)
        } else {
            Err(InvalidMaxAttempts)
        }
    }

    pub fn max_attempts(&self) -> i32 {
        self.max_attempts
    }
}

/// The outcome of an enqueue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enqueued {
    Created(Uuid),
    /// A job with this dedupe key already exists in the school: nothing done.
    Duplicate,
}

/// A claimed job, held under the lease `lease_token`.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub id: Uuid,
    pub school_id: Uuid,
    pub kind: JobKind,
    /// `None` when the stored payload no longer parses.
    pub payload: Option<JobPayload>,
    pub attempts: i32,
    pub max_attempts: i32,
    pub lease_token: Uuid,
    /// How long it was due before this run started.
    pub queue_wait: std::time::Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in JobStatus::ALL {
            assert_eq!(JobStatus::parse(s.as_str()), Some(s));
        }
        for k in JobKind::ALL {
            assert_eq!(JobKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(JobStatus::parse("QUEUED"), None);
        assert_eq!(JobKind::parse("mail"), None);
    }

    #[test]
    fn dedupe_keys_and_attempts_are_bounded() {
        assert!(DedupeKey::parse("absence:1:2:sms").is_ok());
        assert_eq!(DedupeKey::parse(""), Err(InvalidDedupeKey));
        assert_eq!(DedupeKey::parse(&"k".repeat(201)), Err(InvalidDedupeKey));
        assert_eq!(DedupeKey::parse("a\nb"), Err(InvalidDedupeKey));
        let msg = crate::sms::SmsMessage {
            to: crate::sms::PhoneNumber::parse("+447700900123").unwrap(),
            text: crate::sms::SmsText::parse("hi").unwrap(),
        };
        let job = NewJob::sms(Uuid::nil(), DedupeKey::parse("k").unwrap(), msg);
        assert_eq!(job.max_attempts(), DEFAULT_MAX_ATTEMPTS);
        assert!(job.clone().with_max_attempts(0).is_err());
        assert!(job.clone().with_max_attempts(101).is_err());
        assert_eq!(job.with_max_attempts(3).unwrap().max_attempts(), 3);
    }
}
