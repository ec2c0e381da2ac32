//! Assessment and grade SQL. Every function takes the school id; every
//! statement is `WHERE school_id = $1`; each function runs a fixed number of
//! statements whatever the size of its input; every state change records its
//! event in the same transaction.
//!
//! Every write to an assessment or its grades first locks the assessment's
//! row (`FOR NO KEY UPDATE`), so they serialise per assessment: a score is
//! checked against the max score it is stored under, a max score cannot drop
//! below a score being written, and the assessment's events are in commit
//! order.

use deadpool_postgres::{GenericClient, Pool, Transaction};
use platform::paging::{self, Page};
use platform::service::{FieldViolation, ServiceError};
use proto::events::v1::{self as ev, event::Payload};
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use super::domain::{
    format_hundredths, AssessmentCursor, AssessmentQuery, AssessmentUpdate, GradeCursor,
    GradeEntries, NewAssessment, StudentGradesQuery,
};
use super::model::{
    aggregate, score_event, AssessmentRow, GradeRow, StudentGradeRow, ASSESSMENT_COLS,
};
use crate::authz::{accessible_course, Access};
use crate::events::{self, Origin, Pending};

/// Whose grades of a student the caller may read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Admins: every grade, drafts included.
    All,
    /// Teachers: the grades of the courses they teach, drafts included.
    TeacherOf(Uuid),
    /// The student themself: published grades only.
    Published,
    /// A guardian login: a linked child's published grades only.
    ChildOf(Uuid),
}

/// The assessment (with its course's teacher), locked for this transaction
/// when `lock` is set; NOT_FOUND in another school, PERMISSION_DENIED for a
/// teacher of another course.
async fn select_assessment<C: GenericClient>(
    c: &C,
    school_id: Uuid,
    id: Uuid,
    access: Access,
    lock: bool,
) -> Result<AssessmentRow, ServiceError> {
    let sql = format!(
        "SELECT {ASSESSMENT_COLS}, c.teacher_id FROM assessments a \
         JOIN courses c ON c.school_id = a.school_id AND c.id = a.course_id \
         WHERE a.school_id = $1 AND a.id = $2{}",
        if lock { " FOR NO KEY UPDATE OF a" } else { "" }
    );
    let stmt = c.prepare_cached(&sql).await?;
    let Some(row) = c.query_opt(&stmt, &[&school_id, &id]).await? else {
        return Err(ServiceError::NotFound("assessment"));
    };
    access.check(row.try_get(14)?)?;
    Ok(AssessmentRow::from_row(&row)?)
}

