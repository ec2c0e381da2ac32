//! The platform consumer under analytics-svc's handler, on standalone Redis
//! and on the cluster: events published to a school's stream reach the
//! read models and bump the school's dashboard generation; a poison event is
//! dead-lettered while later events still apply; two instances share the
//! work and each event counts once.

use platform::{
    caller::Role,
    testing::{
        eventually,
        redis::{cluster_url, standalone_url},
    },
};
use proto::analytics::v1 as pb;
use uuid::Uuid;

use crate::helpers::{call, caller, consuming, generation, Bus, School, TestApp, WAIT};

async fn dashboard(app: &TestApp, school: Uuid) -> pb::SchoolDashboard {
    app.client()
        .await
        .get_school_dashboard(call(
            &caller(school, Uuid::now_v7(), Role::Admin),
            pb::GetSchoolDashboardRequest {},
        ))
        .await
        .unwrap()
        .into_inner()
}

async fn poison_is_dead_lettered_and_later_events_apply(url: String) {
    let db = platform::testing::fresh_database().await.unwrap();
    let bus = Bus::new(url).await;
    let app = TestApp::spawn(db.clone(), &consuming(&db, &bus)).await;
    let s = School::new();
    let ann = Uuid::now_v7();
    bus.publish(&s.settings("kiwi", "UTC", 9, 1, 1)).await;
    let before = eventually("the first generation", WAIT, || async {
        generation(&bus, s.id()).await
    })
    .await;
    // Decodes, but fails on every delivery (no such date).
    let poison = s.mark(Uuid::now_v7(), "12/03/2030", 1, &[(ann, "absent", 1)]);
    bus.publish(&poison).await;
    bus.publish(&s.student(ann, "Lee", 5, "A", "active", 1))
        .await;
    bus.publish(&s.mark(Uuid::now_v7(), "2030-03-12", 1, &[(ann, "absent", 1)]))
        .await;

    eventually("the later events applied", WAIT, || async {
        let d = dashboard(&app, s.id()).await;
        d.active_students == 1 && d.today_attendance.is_some_and(|t| t.absent == 1)
    })
    .await;
    let letters = eventually("the poison event dead-lettered", WAIT, || async {
        let l = bus.dead_letters(s.id()).await;
        (!l.is_empty()).then_some(l)
    })
    .await;
    assert_eq!(letters.len(), 1);
    assert_eq!(
        letters[0]["id"].as_str().map(|s| s.into_owned()),
        Some(poison.event_id.clone())
    );
    assert_eq!(
        letters[0]["reason"].as_str().map(|s| s.into_owned()),
        Some("max_deliveries".into())
    );
    let after = generation(&bus, s.id()).await.unwrap();
    assert!(after > before, "the generation moved: {before} → {after}");
    app.stop().await;
}

#[tokio::test]
async fn poison_is_dead_lettered_and_later_events_apply_standalone() {
    poison_is_dead_lettered_and_later_events_apply(standalone_url()).await;
}

#[tokio::test]
async fn poison_is_dead_lettered_and_later_events_apply_cluster() {
    poison_is_dead_lettered_and_later_events_apply(cluster_url()).await;
}

