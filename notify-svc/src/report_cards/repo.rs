//! SQL of report cards, always within the caller's school. A card and its
//! job are written in one transaction: the job exists if and only if the
//! card does.

use deadpool_postgres::{GenericClient, Pool};
use platform::caller::{Caller, Role};
use platform::db::timed;
use platform::service::ServiceError;
use uuid::Uuid;

use super::domain::{NewBatch, NewCard};
use super::model::{Batch, Card, COLS};
use crate::jobs::{self, DedupeKey, JobPayload, NewJob, ReportCardRun};

fn job_for(school: Uuid, card: Uuid) -> Result<NewJob, ServiceError> {
    let key = DedupeKey::parse(&format!("report_card:{card}")).map_err(anyhow::Error::from)?;
    Ok(NewJob::new(
        school,
        key,
        JobPayload::ReportCard(ReportCardRun { card_id: card }),
    ))
}

/// Queues one student's card. An unknown student (not in the projection of
/// students-svc's events) is NOT_FOUND.
pub async fn create(pool: &Pool, caller: &Caller, new: &NewCard) -> Result<Card, ServiceError> {
    let mut db = pool.get().await?;
    let tx = db.transaction().await?;
    let known = tx
        .prepare_cached("SELECT 1 FROM students WHERE school_id = $1 AND student_id = $2")
        .await?;
    if tx
        .query_opt(&known, &[&caller.school_id, &new.student_id])
        .await?
        .is_none()
    {
        return Err(ServiceError::NotFound("student"));
    }
    let id = Uuid::now_v7();
    let insert = tx
        .prepare_cached(&format!(
            "INSERT INTO report_cards (id, school_id, student_id, term, requested_by) \
             VALUES ($1, $2, $3, $4, $5) RETURNING {COLS}"
        ))
        .await?;
    let row = timed(
        "report_card_create",
        tx.query_one(
            &insert,
            &[
                &id,
                &caller.school_id,
                &new.student_id,
                &new.term.as_str(),
                &caller.user_id,
            ],
        ),
    )
    .await?;
    jobs::enqueue(&tx, &job_for(caller.school_id, id)?).await?;
    tx.commit().await?;
    Ok(Card::from_row(&row)?)
}

/// Queues a card for every current student of the grade level, as one
/// batch. A grade level with no current student is INVALID_ARGUMENT.
pub async fn create_batch(
    pool: &Pool,
    caller: &Caller,
    new: &NewBatch,
) -> Result<(Batch, Vec<Card>), ServiceError> {
    let mut db = pool.get().await?;
    let tx = db.transaction().await?;
    let students = tx
        .prepare_cached(
            "SELECT student_id FROM students WHERE school_id = $1 AND grade_level = $2 AND active \
             ORDER BY family_name, given_name, student_id",
        )
        .await?;
    let ids: Vec<Uuid> = tx
        .query(&students, &[&caller.school_id, &new.grade_level])
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    if ids.is_empty() {
        return Err(ServiceError::invalid(
            "grade_level",
            "no current student in this grade level",
        ));
    }
    let batch_id = Uuid::now_v7();
    let total = i32::try_from(ids.len()).unwrap_or(i32::MAX);
    let batch = tx
        .prepare_cached(
            "INSERT INTO report_card_batches (id, school_id, term, grade_level, requested_by, total) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             RETURNING id, term, grade_level, total, created_at",
        )
        .await?;
    let batch = tx
        .query_one(
            &batch,
            &[
                &batch_id,
                &caller.school_id,
                &new.term.as_str(),
                &new.grade_level,
                &caller.user_id,
                &total,
            ],
        )
        .await?;
    let card_ids: Vec<Uuid> = ids.iter().map(|_| Uuid::now_v7()).collect();
    let insert = tx
        .prepare_cached(&format!(
            "INSERT INTO report_cards (id, school_id, student_id, term, batch_id, requested_by) \
             SELECT c, $3, s, $4, $5, $6 FROM unnest($1::uuid[], $2::uuid[]) AS t(c, s) \
             RETURNING {COLS}"
        ))
        .await?;
    let rows = timed(
        "report_card_batch_create",
        tx.query(
            &insert,
            &[
                &card_ids,
                &ids,
                &caller.school_id,
                &new.term.as_str(),
                &batch_id,
                &caller.user_id,
            ],
        ),
    )
    .await?;
    let jobs = card_ids
        .iter()
        .map(|c| job_for(caller.school_id, *c))
        .collect::<Result<Vec<_>, _>>()?;
    jobs::enqueue_all(&tx, &jobs).await?;
    tx.commit().await?;
    let mut cards: Vec<Card> = rows.iter().map(Card::from_row).collect::<Result<_, _>>()?;
    // In the order of the students (by name), as a later read gives them.
    let order: std::collections::HashMap<Uuid, usize> =
        ids.iter().enumerate().map(|(i, s)| (*s, i)).collect();
    cards.sort_by_key(|c| order.get(&c.student_id).copied().unwrap_or(usize::MAX));
    Ok((Batch::from_row(&batch)?, cards))
}

