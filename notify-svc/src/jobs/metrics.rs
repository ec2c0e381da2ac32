//! The queue's metrics. Depth comes from one GROUP BY per housekeeping
//! round, never from counting per job.

use std::{collections::BTreeMap, time::Duration};

use super::model::{JobKind, JobStatus};

/// `jobs{status}`: jobs in the table by status.
pub fn record_depth(depth: &BTreeMap<JobStatus, i64>) {
    for (status, n) in depth {
        metrics::gauge!("jobs", "status" => status.as_str()).set(*n as f64);
    }
}

/// Every `outcome` of `jobs_completed_total`.
pub const OUTCOMES: [&str; 7] = [
    "succeeded",
    "retried",
    "failed",
    "dead",
    "released",
    "lease_lost",
    "unrecorded",
];

/// Exports every completion series at zero from the start, so alerts and
/// dashboards see a series (a rate of 0) before the first job of a kind ends.
pub fn register() {
    for kind in JobKind::ALL {
        for outcome in OUTCOMES {
            metrics::counter!("jobs_completed_total", "kind" => kind.as_str(), "outcome" => outcome)
                .increment(0);
        }
    }
}

/// `jobs_completed_total{kind,outcome}`, outcome one of [`OUTCOMES`].
pub fn record_completion(kind: JobKind, outcome: &'static str, ran_for: Duration) {
    metrics::counter!("jobs_completed_total", "kind" => kind.as_str(), "outcome" => outcome)
        .increment(1);
    metrics::histogram!("job_duration_seconds", "kind" => kind.as_str())
        .record(ran_for.as_secs_f64());
}

/// `job_queue_wait_seconds`: from when a job was due to when it started.
pub fn record_queue_wait(wait: Duration) {
    metrics::histogram!("job_queue_wait_seconds").record(wait.as_secs_f64());
}
