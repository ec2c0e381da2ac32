//! The list's statement.

use deadpool_postgres::Pool;
use platform::{
    paging::{self, Page},
    service::ServiceError,
};
use proto::analytics::v1 as pb;
use uuid::Uuid;

use super::domain::{AfterName, Query};

pub async fn list(
    pool: &Pool,
    school: Uuid,
    teacher: Option<Uuid>,
    q: &Query,
) -> Result<Page<pb::AtRiskStudent, AfterName>, ServiceError> {
    let db = pool.get().await?;
    let stmt = db.prepare_cached(include_str!("list.sql")).await?;
    let (family, given, id) = match &q.after {
        Some(AfterName(f, g, i)) => (Some(f.as_str()), Some(g.as_str()), Some(*i)),
        None => (None, None, None),
    };
    let rows = db
        .query(
            &stmt,
            &[
                &school,
                &q.reason.as_str(),
                &q.grade_level,
                &q.course,
                &teacher,
                &family,
                &given,
                &id,
                &paging::fetch(q.limit),
            ],
        )
        .await?;
    let students = rows
        .iter()
        .map(|r| {
            let mut reasons = Vec::new();
            for (i, reason) in [
                pb::RiskReason::ChronicAbsence,
                pb::RiskReason::ConsecutiveAbsences,
                pb::RiskReason::LowGrade,
            ]
            .into_iter()
            .enumerate()
            {
                if r.try_get::<_, bool>(5 + i)? {
                    reasons.push(reason as i32);
                }
            }
            Ok(pb::AtRiskStudent {
                student_id: r.try_get::<_, Uuid>(0)?.to_string(),
                given_name: r.try_get(1)?,
                family_name: r.try_get(2)?,
                grade_level: r.try_get(3)?,
                section: r.try_get(4)?,
                reasons,
                recent_attendance_rate: u32::try_from(r.try_get::<_, i32>(8)?).unwrap_or(0),
                consecutive_absences: u32::try_from(r.try_get::<_, i32>(9)?).unwrap_or(0),
                lowest_average: r
                    .try_get::<_, Option<i32>>(10)?
                    .and_then(|v| u32::try_from(v).ok())
                    .unwrap_or(0),
                lowest_course_id: r
                    .try_get::<_, Option<Uuid>>(11)?
                    .map(|u| u.to_string())
                    .unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, tokio_postgres::Error>>()?;
    Ok(Page::cut(students, q.limit, |s| {
        AfterName(
            s.family_name.clone(),
            s.given_name.clone(),
            s.student_id.parse().unwrap_or_default(),
        )
    }))
}
