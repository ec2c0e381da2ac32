//! The inbox's SQL: a page is two statements pipelined (the page and the
//! unread count) whatever its size; marking read is one statement.

use deadpool_postgres::Pool;
use platform::caller::Caller;
use platform::paging::{self, Page};
use platform::service::ServiceError;

use super::domain::{Cursor, ListRequest, MarkRead};
use super::model::{Row, COLS};

/// A page of the inbox and the caller's unread count.
pub struct Inbox {
    pub page: Page<Row, Cursor>,
    pub unread: u32,
}

pub async fn list(pool: &Pool, caller: &Caller, q: &ListRequest) -> Result<Inbox, ServiceError> {
    platform::db::timed("list_my_notifications", async move {
        let client = pool.get().await?;
        let unread_only = if q.unread_only {
            "AND n.read_at IS NULL"
        } else {
            ""
        };
        let keyset = if q.after.is_some() {
            "AND (n.created_at, n.id) < ($4, $5)"
        } else {
            ""
        };
        // Four shapes, each prepared once per connection and each a range
        // scan of `notifications_by_recipient` (or its unread twin).
        let page = client
            .prepare_cached(&format!(
                "SELECT {COLS}, n.read_at FROM notifications n \
                 WHERE n.school_id = $1 AND n.recipient_user_id = $2 {unread_only} {keyset} \
                 ORDER BY n.created_at DESC, n.id DESC LIMIT $3"
            ))
            .await?;
        let count = client
            .prepare_cached(
                "SELECT count(*) FROM notifications \
                 WHERE school_id = $1 AND recipient_user_id = $2 AND read_at IS NULL",
            )
            .await?;
        let fetch = paging::fetch(q.limit);
        let (created, id) = q.after.map(|c| (c.created_at, c.id)).unzip();
        let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
            vec![&caller.school_id, &caller.user_id, &fetch];
        if let (Some(c), Some(i)) = (&created, &id) {
            params.push(c);
            params.push(i);
        }
        let count_params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] =
            [&caller.school_id, &caller.user_id];
        let (rows, unread) = tokio::join!(
            client.query(&page, &params),
            client.query_one(&count, &count_params)
        );
        let rows = rows?
            .iter()
            .map(|r| Row::from_row(r, 7))
            .collect::<Result<Vec<_>, _>>()?;
        let unread: i64 = unread?.try_get(0)?;
        Ok(Inbox {
            page: Page::cut(rows, q.limit, Row::cursor),
            unread: u32::try_from(unread).unwrap_or(u32::MAX),
        })
    })
    .await
}

/// Marks the caller's notifications read in one statement; if any id is not
/// the caller's, nothing is marked and the answer is NOT_FOUND (whose it is
/// is not revealed).
pub async fn mark_read(
    pool: &Pool,
    caller: &Caller,
    m: &MarkRead,
) -> Result<Vec<Row>, ServiceError> {
    platform::db::timed("mark_notifications_read", async move {
        let client = pool.get().await?;
        let stmt = client
            .prepare_cached(&format!(
                "WITH mine AS ( \
                   SELECT id FROM notifications \
                   WHERE school_id = $1 AND recipient_user_id = $2 AND id = ANY($3::uuid[])), \
                 upd AS ( \
                   UPDATE notifications n SET read_at = now() \
                   WHERE n.school_id = $1 AND n.recipient_user_id = $2 AND n.id = ANY($3::uuid[]) \
                     AND n.read_at IS NULL \
                     AND (SELECT count(*) FROM mine) = cardinality($3::uuid[]) \
                   RETURNING n.id, n.read_at) \
                 SELECT {COLS}, COALESCE(upd.read_at, n.read_at), \
                   (SELECT count(*) FROM mine) = cardinality($3::uuid[]) \
                 FROM notifications n LEFT JOIN upd ON upd.id = n.id \
                 WHERE n.school_id = $1 AND n.recipient_user_id = $2 AND n.id = ANY($3::uuid[]) \
                 ORDER BY n.created_at DESC, n.id DESC"
            ))
            .await?;
        let rows = client
            .query(&stmt, &[&caller.school_id, &caller.user_id, &m.ids])
            .await?;
        let all_mine = rows
            .first()
            .map(|r| r.try_get::<_, bool>(8))
            .transpose()?
            .unwrap_or(false);
        if !all_mine {
            return Err(ServiceError::NotFound("notification"));
        }
        Ok(rows
            .iter()
            .map(|r| Row::from_row(r, 7))
            .collect::<Result<Vec<_>, _>>()?)
    })
    .await
}
