//! The platform consumer under notify-svc's handler: a crash between commit
//! and XACK redelivers as a no-op, an entry failing every delivery and an
//! undecodable one land in the dead-letter stream, and nothing else stops.

use std::time::Duration;

use fred::types::Value;
use notify_svc::handler::NotifyHandler;
use platform::{
    db::PoolSettings,
    events::{Consumer, ConsumerSettings},
    redis::RedisSettings,
    testing::{
        eventually,
        redis::{cluster_url, standalone_url},
    },
};
use prost::Message;
use uuid::Uuid;

use crate::helpers::{
    attendance, count, guardian_created, link, student_created, test_config, Bus, Prefs, TestApp,
    WAIT,
};

fn text(fields: &std::collections::HashMap<String, Value>, k: &str) -> String {
    fields[k]
        .as_str()
        .map(|s| s.into_owned())
        .unwrap_or_default()
}

async fn a_crash_between_commit_and_ack_is_redelivered_as_a_no_op(url: String) {
    let handle = platform::metrics::recorder();
    let db = platform::testing::fresh_database().await.unwrap();
    let bus = Bus::new(url).await;
    let config = test_config(&db, &bus);
    platform::db::migrate(
        &db.notify_url,
        &PoolSettings::default(),
        notify_svc::MIGRATIONS,
    )
    .await
    .unwrap();
    let pool = platform::db::pool(&db.notify_url, &PoolSettings::default()).unwrap();
    let redis = RedisSettings {
        command_timeout: Duration::from_secs(1),
        ..RedisSettings::default()
    };
    let consumer = |name: &str| {
        Consumer::new(
            &bus.url,
            &redis,
            pool.clone(),
            NotifyHandler::default(),
            ConsumerSettings {
                consumer: name.to_owned(),
                ..config.consumer_settings()
            },
        )
        .unwrap()
    };
    let (crashing, survivor) = (consumer("crashing"), consumer("survivor"));
    let (school, ann, g1) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let p = Prefs {
        phone: "+15550100001",
        sms: true,
        ..Prefs::default()
    };
    for e in [
        student_created(school, ann, "Ann", "Lee"),
        guardian_created(school, g1, "Gina", &p),
        link(school, g1, ann, &p, true),
    ] {
        bus.publish(&e).await;
    }
    eventually("set-up applied", WAIT, || async {
        survivor.step().await.unwrap();
        count(&db, "SELECT count(*) FROM notify.processed_events").await == 3
    })
    .await;

    bus.publish(&attendance(
        school,
        Uuid::now_v7(),
        "2026-11-23",
        1,
        &[(ann, "absent")],
        false,
    ))
    .await;
    let crash = || async { anyhow::bail!("killed after commit, before XACK") };
    let deadline = tokio::time::Instant::now() + WAIT;
    while crashing.step_with(&crash).await.is_ok() {
        assert!(tokio::time::Instant::now() < deadline, "never crashed");
    }
    assert_eq!(
        count(&db, "SELECT count(*) FROM notify.notifications").await,
        1
    );
    assert_eq!(
        bus.pending(school, "notify").await,
        1,
        "committed, not acked"
    );

    // The survivor reclaims it once idle: the inbox makes it a no-op.
    eventually("reclaimed and acked", WAIT, || async {
        survivor.step().await.unwrap();
        bus.pending(school, "notify").await == 0
    })
    .await;
    assert_eq!(
        count(&db, "SELECT count(*) FROM notify.notifications").await,
        1
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM notify.processed_events").await,
        4
    );
    assert!(bus.dead_letters(school).await.is_empty());
    let text = handle.render();
    assert!(
        text.contains("events_consumed_total{type=\"attendance.marked\",outcome=\"duplicate\"}"),
        "{text}"
    );
}

#[tokio::test]
async fn a_crash_between_commit_and_ack_is_redelivered_as_a_no_op_standalone() {
    a_crash_between_commit_and_ack_is_redelivered_as_a_no_op(standalone_url()).await;
}

#[tokio::test]
async fn a_crash_between_commit_and_ack_is_redelivered_as_a_no_op_cluster() {
    a_crash_between_commit_and_ack_is_redelivered_as_a_no_op(cluster_url()).await;
}

