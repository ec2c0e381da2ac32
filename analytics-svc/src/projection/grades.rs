//! Assessments and grades.
//!
//! An assessment's statistics (count, sum, ten 10 % bands, its share of the
//! course's average published grade) are recomputed from its own grades
//! whenever its grades or its max score, weight or publication change: one
//! class's rows, never the school's. The course's average moves by the
//! difference between the assessment's old and new share. Students'
//! weighted averages are recomputed for the students an event touched (all
//! of the assessment's students when its weight, max score or publication
//! changed), then their risk.
//!
//! Publication never goes back (students-svc has no unpublish), so
//! `published` is the OR of everything seen: a late unpublished snapshot
//! cannot hide published grades.

use deadpool_postgres::Transaction;
use proto::events::v1::{AssessmentChanged, GradesChanged, GradesPublished, StudentScore};
use uuid::Uuid;

use super::risk;
use crate::domain::{id, opt_date, Risk};

/// Band of a score: 0 = [0, 10 %), …, 9 = [90 %, 100 %].
fn band(score: i32, max: i32) -> usize {
    if max <= 0 {
        return 0;
    }
    usize::try_from((i64::from(score.max(0)) * 10 / i64::from(max)).min(9)).unwrap_or(0)
}

/// A grade as a percent of the max score, in hundredths (rounded per grade,
/// so an assessment's share is a sum of integers).
fn pct(score: i32, max: i32) -> i64 {
    if max <= 0 {
        return 0;
    }
    (i64::from(score) * 10_000 * 2 + i64::from(max)) / (2 * i64::from(max))
}

pub async fn assessment(
    tx: &Transaction<'_>,
    school: Uuid,
    a: &AssessmentChanged,
    t: &Risk,
) -> anyhow::Result<()> {
    let assessment = id("assessment_id", &a.assessment_id)?;
    let course = id("course_id", &a.course_id)?;
    let due = opt_date("due_date", &a.due_date)?;
    let old = tx
        .prepare_cached(
            "SELECT max_score, weight, published, version FROM assessments \
             WHERE school_id = $1 AND assessment_id = $2",
        )
        .await?;
    let old = tx.query_opt(&old, &[&school, &assessment]).await?;
    let old: Option<(i32, i32, bool, i64)> = match old {
        Some(r) => Some((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)),
        None => None,
    };
    if old.is_some_and(|o| o.3 >= a.version) {
        return Ok(());
    }
    let published = a.published || old.is_some_and(|o| o.2);
    let put = tx
        .prepare_cached(
            "INSERT INTO assessments (school_id, assessment_id, course_id, title, max_score, weight, \
               due_on, published, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (school_id, assessment_id) DO UPDATE SET course_id = EXCLUDED.course_id, \
               title = EXCLUDED.title, max_score = EXCLUDED.max_score, weight = EXCLUDED.weight, \
               due_on = EXCLUDED.due_on, published = EXCLUDED.published, version = EXCLUDED.version",
        )
        .await?;
    tx.execute(
        &put,
        &[
            &school,
            &assessment,
            &course,
            &a.title,
            &a.max_score,
            &a.weight,
            &due,
            &published,
            &a.version,
        ],
    )
    .await?;
    let moved = old.is_none_or(|o| (o.0, o.1, o.2) != (a.max_score, a.weight, published));
    if moved {
        restat(tx, school, assessment, None, t).await?;
    }
    Ok(())
}

pub async fn published(
    tx: &Transaction<'_>,
    school: Uuid,
    g: &GradesPublished,
    t: &Risk,
) -> anyhow::Result<()> {
    let assessment = id("assessment_id", &g.assessment_id)?;
    let course = id("course_id", &g.course_id)?;
    let flipped = ensure(tx, school, assessment, course, &g.title, g.max_score, true).await?;
    let changed = upsert_grades(tx, school, assessment, &g.scores).await?;
    if flipped {
        restat(tx, school, assessment, None, t).await
    } else if !changed.is_empty() {
        restat(tx, school, assessment, Some(&changed), t).await
    } else {
        Ok(())
    }
}

pub async fn changed(
    tx: &Transaction<'_>,
    school: Uuid,
    g: &GradesChanged,
    t: &Risk,
) -> anyhow::Result<()> {
    let assessment = id("assessment_id", &g.assessment_id)?;
    let course = id("course_id", &g.course_id)?;
    let flipped = ensure(
        tx,
        school,
        assessment,
        course,
        &g.title,
        g.max_score,
        g.published,
    )
    .await?;
    let changed = upsert_grades(tx, school, assessment, &g.changes).await?;
    if flipped {
        restat(tx, school, assessment, None, t).await
    } else if !changed.is_empty() {
        restat(tx, school, assessment, Some(&changed), t).await
    } else {
        Ok(())
    }
}

/// Makes sure the assessment exists (a placeholder at version 0 from the
/// grade event's course and max score when its snapshot has not arrived)
/// and marks it published when the event says so. Returns whether it just
/// became published.
async fn ensure(
    tx: &Transaction<'_>,
    school: Uuid,
    assessment: Uuid,
    course: Uuid,
    title: &str,
    max_score: i32,
    published: bool,
) -> anyhow::Result<bool> {
    let stmt = tx
        .prepare_cached(
            "WITH old AS (SELECT published FROM assessments WHERE school_id = $1 AND assessment_id = $2), \
             up AS (INSERT INTO assessments (school_id, assessment_id, course_id, title, max_score, \
                 published) VALUES ($1, $2, $3, $4, $5, $6) \
               ON CONFLICT (school_id, assessment_id) DO UPDATE SET \
                 published = assessments.published OR EXCLUDED.published, \
                 max_score = CASE WHEN assessments.version = 0 THEN EXCLUDED.max_score \
                   ELSE assessments.max_score END \
               RETURNING published) \
             SELECT (SELECT published FROM up) AND NOT coalesce((SELECT published FROM old), false)",
        )
        .await?;
    let row = tx
        .query_one(
            &stmt,
            &[
                &school,
                &assessment,
                &course,
                &title,
                &max_score,
                &published,
            ],
        )
        .await?;
    Ok(row.try_get::<_, Option<bool>>(0)?.unwrap_or(false))
}

