//! The generic event consumer with a handler of its own: on shutdown it
//! finishes the event being applied, commits and acknowledges it, and
//! starts no other (those stay pending for another replica).

use std::{sync::Arc, time::Duration};

use deadpool_postgres::Transaction;
use fred::{prelude::*, types::Value};
use platform::{
    db::PoolSettings,
    events::{stream_key, Consumer, ConsumerSettings, Event, Handler},
    redis::RedisSettings,
    testing::redis::{cluster_url, standalone_url},
};
use prost::Message;
use tokio::sync::{Notify, Semaphore};
use uuid::Uuid;

/// Records each event, then waits for a permit: the test holds the first
/// event mid-apply while it asks the consumer to stop.
struct Gate {
    entered: Arc<Notify>,
    release: Arc<Semaphore>,
}

impl Handler for Gate {
    async fn apply(&self, tx: &Transaction<'_>, event: &Event) -> anyhow::Result<()> {
        let id: Uuid = event.event_id.parse()?;
        tx.execute("INSERT INTO applied (event_id) VALUES ($1)", &[&id])
            .await?;
        self.entered.notify_one();
        self.release.acquire().await?.forget();
        Ok(())
    }
}

fn event(school: Uuid) -> Event {
    Event {
        event_id: Uuid::now_v7().to_string(),
        school_id: school.to_string(),
        event_type: "student.created".into(),
        ..Event::default()
    }
}

/// A fresh database with the inbox and an `applied` table, a Redis client,
/// and one school's stream registered in a registry of the test's own.
struct Fixture {
    db: platform::testing::TestDatabase,
    sql: tokio_postgres::Client,
    settings: RedisSettings,
    redis: Client,
    registry: String,
    school: Uuid,
    key: String,
}

impl Fixture {
    async fn new(url: &str) -> Self {
        let db = platform::testing::fresh_database().await.unwrap();
        let sql = platform::testing::connect(&db.notify_url).await.unwrap();
        sql.batch_execute(
            "CREATE TABLE processed_events (event_id uuid PRIMARY KEY); \
             CREATE TABLE applied (event_id uuid PRIMARY KEY);",
        )
        .await
        .unwrap();
        let settings = RedisSettings {
            command_timeout: Duration::from_secs(2),
            ..RedisSettings::default()
        };
        let redis = platform::redis::connect(url, &settings).unwrap();
        redis.wait_for_connect().await.unwrap();
        let registry = format!("ev:streams:test:{}", Uuid::new_v4().simple());
        let school = Uuid::now_v7();
        let key = stream_key(school);
        let _: i64 = redis.sadd(registry.as_str(), key.as_str()).await.unwrap();
        Self {
            db,
            sql,
            settings,
            redis,
            registry,
            school,
            key,
        }
    }

    /// Appends the events to the school's stream as the relay does.
    async fn publish(&self, events: &[&Event]) {
        for e in events {
            let _: String = self
                .redis
                .xadd(
                    self.key.as_str(),
                    false,
                    None,
                    "*",
                    vec![
                        ("id", Value::from(e.event_id.as_str())),
                        ("type", Value::from(e.event_type.as_str())),
                        ("e", Value::Bytes(e.encode_to_vec().into())),
                    ],
                )
                .await
                .unwrap();
        }
    }
}

