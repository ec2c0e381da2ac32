//! The queue's statements. Each is one round trip; every one that finishes
//! a job checks the lease token, so a worker that lost its lease (it was too
//! slow and the job was reclaimed) cannot overwrite the newer state.

use std::{collections::BTreeMap, time::Duration};

use deadpool_postgres::GenericClient;
use platform::db::timed;
use uuid::Uuid;

use super::model::{Claimed, Enqueued, JobKind, JobPayload, JobStatus, NewJob};

/// The LISTEN/NOTIFY channel an enqueue wakes idle workers on.
pub const CHANNEL: &str = "notify_jobs";

/// Inserts a job unless its school already has one with the same dedupe
/// key. Runs on the caller's client or transaction: inside a transaction the
/// job (and the wake-up of the workers) exists only if it commits.
pub async fn enqueue<C: GenericClient>(
    client: &C,
    job: &NewJob,
) -> Result<Enqueued, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "WITH ins AS ( \
               INSERT INTO jobs (id, school_id, kind, payload, dedupe_key, max_attempts, run_at, \
                 announcement_id) \
               VALUES ($1, $2, $3, $4, $5, $6, COALESCE($7, now()), $8) \
               ON CONFLICT (school_id, dedupe_key) DO NOTHING RETURNING id) \
             SELECT id, pg_notify('notify_jobs', '')::text FROM ins",
        )
        .await?;
    let id = Uuid::now_v7();
    let kind = job.payload.kind().as_str();
    let payload = job.payload.to_json();
    let max_attempts = job.max_attempts();
    let row = timed(
        "jobs_enqueue",
        client.query_opt(
            &stmt,
            &[
                &id,
                &job.school_id,
                &kind,
                &payload,
                &job.dedupe_key.as_str(),
                &max_attempts,
                &job.run_at,
                &job.announcement_id,
            ],
        ),
    )
    .await?;
    Ok(match row {
        Some(_) => Enqueued::Created(id),
        None => Enqueued::Duplicate,
    })
}

/// [`enqueue`] for many jobs in one statement whatever their number (an
/// event's deliveries); returns how many were new (duplicates skipped).
pub async fn enqueue_all<C: GenericClient>(
    client: &C,
    jobs: &[NewJob],
) -> Result<u64, tokio_postgres::Error> {
    if jobs.is_empty() {
        return Ok(0);
    }
    let stmt = client
        .prepare_cached(
            "WITH ins AS ( \
               INSERT INTO jobs (id, school_id, kind, payload, dedupe_key, max_attempts, run_at, \
                 announcement_id) \
               SELECT i, s, k, p, d, m, COALESCE(r, now()), a FROM unnest($1::uuid[], \
                 $2::uuid[], $3::text[], $4::jsonb[], $5::text[], $6::int[], \
                 $7::timestamptz[], $8::uuid[]) AS t(i, s, k, p, d, m, r, a) \
               ON CONFLICT (school_id, dedupe_key) DO NOTHING RETURNING id) \
             SELECT count(*), pg_notify('notify_jobs', '')::text FROM ins",
        )
        .await?;
    let ids: Vec<Uuid> = jobs.iter().map(|_| Uuid::now_v7()).collect();
    let schools: Vec<Uuid> = jobs.iter().map(|j| j.school_id).collect();
    let kinds: Vec<&str> = jobs.iter().map(|j| j.payload.kind().as_str()).collect();
    let payloads: Vec<serde_json::Value> = jobs.iter().map(|j| j.payload.to_json()).collect();
    let keys: Vec<&str> = jobs.iter().map(|j| j.dedupe_key.as_str()).collect();
    let attempts: Vec<i32> = jobs.iter().map(NewJob::max_attempts).collect();
    let run_at: Vec<Option<chrono::DateTime<chrono::Utc>>> =
        jobs.iter().map(|j| j.run_at).collect();
    let announcements: Vec<Option<Uuid>> = jobs.iter().map(|j| j.announcement_id).collect();
    let row = timed(
        "jobs_enqueue_all",
        client.query_one(
            &stmt,
            &[
                &ids,
                &schools,
                &kinds,
                &payloads,
                &keys,
                &attempts,
                &run_at,
                &announcements,
            ],
        ),
    )
    .await?;
    Ok(u64::try_from(row.try_get::<_, i64>(0)?).unwrap_or(0))
}

