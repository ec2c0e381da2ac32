//! Domain events: recorded in the outbox in the same transaction as the
//! change, published by the relay to one Redis Stream per school, in order,
//! never lost (Redis outage, crash between publish and mark), never published
//! concurrently by two relays.

use std::{collections::HashSet, time::Duration};

use fred::prelude::*;
use fred::types::Value;
use platform::caller::Caller;
use platform::db::PoolSettings;
use platform::redis::RedisSettings;
use platform::testing::{
    eventually,
    redis::{cluster_url, standalone_url},
    PrivateRedis,
};
use prost::Message;
use proto::events::v1::{event::Payload, Event};
use proto::students::v1 as pb;
use students_svc::relay::{stream_key, Relay, RelaySettings, STREAM_REGISTRY};
use uuid::Uuid;

use crate::helpers::{spawn_app, spawn_app_with, student, with_caller, TestApp};

async fn redis(url: &str) -> Client {
    let settings = RedisSettings {
        command_timeout: Duration::from_secs(2),
        ..RedisSettings::default()
    };
    let client = platform::redis::connect(url, &settings).expect("redis client");
    client.wait_for_connect().await.expect("redis connects");
    client
}

/// The decoded events of the outbox, in insertion order.
async fn outbox(app: &TestApp) -> Vec<(Event, bool)> {
    let c = platform::testing::connect(&app.db.admin_url).await.unwrap();
    c.query(
        "SELECT payload, published_at IS NOT NULL FROM students.outbox ORDER BY id",
        &[],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| (Event::decode(r.get::<_, &[u8]>(0)).unwrap(), r.get(1)))
    .collect()
}

async fn pending(app: &TestApp) -> i64 {
    let c = platform::testing::connect(&app.db.admin_url).await.unwrap();
    c.query_one(
        "SELECT count(*) FROM students.outbox WHERE published_at IS NULL",
        &[],
    )
    .await
    .unwrap()
    .get(0)
}

/// Every entry of the school's stream: (entry's event id field, decoded event).
async fn stream(client: &Client, school: Uuid) -> Vec<(String, Event)> {
    let entries: Vec<(String, std::collections::HashMap<String, Value>)> = client
        .xrange_values(stream_key(school), "-", "+", None)
        .await
        .expect("XRANGE");
    entries
        .into_iter()
        .map(|(_, fields)| {
            let id = fields["id"].as_str().unwrap().to_string();
            let event = Event::decode(fields["e"].as_bytes().unwrap()).unwrap();
            assert_eq!(event.event_id, id, "the id field is the event's id");
            assert_eq!(
                fields["type"].as_str().unwrap(),
                event.event_type,
                "the type field is the event's type"
            );
            (id, event)
        })
        .collect()
}

/// Admission numbers of the `student.created` events, in stream order,
/// after dropping repeats of an event id (what a deduplicating consumer sees).
fn created_in_order(events: &[(String, Event)]) -> Vec<String> {
    let mut seen = HashSet::new();
    events
        .iter()
        .filter(|(id, _)| seen.insert(id.clone()))
        .filter_map(|(_, e)| match &e.payload {
            Some(Payload::StudentCreated(s)) => Some(s.admission_no.clone()),
            _ => None,
        })
        .collect()
}

async fn create_many(
    app: &TestApp,
    admin: &Caller,
    prefix: impl AsRef<str>,
    n: usize,
) -> Vec<String> {
    let prefix = prefix.as_ref();
    let mut numbers = Vec::with_capacity(n);
    for i in 0..n {
        let no = format!("{prefix}-{i:05}");
        app.create_student(admin, student(&no, "Ann", &format!("Fam{i:05}")))
            .await;
        numbers.push(no);
    }
    numbers
}

fn relay_on(url: String) -> impl FnOnce(&mut students_svc::config::Config) {
    move |c| {
        c.relay_enabled = true;
        c.redis_url = url;
        c.relay_poll_ms = 5;
    }
}