async fn shutdown_finishes_the_current_event_and_starts_no_other(url: String) {
    const WAIT: Duration = Duration::from_secs(20);
    let fx = Fixture::new(&url).await;
    fx.publish(&[&event(fx.school), &event(fx.school)]).await;
    let Fixture {
        db,
        sql,
        settings,
        redis,
        registry,
        key,
        ..
    } = fx;

    let gate = Gate {
        entered: Arc::new(Notify::new()),
        release: Arc::new(Semaphore::new(0)),
    };
    let (entered, release) = (gate.entered.clone(), gate.release.clone());
    let consumer = Consumer::new(
        &url,
        &settings,
        platform::db::pool(&db.notify_url, &PoolSettings::default()).unwrap(),
        gate,
        ConsumerSettings {
            block: Duration::from_millis(100),
            discover_every: Duration::from_millis(10),
            registry,
            ..ConsumerSettings::new("shutdown-test", "c1")
        },
    )
    .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let mut task = tokio::spawn(consumer.run(async {
        let _ = stopped.await;
    }));
    tokio::time::timeout(WAIT, entered.notified())
        .await
        .expect("the first event is being applied");
    stop.send(()).unwrap();
    tokio::task::yield_now().await;
    assert!(!task.is_finished(), "waits for the event being applied");
    release.add_permits(10);
    tokio::time::timeout(WAIT, &mut task)
        .await
        .expect("stops once the event is done")
        .unwrap();

    let count = |table: &'static str| {
        let sql = &sql;
        async move {
            sql.query_one(&format!("SELECT count(*) FROM {table}"), &[])
                .await
                .unwrap()
                .get::<_, i64>(0)
        }
    };
    assert_eq!(count("applied").await, 1, "the current event committed");
    assert_eq!(count("processed_events").await, 1);
    let pending: Value = redis
        .xpending(key.as_str(), "shutdown-test", ())
        .await
        .unwrap();
    assert_eq!(
        platform::events::entry::pending_count(&pending),
        1,
        "the first acknowledged, the second never started"
    );
}

#[tokio::test]
async fn shutdown_finishes_the_current_event_and_starts_no_other_standalone() {
    shutdown_finishes_the_current_event_and_starts_no_other(standalone_url()).await;
}

#[tokio::test]
async fn shutdown_finishes_the_current_event_and_starts_no_other_cluster() {
    shutdown_finishes_the_current_event_and_starts_no_other(cluster_url()).await;
}

/// Entries read together are applied in one transaction and acknowledged
/// with one XACK; an event the relay published twice into the same read is
/// applied once.
async fn a_read_applies_together_and_once(url: String) {
    const WAIT: Duration = Duration::from_secs(20);
    let fx = Fixture::new(&url).await;
    let (a, b, c) = (event(fx.school), event(fx.school), event(fx.school));
    // `applied` has a primary key: applying `a` twice would fail the batch.
    fx.publish(&[&a, &b, &a, &c]).await;
    let Fixture {
        db,
        sql,
        settings,
        redis,
        registry,
        key,
        ..
    } = fx;
    let gate = Gate {
        entered: Arc::new(Notify::new()),
        release: Arc::new(Semaphore::new(100)),
    };
    let consumer = Consumer::new(
        &url,
        &settings,
        platform::db::pool(&db.notify_url, &PoolSettings::default()).unwrap(),
        gate,
        ConsumerSettings {
            block: Duration::from_millis(100),
            discover_every: Duration::from_millis(10),
            registry,
            ..ConsumerSettings::new("batch-test", "c1")
        },
    )
    .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(consumer.run(async {
        let _ = stopped.await;
    }));
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let pending: Value = redis
            .xpending(key.as_str(), "batch-test", ())
            .await
            .unwrap_or(Value::Null);
        let applied: i64 = sql
            .query_one("SELECT count(*) FROM applied", &[])
            .await
            .unwrap()
            .get(0);
        if applied == 3 && platform::events::entry::pending_count(&pending) == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "applied {applied}, pending {pending:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(()).unwrap();
    tokio::time::timeout(WAIT, task).await.unwrap().unwrap();
    let ids: Vec<String> = sql
        .query(
            "SELECT event_id::text FROM processed_events ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut expected = vec![a.event_id, b.event_id, c.event_id];
    expected.sort();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn a_read_applies_together_and_once_standalone() {
    a_read_applies_together_and_once(standalone_url()).await;
}

#[tokio::test]
async fn a_read_applies_together_and_once_cluster() {
    a_read_applies_together_and_once(cluster_url()).await;
}
