//! The statements, every one scoped to the caller's school and to delivery
//! channels (the scheduled overdue checks are not deliveries).

use deadpool_postgres::Pool;
use platform::paging::{self, Page};
use platform::service::ServiceError;
use uuid::Uuid;

use super::domain::{Cursor, ListRequest};
use super::model::{Row, COLS};

/// Most deliveries one retry-all requeues.
pub const MAX_RETRY_ALL: i64 = 10_000;

pub async fn list(
    pool: &Pool,
    school: Uuid,
    q: &ListRequest,
) -> Result<Page<Row, Cursor>, ServiceError> {
    platform::db::timed("list_deliveries", async move {
        let client = pool.get().await?;
        // One shape; the partial index `jobs_undelivered` serves it in
        // order (school, status, id), the channel filtered on the way.
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {COLS} FROM jobs \
                 WHERE school_id = $1 AND status = $2 AND kind IN ('sms', 'email', 'push') \
                   AND ($3::text IS NULL OR kind = $3) AND ($4::uuid IS NULL OR id < $4) \
                 ORDER BY id DESC LIMIT $5"
            ))
            .await?;
        let after = q.after.map(|c| c.id);
        let rows = client
            .query(
                &stmt,
                &[
                    &school,
                    &q.status,
                    &q.channel,
                    &after,
                    &paging::fetch(q.limit),
                ],
            )
            .await?
            .iter()
            .map(Row::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::cut(rows, q.limit, Row::cursor))
    })
    .await
}

const REQUEUE: &str = "status = 'queued', attempts = 0, run_at = now(), last_error = NULL, \
     updated_at = now()";

/// Requeues one dead or failed delivery of the school; `None` when there is
/// no such delivery (another school's, or not dead or failed).
pub async fn retry(pool: &Pool, school: Uuid, id: Uuid) -> Result<Option<Row>, ServiceError> {
    let client = pool.get().await?;
    let stmt = client
        .prepare_cached(&format!(
            "WITH r AS (UPDATE jobs SET {REQUEUE} \
               WHERE school_id = $1 AND id = $2 AND status IN ('dead', 'failed') \
                 AND kind IN ('sms', 'email', 'push') RETURNING *) \
             SELECT {COLS}, pg_notify('notify_jobs', '')::text FROM r"
        ))
        .await?;
    let row = client.query_opt(&stmt, &[&school, &id]).await?;
    Ok(row.as_ref().map(Row::from_row).transpose()?)
}

/// Requeues the school's dead and failed deliveries (of `channel`), at most
/// [`MAX_RETRY_ALL`]; returns how many.
pub async fn retry_all(
    pool: &Pool,
    school: Uuid,
    channel: Option<&str>,
) -> Result<u64, ServiceError> {
    let client = pool.get().await?;
    let stmt = client
        .prepare_cached(&format!(
            "WITH r AS (UPDATE jobs SET {REQUEUE} WHERE id IN ( \
               SELECT id FROM jobs WHERE school_id = $1 AND status IN ('dead', 'failed') \
                 AND kind IN ('sms', 'email', 'push') AND ($2::text IS NULL OR kind = $2) \
               LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING id) \
             SELECT count(*), \
               CASE WHEN count(*) > 0 THEN pg_notify('notify_jobs', '')::text END FROM r"
        ))
        .await?;
    let row = client
        .query_one(&stmt, &[&school, &channel, &MAX_RETRY_ALL])
        .await?;
    Ok(u64::try_from(row.try_get::<_, i64>(0)?).unwrap_or(0))
}