/// Upserts scores, newest revision wins; returns the students whose grade
/// changed.
async fn upsert_grades(
    tx: &Transaction<'_>,
    school: Uuid,
    assessment: Uuid,
    scores: &[StudentScore],
) -> anyhow::Result<Vec<Uuid>> {
    let mut by_student: std::collections::BTreeMap<Uuid, (i32, i32)> = Default::default();
    for s in scores {
        let student = id("student_id", &s.student_id)?;
        let e = by_student.entry(student).or_insert((s.score, s.revision));
        if s.revision > e.1 {
            *e = (s.score, s.revision);
        }
    }
    if by_student.is_empty() {
        return Ok(Vec::new());
    }
    let students: Vec<Uuid> = by_student.keys().copied().collect();
    let points: Vec<i32> = by_student.values().map(|v| v.0).collect();
    let revisions: Vec<i32> = by_student.values().map(|v| v.1).collect();
    let stmt = tx
        .prepare_cached(
            "INSERT INTO grades (school_id, assessment_id, student_id, score, revision) \
             SELECT $1, $2, s, p, r FROM unnest($3::uuid[], $4::int[], $5::int[]) AS u(s, p, r) \
             ON CONFLICT (school_id, assessment_id, student_id) DO UPDATE \
               SET score = EXCLUDED.score, revision = EXCLUDED.revision \
               WHERE grades.revision < EXCLUDED.revision \
             RETURNING student_id",
        )
        .await?;
    let rows = tx
        .query(
            &stmt,
            &[&school, &assessment, &students, &points, &revisions],
        )
        .await?;
    rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
}

/// Recomputes the assessment's statistics from its grades, moves the
/// course's published average by the change of its share, then the
/// averages of `students` (every graded student when `None`) and their risk.
async fn restat(
    tx: &Transaction<'_>,
    school: Uuid,
    assessment: Uuid,
    students: Option<&[Uuid]>,
    t: &Risk,
) -> anyhow::Result<()> {
    let stmt = tx
        .prepare_cached(
            "SELECT a.course_id, a.max_score, a.published, a.contrib_pct, a.contrib_n, \
               coalesce(array_agg(g.student_id) FILTER (WHERE g.student_id IS NOT NULL), '{}'), \
               coalesce(array_agg(g.score) FILTER (WHERE g.student_id IS NOT NULL), '{}') \
             FROM assessments a LEFT JOIN grades g \
               ON g.school_id = a.school_id AND g.assessment_id = a.assessment_id \
             WHERE a.school_id = $1 AND a.assessment_id = $2 \
             GROUP BY a.course_id, a.max_score, a.published, a.contrib_pct, a.contrib_n",
        )
        .await?;
    let Some(row) = tx.query_opt(&stmt, &[&school, &assessment]).await? else {
        return Ok(());
    };
    let course: Uuid = row.try_get(0)?;
    let max: i32 = row.try_get(1)?;
    let published: bool = row.try_get(2)?;
    let (old_pct, old_n): (i64, i32) = (row.try_get(3)?, row.try_get(4)?);
    let graded: Vec<Uuid> = row.try_get(5)?;
    let scores: Vec<i32> = row.try_get(6)?;
    let mut bands = [0i32; 10];
    let (mut sum, mut pct_sum) = (0i64, 0i64);
    for s in &scores {
        bands[band(*s, max)] += 1;
        sum += i64::from(*s);
        pct_sum += pct(*s, max);
    }
    let n = i32::try_from(scores.len()).unwrap_or(i32::MAX);
    let (new_pct, new_n) = if published && max > 0 {
        (pct_sum, n)
    } else {
        (0, 0)
    };
    let bands: Vec<i32> = bands.to_vec();
    let put = tx
        .prepare_cached(
            "UPDATE assessments SET graded = $3, score_sum = $4, bands = $5, contrib_pct = $6, \
               contrib_n = $7 WHERE school_id = $1 AND assessment_id = $2",
        )
        .await?;
    tx.execute(
        &put,
        &[&school, &assessment, &n, &sum, &bands, &new_pct, &new_n],
    )
    .await?;
    if (new_pct, new_n) != (old_pct, old_n) {
        let course_grades = tx
            .prepare_cached(
                "INSERT INTO course_grades (school_id, course_id, pct_sum, grades) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (school_id, course_id) DO UPDATE SET \
                   pct_sum = course_grades.pct_sum + EXCLUDED.pct_sum, \
                   grades = course_grades.grades + EXCLUDED.grades",
            )
            .await?;
        tx.execute(
            &course_grades,
            &[&school, &course, &(new_pct - old_pct), &(new_n - old_n)],
        )
        .await?;
    }
    let students = students.unwrap_or(&graded);
    if students.is_empty() {
        return Ok(());
    }
    let averages = tx
        .prepare_cached(include_str!("grades_averages.sql"))
        .await?;
    tx.execute(&averages, &[&school, &course, &students])
        .await?;
    risk::refresh(tx, school, students, t).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_and_percents() {
        assert_eq!(band(0, 1000), 0);
        assert_eq!(band(999, 1000), 9);
        assert_eq!(band(1000, 1000), 9);
        assert_eq!(band(550, 1000), 5);
        assert_eq!(pct(1, 3), 3333);
        assert_eq!(pct(2, 3), 6667);
    }
}
