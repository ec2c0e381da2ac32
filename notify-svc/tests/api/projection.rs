//! The guardian projection under redeliveries and reordering: an older
//! snapshot never overwrites a newer one, and a link seen before its
//! guardian's snapshot still reaches the guardian.

use platform::testing::redis::standalone_url;
use proto::events::v1::event::Payload;
use uuid::Uuid;

use crate::helpers::{
    attendance, count, guardian_created, link, link_version, test_config, Bus, Prefs, TestApp,
};

#[tokio::test]
async fn older_snapshots_never_overwrite_newer_ones() {
    let db = platform::testing::fresh_database().await.unwrap();
    let bus = Bus::new(standalone_url()).await;
    let app = TestApp::spawn(db.clone(), &test_config(&db, &bus)).await;
    let (school, g, ann) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let sms = Prefs {
        phone: "+15550100001",
        sms: true,
        ..Prefs::default()
    };
    let email = Prefs {
        email: "g@example.com",
        mail: true,
        ..Prefs::default()
    };

    // The link arrives first (its guardian's snapshot was retried later).
    bus.publish(&link(school, g, ann, &email, true)).await;
    let mut newer = guardian_created(school, g, "Gina", &sms);
    if let Some(Payload::GuardianCreated(c)) = &mut newer.payload {
        c.version = 3;
    }
    bus.publish(&newer).await;
    let mut older = guardian_created(school, g, "Old Gina", &email);
    if let Some(Payload::GuardianCreated(c)) = &mut older.payload {
        c.version = 2;
    }
    bus.publish(&older).await;
    app.wait_processed(3).await;

    let c = platform::testing::connect(&db.admin_url).await.unwrap();
    let row = c
        .query_one(
            "SELECT given_name, phone, email, notify_sms, version FROM notify.guardians \
             WHERE school_id = $1 AND guardian_id = $2",
            &[&school, &g],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "Gina");
    assert_eq!(
        row.get::<_, Option<String>>(1).as_deref(),
        Some("+15550100001")
    );
    assert_eq!(row.get::<_, Option<String>>(2), None);
    assert!(row.get::<_, bool>(3));
    assert_eq!(row.get::<_, i64>(4), 3);

    bus.publish(&attendance(
        school,
        Uuid::now_v7(),
        "2026-11-23",
        0,
        &[(ann, "absent")],
        false,
    ))
    .await;
    app.wait_processed(4).await;
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM notify.notifications WHERE channels = ARRAY['sms']"
        )
        .await,
        1,
        "the link reached the guardian, with the newest preferences"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_retried_link_arriving_after_the_unlink_does_not_relink() {
    let db = platform::testing::fresh_database().await.unwrap();
    let bus = Bus::new(standalone_url()).await;
    let app = TestApp::spawn(db.clone(), &test_config(&db, &bus)).await;
    let (school, g, ann) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let sms = Prefs {
        phone: "+15550100002",
        sms: true,
        ..Prefs::default()
    };
    bus.publish(&guardian_created(school, g, "Gina", &sms))
        .await;
    // Linked (version 1), unlinked (version 2), then the link event again,
    // redelivered late.
    bus.publish(&link_version(school, g, ann, &sms, true, 1))
        .await;
    bus.publish(&link_version(school, g, ann, &sms, false, 2))
        .await;
    bus.publish(&link_version(school, g, ann, &sms, true, 1))
        .await;
    app.wait_processed(4).await;
    bus.publish(&attendance(
        school,
        Uuid::now_v7(),
        "2026-11-23",
        0,
        &[(ann, "absent")],
        false,
    ))
    .await;
    app.wait_processed(5).await;
    assert_eq!(
        count(&db, "SELECT count(*) FROM notify.notifications").await,
        0,
        "an unlinked guardian gets no alert"
    );

    // A newer link (version 3) links again: alerts resume.
    bus.publish(&link_version(school, g, ann, &sms, true, 3))
        .await;
    bus.publish(&attendance(
        school,
        Uuid::now_v7(),
        "2026-11-24",
        0,
        &[(ann, "absent")],
        false,
    ))
    .await;
    app.wait_processed(7).await;
    assert_eq!(
        count(&db, "SELECT count(*) FROM notify.notifications").await,
        1
    );
    app.stop().await;
}
