//! The statements, every one scoped to the caller's school: who may send to
//! whom, the audience's guardians (one keyset-ordered statement, shared by
//! the emptiness check and the fan-out's batches), the daily quota, and
//! reading announcements with their progress.

use std::time::Duration;

use chrono::{DateTime, NaiveTime, Utc};
use deadpool_postgres::{GenericClient, Pool};
use platform::caller::{Caller, Role};
use platform::paging::{self, Page};
use platform::service::ServiceError;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use super::domain::{Audience, Cursor, ListRequest, NewAnnouncement};
use super::model::{Counts, Progress, Row, CHANNELS, COLS};
use crate::jobs::{self, AnnouncementBatch, DedupeKey, JobPayload, NewJob};

/// A guardian in an announcement's audience, with the channels they opted
/// into and can be reached on.
#[derive(Clone, Debug)]
pub struct Recipient {
    pub guardian_id: Uuid,
    pub user_id: Option<Uuid>,
    pub channels: Vec<String>,
}

/// The audience's guardians after `$2` in id order, at most `$3`: each
/// guardian once whatever the number of their children in it. Students are
/// those still at school (not archived, graduated or withdrawn; a student
/// the projection has not seen counts as current), through live links.
///
/// One statement per kind of audience, each walking `guardians_pkey` from
/// `$2` and probing each guardian's links (`guardian_students_guardian`)
/// in a `LATERAL ... LIMIT 1` until `$3` are found, so a batch costs its
/// size, not the school's, whatever the statistics say: a plain `EXISTS`
/// let the planner pick a join over every link of the school, which for a
/// school just seeded (statistics not yet analysed) ran past the 5 s
/// statement timeout; one statement with the kind in a CASE was planned as
/// a hashed subplan over the school's links per batch.
fn recipients_sql(audience: &Audience) -> String {
    let students = match audience {
        Audience::Guardians(_) => {
            return recipients_where("", "AND g.guardian_id = ANY($4::uuid[])")
        }
        Audience::School => "",
        Audience::GradeLevels(_) => "AND s.grade_level = ANY($4::int[])",
        Audience::Courses(_) => {
            "AND EXISTS (SELECT 1 FROM enrolments e WHERE e.school_id = $1 \
               AND e.student_id = gs.student_id AND e.enrolled AND e.course_id = ANY($4::uuid[]))"
        }
    };
    recipients_where(
        &format!(
            "CROSS JOIN LATERAL (SELECT 1 FROM guardian_students gs \
               LEFT JOIN students s ON s.school_id = gs.school_id AND s.student_id = gs.student_id \
               WHERE gs.school_id = $1 AND gs.guardian_id = g.guardian_id AND gs.linked \
                 AND COALESCE(s.active, true) {students} LIMIT 1) hit"
        ),
        "",
    )
}

/// The recipients statement: guardians (joined with `join`) filtered by
/// `filter`, after `$2` in id order, at most `$3`.
fn recipients_where(join: &str, filter: &str) -> String {
    format!(
        "SELECT g.guardian_id, g.user_id, \
           array_remove(ARRAY[ \
             CASE WHEN g.notify_sms AND g.phone IS NOT NULL THEN 'sms' END, \
             CASE WHEN g.notify_email AND g.email IS NOT NULL THEN 'email' END, \
             CASE WHEN g.notify_push AND g.user_id IS NOT NULL THEN 'push' END], NULL) \
         FROM guardians g {join} \
         WHERE g.school_id = $1 AND g.guardian_id > $2 {filter} \
         ORDER BY g.guardian_id LIMIT $3"
    )
}

