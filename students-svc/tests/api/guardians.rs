use platform::caller::{Caller, Role};
use proto::events::v1::{event::Payload, Event};
use proto::students::v1 as pb;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::*;

fn prefs(sms: bool, email: bool, push: bool) -> Option<pb::NotificationPreferences> {
    Some(pb::NotificationPreferences { sms, email, push })
}

fn guardian(given: &str, family: &str) -> pb::CreateGuardianRequest {
    pb::CreateGuardianRequest {
        preferred_language: String::new(),
        given_name: given.into(),
        family_name: family.into(),
        relationship: pb::GuardianRelationship::Mother.into(),
        phone: "+447911123456".into(),
        email: format!("{}@home.test", given.trim().to_lowercase()),
        notifications: prefs(true, true, false),
        login: None,
    }
}

async fn create(app: &TestApp, admin: &Caller, req: pb::CreateGuardianRequest) -> pb::Guardian {
    app.guardians()
        .create_guardian(with_caller(admin, req))
        .await
        .expect("create guardian")
        .into_inner()
}

fn link(g: &pb::Guardian, s: &pb::Student, primary: bool) -> pb::LinkStudentRequest {
    pb::LinkStudentRequest {
        guardian_id: g.id.clone(),
        student_id: s.id.clone(),
        relationship: 0,
        is_primary: primary,
    }
}

fn unlink(g: &pb::Guardian, s: &pb::Student) -> pb::UnlinkStudentRequest {
    pb::UnlinkStudentRequest {
        guardian_id: g.id.clone(),
        student_id: s.id.clone(),
    }
}

fn get_student(id: &str) -> pb::GetStudentRequest {
    pb::GetStudentRequest { id: id.into() }
}

/// The one event of an aggregate, checked against its envelope.
fn only_event<'a>(events: &'a [Event], admin: &Caller, kind: &str, id: &str) -> &'a Event {
    let mine: Vec<&Event> = events.iter().filter(|e| e.aggregate_id == id).collect();
    assert_eq!(mine.len(), 1, "{events:?}");
    let e = mine[0];
    assert_eq!(e.aggregate_type, kind);
    assert_eq!(e.school_id, admin.school_id.to_string());
    assert_eq!(e.actor_user_id, admin.user_id.to_string());
    e
}

