//! Newest wins in any order: a duplicate, an older revision or version,
//! arriving late, never moves a figure backwards.

use platform::caller::Role;
use proto::analytics::v1 as pb;
use uuid::Uuid;

use crate::helpers::{call, caller, School, TestApp};

#[tokio::test]
async fn late_and_repeated_facts_never_move_a_figure_backwards() {
    let app = TestApp::quiet().await;
    let s = School::new();
    let (teacher, course, ann) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let (inv, pay) = (Uuid::now_v7(), Uuid::now_v7());
    let (g, login) = (Uuid::now_v7(), Uuid::now_v7());
    let enrolment = Uuid::now_v7();
    let a = Uuid::now_v7();
    let mark_v1 = s.mark(course, "2030-03-12", 1, &[(ann, "absent", 1)]);
    let mark_v2 = s.mark(course, "2030-03-12", 1, &[(ann, "present", 2)]);
    let student_v2 = s.student(ann, "Lee", 5, "B", "active", 2);
    let student_v1 = s.student(ann, "Lee", 4, "A", "active", 1);
    let pay_event = s.payment(pay, inv, ann, 300, 1000, 300, 3, crate::helpers::now());
    let invoice_v2 = s.invoice(inv, ann, 1000, 0, "issued", "2030-03-01", "2030-03-05", 2);
    let link_v2 = s.link(g, login, ann, false, 2);
    let link_v1 = s.link(g, login, ann, true, 1);
    app.apply(&[
        s.settings("kea", "UTC", 1, 15, 1),
        s.course(course, "MAT", teacher, 30, 1),
        s.enrol(enrolment, course, ann, true),
        // Newer first, then the older facts (and every one again).
        student_v2.clone(),
        student_v1.clone(),
        student_v2,
        mark_v2.clone(),
        mark_v1.clone(),
        mark_v2,
        s.enrol(enrolment, course, ann, false),
        pay_event.clone(),
        invoice_v2.clone(),
        pay_event,
        invoice_v2,
        link_v2,
        link_v1,
        s.grades(a, course, 1000, false, &[(ann, 900, 2)]),
        s.grades(a, course, 1000, false, &[(ann, 100, 1)]),
        s.assessment(a, course, 1000, 100, "2030-03-01", false, 2),
        s.assessment(a, course, 500, 100, "2030-03-01", false, 1),
    ])
    .await;

    let admin = caller(s.id(), Uuid::now_v7(), Role::Admin);
    let mut client = app.client().await;
    let d = client
        .get_school_dashboard(call(&admin, pb::GetSchoolDashboardRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(d.active_students, 1);
    assert_eq!(
        d.students_by_grade,
        [pb::GradeSectionCount {
            grade_level: 5,
            section: "B".into(),
            students: 1
        }]
    );
    let today = d.today_attendance.unwrap();
    assert_eq!((today.present, today.absent), (1, 0), "revision 2 holds");
    assert_eq!(d.sessions_marked_today, 1);
    assert_eq!(d.courses, 1);
    let march = d.fees.iter().find(|m| m.month == "2030-03").unwrap();
    assert_eq!(
        (march.billed, march.collected, march.outstanding),
        (1000, 300, 700)
    );
    assert_eq!(d.overdue_invoices, 1);

    let summary = client
        .get_student_summary(call(
            &admin,
            pb::GetStudentSummaryRequest {
                student_id: ann.to_string(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(summary.grade_level, 5);
    assert!(
        summary.courses.is_empty(),
        "the withdrawal (version 2) holds"
    );
    assert_eq!(
        summary.balances,
        [pb::Balance {
            currency: "NZD".into(),
            due: 700
        }]
    );

    // The unlink (version 2) holds against the late link (version 1).
    let guardian = caller(s.id(), login, Role::Guardian);
    let err = client
        .get_student_summary(call(
            &guardian,
            pb::GetStudentSummaryRequest {
                student_id: ann.to_string(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::NotFound);

    // The newer grade (revision 2) and the newer max score (version 2).
    let row = platform::testing::connect(&app.db.admin_url)
        .await
        .unwrap()
        .query_one(
            "SELECT g.score, a.max_score, c.enrolled FROM analytics.grades g \
             JOIN analytics.assessments a USING (school_id, assessment_id) \
             JOIN analytics.courses c ON c.school_id = a.school_id AND c.course_id = a.course_id \
             WHERE g.school_id = $1",
            &[&s.id()],
        )
        .await
        .unwrap();
    assert_eq!(
        (
            row.get::<_, i32>(0),
            row.get::<_, i32>(1),
            row.get::<_, i32>(2)
        ),
        (900, 1000, 0)
    );
    app.stop().await;
}
