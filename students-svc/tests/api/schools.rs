//! A school's time zone and school year: set at creation, changed by its
//! admin against its version, carried by `school.*` events.

use proto::events::v1::event::Payload;
use proto::students::v1 as pb;
use tonic::Code;

use crate::helpers::*;

fn new_school(slug: &str, zone: &str, month: u32, day: u32) -> pb::CreateSchoolRequest {
    pb::CreateSchoolRequest {
        name: format!("School {slug}"),
        slug: slug.into(),
        admin_email: format!("admin@{slug}.test"),
        admin_password: PASSWORD.into(),
        admin_full_name: "Ada Admin".into(),
        time_zone: zone.into(),
        year_start_month: month,
        year_start_day: day,
    }
}

#[tokio::test]
async fn settings_are_set_at_creation_with_defaults_and_carried_by_an_event() {
    let app = spawn_app().await;
    let south = app
        .schools()
        .create_school(as_operator(new_school(
            "kiwi-high",
            "Pacific/Auckland",
            2,
            1,
        )))
        .await
        .unwrap()
        .into_inner()
        .school
        .unwrap();
    assert_eq!(
        (
            south.time_zone.as_str(),
            south.year_start_month,
            south.year_start_day,
            south.version
        ),
        ("Pacific/Auckland", 2, 1, 1)
    );
    let north = app
        .schools()
        .create_school(as_operator(new_school("north-high", "", 0, 0)))
        .await
        .unwrap()
        .into_inner()
        .school
        .unwrap();
    assert_eq!(
        (
            north.time_zone.as_str(),
            north.year_start_month,
            north.year_start_day
        ),
        ("UTC", 9, 1)
    );
    let created: Vec<_> = app
        .events_of(&["school"])
        .await
        .into_iter()
        .filter_map(|e| match e.payload {
            Some(Payload::SchoolCreated(s)) => Some((e.school_id, s.time_zone, s.version)),
            _ => None,
        })
        .collect();
    assert_eq!(
        created,
        vec![
            (south.id.clone(), "Pacific/Auckland".to_owned(), 1),
            (north.id.clone(), "UTC".to_owned(), 1)
        ]
    );
}

#[tokio::test]
async fn bad_settings_name_their_field_and_create_nothing() {
    let app = spawn_app().await;
    let err = app
        .schools()
        .create_school(as_operator(new_school("bad-zone", "Mars/Olympus", 2, 30)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violations(&err), ["time_zone", "year_start_month"]);
    assert_eq!(app.count("schools").await, 0);
    assert_eq!(app.count("outbox").await, 0);
}

#[tokio::test]
async fn an_admin_changes_the_settings_against_the_current_version() {
    let app = spawn_app().await;
    let admin = app.school("tz-change").await;
    let teacher = app.teacher(&admin, "t@tz-change.test").await;
    let mine = app
        .schools()
        .get_my_school(with_caller(&teacher, pb::GetMySchoolRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((mine.time_zone.as_str(), mine.version), ("UTC", 1));

    let change = |version, zone: &str| pb::UpdateSchoolSettingsRequest {
        version,
        time_zone: zone.into(),
        year_start_month: 1,
        year_start_day: 27,
    };
    let denied = app
        .schools()
        .update_school_settings(with_caller(&teacher, change(1, "Australia/Sydney")))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);

    let updated = app
        .schools()
        .update_school_settings(with_caller(&admin, change(1, "Australia/Sydney")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (
            updated.time_zone.as_str(),
            updated.year_start_month,
            updated.year_start_day,
            updated.version
        ),
        ("Australia/Sydney", 1, 27, 2)
    );
    let stale = app
        .schools()
        .update_school_settings(with_caller(&admin, change(1, "Europe/Paris")))
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);
    let bad = app
        .schools()
        .update_school_settings(with_caller(&admin, change(2, "Nowhere")))
        .await
        .unwrap_err();
    assert_eq!(violations(&bad), ["time_zone"]);

    let updates: Vec<_> = app
        .events_of(&["school"])
        .await
        .into_iter()
        .filter_map(|e| match e.payload {
            Some(Payload::SchoolUpdated(s)) => Some((s.time_zone, s.year_start_month, s.version)),
            _ => None,
        })
        .collect();
    assert_eq!(updates, vec![("Australia/Sydney".to_owned(), 1, 2)]);
}