/// Claims the oldest due job, if any, under a new lease of `lease` held by
/// `owner` (counted as an attempt).
pub async fn claim<C: GenericClient>(
    client: &C,
    owner: &str,
    lease: Duration,
) -> Result<Option<Claimed>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_owner = $1, \
               lease_token = $2, lease_expires_at = now() + make_interval(secs => $3), \
               updated_at = now() \
             WHERE id = ( \
               SELECT id FROM jobs WHERE status = 'queued' AND run_at <= now() \
               ORDER BY run_at LIMIT 1 FOR UPDATE SKIP LOCKED) \
             RETURNING id, school_id, kind, payload, attempts, max_attempts, \
               GREATEST(EXTRACT(EPOCH FROM now() - run_at), 0)::float8",
        )
        .await?;
    let token = Uuid::new_v4();
    let secs = lease.as_secs_f64();
    let Some(row) = timed(
        "jobs_claim",
        client.query_opt(&stmt, &[&owner, &token, &secs]),
    )
    .await?
    else {
        return Ok(None);
    };
    let kind: String = row.try_get(2)?;
    // The column's CHECK admits only known kinds.
    let kind = JobKind::parse(&kind).unwrap_or(JobKind::Sms);
    let payload: serde_json::Value = row.try_get(3)?;
    let wait: f64 = row.try_get(6)?;
    Ok(Some(Claimed {
        id: row.try_get(0)?,
        school_id: row.try_get(1)?,
        kind,
        payload: JobPayload::from_json(kind, payload),
        attempts: row.try_get(4)?,
        max_attempts: row.try_get(5)?,
        lease_token: token,
        queue_wait: Duration::try_from_secs_f64(wait).unwrap_or_default(),
    }))
}

/// How a finish call went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finished {
    /// The job is now in this status.
    Now(JobStatus),
    /// The lease had expired and the job was taken over: nothing written.
    LeaseLost,
}

fn finished(row: Option<tokio_postgres::Row>) -> Result<Finished, tokio_postgres::Error> {
    Ok(match row {
        Some(r) => {
            let s: String = r.try_get(0)?;
            Finished::Now(JobStatus::parse(&s).unwrap_or(JobStatus::Dead))
        }
        None => Finished::LeaseLost,
    })
}

pub async fn succeed<C: GenericClient>(
    client: &C,
    id: Uuid,
    lease_token: Uuid,
) -> Result<Finished, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "UPDATE jobs SET status = 'succeeded', last_error = NULL, lease_owner = NULL, \
               lease_token = NULL, lease_expires_at = NULL, updated_at = now() \
             WHERE id = $1 AND lease_token = $2 AND status = 'running' RETURNING status",
        )
        .await?;
    finished(
        timed(
            "jobs_succeed",
            client.query_opt(&stmt, &[&id, &lease_token]),
        )
        .await?,
    )
}

/// After a transient failure: queued again `delay` from now, or `dead` when
/// it has had all its attempts.
pub async fn retry<C: GenericClient>(
    client: &C,
    id: Uuid,
    lease_token: Uuid,
    delay: Duration,
    error: &str,
) -> Result<Finished, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "UPDATE jobs SET \
               status = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END, \
               run_at = CASE WHEN attempts >= max_attempts THEN run_at \
                        ELSE now() + make_interval(secs => $3) END, \
               last_error = left($4, 300), lease_owner = NULL, lease_token = NULL, \
               lease_expires_at = NULL, updated_at = now() \
             WHERE id = $1 AND lease_token = $2 AND status = 'running' RETURNING status",
        )
        .await?;
    let secs = delay.as_secs_f64();
    finished(
        timed(
            "jobs_retry",
            client.query_opt(&stmt, &[&id, &lease_token, &secs, &error]),
        )
        .await?,
    )
}