async fn poison_entries_go_to_the_dead_letter_stream(url: String) {
    platform::metrics::recorder();
    let db = platform::testing::fresh_database().await.unwrap();
    let bus = Bus::new(url).await;
    let app = TestApp::spawn(db.clone(), &test_config(&db, &bus)).await;
    let (school, other) = (Uuid::now_v7(), Uuid::now_v7());

    // Decodes, but its handler fails on every delivery (no such date).
    let failing = attendance(school, Uuid::now_v7(), "23/11/2026", 0, &[], false);
    let failing_entry = bus.publish(&failing).await;
    // Not a protobuf Event at all.
    let garbage = bus
        .publish_raw(
            school,
            vec![
                ("id", Value::from(Uuid::now_v7().to_string())),
                ("type", Value::from("student.created")),
                ("e", Value::Bytes(vec![0xff, 0x00, 0x13].into())),
            ],
        )
        .await;
    // A valid event of another school in this school's stream.
    let intruder = student_created(other, Uuid::now_v7(), "Ivy", "Other");
    let intruder_entry = bus
        .publish_raw(
            school,
            vec![
                ("id", Value::from(intruder.event_id.as_str())),
                ("type", Value::from("student.created")),
                ("e", Value::Bytes(intruder.encode_to_vec().into())),
            ],
        )
        .await;
    // Entries after them are applied all the same.
    let fine = Uuid::now_v7();
    bus.publish(&student_created(school, fine, "Fay", "Fine"))
        .await;

    eventually("three dead letters", WAIT, || async {
        bus.dead_letters(school).await.len() == 3
    })
    .await;
    let letters = bus.dead_letters(school).await;
    let by_source = |id: &str| {
        letters
            .iter()
            .find(|f| text(f, "source_id") == id)
            .unwrap_or_else(|| panic!("{id} not dead-lettered: {letters:?}"))
    };
    let f = by_source(&failing_entry);
    assert_eq!(text(f, "reason"), "max_deliveries");
    assert_eq!(text(f, "deliveries"), "4", "three deliveries, then out");
    assert_eq!(text(f, "group"), "notify");
    assert_eq!(text(f, "id"), failing.event_id);
    assert_eq!(
        f["e"].as_bytes().unwrap(),
        failing.encode_to_vec().as_slice(),
        "the entry is kept as it was"
    );
    assert_eq!(text(by_source(&garbage), "reason"), "undecodable");
    assert_eq!(text(by_source(&intruder_entry), "reason"), "undecodable");

    app.wait_processed(1).await;
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM notify.students WHERE student_id = '{fine}' AND school_id = '{school}'"
        ))
        .await,
        1
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM notify.students WHERE school_id = '{other}'"
        ))
        .await,
        0,
        "another school's event never writes its rows from this stream"
    );
    assert_eq!(app.processed().await, 1);
    eventually("all acked", WAIT, || async {
        bus.pending(school, "notify").await == 0
    })
    .await;
    let text = platform::testing::scrape(app.admin_addr).await.unwrap();
    for metric in [
        "event_consumer_dead_letters_total{group=\"notify\",reason=\"max_deliveries\"}",
        "event_consumer_dead_letters_total{group=\"notify\",reason=\"undecodable\"}",
        "events_consumed_total{type=\"attendance.marked\",outcome=\"failed\"}",
        "events_consumed_total{type=\"attendance.marked\",outcome=\"dead_lettered\"}",
    ] {
        assert!(text.contains(metric), "{metric} missing in:\n{text}");
    }
    app.stop().await;
}

#[tokio::test]
async fn poison_entries_go_to_the_dead_letter_stream_standalone() {
    poison_entries_go_to_the_dead_letter_stream(standalone_url()).await;
}

#[tokio::test]
async fn poison_entries_go_to_the_dead_letter_stream_cluster() {
    poison_entries_go_to_the_dead_letter_stream(cluster_url()).await;
}

/// A failover that lost a stream (and with it the group) while the consumer
/// runs: the relay's next XADD re-creates the stream without the group, the
/// consumer's reads fail with NOGROUP, and it re-creates the group and
/// carries on.
async fn a_lost_consumer_group_is_recreated(url: String) {
    let db = platform::testing::fresh_database().await.unwrap();
    let bus = Bus::new(url).await;
    let app = TestApp::spawn(db.clone(), &test_config(&db, &bus)).await;
    let school = Uuid::now_v7();
    bus.publish(&student_created(school, Uuid::now_v7(), "Ann", "Lee"))
        .await;
    app.wait_processed(1).await;

    let _: i64 =
        fred::prelude::KeysInterface::del(&bus.client, platform::events::stream_key(school))
            .await
            .unwrap();
    let later = Uuid::now_v7();
    bus.publish(&student_created(school, later, "Ben", "Lee"))
        .await;
    app.wait_processed(2).await;
    assert_eq!(
        count(
            &db,
            &format!("SELECT count(*) FROM notify.students WHERE student_id = '{later}'")
        )
        .await,
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn a_lost_consumer_group_is_recreated_standalone() {
    a_lost_consumer_group_is_recreated(standalone_url()).await;
}

#[tokio::test]
async fn a_lost_consumer_group_is_recreated_cluster() {
    a_lost_consumer_group_is_recreated(cluster_url()).await;
}
