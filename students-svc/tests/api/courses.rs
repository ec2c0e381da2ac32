use platform::caller::Caller;
use proto::events::v1::event::Payload;
use proto::students::v1 as pb;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::*;

fn slot(
    course: &str,
    weekday: i32,
    start: &str,
    end: &str,
    room: &str,
) -> pb::AddTimetableSlotRequest {
    pb::AddTimetableSlotRequest {
        course_id: course.into(),
        weekday,
        start: start.into(),
        end: end.into(),
        room: room.into(),
    }
}

async fn add_slot(
    app: &TestApp,
    admin: &Caller,
    req: pb::AddTimetableSlotRequest,
) -> Result<pb::TimetableSlot, tonic::Status> {
    app.courses()
        .add_timetable_slot(with_caller(admin, req))
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn create_get_update_with_versions_and_events() {
    let app = spawn_app().await;
    let admin = app.school("north").await;
    let tess = app.teacher(&admin, "tess@north.test").await;
    let c = app
        .create_course(&admin, "MATH-1", "2026-T1", &tess, 30)
        .await;
    assert_eq!((c.version, c.capacity, c.enrolled), (1, 30, 0));
    assert_eq!(c.teacher_id, tess.user_id.to_string());

    let mut courses = app.courses();
    let got = courses
        .get_course(with_caller(
            &tess,
            pb::GetCourseRequest { id: c.id.clone() },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got, c, "the teacher reads their own course");

    let update = |version, name: &str| pb::UpdateCourseRequest {
        id: c.id.clone(),
        version,
        name: Some(name.into()),
        ..Default::default()
    };
    let v2 = courses
        .update_course(with_caller(&admin, update(1, "Algebra")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (v2.version, v2.name.as_str(), v2.code.as_str()),
        (2, "Algebra", "MATH-1")
    );
    let stale = courses
        .update_course(with_caller(&admin, update(1, "Lost update")))
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);
    let missing = courses
        .update_course(with_caller(
            &admin,
            pb::UpdateCourseRequest {
                id: Uuid::now_v7().to_string(),
                ..update(2, "x")
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    let by_teacher = courses
        .update_course(with_caller(&tess, update(2, "Mine now")))
        .await
        .unwrap_err();
    assert_eq!(by_teacher.code(), Code::PermissionDenied);

    let events = app.events_of(&["course"]).await;
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        ["course.created", "course.updated"],
        "one event per change"
    );
    let e = &events[1];
    assert_eq!(
        (e.aggregate_type.as_str(), e.aggregate_id.as_str()),
        ("course", c.id.as_str())
    );
    assert_eq!(e.school_id, admin.school_id.to_string());
    assert_eq!(e.actor_user_id, admin.user_id.to_string());
    match &e.payload {
        Some(Payload::CourseUpdated(p)) => {
            assert_eq!((p.name.as_str(), p.version, p.capacity), ("Algebra", 2, 30));
        }
        other => panic!("unexpected payload {other:?}"),
    }
}

#[tokio::test]
async fn invalid_courses_are_rejected_field_by_field_and_nothing_is_written() {
    let app = spawn_app().await;
    let admin = app.school("north").await;
    let err = app
        .courses()
        .create_course(with_caller(
            &admin,
            pb::CreateCourseRequest {
                code: "MATH 1; --".into(),
                name: "  ".into(),
                term: "2026-T9".into(),
                teacher_id: "nobody".into(),
                capacity: 501,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(
        violations(&err),
        ["capacity", "code", "name", "teacher_id", "term"]
    );
    for capacity in [0, -1] {
        let tess = Uuid::now_v7().to_string();
        let err = app
            .courses()
            .create_course(with_caller(
                &admin,
                pb::CreateCourseRequest {
                    code: "M1".into(),
                    name: "Maths".into(),
                    term: "2026-T1".into(),
                    teacher_id: tess,
                    capacity,
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(violations(&err), ["capacity"]);
    }
    let empty = app
        .courses()
        .update_course(with_caller(
            &admin,
            pb::UpdateCourseRequest {
                id: Uuid::now_v7().to_string(),
                version: 1,
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violations(&empty), [""]);
    assert_eq!(app.count("courses").await, 0);
    assert!(app.events_of(&["course"]).await.is_empty());
}

#[tokio::test]
async fn the_teacher_must_be_a_teacher_of_the_same_school() {
    let app = spawn_app().await;
    let admin = app.school("north").await;
    let other = app.school("south").await;
    let foreign = app.teacher(&other, "tess@south.test").await;
    let create = |teacher: Uuid| pb::CreateCourseRequest {
        code: "M1".into(),
        name: "Maths".into(),
        term: "2026-T1".into(),
        teacher_id: teacher.to_string(),
        capacity: 10,
    };
    for teacher in [admin.user_id, foreign.user_id, Uuid::now_v7()] {
        let err = app
            .courses()
            .create_course(with_caller(&admin, create(teacher)))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{teacher}");
        assert_eq!(violations(&err), ["teacher_id"]);
        assert!(err.message().contains("no active user with role teacher"));
    }
    assert_eq!(app.count("courses").await, 0);

    // And on update: an admin is not a teacher.
    let tess = app.teacher(&admin, "tess@north.test").await;
    let c = app.create_course(&admin, "M1", "2026-T1", &tess, 10).await;
    let err = app
        .courses()
        .update_course(with_caller(
            &admin,
            pb::UpdateCourseRequest {
                id: c.id.clone(),
                version: 1,
                teacher_id: Some(admin.user_id.to_string()),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violations(&err), ["teacher_id"]);
}

#[tokio::test]
async fn codes_are_unique_per_school_and_term() {
    let app = spawn_app().await;
    let admin = app.school("north").await;
    let tess = app.teacher(&admin, "tess@north.test").await;
    app.create_course(&admin, "M1", "2026-T1", &tess, 10).await;
    let dup = app
        .courses()
        .create_course(with_caller(
            &admin,
            pb::CreateCourseRequest {
                code: "M1".into(),
                name: "Again".into(),
                term: "2026-T1".into(),
                teacher_id: tess.user_id.to_string(),
                capacity: 10,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(dup.code(), Code::AlreadyExists);
    assert!(
        dup.message().contains("code already exists"),
        "{}",
        dup.message()
    );
    app.create_course(&admin, "M1", "2026-T2", &tess, 10).await;
    let south = app.school("south").await;
    let sam = app.teacher(&south, "sam@south.test").await;
    app.create_course(&south, "M1", "2026-T1", &sam, 10).await;
    assert_eq!(app.count("courses").await, 3);
    // Renaming into a taken code is a conflict too.
    let t2 = app.create_course(&admin, "M2", "2026-T1", &tess, 10).await;
    let err = app
        .courses()
        .update_course(with_caller(
            &admin,
            pb::UpdateCourseRequest {
                id: t2.id,
                version: 1,
                code: Some("M1".into()),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);
}

#[tokio::test]
async fn lists_page_by_term_and_code_and_teachers_see_their_own() {
    let app = spawn_app().await;
    let admin = app.school("north").await;
    let tess = app.teacher(&admin, "tess@north.test").await;
    let theo = app.teacher(&admin, "theo@north.test").await;
    for (code, term, t) in [
        ("B", "2026-T1", &tess),
        ("A", "2026-T1", &theo),
        ("C", "2026-T2", &tess),
        ("A", "2026-T2", &tess),
        ("Z", "2025-T3", &theo),
    ] {
        app.create_course(&admin, code, term, t, 10).await;
    }
    let south = app.school("south").await;
    let sam = app.teacher(&south, "sam@south.test").await;
    app.create_course(&south, "A", "2026-T1", &sam, 10).await;

    let list = |caller: Caller, term: &str, teacher: &str, cursor: String| {
        let mut courses = app.courses();
        let req = pb::ListCoursesRequest {
            page: Some(proto::common::v1::PageRequest { limit: 2, cursor }),
            term: term.into(),
            teacher_id: teacher.into(),
        };
        async move { courses.list_courses(with_caller(&caller, req)).await }
    };
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = list(admin, "", "", cursor.clone())
            .await
            .unwrap()
            .into_inner();
        seen.extend(
            page.courses
                .iter()
                .map(|c| format!("{}/{}", c.term, c.code)),
        );
        cursor = page.page.unwrap().next_cursor;
        if cursor.is_empty() {
            break;
        }
    }
    assert_eq!(
        seen,
        [
            "2025-T3/Z",
            "2026-T1/A",
            "2026-T1/B",
            "2026-T2/A",
            "2026-T2/C"
        ]
    );
    let t1 = list(admin, "2026-T1", "", String::new())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(t1.courses.len(), 2);
    let theos = list(admin, "", &theo.user_id.to_string(), String::new())
        .await
        .unwrap()
        .into_inner();
    assert!(theos
        .courses
        .iter()
        .all(|c| c.teacher_id == theo.user_id.to_string()));
    assert_eq!(theos.courses.len(), 2);

    // A teacher gets only their own courses, and may not ask for another's.
    let mine = list(tess, "2026-T2", "", String::new())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(mine.courses.len(), 2);
    assert!(mine
        .courses
        .iter()
        .all(|c| c.teacher_id == tess.user_id.to_string()));
    let other = list(tess, "", &theo.user_id.to_string(), String::new())
        .await
        .unwrap_err();
    assert_eq!(other.code(), Code::PermissionDenied);

    let bad = list(admin, "T1", "x", "garbage".into()).await.unwrap_err();
    assert_eq!(violations(&bad), ["cursor", "teacher_id", "term"]);
}

#[tokio::test]
async fn other_schools_courses_are_not_found_and_other_teachers_are_denied() {
    let app = spawn_app().await;
    let admin = app.school("north").await;
    let tess = app.teacher(&admin, "tess@north.test").await;
    let theo = app.teacher(&admin, "theo@north.test").await;
    let c = app.create_course(&admin, "M1", "2026-T1", &tess, 10).await;
    let south = app.school("south").await;

    let get = |caller: Caller| {
        let mut courses = app.courses();
        let id = c.id.clone();
        async move {
            courses
                .get_course(with_caller(&caller, pb::GetCourseRequest { id }))
                .await
                .unwrap_err()
                .code()
        }
    };
    assert_eq!(get(south).await, Code::NotFound);
    assert_eq!(get(theo).await, Code::PermissionDenied);
    let err = add_slot(&app, &south, slot(&c.id, 1, "09:00", "10:00", "R1"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = app
        .courses()
        .update_course(with_caller(
            &south,
            pb::UpdateCourseRequest {
                id: c.id.clone(),
                version: 1,
                name: Some("Stolen".into()),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = app
        .courses()
        .create_course(with_caller(
            &tess,
            pb::CreateCourseRequest {
                code: "M9".into(),
                name: "Mine".into(),
                term: "2026-T1".into(),
                teacher_id: tess.user_id.to_string(),
                capacity: 10,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn slots_detect_room_and_teacher_clashes_in_the_same_term() {
    let app = spawn_app().await;
    let admin = app.school("north").await;
    let tess = app.teacher(&admin, "tess@north.test").await;
    let theo = app.teacher(&admin, "theo@north.test").await;
    let maths = app.create_course(&admin, "M1", "2026-T1", &tess, 10).await;
    let art = app.create_course(&admin, "A1", "2026-T1", &theo, 10).await;
    let bio = app.create_course(&admin, "B1", "2026-T1", &tess, 10).await;
    let later = app.create_course(&admin, "L1", "2026-T2", &theo, 10).await;

    let s = add_slot(&app, &admin, slot(&maths.id, 1, "09:00", "10:00", "R1"))
        .await
        .unwrap();
    assert_eq!(
        (s.start.as_str(), s.end.as_str(), s.weekday),
        ("09:00", "10:00", 1)
    );

    let room = add_slot(&app, &admin, slot(&art.id, 1, "09:30", "10:30", "r1"))
        .await
        .unwrap_err();
    assert_eq!(room.code(), Code::AlreadyExists);
    assert!(
        room.message().contains("room is already booked"),
        "{}",
        room.message()
    );
    let teacher = add_slot(&app, &admin, slot(&bio.id, 1, "08:30", "09:01", "R2"))
        .await
        .unwrap_err();
    assert_eq!(teacher.code(), Code::AlreadyExists);
    assert!(
        teacher.message().contains("teacher already teaches"),
        "{}",
        teacher.message()
    );
    assert_eq!(app.count("timetable_slots").await, 1);

    // Touching ends, another weekday, another term: no clash.
    add_slot(&app, &admin, slot(&art.id, 1, "10:00", "11:00", "R1"))
        .await
        .unwrap();
    add_slot(&app, &admin, slot(&bio.id, 2, "09:00", "10:00", "R1"))
        .await
        .unwrap();
    add_slot(&app, &admin, slot(&later.id, 2, "09:00", "10:00", "R1"))
        .await
        .unwrap();

    let got = app
        .courses()
        .get_course(with_caller(
            &admin,
            pb::GetCourseRequest { id: art.id.clone() },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.slots.len(), 1);
    assert_eq!(got.slots[0].room, "R1");

    // Moving a course to a busy teacher is a clash as well, and changes nothing.
    let err = app
        .courses()
        .update_course(with_caller(
            &admin,
            pb::UpdateCourseRequest {
                id: bio.id.clone(),
                version: 1,
                teacher_id: Some(theo.user_id.to_string()),
                term: Some("2026-T2".into()),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists, "{}", err.message());
    let bio_now = app
        .courses()
        .get_course(with_caller(
            &admin,
            pb::GetCourseRequest { id: bio.id.clone() },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((bio_now.version, bio_now.term.as_str()), (1, "2026-T1"));

    let slot_events: Vec<_> = app
        .events()
        .await
        .into_iter()
        .filter(|e| e.event_type == "course.timetable_slot_added")
        .collect();
    assert_eq!(slot_events.len(), 4, "one per slot added, none for clashes");
    match &slot_events[0].payload {
        Some(Payload::TimetableSlotAdded(p)) => {
            assert_eq!(
                (p.course_id.as_str(), p.room.as_str(), p.start.as_str()),
                (maths.id.as_str(), "R1", "09:00")
            );
        }
        other => panic!("unexpected payload {other:?}"),
    }
}

#[tokio::test]
async fn invalid_slots_are_rejected_and_nothing_is_written() {
    let app = spawn_app().await;
    let admin = app.school("north").await;
    let tess = app.teacher(&admin, "tess@north.test").await;
    let c = app.create_course(&admin, "M1", "2026-T1", &tess, 10).await;
    let err = add_slot(&app, &admin, slot("x", 8, "9:00", "25:00", ""))
        .await
        .unwrap_err();
    assert_eq!(
        violations(&err),
        ["course_id", "end", "room", "start", "weekday"]
    );
    let err = add_slot(&app, &admin, slot(&c.id, 0, "10:00", "09:00", "R1"))
        .await
        .unwrap_err();
    assert_eq!(violations(&err), ["end", "weekday"]);
    let err = add_slot(&app, &admin, slot(&c.id, 3, "10:00", "10:00", "R1"))
        .await
        .unwrap_err();
    assert_eq!(violations(&err), ["end"]);
    let err = add_slot(&app, &tess, slot(&c.id, 3, "10:00", "11:00", "R1"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    assert_eq!(app.count("timetable_slots").await, 0);
}

/// Concurrent bookings of one room at one time: the term's lock lets
/// exactly one through.
#[tokio::test]
async fn concurrent_clashing_slots_admit_exactly_one() {
    let app = spawn_app().await;
    let admin = app.school("north").await;
    let mut ids = Vec::new();
    for i in 0..8 {
        let t = app.teacher(&admin, &format!("t{i}@north.test")).await;
        ids.push(
            app.create_course(&admin, &format!("C{i}"), "2026-T1", &t, 10)
                .await
                .id,
        );
    }
    let tries = ids.iter().map(|id| {
        let app = &app;
        async move { add_slot(app, &admin, slot(id, 4, "13:00", "14:00", "Hall")).await }
    });
    let results = futures::future::join_all(tries).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 1, "{results:?}");
    assert!(results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .all(|e| e.code() == Code::AlreadyExists));
    assert_eq!(app.count("timetable_slots").await, 1);
}

#[tokio::test]
async fn the_new_services_report_serving() {
    use tonic_health::pb::{
        health_check_response::ServingStatus, health_client::HealthClient, HealthCheckRequest,
    };
    let app = spawn_app().await;
    let mut health = HealthClient::new(app.channel.clone());
    for service in ["CourseService", "EnrolmentService", "AttendanceService"] {
        let status = health
            .check(HealthCheckRequest {
                service: format!("school.students.v1.{service}"),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32, "{service}");
    }
}
