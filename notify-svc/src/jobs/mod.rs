//! The durable delivery job queue (`notify.jobs`).
//!
//! Producers call [`enqueue`] inside their own transaction; the job exists
//! if and only if that transaction commits, and a second enqueue with the
//! same dedupe key in the same school is a no-op. Workers
//! ([`spawn_workers`]) claim due jobs with `FOR UPDATE SKIP LOCKED` under a
//! lease, run them, and record the outcome under that lease:
//!
//! - success → `succeeded`;
//! - transient error (5xx, 408, 429, timeout, connection failure) → back to
//!   `queued` after an exponential, jittered delay, or `dead` when it has had
//!   `max_attempts`;
//! - permanent error (other 4xx, a payload that no longer parses) →
//!   `failed`, never retried;
//! - no provider configured for its kind → `dead`, so an operator sees it
//!   and can requeue it after configuring one.
//!
//! Delivery is at least once: a worker that dies after the provider accepted
//! a message but before recording it leaves the job to be reclaimed when the
//! lease expires and sent again (the provider gets the job id as
//! `Idempotency-Key` to drop such a resend).

mod backoff;
mod config;
mod metrics;
mod model;
pub mod queue;
mod worker;

pub use backoff::Backoff;
pub use config::JobsConfig;
pub use metrics::record_depth;
pub use model::{
    AnnouncementBatch, Claimed, DedupeKey, Enqueued, InvalidDedupeKey, InvalidMaxAttempts, JobKind,
    JobPayload, JobStatus, NewJob, PushMessage, ReminderRun, ReportCardRun, DEFAULT_MAX_ATTEMPTS,
};
pub use queue::{enqueue, enqueue_all};
pub use worker::{
    CardRenderer, Deliverers, FanOut, RenderError, ScheduledRunner, WorkerSettings, Workers,
    NO_EMAIL_PROVIDER, NO_FAN_OUT, NO_REALTIME, NO_REMINDERS, NO_RENDERER, NO_SMS_PROVIDER,
};

use std::future::Future;

use deadpool_postgres::Pool;

/// Starts this replica's workers from the configuration; they stop (and
/// hand back unfinished jobs) when `shutdown` resolves. `database_url` is
/// for the LISTEN connection that wakes them; in `runners`, `realtime`
/// publishes `push` jobs, `reminders` runs the overdue checks,
/// `announcements` the announcements' fan-out and `report_cards` the
/// rendering (`None`: those jobs end dead); its SMS and e-mail clients come
/// from `config`.
pub fn spawn_workers(
    pool: Pool,
    database_url: &str,
    config: &JobsConfig,
    runners: Deliverers,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Workers> {
    let settings = config.settings()?;
    let sms = config.sms.client()?;
    let email = config.email.client()?;
    metrics::register();
    let listen = platform::db::pg_config(database_url, &platform::db::PoolSettings::default())?;
    Ok(Workers::start(
        pool,
        Some(listen),
        settings,
        Deliverers {
            sms,
            email,
            ..runners
        },
        shutdown,
    ))
}