/// Creates an assessment for a course the caller may manage. Four
/// statements and the transaction's two.
pub async fn create_assessment(
    pool: &Pool,
    school_id: Uuid,
    actor: Uuid,
    access: Access,
    a: &NewAssessment,
) -> Result<AssessmentRow, ServiceError> {
    platform::db::timed("create_assessment", async move {
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        let stmt = tx
            .prepare_cached("SELECT teacher_id FROM courses WHERE school_id = $1 AND id = $2")
            .await?;
        let Some(course) = tx.query_opt(&stmt, &[&school_id, &a.course_id]).await? else {
            return Err(ServiceError::NotFound("course"));
        };
        access.check(course.try_get(0)?)?;
        let stmt = tx
            .prepare_cached(&format!(
                "INSERT INTO assessments AS a (id, school_id, course_id, title, description, \
                   max_score, weight, due_on, created_by, updated_by) \
                 VALUES ($2, $1, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING {ASSESSMENT_COLS}"
            ))
            .await?;
        let row = tx
            .query_one(
                &stmt,
                &[
                    &school_id,
                    &Uuid::now_v7(),
                    &a.course_id,
                    &a.title.as_str(),
                    &a.description.as_str(),
                    &a.max_score.get(),
                    &a.weight.get(),
                    &a.due_on,
                    &actor,
                ],
            )
            .await?;
        let assessment = AssessmentRow::from_row(&row)?;
        events::record(
            &tx,
            Origin::user(school_id, actor),
            Pending::new(
                aggregate(assessment.id),
                "assessment.created",
                Payload::AssessmentCreated(assessment.event()),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(assessment)
    })
    .await
}

pub async fn get_assessment(
    pool: &Pool,
    school_id: Uuid,
    access: Access,
    id: Uuid,
) -> Result<AssessmentRow, ServiceError> {
    platform::db::timed("get_assessment", async move {
        let client = pool.get().await?;
        select_assessment(&client, school_id, id, access, false).await
    })
    .await
}

/// Applies the patch if the stored version is `version`. A new max score
/// may not be below a score already recorded (FAILED_PRECONDITION).
pub async fn update_assessment(
    pool: &Pool,
    school_id: Uuid,
    actor: Uuid,
    access: Access,
    u: &AssessmentUpdate,
) -> Result<AssessmentRow, ServiceError> {
    platform::db::timed("update_assessment", async move {
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        let current = select_assessment(&tx, school_id, u.id, access, true).await?;
        if current.version != u.version {
            return Err(ServiceError::VersionConflict);
        }
        let p = &u.patch;
        if let Some(max) = p.max_score {
            // Under the row lock every grade writer also takes, and in a
            // snapshot taken after it was granted: no score can slip in.
            let stmt = tx
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM grades WHERE school_id = $1 \
                     AND assessment_id = $2 AND score > $3)",
                )
                .await?;
            let above: bool = tx
                .query_one(&stmt, &[&school_id, &u.id, &max.get()])
                .await?
                .try_get(0)?;
            if above {
                return Err(ServiceError::FailedPrecondition(
                    "max_score cannot be below a score already recorded",
                ));
            }
        }
        let stmt = tx
            .prepare_cached(&format!(
                "UPDATE assessments AS a SET \
                   title = COALESCE($3, title), \
                   description = COALESCE($4, description), \
                   max_score = COALESCE($5, max_score), \
                   weight = COALESCE($6, weight), \
                   due_on = COALESCE($7, due_on), \
                   version = version + 1, updated_by = $8, updated_at = now() \
                 WHERE school_id = $1 AND id = $2 \
                 RETURNING {ASSESSMENT_COLS}"
            ))
            .await?;
        let row = tx
            .query_one(
                &stmt,
                &[
                    &school_id,
                    &u.id,
                    &p.title.as_ref().map(|v| v.as_str()),
                    &p.description.as_ref().map(|v| v.as_str()),
                    &p.max_score.map(|v| v.get()),
                    &p.weight.map(|v| v.get()),
                    &p.due_on,
                    &actor,
                ],
            )
            .await?;
        let assessment = AssessmentRow::from_row(&row)?;
        events::record(
            &tx,
            Origin::user(school_id, actor),
            Pending::new(
                aggregate(assessment.id),
                "assessment.updated",
                Payload::AssessmentUpdated(assessment.event()),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(assessment)
    })
    .await
}

/// One page of the course's assessments in (due date, id) order: the
/// access check and the page, two statements whatever the page size.
pub async fn list_assessments(
    pool: &Pool,
    school_id: Uuid,
    access: Access,
    q: &AssessmentQuery,
) -> Result<Page<AssessmentRow, AssessmentCursor>, ServiceError> {
    platform::db::timed("list_assessments", async move {
        let client = pool.get().await?;
        accessible_course(&client, school_id, q.course_id, access).await?;
        // Two shapes (first page, later pages), each a range scan of
        // `assessments_by_course`.
        let fetch = paging::fetch(q.limit);
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&school_id, &q.course_id, &fetch];
        let mut keyset = "";
        if let Some(c) = &q.after {
            params.push(&c.due_on);
            params.push(&c.id);
            keyset = "AND (a.due_on, a.id) > ($4, $5)";
        }
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {ASSESSMENT_COLS} FROM assessments a \
                 WHERE a.school_id = $1 AND a.course_id = $2 {keyset} \
                 ORDER BY a.due_on, a.id LIMIT $3"
            ))
            .await?;
        let rows = client
            .query(&stmt, &params)
            .await?
            .iter()
            .map(AssessmentRow::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::cut(rows, q.limit, |a| AssessmentCursor {
            due_on: a.due_on,
            id: a.id,
        }))
    })
    .await
}