/// At most `limit` guardians of `audience` after `after`.
pub async fn recipients<C: GenericClient>(
    client: &C,
    school: Uuid,
    audience: &Audience,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Recipient>, tokio_postgres::Error> {
    let stmt = client.prepare_cached(&recipients_sql(audience)).await?;
    // Ids are v7 or v4, never nil: the nil id is before every guardian.
    let after = after.unwrap_or(Uuid::nil());
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![&school, &after, &limit];
    match audience {
        Audience::School => {}
        Audience::GradeLevels(grades) => params.push(grades),
        Audience::Courses(ids) | Audience::Guardians(ids) => params.push(ids),
    }
    let rows = platform::db::timed("announcement_recipients", client.query(&stmt, &params)).await?;
    rows.iter()
        .map(|r| {
            Ok(Recipient {
                guardian_id: r.try_get(0)?,
                user_id: r.try_get(1)?,
                channels: r.try_get(2)?,
            })
        })
        .collect()
}

/// A teacher sends to courses they teach, and only those; an admin names
/// courses and guardians that exist in the school (as projected).
async fn check_audience<C: GenericClient>(
    client: &C,
    caller: &Caller,
    audience: &Audience,
) -> Result<(), ServiceError> {
    const OWN_COURSES: &str = "a teacher sends announcements to the courses they teach only";
    let teacher = caller.role == Role::Teacher;
    if teacher && !matches!(audience, Audience::Courses(_)) {
        return Err(ServiceError::PermissionDenied(OWN_COURSES));
    }
    let teacher_id = teacher.then_some(caller.user_id);
    let (field, ids, rows) = match audience {
        Audience::Courses(ids) => {
            let stmt = client
                .prepare_cached(
                    "SELECT course_id FROM courses WHERE school_id = $1 AND course_id = ANY($2) \
                       AND ($3::uuid IS NULL OR teacher_id = $3)",
                )
                .await?;
            let rows = client
                .query(&stmt, &[&caller.school_id, ids, &teacher_id])
                .await?;
            ("audience.course_ids", ids, rows)
        }
        Audience::Guardians(ids) => {
            let stmt = client
                .prepare_cached(
                    "SELECT guardian_id FROM guardians \
                     WHERE school_id = $1 AND guardian_id = ANY($2)",
                )
                .await?;
            let rows = client.query(&stmt, &[&caller.school_id, ids]).await?;
            ("audience.guardian_ids", ids, rows)
        }
        Audience::School | Audience::GradeLevels(_) => return Ok(()),
    };
    let found: Vec<Uuid> = rows
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    let missing: Vec<usize> = (0..ids.len())
        .filter(|i| !found.contains(&ids[*i]))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if teacher {
        return Err(ServiceError::PermissionDenied(OWN_COURSES));
    }
    let what = if field == "audience.course_ids" {
        "no such course in the school"
    } else {
        "no such guardian in the school"
    };
    Err(ServiceError::Invalid(
        missing
            .into_iter()
            .map(|i| platform::service::FieldViolation {
                field: format!("{field}[{i}]"),
                message: what.to_owned(),
            })
            .collect(),
    ))
}

/// Counts one announcement against the school's quota for its local day;
/// when the quota is used up, how long until its next day.
async fn take_quota<C: GenericClient>(
    client: &C,
    school: Uuid,
    per_day: u32,
    now: DateTime<Utc>,
) -> Result<Result<(), Duration>, ServiceError> {
    let tz = crate::reminders::time_zone(client, school).await?;
    let today = now.with_timezone(&tz).date_naive();
    let stmt = client
        .prepare_cached(
            "INSERT INTO announcement_quota AS q (school_id, day, used) VALUES ($1, $2, 1) \
             ON CONFLICT (school_id, day) DO UPDATE SET used = q.used + 1 WHERE q.used < $3 \
             RETURNING used",
        )
        .await?;
    let limit = i32::try_from(per_day).unwrap_or(i32::MAX);
    if client
        .query_opt(&stmt, &[&school, &today, &limit])
        .await?
        .is_some()
    {
        return Ok(Ok(()));
    }
    let next = today
        .succ_opt()
        .map(|d| crate::reminders::check_instant(tz, d, NaiveTime::MIN))
        .unwrap_or(now);
    let wait = (next - now).to_std().unwrap_or_default();
    Ok(Err(wait.max(Duration::from_secs(1))))
}

/// The first batch of the announcement's fan-out.
fn first_batch(school: Uuid, announcement: Uuid) -> Result<NewJob, ServiceError> {
    let key = DedupeKey::parse(&format!("announcement:{announcement}:start"))
        .map_err(|_| anyhow::anyhow!("announcement dedupe key"))?;
    Ok(NewJob::new(
        school,
        key,
        JobPayload::Announcement(AnnouncementBatch {
            announcement_id: announcement,
            after: None,
        }),
    ))
}

/// Records the announcement and its first fan-out job, in one transaction,
/// once the caller may send to the audience, the audience has a guardian in
/// it and the school's quota allows.
pub async fn create(
    pool: &Pool,
    caller: &Caller,
    new: &NewAnnouncement,
    per_day: u32,
) -> Result<Row, ServiceError> {
    platform::db::timed("create_announcement", async move {
        let school = caller.school_id;
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        check_audience(&tx, caller, &new.audience).await?;
        if recipients(&tx, school, &new.audience, None, 1)
            .await?
            .is_empty()
        {
            return Err(ServiceError::invalid(
                "audience",
                "has no guardian in it: nobody would be told",
            ));
        }
        if let Err(retry_after) = take_quota(&tx, school, per_day, Utc::now()).await? {
            return Err(ServiceError::QuotaExceeded {
                message: "the school's daily announcement quota is used up; retry tomorrow",
                retry_after,
            });
        }
        let stmt = tx
            .prepare_cached(&format!(
                "INSERT INTO announcements (id, school_id, author_user_id, title, body, \
                   audience_kind, grade_levels, course_ids, guardian_ids) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {COLS}"
            ))
            .await?;
        let id = Uuid::now_v7();
        let a = &new.audience;
        let row = tx
            .query_one(
                &stmt,
                &[
                    &id,
                    &school,
                    &caller.user_id,
                    &new.title,
                    &new.body,
                    &a.kind(),
                    &a.grade_levels(),
                    &a.course_ids(),
                    &a.guardian_ids(),
                ],
            )
            .await?;
        jobs::enqueue(&tx, &first_batch(school, id)?).await?;
        tx.commit().await?;
        Ok(Row::from_row(&row)?)
    })
    .await
}

/// A teacher reads their own announcements; an admin the school's.
fn author_filter(caller: &Caller) -> Option<Uuid> {
    (caller.role != Role::Admin).then_some(caller.user_id)
}

/// Delivery counts of `ids` by channel (one grouped statement).
async fn progress<C: GenericClient>(
    client: &C,
    school: Uuid,
    ids: &[Uuid],
) -> Result<Progress, tokio_postgres::Error> {
    let mut out = Progress::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let stmt = client
        .prepare_cached(
            "SELECT announcement_id, kind, \
               count(*) FILTER (WHERE status IN ('queued', 'running')), \
               count(*) FILTER (WHERE status = 'succeeded'), \
               count(*) FILTER (WHERE status IN ('failed', 'dead')) \
             FROM jobs WHERE announcement_id = ANY($2) AND school_id = $1 \
             GROUP BY announcement_id, kind",
        )
        .await?;
    for r in client.query(&stmt, &[&school, &ids]).await? {
        let kind: String = r.try_get(1)?;
        let Some(channel) = CHANNELS.iter().find(|c| **c == kind) else {
            continue;
        };
        let n = |i: usize| -> Result<u32, tokio_postgres::Error> {
            Ok(u32::try_from(r.try_get::<_, i64>(i)?).unwrap_or(u32::MAX))
        };
        out.insert(
            (r.try_get(0)?, *channel),
            Counts {
                queued: n(2)?,
                sent: n(3)?,
                failed: n(4)?,
            },
        );
    }
    Ok(out)
}

/// The announcement with its progress; `None` when it is not the caller's
/// to see (another school's, or another author's for a teacher).
pub async fn find(
    pool: &Pool,
    caller: &Caller,
    id: Uuid,
) -> Result<Option<(Row, Progress)>, ServiceError> {
    platform::db::timed("get_announcement", async move {
        let client = pool.get().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {COLS} FROM announcements WHERE school_id = $1 AND id = $2 \
                   AND ($3::uuid IS NULL OR author_user_id = $3)"
            ))
            .await?;
        let Some(row) = client
            .query_opt(&stmt, &[&caller.school_id, &id, &author_filter(caller)])
            .await?
        else {
            return Ok(None);
        };
        let row = Row::from_row(&row)?;
        let p = progress(&client, caller.school_id, &[row.id]).await?;
        Ok(Some((row, p)))
    })
    .await
}

/// One page, newest first, with the page's progress (two statements).
pub async fn list(
    pool: &Pool,
    caller: &Caller,
    q: &ListRequest,
) -> Result<(Page<Row, Cursor>, Progress), ServiceError> {
    platform::db::timed("list_announcements", async move {
        let client = pool.get().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {COLS} FROM announcements WHERE school_id = $1 \
                   AND ($2::uuid IS NULL OR author_user_id = $2) \
                   AND ($3::uuid IS NULL OR id < $3) \
                 ORDER BY id DESC LIMIT $4"
            ))
            .await?;
        let after = q.after.map(|c| c.id);
        let rows = client
            .query(
                &stmt,
                &[
                    &caller.school_id,
                    &author_filter(caller),
                    &after,
                    &paging::fetch(q.limit),
                ],
            )
            .await?
            .iter()
            .map(Row::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let page = Page::cut(rows, q.limit, Row::cursor);
        let ids: Vec<Uuid> = page.rows.iter().map(|r| r.id).collect();
        let p = progress(&client, caller.school_id, &ids).await?;
        Ok((page, p))
    })
    .await
}
