//! The real producer: students-svc records events in its outbox and its
//! relay publishes them; notify-svc consumes them and alerts the guardians
//! of an absent student, with the channels they chose in students-svc.

use platform::{
    caller::{Caller, Role},
    events::{stream_key, STREAM_REGISTRY},
    testing::{eventually, redis::cluster_url},
};
use proto::common::v1 as common;
use proto::students::v1 as pb;
use students_svc::startup::Application as Students;

use uuid::Uuid;

use crate::helpers::{count, test_config, Bus, TestApp, WAIT};

fn with_caller<T>(caller: &Caller, msg: T) -> tonic::Request<T> {
    let mut req = tonic::Request::new(msg);
    caller.write(req.metadata_mut());
    req
}

fn guardian(given: &str, phone: &str, sms: bool, push: bool) -> pb::CreateGuardianRequest {
    pb::CreateGuardianRequest {
        given_name: given.into(),
        family_name: "Okafor".into(),
        relationship: pb::GuardianRelationship::Mother.into(),
        phone: phone.into(),
        email: format!("{}@home.test", given.to_lowercase()),
        notifications: Some(pb::NotificationPreferences {
            sms,
            email: true,
            push,
        }),
        login: None,
        preferred_language: String::new(),
    }
}

#[tokio::test]
async fn a_real_absence_marked_in_students_svc_alerts_each_guardian() {
    let url = cluster_url();
    let db = platform::testing::fresh_database().await.unwrap();
    let mut config = students_svc::config::Config::for_database(&db.students_url);
    config.relay_enabled = true;
    config.redis_url = url.clone();
    config.relay_poll_ms = 5;
    let students = Students::build(&config).await.unwrap();
    let channel = crate::helpers::signed(students.local_addr());
    let (_stop_students, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(students.run_until(async {
        let _ = stopped.await;
    }));

    let admin = pb::school_service_client::SchoolServiceClient::new(channel.clone())
        .create_school({
            let mut req = tonic::Request::new(pb::CreateSchoolRequest {
                name: "E2E".into(),
                slug: format!("e2e-{}", &Uuid::new_v4().simple().to_string()[..8]),
                admin_email: "admin@e2e.test".into(),
                admin_password: "correct horse battery".into(),
                admin_full_name: "Ada Admin".into(),
                ..Default::default()
            });
            platform::trust::as_operator(&mut req);
            req
        })
        .await
        .unwrap()
        .into_inner()
        .admin
        .unwrap();
    let admin = Caller {
        school_id: admin.school_id.parse().unwrap(),
        user_id: admin.id.parse().unwrap(),
        role: Role::Admin,
        student_id: None,
    };
    let school = admin.school_id;

    // notify-svc on the same database (its own schema), consuming a
    // registry of this test's own that names this school's real stream.
    let bus = Bus::new(url).await;
    let _: i64 =
        fred::prelude::SetsInterface::sadd(&bus.client, bus.registry.as_str(), stream_key(school))
            .await
            .unwrap();
    let notify = TestApp::spawn(db.clone(), &test_config(&db, &bus)).await;

    let students_api = pb::student_service_client::StudentServiceClient::new(channel.clone());
    let create = |no: &str, given: &str| {
        let req = pb::CreateStudentRequest {
            admission_no: no.into(),
            given_name: given.into(),
            family_name: "Okafor".into(),
            date_of_birth: Some(common::Date {
                year: 2014,
                month: 5,
                day: 17,
            }),
            grade_level: 5,
            section: "A".into(),
            status: 0,
            login: None,
        };
        let mut api = students_api.clone();
        async move {
            api.create_student(with_caller(&admin, req))
                .await
                .unwrap()
                .into_inner()
        }
    };
    let (ada, ben) = (create("E-1", "Ada").await, create("E-2", "Ben").await);

    let mut guardians = pb::guardian_service_client::GuardianServiceClient::new(channel.clone());
    let mut ids = Vec::new();
    for req in [
        guardian("Ngozi", "+447911123456", true, false),
        guardian("Emeka", "", false, true),
    ] {
        let g = guardians
            .create_guardian(with_caller(&admin, req))
            .await
            .unwrap()
            .into_inner();
        guardians
            .link_student(with_caller(
                &admin,
                pb::LinkStudentRequest {
                    guardian_id: g.id.clone(),
                    student_id: ada.id.clone(),
                    relationship: 0,
                    is_primary: ids.is_empty(),
                },
            ))
            .await
            .unwrap();
        ids.push(g.id.parse::<Uuid>().unwrap());
    }

    let teacher = pb::user_service_client::UserServiceClient::new(channel.clone())
        .create_user(with_caller(
            &admin,
            pb::CreateUserRequest {
                email: "teacher@e2e.test".into(),
                password: "correct horse battery".into(),
                full_name: "Tess Teacher".into(),
                role: common::Role::Teacher.into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let course = pb::course_service_client::CourseServiceClient::new(channel.clone())
        .create_course(with_caller(
            &admin,
            pb::CreateCourseRequest {
                code: "MATH-5".into(),
                name: "Maths".into(),
                term: "2026-T1".into(),
                teacher_id: teacher.id.clone(),
                capacity: 30,
            },
        ))
        .await;
    let course = match course {
        Ok(c) => c.into_inner(),
        Err(status) => panic!("create course: {status:?}"),
    };
    let mut enrolments = pb::enrolment_service_client::EnrolmentServiceClient::new(channel.clone());
    for s in [&ada, &ben] {
        enrolments
            .enrol(with_caller(
                &admin,
                pb::EnrolRequest {
                    course_id: course.id.clone(),
                    student_id: s.id.clone(),
                },
            ))
            .await
            .unwrap();
    }
    let entry = |s: &pb::Student, status: pb::AttendanceStatus| pb::AttendanceEntry {
        student_id: s.id.clone(),
        status: status.into(),
        note: String::new(),
    };
    pb::attendance_service_client::AttendanceServiceClient::new(channel.clone())
        .mark_attendance(with_caller(
            &admin,
            pb::MarkAttendanceRequest {
                course_id: course.id.clone(),
                date: Some(common::Date {
                    year: 2026,
                    month: 11,
                    day: 23,
                }),
                period: 1,
                entries: vec![
                    entry(&ada, pb::AttendanceStatus::Absent),
                    entry(&ben, pb::AttendanceStatus::Present),
                ],
            },
        ))
        .await
        .unwrap();

    let sql = format!(
        "SELECT count(*) FROM notify.notifications WHERE school_id = '{school}' AND kind = 'absence'"
    );
    eventually("absence alerts", WAIT, || async {
        count(&db, &sql).await == 2
    })
    .await;
    let c = platform::testing::connect(&db.admin_url).await.unwrap();
    let rows = c
        .query(
            "SELECT guardian_id, channels, title, student_id FROM notify.notifications ORDER BY title, guardian_id",
            &[],
        )
        .await
        .unwrap();
    let mut got: Vec<(Uuid, Vec<String>)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    got.sort();
    let mut want = vec![
        (ids[0], vec!["sms".to_owned(), "email".to_owned()]),
        // Wants push but has no portal login: email only.
        (ids[1], vec!["email".to_owned()]),
    ];
    want.sort();
    assert_eq!(got, want);
    for r in &rows {
        assert_eq!(r.get::<_, String>(2), "Absence: Ada Okafor");
        assert_eq!(r.get::<_, Uuid>(3).to_string(), ada.id);
    }
    // The relay registered the stream in the real registry too.
    let member: bool =
        fred::prelude::SetsInterface::sismember(&bus.client, STREAM_REGISTRY, stream_key(school))
            .await
            .unwrap();
    assert!(member);
    notify.stop().await;
}
