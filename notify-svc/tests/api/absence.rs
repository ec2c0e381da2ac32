//! Absence alerts from real encoded events on a school's stream: one per
//! linked guardian with the channels they chose, none for present students,
//! never twice (re-mark, redelivery), never across schools.

use std::collections::BTreeMap;

use platform::testing::{
    eventually,
    redis::{cluster_url, standalone_url},
};
use uuid::Uuid;

use crate::helpers::{
    attendance, guardian_created, link, student_created, test_config, Bus, Prefs, TestApp, WAIT,
};

/// (guardian, channels) of the school's absence notifications about `student`.
async fn alerts(app: &TestApp, school: Uuid, student: Uuid) -> BTreeMap<Uuid, Vec<Vec<String>>> {
    let c = platform::testing::connect(&app.db.admin_url).await.unwrap();
    let mut out: BTreeMap<Uuid, Vec<Vec<String>>> = BTreeMap::new();
    for r in c
        .query(
            "SELECT guardian_id, channels FROM notify.notifications \
             WHERE school_id = $1 AND student_id = $2 AND kind = 'absence' ORDER BY created_at, id",
            &[&school, &student],
        )
        .await
        .unwrap()
    {
        out.entry(r.get(0)).or_default().push(r.get(1));
    }
    out
}

/// (kind, recipient: phone or user id) of the school's delivery jobs.
async fn deliveries(app: &TestApp, school: Uuid) -> Vec<(String, String)> {
    let c = platform::testing::connect(&app.db.admin_url).await.unwrap();
    c.query(
        "SELECT kind, COALESCE(payload->>'to', payload->>'user_id') FROM notify.jobs \
         WHERE school_id = $1 ORDER BY kind, created_at, id",
        &[&school],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

async fn absence_alerts_reach_each_linked_guardian_once(url: String) {
    platform::metrics::recorder();
    let db = platform::testing::fresh_database().await.unwrap();
    let bus = Bus::new(url).await;
    let app = TestApp::spawn(db.clone(), &test_config(&db, &bus)).await;
    let (school, other) = (Uuid::now_v7(), Uuid::now_v7());
    let (ann, ben, course) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let (g1, g2, g3, gx) = (
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
    );
    // g1 wants sms and email and has both; g2 wants sms but has no phone,
    // and push with a portal login; g3 is only ben's.
    let p1 = Prefs {
        phone: "+15550100001",
        email: "g1@example.com",
        sms: true,
        mail: true,
        ..Prefs::default()
    };
    let p2 = Prefs {
        sms: true,
        push: true,
        user_id: Some(Uuid::now_v7()),
        ..Prefs::default()
    };
    let p3 = Prefs {
        phone: "+15550100003",
        sms: true,
        ..Prefs::default()
    };
    let setup = [
        student_created(school, ann, "Ann", "Lee"),
        student_created(school, ben, "Ben", "Lee"),
        guardian_created(school, g1, "Gina", &p1),
        guardian_created(school, g2, "Gus", &p2),
        guardian_created(school, g3, "Gil", &p3),
        link(school, g1, ann, &p1, true),
        link(school, g2, ann, &p2, true),
        link(school, g3, ben, &p3, true),
        // Another school links its own guardian to the same student id:
        // this school's attendance must never reach it.
        guardian_created(other, gx, "Xena", &p1),
        link(other, gx, ann, &p1, true),
    ];
    for e in &setup {
        bus.publish(e).await;
    }
    let marked = attendance(
        school,
        course,
        "2026-11-23",
        2,
        &[(ann, "absent"), (ben, "present")],
        false,
    );
    bus.publish(&marked).await;
    app.wait_processed(setup.len() as i64 + 1).await;

    let sms_email = vec!["sms".to_owned(), "email".to_owned()];
    let push = vec!["push".to_owned()];
    assert_eq!(
        alerts(&app, school, ann).await,
        BTreeMap::from([(g1, vec![sms_email.clone()]), (g2, vec![push.clone()])])
    );
    assert!(
        alerts(&app, school, ben).await.is_empty(),
        "ben was present"
    );
    let c = platform::testing::connect(&db.admin_url).await.unwrap();
    let row = c
        .query_one(
            "SELECT title, body, recipient_user_id, read_at IS NULL FROM notify.notifications \
             WHERE guardian_id = $1",
            &[&g2],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "Absence: Ann Lee");
    assert_eq!(
        row.get::<_, String>(1),
        "Ann was marked absent on 2026-11-23 (period 2)."
    );
    assert_eq!(row.get::<_, Option<Uuid>>(2), p2.user_id);
    assert!(row.get::<_, bool>(3), "unread");
    // Deliveries were enqueued with the alerts: an SMS and an e-mail to g1,
    // a push to g2's login (g2 wants SMS too but has no phone).
    let g2_user = p2.user_id.unwrap().to_string();
    assert_eq!(
        deliveries(&app, school).await,
        [
            ("email".to_owned(), "g1@example.com".to_owned()),
            ("push".to_owned(), g2_user.clone()),
            ("sms".to_owned(), "+15550100001".to_owned())
        ]
    );
    // The push goes out through Redis once committed; with no SMS provider
    // configured the SMS ends dead, visible to operators.
    eventually("the push published and the sms given up", WAIT, || async {
        app.count(&format!(
            "SELECT count(*) FROM notify.jobs WHERE school_id = '{school}' AND \
             ((kind = 'push' AND status = 'succeeded') OR (kind = 'sms' AND status = 'dead'))"
        ))
        .await
            == 2
    })
    .await;

    // The same event again (a redelivery: same id), a re-mark of the same
    // session by an override, and an absence in another period.
    bus.publish(&marked).await;
    let remarked = attendance(school, course, "2026-11-23", 2, &[(ann, "absent")], true);
    bus.publish(&remarked).await;
    let period3 = attendance(school, course, "2026-11-23", 3, &[(ann, "absent")], false);
    bus.publish(&period3).await;
    app.wait_processed(setup.len() as i64 + 3).await;
    assert_eq!(
        alerts(&app, school, ann).await,
        BTreeMap::from([
            (g1, vec![sms_email.clone(), sms_email.clone()]),
            (g2, vec![push.clone(), push.clone()])
        ]),
        "one per guardian and session, whatever the redeliveries and re-marks"
    );
    assert_eq!(
        deliveries(&app, school).await.len(),
        6,
        "one delivery per notification and channel, never twice"
    );

    // After an unlink only the guardian still linked is told.
    bus.publish(&link(school, g2, ann, &p2, false)).await;
    bus.publish(&attendance(
        school,
        course,
        "2026-11-24",
        0,
        &[(ann, "absent")],
        false,
    ))
    .await;
    app.wait_processed(setup.len() as i64 + 5).await;
    let after = alerts(&app, school, ann).await;
    assert_eq!(after[&g1].len(), 3);
    assert_eq!(after[&g2].len(), 2);

    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM notify.notifications WHERE school_id = '{other}' OR guardian_id = '{gx}'"
        ))
        .await,
        0,
        "nothing crosses schools"
    );
    assert_eq!(bus.pending(school, "notify").await, 0, "everything acked");

    let text = platform::testing::scrape(app.admin_addr).await.unwrap();
    for metric in [
        "events_consumed_total{type=\"attendance.marked\",outcome=\"applied\"}",
        "events_consumed_total{type=\"attendance.marked\",outcome=\"duplicate\"}",
        "event_consumer_lag_seconds_bucket{group=\"notify\"",
        "event_consumer_pending{group=\"notify\"}",
        "notifications_created_total{kind=\"absence\"}",
    ] {
        assert!(text.contains(metric), "{metric} missing in:\n{text}");
    }
    app.stop().await;
}

#[tokio::test]
async fn absence_alerts_reach_each_linked_guardian_once_standalone() {
    absence_alerts_reach_each_linked_guardian_once(standalone_url()).await;
}

#[tokio::test]
async fn absence_alerts_reach_each_linked_guardian_once_cluster() {
    absence_alerts_reach_each_linked_guardian_once(cluster_url()).await;
}