async fn select_grades<C: GenericClient>(
    c: &C,
    school_id: Uuid,
    assessment_id: Uuid,
) -> Result<Vec<GradeRow>, ServiceError> {
    let stmt = c
        .prepare_cached(
            "SELECT student_id, score, graded_by, graded_at, revision FROM grades \
             WHERE school_id = $1 AND assessment_id = $2 ORDER BY student_id",
        )
        .await?;
    c.query(&stmt, &[&school_id, &assessment_id])
        .await?
        .iter()
        .map(|r| {
            Ok(GradeRow {
                student_id: r.try_get(0)?,
                score: r.try_get(1)?,
                graded_by: r.try_get(2)?,
                graded_at: r.try_get(3)?,
                revision: r.try_get(4)?,
            })
        })
        .collect()
}

/// The UNNEST upsert of one assessment's scores. A row changes only when its
/// score differs, so a repeated request changes nothing and bumps no
/// revision; the changed rows come back.
const GRADE_SQL: &str = "INSERT INTO grades AS g (school_id, assessment_id, student_id, score, \
       graded_by, graded_at) \
     SELECT $1, $2, x.student_id, x.score, $5, now() \
     FROM unnest($3::uuid[], $4::int4[]) AS x(student_id, score) \
     ON CONFLICT (school_id, assessment_id, student_id) DO UPDATE SET \
       score = EXCLUDED.score, graded_by = EXCLUDED.graded_by, \
       graded_at = EXCLUDED.graded_at, revision = g.revision + 1 \
     WHERE g.score IS DISTINCT FROM EXCLUDED.score \
     RETURNING g.student_id, g.score, g.revision";

/// The indexes of the entries whose student is not currently enrolled in
/// the course, in order.
async fn not_enrolled(
    tx: &Transaction<'_>,
    school_id: Uuid,
    course_id: Uuid,
    student_ids: &[Uuid],
) -> Result<Vec<usize>, ServiceError> {
    let stmt = tx
        .prepare_cached(
            "SELECT x.n FROM unnest($3::uuid[]) WITH ORDINALITY AS x(student_id, n) \
             WHERE NOT EXISTS (SELECT 1 FROM enrolments e WHERE e.school_id = $1 \
               AND e.course_id = $2 AND e.student_id = x.student_id \
               AND e.withdrawn_at IS NULL) \
             ORDER BY x.n",
        )
        .await?;
    let mut out = Vec::new();
    for r in tx
        .query(&stmt, &[&school_id, &course_id, &student_ids])
        .await?
    {
        let n: i64 = r.try_get(0)?;
        out.push(usize::try_from(n - 1).unwrap_or(0));
    }
    Ok(out)
}

/// Every entry's errors in entry order: a student not enrolled, a score
/// above the assessment's max score.
fn entry_violations(
    a: &AssessmentRow,
    scores: &[i32],
    not_enrolled: &[usize],
) -> Vec<FieldViolation> {
    let mut out = Vec::new();
    let mut missing = not_enrolled.iter().peekable();
    for (i, score) in scores.iter().enumerate() {
        if missing.next_if(|n| **n == i).is_some() {
            out.push(FieldViolation {
                field: format!("entries[{i}].student_id"),
                message: "the student is not enrolled in this course".into(),
            });
        }
        if *score > a.max_score {
            out.push(FieldViolation {
                field: format!("entries[{i}].score"),
                message: format!(
                    "score must be at most the assessment's max score ({})",
                    format_hundredths(a.max_score)
                ),
            });
        }
    }
    out
}

