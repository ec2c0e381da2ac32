//! The fan-out: one `announcement` job per batch of guardians, in guardian
//! id order. A batch, in one transaction, writes each guardian's inbox row
//! (dedupe key `announcement:<id>`: a guardian once, whatever the number of
//! their children in the audience or of runs of the batch), enqueues their
//! deliveries tagged with the announcement, and enqueues the next batch
//! (dedupe key `announcement:<id>:<last guardian>`) or marks the fan-out
//! done. A worker that dies mid-batch leaves nothing; one that dies after
//! the commit leaves a job that runs again and finds everything done. The
//! request that created the announcement never waits for any of it.

use deadpool_postgres::Pool;
use uuid::Uuid;

use super::model::{Row, COLS};
use super::repo::{self, Recipient};
use crate::jobs::{self, AnnouncementBatch, DedupeKey, FanOut, JobPayload, NewJob};
use crate::notifications::{self, Notification};

/// Inserts the batch's inbox rows; returns those created now.
async fn notify(
    tx: &deadpool_postgres::Transaction<'_>,
    school: Uuid,
    a: &Row,
    found: &[Recipient],
) -> anyhow::Result<Vec<Notification>> {
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "INSERT INTO notifications (school_id, guardian_id, recipient_user_id, student_id, kind, \
           title, body, channels, dedupe_key, source_event_id) \
         SELECT $1, g, u, NULL, 'announcement', $2, $3, \
           COALESCE(string_to_array(NULLIF(c, ''), ','), '{{}}'), $4, $5 \
         FROM unnest($6::uuid[], $7::uuid[], $8::text[]) AS n(g, u, c) \
         ON CONFLICT (school_id, guardian_id, dedupe_key) DO NOTHING \
         RETURNING {}",
        notifications::COLUMNS
    );
    let stmt = tx.prepare_cached(&sql).await?;
    let guardians: Vec<Uuid> = found.iter().map(|r| r.guardian_id).collect();
    let users: Vec<Option<Uuid>> = found.iter().map(|r| r.user_id).collect();
    let channels: Vec<String> = found.iter().map(|r| r.channels.join(",")).collect();
    let key = format!("announcement:{}", a.id);
    let rows = tx
        .query(
            &stmt,
            &[
                &school, &a.title, &a.body, &key, &a.id, &guardians, &users, &channels,
            ],
        )
        .await?;
    Ok(rows
        .iter()
        .map(Notification::from_row)
        .collect::<Result<_, _>>()?)
}

/// Runs one batch of at most `size` guardians; how many it reached now.
pub async fn run_batch(
    pool: &Pool,
    school: Uuid,
    batch: &AnnouncementBatch,
    size: i64,
) -> anyhow::Result<usize> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    // Held to the commit: two runs of one announcement's batches (a job
    // reclaimed from a stalled worker) take turns.
    let stmt = tx
        .prepare_cached(&format!(
            "SELECT {COLS} FROM announcements WHERE school_id = $1 AND id = $2 FOR UPDATE"
        ))
        .await?;
    let Some(row) = tx
        .query_opt(&stmt, &[&school, &batch.announcement_id])
        .await?
    else {
        // Nothing to send (it cannot be deleted today; a job outliving it
        // ends here rather than retrying).
        return Ok(0);
    };
    let a = Row::from_row(&row)?;
    let found = repo::recipients(&tx, school, &a.audience, batch.after, size).await?;
    let created = notify(&tx, school, &a, &found).await?;
    metrics::counter!("notifications_created_total", "kind" => "announcement")
        .increment(created.len() as u64);
    let deliveries: Vec<NewJob> = crate::deliveries::jobs_for(&tx, &created)
        .await?
        .into_iter()
        .map(|j| j.for_announcement(a.id))
        .collect();
    jobs::enqueue_all(&tx, &deliveries).await?;
    let next = match found.last() {
        Some(last) if found.len() as i64 == size => Some(last.guardian_id),
        _ => None,
    };
    if let Some(after) = next {
        let key = DedupeKey::parse(&format!("announcement:{}:{after}", a.id))
            .map_err(|_| anyhow::anyhow!("announcement batch dedupe key"))?;
        jobs::enqueue(
            &tx,
            &NewJob::new(
                school,
                key,
                JobPayload::Announcement(AnnouncementBatch {
                    announcement_id: a.id,
                    after: Some(after),
                }),
            ),
        )
        .await?;
    }
    let stmt = tx
        .prepare_cached(
            "UPDATE announcements SET recipients = recipients + $3, batches = batches + 1, \
               fanned_out_at = COALESCE(fanned_out_at, CASE WHEN $4 THEN now() END) \
             WHERE school_id = $1 AND id = $2",
        )
        .await?;
    let reached = i32::try_from(created.len())?;
    tx.execute(&stmt, &[&school, &a.id, &reached, &next.is_none()])
        .await?;
    tx.commit().await?;
    Ok(created.len())
}

/// What the job workers run `announcement` jobs with.
#[derive(Clone, Debug)]
pub struct Runner {
    /// Guardians per batch.
    pub batch: i64,
}

impl FanOut for Runner {
    fn fan_out<'a>(
        &'a self,
        pool: &'a Pool,
        school: Uuid,
        _job: Uuid,
        batch: &'a AnnouncementBatch,
    ) -> futures::future::BoxFuture<'a, anyhow::Result<usize>> {
        Box::pin(run_batch(pool, school, batch, self.batch))
    }
}
