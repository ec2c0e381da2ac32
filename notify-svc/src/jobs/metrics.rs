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

/// `jobs_completed_total{kind,outcome}`, outcome one of `succeeded`,
/// `retried`, `failed`, `dead`, `released`, `lease_lost`.
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