/// Sets many students' scores of one assessment in a fixed number of
/// statements whatever the class size: BEGIN, the assessment locked with its
/// access check, one enrolment check of every entry, one upsert, the sheet
/// read back, at most one outbox INSERT, COMMIT. A score above the max
/// score or a student not enrolled fails the whole request, naming the
/// entry. Before the assessment is published the change records
/// `grades.drafted`, after it `grades.updated`; a request that changes no
/// score records nothing.
pub async fn record_grades(
    pool: &Pool,
    school_id: Uuid,
    actor: Uuid,
    access: Access,
    g: &GradeEntries,
) -> Result<(AssessmentRow, Vec<GradeRow>), ServiceError> {
    platform::db::timed("record_grades", async move {
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        let a = select_assessment(&tx, school_id, g.assessment_id, access, true).await?;
        let missing = not_enrolled(&tx, school_id, a.course_id, &g.student_ids).await?;
        let violations = entry_violations(&a, &g.scores, &missing);
        if !violations.is_empty() {
            return Err(ServiceError::Invalid(violations));
        }
        let stmt = tx.prepare_cached(GRADE_SQL).await?;
        let changed = tx
            .query(
                &stmt,
                &[
                    &school_id,
                    &g.assessment_id,
                    &g.student_ids,
                    &g.scores,
                    &actor,
                ],
            )
            .await?;
        let sheet = select_grades(&tx, school_id, g.assessment_id).await?;
        if !changed.is_empty() {
            let mut changes = changed
                .iter()
                .map(score_event)
                .collect::<Result<Vec<_>, _>>()?;
            changes.sort_by(|x, y| x.student_id.cmp(&y.student_id));
            let published = a.published_at.is_some();
            let payload = ev::GradesChanged {
                course_id: a.course_id.to_string(),
                assessment_id: a.id.to_string(),
                title: a.title.clone(),
                max_score: a.max_score,
                published,
                changes,
            };
            let event = if published {
                Pending::new(
                    aggregate(a.id),
                    "grades.updated",
                    Payload::GradesUpdated(payload),
                )
            } else {
                Pending::new(
                    aggregate(a.id),
                    "grades.drafted",
                    Payload::GradesDrafted(payload),
                )
            };
            events::record(&tx, Origin::user(school_id, actor), event).await?;
        }
        tx.commit().await?;
        Ok((a, sheet))
    })
    .await
}

/// The assessment and every grade recorded for it: two statements.
pub async fn get_grades(
    pool: &Pool,
    school_id: Uuid,
    access: Access,
    assessment_id: Uuid,
) -> Result<(AssessmentRow, Vec<GradeRow>), ServiceError> {
    platform::db::timed("get_grades", async move {
        let client = pool.get().await?;
        let a = select_assessment(&client, school_id, assessment_id, access, false).await?;
        let sheet = select_grades(&client, school_id, assessment_id).await?;
        Ok((a, sheet))
    })
    .await
}

/// Publishes the assessment's grades and records `grades.published` with
/// every score. Publishing a published assessment returns it unchanged and
/// records nothing.
pub async fn publish_grades(
    pool: &Pool,
    school_id: Uuid,
    actor: Uuid,
    access: Access,
    assessment_id: Uuid,
) -> Result<AssessmentRow, ServiceError> {
    platform::db::timed("publish_grades", async move {
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        let current = select_assessment(&tx, school_id, assessment_id, access, true).await?;
        if current.published_at.is_some() {
            return Ok(current);
        }
        let stmt = tx
            .prepare_cached(&format!(
                "UPDATE assessments AS a SET published_at = now(), published_by = $3, \
                   version = version + 1, updated_by = $3, updated_at = now() \
                 WHERE school_id = $1 AND id = $2 RETURNING {ASSESSMENT_COLS}"
            ))
            .await?;
        let row = tx
            .query_one(&stmt, &[&school_id, &assessment_id, &actor])
            .await?;
        let a = AssessmentRow::from_row(&row)?;
        let scores = select_grades(&tx, school_id, assessment_id)
            .await?
            .into_iter()
            .map(|g| ev::StudentScore {
                student_id: g.student_id.to_string(),
                score: g.score,
                revision: g.revision,
            })
            .collect();
        let student_user_ids = student_logins(&tx, school_id, assessment_id).await?;
        events::record(
            &tx,
            Origin::user(school_id, actor),
            Pending::new(
                aggregate(a.id),
                "grades.published",
                Payload::GradesPublished(ev::GradesPublished {
                    course_id: a.course_id.to_string(),
                    assessment_id: a.id.to_string(),
                    title: a.title.clone(),
                    max_score: a.max_score,
                    scores,
                    student_user_ids,
                }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(a)
    })
    .await
}

/// The active portal logins of the students graded in the assessment
/// (student id → user id), for the event: notify-svc tells each student of
/// their own grade.
async fn student_logins(
    tx: &Transaction<'_>,
    school_id: Uuid,
    assessment_id: Uuid,
) -> Result<std::collections::HashMap<String, String>, ServiceError> {
    let stmt = tx
        .prepare_cached(
            "SELECT u.student_id, u.id FROM grades g \
             JOIN users u ON u.school_id = g.school_id AND u.student_id = g.student_id \
             WHERE g.school_id = $1 AND g.assessment_id = $2 AND u.active",
        )
        .await?;
    let rows = tx.query(&stmt, &[&school_id, &assessment_id]).await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<_, Uuid>(0)?.to_string(),
                r.try_get::<_, Uuid>(1)?.to_string(),
            ))
        })
        .collect()
}

