use std::time::Duration;

use super::{backoff::Backoff, worker::WorkerSettings};
use crate::{email::EmailConfig, sms::SmsConfig};

/// Delivery workers and the SMS provider they deliver to.
#[derive(clap::Args, Debug, Clone)]
pub struct JobsConfig {
    /// Delivery workers in this replica (0: this replica runs no jobs). A
    /// worker mostly waits on the provider or the relay (an e-mail costs
    /// about 40 ms through lettre, whose sockets keep Nagle on), so there
    /// are more of them than cores; each holds a database connection only
    /// to claim and to record a job.
    #[arg(long = "jobs-workers", env = "NOTIFY_JOBS_WORKERS", default_value_t = 24,
          value_parser = clap::value_parser!(u16).range(0..=64))]
    pub jobs_workers: u16,
    /// An idle worker looks for due jobs this often (enqueues also wake it
    /// at once through LISTEN/NOTIFY; retries come due by this poll).
    #[arg(
        long = "jobs-poll-ms",
        env = "NOTIFY_JOBS_POLL_MS",
        default_value_t = 1000
    )]
    pub jobs_poll_ms: u64,
    /// How long a claimed job is reserved for its worker; after that it is
    /// assumed crashed and the job runs again. Must exceed the SMS timeout.
    #[arg(
        long = "jobs-lease-ms",
        env = "NOTIFY_JOBS_LEASE_MS",
        default_value_t = 60_000
    )]
    pub jobs_lease_ms: u64,
    /// Retry delay after the first failure; doubles with each attempt.
    #[arg(
        long = "jobs-backoff-base-ms",
        env = "NOTIFY_JOBS_BACKOFF_BASE_MS",
        default_value_t = 2000
    )]
    pub jobs_backoff_base_ms: u64,
    /// Longest retry delay (also caps the provider's `Retry-After`).
    #[arg(
        long = "jobs-backoff-max-ms",
        env = "NOTIFY_JOBS_BACKOFF_MAX_MS",
        default_value_t = 900_000
    )]
    pub jobs_backoff_max_ms: u64,
    /// Expired leases are reclaimed, the depth gauges refreshed and old
    /// finished jobs pruned this often.
    #[arg(
        long = "jobs-housekeeping-ms",
        env = "NOTIFY_JOBS_HOUSEKEEPING_MS",
        default_value_t = 10_000
    )]
    pub jobs_housekeeping_ms: u64,
    /// On shutdown, running jobs get this long to finish before they are
    /// handed back to the queue.
    #[arg(
        long = "jobs-shutdown-grace-ms",
        env = "NOTIFY_JOBS_SHUTDOWN_GRACE_MS",
        default_value_t = 10_000
    )]
    pub jobs_shutdown_grace_ms: u64,
    /// `succeeded` and `failed` jobs are deleted after this long.
    #[arg(
        long = "jobs-retention-secs",
        env = "NOTIFY_JOBS_RETENTION_SECS",
        default_value_t = 604_800
    )]
    pub jobs_retention_secs: u64,
    /// Wake idle workers with Postgres LISTEN/NOTIFY (one extra connection).
    #[arg(long = "jobs-listen", env = "NOTIFY_JOBS_LISTEN", default_value_t = true,
          action = clap::ArgAction::Set)]
    pub jobs_listen: bool,
    #[command(flatten)]
    pub sms: SmsConfig,
    #[command(flatten)]
    pub email: EmailConfig,
}

impl JobsConfig {
    pub fn settings(&self) -> anyhow::Result<WorkerSettings> {
        let s = WorkerSettings {
            workers: usize::from(self.jobs_workers),
            poll: Duration::from_millis(self.jobs_poll_ms.max(1)),
            lease: Duration::from_millis(self.jobs_lease_ms),
            backoff: Backoff {
                base: Duration::from_millis(self.jobs_backoff_base_ms.max(1)),
                max: Duration::from_millis(self.jobs_backoff_max_ms.max(1)),
            },
            housekeeping: Duration::from_millis(self.jobs_housekeeping_ms.max(1)),
            shutdown_grace: Duration::from_millis(self.jobs_shutdown_grace_ms),
            retention: Duration::from_secs(self.jobs_retention_secs),
            listen: self.jobs_listen,
        };
        // A lease shorter than a send would let a second worker send the
        // same message while the first still waits for the provider.
        anyhow::ensure!(
            s.lease >= self.sms.timeout() + Duration::from_secs(5),
            "NOTIFY_JOBS_LEASE_MS must exceed NOTIFY_SMS_TIMEOUT_MS by at least 5 s"
        );
        anyhow::ensure!(
            s.lease >= self.email.timeout() + Duration::from_secs(5),
            "NOTIFY_JOBS_LEASE_MS must exceed NOTIFY_SMTP_TIMEOUT_MS by at least 5 s"
        );
        Ok(s)
    }
}
