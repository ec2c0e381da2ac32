//! The delivery job queue against real Postgres and a fake SMS provider
//! served over real HTTP.

use std::{collections::HashSet, time::Duration};

use notify_svc::jobs::{self, queue, DedupeKey, Enqueued, JobStatus, NewJob};
use platform::testing::eventually;
use uuid::Uuid;

use crate::{
    job_helpers::*,
    provider::{FakeProvider, Reply},
};

const SEND_TIMEOUT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn an_enqueued_sms_is_delivered_once_with_its_body_and_key() {
    let (db, pool) = setup().await;
    let provider = FakeProvider::start().await;
    // Polls only once a minute: a prompt delivery proves the NOTIFY wake-up.
    let mut s = settings();
    s.poll = Duration::from_secs(60);
    s.housekeeping = Duration::from_secs(60);
    let running = start(&db, pool.clone(), s, Some(provider.client(SEND_TIMEOUT)));

    let school = Uuid::new_v4();
    let id = enqueue(&pool, &sms_job(school, "absence:1:guardian:2")).await;
    let row = wait_status(&db, id, "succeeded").await;
    assert_eq!(row.attempts, 1);
    assert!(!row.leased);
    assert_eq!(row.last_error, None);

    let received = provider.received();
    assert_eq!(received.len(), 1, "{received:?}");
    let r = &received[0];
    assert_eq!(
        r.authorization.as_deref(),
        Some(format!("Bearer {API_KEY}").as_str())
    );
    assert_eq!(r.idempotency_key.as_deref(), Some(id.to_string().as_str()));
    assert_eq!(r.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        r.body,
        serde_json::json!({"to": PHONE, "from": "Schoolhouse", "text": "Ada was absent this morning."})
    );
    running.stop().await;
    assert_eq!(provider.count(), 1);
}

