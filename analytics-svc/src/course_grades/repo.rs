//! The list's statement: courses_by_code, then each course's
//! course_grades row by its key.

use deadpool_postgres::Pool;
use platform::{
    paging::{self, Page},
    service::ServiceError,
};
use proto::analytics::v1 as pb;
use uuid::Uuid;

use super::domain::{AfterCode, Query};
use crate::model::course_grade;

pub async fn list(
    pool: &Pool,
    school: Uuid,
    q: &Query,
) -> Result<Page<pb::CourseGrade, AfterCode>, ServiceError> {
    let db = pool.get().await?;
    let stmt = db
        .prepare_cached(
            "SELECT c.course_id, c.code, c.name, g.pct_sum, g.grades FROM courses c \
             JOIN course_grades g ON g.school_id = c.school_id AND g.course_id = c.course_id \
             WHERE c.school_id = $1 AND g.grades > 0 \
               AND ($2::text IS NULL OR (c.code, c.course_id) > ($2, $3::uuid)) \
             ORDER BY c.code, c.course_id LIMIT $4",
        )
        .await?;
    let (code, id) = match &q.after {
        Some(AfterCode(c, i)) => (Some(c.as_str()), Some(*i)),
        None => (None, None),
    };
    let rows = db
        .query(&stmt, &[&school, &code, &id, &paging::fetch(q.limit)])
        .await?;
    let courses = rows
        .iter()
        .map(course_grade)
        .collect::<Result<Vec<_>, tokio_postgres::Error>>()?;
    Ok(Page::cut(courses, q.limit, |c| {
        AfterCode(c.code.clone(), c.course_id.parse().unwrap_or_default())
    }))
}
