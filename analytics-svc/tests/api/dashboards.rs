//! What the dashboards and the summary show, from events: counts by grade
//! and section, staff, courses, today's sessions scheduled vs marked, the
//! 30-school-day trend, fees of the school year, overdue invoices, course
//! averages, a teacher's courses, unmarked sessions and missing grades, a
//! student's attendance, averages, run of absences and balance.

use platform::caller::Role;
use proto::analytics::v1 as pb;
use uuid::Uuid;

use crate::helpers::{call, caller, now, School, TestApp};

#[tokio::test]
async fn dashboards_and_summary_show_the_read_models() {
    let app = TestApp::quiet().await;
    let s = School::new();
    let (t1, admin_user) = (Uuid::now_v7(), Uuid::now_v7());
    let (c1, c2) = (Uuid::now_v7(), Uuid::now_v7());
    let (ann, ben, cat) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let (a1, a2, a3) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let (i1, i2, p1) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let mut events = vec![
        // "now" is Tuesday 2030-03-12 in UTC; the year starts 1 September.
        s.settings("huia", "UTC", 9, 1, 1),
        s.user(admin_user, "admin"),
        s.user(t1, "teacher"),
        s.user(Uuid::now_v7(), "student"),
        s.course(c1, "MAT", t1, 25, 1),
        s.course(c2, "ART", Uuid::now_v7(), 20, 1),
        s.slot(c1, 2, "09:00"),
        s.slot(c1, 2, "13:00"),
        s.slot(c2, 2, "10:00"),
        s.slot(c1, 4, "09:00"),
        s.student(ann, "Ng", 5, "A", "active", 1),
        s.student(ben, "Oh", 5, "A", "active", 1),
        s.student(cat, "Pu", 6, "B", "active", 1),
        s.student(Uuid::now_v7(), "Qi", 6, "B", "graduated", 1),
        s.enrol(Uuid::now_v7(), c1, ann, false),
        s.enrol(Uuid::now_v7(), c1, ben, false),
        s.enrol(Uuid::now_v7(), c2, cat, false),
        // Past due, ann graded, ben missing; a future one; a published one in ART.
        s.assessment(a1, c1, 1000, 2000, "2030-03-01", false, 1),
        s.grades(a1, c1, 1000, false, &[(ann, 500, 1)]),
        s.assessment(a2, c1, 1000, 1000, "2030-04-01", false, 1),
        s.assessment(a3, c2, 2000, 1000, "2030-02-01", true, 1),
        s.publish(a3, c2, 2000, &[(cat, 1500, 1)]),
        // Fees: one invoice partly paid, overdue; one voided.
        s.invoice(i1, ann, 1000, 0, "issued", "2030-03-01", "2030-03-05", 1),
        s.payment(p1, i1, ann, 200, 1000, 200, 2, now()),
        s.invoice(i2, ben, 500, 0, "issued", "2030-02-10", "2030-04-05", 1),
        s.invoice(i2, ben, 500, 0, "void", "2030-02-10", "2030-04-05", 2),
    ];
    // 32 school days: the trend keeps the latest 30; ann absent on the last 3.
    let first = chrono::NaiveDate::from_ymd_opt(2030, 2, 9).unwrap();
    for k in 0..32 {
        let d = (first + chrono::Duration::days(k))
            .format("%Y-%m-%d")
            .to_string();
        let ann_status = if k >= 29 { "absent" } else { "present" };
        events.push(s.mark(c1, &d, 1, &[(ann, ann_status, 1), (ben, "late", 1)]));
    }
    app.apply(&events).await;
    let mut client = app.client().await;
    let admin = caller(s.id(), admin_user, Role::Admin);

    let d = client
        .get_school_dashboard(call(&admin, pb::GetSchoolDashboardRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(d.today, "2030-03-12");
    assert_eq!((d.active_students, d.staff, d.courses), (3, 2, 2));
    let by_grade: Vec<(i32, &str, u32)> = d
        .students_by_grade
        .iter()
        .map(|g| (g.grade_level, g.section.as_str(), g.students))
        .collect();
    assert_eq!(by_grade, [(5, "A", 2), (6, "B", 1)]);
    assert_eq!(
        (d.sessions_scheduled_today, d.sessions_marked_today),
        (3, 1)
    );
    let today = d.today_attendance.unwrap();
    assert_eq!((today.absent, today.late, today.rate), (1, 1, 5000));
    assert_eq!(d.attendance_trend.len(), 30);
    assert_eq!(d.attendance_trend[0].date, "2030-02-11");
    assert_eq!(d.attendance_trend[29].date, "2030-03-12");
    let fees: Vec<(String, i64, i64, i64)> = d
        .fees
        .iter()
        .map(|m| (m.month.clone(), m.billed, m.collected, m.outstanding))
        .collect();
    assert_eq!(fees, [("2030-03".to_owned(), 1000, 200, 800)]);
    assert_eq!(d.overdue_invoices, 1);
    assert_eq!(
        d.course_grades
            .iter()
            .map(|g| (g.code.as_str(), g.average, g.grades))
            .collect::<Vec<_>>(),
        [("ART", 7500, 1)]
    );
    assert_eq!(d.graded_courses, 1);
    assert_eq!(d.at_risk_students, 1, "ann only");

    let t = client
        .get_teacher_dashboard(call(
            &caller(s.id(), t1, Role::Teacher),
            pb::GetTeacherDashboardRequest {},
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(t.courses.len(), 1);
    assert_eq!((t.courses[0].enrolled, t.courses[0].capacity), (2, 25));
    // ann 29 present + 3 absent, ben 32 late → (29 + 32) / 64.
    assert_eq!(t.courses[0].attendance_rate, 9531);
    // Two MAT slots on Tuesdays, one session marked: the 13:00 one is left.
    assert_eq!(
        t.unmarked_today
            .iter()
            .map(|u| u.start.as_str())
            .collect::<Vec<_>>(),
        ["13:00"]
    );
    assert_eq!(t.past_due.len(), 1);
    assert_eq!(
        (t.past_due[0].assessment_id.clone(), t.past_due[0].missing),
        (a1.to_string(), 1)
    );

    let ann_summary = client
        .get_student_summary(call(
            &admin,
            pb::GetStudentSummaryRequest {
                student_id: ann.to_string(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ann_summary.consecutive_absences, 3);
    let year = ann_summary.year_attendance.unwrap();
    assert_eq!((year.present, year.absent), (29, 3));
    let recent = ann_summary.recent_attendance.unwrap();
    assert_eq!(
        (recent.present, recent.absent),
        (27, 3),
        "the last 30 school days"
    );
    assert_eq!(ann_summary.courses[0].average, 5000);
    assert_eq!(
        ann_summary.balances,
        [pb::Balance {
            currency: "NZD".into(),
            due: 800
        }]
    );
    assert_eq!(
        ann_summary.at_risk,
        ["RISK_REASON_CONSECUTIVE_ABSENCES", "RISK_REASON_LOW_GRADE"],
        "absent the last 3 school days; 50 % in MAT"
    );
    app.stop().await;
}

/// A teacher's course shows each published assessment of this school year
/// with its grades by tenth of the max score; drafts and last year's
/// assessments are left out.
#[tokio::test]
async fn teacher_dashboard_shows_grade_distributions() {
    let app = TestApp::quiet().await;
    let s = School::new();
    let (t1, c1) = (Uuid::now_v7(), Uuid::now_v7());
    let (ann, ben, cat) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let (this_year, draft, last_year) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let mut events = vec![
        s.settings("kea", "UTC", 9, 1, 1),
        s.user(t1, "teacher"),
        s.course(c1, "MAT", t1, 25, 1),
    ];
    for (st, name) in [(ann, "Ng"), (ben, "Oh"), (cat, "Pu")] {
        events.push(s.student(st, name, 5, "A", "active", 1));
        events.push(s.enrol(Uuid::now_v7(), c1, st, false));
    }
    events.extend([
        s.assessment(this_year, c1, 200, 1000, "2030-02-01", true, 1),
        // 95 %, 45 %, 100 %: bands 9, 4 and 9 (the max is in the top band).
        s.publish(
            this_year,
            c1,
            200,
            &[(ann, 190, 1), (ben, 90, 1), (cat, 200, 1)],
        ),
        s.assessment(draft, c1, 100, 1000, "2030-02-15", false, 1),
        s.grades(draft, c1, 100, false, &[(ann, 10, 1)]),
        s.assessment(last_year, c1, 100, 1000, "2029-06-01", true, 1),
        s.publish(last_year, c1, 100, &[(ann, 10, 1)]),
    ]);
    app.apply(&events).await;
    let t = app
        .client()
        .await
        .get_teacher_dashboard(call(
            &caller(s.id(), t1, Role::Teacher),
            pb::GetTeacherDashboardRequest {},
        ))
        .await
        .unwrap()
        .into_inner();
    let published = &t.courses[0].published;
    assert_eq!(published.len(), 1, "{published:?}");
    let a = &published[0];
    assert_eq!(
        (a.assessment_id.as_str(), a.due_on.as_str(), a.graded),
        (this_year.to_string().as_str(), "2030-02-01", 3)
    );
    // (190 + 90 + 200) / 600 = 80 %.
    assert_eq!(a.average, 8000);
    assert_eq!(a.bands, [0, 0, 0, 0, 1, 0, 0, 0, 0, 2]);
}

/// The school dashboard carries the ten lowest course averages, lowest
/// first, and how many courses are graded; ListCourseGrades pages every
/// course's average in code order, admins only.
#[tokio::test]
async fn dashboard_keeps_the_lowest_ten_course_averages_and_the_list_pages_them_all() {
    let app = TestApp::quiet().await;
    let s = School::new();
    let admin_user = Uuid::now_v7();
    let mut events = vec![
        s.settings("kea", "UTC", 9, 1, 1),
        s.user(admin_user, "admin"),
    ];
    // 13 courses C00..C12; course k averages (20 + 5k) %, so C00..C09 are
    // the ten lowest. Code order and average order differ: C12 sorts last
    // by code and is not shown; the dashboard lists C00 first.
    let mut codes = Vec::new();
    // Due in a month: not past due whatever the day the test runs.
    let due = (crate::helpers::now() + chrono::Duration::days(30))
        .date_naive()
        .to_string();
    for k in 0..13 {
        let (c, a, st) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let code = format!("C{k:02}");
        events.push(s.course(c, &code, Uuid::now_v7(), 30, 1));
        events.push(s.student(st, &format!("S{k}"), 5, "A", "active", 1));
        events.push(s.enrol(Uuid::now_v7(), c, st, false));
        events.push(s.assessment(a, c, 100, 1000, &due, true, 1));
        events.push(s.publish(a, c, 100, &[(st, 20 + 5 * k, 1)]));
        codes.push(code);
    }
    app.apply(&events).await;
    let mut client = app.client().await;
    let admin = caller(s.id(), admin_user, Role::Admin);

    let d = client
        .get_school_dashboard(call(&admin, pb::GetSchoolDashboardRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(d.graded_courses, 13);
    let lowest: Vec<(String, u32)> = d
        .course_grades
        .iter()
        .map(|g| (g.code.clone(), g.average))
        .collect();
    let expected: Vec<(String, u32)> = (0..10)
        .map(|k| (format!("C{k:02}"), 2000 + 500 * k))
        .collect();
    assert_eq!(lowest, expected);

    let mut seen = Vec::new();
    let mut cursor = String::new();
    for _ in 0..4 {
        let page = client
            .list_course_grades(call(
                &admin,
                pb::ListCourseGradesRequest {
                    page: Some(proto::common::v1::PageRequest {
                        limit: 5,
                        cursor: cursor.clone(),
                    }),
                },
            ))
            .await
            .unwrap()
            .into_inner();
        seen.extend(page.courses.iter().map(|c| c.code.clone()));
        cursor = page.page.unwrap_or_default().next_cursor;
        if cursor.is_empty() {
            break;
        }
    }
    assert_eq!(seen, codes, "every graded course once, in code order");

    let teacher = caller(s.id(), Uuid::now_v7(), Role::Teacher);
    let denied = client
        .list_course_grades(call(&teacher, pb::ListCourseGradesRequest { page: None }))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    let bad = client
        .list_course_grades(call(
            &admin,
            pb::ListCourseGradesRequest {
                page: Some(proto::common::v1::PageRequest {
                    limit: 5,
                    cursor: "not-a-cursor".into(),
                }),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);
}
