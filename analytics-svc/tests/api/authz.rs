//! Who reads what: admins the school; a teacher their own dashboard and the
//! students of their courses; a student only themself; a guardian only
//! linked children (published grades only); another school's ids are
//! NOT_FOUND; a call without the gateway's caller is UNAUTHENTICATED.

use platform::{caller::Role, testing::AssertCode};
use proto::analytics::v1 as pb;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::{call, caller, School, TestApp};

#[tokio::test]
async fn every_role_reads_only_what_it_may() {
    let app = TestApp::quiet().await;
    let s = School::new();
    let other = School::new();
    let (t1, t2) = (Uuid::now_v7(), Uuid::now_v7());
    let (c1, c2) = (Uuid::now_v7(), Uuid::now_v7());
    let (ann, ben, stray) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let (guardian, login) = (Uuid::now_v7(), Uuid::now_v7());
    let a = Uuid::now_v7();
    let b = Uuid::now_v7();
    app.apply(&[
        s.settings("moa", "UTC", 9, 1, 1),
        s.course(c1, "MAT", t1, 30, 1),
        s.course(c2, "ART", t2, 30, 1),
        s.student(ann, "Ng", 5, "A", "active", 1),
        s.student(ben, "Oh", 5, "A", "active", 1),
        s.enrol(Uuid::now_v7(), c1, ann, false),
        s.enrol(Uuid::now_v7(), c2, ben, false),
        s.guardian(guardian, login, 1),
        s.link(guardian, login, ann, true, 1),
        // A published grade and a draft in ann's course.
        s.assessment(a, c1, 1000, 100, "2030-03-01", false, 1),
        s.publish(a, c1, 1000, &[(ann, 800, 1)]),
        s.assessment(b, c1, 1000, 100, "2030-03-02", false, 1),
        s.grades(b, c1, 1000, false, &[(ann, 400, 1)]),
        other.settings("kaka", "UTC", 9, 1, 1),
        other.student(stray, "Zed", 5, "A", "active", 1),
    ])
    .await;
    let mut client = app.client().await;
    let summary = |student: Uuid| pb::GetStudentSummaryRequest {
        student_id: student.to_string(),
    };
    let admin = caller(s.id(), Uuid::now_v7(), Role::Admin);
    let teacher1 = caller(s.id(), t1, Role::Teacher);
    let mut student = caller(s.id(), Uuid::now_v7(), Role::Student);
    student.student_id = Some(ann);
    let parent = caller(s.id(), login, Role::Guardian);

    // Admin: anyone of the school, drafts included; another school's: 404.
    let all = client
        .get_student_summary(call(&admin, summary(ann)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.courses[0].average, 6000, "(80 % + 40 %) / 2");
    client
        .get_student_summary(call(&admin, summary(stray)))
        .await
        .assert_code(Code::NotFound);
    client
        .get_student_summary(call(&admin, summary(Uuid::now_v7())))
        .await
        .assert_code(Code::NotFound);

    // Teacher: students of their courses only.
    client
        .get_student_summary(call(&teacher1, summary(ann)))
        .await
        .unwrap();
    client
        .get_student_summary(call(&teacher1, summary(ben)))
        .await
        .assert_code(Code::PermissionDenied);
    client
        .get_student_summary(call(&teacher1, summary(stray)))
        .await
        .assert_code(Code::NotFound);
    // A teacher's dashboard is their own: only teachers, no other's id.
    let mine = client
        .get_teacher_dashboard(call(&teacher1, pb::GetTeacherDashboardRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        mine.courses
            .iter()
            .map(|c| c.code.as_str())
            .collect::<Vec<_>>(),
        ["MAT"]
    );
    let theirs = client
        .get_teacher_dashboard(call(
            &caller(s.id(), t2, Role::Teacher),
            pb::GetTeacherDashboardRequest {},
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        theirs
            .courses
            .iter()
            .map(|c| c.code.as_str())
            .collect::<Vec<_>>(),
        ["ART"]
    );
    client
        .get_teacher_dashboard(call(&admin, pb::GetTeacherDashboardRequest {}))
        .await
        .assert_code(Code::PermissionDenied);
    client
        .get_school_dashboard(call(&teacher1, pb::GetSchoolDashboardRequest {}))
        .await
        .assert_code(Code::PermissionDenied);

    // Student: self only (another's, existing or not: 404), published
    // grades only.
    let own = client
        .get_student_summary(call(&student, summary(ann)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((own.courses[0].average, own.courses[0].graded), (8000, 1));
    for other in [ben, Uuid::now_v7()] {
        client
            .get_student_summary(call(&student, summary(other)))
            .await
            .assert_code(Code::NotFound);
    }

    // Guardian: linked children only (existing or not: 404), published only.
    let child = client
        .get_student_summary(call(&parent, summary(ann)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(child.courses[0].average, 8000);
    for other in [ben, stray, Uuid::now_v7()] {
        client
            .get_student_summary(call(&parent, summary(other)))
            .await
            .assert_code(Code::NotFound);
    }
    app.apply(&[s.link(guardian, login, ann, false, 2)]).await;
    client
        .get_student_summary(call(&parent, summary(ann)))
        .await
        .assert_code(Code::NotFound);

    // The early-warning list: admins and teachers only.
    for who in [&student, &parent] {
        client
            .list_at_risk(call(who, pb::ListAtRiskRequest::default()))
            .await
            .assert_code(Code::PermissionDenied);
    }
    // Reports: admins only.
    client
        .fees_report(call(&teacher1, pb::FeesReportRequest::default()))
        .await
        .assert_code(Code::PermissionDenied);
    // Without the gateway's caller metadata.
    client
        .get_school_dashboard(pb::GetSchoolDashboardRequest {})
        .await
        .assert_code(Code::Unauthenticated);
    client
        .get_student_summary(call(
            &admin,
            pb::GetStudentSummaryRequest {
                student_id: "nope".into(),
            },
        ))
        .await
        .assert_code(Code::InvalidArgument);
    app.stop().await;
}

#[tokio::test]
async fn a_teacher_lists_only_at_risk_students_of_their_courses() {
    let app = TestApp::quiet().await;
    let s = School::new();
    let (t1, t2, c1, c2) = (
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
    );
    let mut events = vec![
        s.settings("pipi", "UTC", 9, 1, 1),
        s.course(c1, "MAT", t1, 30, 1),
        s.course(c2, "ART", t2, 30, 1),
    ];
    let students: Vec<Uuid> = (0..6).map(|_| Uuid::now_v7()).collect();
    for (i, st) in students.iter().enumerate() {
        let course = if i < 4 { c1 } else { c2 };
        events.push(s.student(*st, &format!("F{i}"), 3 + (i as i32 % 2), "A", "active", 1));
        events.push(s.enrol(Uuid::now_v7(), course, *st, false));
        // Absent three days in a row: CONSECUTIVE_ABSENCES and CHRONIC_ABSENCE.
        for d in ["2030-03-08", "2030-03-11", "2030-03-12"] {
            events.push(s.mark(course, d, 1, &[(*st, "absent", 1)]));
        }
    }
    app.apply(&events).await;
    let mut client = app.client().await;
    let list = |who: &platform::caller::Caller, req: pb::ListAtRiskRequest| {
        let mut client = client.clone();
        let req = call(who, req);
        async move { client.list_at_risk(req).await.unwrap().into_inner() }
    };
    let admin = caller(s.id(), Uuid::now_v7(), Role::Admin);
    // Paged two at a time in name order: six students, three pages.
    let mut names = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = list(
            &admin,
            pb::ListAtRiskRequest {
                page: Some(proto::common::v1::PageRequest {
                    limit: 2,
                    cursor: cursor.clone(),
                }),
                ..Default::default()
            },
        )
        .await;
        assert!(page.students.len() <= 2);
        names.extend(page.students.iter().map(|s| s.family_name.clone()));
        cursor = page.page.unwrap().next_cursor;
        if cursor.is_empty() {
            break;
        }
    }
    assert_eq!(names, ["F0", "F1", "F2", "F3", "F4", "F5"]);
    let first = list(&admin, pb::ListAtRiskRequest::default())
        .await
        .students;
    assert_eq!(first[0].consecutive_absences, 3);
    assert_eq!(
        first[0].reasons,
        [
            pb::RiskReason::ChronicAbsence as i32,
            pb::RiskReason::ConsecutiveAbsences as i32
        ]
    );
    let teacher = caller(s.id(), t2, Role::Teacher);
    let theirs = list(&teacher, pb::ListAtRiskRequest::default())
        .await
        .students;
    assert_eq!(
        theirs
            .iter()
            .map(|s| s.family_name.as_str())
            .collect::<Vec<_>>(),
        ["F4", "F5"]
    );
    // Filters: grade, course, reason.
    let grade4 = list(
        &admin,
        pb::ListAtRiskRequest {
            grade_level: Some(4),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        grade4
            .students
            .iter()
            .map(|s| s.family_name.as_str())
            .collect::<Vec<_>>(),
        ["F1", "F3", "F5"]
    );
    let in_c1 = list(
        &admin,
        pb::ListAtRiskRequest {
            course_id: c1.to_string(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(in_c1.students.len(), 4);
    let low = list(
        &admin,
        pb::ListAtRiskRequest {
            reason: pb::RiskReason::LowGrade as i32,
            ..Default::default()
        },
    )
    .await;
    assert!(low.students.is_empty());
    // A present mark ends the run: no longer CONSECUTIVE, still CHRONIC.
    app.apply(&[s.mark(c2, "2030-03-13", 1, &[(students[5], "present", 1)])])
        .await;
    let f5 = list(
        &admin,
        pb::ListAtRiskRequest {
            grade_level: Some(4),
            course_id: c2.to_string(),
            ..Default::default()
        },
    )
    .await
    .students;
    assert_eq!(f5.len(), 1);
    assert_eq!(f5[0].reasons, [pb::RiskReason::ChronicAbsence as i32]);
    assert_eq!(f5[0].recent_attendance_rate, 2500);
    let mut client2 = client.clone();
    client2
        .list_at_risk(call(
            &admin,
            pb::ListAtRiskRequest {
                course_id: "x".into(),
                ..Default::default()
            },
        ))
        .await
        .assert_code(Code::InvalidArgument);
    let _ = &mut client;
    app.stop().await;
}
