use platform::caller::Caller;
use platform::testing::AssertCode;
use proto::common::v1 as common;
use proto::events::v1::event::Payload;
use proto::students::v1 as pb;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::*;

fn profile(user: &Caller, employee_no: &str) -> pb::SaveStaffProfileRequest {
    pb::SaveStaffProfileRequest {
        user_id: user.user_id.to_string(),
        phone: "+12025550123".into(),
        subjects: vec!["Maths".into(), " Physics ".into()],
        employee_no: employee_no.into(),
        hired_on: Some(common::Date {
            year: 2020,
            month: 9,
            day: 1,
        }),
    }
}

fn get(user: &Caller) -> pb::GetStaffMemberRequest {
    pb::GetStaffMemberRequest {
        user_id: user.user_id.to_string(),
    }
}

#[tokio::test]
async fn save_read_and_replace_a_teacher_profile_with_events() {
    let app = spawn_app().await;
    let admin = app.school("north").await;
    let tess = app.teacher(&admin, "tess@north.test").await;
    let tom = app.teacher(&admin, "tom@north.test").await;
    let mut staff = app.staff();

    let saved = staff
        .save_staff_profile(with_caller(&admin, profile(&tess, "T-001")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(saved.user_id, tess.user_id.to_string());
    assert_eq!(saved.email, "tess@north.test");
    let p = saved.profile.clone().unwrap();
    assert_eq!(p.subjects, ["Maths", "Physics"]);
    assert_eq!(
        (p.phone.as_str(), p.employee_no.as_str(), p.version),
        ("+12025550123", "T-001", 1)
    );

    // The teacher reads their own; admins read any; another teacher may not.
    let own = staff
        .get_staff_member(with_caller(&tess, get(&tess)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own, saved);
    let by_admin = staff
        .get_staff_member(with_caller(&admin, get(&tess)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_admin, saved);
    staff
        .get_staff_member(with_caller(&tom, get(&tess)))
        .await
        .assert_code(Code::PermissionDenied);
    let no_profile = staff
        .get_staff_member(with_caller(&tom, get(&tom)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(no_profile.profile, None);

    let mut replaced = profile(&tess, "T-009");
    replaced.phone = String::new();
    replaced.subjects = vec!["Art".into()];
    let v2 = staff
        .save_staff_profile(with_caller(&admin, replaced))
        .await
        .unwrap()
        .into_inner()
        .profile
        .unwrap();
    assert_eq!(
        (v2.version, v2.phone.as_str(), v2.employee_no.as_str()),
        (2, "", "T-009")
    );
    assert_eq!(v2.subjects, ["Art"]);
    assert_eq!(app.count("staff_profiles").await, 1);

    let events = app.events_of(&["staff_profile"]).await;
    assert_eq!(events.len(), 2);
    for (e, version) in events.iter().zip([1, 2]) {
        assert_eq!(e.event_type, "staff_profile.saved");
        assert_eq!(
            (e.aggregate_type.as_str(), e.aggregate_id.as_str()),
            ("staff_profile", tess.user_id.to_string().as_str())
        );
        assert_eq!(e.actor_user_id, admin.user_id.to_string());
        let Some(Payload::StaffProfileSaved(p)) = &e.payload else {
            panic!("{e:?}")
        };
        assert_eq!((p.version, p.hired_on.as_str()), (version, "2020-09-01"));
    }

    // The list: every teacher, profile or not, in name order, paged.
    let list = |cursor: String| pb::ListStaffRequest {
        page: Some(common::PageRequest { limit: 1, cursor }),
    };
    let first = staff
        .list_staff(with_caller(&admin, list(String::new())))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.staff.len(), 1);
    let next = first.page.unwrap().next_cursor;
    assert!(!next.is_empty());
    let second = staff
        .list_staff(with_caller(&admin, list(next)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.staff.len(), 1);
    assert_eq!(second.page.unwrap().next_cursor, "");
    let mut ids = vec![
        first.staff[0].user_id.clone(),
        second.staff[0].user_id.clone(),
    ];
    ids.sort();
    let mut expected = vec![tess.user_id.to_string(), tom.user_id.to_string()];
    expected.sort();
    assert_eq!(ids, expected, "admins are not staff profiles");
    staff
        .list_staff(with_caller(&tess, list(String::new())))
        .await
        .assert_code(Code::PermissionDenied);
}

#[tokio::test]
async fn bad_profiles_wrong_users_and_duplicates_write_nothing() {
    let app = spawn_app().await;
    let admin = app.school("north").await;
    let tess = app.teacher(&admin, "tess@north.test").await;
    let tom = app.teacher(&admin, "tom@north.test").await;
    let mut staff = app.staff();

    let bad = pb::SaveStaffProfileRequest {
        user_id: "nope".into(),
        phone: "+0123".into(),
        subjects: vec!["Maths".into(), "".into(), "maths".into()],
        employee_no: "T 1".into(),
        hired_on: Some(common::Date {
            year: 2021,
            month: 2,
            day: 30,
        }),
    };
    let err = staff
        .save_staff_profile(with_caller(&admin, bad))
        .await
        .assert_code(Code::InvalidArgument);
    assert_eq!(
        violations(&err),
        [
            "employee_no",
            "hired_on",
            "phone",
            "subjects[1]",
            "subjects[2]",
            "user_id"
        ]
    );
    let mut many = profile(&tess, "T-1");
    many.subjects = (0..21).map(|i| format!("S{i}")).collect();
    many.hired_on = None;
    let err = staff
        .save_staff_profile(with_caller(&admin, many))
        .await
        .unwrap_err();
    assert_eq!(violations(&err), ["hired_on", "subjects"]);

    // Not a teacher: precise answers.
    staff
        .save_staff_profile(with_caller(&admin, profile(&admin, "A-1")))
        .await
        .assert_code(Code::FailedPrecondition);
    let mut ghost = profile(&tess, "G-1");
    ghost.user_id = Uuid::now_v7().to_string();
    staff
        .save_staff_profile(with_caller(&admin, ghost))
        .await
        .assert_code(Code::NotFound);
    let south = app.school("south").await;
    staff
        .save_staff_profile(with_caller(&south, profile(&tess, "S-1")))
        .await
        .assert_code(Code::NotFound);
    staff
        .get_staff_member(with_caller(&south, get(&tess)))
        .await
        .assert_code(Code::NotFound);
    staff
        .get_staff_member(with_caller(&admin, get(&admin)))
        .await
        .assert_code(Code::NotFound);
    staff
        .save_staff_profile(with_caller(&tess, profile(&tess, "T-1")))
        .await
        .assert_code(Code::PermissionDenied);

    // Employee numbers are unique per school (other schools may reuse them).
    staff
        .save_staff_profile(with_caller(&admin, profile(&tess, "T-1")))
        .await
        .unwrap();
    staff
        .save_staff_profile(with_caller(&admin, profile(&tom, "T-1")))
        .await
        .assert_code(Code::AlreadyExists);
    let south_teacher = app.teacher(&south, "sue@south.test").await;
    staff
        .save_staff_profile(with_caller(&south, profile(&south_teacher, "T-1")))
        .await
        .unwrap();

    assert_eq!(app.count("staff_profiles").await, 2);
    assert_eq!(app.events_of(&["staff_profile"]).await.len(), 2);
}