/// A card of the school by id, without the reader check.
pub async fn find<C: GenericClient>(
    db: &C,
    school: Uuid,
    id: Uuid,
) -> Result<Option<Card>, ServiceError> {
    let stmt = db
        .prepare_cached(&format!(
            "SELECT {COLS} FROM report_cards WHERE school_id = $1 AND id = $2"
        ))
        .await?;
    let row = timed("report_card_find", db.query_opt(&stmt, &[&school, &id])).await?;
    Ok(row.as_ref().map(Card::from_row).transpose()?)
}

/// The card if `caller` may read it: an admin of its school, its student,
/// or a guardian linked to its student. Anyone else: NOT_FOUND, as for an
/// unknown id (a teacher is refused before, by role).
pub async fn readable(pool: &Pool, caller: &Caller, id: Uuid) -> Result<Card, ServiceError> {
    let db = pool.get().await?;
    let card = find(&db, caller.school_id, id)
        .await?
        .ok_or(ServiceError::NotFound("report card"))?;
    let allowed = match caller.role {
        Role::Admin => true,
        Role::Student => caller.student_id == Some(card.student_id),
        Role::Guardian => {
            let stmt = db
                .prepare_cached(
                    "SELECT 1 FROM guardian_students gs JOIN guardians g \
                       ON g.school_id = gs.school_id AND g.guardian_id = gs.guardian_id \
                     WHERE gs.school_id = $1 AND gs.student_id = $2 AND g.user_id = $3",
                )
                .await?;
            db.query_opt(
                &stmt,
                &[&caller.school_id, &card.student_id, &caller.user_id],
            )
            .await?
            .is_some()
        }
        Role::Teacher => false,
    };
    if allowed {
        Ok(card)
    } else {
        Err(ServiceError::NotFound("report card"))
    }
}

/// A batch of the school with its cards, by student name (at creation).
pub async fn find_batch(
    pool: &Pool,
    school: Uuid,
    id: Uuid,
) -> Result<Option<(Batch, Vec<Card>)>, ServiceError> {
    let db = pool.get().await?;
    let stmt = db
        .prepare_cached(
            "SELECT id, term, grade_level, total, created_at FROM report_card_batches \
             WHERE school_id = $1 AND id = $2",
        )
        .await?;
    let Some(batch) = db.query_opt(&stmt, &[&school, &id]).await? else {
        return Ok(None);
    };
    // Card ids are UUIDv7 made in the students' name order at creation.
    let stmt = db
        .prepare_cached(&format!(
            "SELECT {COLS} FROM report_cards WHERE school_id = $1 AND batch_id = $2 ORDER BY id"
        ))
        .await?;
    let cards = timed("report_card_batch_cards", db.query(&stmt, &[&school, &id]))
        .await?
        .iter()
        .map(Card::from_row)
        .collect::<Result<_, _>>()?;
    Ok(Some((Batch::from_row(&batch)?, cards)))
}

/// Ends a queued card as `ready` (with its render time) or `failed` (with
/// a reason), and queues the push to its requester on the same
/// transaction. A card no longer queued is left as it is (`None`): a
/// re-run job changes nothing.
pub async fn finish(
    pool: &Pool,
    school: Uuid,
    id: Uuid,
    outcome: Result<u32, &str>,
) -> anyhow::Result<Option<Card>> {
    let mut db = pool.get().await?;
    let tx = db.transaction().await?;
    let (status, render_ms, error) = match outcome {
        Ok(ms) => ("ready", Some(i32::try_from(ms).unwrap_or(i32::MAX)), None),
        Err(e) => ("failed", None, Some(e)),
    };
    let stmt = tx
        .prepare_cached(&format!(
            "UPDATE report_cards SET status = $3, render_ms = $4, error = left($5, 300), \
               rendered_at = now() \
             WHERE school_id = $1 AND id = $2 AND status = 'queued' RETURNING {COLS}"
        ))
        .await?;
    let Some(row) = timed(
        "report_card_finish",
        tx.query_opt(&stmt, &[&school, &id, &status, &render_ms, &error]),
    )
    .await?
    else {
        return Ok(None);
    };
    let card = Card::from_row(&row)?;
    let push = NewJob::new(
        school,
        DedupeKey::parse(&format!("report_card:{id}:{status}"))?,
        JobPayload::Push(jobs::PushMessage {
            user_id: card.requested_by,
            kind: platform::realtime::Kind::try_from(super::model::REPORT_CARD_UPDATED)?,
            payload: card.push_payload(),
        }),
    );
    jobs::enqueue(&tx, &push).await?;
    tx.commit().await?;
    Ok(Some(card))
}