#[tokio::test]
async fn create_get_update_with_versions_and_events() {
    let app = spawn_app().await;
    let admin = app.school("north").await;
    let g = create(&app, &admin, guardian(" Mary ", "Ng")).await;
    assert_eq!(
        (g.given_name.as_str(), g.phone.as_str(), g.email.as_str()),
        ("Mary", "+447911123456", "mary@home.test")
    );
    assert_eq!(g.relationship, pb::GuardianRelationship::Mother as i32);
    assert_eq!(g.notifications, prefs(true, true, false));
    assert_eq!((g.version, g.user_id.as_str()), (1, ""));

    let events = app.events_of(&["guardian"]).await;
    assert_eq!(events.len(), 1);
    let e = only_event(&events, &admin, "guardian", &g.id);
    assert_eq!(e.event_type, "guardian.created");
    let Some(Payload::GuardianCreated(c)) = &e.payload else {
        panic!("{e:?}")
    };
    assert_eq!(
        (c.given_name.as_str(), c.relationship.as_str()),
        ("Mary", "mother")
    );
    let contact = c.contact.clone().unwrap();
    assert_eq!(
        (contact.phone.as_str(), contact.email.as_str()),
        ("+447911123456", "mary@home.test")
    );
    assert!(contact.notify_sms && contact.notify_email && !contact.notify_push);

    let mut guardians = app.guardians();
    let got = guardians
        .get_guardian(with_caller(
            &admin,
            pb::GetGuardianRequest { id: g.id.clone() },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got, g);

    let update = |version, phone: Option<&str>, notifications| pb::UpdateGuardianRequest {
        id: g.id.clone(),
        version,
        phone: phone.map(Into::into),
        notifications,
        ..Default::default()
    };
    // Push on, sms off, then the phone can go.
    let v2 = guardians
        .update_guardian(with_caller(
            &admin,
            update(1, Some(""), prefs(false, true, true)),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((v2.version, v2.phone.as_str()), (2, ""));
    assert_eq!(v2.notifications, prefs(false, true, true));
    assert_eq!(v2.given_name, "Mary", "unset fields keep their value");

    let stale = guardians
        .update_guardian(with_caller(&admin, update(1, Some("+12025550123"), None)))
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);

    // The stored row has no phone: turning sms on alone is refused by the
    // database check, reported on the field.
    let no_phone = guardians
        .update_guardian(with_caller(
            &admin,
            update(2, None, prefs(true, true, true)),
        ))
        .await
        .unwrap_err();
    assert_eq!(no_phone.code(), Code::InvalidArgument);
    assert_eq!(violations(&no_phone), ["notifications.sms"]);

    let missing = guardians
        .update_guardian(with_caller(
            &admin,
            pb::UpdateGuardianRequest {
                id: Uuid::now_v7().to_string(),
                version: 1,
                given_name: Some("X".into()),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);

    let events = app.events_of(&["guardian"]).await;
    assert_eq!(events.len(), 2, "refused updates record nothing");
    assert_eq!(events[1].event_type, "guardian.updated");
    let Some(Payload::GuardianUpdated(u)) = &events[1].payload else {
        panic!("{:?}", events[1])
    };
    assert_eq!(u.version, 2);
    let contact = u.contact.clone().unwrap();
    assert_eq!(contact.phone, "");
    assert!(!contact.notify_sms && contact.notify_email && contact.notify_push);

    // Another school sees nothing.
    let south = app.school("south").await;
    let hidden = guardians
        .get_guardian(with_caller(
            &south,
            pb::GetGuardianRequest { id: g.id.clone() },
        ))
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    let hidden = guardians
        .update_guardian(with_caller(&south, update(2, Some("+12025550123"), None)))
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
}

/// The preferred language: none by default (the school's), set on create,
/// carried by the events' contact (created, updated, linked), changed and
/// cleared by an update; a bad one is refused naming the field.
#[tokio::test]
async fn preferred_language_is_kept_and_carried_by_the_events() {
    let app = spawn_app().await;
    let admin = app.school("north").await;
    let plain = create(&app, &admin, guardian("Ann", "Ng")).await;
    assert_eq!(plain.preferred_language, "");
    let mut req = guardian("Mary", "Ng");
    req.preferred_language = "fr".into();
    let g = create(&app, &admin, req).await;
    assert_eq!(g.preferred_language, "fr");
    let student = app
        .create_student(&admin, student("S-1", "Ada", "Ng"))
        .await;
    app.guardians()
        .link_student(with_caller(
            &admin,
            pb::LinkStudentRequest {
                guardian_id: g.id.clone(),
                student_id: student.id.clone(),
                relationship: 0,
                is_primary: false,
            },
        ))
        .await
        .unwrap();
    let update = |version, lang: &str| pb::UpdateGuardianRequest {
        id: g.id.clone(),
        version,
        preferred_language: Some(lang.into()),
        ..Default::default()
    };
    let mut guardians = app.guardians();
    let bad = guardians
        .update_guardian(with_caller(&admin, update(1, "fra")))
        .await
        .unwrap_err();
    assert_eq!(violations(&bad), ["preferred_language"]);
    let v2 = guardians
        .update_guardian(with_caller(&admin, update(1, "de")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((v2.version, v2.preferred_language.as_str()), (2, "de"));
    let v3 = guardians
        .update_guardian(with_caller(&admin, update(2, "")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(v3.preferred_language, "", "cleared: the school's language");

    let languages: Vec<(String, String)> = app
        .events_of(&["guardian"])
        .await
        .into_iter()
        .filter(|e| e.aggregate_id == g.id)
        .map(|e| {
            let contact = match e.payload {
                Some(Payload::GuardianCreated(c) | Payload::GuardianUpdated(c)) => c.contact,
                Some(Payload::GuardianLinked(l)) => l.contact,
                other => panic!("{other:?}"),
            };
            (e.event_type, contact.unwrap().language)
        })
        .collect();
    let expected = [
        ("guardian.created", "fr"),
        ("guardian.linked", "fr"),
        ("guardian.updated", "de"),
        ("guardian.updated", ""),
    ];
    assert_eq!(
        languages,
        expected.map(|(t, l)| (t.to_owned(), l.to_owned()))
    );
}

#[tokio::test]
async fn bad_input_names_every_field_and_writes_nothing() {
    let app = spawn_app().await;
    let admin = app.school("north").await;
    let mut guardians = app.guardians();
    let bad = pb::CreateGuardianRequest {
        preferred_language: "EN".into(),
        given_name: " ".into(),
        family_name: "Ng".into(),
        relationship: 42,
        phone: "07911 123456".into(),
        email: "not-an-email".into(),
        notifications: prefs(false, false, true),
        login: Some(pb::GuardianLogin {
            email: "x".into(),
            password: "short".into(),
        }),
    };
    let err = guardians
        .create_guardian(with_caller(&admin, bad))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(
        violations(&err),
        [
            "email",
            "given_name",
            "login.email",
            "login.password",
            "phone",
            "preferred_language",
            "relationship"
        ]
    );

    for phone in [
        "+0447911123",
        "+1234567",
        "+1234567890123456",
        "447911123456",
    ] {
        let mut r = guardian("Mary", "Ng");
        r.phone = phone.into();
        let err = guardians
            .create_guardian(with_caller(&admin, r))
            .await
            .unwrap_err();
        assert_eq!(violations(&err), ["phone"], "{phone}");
    }

    // Channels need their contact; the relationship is required.
    let mut r = guardian("Mary", "Ng");
    r.phone = String::new();
    r.email = String::new();
    r.relationship = 0;
    let err = guardians
        .create_guardian(with_caller(&admin, r))
        .await
        .unwrap_err();
    assert_eq!(
        violations(&err),
        ["notifications.email", "notifications.sms", "relationship"]
    );

    let empty = guardians
        .update_guardian(with_caller(
            &admin,
            pb::UpdateGuardianRequest {
                id: "nope".into(),
                version: 0,
                relationship: 9,
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violations(&empty), ["id", "relationship", "version"]);

    // A taken login e-mail rolls the guardian back too.
    let mut taken = guardian("Mary", "Ng");
    taken.login = Some(pb::GuardianLogin {
        email: "admin@north.test".into(),
        password: PASSWORD.into(),
    });
    let dup = guardians
        .create_guardian(with_caller(&admin, taken))
        .await
        .unwrap_err();
    assert_eq!(dup.code(), Code::AlreadyExists);

    let teacher = app.teacher(&admin, "t@north.test").await;
    let denied = guardians
        .create_guardian(with_caller(&teacher, guardian("Mary", "Ng")))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);

    assert_eq!(app.count("guardians").await, 0);
    assert_eq!(app.count("users").await, 2);
    assert!(app.events_of(&["guardian"]).await.is_empty());
}

#[tokio::test]
async fn links_are_unique_per_pair_with_one_primary_and_stay_in_the_school() {
    let app = spawn_app().await;
    let admin = app.school("north").await;
    let ada = app
        .create_student(&admin, student("A-1", "Ada", "Ng"))
        .await;
    let ben = app
        .create_student(&admin, student("A-2", "Ben", "Ng"))
        .await;
    let mum = create(&app, &admin, guardian("Mary", "Ng")).await;
    let mut dad_req = guardian("Tom", "Ng");
    dad_req.relationship = pb::GuardianRelationship::Father.into();
    let dad = create(&app, &admin, dad_req).await;
    let mut guardians = app.guardians();

    let l = guardians
        .link_student(with_caller(&admin, link(&mum, &ada, true)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (l.relationship, l.is_primary),
        (pb::GuardianRelationship::Mother as i32, true),
        "the guardian's relationship by default"
    );
    let mut as_grandparent = link(&mum, &ben, false);
    as_grandparent.relationship = pb::GuardianRelationship::Grandparent.into();
    guardians
        .link_student(with_caller(&admin, as_grandparent))
        .await
        .unwrap();

    let again = guardians
        .link_student(with_caller(&admin, link(&mum, &ada, false)))
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::AlreadyExists);
    let second_primary = guardians
        .link_student(with_caller(&admin, link(&dad, &ada, true)))
        .await
        .unwrap_err();
    assert_eq!(second_primary.code(), Code::AlreadyExists);
    guardians
        .link_student(with_caller(&admin, link(&dad, &ada, false)))
        .await
        .unwrap();

    // Another school's ids are simply not found, in either position.
    let south = app.school("south").await;
    let theirs = app
        .create_student(&south, student("S-1", "Sam", "Li"))
        .await;
    let their_guardian = create(&app, &south, guardian("Sue", "Li")).await;
    let cross = guardians
        .link_student(with_caller(&admin, link(&mum, &theirs, false)))
        .await
        .unwrap_err();
    assert_eq!(cross.code(), Code::NotFound);
    let cross = guardians
        .link_student(with_caller(&admin, link(&their_guardian, &ada, false)))
        .await
        .unwrap_err();
    assert_eq!(cross.code(), Code::NotFound);
    let cross = guardians
        .unlink_student(with_caller(&south, unlink(&mum, &ada)))
        .await
        .unwrap_err();
    assert_eq!(cross.code(), Code::NotFound);
    let bad = guardians
        .link_student(with_caller(
            &admin,
            pb::LinkStudentRequest {
                guardian_id: "x".into(),
                student_id: ada.id.clone(),
                relationship: 77,
                is_primary: false,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violations(&bad), ["guardian_id", "relationship"]);
    assert_eq!(app.count("guardian_students").await, 3);

    let got = guardians
        .get_guardian(with_caller(
            &admin,
            pb::GetGuardianRequest { id: mum.id.clone() },
        ))
        .await
        .unwrap()
        .into_inner();
    let mut linked: Vec<&str> = got.students.iter().map(|l| l.student_id.as_str()).collect();
    linked.sort();
    let mut expected = vec![ada.id.as_str(), ben.id.as_str()];
    expected.sort();
    assert_eq!(linked, expected);

    // Ada's guardians: both parents; Ben's: only mum.
    let of = |s: &pb::Student| pb::ListGuardiansRequest {
        page: None,
        student_id: s.id.clone(),
    };
    let ada_guardians = guardians
        .list_guardians(with_caller(&admin, of(&ada)))
        .await
        .unwrap()
        .into_inner()
        .guardians;
    let names: Vec<&str> = ada_guardians
        .iter()
        .map(|g| g.given_name.as_str())
        .collect();
    assert_eq!(names, ["Mary", "Tom"]);
    let ben_guardians = guardians
        .list_guardians(with_caller(&admin, of(&ben)))
        .await
        .unwrap()
        .into_inner()
        .guardians;
    assert_eq!(ben_guardians.len(), 1);
    assert_eq!(ben_guardians[0].students.len(), 2, "links are all listed");

    let before = app.events_of(&["guardian"]).await.len();
    guardians
        .unlink_student(with_caller(&admin, unlink(&mum, &ben)))
        .await
        .unwrap();
    let gone = guardians
        .unlink_student(with_caller(&admin, unlink(&mum, &ben)))
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    assert_eq!(app.count("guardian_students").await, 2);

    // Events: 3 created in north (+1 south), 3 linked, 1 unlinked.
    let events = app.events_of(&["guardian"]).await;
    assert_eq!(events.len(), before + 1);
    let types: Vec<&str> = events
        .iter()
        .filter(|e| e.school_id == admin.school_id.to_string())
        .map(|e| e.event_type.as_str())
        .collect();
    assert_eq!(
        types,
        [
            "guardian.created",
            "guardian.created",
            "guardian.linked",
            "guardian.linked",
            "guardian.linked",
            "guardian.unlinked"
        ]
    );
    let first_link = events
        .iter()
        .find(|e| e.event_type == "guardian.linked")
        .unwrap();
    assert_eq!(first_link.aggregate_id, mum.id);
    let Some(Payload::GuardianLinked(p)) = &first_link.payload else {
        panic!("{first_link:?}")
    };
    assert_eq!(
        (p.student_id.as_str(), p.relationship.as_str(), p.is_primary),
        (ada.id.as_str(), "mother", true)
    );
    assert_eq!(p.contact.as_ref().unwrap().phone, "+447911123456");
    let last = events.last().unwrap();
    let Some(Payload::GuardianUnlinked(p)) = &last.payload else {
        panic!("{last:?}")
    };
    assert_eq!(
        (
            p.guardian_id.as_str(),
            p.student_id.as_str(),
            p.relationship.as_str()
        ),
        (mum.id.as_str(), ben.id.as_str(), "grandparent")
    );
}

#[tokio::test]
async fn list_pages_in_name_order() {
    let app = spawn_app().await;
    let admin = app.school("north").await;
    for family in ["Eze", "Abe", "Diaz", "Cole", "Bao"] {
        create(&app, &admin, guardian("Kim", family)).await;
    }
    let mut guardians = app.guardians();
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = guardians
            .list_guardians(with_caller(
                &admin,
                pb::ListGuardiansRequest {
                    page: Some(proto::common::v1::PageRequest {
                        limit: 2,
                        cursor: cursor.clone(),
                    }),
                    student_id: String::new(),
                },
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(r.guardians.len() <= 2);
        seen.extend(r.guardians.into_iter().map(|g| g.family_name));
        cursor = r.page.unwrap().next_cursor;
        if cursor.is_empty() {
            break;
        }
    }
    assert_eq!(seen, ["Abe", "Bao", "Cole", "Diaz", "Eze"]);
    let bad = guardians
        .list_guardians(with_caller(
            &admin,
            pb::ListGuardiansRequest {
                page: Some(proto::common::v1::PageRequest {
                    limit: 101,
                    cursor: "garbage!".into(),
                }),
                student_id: "x".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violations(&bad), ["cursor", "limit", "student_id"]);
    let teacher = app.teacher(&admin, "t@north.test").await;
    assert!(guardians
        .list_guardians(with_caller(&teacher, pb::ListGuardiansRequest::default()))
        .await
        .is_ok());
}

/// A guardian login with two children sees both and nobody else's.
#[tokio::test]
async fn a_guardian_login_reads_only_their_children() {
    let app = spawn_app().await;
    let admin = app.school("north").await;
    let ada = app
        .create_student(&admin, student("A-1", "Ada", "Ng"))
        .await;
    let ben = app
        .create_student(&admin, student("A-2", "Ben", "Ng"))
        .await;
    let cy = app.create_student(&admin, student("A-3", "Cy", "Li")).await;
    let mut with_login = guardian("Mary", "Ng");
    with_login.login = Some(pb::GuardianLogin {
        email: "mary@north.test".into(),
        password: PASSWORD.into(),
    });
    let mum = create(&app, &admin, with_login).await;
    assert!(!mum.user_id.is_empty());
    let mut other_login = guardian("Lee", "Li");
    other_login.login = Some(pb::GuardianLogin {
        email: "lee@north.test".into(),
        password: PASSWORD.into(),
    });
    let lee = create(&app, &admin, other_login).await;
    let mut guardians = app.guardians();
    for (g, s) in [(&mum, &ada), (&mum, &ben), (&lee, &cy)] {
        guardians
            .link_student(with_caller(&admin, link(g, s, false)))
            .await
            .unwrap();
    }
    let created = app.events_of(&["guardian"]).await;
    let Some(Payload::GuardianCreated(c)) = &created[0].payload else {
        panic!("{:?}", created[0])
    };
    assert_eq!(c.contact.as_ref().unwrap().user_id, mum.user_id);

    let login = app
        .auth()
        .login(pb::LoginRequest {
            school_slug: "north".into(),
            email: "mary@north.test".into(),
            password: PASSWORD.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(login.role, proto::common::v1::Role::Guardian as i32);
    assert_eq!(login.id, mum.user_id);
    let mary = Caller {
        school_id: admin.school_id,
        user_id: login.id.parse().unwrap(),
        role: Role::Guardian,
        student_id: None,
    };

    let children = guardians
        .list_my_children(with_caller(&mary, pb::ListMyChildrenRequest {}))
        .await
        .unwrap()
        .into_inner()
        .students;
    let names: Vec<&str> = children.iter().map(|s| s.given_name.as_str()).collect();
    assert_eq!(names, ["Ada", "Ben"]);

    let mut students = app.students();
    for s in [&ada, &ben] {
        let got = students
            .get_student(with_caller(&mary, get_student(&s.id)))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(&got, s);
    }
    // Not hers, or no such student: the same answer, not found.
    for id in [cy.id.clone(), Uuid::now_v7().to_string()] {
        let denied = students
            .get_student(with_caller(&mary, get_student(&id)))
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::NotFound);
    }
    let list = students
        .list_students(with_caller(&mary, pb::ListStudentsRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(list.code(), Code::PermissionDenied);
    let write = guardians
        .link_student(with_caller(&mary, link(&mum, &cy, false)))
        .await
        .unwrap_err();
    assert_eq!(write.code(), Code::PermissionDenied);
    let others = guardians
        .get_guardian(with_caller(
            &mary,
            pb::GetGuardianRequest { id: lee.id.clone() },
        ))
        .await
        .unwrap_err();
    assert_eq!(others.code(), Code::PermissionDenied);

    // Once unlinked, Ben is no longer hers.
    guardians
        .unlink_student(with_caller(&admin, unlink(&mum, &ben)))
        .await
        .unwrap();
    let denied = students
        .get_student(with_caller(&mary, get_student(&ben.id)))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::NotFound);
    let children = guardians
        .list_my_children(with_caller(&mary, pb::ListMyChildrenRequest {}))
        .await
        .unwrap()
        .into_inner()
        .students;
    assert_eq!(children.len(), 1);

    // Only guardians have children.
    let none = guardians
        .list_my_children(with_caller(&admin, pb::ListMyChildrenRequest {}))
        .await
        .unwrap_err();
    assert_eq!(none.code(), Code::PermissionDenied);
}