#[tokio::test]
async fn the_same_dedupe_key_twice_is_a_no_op() {
    let (db, pool) = setup().await;
    let client = pool.get().await.unwrap();
    let school = Uuid::new_v4();
    let first = jobs::enqueue(&client, &sms_job(school, "k1"))
        .await
        .unwrap();
    assert!(matches!(first, Enqueued::Created(_)));
    let other_text = NewJob::sms(
        school,
        DedupeKey::parse("k1").unwrap(),
        message("+12025550123", "Other"),
    );
    assert_eq!(
        jobs::enqueue(&client, &other_text).await.unwrap(),
        Enqueued::Duplicate
    );
    assert_eq!(db.count("notify.jobs").await, 1);
    // The key is per school.
    let elsewhere = jobs::enqueue(&client, &sms_job(Uuid::new_v4(), "k1"))
        .await
        .unwrap();
    assert!(matches!(elsewhere, Enqueued::Created(_)));
    assert_eq!(db.count("notify.jobs").await, 2);
    // The first payload stands.
    let admin = platform::testing::connect(&db.admin_url).await.unwrap();
    let to: String = admin
        .query_one(
            "SELECT payload->>'to' FROM notify.jobs WHERE school_id = $1",
            &[&school],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(to, PHONE);
}

#[tokio::test]
async fn enqueue_belongs_to_the_callers_transaction() {
    let (db, pool) = setup().await;
    let mut client = pool.get().await.unwrap();
    let school = Uuid::new_v4();

    let tx = client.transaction().await.unwrap();
    jobs::enqueue(&tx, &sms_job(school, "rolled-back"))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(db.count("notify.jobs").await, 0);

    let tx = client.transaction().await.unwrap();
    let created = jobs::enqueue(&tx, &sms_job(school, "committed"))
        .await
        .unwrap();
    assert!(matches!(created, Enqueued::Created(_)));
    tx.commit().await.unwrap();
    assert_eq!(db.count("notify.jobs").await, 1);
}

#[tokio::test]
async fn a_transient_503_is_retried_and_then_delivered() {
    let (db, pool) = setup().await;
    let provider = FakeProvider::start().await;
    provider.then(Reply::Status(503));
    let running = start(
        &db,
        pool.clone(),
        settings(),
        Some(provider.client(SEND_TIMEOUT)),
    );

    let id = enqueue(&pool, &sms_job(Uuid::new_v4(), "retry")).await;
    let row = wait_status(&db, id, "succeeded").await;
    assert_eq!(row.attempts, 2);
    assert_eq!(row.last_error, None);
    let received = provider.received();
    assert_eq!(received.len(), 2);
    // Both attempts carry the same idempotency key.
    assert!(received
        .iter()
        .all(|r| r.idempotency_key.as_deref() == Some(id.to_string().as_str())));
    running.stop().await;
}

#[tokio::test]
async fn a_permanent_400_is_not_retried() {
    let (db, pool) = setup().await;
    let provider = FakeProvider::start().await;
    provider.always(Reply::Status(400));
    let running = start(
        &db,
        pool.clone(),
        settings(),
        Some(provider.client(SEND_TIMEOUT)),
    );

    let failed = enqueue(&pool, &sms_job(Uuid::new_v4(), "bad-number")).await;
    let row = wait_status(&db, failed, "failed").await;
    assert_eq!(row.attempts, 1);
    assert!(!row.leased);
    assert_eq!(
        row.last_error.as_deref(),
        Some("provider rejected the message (HTTP 400)")
    );
    // A later job is processed after it: the failed one was not retried.
    provider.always(Reply::Accept);
    let next = enqueue(&pool, &sms_job(Uuid::new_v4(), "next")).await;
    wait_status(&db, next, "succeeded").await;
    assert_eq!(provider.count(), 2);
    assert_eq!(job(&db, failed).await.attempts, 1);
    running.stop().await;
}

#[tokio::test]
async fn a_job_failing_every_attempt_ends_dead() {
    let (db, pool) = setup().await;
    let provider = FakeProvider::start().await;
    provider.always(Reply::Status(503));
    let running = start(
        &db,
        pool.clone(),
        settings(),
        Some(provider.client(SEND_TIMEOUT)),
    );

    let job_ = sms_job(Uuid::new_v4(), "flaky")
        .with_max_attempts(3)
        .unwrap();
    let id = enqueue(&pool, &job_).await;
    let row = wait_status(&db, id, "dead").await;
    assert_eq!(row.attempts, 3);
    assert!(!row.leased);
    assert_eq!(
        row.last_error.as_deref(),
        Some("provider unavailable (HTTP 503)")
    );
    running.stop().await;
    assert_eq!(provider.count(), 3);
}

#[tokio::test]
async fn retry_after_from_the_provider_is_honoured() {
    let (db, pool) = setup().await;
    let provider = FakeProvider::start().await;
    provider.then(Reply::RetryAfter(429, 30));
    let mut s = settings();
    s.backoff.max = Duration::from_secs(120);
    let running = start(&db, pool.clone(), s, Some(provider.client(SEND_TIMEOUT)));

    let id = enqueue(&pool, &sms_job(Uuid::new_v4(), "throttled")).await;
    eventually(
        "the throttled attempt to be recorded",
        Duration::from_secs(15),
        || async {
            let j = job(&db, id).await;
            j.status == "queued" && j.attempts == 1
        },
    )
    .await;
    let row = job(&db, id).await;
    assert!(row.due_in > 25.0 && row.due_in <= 30.0, "{row:?}");
    assert_eq!(
        row.last_error.as_deref(),
        Some("provider unavailable (HTTP 429)")
    );
    running.stop().await;
    assert_eq!(provider.count(), 1);
}

#[tokio::test]
async fn two_replicas_racing_over_200_jobs_deliver_each_once() {
    let (db, pool) = setup().await;
    let provider = FakeProvider::start().await;
    let mut s = settings();
    s.workers = 4;
    let a = start(&db, pool.clone(), s, Some(provider.client(SEND_TIMEOUT)));
    let b = start(
        &db,
        crate::job_helpers::pool(&db),
        s,
        Some(provider.client(SEND_TIMEOUT)),
    );

    let school = Uuid::new_v4();
    let mut ids = HashSet::new();
    {
        let mut client = pool.get().await.unwrap();
        let tx = client.transaction().await.unwrap();
        for i in 0..200 {
            match jobs::enqueue(&tx, &sms_job(school, &format!("bulk:{i}")))
                .await
                .unwrap()
            {
                Enqueued::Created(id) => ids.insert(id.to_string()),
                Enqueued::Duplicate => panic!("fresh keys"),
            };
        }
        tx.commit().await.unwrap();
    }
    eventually("200 jobs to succeed", Duration::from_secs(60), || async {
        count_status(&db, "succeeded").await == 200
    })
    .await;
    a.stop().await;
    b.stop().await;
    let received = provider.received();
    assert_eq!(received.len(), 200);
    let keys: HashSet<String> = received
        .iter()
        .filter_map(|r| r.idempotency_key.clone())
        .collect();
    assert_eq!(keys, ids);
    let admin = platform::testing::connect(&db.admin_url).await.unwrap();
    let max_attempts: i32 = admin
        .query_one("SELECT max(attempts) FROM notify.jobs", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(max_attempts, 1);
}

/// Marks a job as claimed by a worker that then died (lease expired).
async fn abandon(db: &platform::testing::TestDatabase, id: Uuid) {
    let admin = platform::testing::connect(&db.admin_url).await.unwrap();
    admin
        .execute(
            "UPDATE notify.jobs SET status = 'running', attempts = attempts + 1, \
               lease_owner = 'crashed/0', lease_token = gen_random_uuid(), \
               lease_expires_at = now() - interval '1 second' WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn an_expired_lease_is_reclaimed() {
    let (db, pool) = setup().await;
    let provider = FakeProvider::start().await;
    let school = Uuid::new_v4();
    let id = enqueue(&pool, &sms_job(school, "orphan")).await;
    abandon(&db, id).await;
    // Its last attempt was the one that crashed: it ends dead.
    let last = enqueue(
        &pool,
        &sms_job(school, "orphan-last").with_max_attempts(1).unwrap(),
    )
    .await;
    abandon(&db, last).await;

    let running = start(
        &db,
        pool.clone(),
        settings(),
        Some(provider.client(SEND_TIMEOUT)),
    );
    let row = wait_status(&db, id, "succeeded").await;
    assert_eq!(row.attempts, 2);
    let row = wait_status(&db, last, "dead").await;
    assert_eq!(row.last_error.as_deref(), Some("lease expired"));
    assert!(!row.leased);
    running.stop().await;
    assert_eq!(provider.count(), 1);
}

#[tokio::test]
async fn a_worker_that_lost_its_lease_cannot_overwrite_the_job() {
    let (db, pool) = setup().await;
    let id = enqueue(&pool, &sms_job(Uuid::new_v4(), "slow")).await;
    let client = pool.get().await.unwrap();
    let slow = queue::claim(&client, "slow/0", Duration::ZERO)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(slow.id, id);
    // Its lease expires; the job is reclaimed and claimed again elsewhere.
    eventually(
        "the lease to be reclaimed",
        Duration::from_secs(5),
        || async { queue::reclaim_expired(&client).await.unwrap() == 1 },
    )
    .await;
    let fresh = queue::claim(&client, "fresh/0", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((fresh.id, fresh.attempts), (id, 2));

    use queue::Finished::{LeaseLost, Now};
    assert_eq!(
        queue::succeed(&client, id, slow.lease_token).await.unwrap(),
        LeaseLost
    );
    assert_eq!(
        queue::retry(&client, id, slow.lease_token, Duration::ZERO, "x")
            .await
            .unwrap(),
        LeaseLost
    );
    assert_eq!(
        queue::give_up(&client, id, slow.lease_token, JobStatus::Failed, "x")
            .await
            .unwrap(),
        LeaseLost
    );
    assert_eq!(
        queue::release(&client, id, slow.lease_token).await.unwrap(),
        LeaseLost
    );
    let row = job(&db, id).await;
    assert_eq!((row.status.as_str(), row.leased), ("running", true));
    // Nobody else can claim it meanwhile.
    assert!(queue::claim(&client, "other/0", Duration::from_secs(30))
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        queue::succeed(&client, id, fresh.lease_token)
            .await
            .unwrap(),
        Now(JobStatus::Succeeded)
    );
}

#[tokio::test]
async fn shutdown_hands_running_jobs_back_to_the_queue() {
    let (db, pool) = setup().await;
    let provider = FakeProvider::start().await;
    provider.always(Reply::Hang);
    let mut s = settings();
    s.shutdown_grace = Duration::from_millis(200);
    let running = start(
        &db,
        pool.clone(),
        s,
        Some(provider.client(Duration::from_secs(25))),
    );

    let id = enqueue(&pool, &sms_job(Uuid::new_v4(), "stuck")).await;
    eventually(
        "the provider to be called",
        Duration::from_secs(15),
        || async { provider.count() == 1 },
    )
    .await;
    assert_eq!(job(&db, id).await.status, "running");
    let stopping = tokio::time::Instant::now();
    running.stop().await;
    assert!(
        stopping.elapsed() < Duration::from_secs(5),
        "{:?}",
        stopping.elapsed()
    );
    let row = job(&db, id).await;
    assert_eq!(row.status, "queued");
    assert!(!row.leased);
    assert_eq!(row.attempts, 0, "an interrupted run is not an attempt");
    assert!(row.due_in <= 0.0, "{row:?}");

    // Another replica takes it at once.
    provider.always(Reply::Accept);
    let other = start(
        &db,
        crate::job_helpers::pool(&db),
        settings(),
        Some(provider.client(SEND_TIMEOUT)),
    );
    let row = wait_status(&db, id, "succeeded").await;
    assert_eq!(row.attempts, 1);
    other.stop().await;
}

#[tokio::test]
async fn sms_jobs_without_a_provider_end_dead_with_the_reason() {
    let (db, pool) = setup().await;
    let running = start(&db, pool.clone(), settings(), None);
    let id = enqueue(&pool, &sms_job(Uuid::new_v4(), "unconfigured")).await;
    let row = wait_status(&db, id, "dead").await;
    assert_eq!(row.attempts, 1);
    assert_eq!(row.last_error.as_deref(), Some(jobs::NO_SMS_PROVIDER));
    running.stop().await;
}

#[tokio::test]
async fn a_stored_payload_that_no_longer_parses_fails_without_a_send() {
    let (db, pool) = setup().await;
    let provider = FakeProvider::start().await;
    let id = enqueue(&pool, &sms_job(Uuid::new_v4(), "corrupt")).await;
    let admin = platform::testing::connect(&db.admin_url).await.unwrap();
    admin
        .execute(
            "UPDATE notify.jobs SET payload = '{\"to\": \"12\", \"text\": \"x\"}' WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap();
    let running = start(
        &db,
        pool.clone(),
        settings(),
        Some(provider.client(SEND_TIMEOUT)),
    );
    let row = wait_status(&db, id, "failed").await;
    assert_eq!(row.last_error.as_deref(), Some("stored payload is invalid"));
    running.stop().await;
    assert_eq!(provider.count(), 0);
}

#[tokio::test]
async fn the_schema_refuses_impossible_jobs() {
    let (db, pool) = setup().await;
    let id = enqueue(&pool, &sms_job(Uuid::new_v4(), "k")).await;
    let admin = platform::testing::connect(&db.admin_url).await.unwrap();
    for bad in [
        "UPDATE notify.jobs SET status = 'running' WHERE id = $1",
        "UPDATE notify.jobs SET status = 'paused' WHERE id = $1",
        "UPDATE notify.jobs SET kind = 'fax' WHERE id = $1",
        "UPDATE notify.jobs SET lease_token = gen_random_uuid() WHERE id = $1",
        "UPDATE notify.jobs SET max_attempts = 0 WHERE id = $1",
        "UPDATE notify.jobs SET dedupe_key = '' WHERE id = $1",
    ] {
        let err = admin.execute(bad, &[&id]).await.unwrap_err();
        assert!(err.code().is_some(), "{bad}: {err}");
    }
}

#[tokio::test]
async fn depth_by_status_matches_the_table() {
    let (db, pool) = setup().await;
    let school = Uuid::new_v4();
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(enqueue(&pool, &sms_job(school, &format!("d{i}"))).await);
    }
    let admin = platform::testing::connect(&db.admin_url).await.unwrap();
    abandon(&db, ids[0]).await;
    for (id, status) in [
        (ids[1], "succeeded"),
        (ids[2], "succeeded"),
        (ids[3], "failed"),
        (ids[4], "dead"),
    ] {
        admin
            .execute(
                "UPDATE notify.jobs SET status = $2 WHERE id = $1",
                &[&id, &status],
            )
            .await
            .unwrap();
    }
    let client = pool.get().await.unwrap();
    let depth = queue::depth(&client).await.unwrap();
    let counted: Vec<(JobStatus, i64)> = depth.clone().into_iter().collect();
    assert_eq!(
        counted,
        vec![
            (JobStatus::Queued, 2),
            (JobStatus::Running, 1),
            (JobStatus::Succeeded, 2),
            (JobStatus::Failed, 1),
            (JobStatus::Dead, 1),
        ]
    );
    for (status, n) in &depth {
        assert_eq!(count_status(&db, status.as_str()).await, *n);
    }

    // The gauges say the same, in Prometheus text.
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || jobs::record_depth(&depth));
    let text = handle.render();
    for line in [
        "jobs{status=\"queued\"} 2",
        "jobs{status=\"running\"} 1",
        "jobs{status=\"succeeded\"} 2",
        "jobs{status=\"failed\"} 1",
        "jobs{status=\"dead\"} 1",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
    }

    // The workers' housekeeping publishes them on the process recorder.
    let global = platform::metrics::recorder();
    let running = start(&db, pool.clone(), settings(), None);
    eventually(
        "the depth gauges to be published",
        Duration::from_secs(15),
        || async { global.render().contains("jobs{status=\"dead\"}") },
    )
    .await;
    running.stop().await;
}

#[tokio::test]
async fn the_service_runs_its_workers_from_its_configuration() {
    use clap::Parser;
    let (db, pool) = setup().await;
    let provider = FakeProvider::start().await;
    let config = notify_svc::Config::parse_from([
        "notify-svc",
        "--service-auth-key",
        platform::trust::TEST_KEY,
        "--listen",
        "127.0.0.1:0",
        "--admin-listen",
        "127.0.0.1:0",
        "--consumer-enabled",
        "false",
        "--drain-delay-ms",
        "0",
        "--database-url",
        &db.notify_url,
        "--sms-base-url",
        &provider.base_url,
        "--sms-api-key",
        API_KEY,
        "--sms-from",
        "Schoolhouse",
        "--jobs-workers",
        "1",
    ]);
    let app = notify_svc::Application::build(&config).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let id = enqueue(&pool, &sms_job(Uuid::new_v4(), "configured")).await;
    wait_status(&db, id, "succeeded").await;
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(15), served)
        .await
        .expect("service stops")
        .unwrap()
        .unwrap();
    assert_eq!(provider.count(), 1);
    assert_eq!(
        provider.received()[0].authorization.as_deref(),
        Some(format!("Bearer {API_KEY}").as_str())
    );
}
