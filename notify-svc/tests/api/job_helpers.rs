use std::time::Duration;

use deadpool_postgres::Pool;
use notify_svc::{
    jobs::{Backoff, DedupeKey, NewJob, WorkerSettings, Workers},
    sms::{PhoneNumber, SmsClient, SmsMessage, SmsText},
};
use platform::{
    db::PoolSettings,
    testing::{eventually, fresh_database, TestDatabase},
};
use uuid::Uuid;

pub const API_KEY: &str = "test-key-5f3a9c";
pub const PHONE: &str = "+447700900123";

/// A fresh database with the notify schema migrated, and a pool on it.
pub async fn setup() -> (TestDatabase, Pool) {
    let db = fresh_database().await.unwrap();
    platform::db::migrate(
        &db.notify_url,
        &PoolSettings::default(),
        notify_svc::MIGRATIONS,
    )
    .await
    .unwrap();
    let pool = pool(&db);
    (db, pool)
}

/// Another replica's pool.
pub fn pool(db: &TestDatabase) -> Pool {
    platform::db::pool(
        &db.notify_url,
        &PoolSettings {
            max_size: 8,
            ..PoolSettings::default()
        },
    )
    .unwrap()
}

/// Quick settings: fast polls and retries, generous leases.
pub fn settings() -> WorkerSettings {
    WorkerSettings {
        workers: 2,
        poll: Duration::from_millis(50),
        lease: Duration::from_secs(30),
        backoff: Backoff {
            base: Duration::from_millis(10),
            max: Duration::from_millis(100),
        },
        housekeeping: Duration::from_millis(50),
        shutdown_grace: Duration::from_secs(5),
        retention: Duration::from_secs(3600),
        listen: true,
    }
}

pub struct Running {
    workers: Workers,
    stop: tokio::sync::oneshot::Sender<()>,
}

impl Running {
    /// Signals shutdown and waits (bounded) until every worker stopped.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(15), self.workers.join())
            .await
            .expect("workers stop within the grace period");
    }
}

pub fn start(
    db: &TestDatabase,
    pool: Pool,
    settings: WorkerSettings,
    sms: Option<SmsClient>,
) -> Running {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let listen = platform::db::pg_config(&db.notify_url, &PoolSettings::default()).unwrap();
    let workers = Workers::start(
        pool,
        Some(listen),
        settings,
        notify_svc::jobs::Deliverers {
            sms,
            ..Default::default()
        },
        async {
            let _ = stopped.await;
        },
    );
    Running { workers, stop }
}

pub fn message(to: &str, text: &str) -> SmsMessage {
    SmsMessage {
        to: PhoneNumber::parse(to).unwrap(),
        text: SmsText::parse(text).unwrap(),
    }
}

pub fn sms_job(school: Uuid, key: &str) -> NewJob {
    NewJob::sms(
        school,
        DedupeKey::parse(key).unwrap(),
        message(PHONE, "Ada was absent this morning."),
    )
}

pub async fn enqueue(pool: &Pool, job: &NewJob) -> Uuid {
    let client = pool.get().await.unwrap();
    match notify_svc::jobs::enqueue(&client, job).await.unwrap() {
        notify_svc::jobs::Enqueued::Created(id) => id,
        other => panic!("expected a new job, got {other:?}"),
    }
}

#[derive(Debug)]
pub struct JobRow {
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub leased: bool,
    /// Seconds from now until it is due (negative: overdue).
    pub due_in: f64,
}

pub async fn job(db: &TestDatabase, id: Uuid) -> JobRow {
    let c = platform::testing::connect(&db.admin_url).await.unwrap();
    let r = c
        .query_one(
            "SELECT status, attempts, last_error, lease_token IS NOT NULL OR lease_owner IS NOT NULL \
               OR lease_expires_at IS NOT NULL, EXTRACT(EPOCH FROM run_at - now())::float8 \
             FROM notify.jobs WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap();
    JobRow {
        status: r.get(0),
        attempts: r.get(1),
        last_error: r.get(2),
        leased: r.get(3),
        due_in: r.get(4),
    }
}

pub async fn wait_status(db: &TestDatabase, id: Uuid, status: &str) -> JobRow {
    eventually(
        &format!("job {id} to be {status}"),
        Duration::from_secs(15),
        || async {
            let row = job(db, id).await;
            (row.status == status).then_some(row)
        },
    )
    .await
}

pub async fn count_status(db: &TestDatabase, status: &str) -> i64 {
    let c = platform::testing::connect(&db.admin_url).await.unwrap();
    c.query_one(
        "SELECT count(*) FROM notify.jobs WHERE status = $1",
        &[&status],
    )
    .await
    .unwrap()
    .get(0)
}
