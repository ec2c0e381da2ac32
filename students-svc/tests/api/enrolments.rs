use platform::caller::Caller;
use proto::events::v1::event::Payload;
use proto::students::v1 as pb;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::*;

async fn enrol(
    app: &TestApp,
    caller: &Caller,
    course: &str,
    student: &str,
) -> Result<pb::Enrolment, tonic::Status> {
    app.enrolments()
        .enrol(with_caller(
            caller,
            pb::EnrolRequest {
                course_id: course.into(),
                student_id: student.into(),
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn withdraw(
    app: &TestApp,
    caller: &Caller,
    course: &str,
    student: &str,
) -> Result<pb::Enrolment, tonic::Status> {
    app.enrolments()
        .withdraw(with_caller(
            caller,
            pb::WithdrawRequest {
                course_id: course.into(),
                student_id: student.into(),
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn course_of(app: &TestApp, admin: &Caller, id: &str) -> pb::Course {
    app.courses()
        .get_course(with_caller(admin, pb::GetCourseRequest { id: id.into() }))
        .await
        .unwrap()
        .into_inner()
}

#[tokio::test]
async fn fifty_concurrent_enrolments_fill_ten_seats_exactly() {
    let app = spawn_app().await;
    let admin = app.school("north").await;
    let tess = app.teacher(&admin, "tess@north.test").await;
    let c = app.create_course(&admin, "M1", "2026-T1", &tess, 10).await;
    let mut students = Vec::new();
    for i in 0..50 {
        students.push(
            app.create_student(&admin, student(&format!("S-{i}"), "Kid", "Ng"))
                .await
                .id,
        );
    }
    let tries = students.iter().map(|s| enrol(&app, &admin, &c.id, s));
    let results = futures::future::join_all(tries).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 10);
    for e in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
        assert_eq!(e.message(), "course is full");
    }
    assert_eq!(app.count("enrolments").await, 10);
    assert_eq!(course_of(&app, &admin, &c.id).await.enrolled, 10);
    let shrink = app
        .courses()
        .update_course(with_caller(
            &admin,
            pb::UpdateCourseRequest {
                id: c.id.clone(),
                version: 1,
                capacity: Some(5),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(shrink.code(), Code::FailedPrecondition, "{shrink:?}");
    let created = app
        .events()
        .await
        .into_iter()
        .filter(|e| e.event_type == "enrolment.created")
        .count();
    assert_eq!(created, 10, "refused enrolments record no event");
}

#[tokio::test]
async fn no_double_enrolment_and_withdrawal_frees_the_seat() {
    let app = spawn_app().await;
    let admin = app.school("north").await;
    let tess = app.teacher(&admin, "tess@north.test").await;
    let c = app.create_course(&admin, "M1", "2026-T1", &tess, 1).await;
    let a = app
        .create_student(&admin, student("A-1", "Ada", "Ng"))
        .await;
    let b = app.create_student(&admin, student("A-2", "Bo", "Ng")).await;

    let e = enrol(&app, &admin, &c.id, &a.id).await.unwrap();
    assert_eq!(
        (e.student_id.as_str(), e.given_name.as_str()),
        (a.id.as_str(), "Ada")
    );
    assert!(e.withdrawn_at.is_none());
    let again = enrol(&app, &admin, &c.id, &a.id).await.unwrap_err();
    assert_eq!(again.code(), Code::AlreadyExists);
    let full = enrol(&app, &admin, &c.id, &b.id).await.unwrap_err();
    assert_eq!(full.code(), Code::FailedPrecondition);

    let w = withdraw(&app, &admin, &c.id, &a.id).await.unwrap();
    assert!(w.withdrawn_at.is_some());
    assert_eq!(w.id, e.id);
    assert_eq!(course_of(&app, &admin, &c.id).await.enrolled, 0);
    let twice = withdraw(&app, &admin, &c.id, &a.id).await.unwrap_err();
    assert_eq!(twice.code(), Code::NotFound);
    enrol(&app, &admin, &c.id, &b.id).await.unwrap();
    assert_eq!(course_of(&app, &admin, &c.id).await.enrolled, 1);

    // Capacity cannot drop below the enrolled count.
    let err = app
        .courses()
        .update_course(with_caller(
            &admin,
            pb::UpdateCourseRequest {
                id: c.id.clone(),
                version: 1,
                capacity: Some(0),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violations(&err), ["capacity"]);

    let events: Vec<_> = app
        .events()
        .await
        .into_iter()
        .filter(|e| e.aggregate_type == "enrolment")
        .collect();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "enrolment.created",
            "enrolment.withdrawn",
            "enrolment.created"
        ]
    );
    match &events[1].payload {
        Some(Payload::EnrolmentWithdrawn(p)) => {
            assert_eq!(
                (p.enrolment_id.as_str(), p.student_id.as_str(), p.withdrawn),
                (e.id.as_str(), a.id.as_str(), true)
            );
        }
        other => panic!("unexpected payload {other:?}"),
    }
}

#[tokio::test]
async fn archived_missing_and_foreign_records_cannot_be_enrolled() {
    let app = spawn_app().await;
    let admin = app.school("north").await;
    let tess = app.teacher(&admin, "tess@north.test").await;
    let c = app.create_course(&admin, "M1", "2026-T1", &tess, 5).await;
    let gone = app
        .create_student(&admin, student("A-1", "Ada", "Ng"))
        .await;
    app.students()
        .archive_student(with_caller(
            &admin,
            pb::ArchiveStudentRequest {
                id: gone.id.clone(),
            },
        ))
        .await
        .unwrap();
    let archived = enrol(&app, &admin, &c.id, &gone.id).await.unwrap_err();
    assert_eq!(archived.code(), Code::FailedPrecondition);

    let south = app.school("south").await;
    let sam = app.teacher(&south, "sam@south.test").await;
    let foreign_student = app
        .create_student(&south, student("S-1", "Sol", "Ng"))
        .await;
    let foreign_course = app.create_course(&south, "M1", "2026-T1", &sam, 5).await;
    let live = app.create_student(&admin, student("A-2", "Bo", "Ng")).await;
    for (course, student) in [
        (c.id.as_str(), foreign_student.id.as_str()),
        (foreign_course.id.as_str(), live.id.as_str()),
        (c.id.as_str(), &*Uuid::now_v7().to_string()),
    ] {
        let err = enrol(&app, &admin, course, student).await.unwrap_err();
        assert_eq!(err.code(), Code::NotFound, "{course} {student}");
    }
    let bad = enrol(&app, &admin, "x", "y").await.unwrap_err();
    assert_eq!(violations(&bad), ["course_id", "student_id"]);
    let by_teacher = enrol(&app, &tess, &c.id, &live.id).await.unwrap_err();
    assert_eq!(by_teacher.code(), Code::PermissionDenied);
    let foreign_withdraw = withdraw(&app, &south, &c.id, &live.id).await.unwrap_err();
    assert_eq!(foreign_withdraw.code(), Code::NotFound);
    assert_eq!(app.count("enrolments").await, 0);
    assert_eq!(course_of(&app, &admin, &c.id).await.enrolled, 0);
}

#[tokio::test]
async fn rosters_page_in_enrolment_order_for_admins_and_the_course_teacher() {
    let app = spawn_app().await;
    let admin = app.school("north").await;
    let tess = app.teacher(&admin, "tess@north.test").await;
    let theo = app.teacher(&admin, "theo@north.test").await;
    let c = app.create_course(&admin, "M1", "2026-T1", &tess, 30).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let s = app
            .create_student(&admin, student(&format!("A-{i}"), "Kid", "Ng"))
            .await;
        app.enrol(&admin, &c.id, &s.id).await;
        ids.push(s.id);
    }
    withdraw(&app, &admin, &c.id, &ids[2]).await.unwrap();

    let page = |caller: Caller, cursor: String| {
        let mut e = app.enrolments();
        let req = pb::ListRosterRequest {
            course_id: c.id.clone(),
            page: Some(proto::common::v1::PageRequest { limit: 2, cursor }),
        };
        async move { e.list_roster(with_caller(&caller, req)).await }
    };
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = page(tess, cursor).await.unwrap().into_inner();
        seen.extend(r.enrolments.into_iter().map(|e| e.student_id));
        cursor = r.page.unwrap().next_cursor;
        if cursor.is_empty() {
            break;
        }
    }
    assert_eq!(seen, [ids[0].as_str(), &ids[1], &ids[3], &ids[4]]);
    let denied = page(theo, String::new()).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let bad = page(admin, "zzz".into()).await.unwrap_err();
    assert_eq!(violations(&bad), ["cursor"]);
    let south = app.school("south").await;
    assert_eq!(
        page(south, String::new()).await.unwrap_err().code(),
        Code::NotFound
    );
}