/// Ends a job without retrying: `failed` (it can never succeed) or `dead`
/// (nothing can run it now).
pub async fn give_up<C: GenericClient>(
    client: &C,
    id: Uuid,
    lease_token: Uuid,
    status: JobStatus,
    error: &str,
) -> Result<Finished, tokio_postgres::Error> {
    debug_assert!(matches!(status, JobStatus::Failed | JobStatus::Dead));
    let stmt = client
        .prepare_cached(
            "UPDATE jobs SET status = $3, last_error = left($4, 300), lease_owner = NULL, \
               lease_token = NULL, lease_expires_at = NULL, updated_at = now() \
             WHERE id = $1 AND lease_token = $2 AND status = 'running' RETURNING status",
        )
        .await?;
    finished(
        timed(
            "jobs_give_up",
            client.query_opt(&stmt, &[&id, &lease_token, &status.as_str(), &error]),
        )
        .await?,
    )
}

/// Hands an unfinished job back at shutdown: queued and due now, so another
/// replica takes it at once; the interrupted run is not counted.
pub async fn release<C: GenericClient>(
    client: &C,
    id: Uuid,
    lease_token: Uuid,
) -> Result<Finished, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "UPDATE jobs SET status = 'queued', attempts = GREATEST(attempts - 1, 0), \
               run_at = now(), lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, \
               updated_at = now() \
             WHERE id = $1 AND lease_token = $2 AND status = 'running' RETURNING status",
        )
        .await?;
    finished(
        timed(
            "jobs_release",
            client.query_opt(&stmt, &[&id, &lease_token]),
        )
        .await?,
    )
}

/// Puts jobs whose lease expired (their worker died or stalled) back in the
/// queue, or `dead` if that was their last attempt; a bounded batch per
/// call. Returns how many.
pub async fn reclaim_expired<C: GenericClient>(client: &C) -> Result<u64, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "UPDATE jobs SET \
               status = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END, \
               run_at = now(), last_error = 'lease expired', lease_owner = NULL, \
               lease_token = NULL, lease_expires_at = NULL, updated_at = now() \
             WHERE id IN ( \
               SELECT id FROM jobs WHERE status = 'running' AND lease_expires_at < now() \
               ORDER BY lease_expires_at LIMIT 1000 FOR UPDATE SKIP LOCKED)",
        )
        .await?;
    timed("jobs_reclaim", client.execute(&stmt, &[])).await
}

/// Jobs by status (every status, zero when none), in one query.
pub async fn depth<C: GenericClient>(
    client: &C,
) -> Result<BTreeMap<JobStatus, i64>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached("SELECT status, count(*) FROM jobs GROUP BY status")
        .await?;
    let mut out: BTreeMap<JobStatus, i64> = JobStatus::ALL.into_iter().map(|s| (s, 0)).collect();
    for row in timed("jobs_depth", client.query(&stmt, &[])).await? {
        let status: String = row.try_get(0)?;
        if let Some(s) = JobStatus::parse(&status) {
            out.insert(s, row.try_get(1)?);
        }
    }
    Ok(out)
}

/// Deletes `succeeded` and `failed` jobs last touched before `before`, a
/// bounded batch per call (`dead` ones stay until an operator acts).
pub async fn prune<C: GenericClient>(
    client: &C,
    retention: Duration,
) -> Result<u64, tokio_postgres::Error> {
    // The cut-off is computed by the database from its own clock, the one
    // that wrote `updated_at`: a pod whose clock is skewed (or a test with a
    // moved clock) cannot prune jobs that are still young.
    let stmt = client
        .prepare_cached(
            "DELETE FROM jobs WHERE id IN ( \
               SELECT id FROM jobs WHERE status IN ('succeeded', 'failed') \
                 AND updated_at < now() - make_interval(secs => $1) \
               ORDER BY updated_at LIMIT 10000)",
        )
        .await?;
    let secs = retention.as_secs_f64();
    timed("jobs_prune", client.execute(&stmt, &[&secs])).await
}
