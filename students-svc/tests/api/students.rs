use std::collections::HashSet;

use platform::caller::{Caller, Role};
use proto::common::v1 as common;
use proto::students::v1 as pb;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::*;

fn get(id: &str) -> pb::GetStudentRequest {
    pb::GetStudentRequest { id: id.into() }
}

#[tokio::test]
async fn create_get_update_archive_with_optimistic_concurrency() {
    let app = spawn_app().await;
    let admin = app.school("north").await;
    let s = app
        .create_student(&admin, student("A-1", " Zoë ", "Ng"))
        .await;
    assert_eq!(s.given_name, "Zoë");
    assert_eq!(s.version, 1);
    assert_eq!(s.status, pb::StudentStatus::Active as i32);

    let mut students = app.students();
    let got = students
        .get_student(with_caller(&admin, get(&s.id)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got, s);

    let update = |version, grade| pb::UpdateStudentRequest {
        id: s.id.clone(),
        version,
        grade_level: Some(grade),
        ..Default::default()
    };
    let v2 = students
        .update_student(with_caller(&admin, update(1, 6)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (v2.version, v2.grade_level, v2.given_name.as_str()),
        (2, 6, "Zoë")
    );

    let stale = students
        .update_student(with_caller(&admin, update(1, 7)))
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);

    let archived = students
        .archive_student(with_caller(
            &admin,
            pb::ArchiveStudentRequest { id: s.id.clone() },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(archived.archived_at.is_some());
    assert_eq!(archived.version, 3);
    let again = students
        .archive_student(with_caller(
            &admin,
            pb::ArchiveStudentRequest { id: s.id.clone() },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.version, 3, "archiving twice changes nothing");

    let on_archived = students
        .update_student(with_caller(&admin, update(3, 8)))
        .await
        .unwrap_err();
    assert_eq!(on_archived.code(), Code::FailedPrecondition);

    let missing = students
        .update_student(with_caller(
            &admin,
            pb::UpdateStudentRequest {
                id: Uuid::now_v7().to_string(),
                ..update(1, 3)
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
}

#[tokio::test]
async fn invalid_students_are_rejected_field_by_field_and_nothing_is_written() {
    let app = spawn_app().await;
    let admin = app.school("north").await;
    let mut bad = student("A 1; DROP TABLE students", "", &"x".repeat(101));
    bad.grade_level = 13;
    bad.section = "B'--".into();
    bad.status = 42;
    bad.date_of_birth = Some(common::Date {
        year: 2015,
        month: 2,
        day: 30,
    });
    bad.login = Some(pb::StudentLogin {
        email: "nope".into(),
        password: "short".into(),
    });
    let err = app
        .students()
        .create_student(with_caller(&admin, bad))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(
        violations(&err),
        [
            "admission_no",
            "date_of_birth",
            "family_name",
            "given_name",
            "grade_level",
            "login.email",
            "login.password",
            "section",
            "status"
        ]
    );
    assert_eq!(app.count("students").await, 0);
    assert_eq!(app.count("users").await, 1);

    app.create_student(&admin, student("A-1", "Ada", "Ng"))
        .await;
    let dup = app
        .students()
        .create_student(with_caller(&admin, student("A-1", "Other", "Person")))
        .await
        .unwrap_err();
    assert_eq!(dup.code(), Code::AlreadyExists);

    let empty_patch = app
        .students()
        .update_student(with_caller(
            &admin,
            pb::UpdateStudentRequest {
                id: Uuid::now_v7().to_string(),
                version: 1,
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(empty_patch.code(), Code::InvalidArgument);

    let bad_id = app
        .students()
        .get_student(with_caller(&admin, get("not-a-uuid")))
        .await
        .unwrap_err();
    assert_eq!(bad_id.code(), Code::InvalidArgument);
    assert_eq!(app.count("students").await, 1);
}

#[tokio::test]
async fn other_schools_records_are_not_found() {
    let app = spawn_app().await;
    let north = app.school("north").await;
    let south = app.school("south").await;
    let s = app
        .create_student(&north, student("A-1", "Ada", "Ng"))
        .await;
    let mut students = app.students();
    let err = students
        .get_student(with_caller(&south, get(&s.id)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = students
        .update_student(with_caller(
            &south,
            pb::UpdateStudentRequest {
                id: s.id.clone(),
                version: 1,
                given_name: Some("Hacked".into()),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = students
        .archive_student(with_caller(
            &south,
            pb::ArchiveStudentRequest { id: s.id.clone() },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let page = students
        .list_students(with_caller(&south, pb::ListStudentsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert!(page.students.is_empty());
    let untouched = students
        .get_student(with_caller(&north, get(&s.id)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(untouched, s);
}

#[tokio::test]
async fn roles_and_student_self_access() {
    let app = spawn_app().await;
    let admin = app.school("north").await;
    let teacher = app.teacher(&admin, "t@north.test").await;
    let mut with_login = student("A-1", "Ada", "Ng");
    with_login.login = Some(pb::StudentLogin {
        email: "ada@north.test".into(),
        password: PASSWORD.into(),
    });
    let ada = app.create_student(&admin, with_login).await;
    let ben = app
        .create_student(&admin, student("A-2", "Ben", "Ok"))
        .await;

    let login = app
        .auth()
        .login(pb::LoginRequest {
            school_slug: "north".into(),
            email: "ada@north.test".into(),
            password: PASSWORD.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(login.student_id, ada.id);
    let ada_caller = Caller {
        school_id: admin.school_id,
        user_id: login.id.parse().unwrap(),
        role: Role::Student,
        student_id: Some(ada.id.parse().unwrap()),
    };

    let mut students = app.students();
    assert!(students
        .get_student(with_caller(&ada_caller, get(&ada.id)))
        .await
        .is_ok());
    let other = students
        .get_student(with_caller(&ada_caller, get(&ben.id)))
        .await
        .unwrap_err();
    // Another student's record is not found to a student (a role rule,
    // listing, stays 403).
    assert_eq!(other.code(), Code::NotFound);
    let list = students
        .list_students(with_caller(&ada_caller, pb::ListStudentsRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(list.code(), Code::PermissionDenied);

    assert!(students
        .get_student(with_caller(&teacher, get(&ben.id)))
        .await
        .is_ok());
    let write = students
        .create_student(with_caller(&teacher, student("A-3", "Cy", "Li")))
        .await
        .unwrap_err();
    assert_eq!(write.code(), Code::PermissionDenied);
    assert_eq!(app.count("students").await, 2);

    // Archiving the record closes the portal login.
    students
        .archive_student(with_caller(
            &admin,
            pb::ArchiveStudentRequest { id: ada.id.clone() },
        ))
        .await
        .unwrap();
    let closed = app
        .auth()
        .login(pb::LoginRequest {
            school_slug: "north".into(),
            email: "ada@north.test".into(),
            password: PASSWORD.into(),
        })
        .await
        .unwrap_err();
    assert_eq!(closed.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn search_folds_case_beyond_ascii() {
    let app = spawn_app().await;
    let admin = app.school("north").await;
    app.create_student(&admin, student("A-1", "Émile", "Ørsted"))
        .await;
    app.create_student(&admin, student("A-2", "Emma", "Orr"))
        .await;
    for (q, expected) in [("émi", "Émile"), ("ØRS", "Émile"), ("em", "Emma")] {
        let page = app
            .students()
            .list_students(with_caller(
                &admin,
                pb::ListStudentsRequest {
                    query: q.into(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        let names: Vec<_> = page
            .students
            .iter()
            .map(|s| s.given_name.as_str())
            .collect();
        assert_eq!(names, [expected], "q={q}");
    }
}

#[tokio::test]
async fn list_pages_filters_and_literal_search() {
    let app = spawn_app().await;
    let admin = app.school("north").await;
    let families = ["Ng", "Okafor", "Patel", "Silva", "Kim"];
    for i in 0..27 {
        let mut s = student(
            &format!("A-{i:03}"),
            &format!("Given{i:02}"),
            families[i % families.len()],
        );
        s.grade_level = (i % 3) as i32;
        s.section = if i % 2 == 0 { "A" } else { "B" }.into();
        if i == 22 {
            s.status = pb::StudentStatus::Withdrawn.into();
        }
        app.create_student(&admin, s).await;
    }
    let archived = app
        .create_student(&admin, student("Z-1", "Gone", "Aaron"))
        .await;
    app.students()
        .archive_student(with_caller(
            &admin,
            pb::ArchiveStudentRequest { id: archived.id },
        ))
        .await
        .unwrap();

    let list = |req: pb::ListStudentsRequest| {
        let mut c = app.students();
        async move {
            c.list_students(with_caller(&admin, req))
                .await
                .map(|r| r.into_inner())
        }
    };
    let page = |limit, cursor: &str| pb::ListStudentsRequest {
        page: Some(common::PageRequest {
            limit,
            cursor: cursor.into(),
        }),
        ..Default::default()
    };

    let mut seen = Vec::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let p = list(page(10, &cursor)).await.unwrap();
        pages += 1;
        seen.extend(
            p.students
                .iter()
                .map(|s| (s.family_name.clone(), s.given_name.clone(), s.id.clone())),
        );
        cursor = p.page.unwrap().next_cursor;
        if cursor.is_empty() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 27, "archived students are not listed");
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "pages follow (family, given, id) order");
    assert_eq!(seen.iter().map(|s| &s.2).collect::<HashSet<_>>().len(), 27);

    let default = list(page(0, "")).await.unwrap();
    assert_eq!(default.students.len(), 25, "limit 0 means the default page");
    assert!(!default.page.unwrap().next_cursor.is_empty());

    let grade1_b = list(pb::ListStudentsRequest {
        grade_level: Some(1),
        section: Some("B".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(!grade1_b.students.is_empty());
    assert!(grade1_b
        .students
        .iter()
        .all(|s| s.grade_level == 1 && s.section == "B"));

    let withdrawn = list(pb::ListStudentsRequest {
        status: pb::StudentStatus::Withdrawn.into(),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(withdrawn.students.len(), 1);

    let by_prefix = list(pb::ListStudentsRequest {
        query: "oka".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(!by_prefix.students.is_empty());
    assert!(by_prefix.students.iter().all(|s| s.family_name == "Okafor"));
    let by_admission = list(pb::ListStudentsRequest {
        query: "a-00".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(by_admission.students.len(), 10);

    for meta in ["%", "_", "' OR '1'='1", "\\"] {
        let r = list(pb::ListStudentsRequest {
            query: meta.into(),
            ..Default::default()
        })
        .await
        .unwrap();
        assert!(r.students.is_empty(), "{meta:?} must match literally");
    }

    for (req, field) in [
        (page(101, ""), "limit"),
        (page(10, "garbage!"), "cursor"),
        (
            pb::ListStudentsRequest {
                grade_level: Some(-1),
                ..Default::default()
            },
            "grade_level",
        ),
    ] {
        let err = list(req).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        assert_eq!(violations(&err), [field]);
    }
}