#[tokio::test]
async fn every_change_records_one_event_in_its_transaction() {
    let app = spawn_app().await;
    let admin = app.school("ev-school").await;
    let created = app
        .create_student(&admin, student("E-1", "Eve", "Ng"))
        .await;
    let updated = app
        .students()
        .update_student(with_caller(
            &admin,
            pb::UpdateStudentRequest {
                id: created.id.clone(),
                version: created.version,
                section: Some("B".into()),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    // A stale update and a repeated archive change nothing: no event.
    let stale = app
        .students()
        .update_student(with_caller(
            &admin,
            pb::UpdateStudentRequest {
                id: created.id.clone(),
                version: created.version,
                section: Some("C".into()),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(stale.code(), tonic::Code::Aborted);
    for _ in 0..2 {
        app.students()
            .archive_student(with_caller(
                &admin,
                pb::ArchiveStudentRequest {
                    id: created.id.clone(),
                },
            ))
            .await
            .unwrap();
    }
    // A rejected create writes neither the record nor an event.
    let dup = app
        .students()
        .create_student(with_caller(&admin, student("E-1", "Dup", "Licate")))
        .await
        .unwrap_err();
    assert_eq!(dup.code(), tonic::Code::AlreadyExists);

    let events = outbox(&app).await;
    let types: Vec<&str> = events.iter().map(|(e, _)| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "school.created",
            "user.created",
            "student.created",
            "student.updated",
            "student.archived"
        ]
    );
    let school = admin.school_id.to_string();
    for (e, published) in &events {
        assert!(!published, "no relay runs in this test");
        assert_eq!(e.school_id, school);
        assert!(Uuid::parse_str(&e.event_id).unwrap().get_version_num() == 7);
        assert!(e.occurred_at.is_some());
    }
    let (school_event, _) = &events[0];
    assert_eq!(
        (
            school_event.aggregate_type.as_str(),
            school_event.aggregate_id.as_str()
        ),
        ("school", school.as_str())
    );
    let (first, _) = &events[1];
    assert_eq!(first.aggregate_type, "user");
    assert_eq!(first.actor_user_id, "", "the operator created the school");
    match &first.payload {
        Some(Payload::UserCreated(u)) => {
            assert_eq!(u.user_id, admin.user_id.to_string());
            assert_eq!(u.role, "admin");
        }
        other => panic!("unexpected payload {other:?}"),
    }
    for (e, _) in &events[2..] {
        assert_eq!(e.aggregate_type, "student");
        assert_eq!(e.aggregate_id, created.id);
        assert_eq!(e.actor_user_id, admin.user_id.to_string());
    }
    match &events[3].0.payload {
        Some(Payload::StudentUpdated(s)) => {
            assert_eq!(s.section, "B");
            assert_eq!(s.version, updated.version);
            assert!(!s.archived);
        }
        other => panic!("unexpected payload {other:?}"),
    }
    match &events[4].0.payload {
        Some(Payload::StudentArchived(s)) => assert!(s.archived),
        other => panic!("unexpected payload {other:?}"),
    }
    let ids: HashSet<&str> = events.iter().map(|(e, _)| e.event_id.as_str()).collect();
    assert_eq!(ids.len(), events.len(), "event ids are unique");
}

async fn relay_publishes_each_school_in_order(url: String) {
    let app = spawn_app_with(relay_on(url.clone())).await;
    let client = redis(&url).await;
    let (a, b) = (app.school("ev-a").await, app.school("ev-b").await);
    let (na, nb) = tokio::join!(
        create_many(&app, &a, "A", 40),
        create_many(&app, &b, "B", 40)
    );
    eventually("outbox drained", Duration::from_secs(10), || async {
        pending(&app).await == 0
    })
    .await;
    for (school, numbers) in [(a.school_id, na), (b.school_id, nb)] {
        let events = stream(&client, school).await;
        assert_eq!(
            events.len(),
            42,
            "school.created, the admin's user.created, 40 students"
        );
        assert!(events
            .iter()
            .all(|(_, e)| e.school_id == school.to_string()));
        assert_eq!(created_in_order(&events), numbers);
    }
}

#[tokio::test]
async fn relay_publishes_each_school_in_order_standalone() {
    relay_publishes_each_school_in_order(standalone_url()).await;
}

#[tokio::test]
async fn relay_publishes_each_school_in_order_cluster() {
    relay_publishes_each_school_in_order(cluster_url()).await;
}

fn manual_relay(app: &TestApp, client: Client, batch: usize) -> Relay {
    let pool = platform::db::pool(&app.db.students_url, &PoolSettings::default()).unwrap();
    Relay::new(
        pool,
        client,
        RelaySettings {
            batch,
            ..RelaySettings::default()
        },
    )
}

#[tokio::test]
async fn a_crash_between_publish_and_mark_duplicates_and_never_loses() {
    let url = standalone_url();
    let app = spawn_app().await;
    let client = redis(&url).await;
    let admin = app.school("ev-crash").await;
    let numbers = create_many(&app, &admin, "C", 10).await;
    let relay = manual_relay(&app, client.clone(), 500);

    let crashed = relay
        .step_with(|| async { anyhow::bail!("crash after publishing") })
        .await;
    assert!(crashed.is_err());
    assert_eq!(pending(&app).await, 12, "nothing was marked");
    assert_eq!(stream(&client, admin.school_id).await.len(), 12);

    assert_eq!(relay.step().await.unwrap(), 12, "published again");
    assert_eq!(pending(&app).await, 0);
    let events = stream(&client, admin.school_id).await;
    assert_eq!(
        events.len(),
        24,
        "each event twice: a duplicate, not a loss"
    );
    assert_eq!(created_in_order(&events), numbers);
    assert_eq!(relay.step().await.unwrap(), 0, "nothing left");
}

#[tokio::test]
async fn concurrent_relays_publish_every_row_once_in_order() {
    let url = cluster_url();
    let app = spawn_app().await;
    let client = redis(&url).await;
    let mut schools = Vec::new();
    for s in 0..4 {
        schools.push(app.school(&format!("ev-multi-{s}")).await);
    }
    let created = futures::future::join_all(
        schools
            .iter()
            .enumerate()
            .map(|(i, admin)| create_many(&app, admin, format!("M{i}"), 60)),
    )
    .await;
    // Four relays with small batches race over the same outbox.
    let relays: Vec<Relay> = (0..4)
        .map(|_| manual_relay(&app, client.clone(), 7))
        .collect();
    let total = futures::future::join_all(relays.iter().map(|r| async move {
        let mut published = 0;
        loop {
            match r.step().await.expect("relay step") {
                0 => return published,
                n => published += n,
            }
        }
    }))
    .await;
    // A relay stops when every school it could take is held by another; the
    // last one to stop saw no other holder, so nothing is left behind.
    assert_eq!(
        total.iter().sum::<usize>(),
        4 * 62,
        "every row published exactly once"
    );
    assert_eq!(relays[0].step().await.unwrap(), 0);
    assert_eq!(pending(&app).await, 0);
    for (admin, numbers) in schools.iter().zip(created) {
        let events = stream(&client, admin.school_id).await;
        assert_eq!(events.len(), 62, "no duplicates without a crash");
        assert_eq!(created_in_order(&events), numbers);
    }
}

#[tokio::test]
async fn redis_outage_grows_the_outbox_and_it_drains_in_order() {
    let mut server = PrivateRedis::start().expect("private redis");
    let app = spawn_app_with(relay_on(server.url())).await;
    let (a, b) = (app.school("ev-out-a").await, app.school("ev-out-b").await);
    eventually(
        "school events published",
        Duration::from_secs(10),
        || async { pending(&app).await == 0 },
    )
    .await;

    server.kill();
    let (na, nb) = tokio::join!(
        create_many(&app, &a, "OA", 500),
        create_many(&app, &b, "OB", 500)
    );
    assert_eq!(pending(&app).await, 1000, "the outbox holds every change");

    server.restart().expect("redis back");
    eventually(
        "outbox drained after the outage",
        Duration::from_secs(30),
        || async { pending(&app).await == 0 },
    )
    .await;
    let client = redis(&server.url()).await;
    for (school, numbers) in [(a.school_id, na), (b.school_id, nb)] {
        let events = stream(&client, school).await;
        assert_eq!(created_in_order(&events), numbers, "all 500, in order");
    }
}

#[tokio::test]
async fn published_rows_are_pruned_after_the_retention_period() {
    let url = standalone_url();
    let app = spawn_app().await;
    let admin = app.school("ev-prune").await;
    create_many(&app, &admin, "P", 3).await;
    let pool = platform::db::pool(&app.db.students_url, &PoolSettings::default()).unwrap();
    let relay = Relay::new(
        pool,
        redis(&url).await,
        RelaySettings {
            retention: Duration::ZERO,
            ..RelaySettings::default()
        },
    );
    assert_eq!(relay.prune().await.unwrap(), 0, "pending rows are kept");
    assert_eq!(relay.step().await.unwrap(), 5);
    assert_eq!(relay.backlog().await.unwrap().0, 0);
    assert_eq!(relay.prune().await.unwrap(), 5);
    assert_eq!(app.count("outbox").await, 0);
}

async fn registered(client: &Client, school: Uuid) -> bool {
    client
        .sismember(STREAM_REGISTRY, stream_key(school))
        .await
        .expect("SISMEMBER")
}

/// Consumers find streams through the registry: the relay adds a school's
/// stream before publishing to it, remembers that it did (the set is not
/// written per batch), and registers again after `register_every`, which
/// heals a registry lost in a failover.
async fn relay_registers_each_stream(url: String) {
    let app = spawn_app().await;
    let client = redis(&url).await;
    let admin = app.school("ev-registry").await;
    let pool = platform::db::pool(&app.db.students_url, &PoolSettings::default()).unwrap();
    let register_every = Duration::from_secs(2);
    let relay = Relay::new(
        pool,
        client.clone(),
        RelaySettings {
            register_every,
            ..RelaySettings::default()
        },
    );
    assert!(!registered(&client, admin.school_id).await);
    let first = tokio::time::Instant::now();
    assert!(relay.step().await.unwrap() > 0);
    let registered_by = tokio::time::Instant::now();
    assert!(registered(&client, admin.school_id).await, "registered");

    // A failover lost the member: within `register_every` the relay does not
    // send it again (not per batch)...
    let _: i64 = client
        .srem(STREAM_REGISTRY, stream_key(admin.school_id))
        .await
        .unwrap();
    create_many(&app, &admin, "R", 1).await;
    assert_eq!(relay.step().await.unwrap(), 1);
    if first.elapsed() < register_every {
        assert!(!registered(&client, admin.school_id).await, "not per batch");
    }

    // ...and once it has passed, the next publish registers it again.
    tokio::time::sleep_until(registered_by + register_every).await;
    create_many(&app, &admin, "S", 1).await;
    assert_eq!(relay.step().await.unwrap(), 1);
    assert!(registered(&client, admin.school_id).await, "healed");
}

#[tokio::test]
async fn relay_registers_each_stream_standalone() {
    relay_registers_each_stream(standalone_url()).await;
}

#[tokio::test]
async fn relay_registers_each_stream_cluster() {
    relay_registers_each_stream(cluster_url()).await;
}