async fn two_instances_share_the_work(url: String) {
    let db = platform::testing::fresh_database().await.unwrap();
    let bus = Bus::new(url).await;
    let one = TestApp::spawn(db.clone(), &consuming(&db, &bus)).await;
    let two = TestApp::spawn(db.clone(), &consuming(&db, &bus)).await;
    // Four schools, 30 students each: counters are deltas, so an event
    // applied twice would count a student twice.
    let schools: Vec<School> = (0..4).map(|_| School::new()).collect();
    for s in &schools {
        bus.publish(&s.settings(&format!("s{}", s.id().simple()), "UTC", 9, 1, 1))
            .await;
    }
    for round in 0..30 {
        for s in &schools {
            let e = s.student(
                Uuid::now_v7(),
                &format!("F{round}"),
                round % 3,
                "A",
                "active",
                1,
            );
            bus.publish(&e).await;
            // The same event again (the relay republishing after a crash).
            if round % 5 == 0 {
                bus.publish(&e).await;
            }
        }
    }
    for s in &schools {
        eventually("every student counted", WAIT, || async {
            dashboard(&one, s.id()).await.active_students >= 30
        })
        .await;
        let d = dashboard(&two, s.id()).await;
        assert_eq!(d.active_students, 30);
        assert_eq!(
            d.students_by_grade.iter().map(|g| g.students).sum::<u32>(),
            30
        );
    }
    let c = platform::testing::connect(&db.admin_url).await.unwrap();
    let processed: i64 = c
        .query_one("SELECT count(*) FROM analytics.processed_events", &[])
        .await
        .unwrap()
        .get(0);
    // Republished events were skipped by the shared inbox.
    assert_eq!(processed, 4 + 4 * 30);
    one.stop().await;
    two.stop().await;
}

#[tokio::test]
async fn two_instances_share_the_work_standalone() {
    two_instances_share_the_work(standalone_url()).await;
}

#[tokio::test]
async fn two_instances_share_the_work_cluster() {
    two_instances_share_the_work(cluster_url()).await;
}

/// A consumer killed between its commit and its XACK: another reclaims the
/// entry once idle and the inbox makes it a no-op (the count stays 1).
async fn a_crash_between_commit_and_ack_counts_once(url: String) {
    use analytics_svc::{domain::Thresholds, handler::AnalyticsHandler};
    use platform::events::{Consumer, ConsumerSettings};
    let db = platform::testing::fresh_database().await.unwrap();
    let bus = Bus::new(url).await;
    let config = consuming(&db, &bus);
    platform::db::migrate(
        &db.analytics_url,
        &Default::default(),
        analytics_svc::MIGRATIONS,
    )
    .await
    .unwrap();
    let pool = platform::db::pool(&db.analytics_url, &Default::default()).unwrap();
    let consumer = |name: &str| {
        Consumer::new(
            &bus.url,
            &config.redis_settings(),
            pool.clone(),
            AnalyticsHandler::new(Thresholds::default(), None),
            ConsumerSettings {
                consumer: name.to_owned(),
                ..config.consumer_settings()
            },
        )
        .unwrap()
    };
    let (crashing, survivor) = (consumer("crashing"), consumer("survivor"));
    let s = School::new();
    bus.publish(&s.settings("weta", "UTC", 9, 1, 1)).await;
    bus.publish(&s.student(Uuid::now_v7(), "Lee", 5, "A", "active", 1))
        .await;
    let crash = || async { anyhow::bail!("killed after commit, before XACK") };
    let deadline = tokio::time::Instant::now() + WAIT;
    while crashing.step_with(&crash).await.is_ok() {
        assert!(tokio::time::Instant::now() < deadline, "never crashed");
    }
    let active = || async {
        let c = platform::testing::connect(&db.admin_url).await.unwrap();
        c.query_one(
            "SELECT coalesce(sum(active_students), 0)::int FROM analytics.schools WHERE school_id = $1",
            &[&s.id()],
        )
        .await
        .unwrap()
        .get::<_, i32>(0)
    };
    assert_eq!(active().await, 1, "committed, not acknowledged");
    eventually("reclaimed and acknowledged", WAIT, || async {
        survivor.step().await.unwrap();
        let reply: fred::types::Value = fred::prelude::StreamsInterface::xpending(
            &bus.client,
            platform::events::stream_key(s.id()),
            "analytics",
            (),
        )
        .await
        .unwrap();
        platform::events::entry::pending_count(&reply) == 0
    })
    .await;
    assert_eq!(active().await, 1, "the redelivery was a no-op");
}

#[tokio::test]
async fn a_crash_between_commit_and_ack_counts_once_standalone() {
    a_crash_between_commit_and_ack_counts_once(standalone_url()).await;
}

#[tokio::test]
async fn a_crash_between_commit_and_ack_counts_once_cluster() {
    a_crash_between_commit_and_ack_counts_once(cluster_url()).await;
}