/// One page of a student's grades in assessment order, as `reach` allows:
/// the student's existence and the page, two statements whatever the page
/// size.
pub async fn student_grades(
    pool: &Pool,
    school_id: Uuid,
    reach: Reach,
    q: &StudentGradesQuery,
) -> Result<Page<StudentGradeRow, GradeCursor>, ServiceError> {
    platform::db::timed("student_grades", async move {
        let client = pool.get().await?;
        if let Reach::ChildOf(user) = reach {
            // The guardian's link, whether or not another student with that
            // id exists: not linked is NOT_FOUND, as an unknown id is.
            let stmt = client
                .prepare_cached(
                    "SELECT 1 FROM users u JOIN guardian_students l ON l.school_id = u.school_id \
                       AND l.guardian_id = u.guardian_id AND l.student_id = $2 \
                     WHERE u.school_id = $1 AND u.id = $3",
                )
                .await?;
            if client
                .query_opt(&stmt, &[&school_id, &q.student_id, &user])
                .await?
                .is_none()
            {
                return Err(ServiceError::NotFound("student"));
            }
        } else {
            let stmt = client
                .prepare_cached("SELECT 1 FROM students WHERE school_id = $1 AND id = $2")
                .await?;
            if client
                .query_opt(&stmt, &[&school_id, &q.student_id])
                .await?
                .is_none()
            {
                return Err(ServiceError::NotFound("student"));
            }
        }
        let teacher = match reach {
            Reach::TeacherOf(t) => Some(t),
            Reach::All | Reach::Published | Reach::ChildOf(_) => None,
        };
        let published_only = matches!(reach, Reach::Published | Reach::ChildOf(_));
        let fetch = paging::fetch(q.limit);
        let after = q.after.map(|c| c.0);
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![
            &school_id,
            &q.student_id,
            &q.course_id,
            &teacher,
            &published_only,
            &fetch,
        ];
        let mut keyset = "";
        if let Some(a) = &after {
            params.push(a);
            keyset = "AND g.assessment_id > $7";
        }
        // A range scan of `grades_by_student` in assessment order; the
        // filters drop rows of that one student only.
        let stmt = client
            .prepare_cached(&format!(
                "SELECT g.assessment_id, a.course_id, c.code, a.title, a.max_score, a.weight, \
                   a.due_on, g.score, g.graded_at, a.published_at \
                 FROM grades g \
                 JOIN assessments a ON a.school_id = g.school_id AND a.id = g.assessment_id \
                 JOIN courses c ON c.school_id = a.school_id AND c.id = a.course_id \
                 WHERE g.school_id = $1 AND g.student_id = $2 {keyset} \
                   AND ($3::uuid IS NULL OR a.course_id = $3) \
                   AND ($4::uuid IS NULL OR c.teacher_id = $4) \
                   AND (NOT $5::bool OR a.published_at IS NOT NULL) \
                 ORDER BY g.assessment_id LIMIT $6"
            ))
            .await?;
        let rows = client
            .query(&stmt, &params)
            .await?
            .iter()
            .map(|r| {
                Ok(StudentGradeRow {
                    assessment_id: r.try_get(0)?,
                    course_id: r.try_get(1)?,
                    course_code: r.try_get(2)?,
                    title: r.try_get(3)?,
                    max_score: r.try_get(4)?,
                    weight: r.try_get(5)?,
                    due_on: r.try_get(6)?,
                    score: r.try_get(7)?,
                    graded_at: r.try_get(8)?,
                    published_at: r.try_get(9)?,
                })
            })
            .collect::<Result<Vec<_>, ServiceError>>()?;
        Ok(Page::cut(rows, q.limit, |g| GradeCursor(g.assessment_id)))
    })
    .await
}
