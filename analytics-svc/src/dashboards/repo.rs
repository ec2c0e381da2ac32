//! The dashboards' and the summary's statements. A dashboard is its
//! school's settings row, then its other statements concurrently on one
//! connection (tokio-postgres pipelines them: one round trip's wait).

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use deadpool_postgres::{Object, Pool};
use platform::service::ServiceError;
use proto::analytics::v1 as pb;
use uuid::Uuid;

use super::{
    domain::{GradeView, Reach},
    model::{average, count, course_grade, fees_month, Counts, SchoolRow},
};
use crate::domain::{month_of, WINDOW_DAYS};

pub async fn school(db: &Object, school: Uuid) -> Result<SchoolRow, ServiceError> {
    let stmt = db
        .prepare_cached(&format!(
            "SELECT {} FROM schools WHERE school_id = $1",
            SchoolRow::COLS
        ))
        .await?;
    Ok(match db.query_opt(&stmt, &[&school]).await? {
        Some(r) => SchoolRow::from_row(&r)?,
        None => SchoolRow::empty(),
    })
}

/// How many of the lowest course averages the school dashboard carries.
pub const LOWEST_COURSES: i64 = 10;

pub async fn school_dashboard(
    pool: &Pool,
    school_id: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<pb::SchoolDashboard, ServiceError> {
    let db = pool.get().await?;
    let s = school(&db, school_id).await?;
    let today = s.calendar.today(now);
    let year_start = s.calendar.year_start(today);
    let weekday = i16::try_from(today.weekday().number_from_monday()).unwrap_or(1);
    let (sections, slots, days, fees, overdue, grades, graded) = (
        db.prepare_cached(
            "SELECT grade_level, section, students FROM grade_sections \
             WHERE school_id = $1 AND students > 0 ORDER BY grade_level, section",
        ),
        db.prepare_cached("SELECT slots FROM weekday_slots WHERE school_id = $1 AND weekday = $2"),
        db.prepare_cached(
            "SELECT date, sessions, present, absent, late, excused FROM days \
             WHERE school_id = $1 AND date <= $2 ORDER BY date DESC LIMIT $3",
        ),
        db.prepare_cached(
            "SELECT month, currency, billed, collected, outstanding FROM fees_months \
             WHERE school_id = $1 AND month >= $2 AND month <= $3 \
               AND (billed <> 0 OR collected <> 0 OR outstanding <> 0) ORDER BY month, currency",
        ),
        db.prepare_cached(
            "SELECT coalesce(sum(invoices), 0)::int FROM open_due WHERE school_id = $1 AND due_on < $2",
        ),
        // The lowest few by course_grades_lowest (its expression is the
        // ORDER BY's): a dashboard's size does not grow with the courses.
        db.prepare_cached(
            "SELECT c.course_id, c.code, c.name, g.pct_sum, g.grades FROM course_grades g \
             JOIN courses c ON c.school_id = g.school_id AND c.course_id = g.course_id \
             WHERE g.school_id = $1 AND g.grades > 0 \
             ORDER BY g.pct_sum / g.grades, g.course_id LIMIT $2",
        ),
        db.prepare_cached(
            "SELECT count(*)::int FROM course_grades WHERE school_id = $1 AND grades > 0",
        ),
    );
    let (sections, slots, days, fees, overdue, grades, graded) =
        futures::try_join!(sections, slots, days, fees, overdue, grades, graded)?;
    let (month_from, month_to) = (month_of(year_start), month_of(today));
    let (sections, slots, days, fees, overdue, grades, graded) = futures::try_join!(
        async { db.query(&sections, &[&school_id]).await },
        async { db.query_opt(&slots, &[&school_id, &weekday]).await },
        async { db.query(&days, &[&school_id, &today, &WINDOW_DAYS]).await },
        async { db.query(&fees, &[&school_id, &month_from, &month_to]).await },
        async { db.query_one(&overdue, &[&school_id, &today]).await },
        async { db.query(&grades, &[&school_id, &LOWEST_COURSES]).await },
        async { db.query_one(&graded, &[&school_id]).await },
    )?;
    let mut trend = Vec::with_capacity(days.len());
    let (mut today_counts, mut marked_today) = (Counts::default(), 0);
    for r in days.iter().rev() {
        let date: NaiveDate = r.try_get(0)?;
        let c = Counts::from_row(r, 2)?;
        if date == today {
            today_counts = c;
            marked_today = r.try_get::<_, i32>(1)?;
        }
        trend.push(c.to_proto(Some(date)));
    }
    Ok(pb::SchoolDashboard {
        today: today.format("%Y-%m-%d").to_string(),
        time_zone: s.time_zone,
        active_students: count(s.active_students),
        students_by_grade: sections
            .iter()
            .map(|r| {
                Ok(pb::GradeSectionCount {
                    grade_level: r.try_get(0)?,
                    section: r.try_get(1)?,
                    students: count(r.try_get(2)?),
                })
            })
            .collect::<Result<_, tokio_postgres::Error>>()?,
        staff: count(s.staff),
        courses: count(s.courses),
        sessions_scheduled_today: match slots {
            Some(r) => count(r.try_get(0)?),
            None => 0,
        },
        sessions_marked_today: count(marked_today),
        today_attendance: Some(today_counts.to_proto(Some(today))),
        attendance_trend: trend,
        fees: fees.iter().map(fees_month).collect::<Result<_, _>>()?,
        overdue_invoices: count(overdue.try_get(0)?),
        course_grades: grades.iter().map(course_grade).collect::<Result<_, _>>()?,
        at_risk_students: count(s.at_risk),
        graded_courses: count(graded.try_get(0)?),
    })
}

pub async fn teacher_dashboard(
    pool: &Pool,
    school_id: Uuid,
    teacher: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<pb::TeacherDashboard, ServiceError> {
    let db = pool.get().await?;
    let s = school(&db, school_id).await?;
    let today = s.calendar.today(now);
    let year_start = s.calendar.year_start(today);
    let weekday = i16::try_from(today.weekday().number_from_monday()).unwrap_or(1);
    let courses = db
        .prepare_cached(
            "SELECT course_id, code, name, enrolled, capacity FROM courses \
             WHERE school_id = $1 AND teacher_id = $2 ORDER BY code, course_id",
        )
        .await?;
    let courses = db.query(&courses, &[&school_id, &teacher]).await?;
    let ids: Vec<Uuid> = courses
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    let (rates, slots, marked, due, enrolled, published) = futures::try_join!(
        db.prepare_cached(
            "SELECT course_id, sum(present), sum(absent), sum(late), sum(excused) FROM course_days \
             WHERE school_id = $1 AND course_id = ANY($2) AND date >= $3 AND date <= $4 \
             GROUP BY course_id",
        ),
        db.prepare_cached(
            "SELECT course_id, start_time, end_time, room FROM timetable_slots \
             WHERE school_id = $1 AND course_id = ANY($2) AND weekday = $3 \
             ORDER BY start_time, course_id",
        ),
        db.prepare_cached(
            "SELECT course_id, count(*) FROM sessions \
             WHERE school_id = $1 AND date = $2 AND course_id = ANY($3) GROUP BY course_id",
        ),
        db.prepare_cached(include_str!("past_due.sql")),
        // Index enrolments_by_course.
        db.prepare_cached(
            "SELECT course_id, student_id FROM enrolments \
             WHERE school_id = $1 AND course_id = ANY($2) AND active",
        ),
        // Index assessments_by_course; undated assessments count as this year's.
        db.prepare_cached(
            "SELECT course_id, assessment_id, title, due_on, max_score, graded, score_sum, bands \
             FROM assessments WHERE school_id = $1 AND course_id = ANY($2) AND published \
               AND (due_on IS NULL OR due_on >= $3) \
             ORDER BY course_id, due_on NULLS LAST, assessment_id",
        ),
    )?;
    let (rates, slots, marked, due, enrolled, published) = futures::try_join!(
        async {
            db.query(&rates, &[&school_id, &ids, &year_start, &today])
                .await
        },
        async { db.query(&slots, &[&school_id, &ids, &weekday]).await },
        async { db.query(&marked, &[&school_id, &today, &ids]).await },
        async {
            db.query(&due, &[&school_id, &ids, &today, &year_start])
                .await
        },
        async { db.query(&enrolled, &[&school_id, &ids]).await },
        async { db.query(&published, &[&school_id, &ids, &year_start]).await },
    )?;
    let mut published_of: HashMap<Uuid, Vec<pb::AssessmentDistribution>> = HashMap::new();
    for r in &published {
        let due_on: Option<NaiveDate> = r.try_get(3)?;
        let (max, graded, sum): (i32, i32, i64) = (r.try_get(4)?, r.try_get(5)?, r.try_get(6)?);
        let bands: Vec<i32> = r.try_get(7)?;
        published_of
            .entry(r.try_get(0)?)
            .or_default()
            .push(pb::AssessmentDistribution {
                assessment_id: r.try_get::<_, Uuid>(1)?.to_string(),
                title: r.try_get(2)?,
                due_on: due_on
                    .map(|d| d.format("%Y-%m-%d").to_string())
                    .unwrap_or_default(),
                graded: count(graded),
                average: average(sum * 10_000, i64::from(graded) * i64::from(max)),
                bands: bands.into_iter().map(count).collect(),
            });
    }
    let mut rate_of: HashMap<Uuid, u32> = HashMap::new();
    for r in &rates {
        rate_of.insert(r.try_get(0)?, Counts::from_row(r, 1)?.rate());
    }
    let mut code_of: HashMap<Uuid, String> = HashMap::new();
    let mut out = pb::TeacherDashboard {
        today: today.format("%Y-%m-%d").to_string(),
        ..Default::default()
    };
    for r in &courses {
        let id: Uuid = r.try_get(0)?;
        let code: String = r.try_get(1)?;
        code_of.insert(id, code.clone());
        out.courses.push(pb::TeacherCourse {
            course_id: id.to_string(),
            code,
            name: r.try_get(2)?,
            enrolled: count(r.try_get(3)?),
            capacity: count(r.try_get(4)?),
            attendance_rate: rate_of.get(&id).copied().unwrap_or(0),
            published: published_of.remove(&id).unwrap_or_default(),
        });
    }
    // A course's sessions marked today cover its earliest slots today:
    // attendance names a period, the timetable a time, and the two are not
    // linked, so N marked sessions of a course mark its first N slots.
    let mut marked_of: HashMap<Uuid, i64> = HashMap::new();
    for r in &marked {
        marked_of.insert(r.try_get(0)?, r.try_get(1)?);
    }
    for r in &slots {
        let course: Uuid = r.try_get(0)?;
        let left = marked_of.entry(course).or_insert(0);
        if *left > 0 {
            *left -= 1;
            continue;
        }
        out.unmarked_today.push(pb::UnmarkedSession {
            course_id: course.to_string(),
            code: code_of.get(&course).cloned().unwrap_or_default(),
            start: r.try_get(1)?,
            end: r.try_get(2)?,
            room: r.try_get(3)?,
        });
    }
    out.past_due = past_due(&due, &enrolled)?;
    Ok(out)
}

/// Assessments with currently enrolled students still ungraded, from
/// `past_due.sql`'s rows (an assessment's rows together, by due date) and
/// the courses' `course_id, student_id` enrolments.
fn past_due(
    due: &[tokio_postgres::Row],
    enrolled: &[tokio_postgres::Row],
) -> Result<Vec<pb::MissingGrades>, tokio_postgres::Error> {
    let mut enrolled_of: HashMap<Uuid, HashSet<Uuid>> = HashMap::new();
    for r in enrolled {
        enrolled_of
            .entry(r.try_get(0)?)
            .or_default()
            .insert(r.try_get(1)?);
    }
    // (assessment, course, title, due on, grades of enrolled students)
    let mut assessments: Vec<(Uuid, Uuid, String, NaiveDate, usize)> = Vec::new();
    for r in due {
        let id: Uuid = r.try_get(0)?;
        if assessments.last().map(|a| a.0) != Some(id) {
            assessments.push((id, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, 0));
        }
        let student: Option<Uuid> = r.try_get(4)?;
        if let (Some(a), Some(s)) = (assessments.last_mut(), student) {
            if enrolled_of.get(&a.1).is_some_and(|e| e.contains(&s)) {
                a.4 += 1;
            }
        }
    }
    Ok(assessments
        .into_iter()
        .filter_map(|(id, course, title, due_on, graded)| {
            let enrolled = enrolled_of.get(&course).map_or(0, HashSet::len);
            let missing = enrolled.saturating_sub(graded);
            (missing > 0).then(|| pb::MissingGrades {
                assessment_id: id.to_string(),
                course_id: course.to_string(),
                title,
                due_on: due_on.format("%Y-%m-%d").to_string(),
                missing: u32::try_from(missing).unwrap_or(u32::MAX),
            })
        })
        .collect())
}

/// The student's row when `reach` allows reading it: another school's or
/// an unknown student is NOT_FOUND; so is a student a guardian is not
/// linked to (existing or not: a guardian editing an id learns nothing); a
/// teacher of none of the student's courses is PERMISSION_DENIED (staff
/// see the school's students anyway), as students-svc answers.
async fn reachable(
    db: &Object,
    school: Uuid,
    student: Uuid,
    reach: Reach,
) -> Result<tokio_postgres::Row, ServiceError> {
    let stmt = db
        .prepare_cached(
            "SELECT s.given_name, s.family_name, s.grade_level, s.section, \
               EXISTS (SELECT 1 FROM enrolments e JOIN courses c \
                 ON c.school_id = e.school_id AND c.course_id = e.course_id \
                 WHERE e.school_id = $1 AND e.student_id = $2 AND e.active AND c.teacher_id = $3), \
               EXISTS (SELECT 1 FROM guardian_links l JOIN guardians g \
                 ON g.school_id = l.school_id AND g.guardian_id = l.guardian_id \
                 WHERE l.school_id = $1 AND l.student_id = $2 AND l.linked AND g.user_id = $3) \
             FROM (SELECT 1) one LEFT JOIN students s \
               ON s.school_id = $1 AND s.student_id = $2 AND s.version > 0",
        )
        .await?;
    let who = match reach {
        Reach::TeacherOf(u) | Reach::ChildrenOf(u) => u,
        Reach::Any | Reach::Itself => Uuid::nil(),
    };
    let row = db.query_one(&stmt, &[&school, &student, &who]).await?;
    let exists = row.try_get::<_, Option<String>>(0)?.is_some();
    let (teaches, linked): (bool, bool) = (row.try_get(4)?, row.try_get(5)?);
    match reach {
        Reach::ChildrenOf(_) if !(exists && linked) => Err(ServiceError::NotFound("student")),
        _ if !exists => Err(ServiceError::NotFound("student")),
        Reach::TeacherOf(_) if !teaches => Err(ServiceError::PermissionDenied(
            "you may only read students of your courses",
        )),
        _ => Ok(row),
    }
}

pub async fn student_summary(
    pool: &Pool,
    school_id: Uuid,
    student: Uuid,
    reach: Reach,
    view: GradeView,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<pb::StudentSummary, ServiceError> {
    let db = pool.get().await?;
    let (s, row) = futures::try_join!(
        school(&db, school_id),
        reachable(&db, school_id, student, reach)
    )?;
    let today = s.calendar.today(now);
    let year_start = s.calendar.year_start(today);
    let (year, recent, courses, course_rates, balances, risk) = futures::try_join!(
        db.prepare_cached(
            "SELECT sum(present), sum(absent), sum(late), sum(excused) FROM student_days \
             WHERE school_id = $1 AND student_id = $2 AND date >= $3 AND date <= $4",
        ),
        db.prepare_cached(
            "SELECT present, absent, late, excused, absent_run FROM student_recent \
             WHERE school_id = $1 AND student_id = $2",
        ),
        db.prepare_cached(
            "SELECT c.course_id, c.code, c.name, sc.avg_all, sc.graded_all, sc.avg_published, \
               sc.graded_published, c.term \
             FROM enrolments e \
             JOIN courses c ON c.school_id = e.school_id AND c.course_id = e.course_id \
             LEFT JOIN student_courses sc ON sc.school_id = e.school_id \
               AND sc.student_id = e.student_id AND sc.course_id = e.course_id \
             WHERE e.school_id = $1 AND e.student_id = $2 AND e.active \
             ORDER BY c.code, c.course_id",
        ),
        db.prepare_cached(
            "SELECT course_id, count(*) FILTER (WHERE status = 'present'), \
               count(*) FILTER (WHERE status = 'absent'), count(*) FILTER (WHERE status = 'late'), \
               count(*) FILTER (WHERE status = 'excused') \
             FROM attendance WHERE school_id = $1 AND student_id = $2 AND date >= $3 AND date <= $4 \
             GROUP BY course_id",
        ),
        db.prepare_cached(
            "SELECT currency, sum(amount_due)::bigint FROM invoices \
             WHERE school_id = $1 AND student_id = $2 AND currency IS NOT NULL \
               AND status IN ('issued', 'partially_paid') \
             GROUP BY currency ORDER BY currency",
        ),
        db.prepare_cached(
            "SELECT chronic, consecutive, low_grade FROM at_risk WHERE school_id = $1 AND student_id = $2",
        ),
    )?;
    let (year, recent, courses, course_rates, balances, risk) = futures::try_join!(
        async {
            db.query_one(&year, &[&school_id, &student, &year_start, &today])
                .await
        },
        async { db.query_opt(&recent, &[&school_id, &student]).await },
        async { db.query(&courses, &[&school_id, &student]).await },
        async {
            db.query(&course_rates, &[&school_id, &student, &year_start, &today])
                .await
        },
        async { db.query(&balances, &[&school_id, &student]).await },
        async { db.query_opt(&risk, &[&school_id, &student]).await },
    )?;
    let mut rate_of: HashMap<Uuid, u32> = HashMap::new();
    for r in &course_rates {
        rate_of.insert(r.try_get(0)?, Counts::from_row(r, 1)?.rate());
    }
    let (recent_counts, run) = match &recent {
        Some(r) => (Counts::from_row(r, 0)?, r.try_get::<_, i32>(4)?),
        None => (Counts::default(), 0),
    };
    let mut at_risk = Vec::new();
    if let Some(r) = &risk {
        for (i, name) in [
            "RISK_REASON_CHRONIC_ABSENCE",
            "RISK_REASON_CONSECUTIVE_ABSENCES",
            "RISK_REASON_LOW_GRADE",
        ]
        .into_iter()
        .enumerate()
        {
            if r.try_get::<_, bool>(i)? {
                at_risk.push(name.to_owned());
            }
        }
    }
    let (avg_col, n_col) = match view {
        GradeView::All => (3, 4),
        GradeView::Published => (5, 6),
    };
    Ok(pb::StudentSummary {
        student_id: student.to_string(),
        given_name: row.try_get(0)?,
        family_name: row.try_get(1)?,
        grade_level: row.try_get(2)?,
        section: row.try_get(3)?,
        year_attendance: Some(Counts::from_row(&year, 0)?.to_proto(None)),
        recent_attendance: Some(recent_counts.to_proto(None)),
        consecutive_absences: count(run),
        courses: courses
            .iter()
            .map(|r| {
                let id: Uuid = r.try_get(0)?;
                Ok(pb::CourseAverage {
                    course_id: id.to_string(),
                    code: r.try_get(1)?,
                    name: r.try_get(2)?,
                    average: count(r.try_get::<_, Option<i32>>(avg_col)?.unwrap_or(0)),
                    graded: count(r.try_get::<_, Option<i32>>(n_col)?.unwrap_or(0)),
                    attendance_rate: rate_of.get(&id).copied().unwrap_or(0),
                    term: r.try_get(7)?,
                })
            })
            .collect::<Result<_, tokio_postgres::Error>>()?,
        balances: balances
            .iter()
            .map(|r| {
                Ok(pb::Balance {
                    currency: r.try_get(0)?,
                    due: r.try_get(1)?,
                })
            })
            .collect::<Result<_, tokio_postgres::Error>>()?,
        at_risk,
    })
}
